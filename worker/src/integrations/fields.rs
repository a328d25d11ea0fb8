//! The provider fields a connection can read. Discovering them is a live provider call, so
//! they are kept on the connection row: read from there while younger than [`FIELDS_TTL`],
//! discovered afresh after that, after new credentials, and whenever a mapping is saved
//! (which must be checked against what the provider serves now).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

use entity::connection;

use super::connections::{noting_refusal, open_connector};
use crate::environment::Environment;
use crate::error::Result;
use crate::providers::ExternalField;

/// How long discovered fields are trusted: a field the admin adds at the provider shows up
/// within this, or at once on saving a mapping.
pub const FIELDS_TTL: Duration = Duration::from_secs(15 * 60);

/// The kept fields, when they are younger than [`FIELDS_TTL`] at `now`.
fn kept(connection: &connection::Model, now: DateTime<Utc>) -> Option<Vec<ExternalField>> {
    let discovered_at = connection.fields_discovered_at?;
    let age = now.signed_duration_since(discovered_at).to_std().ok()?;
    if age >= FIELDS_TTL {
        return None;
    }
    serde_json::from_value(connection.discovered_fields.clone()?).ok()
}

/// The connection's fields, from the row when fresh, otherwise from the provider.
pub async fn accessible_fields(env: &Environment, connection: &connection::Model) -> Result<Vec<ExternalField>> {
    match kept(connection, Utc::now()) {
        Some(fields) => Ok(fields),
        None => discover(env, connection).await,
    }
}

/// Asks the provider, and keeps the answer.
pub async fn discover(env: &Environment, connection: &connection::Model) -> Result<Vec<ExternalField>> {
    let discovered = async { Ok(open_connector(env, connection).await?.discover_fields().await?) };
    let fields = noting_refusal(env, connection.id, discovered).await?;
    let mut active = connection.clone().into_active_model();
    active.discovered_fields = Set(Some(serde_json::to_value(&fields).expect("fields serialise")));
    active.fields_discovered_at = Set(Some(Utc::now()));
    active.update(&env.db).await?;
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection_with(discovered_at: Option<DateTime<Utc>>) -> connection::Model {
        let field = ExternalField {
            key: "workEmail".into(),
            label: "Work email".into(),
            field_type: "email".into(),
            category: "Contact".into(),
        };
        connection::Model {
            id: uuid::Uuid::nil(),
            workspace_id: "ws".into(),
            provider_id: "bamboohr".into(),
            auth_method: connection::AuthMethod::ApiKey,
            subdomain: None,
            status: connection::ConnectionStatus::Connected,
            status_message: None,
            credentials_ciphertext: None,
            credential_hint: None,
            linked_system: None,
            discovered_fields: Some(serde_json::to_value(vec![field]).unwrap()),
            fields_discovered_at: discovered_at,
            oauth_state: None,
            schedule_enabled: false,
            schedule_interval_minutes: 60,
            next_run_at: None,
            resync_required: false,
            push_token_hash: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn fields_are_kept_for_the_ttl_and_no_longer() {
        let now = Utc::now();
        let fresh = connection_with(Some(now - chrono::Duration::minutes(14)));
        assert_eq!(kept(&fresh, now).unwrap()[0].key, "workEmail");
        assert!(kept(&connection_with(Some(now - chrono::Duration::minutes(15))), now).is_none());
        assert!(kept(&connection_with(None), now).is_none(), "never discovered, or new credentials");
    }
}

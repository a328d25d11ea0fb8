//! Managing a workspace's endpoints: what an admin does in the API.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use secrecy::SecretString;
use uuid::Uuid;

use entity::{webhook_delivery, webhook_endpoint};

use super::{address, outbox, signature, EventType};
use crate::environment::Environment;
use crate::error::{Error, Result};

/// How long deliveries are signed with an endpoint's previous secret too, after a rotation.
pub const PREVIOUS_SECRET_GRACE: chrono::Duration = chrono::Duration::hours(24);

const MAX_DESCRIPTION: usize = 500;

/// Endpoints of a workspace, at most.
pub const MAX_ENDPOINTS: usize = 20;

/// What the admin gives for an endpoint: new, or changed (`None` keeps a field).
pub struct EndpointInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

/// The event types `endpoint` subscribes to.
pub fn subscribed_types(endpoint: &webhook_endpoint::Model) -> impl Iterator<Item = EventType> + '_ {
    endpoint.events.as_array().into_iter().flatten().filter_map(|v| v.as_str().and_then(EventType::parse))
}

/// The event names of `endpoint`, as stored.
pub fn event_names(endpoint: &webhook_endpoint::Model) -> Vec<String> {
    subscribed_types(endpoint).map(|t| t.name().to_string()).collect()
}

fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Validation { field, message: message.into() }
}

/// Checked event names, deduplicated, in the catalogue's order.
fn checked_events(names: &[String]) -> Result<serde_json::Value> {
    if names.is_empty() {
        return Err(invalid("input.events", "subscribe to at least one event type"));
    }
    for name in names {
        if EventType::parse(name).is_none() {
            let known: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|t| t.name()).collect();
            return Err(invalid("input.events", format!("'{name}' is not an event type; known: {}", known.join(", "))));
        }
    }
    let chosen = EventType::SUBSCRIBABLE.into_iter().filter(|t| names.iter().any(|n| n == t.name()));
    Ok(serde_json::Value::from(chosen.map(|t| t.name()).collect::<Vec<_>>()))
}

fn checked_description(description: Option<String>) -> Result<Option<String>> {
    let description = description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    match description {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => {
            Err(invalid("input.description", format!("at most {MAX_DESCRIPTION} characters")))
        }
        other => Ok(other),
    }
}

async fn checked_url(env: &Environment, raw: &str) -> Result<String> {
    if raw.len() > 2048 {
        return Err(invalid("input.url", "at most 2048 characters"));
    }
    let url =
        address::check_endpoint_url(raw, env.webhooks.allow_private).await.map_err(|m| invalid("input.url", m))?;
    Ok(url.to_string())
}

/// A new endpoint, and its secret (shown this once).
pub async fn create(
    env: &Environment,
    workspace_id: &str,
    input: EndpointInput,
) -> Result<(webhook_endpoint::Model, SecretString)> {
    let url = checked_url(env, input.url.as_deref().unwrap_or_default()).await?;
    let events = checked_events(input.events.as_deref().unwrap_or_default())?;
    let description = checked_description(input.description.flatten())?;
    if list(&env.db, workspace_id).await?.len() >= MAX_ENDPOINTS {
        return Err(invalid("input", format!("a workspace has at most {MAX_ENDPOINTS} webhook endpoints")));
    }
    let secret = signature::generate_secret();
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id.to_string()),
        url: Set(url),
        events: Set(events),
        description: Set(description),
        sealed_secret: Set(env.cipher.seal_secret(&secret)),
        sealed_previous_secret: Set(None),
        previous_secret_until: Set(None),
        consecutive_failures: Set(0),
        failing: Set(false),
        created_at: Set(Utc::now()),
    }
    .insert(&env.db)
    .await?;
    Ok((endpoint, secret))
}

/// The workspace's endpoints, oldest first: for the admin, and for the transactions that write
/// events (hence any connection, and the database's own error).
pub async fn list<C: sea_orm::ConnectionTrait>(
    db: &C,
    workspace_id: &str,
) -> Result<Vec<webhook_endpoint::Model>, sea_orm::DbErr> {
    webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::WorkspaceId.eq(workspace_id))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await
}

pub async fn find(db: &DatabaseConnection, workspace_id: &str, id: Uuid) -> Result<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("webhook endpoint"))
}

pub async fn update(
    env: &Environment,
    workspace_id: &str,
    id: Uuid,
    input: EndpointInput,
) -> Result<webhook_endpoint::Model> {
    let endpoint = find(&env.db, workspace_id, id).await?;
    let mut changed: webhook_endpoint::ActiveModel = endpoint.into();
    if let Some(url) = input.url {
        changed.url = Set(checked_url(env, &url).await?);
    }
    if let Some(events) = input.events {
        changed.events = Set(checked_events(&events)?);
    }
    if let Some(description) = input.description {
        changed.description = Set(checked_description(description)?);
    }
    Ok(changed.update(&env.db).await?)
}

/// Deletes the endpoint and its deliveries, sent or not; answers whether there was one.
pub async fn delete(db: &DatabaseConnection, workspace_id: &str, id: Uuid) -> Result<bool> {
    let deleted = webhook_endpoint::Entity::delete_many()
        .filter(webhook_endpoint::Column::Id.eq(id))
        .filter(webhook_endpoint::Column::WorkspaceId.eq(workspace_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// A new secret for the endpoint (shown this once); the old one keeps signing too for
/// [`PREVIOUS_SECRET_GRACE`], so the receiver can switch without dropping a delivery.
pub async fn rotate(
    env: &Environment,
    workspace_id: &str,
    id: Uuid,
) -> Result<(webhook_endpoint::Model, SecretString)> {
    let endpoint = find(&env.db, workspace_id, id).await?;
    let secret = signature::generate_secret();
    let previous = endpoint.sealed_secret.clone();
    let mut changed: webhook_endpoint::ActiveModel = endpoint.into();
    changed.sealed_secret = Set(env.cipher.seal_secret(&secret));
    changed.sealed_previous_secret = Set(Some(previous));
    changed.previous_secret_until = Set(Some(Utc::now() + PREVIOUS_SECRET_GRACE));
    Ok((changed.update(&env.db).await?, secret))
}

/// Queues a `webhook.test` event for this endpoint alone; answers its delivery.
pub async fn send_test(env: &Environment, workspace_id: &str, id: Uuid) -> Result<webhook_delivery::Model> {
    let endpoint = find(&env.db, workspace_id, id).await?;
    let data = serde_json::json!({ "endpointId": endpoint.id, "message": "a test event from directory-sync" });
    let delivery = outbox::emit_to(&env.db, &endpoint, EventType::Test, data).await?;
    env.webhook_bell.notify_one();
    Ok(delivery)
}

/// The endpoint's deliveries, newest first, after the delivery `after`.
pub async fn deliveries(
    db: &DatabaseConnection,
    workspace_id: &str,
    endpoint_id: Uuid,
    first: u64,
    after: Option<Uuid>,
) -> Result<Vec<webhook_delivery::Model>> {
    let endpoint = find(db, workspace_id, endpoint_id).await?;
    let query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .order_by_desc(webhook_delivery::Column::Id);
    let query = match after {
        Some(after) => query.filter(webhook_delivery::Column::Id.lt(after)),
        None => query,
    };
    Ok(query.limit(first).all(db).await?)
}

/// The secrets deliveries to `endpoint` are signed with at `now`: its own, and the previous
/// one during a rotation's grace.
pub fn signing_secrets(
    env: &Environment,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> Result<Vec<SecretString>> {
    let mut secrets = vec![env.cipher.open_secret(&endpoint.sealed_secret)?];
    if let (Some(previous), Some(until)) = (&endpoint.sealed_previous_secret, endpoint.previous_secret_until) {
        if now < until {
            secrets.push(env.cipher.open_secret(previous)?);
        }
    }
    Ok(secrets)
}

/// What a batch of attempts at one endpoint came to, in the order they ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AttemptTally {
    /// One of them succeeded.
    pub succeeded: bool,
    /// Failures after the last success (or all of them, without one).
    pub failures_since: i32,
}

impl AttemptTally {
    pub fn add(&mut self, succeeded: bool) {
        if succeeded {
            *self = Self { succeeded: true, failures_since: 0 };
        } else {
            self.failures_since += 1;
        }
    }
}

/// Records a batch of attempts on their endpoint: failures in a row flag it `failing`, a success
/// clears the flag.
pub async fn record_attempts<C: sea_orm::ConnectionTrait>(
    db: &C,
    endpoint_id: Uuid,
    tally: AttemptTally,
    failing_after: i32,
) -> Result<()> {
    let before =
        if tally.succeeded { Expr::value(0) } else { Expr::col(webhook_endpoint::Column::ConsecutiveFailures) };
    let failures = before.add(tally.failures_since);
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::ConsecutiveFailures, failures.clone())
        .col_expr(webhook_endpoint::Column::Failing, failures.gte(failing_after))
        .filter(webhook_endpoint::Column::Id.eq(endpoint_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_the_failures_after_the_last_success() {
        let tally = |outcomes: &[bool]| {
            let mut tally = AttemptTally::default();
            outcomes.iter().for_each(|&ok| tally.add(ok));
            (tally.succeeded, tally.failures_since)
        };
        assert_eq!(tally(&[false, false]), (false, 2));
        assert_eq!(tally(&[false, true, false]), (true, 1));
        assert_eq!(tally(&[true, true]), (true, 0));
    }

    #[test]
    fn events_are_checked_and_kept_in_catalogue_order() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let events = checked_events(&names(&["sync.failed", "user.created", "user.created"])).unwrap();
        assert_eq!(events, serde_json::json!(["user.created", "sync.failed"]));
        assert!(matches!(checked_events(&[]), Err(Error::Validation { field: "input.events", .. })));
        let err = checked_events(&names(&["user.deleted"])).unwrap_err();
        assert!(err.to_string().contains("'user.deleted' is not an event type"), "{err}");
    }
}

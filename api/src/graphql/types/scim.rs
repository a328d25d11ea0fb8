use async_graphql::{Object, SimpleObject};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use entity::scim_activity;

use super::connection::Connection;

/// A SCIM connection's endpoint, as its identity provider is set up with it.
pub struct ScimEndpoint {
    pub base_url: String,
    pub held_deactivations: u64,
    pub days: Vec<scim_activity::Model>,
}

#[Object]
impl ScimEndpoint {
    /// Paste into the identity provider: Okta's "SCIM connector base URL", Entra ID's "Tenant URL".
    async fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Deactivations the guard holds (more than its share of the connection's people within an
    /// hour) until `confirmScimDeactivations`.
    async fn held_deactivations(&self) -> u64 {
        self.held_deactivations
    }

    /// The provider's requests per day (UTC), newest first, for the last 30 days with any.
    async fn activity(&self) -> Vec<ScimActivityDay> {
        self.days
            .iter()
            .map(|d| ScimActivityDay { day: d.day.clone(), requests: d.requests, changes: d.changes, errors: d.errors })
            .collect()
    }

    async fn last_request_at(&self) -> Option<DateTime<Utc>> {
        self.days.first().map(|d| d.last_request_at)
    }

    /// The last error the provider was answered with, and when.
    async fn last_error(&self) -> Option<&str> {
        self.days.iter().find_map(|d| d.last_error.as_deref())
    }

    async fn last_error_at(&self) -> Option<DateTime<Utc>> {
        self.days.iter().find_map(|d| d.last_error_at)
    }
}

/// One day of a SCIM connection's requests.
#[derive(SimpleObject)]
pub struct ScimActivityDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub requests: i32,
    /// Requests that changed a user or a group.
    pub changes: i32,
    /// Requests answered with an error.
    pub errors: i32,
}

/// A SCIM connection's endpoint and its bearer token: the token is shown here once and kept
/// only as a hash.
pub struct ScimCredentials {
    pub connection: Connection,
    pub base_url: String,
    pub token: SecretString,
}

#[Object]
impl ScimCredentials {
    async fn connection(&self) -> &Connection {
        &self.connection
    }

    async fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bearer token (Okta's "API token", Entra ID's "Secret Token"); never shown again.
    async fn token(&self) -> &str {
        self.token.expose_secret()
    }
}

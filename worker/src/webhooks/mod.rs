//! Events out of the directory, as signed webhooks (the Standard Webhooks specification).
//!
//! - An admin subscribes an endpoint ([`endpoints`]) to some [`EventType`]s; its signing
//!   secret is shown once and kept sealed.
//! - An event is written in the transaction of what it reports ([`outbox::emit`]): one event
//!   row and one delivery row per subscribed endpoint. People's changes take a cheaper path,
//!   so a sync does not write twice per person: the history entries the change writes anyway
//!   are marked, and a worker publishes them as events soon after ([`outbox::publish_history`]).
//!   Either way, a committed change has its event, and a rolled-back one has none.
//! - Workers deliver due deliveries ([`delivery`]) with a timeout, through a resolver that
//!   refuses private addresses ([`address`]); failures are retried with growing waits
//!   ([`next_attempt`]) for about a day. An endpoint whose attempts keep failing is flagged
//!   `failing`; it delays only its own deliveries.
//! - At least once: a worker that dies after the endpoint accepted a delivery but before
//!   recording it delivers it again, with the same `webhook-id`. One person's events reach an
//!   endpoint in order: the next waits until the one before has succeeded or failed for good.

pub mod address;
pub mod delivery;
pub mod endpoints;
pub mod outbox;
pub mod payload;
pub mod signature;

use std::time::Duration;

use sea_orm::ConnectionTrait;

/// What an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    SyncSucceeded,
    SyncFailed,
    ConnectionFailed,
    InvitationSent,
    InvitationFailed,
    /// `sendTestWebhook`'s: goes to the one endpoint asked, subscribed or not.
    Test,
}

impl EventType {
    /// Every type an endpoint may subscribe to.
    pub const SUBSCRIBABLE: [Self; 9] = [
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::SyncSucceeded,
        Self::SyncFailed,
        Self::ConnectionFailed,
        Self::InvitationSent,
        Self::InvitationFailed,
    ];

    /// The payload's `type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeactivated => "user.deactivated",
            Self::UserReactivated => "user.reactivated",
            Self::SyncSucceeded => "sync.succeeded",
            Self::SyncFailed => "sync.failed",
            Self::ConnectionFailed => "connection.failed",
            Self::InvitationSent => "invitation.sent",
            Self::InvitationFailed => "invitation.failed",
            Self::Test => "webhook.test",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::SUBSCRIBABLE.into_iter().find(|t| t.name() == name)
    }

    /// A person's change, published from their history.
    fn is_user_change(self) -> bool {
        matches!(self, Self::UserCreated | Self::UserUpdated | Self::UserDeactivated | Self::UserReactivated)
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How long an endpoint has to answer.
    pub timeout: Duration,
    /// Wait before the second attempt; each later wait is four times the one before, up to
    /// [`MAX_RETRY_WAIT`].
    pub retry_base: Duration,
    /// Attempts before a delivery is FAILED.
    pub max_attempts: i32,
    /// Consecutive failed attempts after which an endpoint is flagged `failing`.
    pub failing_after: i32,
    /// How often workers look for due deliveries (a change in this process wakes them too).
    pub poll: Duration,
    /// Requests in flight per worker.
    pub concurrency: usize,
    /// Lets endpoints be `http://` and private or loopback addresses (`WEBHOOK_ALLOW_PRIVATE`),
    /// for tests and private deployments.
    pub allow_private: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            retry_base: Duration::from_secs(5),
            max_attempts: 10,
            failing_after: 5,
            poll: Duration::from_secs(1),
            concurrency: 32,
            allow_private: false,
        }
    }
}

impl WebhookSettings {
    /// How long a worker's claim on a delivery lasts: longer than an attempt can take, so two
    /// workers never attempt one delivery at once, and a crashed worker's is due again soon.
    pub fn claim(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }
}

/// The longest wait between two attempts.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(10 * 3600);

/// After `attempts` failed attempts, how long to wait before the next; `None` when they are
/// used up. With the defaults: 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, 10 h, 10 h, about
/// 28 hours in all.
pub fn next_attempt(attempts: i32, settings: &WebhookSettings) -> Option<Duration> {
    if attempts >= settings.max_attempts {
        return None;
    }
    let quadruplings = u32::try_from(attempts.saturating_sub(1).clamp(0, 15)).unwrap_or(15);
    Some(settings.retry_base.saturating_mul(4u32.saturating_pow(quadruplings)).min(MAX_RETRY_WAIT))
}

/// Whether any endpoint of `workspace_id` hears of people's changes: then the history entries
/// a change writes are marked for publication.
pub async fn announces_people<C: ConnectionTrait>(db: &C, workspace_id: &str) -> Result<bool, sea_orm::DbErr> {
    let endpoints = endpoints::list(db, workspace_id).await?;
    Ok(endpoints.iter().any(|e| endpoints::subscribed_types(e).any(EventType::is_user_change)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_quadruple_over_about_a_day_then_stop() {
        let settings = WebhookSettings::default();
        let waits: Vec<u64> = (1..=10).map_while(|n| next_attempt(n, &settings)).map(|d| d.as_secs()).collect();
        assert_eq!(waits, [5, 20, 80, 320, 1280, 5120, 20480, 36000, 36000]);
        assert_eq!(next_attempt(10, &settings), None, "out of attempts");
        let total: u64 = waits.iter().sum();
        assert!((24 * 3600..30 * 3600).contains(&total), "{total} s");
    }

    #[test]
    fn event_names_round_trip() {
        for t in EventType::SUBSCRIBABLE {
            assert_eq!(EventType::parse(t.name()), Some(t));
        }
        assert_eq!(EventType::parse("webhook.test"), None, "not subscribable");
        assert_eq!(EventType::parse("user.deleted"), None);
    }
}

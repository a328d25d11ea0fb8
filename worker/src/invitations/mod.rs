//! Invitations. People hear from us first when they are assigned their first activity, never
//! from a sync:
//!
//! - The first assignment to an ACTIVE, NOT_INVITED person writes an invitation to the outbox in
//!   the assignment's own transaction and makes them PENDING ([`outbox::invite`]). A second
//!   assignment writes nothing; neither does any sync.
//! - A worker delivers it over SMTP ([`delivery`]): INVITED once the server accepts it; FAILED,
//!   with the server's words, on a permanent refusal (5xx) or when the attempts run out.
//!   Anything else (4xx, an unreachable server) is tried again with backoff ([`next_attempt`]).
//! - Delivery is at least once: a worker that dies after the server accepted a message but
//!   before recording it sends it again, under the same `Message-ID`.
//! - `resendInvitation` queues a new one for an active person whose invitation FAILED or was
//!   delivered.

pub mod delivery;
mod mailer;
mod message;
pub mod outbox;

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use uuid::Uuid;

use entity::activity_assignment;
use entity::directory_user::{self, InvitationStatus};

use crate::directory::user_in;
use crate::environment::Environment;
use crate::error::{Error, Result};
use outbox::AnnouncedActivity;

pub use lettre::message::Mailbox;
pub use mailer::{Mailer, MailerError};
pub use message::InvitationTemplate;

/// How invitations are delivered.
#[derive(Clone, Debug)]
pub struct InvitationSettings {
    /// Wait before the second attempt; each later one waits twice the one before, up to
    /// [`MAX_RETRY_WAIT`].
    pub retry_base: Duration,
    /// Attempts before an invitation that keeps failing transiently is FAILED.
    pub max_attempts: i32,
    /// How long one SMTP command may take.
    pub timeout: Duration,
    /// How long a worker's claim on an invitation lasts: one that crashes mid-send leaves it
    /// due again after this. Longer than a whole send can take (see [`Self::with_timeout`]), so
    /// a slow server never has two workers sending one message.
    pub claim: Duration,
    /// How often workers look for due invitations (they are also woken by new ones in this
    /// process).
    pub poll: Duration,
}

impl Default for InvitationSettings {
    fn default() -> Self {
        Self::with_timeout(Duration::from_secs(30))
    }
}

impl InvitationSettings {
    /// SMTP commands given `timeout` each, and a claim that outlasts the ten a send takes at
    /// most (connect, greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA, the message).
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            claim: timeout * 10,
            retry_base: Duration::from_secs(30),
            max_attempts: 10,
            poll: Duration::from_secs(1),
        }
    }
}

/// The longest wait between two attempts.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(3600);

/// After `attempts` failed transient attempts, how long to wait before the next; `None` when
/// they are used up. With the defaults the attempts span about three hours.
pub fn next_attempt(attempts: i32, settings: &InvitationSettings) -> Option<Duration> {
    if attempts >= settings.max_attempts {
        return None;
    }
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    Some(settings.retry_base.saturating_mul(2u32.saturating_pow(doublings)).min(MAX_RETRY_WAIT))
}

/// Queues a new invitation for an active person whose last one FAILED or was delivered,
/// announcing their newest activity.
pub async fn resend(env: &Environment, workspace_id: &str, user_id: Uuid) -> Result<directory_user::Model> {
    let refuse = |message: &str| Error::Validation { field: "userId", message: message.to_string() };
    let person = user_in(&env.db, workspace_id, user_id).await?;
    if !person.employment_status.is_with_company() {
        return Err(refuse("inactive people are never invited; reactivate them first"));
    }
    match person.invitation_status {
        InvitationStatus::Failed | InvitationStatus::Invited => {}
        InvitationStatus::NotInvited => return Err(refuse("not invited yet: assign them a first activity")),
        InvitationStatus::Pending => return Err(refuse("an invitation is already on its way")),
    }
    let Some(newest) = activity_assignment::Entity::find()
        .filter(activity_assignment::Column::UserId.eq(user_id))
        .order_by_desc(activity_assignment::Column::AssignedAt)
        .one(&env.db)
        .await?
    else {
        return Err(refuse("they have no activity to be invited to; assign one"));
    };
    let txn = env.db.begin().await?;
    let announced = AnnouncedActivity { title: &newest.title, due_date: newest.due_date.as_deref() };
    let from = [InvitationStatus::Failed, InvitationStatus::Invited];
    if !outbox::invite(&txn, workspace_id, user_id, &from, announced).await? {
        return Err(refuse("their invitation changed meanwhile; look again"));
    }
    txn.commit().await?;
    env.outbox_bell.notify_one();
    user_in(&env.db, workspace_id, user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_then_stop() {
        let settings =
            InvitationSettings { retry_base: Duration::from_secs(30), max_attempts: 10, ..Default::default() };
        let waits: Vec<u64> = (1..=10).map_while(|n| next_attempt(n, &settings)).map(|d| d.as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(next_attempt(10, &settings), None, "out of attempts");
        let total: u64 = waits.iter().sum();
        assert!((3 * 3600..4 * 3600).contains(&total), "{total} s");
    }
}

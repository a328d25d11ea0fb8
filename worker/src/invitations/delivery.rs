//! The worker's side of the outbox: take due invitations, compose, send, record. Runs in every
//! worker process; a taken invitation is claimed, so two workers never send one at once.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::EntityTrait;
use tokio::sync::Notify;

use entity::{directory_user, invitation, workspace};

use super::message::Invitation;
use super::outbox::{self, Outcome};
use super::{next_attempt, InvitationSettings, InvitationTemplate, Mailer, MailerError};
use crate::environment::Environment;
use crate::error::Result;

/// Invitations taken per look at the outbox.
const BATCH: u64 = 20;

/// What delivering needs.
#[derive(Clone)]
pub struct Delivery {
    pub mailer: Mailer,
    pub template: InvitationTemplate,
    pub settings: InvitationSettings,
}

/// Delivers due invitations until the task is dropped: whenever `bell` rings (an invitation
/// was queued in this process) and every `settings.poll`.
pub async fn run(env: Environment, delivery: Delivery, bell: Arc<Notify>) {
    tracing::info!(to = %delivery.mailer.destination(), "delivering invitations");
    loop {
        match deliver_due(&env, &delivery).await {
            Ok(delivered) if delivered == BATCH as usize => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not read the invitation outbox"),
        }
        tokio::select! {
            () = bell.notified() => {}
            () = tokio::time::sleep(delivery.settings.poll) => {}
        }
    }
}

/// One look at the outbox; answers how many invitations were attempted.
pub async fn deliver_due(env: &Environment, delivery: &Delivery) -> Result<usize> {
    let due = outbox::due(&env.db, Utc::now(), BATCH).await?;
    let mut attempted = 0;
    for invitation in due {
        // Claimed from when it is taken: the batch's earlier sends do not eat into it.
        if !outbox::take(&env.db, &invitation, Utc::now() + delivery.settings.claim).await? {
            continue;
        }
        attempted += 1;
        let attempts = invitation.attempts + 1;
        let outcome = match attempt(env, delivery, &invitation).await? {
            Attempt::Sent(to) => {
                tracing::info!(invitation = %invitation.id, user = %invitation.user_id, %to, "invitation sent");
                Outcome::Sent
            }
            Attempt::Withdrawn(reason) => Outcome::Withdrawn { reason },
            Attempt::Refused(MailerError::Permanent(error)) => {
                tracing::warn!(invitation = %invitation.id, %error, "invitation refused for good");
                Outcome::Failed { error }
            }
            Attempt::Refused(MailerError::Transient(error)) => match next_attempt(attempts, &delivery.settings) {
                Some(wait) => {
                    tracing::info!(invitation = %invitation.id, %error, retry_in = ?wait, "invitation not sent yet");
                    Outcome::Retry { error, at: Utc::now() + wait }
                }
                None => Outcome::Failed { error: format!("gave up after {attempts} attempts: {error}") },
            },
        };
        outbox::record(&env.db, &invitation, outcome).await?;
    }
    Ok(attempted)
}

/// What one attempt came to.
enum Attempt {
    /// Where it went.
    Sent(String),
    Refused(MailerError),
    /// Not sent, and not to be: why.
    Withdrawn(String),
}

/// Composes and sends one invitation to the person's current address.
async fn attempt(env: &Environment, delivery: &Delivery, invitation: &invitation::Model) -> Result<Attempt> {
    let Some(person) = directory_user::Entity::find_by_id(invitation.user_id).one(&env.db).await? else {
        return Ok(Attempt::Withdrawn("the person is no longer in the directory".into()));
    };
    if !person.employment_status.is_with_company() {
        return Ok(Attempt::Withdrawn("the person was deactivated before it was sent".into()));
    }
    let workspace = workspace::Entity::find_by_id(invitation.workspace_id.clone()).one(&env.db).await?;
    let workspace = workspace.map_or_else(|| invitation.workspace_id.clone(), |w| w.name);
    let facts = Invitation {
        id: invitation.id,
        workspace: &workspace,
        name: &person.display_name,
        email: &person.email,
        activity: &invitation.activity_title,
        due_date: invitation.activity_due_date.as_deref(),
    };
    let sent = match delivery.template.compose(&facts) {
        Ok(message) => delivery.mailer.send(invitation.id, message).await,
        Err(err) => Err(err),
    };
    Ok(sent.map_or_else(Attempt::Refused, Attempt::Sent))
}

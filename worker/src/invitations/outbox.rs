//! The invitation outbox: rows written in the transaction that decides an invitation, and the
//! steps a worker takes with one (take it, then record what the mail server said).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use uuid::Uuid;

use entity::directory_user::{self, EmploymentStatus, InvitationStatus};
use entity::invitation::{self, DeliveryStatus};

use crate::error::Result;
use crate::webhooks::{self, outbox, EventType};

/// The activity an invitation announces.
pub struct AnnouncedActivity<'a> {
    pub title: &'a str,
    pub due_date: Option<&'a str>,
}

/// Queues an invitation for person `user_id` in the caller's transaction, when they are ACTIVE
/// and their invitation status is one of `from`; they become PENDING. Answers whether one was
/// queued. The status changes in one conditional update, so two assignments at once queue one.
pub async fn invite<C: ConnectionTrait>(
    db: &C,
    workspace_id: &str,
    user_id: Uuid,
    from: &[InvitationStatus],
    activity: AnnouncedActivity<'_>,
) -> Result<bool> {
    let now = Utc::now();
    let marked = directory_user::Entity::update_many()
        .col_expr(directory_user::Column::InvitationStatus, Expr::value(InvitationStatus::Pending))
        .col_expr(directory_user::Column::InvitationError, Expr::value(Option::<String>::None))
        .filter(directory_user::Column::Id.eq(user_id))
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .filter(directory_user::Column::EmploymentStatus.is_in(EmploymentStatus::WITH_COMPANY))
        .filter(directory_user::Column::InvitationStatus.is_in(from.iter().copied()))
        .exec(db)
        .await?;
    if marked.rows_affected == 0 {
        return Ok(false);
    }
    invitation::Entity::insert(invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id.to_string()),
        user_id: Set(user_id),
        activity_title: Set(activity.title.to_string()),
        activity_due_date: Set(activity.due_date.map(str::to_string)),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(true)
}

/// Invitations due for an attempt, oldest first.
pub async fn due<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, limit: u64) -> Result<Vec<invitation::Model>> {
    Ok(invitation::Entity::find()
        .filter(invitation::Column::Status.eq(DeliveryStatus::Pending))
        .filter(invitation::Column::NextAttemptAt.lte(now))
        .order_by_asc(invitation::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Takes `due` for one attempt, unless another worker took it first: its next attempt moves to
/// `claim_until`, so a worker that dies mid-send leaves it due again then.
pub async fn take<C: ConnectionTrait>(db: &C, due: &invitation::Model, claim_until: DateTime<Utc>) -> Result<bool> {
    let taken = invitation::Entity::update_many()
        .col_expr(invitation::Column::Attempts, Expr::value(due.attempts + 1))
        .col_expr(invitation::Column::NextAttemptAt, Expr::value(claim_until))
        .filter(invitation::Column::Id.eq(due.id))
        .filter(invitation::Column::Status.eq(DeliveryStatus::Pending))
        .filter(invitation::Column::Attempts.eq(due.attempts))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// What became of one attempt.
pub enum Outcome {
    Sent,
    /// Try again at this moment.
    Retry {
        error: String,
        at: DateTime<Utc>,
    },
    Failed {
        error: String,
    },
    /// Not to be sent after all (the person was deactivated meanwhile): they were never
    /// invited, and their first activity after a reactivation invites them.
    Withdrawn {
        reason: String,
    },
}

/// Records `outcome` of the attempt that took `taken`, for the invitation and its person
/// together; nothing when the attempt's claim had lapsed and another worker took it since.
pub async fn record(db: &DatabaseConnection, taken: &invitation::Model, outcome: Outcome) -> Result<()> {
    let txn = db.begin().await?;
    let now = Utc::now();
    // `taken` is the row as this worker found it due; its claim raised `attempts` by one.
    let invitation = invitation::Entity::update_many()
        .filter(invitation::Column::Id.eq(taken.id))
        .filter(invitation::Column::Status.eq(DeliveryStatus::Pending))
        .filter(invitation::Column::Attempts.eq(taken.attempts + 1));
    let person = directory_user::Entity::update_many()
        .filter(directory_user::Column::Id.eq(taken.user_id))
        .filter(directory_user::Column::InvitationStatus.eq(InvitationStatus::Pending));
    let announced = match &outcome {
        Outcome::Sent => Some((EventType::InvitationSent, None)),
        Outcome::Failed { error } => Some((EventType::InvitationFailed, Some(error.clone()))),
        Outcome::Retry { .. } | Outcome::Withdrawn { .. } => None,
    };
    let (invitation, person) = match outcome {
        Outcome::Sent => (
            invitation
                .col_expr(invitation::Column::Status, Expr::value(DeliveryStatus::Sent))
                .col_expr(invitation::Column::SentAt, Expr::value(now))
                .col_expr(invitation::Column::LastError, Expr::value(Option::<String>::None)),
            person
                .col_expr(directory_user::Column::InvitationStatus, Expr::value(InvitationStatus::Invited))
                .col_expr(directory_user::Column::InvitedAt, Expr::value(now))
                .col_expr(directory_user::Column::InvitationError, Expr::value(Option::<String>::None)),
        ),
        // Still PENDING; the admin sees why it is taking a while.
        Outcome::Retry { error, at } => (
            invitation
                .col_expr(invitation::Column::NextAttemptAt, Expr::value(at))
                .col_expr(invitation::Column::LastError, Expr::value(error.clone())),
            person.col_expr(directory_user::Column::InvitationError, Expr::value(error)),
        ),
        Outcome::Failed { error } => (
            invitation
                .col_expr(invitation::Column::Status, Expr::value(DeliveryStatus::Failed))
                .col_expr(invitation::Column::LastError, Expr::value(error.clone())),
            person
                .col_expr(directory_user::Column::InvitationStatus, Expr::value(InvitationStatus::Failed))
                .col_expr(directory_user::Column::InvitationError, Expr::value(error)),
        ),
        Outcome::Withdrawn { reason } => (
            invitation
                .col_expr(invitation::Column::Status, Expr::value(DeliveryStatus::Failed))
                .col_expr(invitation::Column::LastError, Expr::value(reason)),
            person
                .col_expr(directory_user::Column::InvitationStatus, Expr::value(InvitationStatus::NotInvited))
                .col_expr(directory_user::Column::InvitationError, Expr::value(Option::<String>::None)),
        ),
    };
    if invitation.exec(&txn).await?.rows_affected == 1 {
        person.exec(&txn).await?;
        if let Some((event, error)) = announced {
            if let Some(person) = directory_user::Entity::find_by_id(taken.user_id).one(&txn).await? {
                let data = webhooks::payload::invitation(taken.id, &person, error.as_deref());
                outbox::emit(&txn, &taken.workspace_id, event, Some(person.id), data).await?;
            }
        }
        txn.commit().await?;
    } else {
        tracing::warn!(invitation = %taken.id, "another worker took this invitation over; its outcome stands");
    }
    Ok(())
}

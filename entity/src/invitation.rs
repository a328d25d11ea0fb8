//! The invitation outbox: one row per invitation to send, written in the transaction that
//! decides it (a first assignment, a resend), delivered by a worker over SMTP.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation")]
pub struct Model {
    /// Also the message's `Message-ID`, so a resend after a crash is recognisably the same mail.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub user_id: Uuid,
    pub activity_title: String,
    pub activity_due_date: Option<String>,
    pub status: DeliveryStatus,
    /// Delivery attempts begun.
    pub attempts: i32,
    /// When a worker may (next) try it. A worker that takes it moves this past its attempt, so
    /// one that crashes mid-send leaves it due again later, not lost.
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    /// To be sent (again) at `next_attempt_at`.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The mail server accepted it.
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Refused for good, or out of attempts.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! One event on its way to one endpoint: the delivery outbox, written with the event.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    /// Time-ordered (UUIDv7): an endpoint's deliveries of one person go out in this order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// Deliveries with the same key (a person's id) reach an endpoint one at a time, in order.
    pub ordering_key: Option<String>,
    pub status: DeliveryStatus,
    /// Attempts begun.
    pub attempts: i32,
    /// When a worker may (next) try it; a worker that takes it moves this past its attempt, so
    /// one that crashes mid-request leaves it due again later, not lost.
    pub next_attempt_at: DateTimeUtc,
    /// The endpoint's HTTP status on the last attempt that got one.
    pub response_status: Option<i32>,
    /// Why the last attempt failed, with at most a short excerpt of the endpoint's answer.
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// Out of attempts.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

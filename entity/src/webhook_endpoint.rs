//! Where a workspace wants to hear about changes: a URL, the event types it subscribes, and the
//! secret its deliveries are signed with (sealed; shown to the admin once).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoint")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub url: String,
    /// Event type names, a JSON array of strings.
    pub events: Json,
    pub description: Option<String>,
    /// The signing secret, sealed with the deployment's encryption key.
    pub sealed_secret: Vec<u8>,
    /// The secret before the last rotation: deliveries are signed with both until
    /// `previous_secret_until`, so a receiver can switch over without missing one.
    pub sealed_previous_secret: Option<Vec<u8>>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// Attempts that failed since the last that succeeded.
    pub consecutive_failures: i32,
    /// Its recent attempts keep failing.
    pub failing: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

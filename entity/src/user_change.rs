//! One change to a person: a field's old and new value, when, and by what (`sync:<runId>`,
//! `admin:<subject>`). A creation is one row of its own (`field` = `created`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_change")]
pub struct Model {
    /// Time-ordered (UUIDv7): the history's order and its cursor.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub user_id: Uuid,
    /// The sync that made it, if one did.
    pub sync_run_id: Option<Uuid>,
    pub at: DateTimeUtc,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub changed_by: String,
    /// Still to be published to the workspace's webhook endpoints (set only when one
    /// subscribes to people's changes).
    pub webhook_pending: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

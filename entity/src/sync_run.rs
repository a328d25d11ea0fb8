//! One execution of the fetch → map → upsert pipeline. The database, not the queue, is the source
//! of truth for a run's state; a partial unique index allows one QUEUED/RUNNING run per connection.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_run")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub connection_id: Uuid,
    pub mode: SyncMode,
    pub status: SyncStatus,
    pub phase: SyncPhase,
    pub processed: i32,
    pub total: Option<i32>,
    /// Records the connection's last successful run read: the estimate progress uses while
    /// `total` is unknown.
    pub expected_total: Option<i32>,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub deactivated: i32,
    /// Deactivations the guard held back, waiting for an admin or the next complete pass.
    pub held_deactivations: i32,
    pub skipped: i32,
    /// Where a resumed attempt continues: `{"cursor": "<provider cursor>", "fetchComplete": bool}`.
    pub checkpoint: Option<Json>,
    pub error: Option<String>,
    pub triggered_by: String,
    pub mapping_version: i32,
    pub attempts: i32,
    pub cancel_requested: bool,
    /// Which worker holds the run, until when: a second delivery of the same job (queue retry,
    /// start-up recovery) leaves a live lease alone and takes over an expired one.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SyncMode {
    #[sea_orm(string_value = "FULL")]
    Full,
    #[sea_orm(string_value = "INCREMENTAL")]
    Incremental,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SyncStatus {
    #[sea_orm(string_value = "QUEUED")]
    Queued,
    #[sea_orm(string_value = "RUNNING")]
    Running,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl SyncStatus {
    /// A terminal run never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SyncPhase {
    #[sea_orm(string_value = "QUEUED")]
    Queued,
    #[sea_orm(string_value = "FETCHING")]
    Fetching,
    #[sea_orm(string_value = "MERGING")]
    Merging,
    #[sea_orm(string_value = "FINALIZING")]
    Finalizing,
    #[sea_orm(string_value = "DONE")]
    Done,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Provenance of a synced user: which connection and remote record it came from, and the hash of
//! the mapped content last written, so an unchanged record costs no write.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_source")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub connection_id: Uuid,
    pub remote_id: String,
    pub remote_manager_id: Option<String>,
    pub content_hash: String,
    pub last_seen_run_id: Uuid,
    pub last_synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

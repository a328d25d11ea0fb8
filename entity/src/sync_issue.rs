//! A record a run could not import cleanly (missing email, duplicate, unknown manager...).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_issue")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sync_run_id: Uuid,
    pub remote_id: Option<String>,
    pub kind: String,
    pub message: String,
    pub created_at: DateTimeUtc,
    /// The people a POSSIBLE_DUPLICATE is about.
    pub user_id: Option<Uuid>,
    pub other_user_id: Option<Uuid>,
    /// An admin said the two are not the same person.
    pub dismissed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

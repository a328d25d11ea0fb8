//! An admin's join of two people into one (`into` keeps its id): what it moved, so that
//! `separatePeople` can move it back while both sources still exist.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_join")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub into_user_id: Uuid,
    pub other_user_id: Uuid,
    /// The other person's row and the ids of what moved (see `worker::joins::Moved`).
    pub moved: Json,
    pub joined_by: String,
    pub joined_at: DateTimeUtc,
    pub separated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

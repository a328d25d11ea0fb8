//! An activity assigned to a person (the compliance product's work item). The first one a
//! person who was never invited receives sends their invitation.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub user_id: Uuid,
    pub title: String,
    /// An ISO date.
    pub due_date: Option<String>,
    /// Who assigned it (`admin:<subject>`).
    pub assigned_by: String,
    pub assigned_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A member of a SCIM group: a row per (group, member), so a PATCH adding or removing
//! thousands of members is one statement, not a rewrite of a list.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: Uuid,
    /// A user's (or a nested group's) SCIM id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: Uuid,
    /// The member's `display`, as the provider sent it.
    pub display: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

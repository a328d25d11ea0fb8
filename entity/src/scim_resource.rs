//! A user or a group a SCIM connection's identity provider pushed, as it sent it (the attributes
//! in `document`), with the columns its filters and uniqueness need.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_resource")]
pub struct Model {
    /// The resource's SCIM `id`, ours to assign.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub connection_id: Uuid,
    /// `User` or `Group`.
    pub resource_type: String,
    /// A user's userName or a group's displayName, lower-cased: unique among live users.
    pub name_key: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    /// The user's email values, lower-cased, each between newlines, for `emails` filters.
    pub emails_key: String,
    /// The attributes as the provider sent them (without `id` and `meta`, which are ours).
    pub document: Json,
    /// Bumped on every change: the ETag's version.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// A DELETE: the row stays, unanswered, for the person's deactivation.
    pub deleted_at: Option<DateTimeUtc>,
    /// When the provider last deactivated or deleted the user, for the deactivation guard.
    pub deactivated_at: Option<DateTimeUtc>,
    /// The guard held this user's deactivation for an admin to confirm.
    pub deactivation_held: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

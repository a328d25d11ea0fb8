//! A SCIM connection's requests on one day (UTC): it has no runs to show, so its card shows these.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_activity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    /// `YYYY-MM-DD`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub requests: i32,
    /// Requests that changed a user or a group.
    pub changes: i32,
    /// Requests answered with an error.
    pub errors: i32,
    pub last_request_at: DateTimeUtc,
    /// The last error's SCIM detail, as the provider was told it.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

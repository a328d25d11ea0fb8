use async_graphql::{Context, Object, ID};

use crate::access::ConnectionId;
use crate::error::ApiResult;
use crate::graphql::context::ContextExt;
use crate::graphql::types::mapping::{FieldMapping, FieldMappingEntryInput};

#[derive(Default)]
pub struct MappingMutation;

#[Object]
impl MappingMutation {
    /// Validates against the provider's live fields and stores a new DRAFT version.
    /// `hiringTeam`, for an applicant tracking system only: whether its users (recruiters,
    /// interviewers, hiring managers) are people too; unsaid, as the previous version said (at
    /// first, yes).
    async fn save_field_mapping(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        entries: Vec<FieldMappingEntryInput>,
        hiring_team: Option<bool>,
    ) -> ApiResult<FieldMapping> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let entries = entries.into_iter().map(Into::into).collect();
        let view = integrations.save_mapping(id, entries, hiring_team).await?;
        Ok(FieldMapping(view))
    }

    /// Locks a saved version for syncing.
    async fn confirm_field_mapping(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        version: i32,
    ) -> ApiResult<FieldMapping> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        Ok(FieldMapping(integrations.confirm_mapping(id, version).await?))
    }
}

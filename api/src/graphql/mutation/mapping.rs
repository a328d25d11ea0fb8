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
    async fn save_field_mapping(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        entries: Vec<FieldMappingEntryInput>,
    ) -> ApiResult<FieldMapping> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let view = integrations.save_mapping(id, entries.into_iter().map(Into::into).collect()).await?;
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

use async_graphql::{Context, Object, ID};

use worker::integrations::mappings;

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{admin_connection, ContextExt};
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
        let (_, connection) = admin_connection(ctx, &connection_id).await?;
        let env = &ctx.api().env;
        let entries = entries.into_iter().map(Into::into).collect();
        let view = mappings::save(env, &connection, entries).await.map_err(ApiError::from)?;
        Ok(FieldMapping(view))
    }

    /// Locks a saved version for syncing.
    async fn confirm_field_mapping(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        version: i32,
    ) -> ApiResult<FieldMapping> {
        let (_, connection) = admin_connection(ctx, &connection_id).await?;
        let env = &ctx.api().env;
        let view = mappings::confirm(env, &connection, version).await.map_err(ApiError::from)?;
        Ok(FieldMapping(view))
    }
}

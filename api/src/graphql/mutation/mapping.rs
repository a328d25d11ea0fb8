use async_graphql::{Context, Object, ID};

use worker::integrations::{connections, mappings};

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{parse_id, ContextExt};
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
        let viewer = ctx.integrations_admin()?;
        let env = &ctx.api().env;
        let connection = connections::find(&env.db, &viewer.workspace_id, parse_id(&connection_id, "connectionId")?)
            .await
            .map_err(ApiError::from)?;
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
        let viewer = ctx.integrations_admin()?;
        let env = &ctx.api().env;
        let connection = connections::find(&env.db, &viewer.workspace_id, parse_id(&connection_id, "connectionId")?)
            .await
            .map_err(ApiError::from)?;
        let view = mappings::confirm(env, &connection, version).await.map_err(ApiError::from)?;
        Ok(FieldMapping(view))
    }
}

use async_graphql::{Context, Object, ID};

use worker::integrations::{connections, mappings, runs};
use worker::mapping::INTERNAL_FIELDS;
use worker::providers::catalogue;

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{admin_connection, parse_id, ContextExt};
use crate::graphql::types::connection::Connection;
use crate::graphql::types::mapping::{FieldMappingEntryInput, InternalField, MappedUserPreview};
use crate::graphql::types::provider::{Provider, ProviderCategory};
use crate::graphql::types::sync_run::SyncRun;
use crate::graphql::{list_cost, PROVIDER_READ_COST};

#[derive(Default)]
pub struct IntegrationsQuery;

#[Object]
impl IntegrationsQuery {
    /// The provider catalogue, searchable by name (case-insensitive).
    async fn providers(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        category: Option<ProviderCategory>,
    ) -> ApiResult<Vec<Provider>> {
        ctx.viewer()?;
        Ok(catalogue::search(search.as_deref(), category.map(Into::into)).into_iter().map(Provider).collect())
    }

    /// The directory fields a mapping can fill.
    async fn internal_fields(&self, ctx: &Context<'_>) -> ApiResult<Vec<InternalField>> {
        ctx.viewer()?;
        Ok(INTERNAL_FIELDS.iter().map(Into::into).collect())
    }

    async fn connections(&self, ctx: &Context<'_>) -> ApiResult<Vec<Connection>> {
        let viewer = ctx.integrations_admin()?;
        let list = connections::list(&ctx.api().env.db, &viewer.workspace_id).await.map_err(ApiError::from)?;
        Ok(list.into_iter().map(Connection).collect())
    }

    async fn connection(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Connection>> {
        let viewer = ctx.integrations_admin()?;
        let id = parse_id(&id, "id")?;
        match connections::find(&ctx.api().env.db, &viewer.workspace_id, id).await {
            Ok(model) => Ok(Some(Connection(model))),
            Err(worker::Error::NotFound(_)) => Ok(None),
            Err(err) => Err(ApiError::from(err).into()),
        }
    }

    /// A few live records through a mapping, with problems flagged. A live provider read: it
    /// counts as 5,000 towards the query cost limit of 20,000.
    #[graphql(complexity = "PROVIDER_READ_COST + list_cost(limit, 50, child_complexity)")]
    async fn preview_field_mapping(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        entries: Option<Vec<FieldMappingEntryInput>>,
        #[graphql(default = 5)] limit: Option<i32>,
    ) -> ApiResult<Vec<MappedUserPreview>> {
        let (_, connection) = admin_connection(ctx, &connection_id).await?;
        let limit = limit.unwrap_or(5);
        if !(1..=50).contains(&limit) {
            return Err(ApiError::validation("limit", "'limit' must be between 1 and 50").into());
        }
        let env = &ctx.api().env;
        let entries = entries.map(|e| e.into_iter().map(Into::into).collect());
        let rows = mappings::preview(env, &connection, entries, limit as usize).await.map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn sync_run(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<SyncRun>> {
        let viewer = ctx.integrations_admin()?;
        let id = parse_id(&id, "id")?;
        match runs::find(&ctx.api().env.db, &viewer.workspace_id, id).await {
            Ok(run) => Ok(Some(SyncRun::from(&run))),
            Err(worker::Error::NotFound(_)) => Ok(None),
            Err(err) => Err(ApiError::from(err).into()),
        }
    }
}

use async_graphql::{Context, Object, ID};

use worker::mapping::INTERNAL_FIELDS;
use worker::providers::catalogue;

use crate::access::{ConnectionId, RunId};
use crate::error::ApiResult;
use crate::graphql::context::{page_size, ContextExt};
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
        Ok(ctx.integrations()?.connections().await?.into_iter().map(Connection).collect())
    }

    async fn connection(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Connection>> {
        let integrations = ctx.integrations()?;
        Ok(integrations.find_connection(ConnectionId::parse(&id, "id")?).await?.map(Connection))
    }

    /// A few live records through a mapping, with problems flagged. A live provider read: it
    /// counts as 20,000 towards the query cost limit of 50,000.
    #[graphql(complexity = "PROVIDER_READ_COST + list_cost(limit, 50, child_complexity)")]
    async fn preview_field_mapping(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        entries: Option<Vec<FieldMappingEntryInput>>,
        #[graphql(default = 5)] limit: Option<i32>,
    ) -> ApiResult<Vec<MappedUserPreview>> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let limit = page_size(limit, 5, 50, "limit")?;
        let entries = entries.map(|e| e.into_iter().map(Into::into).collect());
        let rows = integrations.preview_mapping(id, entries, limit).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn sync_run(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<SyncRun>> {
        let integrations = ctx.integrations()?;
        Ok(integrations.find_run(RunId::parse(&id, "id")?).await?.as_ref().map(SyncRun::from))
    }
}

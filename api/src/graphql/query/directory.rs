use async_graphql::{Context, Object, ID};

use worker::directory::{self, UserCursor};

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{page_size, parse_id, ContextExt};
use crate::graphql::list_cost;
use crate::graphql::types::user::{OrgChartNode, User, UserConnection, UserFilter};

/// Largest page of users one request may ask for.
const MAX_PAGE: i32 = 500;
/// People an org chart counts as, for the query cost limit.
const ORG_CHART_COUNTED: i32 = 100;

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// No filter: every user, active and inactive; first ≤ 500.
    #[graphql(complexity = "list_cost(first, MAX_PAGE, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
        filter: Option<UserFilter>,
    ) -> ApiResult<UserConnection> {
        let viewer = ctx.viewer()?;
        let first = page_size(first, 50, MAX_PAGE, "first")?;
        let after = after.as_deref().map(UserCursor::decode).transpose().map_err(ApiError::from)?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let page = directory::list_users(&ctx.api().env.db, &viewer.workspace_id, &filter, first as u64, after)
            .await
            .map_err(ApiError::from)?;
        Ok(page.into())
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<User>> {
        let viewer = ctx.viewer()?;
        let id = parse_id(&id, "id")?;
        let user = directory::find_user(&ctx.api().env.db, &viewer.workspace_id, id).await.map_err(ApiError::from)?;
        Ok(user.map(User))
    }

    /// Roots are active users without a manager, or `rootUserId`. At most 5,000 people in
    /// one answer (VALIDATION_FAILED naming `depth` beyond); counted as 100 people by the query
    /// cost limit.
    #[graphql(complexity = "list_cost(Some(ORG_CHART_COUNTED), ORG_CHART_COUNTED, child_complexity)")]
    async fn org_chart(
        &self,
        ctx: &Context<'_>,
        root_user_id: Option<ID>,
        #[graphql(default = 3)] depth: Option<i32>,
    ) -> ApiResult<Vec<OrgChartNode>> {
        let depth = depth.unwrap_or(3);
        let viewer = ctx.viewer()?;
        if !(1..=10).contains(&depth) {
            return Err(ApiError::validation("depth", "'depth' must be between 1 and 10").into());
        }
        let root = root_user_id.as_ref().map(|id| parse_id(id, "rootUserId")).transpose()?;
        let chart = directory::org_chart(&ctx.api().env.db, &viewer.workspace_id, root, depth as u32)
            .await
            .map_err(ApiError::from)?;
        Ok(chart.into_iter().map(Into::into).collect())
    }
}

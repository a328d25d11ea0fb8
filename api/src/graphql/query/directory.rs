use async_graphql::{Context, Object, ID};

use worker::directory::UserCursor;

use crate::access::UserId;
use crate::error::ApiResult;
use crate::graphql::context::{page_size, ContextExt};
use crate::graphql::list_cost;
use crate::graphql::types::user::{OrgChartNode, User, UserConnection, UserFilter};

/// Largest page of users one request may ask for.
const MAX_PAGE: i32 = 500;
/// People an org chart counts as, for the query cost limit.
const ORG_CHART_COUNTED: i32 = 100;
/// Most departments one answer lists, and what it counts as for the query cost limit.
const DEPARTMENTS_LISTED: usize = 500;

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
        let directory = ctx.directory()?;
        let first = page_size(first, 50, MAX_PAGE, "first")?;
        let after = after.as_deref().map(UserCursor::decode).transpose()?;
        let filter = filter.unwrap_or_default().into_domain()?;
        Ok(directory.users(&filter, first, after).await?.into())
    }

    /// The departments people of the workspace are in, in order (at most 500): the choices of
    /// the `department` filter. Counted as 500 by the query cost limit.
    #[graphql(complexity = "DEPARTMENTS_LISTED")]
    async fn departments(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        Ok(ctx.directory()?.departments(DEPARTMENTS_LISTED as u64).await?)
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<User>> {
        let directory = ctx.directory()?;
        Ok(directory.user(UserId::parse(&id, "id")?).await?.map(User))
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
        let directory = ctx.directory()?;
        let depth = page_size(depth, 3, 10, "depth")?;
        let root = root_user_id.as_ref().map(|id| UserId::parse(id, "rootUserId")).transpose()?;
        let chart = directory.org_chart(root, depth as u32).await?;
        Ok(chart.into_iter().map(Into::into).collect())
    }
}

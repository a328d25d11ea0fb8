use async_graphql::{Context, Object, ID};

use worker::directory::{self, UserCursor};

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{parse_id, ContextExt};
use crate::graphql::types::user::{OrgChartNode, User, UserConnection, UserFilter};

/// Largest page of users one request may ask for.
const MAX_PAGE: i32 = 500;

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// No filter: every user, active and inactive; first ≤ 500.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
        filter: Option<UserFilter>,
    ) -> ApiResult<UserConnection> {
        let viewer = ctx.viewer()?;
        let first = first.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::validation("first", format!("'first' must be between 1 and {MAX_PAGE}")).into());
        }
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

    /// Roots are active users without a manager, or `rootUserId`.
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

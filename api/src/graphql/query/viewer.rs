use async_graphql::{Context, Object, SimpleObject, ID};

use crate::auth::{Plan, Role};
use crate::error::ApiResult;
use crate::graphql::context::ContextExt;

#[derive(SimpleObject)]
pub struct Viewer {
    pub subject: String,
    pub workspace_id: ID,
    pub role: String,
    pub plan: String,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who the token says the caller is.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        let viewer = ctx.viewer()?;
        Ok(Viewer {
            subject: viewer.subject.clone(),
            workspace_id: ID(viewer.workspace_id.clone()),
            role: match viewer.role {
                Role::Admin => "admin",
                Role::Member => "member",
            }
            .into(),
            plan: match viewer.plan {
                Plan::Paid => "paid",
                Plan::Free => "free",
            }
            .into(),
        })
    }
}

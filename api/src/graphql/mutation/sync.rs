use async_graphql::{Context, Object, ID};

use worker::integrations::{runs, schedule};

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{admin_connection, parse_id, ContextExt};
use crate::graphql::types::connection::SyncSchedule;
use crate::graphql::types::sync_run::{SyncMode, SyncRun};

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Queues a sync with the confirmed mapping; follow it with `syncProgress`.
    async fn start_sync(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        #[graphql(default_with = "Some(SyncMode::Full)")] mode: Option<SyncMode>,
    ) -> ApiResult<SyncRun> {
        let (viewer, connection) = admin_connection(ctx, &connection_id).await?;
        let api = ctx.api();
        let run = runs::start_sync(
            &api.env,
            api.queue.as_ref(),
            &connection,
            mode.unwrap_or(SyncMode::Full).into(),
            format!("admin:{}", viewer.subject),
        )
        .await
        .map_err(ApiError::from)?;
        Ok(SyncRun::from(&run))
    }

    /// Stops a run at the next page boundary; a cancelled run deactivates nobody.
    async fn cancel_sync(&self, ctx: &Context<'_>, run_id: ID) -> ApiResult<SyncRun> {
        let viewer = ctx.integrations_admin()?;
        let env = &ctx.api().env;
        let run =
            runs::find(&env.db, &viewer.workspace_id, parse_id(&run_id, "runId")?).await.map_err(ApiError::from)?;
        let run = runs::cancel_sync(env, run).await.map_err(ApiError::from)?;
        Ok(SyncRun::from(&run))
    }

    async fn set_sync_schedule(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        enabled: bool,
        interval_minutes: Option<i32>,
    ) -> ApiResult<SyncSchedule> {
        let (_, connection) = admin_connection(ctx, &connection_id).await?;
        let env = &ctx.api().env;
        let connection =
            schedule::set_schedule(env, connection, enabled, interval_minutes).await.map_err(ApiError::from)?;
        Ok(SyncSchedule::from(&connection))
    }
}

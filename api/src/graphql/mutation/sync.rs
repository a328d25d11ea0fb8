use async_graphql::{Context, Object, ID};

use crate::access::{ConnectionId, RunId};
use crate::error::ApiResult;
use crate::graphql::context::ContextExt;
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
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let run = integrations.start_sync(id, mode.unwrap_or(SyncMode::Full).into()).await?;
        Ok(SyncRun::from(&run))
    }

    /// Stops a run at the next page boundary; a cancelled run deactivates nobody.
    async fn cancel_sync(&self, ctx: &Context<'_>, run_id: ID) -> ApiResult<SyncRun> {
        let integrations = ctx.integrations()?;
        let run = integrations.cancel_sync(RunId::parse(&run_id, "runId")?).await?;
        Ok(SyncRun::from(&run))
    }

    /// Applies the deactivations a sync held back (`SyncRun.deactivationsHeld`), for the
    /// connection's latest finished run; VALIDATION_FAILED when it held none or a later sync
    /// decided afresh.
    async fn confirm_deactivations(&self, ctx: &Context<'_>, run_id: ID) -> ApiResult<SyncRun> {
        let integrations = ctx.integrations()?;
        let run = integrations.confirm_deactivations(RunId::parse(&run_id, "runId")?).await?;
        Ok(SyncRun::from(&run))
    }

    async fn set_sync_schedule(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        enabled: bool,
        interval_minutes: Option<i32>,
    ) -> ApiResult<SyncSchedule> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let connection = integrations.set_schedule(id, enabled, interval_minutes).await?;
        Ok(SyncSchedule::from(&connection))
    }
}

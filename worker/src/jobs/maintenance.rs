//! Periodic housekeeping in every worker process: re-enqueue runs whose worker died (or whose
//! job the queue lost, e.g. a Redis restart) and start scheduled syncs. Safe to run in several
//! processes at once: a run executes only under its lease.

use std::time::Duration;

use chrono::Utc;

use super::{SyncJob, SyncQueue};
use crate::environment::Environment;
use crate::error::Result;
use crate::integrations::{runs, schedule};

/// A queued run older than this with nobody working on it is enqueued again.
const STALE_QUEUED: Duration = Duration::from_secs(60);

/// Re-enqueues abandoned runs. `queued_before` bounds which QUEUED runs count as lost.
pub async fn recover_orphaned_runs(
    env: &Environment,
    queue: &dyn SyncQueue,
    queued_before: chrono::DateTime<Utc>,
) -> Result<usize> {
    let orphans = runs::orphaned(&env.db, queued_before).await?;
    for run in &orphans {
        tracing::info!(run_id = %run.id, status = ?run.status, "re-enqueueing an abandoned sync run");
        queue.enqueue(SyncJob { run_id: run.id }).await?;
    }
    Ok(orphans.len())
}

/// Recovers at once (everything queued before start-up is suspect), then every `every`.
pub async fn run_maintenance(env: Environment, queue: std::sync::Arc<dyn SyncQueue>, every: Duration) {
    if let Err(err) = recover_orphaned_runs(&env, queue.as_ref(), Utc::now()).await {
        tracing::warn!(error = %err, "start-up recovery failed");
    }
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let stale = Utc::now() - STALE_QUEUED;
        if let Err(err) = recover_orphaned_runs(&env, queue.as_ref(), stale).await {
            tracing::warn!(error = %err, "recovery sweep failed");
        }
        if let Err(err) = schedule::start_due(&env, queue.as_ref()).await {
            tracing::warn!(error = %err, "starting scheduled syncs failed");
        }
    }
}

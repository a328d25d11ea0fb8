//! Background jobs. One job type, [`SyncJob`], executes a sync run; the queue only carries run
//! ids, the database holds the state. [`maintenance`] hands on runs whose worker died (or whose
//! job the queue never delivered) and starts scheduled syncs.

mod backend;
pub mod maintenance;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::environment::Environment;
use crate::error::Result;
use crate::sync::{execute_run, RunOutcome};
use crate::task::AbortOnDrop;

pub use backend::{delete_redis_queue, JobBackend, QueueSettings};

/// Execute (or resume) sync run `run_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    pub run_id: Uuid,
}

/// Where sync jobs are enqueued: apalis on SQLite in embedded mode, on Redis in production.
#[async_trait::async_trait]
pub trait SyncQueue: Send + Sync {
    async fn enqueue(&self, job: SyncJob) -> Result<()>;
}

/// The sync runs one worker process executes at once (`SYNC_WORKER_CONCURRENCY`): the queue's
/// deliveries and the maintenance sweep's own runs share them.
#[derive(Clone)]
pub struct RunSlots(Arc<Semaphore>);

impl RunSlots {
    pub fn new(concurrency: usize) -> Self {
        Self(Arc::new(Semaphore::new(concurrency.max(1))))
    }

    async fn take(&self) -> OwnedSemaphorePermit {
        self.0.clone().acquire_owned().await.expect("the slots are never closed")
    }

    fn free(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// Executes run `job` in one of `slots` (waiting for one), on a task of its own, and queues it
/// again when this process is stopping.
///
/// The run executes on a task of its own: apalis asks its backend for more jobs (a write to the
/// queue) each time the task driving a job wakes, and a sync wakes thousands of times a second.
async fn execute_in_slot(
    env: Environment,
    queue: &dyn SyncQueue,
    job: SyncJob,
    slot: OwnedSemaphorePermit,
) -> Result<RunOutcome> {
    let run_id = job.run_id;
    let mut run = AbortOnDrop(tokio::spawn(async move {
        let outcome = execute_run(&env, run_id).await;
        drop(slot);
        outcome
    }));
    let outcome = (&mut run.0)
        .await
        .map_err(|e| crate::error::Error::Queue(format!("the sync task ended abnormally: {e}")))??;
    tracing::info!(run_id = %job.run_id, ?outcome, "sync job done");
    if outcome == RunOutcome::Released {
        queue.enqueue(job).await?;
    }
    Ok(outcome)
}

//! Background jobs. One job type, [`SyncJob`], executes a sync run; the queue only carries run
//! ids, the database holds the state. [`maintenance`] re-enqueues runs whose worker died and
//! starts scheduled syncs.

mod backend;
pub mod maintenance;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;

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

//! The apalis job backends and the worker that drains them. Embedded mode keeps its queue in a
//! SQLite file of its own (apalis tunes that file for queue throughput, not durability of the
//! directory data); production uses Redis with a key prefix, so deployments and tests can share
//! one server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_core::backend::{finalize::Durable, persistence::TaskPersistLayer, BackendConfig, WireFormatBackend};
use apalis_redis::RedisStorage;
use apalis_sqlite::{JsonCodec, SqlitePool, SqliteStorage};
use serde_json::Value;
use tokio::sync::watch;

use super::{execute_in_slot, RunSlots, SyncJob, SyncQueue};
use crate::environment::Environment;
use crate::error::{Error, Result};

/// Queue tuning shared by both backends.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// How often an idle worker looks for new jobs.
    pub poll_interval: Duration,
    /// Worker liveness beat; a worker silent for [`MISSED_HEARTBEATS`] beats has its jobs
    /// re-queued (the run's lease keeps a re-delivered job from running twice). Kept short because apalis 1.0 can miss
    /// the wakeup for a job queued right after another finished, until the next beat: measured
    /// as an 8-10 s delay in about one start in four with a 10 s beat.
    pub heartbeat: Duration,
    /// Sync runs executed at once by one worker process. Kept small so that runs queued at once
    /// spread over the workers there are, and one crash stalls few syncs.
    pub concurrency: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self { poll_interval: Duration::from_millis(100), heartbeat: Duration::from_secs(1), concurrency: 2 }
    }
}

const QUEUE_NAME: &str = "sync-runs";

/// Jobs one poll takes: apalis takes ten by default, more than a worker runs at once.
const JOBS_PER_POLL: usize = 1;

/// Beats a worker may miss before the queue declares it dead, takes its jobs back and
/// unregisters it. A busy process (a debug build merging pages on two cores) can miss three
/// one-second beats while alive, and apalis 1.0 then keeps polling as an unregistered worker
/// that never gets a job. A dead worker's runs do not wait for this: their leases expire and
/// the maintenance sweep hands them on.
const MISSED_HEARTBEATS: usize = 30;

/// Deliveries of one job before the queue gives up; the run's own attempt counter, not this,
/// decides when a run fails.
const MAX_DELIVERIES: usize = 10;

#[derive(Clone)]
pub enum JobBackend {
    /// With the bell `enqueue` rings, so this process's worker takes a new job at once rather
    /// than at its next poll.
    Sqlite(SqliteStorage<SyncJob>, Arc<watch::Sender<()>>),
    Redis(RedisStorage<SyncJob>),
}

impl JobBackend {
    /// A durable queue in the SQLite file at `url` (created if missing).
    pub async fn sqlite(url: &str, settings: &QueueSettings) -> Result<Self> {
        let pool = SqlitePool::connect(url).await.map_err(queue_error)?;
        SqliteStorage::setup(&pool).await.map_err(queue_error)?;
        let config = apalis_sqlite::Config::default()
            .queue(QUEUE_NAME)
            .batch_size(JOBS_PER_POLL)
            .heartbeat_interval(settings.heartbeat)
            .missed_heartbeats(MISSED_HEARTBEATS);
        Ok(Self::Sqlite(SqliteStorage::new(&pool).with_config(config), Arc::new(watch::channel(()).0)))
    }

    /// A queue in Redis under `{prefix}:sync-runs:*`.
    pub async fn redis(url: &str, prefix: &str, settings: &QueueSettings) -> Result<Self> {
        let patience = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(crate::REDIS_PATIENCE))
            .set_connection_timeout(Some(crate::REDIS_PATIENCE));
        let client = redis::Client::open(url).map_err(queue_error)?;
        let connection = client.get_connection_manager_with_config(patience).await.map_err(queue_error)?;
        let config = apalis_redis::Config::default()
            .queue(format!("{prefix}:{QUEUE_NAME}"))
            .batch_size(JOBS_PER_POLL)
            .heartbeat_interval(settings.heartbeat)
            .missed_heartbeats(MISSED_HEARTBEATS);
        Ok(Self::Redis(RedisStorage::new(connection).with_config(config)))
    }

    /// Runs a worker until `shutdown` resolves, then lets in-flight runs finish.
    pub async fn run_worker(
        self,
        env: Environment,
        settings: QueueSettings,
        slots: RunSlots,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let name = format!("sync-{}", env.settings.worker_id);
        let requeue = self.clone();
        match self {
            Self::Sqlite(storage, bell) => {
                // Polling still finds what the bell does not announce (retries, re-deliveries).
                let rings = Box::pin(futures::stream::unfold(bell.subscribe(), |mut bell| async move {
                    bell.changed().await.ok()?;
                    Some(((), bell))
                }));
                let strategy = Strategy::new().stream(rings).interval(settings.poll_interval);
                let backend = storage.poll_with_strategy(strategy);
                run(name, backend, requeue, env, settings, slots, shutdown).await
            }
            Self::Redis(storage) => {
                let backend = storage.poll_with_interval(settings.poll_interval);
                run(name, backend, requeue, env, settings, slots, shutdown).await
            }
        }
    }
}

/// Deletes a throwaway deployment's queue from Redis (its keys under `prefix`, and its entry in
/// apalis's list of queues): for tests and benchmarks, which use a key prefix each.
pub async fn delete_redis_queue(url: &str, prefix: &str) -> Result<()> {
    let client = redis::Client::open(url).map_err(queue_error)?;
    let mut redis = client.get_multiplexed_async_connection().await.map_err(queue_error)?;
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}:*")).query_async(&mut redis).await.map_err(queue_error)?;
    if !keys.is_empty() {
        let () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.map_err(queue_error)?;
    }
    for queue in keys.iter().filter_map(|k| k.strip_suffix(":workers")) {
        let () = redis::cmd("ZREM")
            .arg("core:apalis:queues:list")
            .arg(format!("{queue}:workers"))
            .query_async(&mut redis)
            .await
            .map_err(queue_error)?;
    }
    Ok(())
}

fn queue_error(err: impl std::fmt::Display) -> Error {
    Error::Queue(err.to_string())
}

#[async_trait::async_trait]
impl SyncQueue for JobBackend {
    async fn enqueue(&self, job: SyncJob) -> Result<()> {
        let task = TaskBuilder::new(job).max_attempts(MAX_DELIVERIES).build();
        match self {
            Self::Sqlite(storage, bell) => {
                storage.clone().push_task(task).await.map_err(queue_error)?;
                bell.send_replace(());
                Ok(())
            }
            Self::Redis(storage) => storage.clone().push_task(task).await.map_err(queue_error),
        }
    }
}

/// Both apalis backends share these associated types; naming them keeps one worker code path.
async fn run<B>(
    name: String,
    backend: B,
    requeue: JobBackend,
    env: Environment,
    settings: QueueSettings,
    slots: RunSlots,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()>
where
    B: Backend<Task = Task<Vec<u8>>>
        + BackendConfig<Args = SyncJob, Kind = Durable, Layer = TaskPersistLayer<JsonCodec<Value>, Value>>
        + WireFormatBackend<Codec = JsonCodec<Vec<u8>>, Compact = Vec<u8>>
        + Send
        + Unpin
        + 'static,
{
    WorkerBuilder::new(name)
        .backend(backend)
        .data(env)
        .data(requeue)
        .data(slots)
        .concurrency(settings.concurrency)
        .build(handle_sync_job)
        .run_until(async move {
            shutdown.await;
            Ok::<(), WorkerError>(())
        })
        .await
        .map_err(queue_error)
}

/// Errors reach the queue only when the database failed mid-attempt; the queue's re-delivery
/// (and the maintenance sweep) retry those. A run released by a stopping process is queued
/// again at once, for another worker.
async fn handle_sync_job(
    job: SyncJob,
    env: Data<Environment>,
    requeue: Data<JobBackend>,
    slots: Data<RunSlots>,
) -> std::result::Result<(), Error> {
    let slot = slots.take().await;
    execute_in_slot(Environment::clone(&env), &*requeue, job, slot).await?;
    Ok(())
}

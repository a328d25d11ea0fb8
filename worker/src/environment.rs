//! What every job and service call shares: the database, secrets, providers and the event bus.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::credentials::CredentialCipher;
use crate::events::EventBus;
use crate::providers::catalogue::ProviderRegistry;
use crate::uploads::UploadLimits;
use crate::webhooks::WebhookSettings;

/// Tunables of the sync pipeline.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Records merged per transaction (and per checkpoint).
    pub page_size: usize,
    /// Attempts of one run before it is marked FAILED.
    pub max_attempts: i32,
    /// How long a worker's claim on a run lasts without renewal; a crashed worker's run is
    /// taken over after this.
    pub lease: Duration,
    /// Wait before a failed attempt is retried, multiplied by the attempt number.
    pub retry_delay: Duration,
    /// Identifies this process in leases, for operators.
    pub worker_id: String,
    /// The largest share (percent) of a connection's active people one complete pass
    /// deactivates without an admin's confirmation (see `sync::guard`).
    pub deactivation_guard_percent: u32,
    /// How long an attempt may go without a page arriving or being merged before it is given
    /// up (and the run retried from its checkpoint): its lease is no longer renewed for it.
    pub stall_timeout: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            page_size: 1000,
            max_attempts: 3,
            lease: Duration::from_secs(20),
            retry_delay: Duration::from_secs(30),
            worker_id: format!("worker-{}", uuid::Uuid::new_v4()),
            deactivation_guard_percent: 20,
            stall_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct Environment {
    pub db: DatabaseConnection,
    pub cipher: CredentialCipher,
    pub providers: ProviderRegistry,
    pub events: EventBus,
    pub settings: SyncSettings,
    /// Cancelled when the process is asked to stop (SIGTERM): runs in flight stop at once,
    /// keep their last checkpoint, and are handed to another worker.
    pub draining: CancellationToken,
    /// Rung when an invitation is queued, so this process's delivery sends it at once (others
    /// find it on their next look).
    pub outbox_bell: Arc<Notify>,
    pub webhooks: WebhookSettings,
    /// Rung when a webhook is queued in this process (a test event), so it goes out at once.
    pub webhook_bell: Arc<Notify>,
    pub upload_limits: UploadLimits,
}

/// A transaction that writes: on SQLite it takes the write lock up front (BEGIN IMMEDIATE), so
/// a concurrent commit (the lease heartbeat, the API) makes it wait instead of failing its
/// first write after its reads, and what it read stays true until it commits.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, sea_orm::DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

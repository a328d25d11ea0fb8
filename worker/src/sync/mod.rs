//! The sync pipeline: fetch pages from the provider, map them with the run's pinned mapping,
//! merge each page in one transaction together with its checkpoint, then finalize (managers,
//! leavers) only after a complete fetch.
//!
//! A run executes under a lease: claimed before any work, renewed by a heartbeat while it runs,
//! and checked by every write to the run, so a duplicate delivery of its job is a no-op while
//! the first worker lives, a crashed worker's run is taken over from its checkpoint once the
//! lease expires, and a worker that lost its lease stops instead of writing twice. Failed and
//! cancelled runs never reach finalize, so they deactivate nobody.

mod decide;
mod finalize;
pub mod guard;
mod issues;
mod merge;
mod precedence;
pub mod push;

pub use finalize::confirm_deactivations;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, ExprTrait, IntoActiveModel, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use entity::sync_run::{self, SyncMode, SyncPhase, SyncStatus};
use entity::{connection, user_source};

use crate::environment::{begin_write, Environment};
use crate::error::{Error, Result};
use crate::events::{Event, RunSnapshot};
use crate::integrations::{connections, mappings, runs};
use crate::mapping::FieldMapping;
use crate::providers::RemotePage;
use crate::task::AbortOnDrop;
use crate::uploads;
use crate::webhooks::{self, outbox, EventType};

pub use merge::{source_row, user_row, PageCounts};

/// How a run's job ended, for the queue.
#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Another worker holds the run, it had already finished, or this worker lost its lease.
    NotClaimed,
    Succeeded,
    Cancelled,
    Failed,
    /// A transient failure; the run stays RUNNING and a later attempt resumes from its
    /// checkpoint once the retry delay has passed.
    RetryLater,
    /// This process is stopping; the run waits, unleased, for another worker.
    Released,
}

/// Where a resumed attempt continues.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checkpoint {
    /// Provider cursor after the last merged page.
    cursor: Option<String>,
    /// Every page was merged; only finalize remains.
    #[serde(default)]
    fetch_complete: bool,
    /// Who finalize deactivates.
    #[serde(default)]
    leavers: Leavers,
}

/// Who left the provider, as far as the fetch can tell.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Leavers {
    /// A FULL fetch read everyone: whoever it did not see has left.
    #[default]
    Unseen,
    /// An INCREMENTAL fetch read only changes: the provider named the records it deleted.
    Removed(Vec<String>),
}

/// How an attempt's work ended, short of errors.
enum Progress {
    Complete,
    Cancelled,
    /// The process is stopping: the run keeps its checkpoint for another worker.
    Released,
}

/// How a fetch ended.
enum Fetched {
    Complete(Leavers),
    Cancelled,
    Released,
}

/// Progress events are throttled to about ten a second; state changes always go out.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// Executes one attempt of run `run_id`.
#[tracing::instrument(skip(env), fields(run_id = %run_id))]
pub async fn execute_run(env: &Environment, run_id: Uuid) -> Result<RunOutcome> {
    if env.draining.is_cancelled() {
        return Ok(RunOutcome::Released);
    }
    let Some(mut run) = claim(env, run_id).await? else {
        return Ok(RunOutcome::NotClaimed);
    };
    tracing::info!(worker = %env.settings.worker_id, attempt = run.attempts, queued_for = ?(Utc::now() - run.created_at).to_std().unwrap_or_default(), "claimed a sync run");
    publish(env, &run).await;
    if run.attempts > env.settings.max_attempts {
        let message = format!("gave up after {} attempts", env.settings.max_attempts);
        return finish(env, &mut run, SyncStatus::Failed, Some(message)).await;
    }
    if run.cancel_requested {
        return finish(env, &mut run, SyncStatus::Cancelled, None).await;
    }
    // The lease renewal stops when the attempt ends, however it ends; and the attempt ends when
    // the renewal stops for want of progress (an await that never returns, whatever its cause).
    let liveness = Liveness::default();
    let stalled = CancellationToken::new();
    let lease = lease_of(&run);
    let heartbeat =
        AbortOnDrop(tokio::spawn(renew_lease(env.clone(), run_id, lease, liveness.clone(), stalled.clone())));
    let progress = tokio::select! {
        progress = advance(env, &mut run, &liveness) => progress,
        () = stalled.cancelled() => Err(Error::Stalled(env.settings.stall_timeout)),
    };
    drop(heartbeat);
    match progress {
        Ok(Progress::Complete) => finish(env, &mut run, SyncStatus::Succeeded, None).await,
        Ok(Progress::Cancelled) => finish(env, &mut run, SyncStatus::Cancelled, None).await,
        Ok(Progress::Released) => release_now(env, &mut run).await,
        Err(Error::LeaseLost) => {
            tracing::warn!("lost the run's lease to another worker; stopping");
            Ok(RunOutcome::NotClaimed)
        }
        Err(err) if err.is_transient() && run.attempts < env.settings.max_attempts => {
            tracing::warn!(error = %err, attempt = run.attempts, "sync attempt failed; will retry");
            release_for_retry(env, &mut run, &err).await
        }
        Err(err) => {
            tracing::warn!(error = %err, attempt = run.attempts, "sync failed");
            crate::integrations::connections::fail_if_refused(env, run.connection_id, &err).await?;
            finish(env, &mut run, SyncStatus::Failed, Some(err.public_message())).await
        }
    }
}

/// Takes the run if it is active and nobody holds a live lease on it. The lease is this
/// attempt's own, not the process's: an attempt of this process that outlived its lease (too
/// busy to renew it) must not go on writing beside the one that took the run over.
async fn claim(env: &Environment, run_id: Uuid) -> Result<Option<sync_run::Model>> {
    let now = Utc::now();
    let lease = format!("{}/{}", env.settings.worker_id, Uuid::new_v4());
    let claimed = sync_run::Entity::update_many()
        .col_expr(sync_run::Column::Status, Expr::value(SyncStatus::Running))
        .col_expr(sync_run::Column::Phase, Expr::value(SyncPhase::Fetching))
        .col_expr(sync_run::Column::Attempts, Expr::col(sync_run::Column::Attempts).add(1))
        .col_expr(sync_run::Column::LeaseOwner, Expr::value(lease.clone()))
        .col_expr(sync_run::Column::LeaseExpiresAt, Expr::value(now + env.settings.lease))
        .col_expr(sync_run::Column::StartedAt, Expr::col(sync_run::Column::StartedAt).if_null(now))
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.is_in([SyncStatus::Queued, SyncStatus::Running]))
        .filter(sync_run::Column::LeaseExpiresAt.is_null().or(sync_run::Column::LeaseExpiresAt.lt(now)))
        .exec(&env.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    Ok(sync_run::Entity::find_by_id(run_id).one(&env.db).await?)
}

/// When an attempt last moved: a page arrived or was merged.
#[derive(Clone)]
struct Liveness(Arc<std::sync::Mutex<Instant>>);

impl Default for Liveness {
    fn default() -> Self {
        Self(Arc::new(std::sync::Mutex::new(Instant::now())))
    }
}

impl Liveness {
    fn touch(&self) {
        *self.0.lock().expect("liveness") = Instant::now();
    }

    fn quiet_for(&self) -> Duration {
        self.0.lock().expect("liveness").elapsed()
    }
}

/// Whether an attempt quiet for `quiet` is to be given up.
fn stalled(quiet: Duration, stall_timeout: Duration) -> bool {
    quiet >= stall_timeout
}

/// Extends the lease while the attempt works, including long provider waits; stops, and says
/// so on `stalled`, once the attempt has not moved for the stall timeout.
async fn renew_lease(env: Environment, run_id: Uuid, lease: String, liveness: Liveness, on_stall: CancellationToken) {
    let mut tick = tokio::time::interval(env.settings.lease / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        if stalled(liveness.quiet_for(), env.settings.stall_timeout) {
            tracing::error!(quiet_for = ?liveness.quiet_for(), "the sync attempt made no progress; giving it up");
            on_stall.cancel();
            return;
        }
        let renewed = sync_run::Entity::update_many()
            .col_expr(sync_run::Column::LeaseExpiresAt, Expr::value(Utc::now() + env.settings.lease))
            .filter(sync_run::Column::Id.eq(run_id))
            .filter(sync_run::Column::LeaseOwner.eq(lease.clone()))
            .exec(&env.db)
            .await;
        if let Err(err) = renewed {
            tracing::warn!(error = %err, "could not renew the run's lease");
        }
    }
}

/// The lease of the attempt that holds `run`, as it was claimed.
fn lease_of(run: &sync_run::Model) -> String {
    run.lease_owner.clone().unwrap_or_default()
}

/// Writes `change` (made from `run`, as the attempt holds it) only while the attempt still
/// holds the run's lease.
pub(super) async fn save<C: ConnectionTrait>(
    db: &C,
    run: &sync_run::Model,
    change: sync_run::ActiveModel,
) -> Result<sync_run::Model> {
    sync_run::Entity::update(change)
        .validate()?
        .filter(sync_run::Column::LeaseOwner.eq(lease_of(run)))
        .exec(db)
        .await
        .map_err(|err| match err {
            DbErr::RecordNotUpdated => Error::LeaseLost,
            other => other.into(),
        })
}

/// Where the run stands: a fresh run's is empty.
fn checkpoint_of(run: &sync_run::Model) -> Checkpoint {
    run.checkpoint.clone().and_then(|c| serde_json::from_value(c).ok()).unwrap_or_default()
}

/// Fetches and merges from the checkpoint on, then finalizes; tells `liveness` of each step.
async fn advance(env: &Environment, run: &mut sync_run::Model, liveness: &Liveness) -> Result<Progress> {
    let checkpoint = checkpoint_of(run);
    let leavers = if checkpoint.fetch_complete {
        checkpoint.leavers
    } else {
        match fetch_and_merge(env, run, checkpoint.cursor, liveness).await? {
            Fetched::Complete(leavers) => leavers,
            Fetched::Cancelled => return Ok(Progress::Cancelled),
            Fetched::Released => return Ok(Progress::Released),
        }
    };
    let started = Instant::now();
    liveness.touch();
    finalize::finalize(env, run, &leavers).await?;
    tracing::debug!(elapsed = ?started.elapsed(), "finalized");
    Ok(Progress::Complete)
}

/// Stops the enclosing fetch (answering how it was stopped) when `work` was interrupted.
macro_rules! or_stopped {
    ($work:expr, $cancelled:expr, $draining:expr) => {
        match unless_stopped($work, $cancelled, $draining).await {
            Ok(done) => done,
            Err(stopped) => return Ok(stopped),
        }
    };
}

/// Fetches from `cursor` on (everything, or the changes an INCREMENTAL run asks for) and merges
/// page by page.
async fn fetch_and_merge(
    env: &Environment,
    run: &mut sync_run::Model,
    cursor: Option<String>,
    liveness: &Liveness,
) -> Result<Fetched> {
    let connection =
        connection::Entity::find_by_id(run.connection_id).one(&env.db).await?.ok_or(Error::NotFound("connection"))?;
    let mapping = mappings::confirmed_version(&env.db, connection.id, run.mapping_version).await?;
    // Waiting for the provider (a slow answer, a retry's back-off) gives way at once to a cancel
    // or a stopping process; what was merged is kept.
    let cancelled = CancellationToken::new();
    let _watch = AbortOnDrop(tokio::spawn(watch_for_cancel(env.clone(), run.id, cancelled.clone())));
    let draining = &env.draining;
    let connector = or_stopped!(connections::open_connector(env, &connection), &cancelled, draining)?;
    // A provider without a resume point is read again from the start.
    let replaying = cursor.is_none() && run.processed > 0;
    let request = mapping.fetch_request(cursor, env.settings.page_size);
    let changes = match run.mode {
        SyncMode::Incremental => match runs::changes_since(&env.db, run).await? {
            Some(since) => or_stopped!(connector.fetch_changes(since, request.clone()), &cancelled, draining)?,
            None => None,
        },
        SyncMode::Full => None,
    };
    let (mut pages, leavers) = match changes {
        Some(changes) => (changes.pages, Leavers::Removed(changes.removed)),
        None => {
            if run.mode == SyncMode::Incremental {
                // No change feed to read: this run reads everything, and says so.
                let mut active = run.clone().into_active_model();
                active.mode = Set(SyncMode::Full);
                *run = save(&env.db, run, active).await?;
            }
            (or_stopped!(connector.fetch(request), &cancelled, draining)?, Leavers::Unseen)
        }
    };
    // A connection's first sync cannot match records to its own earlier ones: skip that lookup.
    let removed: HashSet<String> = match &leavers {
        Leavers::Removed(ids) => ids.iter().cloned().collect(),
        Leavers::Unseen => HashSet::new(),
    };
    let known_records = user_source::Entity::find()
        .filter(user_source::Column::ConnectionId.eq(run.connection_id))
        .one(&env.db)
        .await?
        .is_some();
    // The fetch may have taken a while: pick up a cancel request made meanwhile.
    *run = sync_run::Entity::find_by_id(run.id).one(&env.db).await?.ok_or(Error::NotFound("sync run"))?;
    let mut last_publish = Instant::now();
    let mut pages_merged: u32 = 0;
    let (started, mut waited) = (Instant::now(), Duration::ZERO);
    let precedence = precedence::Precedence::for_connection(&env.db, &connection).await?;
    let attempt = merge::Attempt {
        known_records,
        replaying,
        removed: &removed,
        precedence: &precedence,
        provider: &connection.provider_id,
    };
    let mut upcoming = or_stopped!(pages.next(), &cancelled, draining);
    waited += started.elapsed();
    while let Some(page) = upcoming {
        liveness.touch();
        let page = page?;
        // Every page's save reads the run back, so a cancel request is seen at the next page.
        if run.cancel_requested {
            return Ok(Fetched::Cancelled);
        }
        let checkpoint =
            Checkpoint { fetch_complete: page.last, cursor: page.next_cursor.clone(), leavers: leavers.clone() };
        // The provider is asked for the next page while this one merges; a failed merge stops
        // waiting for it.
        let merging = async {
            let merged = merge_and_checkpoint(env, run, &mapping, page, attempt, &checkpoint).await?;
            Ok::<_, Error>((merged, Instant::now()))
        };
        let fetching = async { Ok((unless_stopped(pages.next(), &cancelled, draining).await, Instant::now())) };
        let ((merged, merged_at), (next, fetched_at)) = tokio::try_join!(merging, fetching)?;
        *run = merged;
        liveness.touch();
        waited += fetched_at.saturating_duration_since(merged_at);
        upcoming = match next {
            Ok(next) => next,
            Err(stopped) => return Ok(stopped),
        };
        pages_merged += 1;
        if pages_merged.is_power_of_two() && pages_merged.trailing_zeros() % 2 == 0 {
            refresh_statistics(env).await?;
        }
        if last_publish.elapsed() >= PUBLISH_INTERVAL {
            publish(env, run).await;
            last_publish = Instant::now();
        }
    }
    tracing::debug!(pages = pages_merged, elapsed = ?started.elapsed(), waiting_for_provider = ?waited, "fetched and merged");
    Ok(Fetched::Complete(leavers))
}

/// Merges one page and saves its counts and `checkpoint` with it, in one transaction; answers
/// the run as saved.
async fn merge_and_checkpoint(
    env: &Environment,
    run: &sync_run::Model,
    mapping: &FieldMapping,
    page: RemotePage,
    attempt: merge::Attempt<'_>,
    checkpoint: &Checkpoint,
) -> Result<sync_run::Model> {
    let txn = begin_write(&env.db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // A page and its checkpoint commit together, so a page lost to a crash before it
        // reached disk is merged again on resume: no need to wait for the flush. The page's
        // lookups start planned per call (see `merge`).
        txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF; SET LOCAL plan_cache_mode TO force_custom_plan")
            .await?;
    }
    let (counts, found) = merge::merge_page(&txn, &merge::Pass::of_run(run), mapping, page.records, attempt).await?;
    issues::record_issues(&txn, run.id, found).await?;
    let mut active = run.clone().into_active_model();
    active.phase = Set(SyncPhase::Merging);
    active.processed = Set(run.processed + counts.processed());
    active.total = Set(page.total.map(|t| t as i32).or(run.total));
    // An estimate only narrows the measure of progress, so the percentage never goes back.
    let estimate = page.estimated_total.map(|e| i32::try_from(e).unwrap_or(i32::MAX));
    active.expected_total = Set(run.expected_total.into_iter().chain(estimate).min());
    active.created = Set(run.created + counts.created);
    active.updated = Set(run.updated + counts.updated);
    active.unchanged = Set(run.unchanged + counts.unchanged);
    active.deactivated = Set(run.deactivated + counts.deactivated);
    active.skipped = Set(run.skipped + counts.skipped);
    active.checkpoint = Set(Some(serde_json::to_value(checkpoint).expect("checkpoint serialises")));
    let saved = save(&txn, run, active).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A first sync grows the tables faster than PostgreSQL's autovacuum re-reads them; plans made
/// while they were nearly empty would scan them whole. Called at pages 1, 4, 16, 64, ..., so the
/// cost stays logarithmic in the company; lookups are planned per call for their values, and the
/// planner scales row estimates with the table's current size between two refreshes.
async fn refresh_statistics(env: &Environment) -> Result<()> {
    if env.db.get_database_backend() == DbBackend::Postgres {
        // Only the columns the page lookups filter on: the sample is what costs.
        env.db
            .execute_unprepared(
                "ANALYZE directory_user (workspace_id, email_normalized, id), \
                 user_source (connection_id, remote_id, user_id)",
            )
            .await?;
    }
    Ok(())
}

/// Moves the run to a terminal state and releases its lease.
async fn finish(
    env: &Environment,
    run: &mut sync_run::Model,
    status: SyncStatus,
    error: Option<String>,
) -> Result<RunOutcome> {
    let mut active = run.clone().into_active_model();
    active.status = Set(status);
    active.phase = Set(SyncPhase::Done);
    active.error = Set(error);
    active.finished_at = Set(Some(Utc::now()));
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(None);
    let txn = begin_write(&env.db).await?;
    *run = save(&txn, run, active).await?;
    let event = match status {
        SyncStatus::Succeeded => Some(EventType::SyncSucceeded),
        SyncStatus::Failed => Some(EventType::SyncFailed),
        _ => None,
    };
    if let Some(event) = event {
        outbox::emit(&txn, &run.workspace_id, event, None, webhooks::payload::sync_run(run)).await?;
    }
    txn.commit().await?;
    if status == SyncStatus::Succeeded && run.mode == SyncMode::Full {
        connections::clear_resync_required(&env.db, run.connection_id, run.mapping_version).await?;
    }
    // An uploaded file is kept until a run has synced it; after a failed or cancelled one it
    // stays for the admin's retry, until the maintenance sweep.
    if status == SyncStatus::Succeeded {
        uploads::release(&env.db, run.connection_id, run.created_at).await?;
    }
    publish(env, run).await;
    Ok(match status {
        SyncStatus::Succeeded => RunOutcome::Succeeded,
        SyncStatus::Cancelled => RunOutcome::Cancelled,
        _ => RunOutcome::Failed,
    })
}

/// `work` (a wait for the provider), unless a cancel or a stopping process comes first.
async fn unless_stopped<T>(
    work: impl std::future::Future<Output = T>,
    cancelled: &CancellationToken,
    draining: &CancellationToken,
) -> std::result::Result<T, Fetched> {
    tokio::select! {
        done = work => Ok(done),
        () = cancelled.cancelled() => Err(Fetched::Cancelled),
        () = draining.cancelled() => Err(Fetched::Released),
    }
}

/// How often a fetch looks for a cancel request while it waits for the provider.
const CANCEL_POLL: Duration = Duration::from_secs(1);

/// Cancels `cancelled` once the run's cancel is requested.
async fn watch_for_cancel(env: Environment, run_id: Uuid, cancelled: CancellationToken) {
    loop {
        tokio::time::sleep(CANCEL_POLL).await;
        match sync_run::Entity::find_by_id(run_id).one(&env.db).await {
            Ok(Some(run)) if run.cancel_requested => {
                cancelled.cancel();
                return;
            }
            Ok(_) => {}
            Err(err) => tracing::debug!(error = %err, "could not look for a cancel request"),
        }
    }
}

/// The process is stopping: leaves the run RUNNING with its checkpoint and no lease, so the
/// next worker to be handed its job claims it at once.
async fn release_now(env: &Environment, run: &mut sync_run::Model) -> Result<RunOutcome> {
    let mut active = run.clone().into_active_model();
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(None);
    *run = save(&env.db, run, active).await?;
    tracing::info!(processed = run.processed, "stopping: the run is released to another worker");
    Ok(RunOutcome::Released)
}

/// Leaves the run RUNNING without an owner until the retry delay has passed; the maintenance
/// sweep then hands it to a worker, which resumes from the checkpoint.
async fn release_for_retry(env: &Environment, run: &mut sync_run::Model, err: &Error) -> Result<RunOutcome> {
    let delay = env.settings.retry_delay * u32::try_from(run.attempts).unwrap_or(1);
    let mut active = run.clone().into_active_model();
    active.error = Set(Some(format!("attempt {} failed, retrying: {}", run.attempts, err.public_message())));
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(Some(Utc::now() + delay));
    *run = save(&env.db, run, active).await?;
    publish(env, run).await;
    Ok(RunOutcome::RetryLater)
}

async fn publish(env: &Environment, run: &sync_run::Model) {
    env.events.publish(Event::RunProgress(RunSnapshot::from(run))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_given_up_once_quiet_for_the_stall_timeout() {
        let timeout = Duration::from_secs(900);
        assert!(!stalled(Duration::from_secs(899), timeout));
        assert!(stalled(timeout, timeout));
        let liveness = Liveness::default();
        std::thread::sleep(Duration::from_millis(20));
        assert!(liveness.quiet_for() >= Duration::from_millis(20));
        liveness.touch();
        assert!(liveness.quiet_for() < Duration::from_millis(20), "a touch starts the quiet over");
    }
}

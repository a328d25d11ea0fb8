//! The sync pipeline: fetch pages from the provider, map them with the run's pinned mapping,
//! merge each page in one transaction together with its checkpoint, then finalize (managers,
//! leavers) only after a complete fetch.
//!
//! A run is claimed with a lease before any work, so a duplicate delivery of its job is a no-op
//! while the first worker lives, and a crashed worker's run is taken over from its checkpoint
//! once the lease expires. Failed and cancelled runs never reach finalize, so they deactivate
//! nobody.

mod finalize;
mod issues;
mod merge;

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::ExprTrait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::connection;
use entity::sync_run::{self, SyncMode, SyncPhase, SyncStatus};

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::events::{Event, RunSnapshot};
use crate::integrations::{connections, mappings};
use crate::providers::FetchRequest;

pub use merge::PageCounts;

/// How a run's job ended, for the queue.
#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Another worker holds the run, or it had already finished.
    NotClaimed,
    Succeeded,
    Cancelled,
    Failed,
    /// A transient failure; the run stays RUNNING and resumes from its checkpoint next attempt.
    RetryLater,
}

/// Where a resumed attempt continues.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    cursor: Option<String>,
}

/// Progress events are throttled to about ten a second; state changes always go out.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// Executes one attempt of run `run_id`.
#[tracing::instrument(skip(env), fields(run_id = %run_id))]
pub async fn execute_run(env: &Environment, run_id: Uuid) -> Result<RunOutcome> {
    let Some(mut run) = claim(env, run_id).await? else {
        return Ok(RunOutcome::NotClaimed);
    };
    publish(env, &run).await;
    match fetch_and_merge(env, &mut run).await {
        Ok(true) => {
            finish(env, &mut run, SyncStatus::Cancelled, None).await?;
            Ok(RunOutcome::Cancelled)
        }
        Ok(false) => {
            finalize::finalize(env, &mut run).await?;
            finish(env, &mut run, SyncStatus::Succeeded, None).await?;
            Ok(RunOutcome::Succeeded)
        }
        Err(err) if err.is_transient() && run.attempts < env.settings.max_attempts => {
            tracing::warn!(error = %err, attempt = run.attempts, "sync attempt failed; will retry");
            release_for_retry(env, &mut run, &err).await?;
            Ok(RunOutcome::RetryLater)
        }
        Err(err) => {
            tracing::warn!(error = %err, attempt = run.attempts, "sync failed");
            finish(env, &mut run, SyncStatus::Failed, Some(err.to_string())).await?;
            Ok(RunOutcome::Failed)
        }
    }
}

/// Takes the run if it is active and nobody holds a live lease on it.
async fn claim(env: &Environment, run_id: Uuid) -> Result<Option<sync_run::Model>> {
    let now = Utc::now();
    let lease_until = now + env.settings.lease;
    let claimed = sync_run::Entity::update_many()
        .col_expr(sync_run::Column::Status, Expr::value(SyncStatus::Running))
        .col_expr(sync_run::Column::Phase, Expr::value(SyncPhase::Fetching))
        .col_expr(sync_run::Column::Attempts, Expr::col(sync_run::Column::Attempts).add(1))
        .col_expr(sync_run::Column::LeaseOwner, Expr::value(env.settings.worker_id.clone()))
        .col_expr(sync_run::Column::LeaseExpiresAt, Expr::value(lease_until))
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.is_in([SyncStatus::Queued, SyncStatus::Running]))
        .filter(sync_run::Column::LeaseExpiresAt.is_null().or(sync_run::Column::LeaseExpiresAt.lt(now)))
        .exec(&env.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let mut run = sync_run::Entity::find_by_id(run_id).one(&env.db).await?.ok_or(Error::NotFound("sync run"))?;
    if run.started_at.is_none() {
        let mut active = run.clone().into_active_model();
        active.started_at = Set(Some(now));
        run = active.update(&env.db).await?;
    }
    Ok(Some(run))
}

/// Fetches from the checkpoint on and merges page by page. `Ok(true)` when cancelled.
async fn fetch_and_merge(env: &Environment, run: &mut sync_run::Model) -> Result<bool> {
    let connection =
        connection::Entity::find_by_id(run.connection_id).one(&env.db).await?.ok_or(Error::NotFound("connection"))?;
    let mapping = mappings::confirmed_version(&env.db, connection.id, run.mapping_version).await?;
    let connector = connections::open_connector(env, &connection).await?;
    let checkpoint: Checkpoint =
        run.checkpoint.clone().and_then(|c| serde_json::from_value(c).ok()).unwrap_or_default();
    let request = FetchRequest {
        fields: mapping.external_fields(),
        cursor: checkpoint.cursor,
        page_size: env.settings.page_size,
    };
    let mut pages = connector.fetch(request).await?;
    let mut last_publish = Instant::now();
    while let Some(page) = pages.next().await {
        let page = page?;
        if cancel_requested(env, run.id).await? {
            return Ok(true);
        }
        let txn = env.db.begin().await?;
        let counts = merge::merge_page(&txn, run, &mapping, page.records).await?;
        let mut active = run.clone().into_active_model();
        active.phase = Set(SyncPhase::Merging);
        active.processed = Set(run.processed + counts.processed());
        active.total = Set(page.total.map(|t| t as i32).or(run.total));
        active.created = Set(run.created + counts.created);
        active.updated = Set(run.updated + counts.updated);
        active.unchanged = Set(run.unchanged + counts.unchanged);
        active.deactivated = Set(run.deactivated + counts.deactivated);
        active.skipped = Set(run.skipped + counts.skipped);
        let checkpoint = Checkpoint { cursor: page.next_cursor };
        active.checkpoint = Set(Some(serde_json::to_value(&checkpoint).expect("checkpoint serialises")));
        active.lease_expires_at = Set(Some(Utc::now() + env.settings.lease));
        *run = active.update(&txn).await?;
        txn.commit().await?;
        if last_publish.elapsed() >= PUBLISH_INTERVAL {
            publish(env, run).await;
            last_publish = Instant::now();
        }
    }
    Ok(false)
}

async fn cancel_requested(env: &Environment, run_id: Uuid) -> Result<bool> {
    let run = sync_run::Entity::find_by_id(run_id).one(&env.db).await?;
    Ok(run.is_some_and(|r| r.cancel_requested))
}

/// Moves the run to a terminal state and releases its lease.
async fn finish(env: &Environment, run: &mut sync_run::Model, status: SyncStatus, error: Option<String>) -> Result<()> {
    let mut active = run.clone().into_active_model();
    active.status = Set(status);
    active.phase = Set(SyncPhase::Done);
    active.error = Set(error);
    active.finished_at = Set(Some(Utc::now()));
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(None);
    *run = active.update(&env.db).await?;
    if status == SyncStatus::Succeeded && run.mode == SyncMode::Full {
        connections::clear_resync_required(&env.db, run.connection_id, run.mapping_version).await?;
    }
    publish(env, run).await;
    Ok(())
}

async fn release_for_retry(env: &Environment, run: &mut sync_run::Model, err: &Error) -> Result<()> {
    let mut active = run.clone().into_active_model();
    active.error = Set(Some(format!("attempt {} failed, retrying: {err}", run.attempts)));
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(None);
    *run = active.update(&env.db).await?;
    publish(env, run).await;
    Ok(())
}

async fn publish(env: &Environment, run: &sync_run::Model) {
    env.events.publish(Event::RunProgress(RunSnapshot::from(run))).await;
}

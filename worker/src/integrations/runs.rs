//! Starting, cancelling and reading sync runs.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use entity::connection::{self, ConnectionStatus};
use entity::sync_issue;
use entity::sync_run::{self, SyncMode, SyncPhase, SyncStatus};

use super::mappings;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::events::{Event, RunSnapshot};
use crate::jobs::{SyncJob, SyncQueue};
use crate::providers::catalogue;
use crate::uploads;

/// How often an INCREMENTAL request still reads everything: records a change feed will not list
/// again (skipped for a bad email, or missed by a feed) are read at least this often.
const FULL_SYNC_AT_LEAST_EVERY: chrono::Duration = chrono::Duration::days(7);

/// How far before the last successful sync's start a change feed is read from, so that a
/// provider clock behind ours loses nothing; reading a change twice is harmless.
const CHANGE_FEED_OVERLAP: chrono::Duration = chrono::Duration::minutes(15);

/// Queues a sync of `connection` with its confirmed mapping. An INCREMENTAL request runs as
/// FULL unless a FULL sync with this mapping succeeded within [`FULL_SYNC_AT_LEAST_EVERY`] and no
/// re-sync is pending. (A provider without a change feed also reads everything; the run then
/// says FULL once it starts.)
/// What the connection's last successful run read: the measure of progress before a new run
/// knows its total.
async fn expected_total(db: &DatabaseConnection, connection_id: Uuid) -> Result<Option<i32>> {
    let last = sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::Status.eq(SyncStatus::Succeeded))
        .order_by_desc(sync_run::Column::FinishedAt)
        .one(db)
        .await?;
    Ok(last.map(|run| run.total.unwrap_or(run.processed)))
}

pub async fn start_sync(
    env: &Environment,
    queue: &dyn SyncQueue,
    connection: &connection::Model,
    requested: SyncMode,
    triggered_by: String,
) -> Result<sync_run::Model> {
    if connection.status != ConnectionStatus::Connected {
        return Err(Error::NotConnected(sea_orm::ActiveEnum::to_value(&connection.status)));
    }
    let mapping = mappings::confirmed(&env.db, connection.id).await?.ok_or(Error::MappingNotConfirmed)?;
    if let Some(active) = active_run(&env.db, connection.id).await? {
        return Err(Error::SyncAlreadyRunning { run_id: active.id });
    }
    if catalogue::is_uploaded(&connection.provider_id) && uploads::readable(&env.db, connection.id).await?.is_none() {
        return Err(Error::Validation {
            field: "connectionId",
            message: "upload the spreadsheet again: each file is kept only until a sync succeeds with it".into(),
        });
    }
    let mode = match requested {
        SyncMode::Incremental if !connection.resync_required => {
            let succeeded = sync_run::Entity::find()
                .filter(sync_run::Column::ConnectionId.eq(connection.id))
                .filter(sync_run::Column::Status.eq(SyncStatus::Succeeded))
                .filter(sync_run::Column::Mode.eq(SyncMode::Full))
                .filter(sync_run::Column::MappingVersion.eq(mapping.version))
                .filter(sync_run::Column::FinishedAt.gt(Utc::now() - FULL_SYNC_AT_LEAST_EVERY))
                .one(&env.db)
                .await?;
            if succeeded.is_some() {
                SyncMode::Incremental
            } else {
                SyncMode::Full
            }
        }
        _ => SyncMode::Full,
    };
    let run = sync_run::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(connection.workspace_id.clone()),
        connection_id: Set(connection.id),
        mode: Set(mode),
        status: Set(SyncStatus::Queued),
        phase: Set(SyncPhase::Queued),
        processed: Set(0),
        total: Set(None),
        expected_total: Set(expected_total(&env.db, connection.id).await?),
        created: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        deactivated: Set(0),
        held_deactivations: Set(0),
        skipped: Set(0),
        checkpoint: Set(None),
        error: Set(None),
        triggered_by: Set(triggered_by),
        mapping_version: Set(mapping.version),
        attempts: Set(0),
        cancel_requested: Set(false),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        created_at: Set(Utc::now()),
        started_at: Set(None),
        finished_at: Set(None),
    };
    let run = match run.insert(&env.db).await {
        Ok(run) => run,
        // Lost a race with another start: the partial unique index said no.
        Err(err) => match active_run(&env.db, connection.id).await? {
            Some(active) => return Err(Error::SyncAlreadyRunning { run_id: active.id }),
            None => return Err(err.into()),
        },
    };
    if let Err(err) = queue.enqueue(SyncJob { run_id: run.id }).await {
        // Nothing was started: no run is left behind, FAILED or waiting, for an admin to puzzle
        // over; they are told to try again.
        tracing::warn!(error = %err, connection_id = %connection.id, "could not queue a sync");
        sync_run::Entity::delete_by_id(run.id).exec(&env.db).await?;
        return Err(Error::QueueUnavailable);
    }
    tracing::info!(run_id = %run.id, connection_id = %connection.id, "sync queued");
    env.events.publish(Event::RunProgress(RunSnapshot::from(&run))).await;
    Ok(run)
}

/// Where an INCREMENTAL run reads the change feed from: shortly before the connection's latest
/// successful sync started.
pub async fn changes_since(db: &DatabaseConnection, run: &sync_run::Model) -> Result<Option<chrono::DateTime<Utc>>> {
    let latest = sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(run.connection_id))
        .filter(sync_run::Column::Status.eq(SyncStatus::Succeeded))
        .filter(sync_run::Column::Id.ne(run.id))
        .order_by_desc(sync_run::Column::StartedAt)
        .one(db)
        .await?;
    Ok(latest.and_then(|r| r.started_at).map(|started| started - CHANGE_FEED_OVERLAP))
}

/// The QUEUED or RUNNING run of a connection.
pub async fn active_run<C: ConnectionTrait>(db: &C, connection_id: Uuid) -> Result<Option<sync_run::Model>> {
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::Status.is_in([SyncStatus::Queued, SyncStatus::Running]))
        .one(db)
        .await?)
}

/// A queued run is cancelled at once; a running one stops at the next page boundary.
pub async fn cancel_sync(env: &Environment, run: sync_run::Model) -> Result<sync_run::Model> {
    if run.status.is_terminal() {
        return Ok(run);
    }
    // Only a run still QUEUED ends here; one a worker claimed meanwhile stops at its next page.
    let cancelled_queued = sync_run::Entity::update_many()
        .col_expr(sync_run::Column::Status, Expr::value(SyncStatus::Cancelled))
        .col_expr(sync_run::Column::Phase, Expr::value(SyncPhase::Done))
        .col_expr(sync_run::Column::CancelRequested, Expr::value(true))
        .col_expr(sync_run::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(sync_run::Column::Id.eq(run.id))
        .filter(sync_run::Column::Status.eq(SyncStatus::Queued))
        .exec(&env.db)
        .await?;
    if cancelled_queued.rows_affected == 0 {
        sync_run::Entity::update_many()
            .col_expr(sync_run::Column::CancelRequested, Expr::value(true))
            .filter(sync_run::Column::Id.eq(run.id))
            .exec(&env.db)
            .await?;
    }
    let run = sync_run::Entity::find_by_id(run.id).one(&env.db).await?.ok_or(Error::NotFound("sync run"))?;
    env.events.publish(Event::RunProgress(RunSnapshot::from(&run))).await;
    Ok(run)
}

/// Asks the active run of a connection, if any, to stop.
pub async fn request_cancel_active(env: &Environment, connection_id: Uuid) -> Result<()> {
    if let Some(run) = active_run(&env.db, connection_id).await? {
        cancel_sync(env, run).await?;
    }
    Ok(())
}

/// A run of the workspace, or `NotFound`.
pub async fn find(db: &DatabaseConnection, workspace_id: &str, id: Uuid) -> Result<sync_run::Model> {
    sync_run::Entity::find_by_id(id)
        .filter(sync_run::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("sync run"))
}

/// Newest first.
pub async fn list(db: &DatabaseConnection, connection_id: Uuid, limit: u64) -> Result<Vec<sync_run::Model>> {
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .order_by_desc(sync_run::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn issues(db: &DatabaseConnection, run_id: Uuid, limit: u64) -> Result<Vec<sync_issue::Model>> {
    Ok(sync_issue::Entity::find()
        .filter(sync_issue::Column::SyncRunId.eq(run_id))
        .order_by_asc(sync_issue::Column::CreatedAt)
        .order_by_asc(sync_issue::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Runs left active whose worker is gone (no lease, or an expired one): after a crash, or a
/// queue that lost its jobs. The caller re-enqueues them; a duplicate delivery is harmless.
pub async fn orphaned(db: &DatabaseConnection, queued_before: chrono::DateTime<Utc>) -> Result<Vec<sync_run::Model>> {
    let unleased = Condition::any()
        .add(sync_run::Column::LeaseExpiresAt.is_null())
        .add(sync_run::Column::LeaseExpiresAt.lt(Utc::now()));
    let abandoned = Condition::all().add(sync_run::Column::Status.eq(SyncStatus::Running)).add(unleased);
    let stale = Condition::all()
        .add(sync_run::Column::Status.eq(SyncStatus::Queued))
        .add(sync_run::Column::CreatedAt.lt(queued_before));
    Ok(sync_run::Entity::find().filter(Condition::any().add(abandoned).add(stale)).all(db).await?)
}

//! Scheduled syncs: each connection may sync every `interval` minutes.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use entity::connection::{self, ConnectionStatus};
use entity::sync_run::SyncMode;

use super::runs;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::jobs::SyncQueue;
use crate::providers::catalogue;

/// Bounds on the interval: no more often than every 15 minutes, at least every 30 days.
pub const INTERVAL_RANGE: std::ops::RangeInclusive<i32> = 15..=43_200;

pub async fn set_schedule(
    env: &Environment,
    connection: connection::Model,
    enabled: bool,
    interval_minutes: Option<i32>,
) -> Result<connection::Model> {
    if enabled && catalogue::is_uploaded(&connection.provider_id) {
        return Err(Error::Validation {
            field: "enabled",
            message: "an uploaded spreadsheet has no schedule: upload a newer file, then start its sync".into(),
        });
    }
    let interval = interval_minutes.unwrap_or(connection.schedule_interval_minutes);
    if !INTERVAL_RANGE.contains(&interval) {
        return Err(Error::Validation {
            field: "intervalMinutes",
            message: format!("intervalMinutes must be between {} and {}", INTERVAL_RANGE.start(), INTERVAL_RANGE.end()),
        });
    }
    let mut active = connection.into_active_model();
    active.schedule_enabled = Set(enabled);
    active.schedule_interval_minutes = Set(interval);
    active.next_run_at = Set(enabled.then(|| Utc::now() + Duration::minutes(interval.into())));
    active.updated_at = Set(Utc::now());
    Ok(active.update(&env.db).await?)
}

/// Starts every due scheduled sync and moves its next run time on. A connection whose sync is
/// already running, or whose mapping is not confirmed, simply waits for its next turn.
pub async fn start_due(env: &Environment, queue: &dyn SyncQueue) -> Result<usize> {
    let now = Utc::now();
    let due = connection::Entity::find()
        .filter(connection::Column::ScheduleEnabled.eq(true))
        .filter(connection::Column::Status.eq(ConnectionStatus::Connected))
        .filter(connection::Column::NextRunAt.lte(now))
        .all(&env.db)
        .await?;
    let mut started = 0;
    for connection in due {
        let next = now + Duration::minutes(connection.schedule_interval_minutes.into());
        let mut active = connection.clone().into_active_model();
        active.next_run_at = Set(Some(next));
        active.update(&env.db).await?;
        match runs::start_sync(env, queue, &connection, SyncMode::Incremental, "schedule".into()).await {
            Ok(_) => started += 1,
            Err(err @ (Error::SyncAlreadyRunning { .. } | Error::MappingNotConfirmed)) => {
                tracing::info!(connection_id = %connection.id, reason = %err, "scheduled sync skipped");
            }
            Err(err) => tracing::warn!(connection_id = %connection.id, error = %err, "scheduled sync failed to start"),
        }
    }
    Ok(started)
}

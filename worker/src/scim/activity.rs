//! What a SCIM connection's card shows in place of runs: its requests per day, how many changed
//! something or failed, and the last request and error.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use entity::scim_activity::{self, Column, Entity, Model};

/// How one request ended, for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Read,
    Changed,
    Failed,
}

/// Counts one request of `connection_id` at `at`; `error` is what the provider was told.
pub async fn count<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
    at: DateTime<Utc>,
    outcome: Outcome,
    error: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let (changes, errors) = (i32::from(outcome == Outcome::Changed), i32::from(outcome == Outcome::Failed));
    let error: Option<String> = error.map(|e| crate::text::excerpt(e, 300));
    let row = scim_activity::ActiveModel {
        connection_id: Set(connection_id),
        day: Set(at.format("%Y-%m-%d").to_string()),
        requests: Set(1),
        changes: Set(changes),
        errors: Set(errors),
        last_request_at: Set(at),
        last_error: Set(error.clone()),
        last_error_at: Set(error.as_ref().map(|_| at)),
    };
    let mut upsert = OnConflict::columns([Column::ConnectionId, Column::Day]);
    upsert
        .value(Column::Requests, Expr::col((Entity, Column::Requests)).add(1))
        .value(Column::Changes, Expr::col((Entity, Column::Changes)).add(changes))
        .value(Column::Errors, Expr::col((Entity, Column::Errors)).add(errors))
        .value(Column::LastRequestAt, Expr::value(at));
    if error.is_some() {
        upsert.value(Column::LastError, Expr::value(error)).value(Column::LastErrorAt, Expr::value(at));
    }
    Entity::insert(row).on_conflict(upsert.to_owned()).exec_without_returning(db).await?;
    Ok(())
}

/// The connection's last `days` days with requests, newest first.
pub async fn recent<C: ConnectionTrait>(db: &C, connection_id: Uuid, days: u64) -> Result<Vec<Model>, sea_orm::DbErr> {
    Entity::find().filter(Column::ConnectionId.eq(connection_id)).order_by_desc(Column::Day).limit(days).all(db).await
}

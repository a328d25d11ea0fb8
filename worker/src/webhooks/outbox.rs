//! The webhook outbox: events and their deliveries, written in the transaction of what they
//! report; people's changes published from their marked history entries; and the steps a worker
//! takes with a delivery (take it, then record what the endpoint said).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, ExprTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::{json, Value};
use uuid::Uuid;

use entity::webhook_delivery::{self, DeliveryStatus};
use entity::{directory_user, user_change, webhook_endpoint, webhook_event};

use super::{endpoints, payload, EventType};
use crate::environment::begin_write;
use crate::error::Result;
use crate::history::CREATED;

/// Rows per insert, within both databases' limits on statement parameters.
const ROWS_PER_INSERT: usize = 400;

/// History entries published per transaction.
const PUBLISH_BATCH: u64 = 1000;

/// The event body: a stable `type`, `id`, `timestamp` and `data`.
fn body(id: Uuid, event_type: EventType, at: DateTime<Utc>, data: Value) -> String {
    json!({
        "id": id,
        "type": event_type.name(),
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// An event on its way out: the rows [`write`] inserts.
struct Pending {
    event: webhook_event::ActiveModel,
    deliveries: Vec<webhook_delivery::ActiveModel>,
}

fn pending(
    workspace_id: &str,
    event_type: EventType,
    ordering_key: Option<Uuid>,
    data: Value,
    to: &[&webhook_endpoint::Model],
) -> Pending {
    let (id, now) = (Uuid::now_v7(), Utc::now());
    let deliveries = to
        .iter()
        .map(|endpoint| webhook_delivery::ActiveModel {
            id: Set(Uuid::now_v7()),
            endpoint_id: Set(endpoint.id),
            event_id: Set(id),
            event_type: Set(event_type.name().to_string()),
            ordering_key: Set(ordering_key.map(|k| k.to_string())),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            response_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
        })
        .collect();
    let event = webhook_event::ActiveModel {
        id: Set(id),
        workspace_id: Set(workspace_id.to_string()),
        event_type: Set(event_type.name().to_string()),
        payload: Set(body(id, event_type, now, data)),
        created_at: Set(now),
    };
    Pending { event, deliveries }
}

async fn write<C: ConnectionTrait>(db: &C, events: Vec<Pending>) -> Result<(), sea_orm::DbErr> {
    let (events, deliveries): (Vec<_>, Vec<_>) = events.into_iter().map(|p| (p.event, p.deliveries)).unzip();
    for chunk in events.chunks(ROWS_PER_INSERT) {
        webhook_event::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    let deliveries: Vec<_> = deliveries.into_iter().flatten().collect();
    for chunk in deliveries.chunks(ROWS_PER_INSERT) {
        webhook_delivery::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

fn subscribers(endpoints: &[webhook_endpoint::Model], event_type: EventType) -> Vec<&webhook_endpoint::Model> {
    endpoints.iter().filter(|e| endpoints::subscribed_types(e).any(|t| t == event_type)).collect()
}

/// Writes event `event_type` of workspace `workspace_id`, and a delivery for each endpoint
/// subscribed to it, in the caller's transaction; nothing when none is. Events with the same
/// `ordering_key` reach an endpoint in the order they were written.
pub async fn emit<C: ConnectionTrait>(
    db: &C,
    workspace_id: &str,
    event_type: EventType,
    ordering_key: Option<Uuid>,
    data: Value,
) -> Result<(), sea_orm::DbErr> {
    let endpoints = endpoints::list(db, workspace_id).await?;
    let to = subscribers(&endpoints, event_type);
    if to.is_empty() {
        return Ok(());
    }
    write(db, vec![pending(workspace_id, event_type, ordering_key, data, &to)]).await
}

/// Writes an event for `endpoint` alone, subscribed or not (a test); answers its delivery.
pub async fn emit_to<C: ConnectionTrait>(
    db: &C,
    endpoint: &webhook_endpoint::Model,
    event_type: EventType,
    data: Value,
) -> Result<webhook_delivery::Model> {
    let event = pending(&endpoint.workspace_id, event_type, None, data, &[endpoint]);
    let delivery_id = event.deliveries[0].id.clone().unwrap();
    write(db, vec![event]).await?;
    Ok(webhook_delivery::Entity::find_by_id(delivery_id).one(db).await?.ok_or(crate::Error::NotFound("delivery"))?)
}

/// One change to a person, as history entries record it: the entries written together for
/// them, by one author, at one moment.
#[derive(Debug, PartialEq, Eq)]
pub struct UserEvent {
    pub workspace_id: String,
    pub user_id: Uuid,
    pub event_type: EventType,
    pub changes: Vec<ChangedField>,
    pub by: String,
}

/// One field of a change, as its history entry has it.
#[derive(Debug, PartialEq, Eq)]
pub struct ChangedField {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Which change a history entry belongs to: the entries one change writes share their person,
/// moment and author.
fn change_of(entry: &user_change::Model) -> (Uuid, DateTime<Utc>, &str) {
    (entry.user_id, entry.at, entry.changed_by.as_str())
}

/// The events of `entries` (in the order written), in the order of each change's first entry:
/// a creation is `user.created`; a change of employment status `user.deactivated` or
/// `user.reactivated` (with any fields changed with it); any other `user.updated`.
pub fn user_events(entries: &[user_change::Model]) -> Vec<UserEvent> {
    let mut events: Vec<UserEvent> = Vec::new();
    let mut index: HashMap<(Uuid, DateTime<Utc>, &str), usize> = HashMap::new();
    for entry in entries {
        let at = *index.entry(change_of(entry)).or_insert_with(|| {
            events.push(UserEvent {
                workspace_id: entry.workspace_id.clone(),
                user_id: entry.user_id,
                event_type: EventType::UserUpdated,
                changes: Vec::new(),
                by: entry.changed_by.clone(),
            });
            events.len() - 1
        });
        let event = &mut events[at];
        if entry.field == CREATED {
            event.event_type = EventType::UserCreated;
            continue;
        }
        if entry.field == "employmentStatus" && event.event_type != EventType::UserCreated {
            event.event_type = match entry.new_value.as_deref() {
                Some("INACTIVE") => EventType::UserDeactivated,
                _ => EventType::UserReactivated,
            };
        }
        event.changes.push(ChangedField {
            field: entry.field.clone(),
            old: entry.old_value.clone(),
            new: entry.new_value.clone(),
        });
    }
    events
}

/// Publishes up to a batch of marked history entries as events, oldest first, and unmarks
/// them, in one transaction; answers how many entries it took. Workers take turns (one
/// publishes at a time), so one person's events are written in the order of their changes.
pub async fn publish_history(db: &DatabaseConnection) -> Result<usize> {
    // Spelt as the partial index's condition, so both databases use it (SQLite does not see
    // that `webhook_pending = ?` implies it).
    let marked = || user_change::Entity::find().filter(Expr::cust("user_change.webhook_pending"));
    // A look first, without the write lock: on SQLite that lock is the sync's too, and there is
    // nothing to publish most of the time.
    if marked().select_only().column(user_change::Column::Id).into_tuple::<Uuid>().one(db).await?.is_none() {
        return Ok(0);
    }
    let txn = begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // An arbitrary constant, this lock's name.
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7436411)").await?;
    }
    let mut entries = marked().order_by_asc(user_change::Column::Id).limit(PUBLISH_BATCH).all(&txn).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    // A change cut by the batch's end waits for the next batch, so it becomes one event.
    if entries.len() as u64 == PUBLISH_BATCH {
        let last = entries.last().expect("a full batch").clone();
        let kept: Vec<_> = entries.iter().filter(|e| change_of(e) != change_of(&last)).cloned().collect();
        if !kept.is_empty() {
            entries = kept;
        }
    }
    let events = user_events(&entries);
    let ids: Vec<Uuid> = events.iter().map(|e| e.user_id).collect();
    let people: HashMap<Uuid, directory_user::Model> = directory_user::Entity::find()
        .filter(directory_user::Column::Id.is_in(ids))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut endpoints: HashMap<String, Vec<webhook_endpoint::Model>> = HashMap::new();
    let mut written = Vec::new();
    for event in &events {
        if !endpoints.contains_key(&event.workspace_id) {
            endpoints.insert(event.workspace_id.clone(), endpoints::list(&txn, &event.workspace_id).await?);
        }
        let to = subscribers(&endpoints[&event.workspace_id], event.event_type);
        if to.is_empty() {
            continue;
        }
        let data = payload::user_change(people.get(&event.user_id), &event.changes, &event.by);
        written.push(pending(&event.workspace_id, event.event_type, Some(event.user_id), data, &to));
    }
    write(&txn, written).await?;
    let taken: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    for chunk in taken.chunks(ROWS_PER_INSERT) {
        user_change::Entity::update_many()
            .col_expr(user_change::Column::WebhookPending, Expr::value(false))
            .filter(user_change::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(entries.len())
}

/// Deliveries due for an attempt, oldest first, leaving out any whose endpoint still has an
/// earlier delivery of the same key pending (the person's events go out in order).
pub async fn due(db: &DatabaseConnection, now: DateTime<Utc>, limit: u64) -> Result<Vec<webhook_delivery::Model>> {
    let sql = "SELECT d.* FROM webhook_delivery d \
         WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM webhook_delivery e WHERE e.endpoint_id = d.endpoint_id \
             AND e.ordering_key = d.ordering_key AND e.status = 'PENDING' AND e.id < d.id) \
         ORDER BY d.next_attempt_at LIMIT $2";
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [sea_orm::Value::from(now), sea_orm::Value::from(limit as i64)],
    );
    Ok(webhook_delivery::Model::find_by_statement(statement).all(db).await?)
}

/// Takes those of `due` (found due at `now`) that no other worker took first, for one attempt
/// each, in one statement: their next attempt moves to `claim_until`, so a worker that dies
/// mid-request leaves them due again then. Answers them as taken, in `due`'s order.
pub async fn take(
    db: &DatabaseConnection,
    due: Vec<webhook_delivery::Model>,
    now: DateTime<Utc>,
    claim_until: DateTime<Utc>,
) -> Result<Vec<webhook_delivery::Model>> {
    let order: HashMap<Uuid, usize> = due.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
    let mut taken = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::col(webhook_delivery::Column::Attempts).add(1))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(claim_until))
        .filter(webhook_delivery::Column::Id.is_in(due.iter().map(|d| d.id)))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        // Another worker's claim moved it past `now`.
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .exec_with_returning(db)
        .await?;
    taken.sort_by_key(|d| order.get(&d.id).copied());
    Ok(taken)
}

/// What became of one attempt.
#[derive(Debug)]
pub enum Outcome {
    Succeeded {
        status: i32,
    },
    /// Try again at this moment.
    Retry {
        status: Option<i32>,
        error: String,
        at: DateTime<Utc>,
    },
    Failed {
        status: Option<i32>,
        error: String,
    },
}

/// Records the outcomes of attempts at `taken` deliveries (each as its attempt found it, in the
/// order they ended), with their endpoints' failure counts, in one transaction; a delivery
/// whose claim lapsed and was taken by another worker since keeps that worker's outcome.
pub async fn record(
    db: &DatabaseConnection,
    outcomes: Vec<(webhook_delivery::Model, Outcome)>,
    failing_after: i32,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let mut tallies: HashMap<Uuid, endpoints::AttemptTally> = HashMap::new();
    for (taken, outcome) in outcomes {
        let update = webhook_delivery::Entity::update_many()
            .filter(webhook_delivery::Column::Id.eq(taken.id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::Attempts.eq(taken.attempts));
        let (update, succeeded) = match outcome {
            Outcome::Succeeded { status } => (
                update
                    .col_expr(webhook_delivery::Column::Status, Expr::value(DeliveryStatus::Succeeded))
                    .col_expr(webhook_delivery::Column::ResponseStatus, Expr::value(status))
                    .col_expr(webhook_delivery::Column::LastError, Expr::value(Option::<String>::None))
                    .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now)),
                true,
            ),
            Outcome::Retry { status, error, at } => (
                update
                    .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                    .col_expr(webhook_delivery::Column::ResponseStatus, Expr::value(status))
                    .col_expr(webhook_delivery::Column::LastError, Expr::value(error)),
                false,
            ),
            Outcome::Failed { status, error } => (
                update
                    .col_expr(webhook_delivery::Column::Status, Expr::value(DeliveryStatus::Failed))
                    .col_expr(webhook_delivery::Column::ResponseStatus, Expr::value(status))
                    .col_expr(webhook_delivery::Column::LastError, Expr::value(error)),
                false,
            ),
        };
        if update.exec(&txn).await?.rows_affected == 1 {
            tallies.entry(taken.endpoint_id).or_default().add(succeeded);
        } else {
            tracing::warn!(delivery = %taken.id, "another worker took this delivery over; its outcome stands");
        }
    }
    for (endpoint_id, tally) in tallies {
        endpoints::record_attempts(&txn, endpoint_id, tally, failing_after).await?;
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: u128, at: i64, field: &str, old: Option<&str>, new: Option<&str>) -> user_change::Model {
        user_change::Model {
            id: Uuid::now_v7(),
            workspace_id: "w".into(),
            user_id: Uuid::from_u128(user),
            sync_run_id: None,
            at: DateTime::from_timestamp(at, 0).unwrap(),
            field: field.into(),
            old_value: old.map(str::to_string),
            new_value: new.map(str::to_string),
            changed_by: "sync:r".into(),
            webhook_pending: true,
        }
    }

    #[test]
    fn each_change_is_one_event_named_by_what_it_did() {
        let entries = [
            entry(1, 10, CREATED, None, Some("ada@example.com")),
            entry(2, 10, "jobTitle", Some("Engineer"), Some("CTO")),
            entry(3, 10, "employmentStatus", Some("ACTIVE"), Some("INACTIVE")),
            entry(2, 10, "department", None, Some("R&D")),
            entry(4, 10, "employmentStatus", Some("INACTIVE"), Some("ACTIVE")),
            entry(4, 10, "jobTitle", None, Some("Chef")),
            entry(2, 20, "managerId", None, Some("m")),
        ];
        let events = user_events(&entries);
        let summary: Vec<(u128, &str, Vec<&str>)> = events
            .iter()
            .map(|e| (e.user_id.as_u128(), e.event_type.name(), e.changes.iter().map(|c| c.field.as_str()).collect()))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "user.created", vec![]),
                (2, "user.updated", vec!["jobTitle", "department"]),
                (3, "user.deactivated", vec!["employmentStatus"]),
                (4, "user.reactivated", vec!["employmentStatus", "jobTitle"]),
                (2, "user.updated", vec!["managerId"]),
            ]
        );
        assert_eq!(events[1].changes[0].old.as_deref(), Some("Engineer"));
        assert!(user_events(&[]).is_empty());
    }
}

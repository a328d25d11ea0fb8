//! People hired before their first day (PRE_START) become ACTIVE when their start date comes,
//! by the clock alone: no provider is asked. Each is recorded in their history as the
//! schedule's change, in the same statement's transaction, and announced like any change.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection, FromQueryResult, Statement};

use entity::directory_user::EmploymentStatus;

use crate::environment::begin_write;
use crate::error::Result;
use crate::history::{self, Author, FieldChange};

#[derive(FromQueryResult)]
struct Starter {
    id: uuid::Uuid,
    workspace_id: String,
}

/// Makes everyone pre-start whose start date is `today` or earlier active; answers how many.
/// Safe in several processes at once: each row changes once, and only its changer records it.
pub async fn activate_starters(db: &DatabaseConnection, today: NaiveDate) -> Result<u64> {
    let (pre_start, active) = (EmploymentStatus::PreStart.to_value(), EmploymentStatus::Active.to_value());
    let txn = begin_write(db).await?;
    let at = Utc::now();
    // Start dates are ISO dates, which order as text.
    let sql = "UPDATE directory_user SET employment_status = $1, updated_at = $2 \
               WHERE employment_status = $3 AND start_date <= $4 RETURNING id, workspace_id";
    let values = [active.clone().into(), at.into(), pre_start.clone().into(), today.to_string().into()];
    let started = Starter::find_by_statement(Statement::from_sql_and_values(txn.get_database_backend(), sql, values))
        .all(&txn)
        .await?;
    let author = Author::schedule();
    let mut by_workspace: std::collections::BTreeMap<&str, Vec<uuid::Uuid>> = Default::default();
    for starter in &started {
        by_workspace.entry(&starter.workspace_id).or_default().push(starter.id);
    }
    for (workspace_id, ids) in by_workspace {
        let change =
            || FieldChange { field: "employmentStatus", old: Some(pre_start.clone()), new: Some(active.clone()) };
        let rows = ids.into_iter().flat_map(|id| history::rows(workspace_id, id, &author, at, vec![change()]));
        history::record(&txn, rows.collect()).await?;
    }
    txn.commit().await?;
    if !started.is_empty() {
        tracing::info!(people = started.len(), "start dates came: pre-start people are active");
    }
    Ok(started.len() as u64)
}

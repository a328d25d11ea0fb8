//! The end of a complete fetch: link managers by remote id and deactivate leavers. Only ever
//! called after every page was merged, so a failed or cancelled run deactivates nobody.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter,
    QueryOrder, Set, Statement, Value,
};

use entity::connection;
use entity::directory_user::EmploymentStatus;
use entity::sync_run::{self, SyncPhase, SyncStatus};

use super::guard::{self, Deactivations};
use super::issues::{record_issues, Issue};
use super::merge::Pass;
use super::precedence;
use super::Leavers;
use crate::environment::{begin_write, Environment};
use crate::error::{Error, Result};
use crate::history;
use crate::integrations::mappings;

pub async fn finalize(env: &Environment, run: &mut sync_run::Model, leavers: &Leavers) -> Result<()> {
    let mut active = run.clone().into_active_model();
    active.phase = Set(SyncPhase::Finalizing);
    *run = super::save(&env.db, run, active).await?;
    super::publish(env, run).await;

    let mapping = mappings::confirmed_version(&env.db, run.connection_id, run.mapping_version).await?;
    let txn = begin_write(&env.db).await?;
    // Without a mapped manager, the manager is an admin's to set by hand.
    if mapping.manages("managerId") {
        link_managers(&txn, &Pass::of_run(run)).await?;
    }
    let mut issues = unknown_managers(&txn, run).await?;
    crate::joins::report_possible_duplicates(&txn, run).await?;
    let keeping = keeping(env, run).await?;
    let leaving = leavers_apply(&txn, run, leavers, &keeping, Apply::Count).await?;
    let active_people = active_people(&txn, run.connection_id).await?;
    let previous_held = previous_pass_held(&txn, run).await?;
    let percent = env.settings.deactivation_guard_percent;
    let mut active = run.clone().into_active_model();
    match guard::judge(active_people, leaving, percent, previous_held) {
        Deactivations::Apply => {
            let author = history::Author::sync(run.id);
            let deactivated = leavers_apply(&txn, run, leavers, &keeping, Apply::Deactivate(&author)).await?;
            active.deactivated = Set(run.deactivated + deactivated as i32);
        }
        Deactivations::Hold => {
            tracing::warn!(leaving, active_people, "the deactivation guard held this pass's deactivations");
            issues.push(Issue {
                remote_id: None,
                kind: "DEACTIVATIONS_HELD",
                message: format!(
                    "this pass would deactivate {leaving} of the connection's {active_people} active people, more \
                     than the {percent}% a sync may deactivate unasked (a provider answering with too few people \
                     looks the same); nobody was deactivated. Confirm with confirmDeactivations, or the next \
                     complete sync deactivates them if it agrees"
                ),
            });
            active.held_deactivations = Set(leaving as i32);
        }
    }
    record_issues(&txn, run.id, issues).await?;
    *run = super::save(&txn, run, active).await?;
    txn.commit().await?;
    Ok(())
}

/// What to do with a pass's leavers.
#[derive(Clone, Copy)]
enum Apply<'a> {
    /// Count the active people it would deactivate.
    Count,
    /// Deactivate them, recording it as `author`'s.
    Deactivate(&'a history::Author),
}

/// The other connections of the workspace whose live records keep `run`'s leavers active (see
/// [`precedence::keeping_active`]).
async fn keeping(env: &Environment, run: &sync_run::Model) -> Result<Vec<uuid::Uuid>> {
    let connection =
        connection::Entity::find_by_id(run.connection_id).one(&env.db).await?.ok_or(Error::NotFound("connection"))?;
    precedence::keeping_active(&env.db, &connection).await
}

/// Counts or deactivates `leavers`, but for those a `keeping` connection still lists; answers
/// how many.
async fn leavers_apply<C: ConnectionTrait>(
    db: &C,
    run: &sync_run::Model,
    leavers: &Leavers,
    keeping: &[uuid::Uuid],
    apply: Apply<'_>,
) -> Result<u64> {
    match leavers {
        Leavers::Unseen => deactivate_leavers(db, run, Left::Unseen, keeping, apply).await,
        // In chunks, to stay within the databases' limits on statement parameters.
        Leavers::Removed(ids) => {
            let mut total = 0;
            for chunk in ids.chunks(1000) {
                total += deactivate_leavers(db, run, Left::Removed(chunk), keeping, apply).await?;
            }
            Ok(total)
        }
    }
}

#[derive(FromQueryResult)]
struct Count {
    count: i64,
}

/// The `count` a `SELECT COUNT(*) AS count …` answers.
async fn count<C: ConnectionTrait>(db: &C, sql: &str, values: impl IntoIterator<Item = Value>) -> Result<u64> {
    let row = Count::find_by_statement(Statement::from_sql_and_values(backend(db), sql, values)).one(db).await?;
    Ok(row.map_or(0, |r| r.count.max(0) as u64))
}

/// Active people the connection brought into the directory.
pub(super) async fn active_people<C: ConnectionTrait>(db: &C, connection_id: uuid::Uuid) -> Result<u64> {
    let sql = r#"
        SELECT COUNT(*) AS count FROM directory_user
        WHERE employment_status IN ('ACTIVE', 'PRE_START')
          AND id IN (SELECT user_id FROM user_source WHERE connection_id = $1)"#;
    count(db, sql, [connection_id.into()]).await
}

/// Whether the connection's last finished pass before `run` held its deactivations.
async fn previous_pass_held<C: ConnectionTrait>(db: &C, run: &sync_run::Model) -> Result<bool> {
    let previous = sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(run.connection_id))
        .filter(sync_run::Column::Id.ne(run.id))
        .filter(sync_run::Column::Status.eq(SyncStatus::Succeeded))
        .order_by_desc(sync_run::Column::FinishedAt)
        .one(db)
        .await?;
    Ok(previous.is_some_and(|p| p.held_deactivations > 0))
}

/// An admin confirms what the guard held in `run`: the deactivations are applied as the run
/// found them. Only for the connection's latest finished run: a later pass decided afresh.
pub async fn confirm_deactivations(
    env: &Environment,
    run: sync_run::Model,
    author: &history::Author,
) -> Result<sync_run::Model> {
    if run.held_deactivations == 0 {
        return Err(Error::Validation { field: "runId", message: "this run held no deactivations".into() });
    }
    let latest = sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(run.connection_id))
        .filter(sync_run::Column::Status.is_in([SyncStatus::Succeeded, SyncStatus::Failed, SyncStatus::Cancelled]))
        .order_by_desc(sync_run::Column::FinishedAt)
        .one(&env.db)
        .await?;
    if latest.is_some_and(|l| l.id != run.id) {
        return Err(Error::Validation {
            field: "runId",
            message: "a later sync of this connection decided afresh; confirm that one's held deactivations, if any"
                .into(),
        });
    }
    let leavers = super::checkpoint_of(&run).leavers;
    let txn = begin_write(&env.db).await?;
    let keeping = keeping(env, &run).await?;
    let deactivated = leavers_apply(&txn, &run, &leavers, &keeping, Apply::Deactivate(author)).await?;
    // The run is finished, so no worker holds it; the held count is the guard against a
    // second confirmation racing this one.
    let confirmed = sync_run::Entity::update_many()
        .col_expr(sync_run::Column::Deactivated, Expr::value(run.deactivated + deactivated as i32))
        .col_expr(sync_run::Column::HeldDeactivations, Expr::value(0))
        .filter(sync_run::Column::Id.eq(run.id))
        .filter(sync_run::Column::HeldDeactivations.eq(run.held_deactivations))
        .exec(&txn)
        .await?;
    if confirmed.rows_affected != 1 {
        return Err(Error::Validation { field: "runId", message: "these deactivations were already confirmed".into() });
    }
    txn.commit().await?;
    let run = sync_run::Entity::find_by_id(run.id).one(&env.db).await?.ok_or(Error::NotFound("sync run"))?;
    super::publish(env, &run).await;
    tracing::info!(run_id = %run.id, deactivated, "held deactivations confirmed");
    Ok(run)
}

/// Points each synced user at the user synced from its manager's remote id (or, where the
/// provider names the manager by email, as an applicant tracking system names a hiring manager,
/// at whoever of the workspace holds that email), writing only rows whose manager actually
/// changed. One set-based join (UPDATE … FROM reads the same in SQLite and PostgreSQL), not a
/// correlated lookup per person.
pub(super) async fn link_managers<C: ConnectionTrait>(db: &C, pass: &Pass) -> Result<()> {
    link_managers_among(db, pass, &[]).await
}

/// [`link_managers`] for the records `among` names and their reports only (a pushed request's
/// user, rather than the whole connection); everyone when `among` is empty.
pub(super) async fn link_managers_among<C: ConnectionTrait>(db: &C, pass: &Pass, among: &[String]) -> Result<()> {
    let mut values: Vec<Value> = vec![pass.connection_id.into(), pass.workspace_id.clone().into()];
    let narrowed = if among.is_empty() {
        String::new()
    } else {
        let placeholders: Vec<String> = (0..among.len()).map(|i| format!("${}", i + 3)).collect();
        values.extend(among.iter().map(|id| Value::from(id.clone())));
        let listed = placeholders.join(", ");
        format!(" AND (report.remote_id IN ({listed}) OR report.remote_manager_id IN ({listed}))")
    };
    let links = format!(
        r#"(
            SELECT report.user_id, COALESCE(manager.user_id, by_email.id) AS manager_user_id
            FROM user_source AS report
            LEFT JOIN user_source AS manager
              ON manager.connection_id = report.connection_id
             AND manager.remote_id = report.remote_manager_id
            LEFT JOIN directory_user AS by_email
              ON by_email.workspace_id = $2
             AND by_email.email_normalized = report.remote_manager_id
             AND by_email.id <> report.user_id
            WHERE report.connection_id = $1{narrowed}
        ) AS links"#
    );
    const CHANGED: &str = "directory_user.id = links.user_id \
         AND directory_user.manager_id IS DISTINCT FROM links.manager_user_id";
    // What changes is read with the rows locked (SQLite's write transaction already holds them),
    // so the history says what the UPDATE below writes over.
    let lock = if backend(db) == DbBackend::Postgres { " FOR UPDATE OF directory_user" } else { "" };
    let relinked = Relinked::find_by_statement(Statement::from_sql_and_values(
        backend(db),
        format!(
            "SELECT directory_user.id, directory_user.workspace_id, directory_user.manager_id AS old_manager, \
             links.manager_user_id AS new_manager FROM directory_user, {links} WHERE {CHANGED}{lock}"
        ),
        values.clone(),
    ))
    .all(db)
    .await?;
    if relinked.is_empty() {
        return Ok(());
    }
    let at = Utc::now();
    let sql = format!(
        "UPDATE directory_user SET manager_id = links.manager_user_id, updated_at = ${} FROM {links} WHERE {CHANGED}",
        values.len() + 1
    );
    values.push(at.into());
    db.execute_raw(Statement::from_sql_and_values(backend(db), sql, values)).await?;
    let author = &pass.author;
    let rows = relinked.iter().flat_map(|r| {
        let change = history::FieldChange {
            field: "managerId",
            old: r.old_manager.map(|m| m.to_string()),
            new: r.new_manager.map(|m| m.to_string()),
        };
        history::rows(&r.workspace_id, r.id, author, at, vec![change])
    });
    history::record(db, rows.collect()).await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct Orphan {
    remote_id: String,
    remote_manager_id: String,
    /// The issue kind under which this run skipped the manager's own record, if it did.
    manager_skipped_as: Option<String>,
}

/// Records of this run whose manager id matches no record of the connection.
async fn unknown_managers<C: ConnectionTrait>(db: &C, run: &sync_run::Model) -> Result<Vec<Issue>> {
    let sql = r#"
        SELECT report.remote_id, report.remote_manager_id,
          (SELECT issue.kind FROM sync_issue AS issue
           WHERE issue.sync_run_id = $2 AND issue.remote_id = report.remote_manager_id
           ORDER BY issue.id LIMIT 1) AS manager_skipped_as
        FROM user_source AS report
        WHERE report.connection_id = $1 AND report.last_seen_run_id = $2
          AND report.remote_manager_id IS NOT NULL
          AND NOT EXISTS (
            SELECT 1 FROM user_source AS manager
            WHERE manager.connection_id = report.connection_id
              AND manager.remote_id = report.remote_manager_id)
          AND NOT EXISTS (
            SELECT 1 FROM directory_user AS by_email
            WHERE by_email.workspace_id = $3 AND by_email.email_normalized = report.remote_manager_id)"#;
    let orphans = Orphan::find_by_statement(Statement::from_sql_and_values(
        backend(db),
        sql,
        [run.connection_id.into(), run.id.into(), run.workspace_id.clone().into()],
    ))
    .all(db)
    .await?;
    Ok(orphans.into_iter().map(unknown_manager).collect())
}

/// The issue of a report whose manager is not in the directory: why, when this run knows.
fn unknown_manager(orphan: Orphan) -> Issue {
    let message = match orphan.manager_skipped_as {
        Some(kind) => format!(
            "manager '{}' was skipped by this sync ({kind}; see their issue): fix their record and this \
             person's manager follows on the next sync",
            orphan.remote_manager_id
        ),
        None => format!("manager '{}' is not among the synced people", orphan.remote_manager_id),
    };
    Issue { message, remote_id: Some(orphan.remote_id), kind: "UNKNOWN_MANAGER" }
}

/// Which records of the connection left.
enum Left<'a> {
    Unseen,
    Removed(&'a [String]),
}

/// Marks INACTIVE the active users of this connection who left: those a complete FULL fetch did
/// not return, or those an INCREMENTAL fetch was told were deleted. Their content hash is
/// forgotten so that a returning record is written again (reactivated) even if nothing else
/// about it changed. A person a `keeping` connection still lists (a source whose record has not
/// left, so its hash is kept) stays active: leaving one system is not leaving the company.
async fn deactivate_leavers<C: ConnectionTrait>(
    db: &C,
    run: &sync_run::Model,
    left: Left<'_>,
    keeping: &[uuid::Uuid],
    apply: Apply<'_>,
) -> Result<u64> {
    let mut values: Vec<Value> = vec![run.connection_id.into()];
    let left = match left {
        Left::Unseen => {
            values.push(run.id.into());
            "connection_id = $1 AND last_seen_run_id <> $2".to_string()
        }
        Left::Removed([]) => return Ok(0),
        Left::Removed(ids) => {
            let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
            values.extend(ids.iter().map(|id| Value::from(id.clone())));
            format!("connection_id = $1 AND remote_id IN ({})", placeholders.join(", "))
        }
    };
    let left_values = values.clone();
    let listed_elsewhere = listed_elsewhere(values.len() + 1, keeping.len());
    values.extend(keeping.iter().map(|id| Value::from(*id)));
    let now = values.len() + 1;
    let who = |statuses: &str| {
        format!(
            r#"
        WHERE employment_status IN ({statuses})
          AND id IN (SELECT user_id FROM user_source WHERE {left})
          AND NOT {listed_elsewhere}"#
        )
    };
    let author = match apply {
        Apply::Count => {
            let sql = format!("SELECT COUNT(*) AS count FROM directory_user {}", who("'ACTIVE', 'PRE_START'"));
            return count(db, &sql, values).await;
        }
        Apply::Deactivate(author) => author,
    };
    let at = Utc::now();
    let mut deactivated = 0;
    // One statement per status they leave, so the history says what each row was: exactly the
    // rows the statement changed.
    for was in [EmploymentStatus::Active, EmploymentStatus::PreStart] {
        let was = was.to_value();
        let sql = format!(
            "UPDATE directory_user SET employment_status = 'INACTIVE', updated_at = ${now} {} RETURNING id, workspace_id",
            who(&format!("'{was}'"))
        );
        let with_now = values.iter().cloned().chain([at.into()]);
        let leaving =
            Person::find_by_statement(Statement::from_sql_and_values(backend(db), sql, with_now)).all(db).await?;
        let change = || history::FieldChange {
            field: "employmentStatus",
            old: Some(was.clone()),
            new: Some(EmploymentStatus::Inactive.to_value()),
        };
        let rows = leaving.iter().flat_map(|p| history::rows(&p.workspace_id, p.id, author, at, vec![change()]));
        history::record(db, rows.collect()).await?;
        deactivated += leaving.len() as u64;
    }
    // The provider agrees with an admin who deactivated one of them by hand (and no other
    // connection still lists them): a return from here on is the provider's change, and
    // reactivates them like any leaver.
    let agreed = format!(
        r#"
        UPDATE directory_user SET deactivated_by_hand_at = NULL
        WHERE deactivated_by_hand_at IS NOT NULL
          AND id IN (SELECT user_id FROM user_source WHERE {left})
          AND NOT {listed_elsewhere}"#
    );
    db.execute_raw(Statement::from_sql_and_values(backend(db), agreed, values.clone())).await?;
    let forget = format!("UPDATE user_source SET content_hash = '' WHERE {left}");
    db.execute_raw(Statement::from_sql_and_values(backend(db), forget, left_values)).await?;
    Ok(deactivated)
}

/// A person, as a history entry needs them.
#[derive(FromQueryResult)]
struct Person {
    id: uuid::Uuid,
    workspace_id: String,
}

/// A report whose manager link changes.
#[derive(FromQueryResult)]
struct Relinked {
    id: uuid::Uuid,
    workspace_id: String,
    old_manager: Option<uuid::Uuid>,
    new_manager: Option<uuid::Uuid>,
}

/// A person one of the `count` connections from placeholder `first` on still lists: its record
/// there has not left, so its hash is kept.
fn listed_elsewhere(first: usize, count: usize) -> String {
    if count == 0 {
        return "FALSE".to_string();
    }
    let placeholders: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    format!(
        "EXISTS (SELECT 1 FROM user_source AS other WHERE other.user_id = directory_user.id \
         AND other.connection_id IN ({}) AND other.content_hash <> '')",
        placeholders.join(", ")
    )
}

fn backend<C: ConnectionTrait>(db: &C) -> DbBackend {
    db.get_database_backend()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_of_a_skipped_manager_says_why() {
        let orphan = |skipped: Option<&str>| Orphan {
            remote_id: "7".into(),
            remote_manager_id: "3".into(),
            manager_skipped_as: skipped.map(str::to_string),
        };
        let issue = unknown_manager(orphan(Some("INVALID_EMAIL")));
        assert_eq!((issue.kind, issue.remote_id.as_deref()), ("UNKNOWN_MANAGER", Some("7")));
        assert!(issue.message.contains("'3' was skipped by this sync (INVALID_EMAIL"), "{}", issue.message);
        assert_eq!(unknown_manager(orphan(None)).message, "manager '3' is not among the synced people");
    }
}

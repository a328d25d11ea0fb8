//! The end of a complete fetch: link managers by remote id and deactivate leavers. Only ever
//! called after every page was merged, so a failed or cancelled run deactivates nobody.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, IntoActiveModel, Set, Statement, Value};

use entity::sync_run::{self, SyncPhase};

use super::issues::{record_issues, Issue};
use super::Leavers;
use crate::environment::Environment;
use crate::error::Result;

pub async fn finalize(env: &Environment, run: &mut sync_run::Model, leavers: &Leavers) -> Result<()> {
    let mut active = run.clone().into_active_model();
    active.phase = Set(SyncPhase::Finalizing);
    *run = super::save(env, &env.db, active).await?;
    super::publish(env, run).await;

    let txn = super::begin_write(env).await?;
    link_managers(&txn, run).await?;
    let issues = unknown_managers(&txn, run).await?;
    record_issues(&txn, run.id, issues).await?;
    let deactivated = match leavers {
        Leavers::Unseen => deactivate_leavers(&txn, run, Left::Unseen).await?,
        // In chunks, to stay within the databases' limits on statement parameters.
        Leavers::Removed(ids) => {
            let mut deactivated = 0;
            for chunk in ids.chunks(1000) {
                deactivated += deactivate_leavers(&txn, run, Left::Removed(chunk)).await?;
            }
            deactivated
        }
    };
    let mut active = run.clone().into_active_model();
    active.deactivated = Set(run.deactivated + deactivated as i32);
    *run = super::save(env, &txn, active).await?;
    txn.commit().await?;
    Ok(())
}

/// Points each synced user at the user synced from its manager's remote id, writing only rows
/// whose manager actually changed. One set-based join (UPDATE … FROM reads the same in SQLite
/// and PostgreSQL), not a correlated lookup per person.
async fn link_managers<C: ConnectionTrait>(db: &C, run: &sync_run::Model) -> Result<()> {
    let sql = r#"
        UPDATE directory_user SET manager_id = links.manager_user_id, updated_at = $2
        FROM (
            SELECT report.user_id, manager.user_id AS manager_user_id
            FROM user_source AS report
            LEFT JOIN user_source AS manager
              ON manager.connection_id = report.connection_id
             AND manager.remote_id = report.remote_manager_id
            WHERE report.connection_id = $1
        ) AS links
        WHERE directory_user.id = links.user_id
          AND directory_user.manager_id IS DISTINCT FROM links.manager_user_id"#;
    db.execute_raw(Statement::from_sql_and_values(backend(db), sql, [run.connection_id.into(), Utc::now().into()]))
        .await?;
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
              AND manager.remote_id = report.remote_manager_id)"#;
    let orphans = Orphan::find_by_statement(Statement::from_sql_and_values(
        backend(db),
        sql,
        [run.connection_id.into(), run.id.into()],
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
/// about it changed. A person another connection still lists (a source whose record has not
/// left, so its hash is kept) stays active: leaving one system is not leaving the company.
async fn deactivate_leavers<C: ConnectionTrait>(db: &C, run: &sync_run::Model, left: Left<'_>) -> Result<u64> {
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
    let now = values.len() + 1;
    let sql = format!(
        r#"
        UPDATE directory_user SET employment_status = 'INACTIVE', updated_at = ${now}
        WHERE employment_status = 'ACTIVE'
          AND id IN (SELECT user_id FROM user_source WHERE {left})
          AND NOT EXISTS (SELECT 1 FROM user_source AS other
                          WHERE other.user_id = directory_user.id
                            AND other.connection_id <> $1 AND other.content_hash <> '')"#
    );
    let with_now = values.iter().cloned().chain([Utc::now().into()]);
    let result = db.execute_raw(Statement::from_sql_and_values(backend(db), sql, with_now)).await?;
    let forget = format!("UPDATE user_source SET content_hash = '' WHERE {left}");
    db.execute_raw(Statement::from_sql_and_values(backend(db), forget, values)).await?;
    Ok(result.rows_affected())
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

//! Each person's change history: which field a sync or an admin changed, from what to what,
//! when and by what (`sync:<runId>`, `admin:<subject>`, `scim:<connectionId>` for an identity provider's
//! push, `schedule` for a start date that came). Entries are written in the transaction
//! of the change, and only for a real change: a sync that changes nobody writes none.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use entity::directory_user::{self, EmploymentStatus};
use entity::user_change;

use crate::error::Result;
use crate::webhooks;

/// The field of a person's creation entry.
pub const CREATED: &str = "created";
/// The field of a join: a source (`<provider>:<remote id>`) now brings in a person another
/// source, or an admin, brought in first.
pub const SOURCE: &str = "source";

/// Rows per insert: well within both databases' limits on statement parameters.
const ROWS_PER_INSERT: usize = 1000;

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Author {
    /// `sync:<runId>` or `admin:<subject>`.
    pub by: String,
    pub run_id: Option<Uuid>,
}

impl Author {
    pub fn sync(run_id: Uuid) -> Self {
        Self { by: format!("sync:{run_id}"), run_id: Some(run_id) }
    }

    pub fn admin(subject: &str) -> Self {
        Self { by: format!("admin:{subject}"), run_id: None }
    }

    /// A provider that pushes its changes (SCIM), through connection `connection_id`.
    pub fn scim(connection_id: Uuid) -> Self {
        Self { by: format!("scim:{connection_id}"), run_id: None }
    }

    /// The clock: a pre-start person's start date came.
    pub fn schedule() -> Self {
        Self { by: "schedule".to_string(), run_id: None }
    }
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// As the database and the GraphQL enum spell it.
fn status(status: EmploymentStatus) -> Option<String> {
    Some(sea_orm::ActiveEnum::to_value(&status))
}

/// The fields (as `internalFields` names them) whose values differ from `before` to `after`.
pub fn diff(before: &directory_user::Model, after: &directory_user::Model) -> Vec<FieldChange> {
    let text = |v: &Option<String>| v.clone();
    let fields: [(&'static str, Option<String>, Option<String>); 10] = [
        ("email", Some(before.email.clone()), Some(after.email.clone())),
        ("firstName", text(&before.first_name), text(&after.first_name)),
        ("lastName", text(&before.last_name), text(&after.last_name)),
        ("displayName", Some(before.display_name.clone()), Some(after.display_name.clone())),
        ("jobTitle", text(&before.job_title), text(&after.job_title)),
        ("department", text(&before.department), text(&after.department)),
        ("location", text(&before.location), text(&after.location)),
        ("employmentStatus", status(before.employment_status), status(after.employment_status)),
        ("startDate", text(&before.start_date), text(&after.start_date)),
        ("managerId", before.manager_id.map(|m| m.to_string()), after.manager_id.map(|m| m.to_string())),
    ];
    fields
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| FieldChange { field, old, new })
        .collect()
}

/// History rows for `changes` to person `user_id` of `workspace_id`.
pub fn rows<'a>(
    workspace_id: &str,
    user_id: Uuid,
    author: &'a Author,
    at: DateTime<Utc>,
    changes: Vec<FieldChange>,
) -> impl Iterator<Item = user_change::ActiveModel> + 'a {
    let workspace_id = workspace_id.to_string();
    changes.into_iter().map(move |change| user_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id.clone()),
        user_id: Set(user_id),
        sync_run_id: Set(author.run_id),
        at: Set(at),
        field: Set(change.field.to_string()),
        old_value: Set(change.old),
        new_value: Set(change.new),
        changed_by: Set(author.by.clone()),
        webhook_pending: Set(false),
    })
}

/// Writes `rows` (of one workspace) in the caller's transaction, in bulk; marked for
/// publication when an endpoint of the workspace hears of people's changes.
pub async fn record<C: ConnectionTrait>(db: &C, rows: Vec<user_change::ActiveModel>) -> Result<(), sea_orm::DbErr> {
    let Some(workspace_id) = rows.first().and_then(|r| r.workspace_id.try_as_ref().cloned()) else {
        return Ok(());
    };
    let announce = webhooks::announces_people(db, &workspace_id).await?;
    let mut rows =
        rows.into_iter().map(|row| user_change::ActiveModel { webhook_pending: Set(announce), ..row }).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        user_change::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// The "created" entries of people of `workspace_id` just inserted (by a sync, or an admin),
/// made from their rows in one statement rather than built one by one (a first sync creates
/// everyone): their email is the entry's new value. Each entry takes its person's id, a UUIDv7
/// of the same moment, so its place in the history is that moment.
pub async fn record_created<C: ConnectionTrait>(
    db: &C,
    workspace_id: &str,
    author: &Author,
    ids: &[Uuid],
) -> Result<(), sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let announce = webhooks::announces_people(db, workspace_id).await?;
    let placeholders: Vec<String> = (4..ids.len() + 4).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO user_change \
         (id, workspace_id, user_id, sync_run_id, at, field, old_value, new_value, changed_by, webhook_pending) \
         SELECT id, workspace_id, id, $1, created_at, '{CREATED}', NULL, email, $2, $3 FROM directory_user \
         WHERE id IN ({})",
        placeholders.join(", ")
    );
    let values = [sea_orm::Value::from(author.run_id), author.by.clone().into(), announce.into()]
        .into_iter()
        .chain(ids.iter().map(|id| sea_orm::Value::from(*id)));
    db.execute_raw(sea_orm::Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await?;
    Ok(())
}

/// Where a page of history starts.
pub enum Scope {
    /// A person's history, newest first.
    Person(Uuid),
    /// What one sync run changed, in the order it changed it.
    Run(Uuid),
}

/// Up to `first` entries of `scope` in workspace `workspace_id`, after the entry `after`.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    workspace_id: &str,
    scope: Scope,
    first: u64,
    after: Option<Uuid>,
) -> Result<Vec<user_change::Model>> {
    let query = user_change::Entity::find().filter(user_change::Column::WorkspaceId.eq(workspace_id));
    let query = match scope {
        Scope::Person(user_id) => {
            let query = query.filter(user_change::Column::UserId.eq(user_id)).order_by_desc(user_change::Column::Id);
            match after {
                Some(after) => query.filter(user_change::Column::Id.lt(after)),
                None => query,
            }
        }
        Scope::Run(run_id) => {
            let query = query.filter(user_change::Column::SyncRunId.eq(run_id)).order_by_asc(user_change::Column::Id);
            match after {
                Some(after) => query.filter(user_change::Column::Id.gt(after)),
                None => query,
            }
        }
    };
    Ok(query.limit(first).all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> directory_user::Model {
        let now = Utc::now();
        directory_user::Model {
            id: Uuid::nil(),
            workspace_id: "w".into(),
            email: "ada@example.com".into(),
            email_normalized: "ada@example.com".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            display_name: "Ada".into(),
            job_title: Some("Engineer".into()),
            department: None,
            location: None,
            employment_status: EmploymentStatus::Active,
            start_date: None,
            manager_id: None,
            invitation_status: directory_user::InvitationStatus::NotInvited,
            invited_at: None,
            invitation_error: None,
            deactivated_by_hand_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_diff_names_each_changed_field_with_both_values() {
        let before = person();
        let manager = Uuid::from_u128(9);
        let after = directory_user::Model {
            job_title: Some("CTO".into()),
            employment_status: EmploymentStatus::Inactive,
            manager_id: Some(manager),
            updated_at: before.updated_at + chrono::Duration::seconds(1),
            ..before.clone()
        };
        let change = |field, old: Option<&str>, new: Option<&str>| FieldChange {
            field,
            old: old.map(str::to_string),
            new: new.map(str::to_string),
        };
        assert_eq!(
            diff(&before, &after),
            [
                change("jobTitle", Some("Engineer"), Some("CTO")),
                change("employmentStatus", Some("ACTIVE"), Some("INACTIVE")),
                change("managerId", None, Some(&manager.to_string())),
            ]
        );
        assert!(diff(&before, &before.clone()).is_empty(), "no change, no entry (timestamps are not history)");
    }
}

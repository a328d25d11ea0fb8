//! Two people who may be one: the sync joins people by email only, so where two people share a
//! name and start within a week of each other but have different emails (a candidate's personal
//! address at the ATS, the work one at the HR system), it does not guess: it reports a
//! POSSIBLE_DUPLICATE issue naming both. An admin then joins them (`into` keeps its id; the
//! other's sources, history, activities, invitations and reports move to it, and the other row
//! goes), or dismisses the issue. A join is undone, while both sources still exist, by moving
//! back exactly what it moved. Both are in the history as the admin's.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    IntoActiveModel, QueryFilter, QueryOrder, Set, Statement,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::directory_user::{self, EmploymentStatus, InvitationStatus};
use entity::{activity_assignment, invitation, person_join, sync_issue, sync_run, user_change, user_source};

use crate::directory::user_in;
use crate::environment::begin_write;
use crate::error::{Error, Result};
use crate::history::{self, Author, FieldChange};

/// The kind of the issue naming two people who may be one.
pub const POSSIBLE_DUPLICATE: &str = "POSSIBLE_DUPLICATE";
/// Start dates this close (in days) make two people of one name look like one.
const START_DATES_WITHIN: i64 = 7;

/// Whether two people of the same name starting on `a` and `b` (ISO dates) look like one.
pub fn look_alike(a: &str, b: &str) -> bool {
    let date = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    match (date(a), date(b)) {
        (Some(a), Some(b)) => (a - b).num_days().abs() <= START_DATES_WITHIN,
        _ => false,
    }
}

#[derive(FromQueryResult)]
struct Named {
    id: Uuid,
    display_name: String,
    start_date: String,
    email: String,
    email_normalized: String,
}

/// Reports, as issues of `run`, the people it created who look like someone another source (or
/// an admin) brought in under another email; a pair reported before, dismissed or not, is not
/// reported again. The people of other sources are read first: a workspace with one source
/// (every first sync of the only connection) costs one query that finds no one.
pub async fn report_possible_duplicates<C: ConnectionTrait>(db: &C, run: &sync_run::Model) -> Result<()> {
    let backend = db.get_database_backend();
    let others = r#"
        SELECT id, display_name, start_date, email, email_normalized FROM directory_user
        WHERE workspace_id = $1 AND start_date IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM user_source AS own WHERE own.user_id = directory_user.id AND own.connection_id = $2)"#;
    let values = [run.workspace_id.clone().into(), run.connection_id.into()];
    let others = Named::find_by_statement(Statement::from_sql_and_values(backend, others, values)).all(db).await?;
    if others.is_empty() {
        return Ok(());
    }
    let mut by_name: std::collections::HashMap<&str, Vec<&Named>> = std::collections::HashMap::new();
    for other in &others {
        by_name.entry(other.display_name.as_str()).or_default().push(other);
    }
    let created = r#"
        SELECT person.id, person.display_name, person.start_date, person.email, person.email_normalized
        FROM user_change AS created JOIN directory_user AS person ON person.id = created.user_id
        WHERE created.sync_run_id = $1 AND created.field = 'created' AND person.start_date IS NOT NULL"#;
    let created =
        Named::find_by_statement(Statement::from_sql_and_values(backend, created, [run.id.into()])).all(db).await?;
    let pairs: Vec<(&Named, &Named)> = created
        .iter()
        .flat_map(|new| by_name.get(new.display_name.as_str()).into_iter().flatten().map(move |old| (new, *old)))
        .filter(|(new, old)| {
            new.email_normalized != old.email_normalized && look_alike(&new.start_date, &old.start_date)
        })
        .collect();
    if pairs.is_empty() {
        return Ok(());
    }
    let involved: Vec<Uuid> = pairs.iter().flat_map(|(a, b)| [a.id, b.id]).collect();
    let reported: std::collections::HashSet<(Uuid, Uuid)> = sync_issue::Entity::find()
        .filter(sync_issue::Column::Kind.eq(POSSIBLE_DUPLICATE))
        .filter(sync_issue::Column::UserId.is_in(involved.clone()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|i| Some((i.user_id?, i.other_user_id?)))
        .flat_map(|(a, b)| [(a, b), (b, a)])
        .collect();
    let now = Utc::now();
    let rows: Vec<sync_issue::ActiveModel> = pairs
        .into_iter()
        .filter(|(a, b)| !reported.contains(&(a.id, b.id)))
        .map(|(a, b)| sync_issue::ActiveModel {
            id: Set(Uuid::now_v7()),
            sync_run_id: Set(run.id),
            remote_id: Set(None),
            kind: Set(POSSIBLE_DUPLICATE.to_string()),
            message: Set(format!(
                "{} ({}) may be the same person as {} ({}): same name, start dates {} and {}; join them with \
                 joinPeople, or dismiss this issue if they are two people",
                a.display_name, a.email, b.display_name, b.email, a.start_date, b.start_date
            )),
            created_at: Set(now),
            user_id: Set(Some(a.id)),
            other_user_id: Set(Some(b.id)),
            dismissed_at: Set(None),
        })
        .collect();
    if !rows.is_empty() {
        sync_issue::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// An admin says the two people of a POSSIBLE_DUPLICATE issue are not one.
pub async fn dismiss(db: &DatabaseConnection, workspace_id: &str, issue_id: Uuid) -> Result<sync_issue::Model> {
    let issue = sync_issue::Entity::find_by_id(issue_id).one(db).await?.ok_or(Error::NotFound("sync issue"))?;
    let run = sync_run::Entity::find_by_id(issue.sync_run_id).one(db).await?;
    if run.is_none_or(|r| r.workspace_id != workspace_id) {
        return Err(Error::NotFound("sync issue"));
    }
    if issue.kind != POSSIBLE_DUPLICATE {
        return Err(Error::Validation { field: "id", message: "only a POSSIBLE_DUPLICATE issue is dismissed".into() });
    }
    if issue.dismissed_at.is_some() {
        return Ok(issue);
    }
    let mut active = issue.into_active_model();
    active.dismissed_at = Set(Some(Utc::now()));
    Ok(active.update(db).await?)
}

/// A person as a join keeps them, to put them back.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Person {
    id: Uuid,
    workspace_id: String,
    email: String,
    email_normalized: String,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: String,
    job_title: Option<String>,
    department: Option<String>,
    location: Option<String>,
    employment_status: String,
    start_date: Option<String>,
    manager_id: Option<Uuid>,
    invitation_status: String,
    invited_at: Option<chrono::DateTime<Utc>>,
    invitation_error: Option<String>,
    deactivated_by_hand_at: Option<chrono::DateTime<Utc>>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

impl From<&directory_user::Model> for Person {
    fn from(p: &directory_user::Model) -> Self {
        Self {
            id: p.id,
            workspace_id: p.workspace_id.clone(),
            email: p.email.clone(),
            email_normalized: p.email_normalized.clone(),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            display_name: p.display_name.clone(),
            job_title: p.job_title.clone(),
            department: p.department.clone(),
            location: p.location.clone(),
            employment_status: p.employment_status.to_value(),
            start_date: p.start_date.clone(),
            manager_id: p.manager_id,
            invitation_status: p.invitation_status.to_value(),
            invited_at: p.invited_at,
            invitation_error: p.invitation_error.clone(),
            deactivated_by_hand_at: p.deactivated_by_hand_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Person {
    fn row(self) -> Result<directory_user::ActiveModel> {
        let corrupt =
            |_| Error::Validation { field: "user", message: "the join's record of the person is unreadable".into() };
        Ok(directory_user::ActiveModel {
            id: Set(self.id),
            workspace_id: Set(self.workspace_id),
            email: Set(self.email),
            email_normalized: Set(self.email_normalized),
            first_name: Set(self.first_name),
            last_name: Set(self.last_name),
            display_name: Set(self.display_name),
            job_title: Set(self.job_title),
            department: Set(self.department),
            location: Set(self.location),
            employment_status: Set(EmploymentStatus::try_from_value(&self.employment_status).map_err(corrupt)?),
            start_date: Set(self.start_date),
            manager_id: Set(self.manager_id),
            invitation_status: Set(InvitationStatus::try_from_value(&self.invitation_status).map_err(corrupt)?),
            invited_at: Set(self.invited_at),
            invitation_error: Set(self.invitation_error),
            deactivated_by_hand_at: Set(self.deactivated_by_hand_at),
            created_at: Set(self.created_at),
            updated_at: Set(self.updated_at),
        })
    }
}

/// What a join moved from the other person to `into`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Moved {
    person: Person,
    sources: Vec<Uuid>,
    changes: Vec<Uuid>,
    assignments: Vec<Uuid>,
    invitations: Vec<Uuid>,
    /// People who reported to the other person.
    reports: Vec<Uuid>,
}

/// Joins `other` into `into`: `into` keeps its id and fields; `other`'s sources, history,
/// activities, invitations and reports move to it, and `other`'s row goes.
pub async fn join(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    into: Uuid,
    other: Uuid,
) -> Result<directory_user::Model> {
    if into == other {
        return Err(Error::Validation { field: "other", message: "a person cannot be joined with themselves".into() });
    }
    let txn = begin_write(db).await?;
    let target = user_in(&txn, workspace_id, into).await.map_err(|_| Error::NotFound("user 'into'"))?;
    let joined = user_in(&txn, workspace_id, other).await.map_err(|_| Error::NotFound("user 'other'"))?;
    let sources = user_source::Entity::find().filter(user_source::Column::UserId.eq(other)).all(&txn).await?;
    let sources = sources.into_iter().map(|s| s.id).collect();
    let changes = user_change::Entity::find().filter(user_change::Column::UserId.eq(other)).all(&txn).await?;
    let changes = changes.into_iter().map(|c| c.id).collect();
    let assignments = activity_assignment::Entity::find()
        .filter(activity_assignment::Column::UserId.eq(other))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let invitations = invitation::Entity::find()
        .filter(invitation::Column::UserId.eq(other))
        .all(&txn)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let reports = directory_user::Entity::find()
        .filter(directory_user::Column::ManagerId.eq(other))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let moved = Moved { person: Person::from(&joined), sources, changes, assignments, invitations, reports };
    move_everything(&txn, &moved, other, into).await?;
    directory_user::Entity::delete_by_id(other).exec(&txn).await?;
    person_join::Entity::insert(person_join::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(workspace_id.to_string()),
        into_user_id: Set(into),
        other_user_id: Set(other),
        moved: Set(serde_json::to_value(&moved).expect("a join serialises")),
        joined_by: Set(author.by.clone()),
        joined_at: Set(Utc::now()),
        separated_at: Set(None),
    })
    .exec(&txn)
    .await?;
    let change = FieldChange { field: "joined", old: None, new: Some(joined.email.clone()) };
    history::record(&txn, history::rows(workspace_id, into, author, Utc::now(), vec![change]).collect()).await?;
    txn.commit().await?;
    Ok(target)
}

/// Moves what `moved` lists from person `from` to person `to`.
async fn move_everything<C: ConnectionTrait>(db: &C, moved: &Moved, from: Uuid, to: Uuid) -> Result<()> {
    user_source::Entity::update_many()
        .col_expr(user_source::Column::UserId, Expr::value(to))
        .filter(user_source::Column::Id.is_in(moved.sources.clone()))
        .exec(db)
        .await?;
    user_change::Entity::update_many()
        .col_expr(user_change::Column::UserId, Expr::value(to))
        .filter(user_change::Column::Id.is_in(moved.changes.clone()))
        .exec(db)
        .await?;
    activity_assignment::Entity::update_many()
        .col_expr(activity_assignment::Column::UserId, Expr::value(to))
        .filter(activity_assignment::Column::Id.is_in(moved.assignments.clone()))
        .exec(db)
        .await?;
    invitation::Entity::update_many()
        .col_expr(invitation::Column::UserId, Expr::value(to))
        .filter(invitation::Column::Id.is_in(moved.invitations.clone()))
        .exec(db)
        .await?;
    directory_user::Entity::update_many()
        .col_expr(directory_user::Column::ManagerId, Expr::value(to))
        .filter(directory_user::Column::Id.is_in(moved.reports.clone()))
        .filter(directory_user::Column::ManagerId.eq(from))
        .exec(db)
        .await?;
    Ok(())
}

/// Undoes the join that brought `connection_id`'s record into `user`: the other person comes
/// back as they were, with what the join moved. Answers both people.
pub async fn separate(
    db: &DatabaseConnection,
    workspace_id: &str,
    author: &Author,
    user: Uuid,
    connection_id: Uuid,
) -> Result<Vec<directory_user::Model>> {
    let txn = begin_write(db).await?;
    user_in(&txn, workspace_id, user).await?;
    let joins = person_join::Entity::find()
        .filter(person_join::Column::WorkspaceId.eq(workspace_id))
        .filter(person_join::Column::IntoUserId.eq(user))
        .filter(person_join::Column::SeparatedAt.is_null())
        .order_by_desc(person_join::Column::JoinedAt)
        .all(&txn)
        .await?;
    let mut found = None;
    for join in joins {
        let moved: Moved = serde_json::from_value(join.moved.clone()).map_err(|_| Error::Validation {
            field: "user",
            message: "the join's record of the other person is unreadable".into(),
        })?;
        let sources =
            user_source::Entity::find().filter(user_source::Column::Id.is_in(moved.sources.clone())).all(&txn).await?;
        if sources.iter().any(|s| s.connection_id == connection_id) {
            found = Some((join, moved, sources));
            break;
        }
    }
    let Some((join, moved, sources)) = found else {
        return Err(Error::Validation {
            field: "connectionId",
            message: "no join of this person brought in that connection's record (or that record is gone)".into(),
        });
    };
    let kept = user_source::Entity::find().filter(user_source::Column::UserId.eq(user)).all(&txn).await?;
    if sources.len() != moved.sources.len() || kept.len() <= sources.len() {
        return Err(Error::Validation {
            field: "connectionId",
            message: "both people's sources must still exist to separate them".into(),
        });
    }
    let other = moved.person.id;
    let email = moved.person.email_normalized.clone();
    if directory_user::Entity::find()
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .filter(directory_user::Column::EmailNormalized.eq(email))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::Validation {
            field: "user",
            message: "another person now holds the other person's email; they cannot be brought back".into(),
        });
    }
    directory_user::Entity::insert(moved.person.clone().row()?).exec_without_returning(&txn).await?;
    move_everything(&txn, &moved, user, other).await?;
    let mut active = join.into_active_model();
    active.separated_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    let at = Utc::now();
    for (person, email) in [(user, moved.person.email.clone()), (other, moved.person.email.clone())] {
        let change = FieldChange { field: "separated", old: Some(email), new: None };
        history::record(&txn, history::rows(workspace_id, person, author, at, vec![change]).collect()).await?;
    }
    let both = vec![user_in(&txn, workspace_id, user).await?, user_in(&txn, workspace_id, other).await?];
    txn.commit().await?;
    Ok(both)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_of_one_name_look_alike_when_they_start_within_a_week() {
        assert!(look_alike("2027-01-04", "2027-01-04"));
        assert!(look_alike("2027-01-04", "2027-01-11"), "seven days");
        assert!(!look_alike("2027-01-04", "2027-01-12"));
        assert!(look_alike("2027-01-11", "2027-01-04"), "either way");
        assert!(!look_alike("2027-01-04", "soon"), "an unreadable date proves nothing");
    }
}

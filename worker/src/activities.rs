//! Activities assigned to people: the hook the compliance product calls when it assigns work.
//! The first assignment to a person never invited queues their invitation, in the same
//! transaction (see [`crate::invitations`]).

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::{DatabaseConnection, EntityTrait, Statement, TransactionTrait};
use uuid::Uuid;

use entity::activity_assignment;
use entity::directory_user::InvitationStatus;

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::input;
use crate::invitations::outbox::{self, AnnouncedActivity};

/// Most people one assignment names.
pub const MAX_ASSIGNEES: usize = 100;
/// Longest activity title.
const MAX_TITLE_CHARS: usize = 200;
/// Most activities `User.activities` lists, newest first.
pub const MAX_LISTED: u64 = 50;

/// An activity for `user_ids`, assigned by `assigned_by`.
pub struct NewActivity {
    pub user_ids: Vec<Uuid>,
    pub title: String,
    /// An ISO date.
    pub due_date: Option<String>,
}

impl NewActivity {
    /// The title trimmed, the date normalised, the people de-duplicated; errors name the input
    /// field.
    fn cleaned(self) -> Result<Self> {
        let invalid = |field, message: String| Error::Validation { field, message };
        let user_ids: Vec<Uuid> = {
            let mut seen = BTreeSet::new();
            self.user_ids.into_iter().filter(|id| seen.insert(*id)).collect()
        };
        if user_ids.is_empty() || user_ids.len() > MAX_ASSIGNEES {
            return Err(invalid("input.userIds", format!("'input.userIds' must name 1 to {MAX_ASSIGNEES} people")));
        }
        let title = input::text("input.title", &self.title, MAX_TITLE_CHARS)?
            .ok_or_else(|| invalid("input.title", "'input.title' must not be blank".into()))?;
        let due_date = match &self.due_date {
            Some(raw) => input::iso_date("input.dueDate", raw)?,
            None => None,
        };
        Ok(Self { user_ids, title, due_date })
    }
}

/// Assigns `activity` to each of its people, in one transaction with the invitations it
/// queues; answers the assignments in the order the people were named.
pub async fn assign(
    env: &Environment,
    workspace_id: &str,
    assigned_by: &str,
    activity: NewActivity,
) -> Result<Vec<activity_assignment::Model>> {
    let NewActivity { user_ids, title, due_date } = activity.cleaned()?;
    let people = crate::directory::find_users(&env.db, workspace_id, user_ids.clone()).await?;
    if let Some(unknown) = user_ids.iter().find(|id| !people.iter().any(|p| p.id == **id)) {
        return Err(Error::Validation {
            field: "input.userIds",
            message: format!("'input.userIds' names {unknown}, who is not in this workspace's directory"),
        });
    }
    let now = Utc::now();
    let assignments: Vec<activity_assignment::Model> = user_ids
        .iter()
        .map(|user_id| activity_assignment::Model {
            id: Uuid::now_v7(),
            workspace_id: workspace_id.to_string(),
            user_id: *user_id,
            title: title.clone(),
            due_date: due_date.clone(),
            assigned_by: assigned_by.to_string(),
            assigned_at: now,
        })
        .collect();
    let txn = env.db.begin().await?;
    activity_assignment::Entity::insert_many(
        assignments.iter().cloned().map(Into::<activity_assignment::ActiveModel>::into),
    )
    .exec_without_returning(&txn)
    .await?;
    let mut queued = 0;
    for user_id in &user_ids {
        let announced = AnnouncedActivity { title: &title, due_date: due_date.as_deref() };
        if outbox::invite(&txn, workspace_id, *user_id, &[InvitationStatus::NotInvited], announced).await? {
            queued += 1;
        }
    }
    txn.commit().await?;
    if queued > 0 {
        env.outbox_bell.notify_one();
    }
    tracing::info!(assigned = assignments.len(), invitations = queued, "activity assigned");
    Ok(assignments)
}

/// The newest [`MAX_LISTED`] activities of each of `user_ids`, newest first: one query, and
/// never more rows than that per person, however many they have.
pub async fn of_people(
    db: &DatabaseConnection,
    workspace_id: &str,
    user_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<activity_assignment::Model>>> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders: Vec<String> = (2..=user_ids.len() + 1).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT * FROM (SELECT activity_assignment.*, ROW_NUMBER() OVER \
           (PARTITION BY user_id ORDER BY assigned_at DESC, id DESC) AS newest \
         FROM activity_assignment WHERE workspace_id = $1 AND user_id IN ({})) AS ranked \
         WHERE newest <= {MAX_LISTED} ORDER BY user_id, newest",
        placeholders.join(", ")
    );
    let values =
        std::iter::once(sea_orm::Value::from(workspace_id)).chain(user_ids.into_iter().map(sea_orm::Value::from));
    let statement = Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    let mut by_person: HashMap<Uuid, Vec<activity_assignment::Model>> = HashMap::new();
    for assignment in activity_assignment::Entity::find().from_raw_sql(statement).all(db).await? {
        by_person.entry(assignment.user_id).or_default().push(assignment);
    }
    Ok(by_person)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(user_ids: Vec<Uuid>, title: &str, due: Option<&str>) -> NewActivity {
        NewActivity { user_ids, title: title.into(), due_date: due.map(str::to_string) }
    }

    #[test]
    fn an_activity_is_checked_and_its_people_named_once() {
        let ada = Uuid::from_u128(1);
        let cleaned = activity(vec![ada, ada], "  Training ", Some("2026-1-05")).cleaned().unwrap();
        assert_eq!(
            (cleaned.user_ids, cleaned.title, cleaned.due_date),
            (vec![ada], "Training".into(), Some("2026-01-05".into()))
        );
        let field = |a: NewActivity| match a.cleaned() {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("refused, not {:?}", other.map(|a| a.title)),
        };
        assert_eq!(field(activity(vec![], "t", None)), "input.userIds");
        assert_eq!(field(activity((0..101).map(Uuid::from_u128).collect(), "t", None)), "input.userIds");
        assert_eq!(field(activity(vec![ada], " ", None)), "input.title");
        assert_eq!(field(activity(vec![ada], "t", Some("tomorrow"))), "input.dueDate");
    }
}

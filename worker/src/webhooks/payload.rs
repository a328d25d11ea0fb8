//! What each event's `data` holds: documented JSON (the README shows one of each), named as
//! the GraphQL API names the same things, so a client reads both alike.

use sea_orm::ActiveEnum;
use serde_json::{json, Value};

use entity::{connection, directory_user, sync_run};

use super::outbox::ChangedField;

/// As the database and the GraphQL enum spell it.
fn status(status: directory_user::EmploymentStatus) -> String {
    status.to_value()
}

/// A person as the event is published.
pub fn user(person: &directory_user::Model) -> Value {
    json!({
        "id": person.id,
        "email": person.email,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "displayName": person.display_name,
        "jobTitle": person.job_title,
        "department": person.department,
        "location": person.location,
        "employmentStatus": status(person.employment_status),
        "startDate": person.start_date,
        "managerId": person.manager_id,
    })
}

/// A `user.*` event's data: the person (null if they are gone), the fields changed, and by what.
pub fn user_change(person: Option<&directory_user::Model>, changes: &[ChangedField], by: &str) -> Value {
    let changes: Vec<Value> =
        changes.iter().map(|c| json!({ "field": c.field, "oldValue": c.old, "newValue": c.new })).collect();
    json!({ "user": person.map(user), "changes": changes, "by": by })
}

/// A `sync.*` event's data.
pub fn sync_run(run: &sync_run::Model) -> Value {
    json!({
        "run": {
            "id": run.id,
            "connectionId": run.connection_id,
            "mode": run.mode.to_value(),
            "status": run.status.to_value(),
            "processed": run.processed,
            "created": run.created,
            "updated": run.updated,
            "deactivated": run.deactivated,
            "deactivationsHeld": run.held_deactivations,
            "skipped": run.skipped,
            "error": run.error,
            "startedAt": run.started_at,
            "finishedAt": run.finished_at,
        }
    })
}

/// `connection.failed`'s data.
pub fn connection(connection: &connection::Model) -> Value {
    json!({
        "connection": {
            "id": connection.id,
            "providerId": connection.provider_id,
            "status": "FAILED",
            "statusMessage": connection.status_message,
        }
    })
}

/// An `invitation.*` event's data.
pub fn invitation(id: uuid::Uuid, person: &directory_user::Model, error: Option<&str>) -> Value {
    json!({ "invitation": { "id": id, "userId": person.id, "email": person.email, "error": error } })
}

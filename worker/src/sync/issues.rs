//! Sync issues: records a run could not import cleanly, kept for the admin to fix at the source.

use chrono::Utc;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use entity::sync_issue;

pub struct Issue {
    pub remote_id: Option<String>,
    /// MISSING_EMAIL, INVALID_EMAIL, EMAIL_WITHHELD, DUPLICATE_EMAIL, UNKNOWN_MANAGER, and
    /// FIELD_WITHHELD (for the run, not a record).
    pub kind: &'static str,
    pub message: String,
}

pub async fn record_issues<C: ConnectionTrait>(db: &C, run_id: Uuid, issues: Vec<Issue>) -> Result<(), sea_orm::DbErr> {
    if issues.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = issues.into_iter().map(|issue| sync_issue::ActiveModel {
        id: Set(Uuid::now_v7()),
        sync_run_id: Set(run_id),
        remote_id: Set(issue.remote_id),
        kind: Set(issue.kind.to_string()),
        message: Set(issue.message),
        created_at: Set(now),
        user_id: Set(None),
        other_user_id: Set(None),
        dismissed_at: Set(None),
    });
    sync_issue::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use entity::sync_run as stored;
use worker::events::RunSnapshot;

use super::connection::Connection;
use super::user::{change_cursor, User, UserChange};
use crate::access::ConnectionId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{page_size, ContextExt};
use crate::graphql::list_cost;

/// Most issues one `issues` answers.
const MAX_ISSUES: i32 = 1000;
/// Most changes one `changes` page answers.
const MAX_CHANGES: i32 = 500;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncMode {
    Full,
    Incremental,
}

impl From<SyncMode> for stored::SyncMode {
    fn from(m: SyncMode) -> Self {
        match m {
            SyncMode::Full => Self::Full,
            SyncMode::Incremental => Self::Incremental,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncPhase {
    Queued,
    Fetching,
    Merging,
    Finalizing,
    Done,
}

/// One sync run, as stored or as last published.
pub struct SyncRun(pub RunSnapshot);

impl From<&stored::Model> for SyncRun {
    fn from(run: &stored::Model) -> Self {
        Self(RunSnapshot::from(run))
    }
}

#[Object]
impl SyncRun {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn connection(&self, ctx: &Context<'_>) -> ApiResult<Connection> {
        let connection = ctx.integrations()?.connection_batched(ConnectionId(self.0.connection_id)).await?;
        connection.map(Connection).ok_or_else(|| ApiError::not_found("connection"))
    }

    async fn mode(&self) -> SyncMode {
        match self.0.mode {
            stored::SyncMode::Full => SyncMode::Full,
            stored::SyncMode::Incremental => SyncMode::Incremental,
        }
    }

    async fn status(&self) -> SyncStatus {
        match self.0.status {
            stored::SyncStatus::Queued => SyncStatus::Queued,
            stored::SyncStatus::Running => SyncStatus::Running,
            stored::SyncStatus::Succeeded => SyncStatus::Succeeded,
            stored::SyncStatus::Failed => SyncStatus::Failed,
            stored::SyncStatus::Cancelled => SyncStatus::Cancelled,
        }
    }

    async fn phase(&self) -> SyncPhase {
        match self.0.phase {
            stored::SyncPhase::Queued => SyncPhase::Queued,
            stored::SyncPhase::Fetching => SyncPhase::Fetching,
            stored::SyncPhase::Merging => SyncPhase::Merging,
            stored::SyncPhase::Finalizing => SyncPhase::Finalizing,
            stored::SyncPhase::Done => SyncPhase::Done,
        }
    }

    /// 0..100; 100 only when SUCCEEDED.
    async fn percent(&self) -> f64 {
        self.0.percent()
    }

    async fn processed(&self) -> i32 {
        self.0.processed
    }

    /// null until known
    async fn total(&self) -> Option<i32> {
        self.0.total
    }

    async fn created(&self) -> i32 {
        self.0.created
    }

    async fn updated(&self) -> i32 {
        self.0.updated
    }

    async fn unchanged(&self) -> i32 {
        self.0.unchanged
    }

    async fn deactivated(&self) -> i32 {
        self.0.deactivated
    }

    /// People this complete pass would have deactivated but held back: more than the share a
    /// sync may deactivate unasked (or everyone). `confirmDeactivations` applies them; so does
    /// the next complete sync if it agrees. 0 once applied.
    async fn deactivations_held(&self) -> i32 {
        self.0.held_deactivations
    }

    /// Records not imported; see issues.
    async fn skipped(&self) -> i32 {
        self.0.skipped
    }

    #[graphql(complexity = "list_cost(first, MAX_ISSUES, child_complexity)")]
    async fn issues(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
    ) -> ApiResult<Vec<SyncIssue>> {
        let first = page_size(first, 50, MAX_ISSUES, "first")?;
        let issues = ctx.integrations()?.issues_of(&self.0, first).await?;
        Ok(issues.into_iter().map(SyncIssue).collect())
    }

    /// What this run changed, in order: at most `first` (1 to 500) entries after the entry
    /// `after` (a `UserChange.id`).
    #[graphql(complexity = "list_cost(first, MAX_CHANGES, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Vec<UserChange>> {
        let first = page_size(first, 50, MAX_CHANGES, "first")?;
        let after = change_cursor(after)?;
        Ok(ctx.integrations()?.changes_of(&self.0, first, after).await?.into_iter().map(UserChange).collect())
    }

    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    /// "admin:<sub>", "schedule", "mapping-change"
    async fn triggered_by(&self) -> &str {
        &self.0.triggered_by
    }
}

/// A record a run could not import cleanly, or (POSSIBLE_DUPLICATE) two people it could not
/// tell apart.
pub struct SyncIssue(pub entity::sync_issue::Model);

#[Object]
impl SyncIssue {
    /// Stable id, so an admin can act on the issue.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn remote_id(&self) -> Option<&str> {
        self.0.remote_id.as_deref()
    }
    /// MISSING_EMAIL, INVALID_EMAIL, EMAIL_WITHHELD, DUPLICATE_EMAIL, UNKNOWN_MANAGER,
    /// FIELD_WITHHELD, DEACTIVATIONS_HELD, POSSIBLE_DUPLICATE; and from a spreadsheet,
    /// FORMULA_AS_TEXT, VALUE_NOT_READ, MISSING_ID
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// For POSSIBLE_DUPLICATE: the two people it is about (those still in the directory; a
    /// join leaves one).
    async fn people(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let directory = ctx.directory()?;
        let mut people = Vec::new();
        for id in [self.0.user_id, self.0.other_user_id].into_iter().flatten() {
            people.extend(directory.user_batched(id).await?.map(User));
        }
        Ok(people)
    }
    /// An admin said the people of this POSSIBLE_DUPLICATE are not the same person.
    async fn dismissed(&self) -> bool {
        self.0.dismissed_at.is_some()
    }
}

/// A progress event.
#[derive(SimpleObject)]
pub struct SyncProgress {
    pub run: SyncRun,
}

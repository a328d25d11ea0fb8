use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use entity::directory_user::{self as stored, EmploymentStatus, InvitationStatus as StoredInvitation};
use worker::directory::{self, OrgNode};

use super::connection::Connection;
use crate::access::{ConnectionId, UserId};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{page_size, ContextExt};
use crate::graphql::list_cost;

/// Most direct reports one `directReports` answers.
const MAX_REPORTS: i32 = 500;
/// Most activities `activities` answers.
const MAX_ACTIVITIES: usize = worker::activities::MAX_LISTED as usize;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Inactive,
    /// Hired, not started yet (an applicant tracking system's hire, an HR system's onboarding):
    /// ACTIVE from the start date.
    PreStart,
}

impl From<UserStatus> for EmploymentStatus {
    fn from(s: UserStatus) -> Self {
        match s {
            UserStatus::Active => Self::Active,
            UserStatus::Inactive => Self::Inactive,
            UserStatus::PreStart => Self::PreStart,
        }
    }
}

/// NOT_INVITED until their first activity; PENDING while the invitation is on its way (retried
/// when the mail server asks); INVITED once the server accepted it; FAILED when it refused it
/// for good (see `invitationError`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum InvitationStatus {
    NotInvited,
    Pending,
    Invited,
    Failed,
}

/// A person in the User Directory.
pub struct User(pub stored::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }
    async fn employment_status(&self) -> UserStatus {
        match self.0.employment_status {
            EmploymentStatus::Active => UserStatus::Active,
            EmploymentStatus::PreStart => UserStatus::PreStart,
            EmploymentStatus::Inactive => UserStatus::Inactive,
        }
    }
    /// ISO date
    async fn start_date(&self) -> Option<&str> {
        self.0.start_date.as_deref()
    }
    async fn manager(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Ok(ctx.directory()?.manager_of(&self.0).await?.map(User))
    }
    /// In display-name order, at most `first` (1 to 500); `users(filter: {managerId})` pages
    /// through more. Counted as `first` people by the query cost limit.
    #[graphql(complexity = "list_cost(first, MAX_REPORTS, child_complexity)")]
    async fn direct_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: Option<i32>,
    ) -> ApiResult<Vec<User>> {
        let first = page_size(first, 100, MAX_REPORTS, "first")?;
        let reports = ctx.directory()?.reports_of(&self.0).await?;
        Ok(reports.into_iter().take(first).map(User).collect())
    }
    async fn invitation_status(&self) -> InvitationStatus {
        match self.0.invitation_status {
            StoredInvitation::NotInvited => InvitationStatus::NotInvited,
            StoredInvitation::Pending => InvitationStatus::Pending,
            StoredInvitation::Invited => InvitationStatus::Invited,
            StoredInvitation::Failed => InvitationStatus::Failed,
        }
    }
    /// When the mail server accepted their (latest) invitation.
    async fn invited_at(&self) -> Option<DateTime<Utc>> {
        self.0.invited_at
    }
    /// Why their invitation failed, or why a PENDING one is being retried.
    async fn invitation_error(&self) -> Option<&str> {
        self.0.invitation_error.as_deref()
    }
    /// What syncs and admins changed about them, newest first: at most `first` (1 to 100)
    /// entries after the entry `after` (a `UserChange.id`).
    #[graphql(complexity = "list_cost(first, MAX_HISTORY, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Vec<UserChange>> {
        let first = page_size(first, 20, MAX_HISTORY, "first")?;
        let after = change_cursor(after)?;
        Ok(ctx.directory()?.history_of(&self.0, first, after).await?.into_iter().map(UserChange).collect())
    }
    /// Their newest activities (at most 50), newest first. Counted as 50 by the query cost limit.
    #[graphql(complexity = "MAX_ACTIVITIES * child_complexity")]
    async fn activities(&self, ctx: &Context<'_>) -> ApiResult<Vec<ActivityAssignment>> {
        Ok(ctx.directory()?.activities_of(&self.0).await?.into_iter().map(ActivityAssignment).collect())
    }
    /// null for users added by hand
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<UserSource>> {
        Ok(ctx.directory()?.sources_of(&self.0).await?.pop().map(UserSource))
    }
    /// Every source that brings this person in (an HR system and an applicant tracking
    /// system, say), the one synced last last; empty for people added by hand.
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<UserSource>> {
        Ok(ctx.directory()?.sources_of(&self.0).await?.into_iter().map(UserSource).collect())
    }
    /// The groups an identity provider (over SCIM) puts this person in, by name; empty for
    /// people no identity provider pushes.
    async fn groups(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        ctx.directory()?.groups_of(&self.0).await
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Most history entries one page answers.
const MAX_HISTORY: i32 = 100;

/// An `after` argument of a history list: the id of the last entry seen.
pub fn change_cursor(after: Option<String>) -> ApiResult<Option<uuid::Uuid>> {
    after
        .map(|raw| {
            uuid::Uuid::parse_str(&raw)
                .map_err(|_| ApiError::validation("after", "'after' is not an entry of this list"))
        })
        .transpose()
}

/// One change to a person: a field's old and new value (`field` = `created` for the entry of
/// their creation, its new value their email), when, and by what.
pub struct UserChange(pub entity::user_change::Model);

#[Object]
impl UserChange {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let user = ctx.directory()?.user_of_change(&self.0).await?;
        user.map(User).ok_or_else(|| ApiError::not_found("user"))
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The directory field, as `internalFields` names it, or `created`.
    async fn field(&self) -> &str {
        &self.0.field
    }
    async fn old_value(&self) -> Option<&str> {
        self.0.old_value.as_deref()
    }
    async fn new_value(&self) -> Option<&str> {
        self.0.new_value.as_deref()
    }
    /// `sync:<runId>` or `admin:<subject>`.
    async fn by(&self) -> &str {
        &self.0.changed_by
    }
}

/// An activity assigned to a person.
pub struct ActivityAssignment(pub entity::activity_assignment::Model);

#[Object]
impl ActivityAssignment {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let user = ctx.directory()?.user_of(&self.0).await?;
        user.map(User).ok_or_else(|| ApiError::not_found("user"))
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// ISO date
    async fn due_date(&self) -> Option<&str> {
        self.0.due_date.as_deref()
    }
    async fn assigned_at(&self) -> DateTime<Utc> {
        self.0.assigned_at
    }
}

/// Where a synced user came from.
pub struct UserSource(entity::user_source::Model);

#[Object]
impl UserSource {
    /// Integration details are for admins on the paid plan; null for everyone else, so a
    /// member's profile query succeeds whole.
    async fn connection(&self, ctx: &Context<'_>) -> ApiResult<Option<Connection>> {
        let Ok(integrations) = ctx.integrations() else { return Ok(None) };
        Ok(integrations.connection_of_source(&self.0).await?.map(Connection))
    }
    async fn remote_id(&self) -> &str {
        &self.0.remote_id
    }
    async fn last_synced_at(&self) -> DateTime<Utc> {
        self.0.last_synced_at
    }
}

#[derive(InputObject, Default)]
pub struct UserFilter {
    /// name or email, case-insensitive
    pub search: Option<String>,
    pub department: Option<String>,
    pub status: Option<UserStatus>,
    pub connection_id: Option<ID>,
    /// direct reports of this user
    pub manager_id: Option<ID>,
}

/// Longest search text; a name or an email address is far shorter.
const MAX_SEARCH_CHARS: usize = 200;

impl UserFilter {
    pub fn into_domain(self) -> Result<directory::UserFilter, ApiError> {
        if self.search.as_ref().is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
            return Err(ApiError::validation(
                "filter.search",
                format!("'filter.search' may be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        if self.department.as_ref().is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
            return Err(ApiError::validation(
                "filter.department",
                format!("'filter.department' may be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        Ok(directory::UserFilter {
            manager_id: self
                .manager_id
                .as_ref()
                .map(|id| UserId::parse(id, "filter.managerId").map(|id| id.0))
                .transpose()?,
            search: self.search,
            department: self.department,
            status: self.status.map(Into::into),
            connection_id: self
                .connection_id
                .as_ref()
                .map(|id| ConnectionId::parse(id, "filter.connectionId").map(|id| id.0))
                .transpose()?,
        })
    }
}

#[derive(SimpleObject)]
pub struct UserEdge {
    pub cursor: String,
    pub node: User,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

impl From<directory::UserPage> for UserConnection {
    fn from(page: directory::UserPage) -> Self {
        let edges: Vec<UserEdge> = page
            .users
            .into_iter()
            .map(|user| UserEdge { cursor: directory::UserCursor::of(&user).encode(), node: User(user) })
            .collect();
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Self {
            page_info: PageInfo { has_next_page: page.has_next_page, end_cursor },
            total_count: page.total_count as i32,
            edges,
        }
    }
}

#[derive(SimpleObject)]
pub struct OrgChartNode {
    pub user: User,
    pub reports: Vec<OrgChartNode>,
}

impl From<OrgNode> for OrgChartNode {
    fn from(node: OrgNode) -> Self {
        Self { user: User(node.user), reports: node.reports.into_iter().map(Into::into).collect() }
    }
}

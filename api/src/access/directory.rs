//! The read-only directory of one workspace: what any signed-in member may see.

use entity::{activity_assignment, directory_user, user_change, user_source};
use worker::directory::{self, OrgNode, UserCursor, UserFilter, UserPage};
use worker::history;

use super::loaders::{ActivitiesKey, ReportsKey, SourceKey, UserKey};
use super::{ApiContext, UserId, WorkspaceId};
use crate::error::ApiError;

#[derive(Clone)]
pub struct DirectoryAccess {
    api: ApiContext,
    workspace: WorkspaceId,
}

impl DirectoryAccess {
    pub(super) fn new(api: ApiContext, workspace: WorkspaceId) -> Self {
        Self { api, workspace }
    }

    pub(super) fn api(&self) -> &ApiContext {
        &self.api
    }

    pub fn workspace(&self) -> &WorkspaceId {
        &self.workspace
    }

    fn user_key(&self, id: uuid::Uuid) -> UserKey {
        UserKey { workspace_id: self.workspace.as_str().to_string(), id }
    }

    pub async fn users(
        &self,
        filter: &UserFilter,
        first: usize,
        after: Option<UserCursor>,
    ) -> Result<UserPage, ApiError> {
        Ok(directory::list_users(&self.api.0.env.db, self.workspace.as_str(), filter, first as u64, after).await?)
    }

    pub async fn departments(&self, limit: u64) -> Result<Vec<String>, ApiError> {
        Ok(directory::departments(&self.api.0.env.db, self.workspace.as_str(), limit).await?)
    }

    pub async fn user(&self, id: UserId) -> Result<Option<directory_user::Model>, ApiError> {
        Ok(directory::find_user(&self.api.0.env.db, self.workspace.as_str(), id.0).await?)
    }

    pub async fn org_chart(&self, root: Option<UserId>, depth: u32) -> Result<Vec<OrgNode>, ApiError> {
        let db = &self.api.0.env.db;
        Ok(directory::org_chart(db, self.workspace.as_str(), root.map(|r| r.0), depth).await?)
    }

    /// The user's manager, batched with every other manager asked for at the same time.
    pub async fn manager_of(&self, user: &directory_user::Model) -> Result<Option<directory_user::Model>, ApiError> {
        let Some(manager_id) = user.manager_id else { return Ok(None) };
        self.api.0.loaders.load_one(self.user_key(manager_id)).await
    }

    /// The user's direct reports in display-name order, batched like [`Self::manager_of`].
    pub async fn reports_of(&self, user: &directory_user::Model) -> Result<Vec<directory_user::Model>, ApiError> {
        Ok(self.api.0.loaders.load_one(ReportsKey(self.user_key(user.id))).await?.unwrap_or_default())
    }

    /// The user's newest activities, batched like [`Self::manager_of`].
    pub async fn activities_of(
        &self,
        user: &directory_user::Model,
    ) -> Result<Vec<activity_assignment::Model>, ApiError> {
        Ok(self.api.0.loaders.load_one(ActivitiesKey(self.user_key(user.id))).await?.unwrap_or_default())
    }

    /// The user's history, newest first: up to `first` entries after the entry `after`.
    pub async fn history_of(
        &self,
        user: &directory_user::Model,
        first: usize,
        after: Option<uuid::Uuid>,
    ) -> Result<Vec<user_change::Model>, ApiError> {
        let scope = history::Scope::Person(user.id);
        Ok(history::page(&self.api.0.env.db, self.workspace.as_str(), scope, first as u64, after).await?)
    }

    /// The person of this workspace with `id`, batched with every other asked for at once.
    pub async fn user_batched(&self, id: uuid::Uuid) -> Result<Option<directory_user::Model>, ApiError> {
        self.api.0.loaders.load_one(self.user_key(id)).await
    }

    /// The person a history entry is about, batched.
    pub async fn user_of_change(&self, change: &user_change::Model) -> Result<Option<directory_user::Model>, ApiError> {
        self.api.0.loaders.load_one(self.user_key(change.user_id)).await
    }

    /// The user of an activity, batched.
    pub async fn user_of(
        &self,
        activity: &activity_assignment::Model,
    ) -> Result<Option<directory_user::Model>, ApiError> {
        self.api.0.loaders.load_one(self.user_key(activity.user_id)).await
    }

    /// The names of the groups an identity provider (SCIM) puts the user in.
    pub async fn groups_of(&self, user: &directory_user::Model) -> Result<Vec<String>, ApiError> {
        let records: Vec<(uuid::Uuid, String)> =
            self.sources_of(user).await?.into_iter().map(|s| (s.connection_id, s.remote_id)).collect();
        let names = worker::scim::store::group_names_of(&self.api.0.env.db, &records).await;
        Ok(names.map_err(worker::Error::from)?)
    }

    /// Every connection's record of the user, the one synced last last; none for people added
    /// by hand.
    pub async fn sources_of(&self, user: &directory_user::Model) -> Result<Vec<user_source::Model>, ApiError> {
        if user.workspace_id != self.workspace.as_str() {
            return Ok(Vec::new());
        }
        Ok(self.api.0.loaders.load_one(SourceKey(user.id)).await?.unwrap_or_default())
    }
}

//! Batched reads for fields that sit under lists (a user's manager, reports and source, a run's
//! connection): a page of 500 users costs one query per such field, not one per user. Keys
//! carry the workspace, so one loader serves every request; nothing is cached between loads.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use entity::{activity_assignment, connection, directory_user, user_source};
use worker::directory;
use worker::integrations::connections;

use crate::error::ApiError;

pub(super) type Loaders = DataLoader<DirectoryLoader>;

pub(super) fn loaders(db: DatabaseConnection) -> Loaders {
    DataLoader::new(DirectoryLoader { db }, tokio::spawn)
}

pub struct DirectoryLoader {
    db: DatabaseConnection,
}

/// A user of a workspace, by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserKey {
    pub workspace_id: String,
    pub id: Uuid,
}

/// Everyone whose manager is this user of a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReportsKey(pub UserKey);

/// Where a user came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceKey(pub Uuid);

/// The newest activities of a user of a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActivitiesKey(pub UserKey);

/// A connection of a workspace, by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    pub workspace_id: String,
    pub id: Uuid,
}

/// The ids asked for in each workspace.
fn by_workspace<'k>(keys: impl Iterator<Item = (&'k str, Uuid)>) -> HashMap<&'k str, Vec<Uuid>> {
    let mut groups: HashMap<&str, Vec<Uuid>> = HashMap::new();
    for (workspace_id, id) in keys {
        groups.entry(workspace_id).or_default().push(id);
    }
    groups
}

impl Loader<UserKey> for DirectoryLoader {
    type Value = directory_user::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[UserKey]) -> Result<HashMap<UserKey, Self::Value>, ApiError> {
        let mut found = HashMap::new();
        for (workspace_id, ids) in by_workspace(keys.iter().map(|k| (k.workspace_id.as_str(), k.id))) {
            for user in directory::find_users(&self.db, workspace_id, ids).await? {
                found.insert(UserKey { workspace_id: workspace_id.to_string(), id: user.id }, user);
            }
        }
        Ok(found)
    }
}

impl Loader<ReportsKey> for DirectoryLoader {
    type Value = Vec<directory_user::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[ReportsKey]) -> Result<HashMap<ReportsKey, Self::Value>, ApiError> {
        let mut found: HashMap<ReportsKey, Self::Value> = HashMap::new();
        for (workspace_id, ids) in by_workspace(keys.iter().map(|k| (k.0.workspace_id.as_str(), k.0.id))) {
            for user in directory::reports_of(&self.db, workspace_id, ids, false, None).await? {
                let Some(manager_id) = user.manager_id else { continue };
                let key = ReportsKey(UserKey { workspace_id: workspace_id.to_string(), id: manager_id });
                found.entry(key).or_default().push(user);
            }
        }
        Ok(found)
    }
}

impl Loader<SourceKey> for DirectoryLoader {
    type Value = Vec<user_source::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[SourceKey]) -> Result<HashMap<SourceKey, Self::Value>, ApiError> {
        let sources = directory::sources_of(&self.db, keys.iter().map(|k| k.0).collect()).await?;
        Ok(sources.into_iter().map(|(user_id, source)| (SourceKey(user_id), source)).collect())
    }
}

impl Loader<ActivitiesKey> for DirectoryLoader {
    type Value = Vec<activity_assignment::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[ActivitiesKey]) -> Result<HashMap<ActivitiesKey, Self::Value>, ApiError> {
        let mut found = HashMap::new();
        for (workspace_id, ids) in by_workspace(keys.iter().map(|k| (k.0.workspace_id.as_str(), k.0.id))) {
            for (id, activities) in worker::activities::of_people(&self.db, workspace_id, ids).await? {
                found.insert(ActivitiesKey(UserKey { workspace_id: workspace_id.to_string(), id }), activities);
            }
        }
        Ok(found)
    }
}

impl Loader<ConnectionKey> for DirectoryLoader {
    type Value = connection::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[ConnectionKey]) -> Result<HashMap<ConnectionKey, Self::Value>, ApiError> {
        let mut found = HashMap::new();
        for (workspace_id, ids) in by_workspace(keys.iter().map(|k| (k.workspace_id.as_str(), k.id))) {
            for connection in connections::find_many(&self.db, workspace_id, ids).await? {
                found.insert(ConnectionKey { workspace_id: workspace_id.to_string(), id: connection.id }, connection);
            }
        }
        Ok(found)
    }
}

//! Reading the User Directory: filtered, keyset-paginated lists, people and the org chart.

use std::collections::HashMap;

use base64::Engine;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::directory_user::{self, EmploymentStatus};
use entity::user_source;

use crate::error::{Error, Result};

/// Narrowing of the users list; every part is optional.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// Name or email, case-insensitive substring.
    pub search: Option<String>,
    pub department: Option<String>,
    pub status: Option<EmploymentStatus>,
    pub connection_id: Option<Uuid>,
    /// Direct reports of this user.
    pub manager_id: Option<Uuid>,
}

/// Position after a user in display-name order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCursor {
    name: String,
    id: Uuid,
}

impl UserCursor {
    pub fn of(user: &directory_user::Model) -> Self {
        Self { name: user.display_name.clone(), id: user.id }
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursors serialise");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> Result<Self> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(Error::Validation { field: "after", message: "'after' is not a cursor from this list".into() })
    }
}

pub struct UserPage {
    pub users: Vec<directory_user::Model>,
    pub has_next_page: bool,
    pub total_count: u64,
}

fn filter_condition(workspace_id: &str, filter: &UserFilter) -> Condition {
    let mut condition = Condition::all().add(directory_user::Column::WorkspaceId.eq(workspace_id));
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let escaped = search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = LikeExpr::new(format!("%{escaped}%")).escape('\\');
        condition = condition.add(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(directory_user::Column::DisplayName))).like(pattern.clone()))
                .add(directory_user::Column::EmailNormalized.like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(directory_user::Column::FirstName))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(directory_user::Column::LastName))).like(pattern.clone())),
        );
    }
    if let Some(department) = &filter.department {
        condition = condition.add(directory_user::Column::Department.eq(department.clone()));
    }
    if let Some(status) = filter.status {
        condition = condition.add(directory_user::Column::EmploymentStatus.eq(status));
    }
    if let Some(manager_id) = filter.manager_id {
        condition = condition.add(directory_user::Column::ManagerId.eq(manager_id));
    }
    if let Some(connection_id) = filter.connection_id {
        condition = condition.add(
            directory_user::Column::Id.in_subquery(
                user_source::Entity::find()
                    .select_only()
                    .column(user_source::Column::UserId)
                    .filter(user_source::Column::ConnectionId.eq(connection_id))
                    .into_query(),
            ),
        );
    }
    condition
}

/// One page of users in display-name order, after `after`.
pub async fn list_users(
    db: &DatabaseConnection,
    workspace_id: &str,
    filter: &UserFilter,
    first: u64,
    after: Option<UserCursor>,
) -> Result<UserPage> {
    let condition = filter_condition(workspace_id, filter);
    let total_count = directory_user::Entity::find().filter(condition.clone()).count(db).await?;
    let mut query = directory_user::Entity::find().filter(condition);
    if let Some(after) = after {
        query = query.filter(
            Condition::any().add(directory_user::Column::DisplayName.gt(after.name.clone())).add(
                Condition::all()
                    .add(directory_user::Column::DisplayName.eq(after.name))
                    .add(directory_user::Column::Id.gt(after.id)),
            ),
        );
    }
    let mut users = query
        .order_by_asc(directory_user::Column::DisplayName)
        .order_by_asc(directory_user::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_next_page = users.len() as u64 > first;
    users.truncate(first as usize);
    Ok(UserPage { users, has_next_page, total_count })
}

/// The departments people of the workspace are in, in order, at most `limit` of them: the
/// choices of the directory's department filter.
pub async fn departments(db: &DatabaseConnection, workspace_id: &str, limit: u64) -> Result<Vec<String>> {
    Ok(directory_user::Entity::find()
        .select_only()
        .column(directory_user::Column::Department)
        .distinct()
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .filter(directory_user::Column::Department.is_not_null())
        .order_by_asc(directory_user::Column::Department)
        .limit(limit)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// A user of the workspace, or `None`.
pub async fn find_user<C: ConnectionTrait>(
    db: &C,
    workspace_id: &str,
    id: Uuid,
) -> Result<Option<directory_user::Model>> {
    Ok(directory_user::Entity::find_by_id(id)
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?)
}

/// A user of the workspace, or NOT_FOUND.
pub async fn user_in<C: ConnectionTrait>(db: &C, workspace_id: &str, id: Uuid) -> Result<directory_user::Model> {
    find_user(db, workspace_id, id).await?.ok_or(Error::NotFound("user"))
}

/// The users of the workspace among `ids`; unknown ids are left out.
pub async fn find_users(
    db: &DatabaseConnection,
    workspace_id: &str,
    ids: Vec<Uuid>,
) -> Result<Vec<directory_user::Model>> {
    Ok(directory_user::Entity::find()
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .filter(directory_user::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

/// Direct reports of each of `manager_ids` (only those with the company, started or not, when `active_only`), in
/// display-name order, at most `limit` of them in all.
pub async fn reports_of(
    db: &DatabaseConnection,
    workspace_id: &str,
    manager_ids: Vec<Uuid>,
    active_only: bool,
    limit: Option<u64>,
) -> Result<Vec<directory_user::Model>> {
    let mut query = directory_user::Entity::find()
        .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
        .filter(directory_user::Column::ManagerId.is_in(manager_ids));
    if active_only {
        query = query.filter(directory_user::Column::EmploymentStatus.is_in(EmploymentStatus::WITH_COMPANY));
    }
    Ok(query.order_by_asc(directory_user::Column::DisplayName).limit(limit).all(db).await?)
}

/// Where each of `user_ids` came from: every connection's record of them, the one synced last
/// last; people added by hand have none.
pub async fn sources_of(
    db: &DatabaseConnection,
    user_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<user_source::Model>>> {
    let rows = user_source::Entity::find()
        .filter(user_source::Column::UserId.is_in(user_ids))
        .order_by_asc(user_source::Column::LastSyncedAt)
        .all(db)
        .await?;
    let mut sources: HashMap<Uuid, Vec<user_source::Model>> = HashMap::new();
    for row in rows {
        sources.entry(row.user_id).or_default().push(row);
    }
    Ok(sources)
}

/// A node of the org chart.
pub struct OrgNode {
    pub user: directory_user::Model,
    pub reports: Vec<OrgNode>,
}

/// Most people one org chart answer holds; deeper or wider charts are read in parts
/// (`rootUserId`), as the portal's lazy loading does.
pub const MAX_ORG_CHART_NODES: usize = 5_000;

/// People with the company (active or pre-start) from `root` (or everyone without a manager) down `depth` levels, loaded one
/// level per query; more than [`MAX_ORG_CHART_NODES`] people is a validation error naming
/// `depth`, found before the level that would exceed it is read whole.
pub async fn org_chart(
    db: &DatabaseConnection,
    workspace_id: &str,
    root: Option<Uuid>,
    depth: u32,
) -> Result<Vec<OrgNode>> {
    let roots = match root {
        Some(id) => find_user(db, workspace_id, id).await?.into_iter().collect(),
        // Everyone active without an active manager, so a departed CEO hides no one.
        None => {
            directory_user::Entity::find()
                .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
                .filter(directory_user::Column::EmploymentStatus.is_in(EmploymentStatus::WITH_COMPANY))
                .filter(
                    Condition::any().add(directory_user::Column::ManagerId.is_null()).add(
                        directory_user::Column::ManagerId.in_subquery(
                            directory_user::Entity::find()
                                .select_only()
                                .column(directory_user::Column::Id)
                                .filter(directory_user::Column::WorkspaceId.eq(workspace_id))
                                .filter(directory_user::Column::EmploymentStatus.eq(EmploymentStatus::Inactive))
                                .into_query(),
                        ),
                    ),
                )
                .order_by_asc(directory_user::Column::DisplayName)
                .all(db)
                .await?
        }
    };
    let too_many = || Error::Validation {
        field: "depth",
        message: format!(
            "the org chart holds more than {MAX_ORG_CHART_NODES} people at this depth; \
             ask for less depth, or for the part under one person with rootUserId"
        ),
    };
    let mut loaded = roots.len();
    if loaded > MAX_ORG_CHART_NODES {
        return Err(too_many());
    }
    let mut levels = vec![roots];
    for _ in 1..Ord::max(depth, 1) {
        let ids: Vec<Uuid> = levels.last().expect("one level at least").iter().map(|u| u.id).collect();
        if ids.is_empty() {
            break;
        }
        let remaining = (MAX_ORG_CHART_NODES - loaded) as u64;
        let level = reports_of(db, workspace_id, ids, true, Some(remaining + 1)).await?;
        loaded += level.len();
        if loaded > MAX_ORG_CHART_NODES {
            return Err(too_many());
        }
        levels.push(level);
    }
    Ok(assemble(levels))
}

/// Hangs each level's people under their managers in the level above; order within a level
/// is kept.
fn assemble(mut levels: Vec<Vec<directory_user::Model>>) -> Vec<OrgNode> {
    let mut below: Vec<OrgNode> = Vec::new();
    while let Some(level) = levels.pop() {
        let mut nodes: Vec<OrgNode> = level.into_iter().map(|user| OrgNode { user, reports: Vec::new() }).collect();
        let position: HashMap<Uuid, usize> = nodes.iter().enumerate().map(|(i, n)| (n.user.id, i)).collect();
        for child in below.drain(..) {
            if let Some(&parent) = child.user.manager_id.as_ref().and_then(|id| position.get(id)) {
                nodes[parent].reports.push(child);
            }
        }
        below = nodes;
    }
    below
}

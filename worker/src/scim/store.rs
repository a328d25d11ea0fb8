//! What a SCIM connection's provider sent, kept: users and groups (`scim_resource`) and group
//! memberships (`scim_member`). Every query names the connection: a resource of another
//! connection, or another workspace's, is not found.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::Value;
use uuid::Uuid;

use entity::scim_member;
use entity::scim_resource::{self, Column, Entity, Model};

use super::patch::{Member, MemberChange};
use super::resource::{self, ResourceType};
use super::{ScimError, ScimResult};

/// Rows per statement: within both databases' limits on parameters.
const CHUNK: usize = 1_000;

/// The connection a request is for.
#[derive(Debug, Clone)]
pub struct Scope {
    pub workspace_id: String,
    pub connection_id: Uuid,
}

fn live(scope: &Scope, kind: ResourceType) -> Condition {
    Condition::all()
        .add(Column::ConnectionId.eq(scope.connection_id))
        .add(Column::ResourceType.eq(kind.as_str()))
        .add(Column::DeletedAt.is_null())
}

/// The query for live resource `id` of the connection; an id that is no UUID is nobody's.
fn by_id(scope: &Scope, kind: ResourceType, id: &str) -> ScimResult<sea_orm::Select<Entity>> {
    let Ok(id) = Uuid::parse_str(id) else { return Err(ScimError::NotFound(kind.as_str())) };
    Ok(Entity::find_by_id(id).filter(live(scope, kind)))
}

/// The live resource `id` of the connection.
pub async fn find<C: ConnectionTrait>(db: &C, scope: &Scope, kind: ResourceType, id: &str) -> ScimResult<Model> {
    by_id(scope, kind, id)?.one(db).await?.ok_or(ScimError::NotFound(kind.as_str()))
}

/// [`find`], with the row locked (on PostgreSQL; SQLite's write transaction holds the database)
/// so that two requests changing one resource at once apply one after the other.
pub async fn find_for_update<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    kind: ResourceType,
    id: &str,
) -> ScimResult<Model> {
    let mut query = by_id(scope, kind, id)?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(db).await?.ok_or(ScimError::NotFound(kind.as_str()))
}

/// A page of the live resources `condition` selects, oldest first (an order that holds from one
/// page to the next), from 1-based `start_index`; with how many there are in all.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    kind: ResourceType,
    condition: Condition,
    start_index: u64,
    count: u64,
) -> ScimResult<(u64, Vec<Model>)> {
    let query = Entity::find().filter(live(scope, kind)).filter(condition);
    let total = query.clone().count(db).await?;
    let rows = if count == 0 {
        Vec::new()
    } else {
        query
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .offset(start_index.saturating_sub(1))
            .limit(count)
            .all(db)
            .await?
    };
    Ok((total, rows))
}

/// The columns a document sets.
struct Columns {
    name_key: String,
    external_id: Option<String>,
    display_name: Option<String>,
    active: bool,
    emails_key: String,
}

fn columns_of(kind: ResourceType, doc: &Value) -> Columns {
    let name = match kind {
        ResourceType::User => resource::text(doc, "userName"),
        ResourceType::Group => resource::text(doc, "displayName"),
    };
    Columns {
        name_key: name.unwrap_or_default().to_lowercase(),
        external_id: resource::text(doc, "externalId").map(str::to_string),
        display_name: resource::text(doc, "displayName").map(str::to_string),
        active: doc.get("active").and_then(resource::boolean).unwrap_or(true),
        emails_key: resource::emails_key(doc),
    }
}

/// A user's userName is taken by another live user of the connection (RFC 7643 §4.1.1: unique,
/// case-insensitively). A group's displayName may repeat: Entra ID lets two groups share one.
async fn check_unique<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    kind: ResourceType,
    name_key: &str,
    except: Option<Uuid>,
) -> ScimResult<()> {
    if kind == ResourceType::Group {
        return Ok(());
    }
    let mut query = Entity::find().filter(live(scope, kind)).filter(Column::NameKey.eq(name_key));
    if let Some(id) = except {
        query = query.filter(Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(taken(kind));
    }
    Ok(())
}

fn taken(kind: ResourceType) -> ScimError {
    ScimError::Uniqueness(format!("a {} with this userName already exists", kind.as_str()))
}

/// A unique index refusing a write the check let through (two requests at once) is the same
/// 409 the check gives.
fn uniqueness(kind: ResourceType, err: sea_orm::DbErr) -> ScimError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => taken(kind),
        _ => ScimError::Internal(err),
    }
}

/// Stores a new resource.
pub async fn insert<C: ConnectionTrait>(db: &C, scope: &Scope, kind: ResourceType, doc: Value) -> ScimResult<Model> {
    let columns = columns_of(kind, &doc);
    check_unique(db, scope, kind, &columns.name_key, None).await?;
    let now = Utc::now();
    let row = scim_resource::ActiveModel {
        id: Set(Uuid::now_v7()),
        workspace_id: Set(scope.workspace_id.clone()),
        connection_id: Set(scope.connection_id),
        resource_type: Set(kind.as_str().to_string()),
        name_key: Set(columns.name_key),
        external_id: Set(columns.external_id),
        display_name: Set(columns.display_name),
        active: Set(columns.active),
        emails_key: Set(columns.emails_key),
        document: Set(doc),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        // Created inactive deactivates nobody: nothing for the guard to count.
        deactivated_at: Set(None),
        deactivation_held: Set(false),
    };
    row.insert(db).await.map_err(|err| uniqueness(kind, err))
}

/// Stores `doc` as resource `row`'s new content. A user's deactivation (active turning false) is
/// stamped for the guard; a reactivation clears a held one.
pub async fn update<C: ConnectionTrait>(db: &C, scope: &Scope, row: Model, doc: Value) -> ScimResult<Model> {
    let kind = if row.resource_type == ResourceType::Group.as_str() { ResourceType::Group } else { ResourceType::User };
    let columns = columns_of(kind, &doc);
    check_unique(db, scope, kind, &columns.name_key, Some(row.id)).await?;
    let now = Utc::now();
    let (was_active, version) = (row.active, row.version);
    let mut active = row.into_active_model();
    if was_active && !columns.active {
        active.deactivated_at = Set(Some(now));
    }
    if columns.active {
        active.deactivated_at = Set(None);
        active.deactivation_held = Set(false);
    }
    active.name_key = Set(columns.name_key);
    active.external_id = Set(columns.external_id);
    active.display_name = Set(columns.display_name);
    active.active = Set(columns.active);
    active.emails_key = Set(columns.emails_key);
    active.document = Set(doc);
    active.version = Set(version + 1);
    active.updated_at = Set(now);
    active.update(db).await.map_err(|err| uniqueness(kind, err))
}

/// A DELETE: the resource is gone for the provider; a user's row stays for their deactivation,
/// and its memberships go.
pub async fn delete<C: ConnectionTrait>(db: &C, row: Model) -> ScimResult<Model> {
    let now = Utc::now();
    scim_member::Entity::delete_many()
        .filter(
            Condition::any().add(scim_member::Column::GroupId.eq(row.id)).add(scim_member::Column::MemberId.eq(row.id)),
        )
        .exec(db)
        .await?;
    let was_active = row.active;
    let version = row.version;
    let mut active = row.into_active_model();
    active.deleted_at = Set(Some(now));
    if was_active {
        active.deactivated_at = Set(Some(now));
    }
    active.active = Set(false);
    active.version = Set(version + 1);
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

/// A group's members: id and display.
pub type Related = Vec<(Uuid, Option<String>)>;

/// The members of each of `groups`, in the order they were added.
pub async fn members_of<C: ConnectionTrait>(db: &C, groups: &[Uuid]) -> ScimResult<HashMap<Uuid, Related>> {
    let mut out: HashMap<Uuid, Related> = HashMap::new();
    for chunk in groups.chunks(CHUNK) {
        let rows = scim_member::Entity::find()
            .filter(scim_member::Column::GroupId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        for row in rows {
            out.entry(row.group_id).or_default().push((row.member_id, row.display));
        }
    }
    Ok(out)
}

/// The live groups each of `users` is a member of, with the group's displayName.
pub async fn groups_of<C: ConnectionTrait>(db: &C, users: &[Uuid]) -> ScimResult<HashMap<Uuid, Related>> {
    let mut memberships = Vec::new();
    for chunk in users.chunks(CHUNK) {
        memberships.extend(
            scim_member::Entity::find()
                .filter(scim_member::Column::MemberId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    let group_ids: Vec<Uuid> = memberships.iter().map(|m| m.group_id).collect::<HashSet<_>>().into_iter().collect();
    let mut names: HashMap<Uuid, Option<String>> = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let rows = Entity::find()
            .filter(Column::Id.is_in(chunk.iter().copied()))
            .filter(Column::DeletedAt.is_null())
            .all(db)
            .await?;
        names.extend(rows.into_iter().map(|g| (g.id, g.display_name)));
    }
    let mut out: HashMap<Uuid, Related> = HashMap::new();
    for membership in memberships {
        if let Some(name) = names.get(&membership.group_id) {
            out.entry(membership.member_id).or_default().push((membership.group_id, name.clone()));
        }
    }
    Ok(out)
}

/// Applies member changes to `group`: each a few set-based statements however many members it
/// names. A member must be a live user (or group) of the connection: anything else is an
/// `invalidValue` naming it, and nothing changes.
pub async fn change_members<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    group: Uuid,
    changes: Vec<MemberChange>,
) -> ScimResult<()> {
    for change in changes {
        match change {
            MemberChange::Add(members) => add_members(db, scope, group, members).await?,
            MemberChange::Replace(members) => {
                remove_all(db, group).await?;
                add_members(db, scope, group, members).await?;
            }
            MemberChange::RemoveAll => remove_all(db, group).await?,
            MemberChange::Remove(ids) => {
                // An id that is no member is nothing to remove (RFC 7644 §3.5.2.2).
                let ids: Vec<Uuid> = ids.iter().filter_map(|id| Uuid::parse_str(id).ok()).collect();
                for chunk in ids.chunks(CHUNK) {
                    scim_member::Entity::delete_many()
                        .filter(scim_member::Column::GroupId.eq(group))
                        .filter(scim_member::Column::MemberId.is_in(chunk.iter().copied()))
                        .exec(db)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

async fn remove_all<C: ConnectionTrait>(db: &C, group: Uuid) -> ScimResult<()> {
    scim_member::Entity::delete_many().filter(scim_member::Column::GroupId.eq(group)).exec(db).await?;
    Ok(())
}

async fn add_members<C: ConnectionTrait>(db: &C, scope: &Scope, group: Uuid, members: Vec<Member>) -> ScimResult<()> {
    let mut parsed = Vec::with_capacity(members.len());
    for member in members {
        let Ok(id) = Uuid::parse_str(&member.value) else { return Err(unknown_member(&member.value)) };
        parsed.push((id, member.display));
    }
    for chunk in parsed.chunks(CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
        let known: HashSet<Uuid> = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::ConnectionId.eq(scope.connection_id))
            .filter(Column::DeletedAt.is_null())
            .filter(Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        if let Some(unknown) = ids.iter().find(|id| !known.contains(id)) {
            return Err(unknown_member(&unknown.to_string()));
        }
        let rows = chunk.iter().map(|(id, display)| scim_member::ActiveModel {
            group_id: Set(group),
            member_id: Set(*id),
            display: Set(display.clone()),
        });
        scim_member::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([scim_member::Column::GroupId, scim_member::Column::MemberId])
                    .update_column(scim_member::Column::Display)
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn unknown_member(id: &str) -> ScimError {
    ScimError::InvalidValue(format!("member '{}' is no user or group of this connection", crate::text::excerpt(id, 64)))
}

/// Each user of the connection pushed since a moment, for the guard: how many were deactivated
/// (or deleted) since `since`, and how many of those were applied (not held).
pub async fn deactivated_since<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
    since: chrono::DateTime<Utc>,
) -> Result<(u64, u64), sea_orm::DbErr> {
    let recent = Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::ResourceType.eq(ResourceType::User.as_str()))
        .filter(Column::DeactivatedAt.gte(since));
    let all = recent.clone().count(db).await?;
    let held = recent.filter(Column::DeactivationHeld.eq(true)).count(db).await?;
    Ok((all, all - held))
}

/// The connection's users whose deactivation the guard holds.
pub async fn held<C: ConnectionTrait>(db: &C, connection_id: Uuid) -> Result<Vec<Model>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::DeactivationHeld.eq(true))
        .order_by_asc(Column::DeactivatedAt)
        .all(db)
        .await
}

/// Marks (or clears) `row`'s held deactivation.
pub async fn set_held<C: ConnectionTrait>(db: &C, id: Uuid, held: bool) -> Result<(), sea_orm::DbErr> {
    Entity::update_many()
        .col_expr(Column::DeactivationHeld, Expr::value(held))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The SCIM ids of the users whose id or externalId is `reference`, live first.
pub async fn user_named<C: ConnectionTrait>(db: &C, connection_id: Uuid, reference: &str) -> ScimResult<Option<Uuid>> {
    let by_id = Uuid::parse_str(reference).ok();
    let mut condition = Condition::any().add(Column::ExternalId.eq(reference));
    if let Some(id) = by_id {
        condition = condition.add(Column::Id.eq(id));
    }
    let found = Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::ResourceType.eq(ResourceType::User.as_str()))
        .filter(condition)
        .order_by_desc(Expr::col(Column::DeletedAt).is_null())
        .one(db)
        .await?;
    Ok(found.map(|row| row.id))
}

/// The users SCIM providers pushed, for a sync of their connection to read (see
/// `providers::scim`).
#[derive(Debug, Clone)]
pub struct PushedUsers {
    db: sea_orm::DatabaseConnection,
}

impl PushedUsers {
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn users_after(
        &self,
        connection_id: Uuid,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Model>, sea_orm::DbErr> {
        users_after(&self.db, connection_id, after, limit).await
    }

    pub async fn external_ids(&self, connection_id: Uuid) -> Result<HashMap<String, Uuid>, sea_orm::DbErr> {
        external_ids(&self.db, connection_id).await
    }
}

/// Every live user of the connection from `after` on (by id), a page at a time, for a re-sync;
/// and the deleted ones whose deactivation the guard holds, so that the re-sync does not take
/// them for leavers behind the admin's back.
async fn users_after<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Model>, sea_orm::DbErr> {
    let mut query = Entity::find()
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::ResourceType.eq(ResourceType::User.as_str()))
        .filter(Condition::any().add(Column::DeletedAt.is_null()).add(Column::DeactivationHeld.eq(true)));
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    query.order_by_asc(Column::Id).limit(limit).all(db).await
}

/// The live users of the connection with an externalId, by it: to resolve managers named by
/// externalId in a re-sync.
async fn external_ids<C: ConnectionTrait>(
    db: &C,
    connection_id: Uuid,
) -> Result<HashMap<String, Uuid>, sea_orm::DbErr> {
    let rows: Vec<(Uuid, Option<String>)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::ExternalId)
        .filter(Column::ConnectionId.eq(connection_id))
        .filter(Column::ResourceType.eq(ResourceType::User.as_str()))
        .filter(Column::DeletedAt.is_null())
        .filter(Column::ExternalId.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(id, external)| external.map(|e| (e, id))).collect())
}

/// The names of the live groups a person is in, by their records at SCIM connections (each a
/// `(connection, remote id)` of theirs; records of other connections find nothing).
pub async fn group_names_of<C: ConnectionTrait>(
    db: &C,
    records: &[(Uuid, String)],
) -> Result<Vec<String>, sea_orm::DbErr> {
    let mut names = Vec::new();
    for (connection_id, remote_id) in records {
        let Ok(member) = Uuid::parse_str(remote_id) else { continue };
        let groups: Vec<Uuid> = scim_member::Entity::find()
            .select_only()
            .column(scim_member::Column::GroupId)
            .filter(scim_member::Column::MemberId.eq(member))
            .into_tuple()
            .all(db)
            .await?;
        if groups.is_empty() {
            continue;
        }
        let rows = Entity::find()
            .filter(Column::Id.is_in(groups))
            .filter(Column::ConnectionId.eq(*connection_id))
            .filter(Column::DeletedAt.is_null())
            .all(db)
            .await?;
        names.extend(rows.into_iter().filter_map(|g| g.display_name));
    }
    names.sort();
    names.dedup();
    Ok(names)
}

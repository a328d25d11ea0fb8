//! A SCIM connection's use cases: connecting one (and its token), answering its provider's
//! requests, and confirming the deactivations the guard held. Each request that changes a user
//! is one transaction: the stored resource and the person in the directory change together, or
//! neither does.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

use entity::connection::{self, AuthMethod as StoredAuthMethod, ConnectionStatus};
use entity::scim_resource;

use super::connections;
use crate::environment::{begin_write, Environment};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::providers::catalogue;
use crate::providers::{scim as provider, EMPLOYMENT_INACTIVE};
use crate::scim::patch::{self, Operation};
use crate::scim::resource::{self, Answer, ResourceType, LIST_SCHEMA};
use crate::scim::store::{self, Scope};
use crate::scim::{filter, tokens, ScimError, ScimResult, MAX_COUNT};
use crate::sync::push::{Pusher, Rejection};

/// Connects a SCIM source: a new connection and its token, shown this once.
pub async fn connect(env: &Environment, workspace_id: &str) -> Result<(connection::Model, SecretString)> {
    let provider = catalogue::find(provider::ID).ok_or(Error::NotFound("provider"))?;
    let (token, hash) = tokens::issue();
    let mut active = connections::new_connection(Uuid::now_v7(), workspace_id, provider, None);
    active.auth_method = Set(StoredAuthMethod::Push);
    active.status = Set(ConnectionStatus::Connected);
    active.push_token_hash = Set(Some(hash));
    active.credential_hint = Set(Some(hint(&token)));
    active.discovered_fields = Set(Some(serde_json::to_value(resource::fields()).expect("fields serialise")));
    active.fields_discovered_at = Set(Some(Utc::now()));
    let connection = active.insert(&env.db).await?;
    env.events.publish(Event::ConnectionChanged { connection_id: connection.id }).await;
    tracing::info!(connection_id = %connection.id, "connected a SCIM source");
    Ok((connection, token))
}

/// The token's last four characters, for the admin to tell tokens apart.
fn hint(token: &SecretString) -> String {
    use secrecy::ExposeSecret;
    let token = token.expose_secret();
    format!("…{}", &token[token.len() - 4..])
}

/// A new token for SCIM connection `connection`; the old one stops working at once.
pub async fn rotate_token(
    env: &Environment,
    connection: connection::Model,
) -> Result<(connection::Model, SecretString)> {
    if !catalogue::is_pushed(&connection.provider_id) {
        return Err(Error::Validation {
            field: "connectionId",
            message: "only a SCIM connection has a token to rotate".into(),
        });
    }
    let (token, hash) = tokens::issue();
    let mut active = connection.into_active_model();
    active.push_token_hash = Set(Some(hash));
    active.credential_hint = Set(Some(hint(&token)));
    active.status = Set(ConnectionStatus::Connected);
    active.status_message = Set(None);
    active.updated_at = Set(Utc::now());
    let connection = active.update(&env.db).await?;
    tracing::info!(connection_id = %connection.id, "rotated a SCIM token");
    Ok((connection, token))
}

/// Who a SCIM request's bearer token says it is.
#[derive(Debug, PartialEq, Eq)]
pub enum Caller {
    /// The token is this connection's, and the request is for it.
    Connection(connection::Model),
    /// The token is no connection's (or its connection was disconnected): 401.
    Unknown,
    /// The token is another connection's than the request's: 404, as if there were none.
    Elsewhere,
}

/// Authenticates a request for connection `connection_id` (as the URL gives it) by its token.
pub async fn caller(env: &Environment, connection_id: &str, token: &SecretString) -> Result<Caller> {
    use secrecy::ExposeSecret;
    let hash = tokens::hash(token.expose_secret());
    let holder = connection::Entity::find()
        .filter(connection::Column::PushTokenHash.eq(hash.clone()))
        .filter(connection::Column::Status.ne(ConnectionStatus::Disconnected))
        .one(&env.db)
        .await?;
    let Some(holder) = holder else { return Ok(Caller::Unknown) };
    Ok(if Uuid::parse_str(connection_id).ok() == Some(holder.id) {
        Caller::Connection(holder)
    } else {
        Caller::Elsewhere
    })
}

/// A request's list parameters.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
}

/// Which attributes an answer carries.
#[derive(Debug, Default, Clone)]
pub struct Projection {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

/// What a request that changes a resource asks besides the change: the version it holds
/// (`If-Match`), and which attributes to answer with.
#[derive(Debug, Clone, Copy)]
pub struct Conditions<'r> {
    pub if_match: Option<&'r str>,
    pub projection: &'r Projection,
}

/// A resource as answered, with its version for the ETag header.
pub struct Answered {
    pub body: Value,
    pub version: i32,
    /// Why the user the request changed is not in the directory (no valid email, say), for the
    /// connection's card. The provider is not refused: one unusable user must not fail (and
    /// get quarantined) the provisioning of everyone else.
    pub skipped: Option<String>,
}

/// The requests of one SCIM connection.
pub struct Endpoint<'e> {
    env: &'e Environment,
    connection: connection::Model,
    scope: Scope,
    /// `…/scim/v2/<connection>`, for `meta.location`.
    base_url: String,
}

impl<'e> Endpoint<'e> {
    pub fn new(env: &'e Environment, connection: connection::Model, base_url: String) -> Self {
        let scope = Scope { workspace_id: connection.workspace_id.clone(), connection_id: connection.id };
        Self { env, connection, scope, base_url }
    }

    pub fn connection_id(&self) -> Uuid {
        self.connection.id
    }

    /// The resource as answered, with its related resources (a user's groups, a group's
    /// members) unless the projection leaves them out.
    async fn answer<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        kind: ResourceType,
        row: &scim_resource::Model,
        projection: &Projection,
    ) -> ScimResult<Answered> {
        let mut answered = self.answers(db, kind, std::slice::from_ref(row), projection).await?;
        Ok(answered.pop().expect("one row, one answer"))
    }

    async fn answers<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        kind: ResourceType,
        rows: &[scim_resource::Model],
        projection: &Projection,
    ) -> ScimResult<Vec<Answered>> {
        let related_name = match kind {
            ResourceType::User => "groups",
            ResourceType::Group => "members",
        };
        let wanted = !projection.excluded.iter().any(|e| e.eq_ignore_ascii_case(related_name))
            && (projection.attributes.is_empty()
                || projection.attributes.iter().any(|a| a.eq_ignore_ascii_case(related_name)));
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut related = match (wanted, kind) {
            (false, _) => Default::default(),
            (true, ResourceType::User) => store::groups_of(db, &ids).await?,
            (true, ResourceType::Group) => store::members_of(db, &ids).await?,
        };
        Ok(rows
            .iter()
            .map(|row| {
                let answer = Answer {
                    kind,
                    id: row.id,
                    document: &row.document,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                    version: row.version,
                    base_url: &self.base_url,
                };
                // A group without members lists none; a user without groups shows no `groups`.
                let mine = related.remove(&row.id);
                let listed = match kind {
                    ResourceType::User => mine,
                    ResourceType::Group if wanted => Some(mine.unwrap_or_default()),
                    ResourceType::Group => None,
                };
                let body = resource::project(answer.to_json(listed), &projection.attributes, &projection.excluded);
                Answered { body, version: row.version, skipped: None }
            })
            .collect())
    }

    pub async fn get(&self, kind: ResourceType, id: &str, projection: &Projection) -> ScimResult<Answered> {
        let row = store::find(&self.env.db, &self.scope, kind, id).await?;
        self.answer(&self.env.db, kind, &row, projection).await
    }

    pub async fn list(&self, kind: ResourceType, query: ListQuery, projection: &Projection) -> ScimResult<Value> {
        let condition = match query.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(raw) => filter::condition(kind, raw)?,
            None => sea_orm::sea_query::Condition::all(),
        };
        // RFC 7644 §3.4.2.4: a start below 1 is 1, a negative count is 0.
        let start_index = query.start_index.unwrap_or(1).max(1) as u64;
        let count = (query.count.unwrap_or(100).max(0) as u64).min(MAX_COUNT);
        let (total, rows) = store::list(&self.env.db, &self.scope, kind, condition, start_index, count).await?;
        let resources: Vec<Value> =
            self.answers(&self.env.db, kind, &rows, projection).await?.into_iter().map(|a| a.body).collect();
        Ok(json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }))
    }

    /// Creates a resource; answers it with the attributes `projection` asks for (RFC 7644 §3.9:
    /// a group's ten thousand members need not travel back).
    pub async fn create(&self, kind: ResourceType, body: Value, projection: &Projection) -> ScimResult<Answered> {
        let (doc, members) = match kind {
            ResourceType::Group => {
                let members = body.get("members").cloned().map(patch::members).transpose()?;
                (resource::stored_document(kind, body)?, members)
            }
            ResourceType::User => (resource::stored_document(kind, body)?, None),
        };
        let pusher = self.pusher(kind).await?;
        let txn = begin_write(&self.env.db).await.map_err(ScimError::Internal)?;
        let row = store::insert(&txn, &self.scope, kind, doc).await?;
        if let Some(members) = members {
            store::change_members(&txn, &self.scope, row.id, vec![patch::MemberChange::Add(members)]).await?;
        }
        let skipped = self.push_user(&txn, pusher.as_ref(), &row, false).await?;
        let answer = self.answer(&txn, kind, &row, projection).await?;
        txn.commit().await?;
        Ok(Answered { skipped, ..answer })
    }

    pub async fn replace(
        &self,
        kind: ResourceType,
        id: &str,
        body: Value,
        request: Conditions<'_>,
    ) -> ScimResult<Answered> {
        let members = match kind {
            ResourceType::Group => {
                Some(body.get("members").cloned().map(patch::members).transpose()?.unwrap_or_default())
            }
            ResourceType::User => None,
        };
        let doc = resource::stored_document(kind, body)?;
        self.change(kind, id, request, move |_| {
            let changes = members.map(|m| vec![patch::MemberChange::Replace(m)]).unwrap_or_default();
            Ok((doc, changes))
        })
        .await
    }

    pub async fn patch(
        &self,
        kind: ResourceType,
        id: &str,
        body: Value,
        request: Conditions<'_>,
    ) -> ScimResult<Answered> {
        let operations = patch::operations(body)?;
        let (members, operations): (Vec<patch::MemberChange>, Vec<Operation>) = match kind {
            ResourceType::Group => patch::split_members(operations)?,
            ResourceType::User => (Vec::new(), operations),
        };
        self.change(kind, id, request, move |row| {
            let doc = if operations.is_empty() {
                row.document.clone()
            } else {
                patch::apply(kind, &row.document, &operations)?
            };
            Ok((doc, members))
        })
        .await
    }

    /// Changes resource `id` as `change` says of it as stored, in one transaction with the
    /// person it is.
    async fn change(
        &self,
        kind: ResourceType,
        id: &str,
        request: Conditions<'_>,
        change: impl FnOnce(&scim_resource::Model) -> ScimResult<(Value, Vec<patch::MemberChange>)>,
    ) -> ScimResult<Answered> {
        let pusher = self.pusher(kind).await?;
        let txn = begin_write(&self.env.db).await.map_err(ScimError::Internal)?;
        let row = store::find_for_update(&txn, &self.scope, kind, id).await?;
        check_version(&row, request.if_match)?;
        let (doc, members) = change(&row)?;
        let was_active = row.active;
        // A members-only change is a change of the group too: a new version and lastModified.
        let unchanged = doc == row.document && members.is_empty();
        let row = if unchanged { row } else { store::update(&txn, &self.scope, row, doc).await? };
        if !members.is_empty() {
            store::change_members(&txn, &self.scope, row.id, members).await?;
        }
        let skipped = self.push_user(&txn, pusher.as_ref(), &row, was_active && !row.active).await?;
        let answer = self.answer(&txn, kind, &row, request.projection).await?;
        txn.commit().await?;
        Ok(Answered { skipped, ..answer })
    }

    pub async fn delete(&self, kind: ResourceType, id: &str, if_match: Option<&str>) -> ScimResult<Option<String>> {
        let pusher = self.pusher(kind).await?;
        let txn = begin_write(&self.env.db).await.map_err(ScimError::Internal)?;
        let row = store::find_for_update(&txn, &self.scope, kind, id).await?;
        check_version(&row, if_match)?;
        let was_active = row.active;
        let row = store::delete(&txn, row).await?;
        // A DELETE never removes the person: they leave, as a sync's leaver does.
        let skipped = if was_active { self.push_user(&txn, pusher.as_ref(), &row, true).await? } else { None };
        // The record is gone, deactivated now or before (Entra disables, then deletes): the
        // person pushed again under a new id is a rehire.
        if let Some(pusher) = &pusher {
            pusher.forget(&txn, &row.id.to_string()).await?;
        }
        txn.commit().await?;
        Ok(skipped)
    }

    /// What merges this connection's users into the directory: none for groups, nor before the
    /// connection's mapping is confirmed.
    async fn pusher(&self, kind: ResourceType) -> ScimResult<Option<Pusher>> {
        if kind == ResourceType::Group {
            return Ok(None);
        }
        Ok(Pusher::of(self.env, &self.connection).await?)
    }

    /// Merges user `row` into the directory (when there is a `pusher`: a user, of a connection
    /// whose mapping is confirmed); `deactivating`: the request deactivated it, which the guard
    /// may hold. Answers why the directory could not take the user, if it could not: the user
    /// stays stored, and a re-sync after a mapping change reads them again.
    async fn push_user<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        pusher: Option<&Pusher>,
        row: &scim_resource::Model,
        deactivating: bool,
    ) -> ScimResult<Option<String>> {
        let Some(pusher) = pusher else { return Ok(None) };
        let manager = match resource::manager_id(&row.document) {
            Some(reference) => Some(
                store::user_named(db, self.scope.connection_id, reference)
                    .await?
                    .map_or_else(|| reference.to_string(), |id| id.to_string()),
            ),
            None => None,
        };
        let mut record = resource::record(&row.id.to_string(), &row.document, manager);
        if row.deleted_at.is_some() {
            record.values.insert("active".into(), EMPLOYMENT_INACTIVE.into());
        }
        if deactivating && !pusher.deactivation_allowed(db).await? {
            tracing::warn!(connection_id = %self.scope.connection_id, "the deactivation guard held a SCIM deactivation");
            store::set_held(db, row.id, true).await?;
            record = pusher.keeping_status(record);
        } else if row.deactivation_held && !deactivating {
            // Held earlier: a later write of the same user does not apply it unasked.
            record = pusher.keeping_status(record);
        }
        let rejection = pusher.merge(db, vec![record]).await?.into_iter().next();
        Ok(rejection.map(|Rejection { kind, message }| {
            format!("user '{}' is not in the directory ({kind}): {message}", crate::text::excerpt(&row.name_key, 64))
        }))
    }
}

/// `If-Match` (RFC 7644 §3.14): the version the client holds must be the stored one.
fn check_version(row: &scim_resource::Model, if_match: Option<&str>) -> ScimResult<()> {
    match if_match.map(str::trim) {
        None | Some("*") => Ok(()),
        Some(given) if given.split(',').any(|tag| tag.trim() == resource::etag(row.version)) => Ok(()),
        Some(_) => Err(ScimError::PreconditionFailed),
    }
}

/// Deactivates the people whose deactivation the guard held for SCIM connection `connection`;
/// answers how many.
pub async fn confirm_held(env: &Environment, connection: &connection::Model) -> Result<u64> {
    let Some(pusher) = Pusher::of(env, connection).await? else { return Ok(0) };
    let txn = begin_write(&env.db).await?;
    let held = store::held(&txn, connection.id).await?;
    let mut confirmed = 0;
    for row in held {
        let mut record = resource::record(&row.id.to_string(), &row.document, None);
        record.values.insert("active".into(), EMPLOYMENT_INACTIVE.into());
        // The manager is as the directory holds it: this write is the status alone.
        record.withheld.insert("enterprise.manager".into());
        if pusher.merge(&txn, vec![record]).await?.is_empty() {
            confirmed += 1;
        }
        if row.deleted_at.is_some() {
            pusher.forget(&txn, &row.id.to_string()).await?;
        }
        store::set_held(&txn, row.id, false).await?;
    }
    txn.commit().await?;
    tracing::info!(connection_id = %connection.id, confirmed, "held SCIM deactivations confirmed");
    Ok(confirmed)
}

/// How many deactivations the guard holds for connection `connection_id`.
pub async fn held_count(env: &Environment, connection_id: Uuid) -> Result<u64> {
    Ok(store::held(&env.db, connection_id).await?.len() as u64)
}

//! A source that pushes its changes (SCIM) changes the directory as each request arrives, in the
//! request's transaction, through the same merge a sync's page goes through: the connection's
//! confirmed mapping, the join by email, the HR systems' precedence, the history (by the push's
//! author) and the webhooks it announces. A record the merge cannot take (no valid email, an
//! email another record of the connection holds) changes nobody; the caller says why.
//!
//! Deactivations go through the guard as a sync's leavers do, over a window of time rather than
//! a pass: an identity provider deactivating more than the guard's share of the connection's
//! people within [`GUARD_WINDOW`] (a misconfigured assignment unassigns everyone, one request at
//! a time) has the rest held: they stay active until an admin confirms.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use entity::{connection, user_source};

use super::guard::{self, Deactivations};
use super::merge::{self, Pass};
use super::precedence::Precedence;
use crate::environment::Environment;
use crate::error::Result;
use crate::history::Author;
use crate::integrations::mappings;
use crate::mapping::FieldMapping;
use crate::providers::RemoteRecord;

/// How far back a pushed deactivation counts towards the guard's share.
pub const GUARD_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// What a pushed record could not do, for the request's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// MISSING_EMAIL, INVALID_EMAIL, DUPLICATE_EMAIL, ….
    pub kind: &'static str,
    pub message: String,
}

/// A connection's pushes, with what merging them needs.
pub struct Pusher {
    connection_id: Uuid,
    workspace_id: String,
    provider: String,
    mapping: FieldMapping,
    precedence: Precedence,
    guard_percent: u32,
}

impl Pusher {
    /// The pusher of `connection`; `None` until its mapping is confirmed (what it pushes until
    /// then is kept, and merged by the connection's first sync).
    pub async fn of(env: &Environment, connection: &connection::Model) -> Result<Option<Self>> {
        let Some(view) = mappings::confirmed(&env.db, connection.id).await? else { return Ok(None) };
        let precedence = Precedence::for_connection(&env.db, connection).await?;
        Ok(Some(Self {
            connection_id: connection.id,
            workspace_id: connection.workspace_id.clone(),
            provider: connection.provider_id.clone(),
            mapping: view.mapping,
            precedence,
            guard_percent: env.settings.deactivation_guard_percent,
        }))
    }

    /// Whether the guard lets one more deactivation through now, the deactivations of the
    /// window (this one among them, already stamped) counted.
    pub async fn deactivation_allowed<C: ConnectionTrait>(&self, db: &C) -> Result<bool> {
        // Requests deactivating people of the connection at once count one after another.
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            connection::Entity::find_by_id(self.connection_id).lock_exclusive().one(db).await?;
        }
        let since = Utc::now() - GUARD_WINDOW;
        let (leaving, applied) = crate::scim::store::deactivated_since(db, self.connection_id, since).await?;
        // The connection's people as they were before the window's deactivations: those still
        // active, and those the window deactivated before this one (which is stamped, but not
        // yet applied).
        let active = super::finalize::active_people(db, self.connection_id).await? + applied.saturating_sub(1);
        Ok(guard::judge(active, leaving, self.guard_percent, false) == Deactivations::Apply)
    }

    /// Forgets what the connection's record `remote_id` last said (a DELETE): the same person
    /// pushed again under a new id is a rehire, not a duplicate of a record that left.
    pub async fn forget<C: ConnectionTrait>(&self, db: &C, remote_id: &str) -> Result<()> {
        user_source::Entity::update_many()
            .col_expr(user_source::Column::ContentHash, Expr::value(""))
            .filter(user_source::Column::ConnectionId.eq(self.connection_id))
            .filter(user_source::Column::RemoteId.eq(remote_id))
            .exec(db)
            .await?;
        Ok(())
    }

    /// `record` with its status left as the directory holds it: a held deactivation, which
    /// neither a later request nor a re-sync applies unasked.
    pub fn keeping_status(&self, mut record: RemoteRecord) -> RemoteRecord {
        if let Some(field) = self.mapping.source_of("employmentStatus") {
            record.withheld.insert(field.to_string());
        }
        record
    }

    /// Merges `records` in the caller's transaction; answers why any could not be merged.
    pub async fn merge<C: ConnectionTrait>(&self, db: &C, records: Vec<RemoteRecord>) -> Result<Vec<Rejection>> {
        let pass = Pass {
            id: Uuid::now_v7(),
            workspace_id: self.workspace_id.clone(),
            connection_id: self.connection_id,
            author: Author::scim(self.connection_id),
        };
        let pushed: Vec<String> = records.iter().map(|r| r.remote_id.clone()).collect();
        // A manager named by this user's externalId (before this user existed) is this user.
        let named: Vec<(String, String)> = records
            .iter()
            .filter_map(|r| r.values.get("externalId").map(|e| (e.clone(), r.remote_id.clone())))
            .collect();
        let removed = HashSet::new();
        let attempt = merge::Attempt {
            known_records: true,
            replaying: false,
            removed: &removed,
            precedence: &self.precedence,
            provider: &self.provider,
        };
        let (_, issues) = merge::merge_page(db, &pass, &self.mapping, records, attempt).await?;
        // Issues of the pass rather than a record (a withheld status, for a held deactivation)
        // are not the request's fault.
        let rejections: Vec<Rejection> = issues
            .into_iter()
            .filter(|issue| issue.remote_id.is_some())
            .map(|issue| Rejection { kind: issue.kind, message: issue.message })
            .collect();
        if !rejections.is_empty() {
            return Ok(rejections);
        }
        // A sync of the connection running meanwhile takes whoever it did not see for a leaver:
        // a pushed record is seen, and newer than what the sync read.
        if let Some(run) = crate::integrations::runs::active_run(db, self.connection_id).await? {
            user_source::Entity::update_many()
                .col_expr(user_source::Column::LastSeenRunId, Expr::value(run.id))
                .filter(user_source::Column::ConnectionId.eq(self.connection_id))
                .filter(user_source::Column::RemoteId.is_in(pushed.iter().cloned()))
                .exec(db)
                .await?;
        }
        for (external_id, id) in named {
            user_source::Entity::update_many()
                .col_expr(user_source::Column::RemoteManagerId, Expr::value(id))
                .filter(user_source::Column::ConnectionId.eq(self.connection_id))
                .filter(user_source::Column::RemoteManagerId.eq(external_id))
                .exec(db)
                .await?;
        }
        if self.mapping.manages("managerId") {
            super::finalize::link_managers_among(db, &pass, &pushed).await?;
        }
        Ok(Vec::new())
    }
}

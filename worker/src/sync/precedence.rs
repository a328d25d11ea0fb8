//! One person from two sources: an HR system and an applicant tracking system (ATS) usually
//! both know a hire, the ATS first; an identity provider (SCIM) knows everyone who signs in.
//! Where an HR system gives a field, the HR system wins: an ATS's or an identity provider's
//! changes leave alone the fields of a person that a live HR record of theirs fills (by that
//! connection's mapping), and fill everything else, and everything before the HR record exists.
//! And an HR system's leaver is a leaver: a stale hire at an ATS, or an account not yet
//! disabled, does not keep them active, while another HR system still listing them does.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{connection, user_source};

use crate::error::Result;
use crate::integrations::mappings;
use crate::mapping::INTERNAL_FIELDS;
use crate::providers::catalogue::{self, ProviderCategory};

fn category_of(connection: &connection::Model) -> Option<ProviderCategory> {
    catalogue::find(&connection.provider_id).map(|p| p.info().category)
}

/// The HR systems' fields an ATS's or an identity provider's connection defers to; empty for
/// an HR system's.
#[derive(Debug, Default)]
pub struct Precedence {
    /// Each HR system connection of the workspace, with the directory fields its confirmed
    /// mapping fills.
    over: HashMap<Uuid, BTreeSet<&'static str>>,
}

impl Precedence {
    pub async fn for_connection(db: &DatabaseConnection, syncing: &connection::Model) -> Result<Self> {
        if category_of(syncing) == Some(ProviderCategory::Hris) {
            return Ok(Self::default());
        }
        let mut over = HashMap::new();
        for hris in others(db, syncing).await?.iter().filter(|c| category_of(c) == Some(ProviderCategory::Hris)) {
            if let Some(view) = mappings::confirmed(db, hris.id).await? {
                let fields = INTERNAL_FIELDS.iter().map(|f| f.key).filter(|f| view.mapping.manages(f)).collect();
                over.insert(hris.id, fields);
            }
        }
        Ok(Self { over })
    }

    /// For each of `user_ids` with a live record (one that has not left) at an HR system, the
    /// fields it fills, which this sync leaves alone.
    pub async fn deferred<C: ConnectionTrait>(
        &self,
        db: &C,
        user_ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, BTreeSet<&'static str>>, sea_orm::DbErr> {
        let user_ids: Vec<Uuid> = user_ids.into_iter().collect();
        if self.over.is_empty() || user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let live = user_source::Entity::find()
            .filter(user_source::Column::UserId.is_in(user_ids))
            .filter(user_source::Column::ConnectionId.is_in(self.over.keys().copied()))
            .filter(user_source::Column::ContentHash.ne(""))
            .all(db)
            .await?;
        let mut deferred: HashMap<Uuid, BTreeSet<&'static str>> = HashMap::new();
        for source in live {
            deferred.entry(source.user_id).or_default().extend(self.over[&source.connection_id].iter().copied());
        }
        Ok(deferred)
    }
}

/// The other connections whose live records keep a leaver of `leaving`'s active: any, for an
/// ATS's or an identity provider's leaver (the HR system saying they work here outweighs a
/// rescinded offer or a disabled account); for an HR system's leaver, other HR systems only.
pub async fn keeping_active(db: &DatabaseConnection, leaving: &connection::Model) -> Result<Vec<Uuid>> {
    let hris = |c: &connection::Model| category_of(c) == Some(ProviderCategory::Hris);
    let others = others(db, leaving).await?;
    Ok(others.into_iter().filter(|c| !hris(leaving) || hris(c)).map(|c| c.id).collect())
}

async fn others(db: &DatabaseConnection, of: &connection::Model) -> Result<Vec<connection::Model>> {
    Ok(connection::Entity::find()
        .filter(connection::Column::WorkspaceId.eq(of.workspace_id.clone()))
        .filter(connection::Column::Id.ne(of.id))
        .all(db)
        .await?)
}

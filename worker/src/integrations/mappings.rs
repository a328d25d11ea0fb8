//! Saving, confirming and previewing a connection's field mapping. Saved versions are kept; a
//! run pins the confirmed version it applies.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use uuid::Uuid;

use entity::connection;
use entity::field_mapping::{self, MappingStatus};

use super::{connections, fields};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::mapping::{apply_mapping, suggest_mapping, validate_mapping, FieldMapping, MappingEntry, MappingError};
use crate::providers::{catalogue, ProviderCategory};

/// A mapping as the admin sees it.
#[derive(Debug, Clone)]
pub struct MappingView {
    pub version: i32,
    /// `None` for the suggestion offered before the first save.
    pub status: Option<MappingStatus>,
    pub mapping: FieldMapping,
    /// Whether the ATS's users are people too; `None` for a provider with no hiring team.
    pub hiring_team: Option<bool>,
    pub saved_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl TryFrom<field_mapping::Model> for MappingView {
    type Error = Error;

    fn try_from(row: field_mapping::Model) -> Result<Self> {
        Ok(Self {
            version: row.version,
            status: Some(row.status),
            mapping: parse_mapping(&row)?,
            hiring_team: row.hiring_team,
            saved_at: Some(row.saved_at),
            confirmed_at: row.confirmed_at,
        })
    }
}

fn parse_mapping(row: &field_mapping::Model) -> Result<FieldMapping> {
    let mapping: FieldMapping = serde_json::from_value(row.entries.clone())
        .map_err(|e| Error::Database(sea_orm::DbErr::Custom(format!("stored mapping: {e}"))))?;
    Ok(mapping.with_hiring_team(row.hiring_team.unwrap_or(true)))
}

/// The latest saved version, or a suggestion from the provider's catalogue entry limited to
/// the fields the tenant exposes.
pub async fn latest_or_suggested(env: &Environment, connection: &connection::Model) -> Result<MappingView> {
    let latest = field_mapping::Entity::find()
        .filter(field_mapping::Column::ConnectionId.eq(connection.id))
        .order_by_desc(field_mapping::Column::Version)
        .one(&env.db)
        .await?;
    if let Some(row) = latest {
        return row.try_into();
    }
    let provider = catalogue::find(&connection.provider_id).ok_or(Error::NotFound("provider"))?;
    let available = fields::accessible_fields(env, connection).await?;
    let mapping = suggest_mapping(provider.info(), &available);
    Ok(MappingView {
        version: 0,
        status: None,
        hiring_team: (provider.info().category == ProviderCategory::Ats).then_some(mapping.hiring_team),
        mapping,
        saved_at: None,
        confirmed_at: None,
    })
}

/// The most recently confirmed version.
pub async fn confirmed(db: &DatabaseConnection, connection_id: Uuid) -> Result<Option<MappingView>> {
    field_mapping::Entity::find()
        .filter(field_mapping::Column::ConnectionId.eq(connection_id))
        .filter(field_mapping::Column::Status.eq(MappingStatus::Confirmed))
        .order_by_desc(field_mapping::Column::ConfirmedAt)
        .one(db)
        .await?
        .map(MappingView::try_from)
        .transpose()
}

/// The mapping a run pinned.
pub async fn confirmed_version(db: &DatabaseConnection, connection_id: Uuid, version: i32) -> Result<FieldMapping> {
    let row = field_mapping::Entity::find()
        .filter(field_mapping::Column::ConnectionId.eq(connection_id))
        .filter(field_mapping::Column::Version.eq(version))
        .filter(field_mapping::Column::Status.eq(MappingStatus::Confirmed))
        .one(db)
        .await?
        .ok_or(Error::NotFound("confirmed mapping version"))?;
    parse_mapping(&row)
}

/// Validates against the live provider fields and stores a new DRAFT version. `hiring_team`
/// says whether an ATS's users are people too; unsaid, as the latest version said (at first,
/// yes). Only an ATS has a hiring team to include.
pub async fn save(
    env: &Environment,
    connection: &connection::Model,
    entries: Vec<MappingEntry>,
    hiring_team: Option<bool>,
) -> Result<MappingView> {
    let provider = catalogue::find(&connection.provider_id).ok_or(Error::NotFound("provider"))?;
    let ats = provider.info().category == ProviderCategory::Ats;
    if hiring_team.is_some() && !ats {
        let message =
            format!("hiringTeam: {} is not an applicant tracking system and has no hiring team", provider.info().name);
        return Err(MappingError { field: "hiringTeam".into(), message }.into());
    }
    // Saving checks against what the provider serves now, and keeps that for later reads.
    let mapping = validate_mapping(&entries, &fields::discover(env, connection).await?)?;
    let txn = env.db.begin().await?;
    let latest = field_mapping::Entity::find()
        .filter(field_mapping::Column::ConnectionId.eq(connection.id))
        .order_by_desc(field_mapping::Column::Version)
        .one(&txn)
        .await?;
    let hiring_team = ats.then(|| hiring_team.or(latest.as_ref().and_then(|m| m.hiring_team)).unwrap_or(true));
    let row = field_mapping::ActiveModel {
        id: Set(Uuid::now_v7()),
        connection_id: Set(connection.id),
        version: Set(latest.map_or(1, |m| m.version + 1)),
        status: Set(MappingStatus::Draft),
        entries: Set(serde_json::to_value(&mapping).expect("mappings serialise")),
        hiring_team: Set(hiring_team),
        saved_at: Set(Utc::now()),
        confirmed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    row.try_into()
}

/// Locks a saved version. A mapping that differs from the previously confirmed one leaves the
/// directory out of date, so the connection is flagged for a full re-sync.
pub async fn confirm(env: &Environment, connection: &connection::Model, version: i32) -> Result<MappingView> {
    let row = field_mapping::Entity::find()
        .filter(field_mapping::Column::ConnectionId.eq(connection.id))
        .filter(field_mapping::Column::Version.eq(version))
        .one(&env.db)
        .await?
        .ok_or(Error::NotFound("mapping version"))?;
    if row.status == MappingStatus::Confirmed {
        return row.try_into();
    }
    let previous = confirmed(&env.db, connection.id).await?;
    let txn = env.db.begin().await?;
    let mut active = row.clone().into_active_model();
    active.status = Set(MappingStatus::Confirmed);
    active.confirmed_at = Set(Some(Utc::now()));
    let row = active.update(&txn).await?;
    let mapping = parse_mapping(&row)?;
    if previous.is_some_and(|p| p.mapping != mapping) {
        let mut conn = connection.clone().into_active_model();
        conn.resync_required = Set(true);
        conn.updated_at = Set(Utc::now());
        conn.update(&txn).await?;
    }
    txn.commit().await?;
    row.try_into()
}

/// A few live records through `entries` (or the current mapping), with what would go wrong.
pub struct PreviewRow {
    pub remote_id: String,
    pub values: serde_json::Map<String, serde_json::Value>,
    pub problems: Vec<String>,
}

pub async fn preview(
    env: &Environment,
    connection: &connection::Model,
    entries: Option<Vec<MappingEntry>>,
    limit: usize,
) -> Result<Vec<PreviewRow>> {
    let mapping = match entries {
        Some(entries) => validate_mapping(&entries, &fields::accessible_fields(env, connection).await?)?,
        None => latest_or_suggested(env, connection).await?.mapping,
    };
    let first_page = async {
        let connector = connections::open_connector(env, connection).await?;
        let request = mapping.fetch_request(None, limit);
        let mut pages = connector.fetch(request).await?;
        Ok(futures::StreamExt::next(&mut pages).await.transpose()?)
    };
    let Some(page) = connections::noting_refusal(env, connection.id, first_page).await? else {
        return Ok(Vec::new());
    };
    Ok(page
        .records
        .iter()
        .take(limit)
        .map(|record| {
            let mut values = serde_json::Map::new();
            for entry in &mapping.entries {
                let value = entry.external_field.as_ref().and_then(|f| record.values.get(f));
                values
                    .insert(entry.internal_field.clone(), value.map_or(serde_json::Value::Null, |v| v.clone().into()));
            }
            let mut problems: Vec<String> = record.notes.iter().map(|note| note.message.clone()).collect();
            if !record.skipped() {
                problems
                    .extend(apply_mapping(&mapping, record).err().map(|problem| record.described(&problem.message())));
            }
            PreviewRow { remote_id: record.remote_id.clone(), values, problems }
        })
        .collect())
}

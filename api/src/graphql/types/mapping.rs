use async_graphql::{Enum, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};

use entity::field_mapping::MappingStatus as StoredStatus;
use worker::integrations::mappings::{MappingView, PreviewRow};
use worker::mapping::{self, MappingEntry};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MappingStatus {
    Suggested,
    Draft,
    Confirmed,
}

/// A directory field a mapping can fill.
#[derive(SimpleObject)]
pub struct InternalField {
    pub key: String,
    pub label: String,
    pub required: bool,
    pub description: String,
    /// The provider field types (`ExternalField.type`) it takes; empty for any.
    pub accepted_types: Vec<String>,
}

impl From<&mapping::InternalField> for InternalField {
    fn from(f: &mapping::InternalField) -> Self {
        Self {
            key: f.key.into(),
            label: f.label.into(),
            required: f.required,
            description: f.description.into(),
            accepted_types: f.takes.iter().map(|t| t.to_string()).collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct FieldMappingEntry {
    pub internal_field: String,
    pub external_field: Option<String>,
    /// The provider field is taken whatever its type.
    pub accept_any_type: bool,
}

#[derive(InputObject)]
pub struct FieldMappingEntryInput {
    pub internal_field: String,
    /// null unmaps an optional field
    pub external_field: Option<String>,
    /// Take the provider field whatever its type, for providers that type fields loosely;
    /// otherwise its type must be one of the internal field's `acceptedTypes`.
    #[graphql(default = false)]
    pub accept_any_type: bool,
}

impl From<FieldMappingEntryInput> for MappingEntry {
    fn from(input: FieldMappingEntryInput) -> Self {
        Self {
            internal_field: input.internal_field,
            external_field: input.external_field,
            accept_any_type: input.accept_any_type,
        }
    }
}

/// One version of a connection's field mapping.
pub struct FieldMapping(pub MappingView);

#[Object]
impl FieldMapping {
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn status(&self) -> MappingStatus {
        match self.0.status {
            None => MappingStatus::Suggested,
            Some(StoredStatus::Draft) => MappingStatus::Draft,
            Some(StoredStatus::Confirmed) => MappingStatus::Confirmed,
        }
    }
    async fn entries(&self) -> Vec<FieldMappingEntry> {
        self.0
            .mapping
            .entries
            .iter()
            .map(|e| FieldMappingEntry {
                internal_field: e.internal_field.clone(),
                external_field: e.external_field.clone(),
                accept_any_type: e.accept_any_type,
            })
            .collect()
    }
    /// For an applicant tracking system: whether its users (recruiters, interviewers, hiring
    /// managers) are people too. null for other providers.
    async fn hiring_team(&self) -> Option<bool> {
        self.0.hiring_team
    }
    async fn saved_at(&self) -> Option<DateTime<Utc>> {
        self.0.saved_at
    }
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.0.confirmed_at
    }
}

#[derive(SimpleObject)]
pub struct MappedUserPreview {
    pub remote_id: String,
    /// internalField -> value after mapping
    pub values: Json<serde_json::Map<String, serde_json::Value>>,
    pub problems: Vec<String>,
}

impl From<PreviewRow> for MappedUserPreview {
    fn from(row: PreviewRow) -> Self {
        Self { remote_id: row.remote_id, values: Json(row.values), problems: row.problems }
    }
}

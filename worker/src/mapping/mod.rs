//! Field mappings: which provider field fills which directory field. Pure functions only, so
//! validation and application are tested without HTTP or a database.

mod apply;
pub mod email;
mod internal_fields;
mod validate;

use serde::{Deserialize, Serialize};

pub use apply::{apply_mapping, MappedUser, RecordProblem};
pub use internal_fields::{InternalField, INTERNAL_FIELDS};
pub use validate::{validate_mapping, MappingError};

use crate::providers::ProviderInfo;

/// One line of a mapping; `external_field: None` leaves an optional field unmapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingEntry {
    pub internal_field: String,
    pub external_field: Option<String>,
}

/// A complete mapping, one entry per internal field, in the order of [`INTERNAL_FIELDS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldMapping {
    pub entries: Vec<MappingEntry>,
}

impl FieldMapping {
    /// The provider field mapped to `internal`, if any.
    pub fn source_of(&self, internal: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.internal_field == internal).and_then(|e| e.external_field.as_deref())
    }

    /// Every provider field the mapping reads, for the fetch request.
    pub fn external_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.entries.iter().filter_map(|e| e.external_field.clone()).collect();
        fields.sort();
        fields.dedup();
        fields
    }

    /// Fills in every internal field (unmapped ones as `None`) in canonical order, so two
    /// mappings that mean the same compare equal.
    pub fn normalized(entries: Vec<MappingEntry>) -> Self {
        let entries = INTERNAL_FIELDS
            .iter()
            .map(|field| MappingEntry {
                internal_field: field.key.to_string(),
                external_field: entries
                    .iter()
                    .find(|e| e.internal_field == field.key)
                    .and_then(|e| e.external_field.clone()),
            })
            .collect();
        Self { entries }
    }
}

/// The provider's suggested mapping, limited to fields the tenant actually exposes.
pub fn suggest_mapping(provider: &ProviderInfo, available: &[String]) -> FieldMapping {
    let entries = provider
        .suggested_mapping
        .iter()
        .filter(|(_, external)| available.iter().any(|a| a == external))
        .map(|(internal, external)| MappingEntry {
            internal_field: internal.to_string(),
            external_field: Some(external.to_string()),
        })
        .collect();
    FieldMapping::normalized(entries)
}

//! Field mappings: which provider field fills which directory field. Pure functions only, so
//! validation and application are tested without HTTP or a database.

mod apply;
pub mod email;
pub mod headings;
mod internal_fields;
mod validate;

use serde::{Deserialize, Serialize};

pub use apply::{apply_mapping, display_name, employment_status, MappedUser, RecordProblem};
pub use internal_fields::{InternalField, INTERNAL_FIELDS};
pub use validate::{validate_mapping, MappingError};

use crate::providers::{ExternalField, FetchRequest, ProviderInfo};

/// One line of a mapping; `external_field: None` leaves an optional field unmapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingEntry {
    pub internal_field: String,
    pub external_field: Option<String>,
    /// Take the provider field whatever type the provider gives it, for providers that type
    /// fields loosely (an email kept in a text field).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_any_type: bool,
}

impl MappingEntry {
    pub fn new(internal_field: &str, external_field: Option<&str>) -> Self {
        Self {
            internal_field: internal_field.to_string(),
            external_field: external_field.map(str::to_string),
            accept_any_type: false,
        }
    }
}

/// A complete mapping, one entry per internal field, in the order of [`INTERNAL_FIELDS`], and
/// whether an applicant tracking system's users (its hiring team) are people too. Stored as its
/// entries; the hiring team has a column of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldMapping {
    pub entries: Vec<MappingEntry>,
    #[serde(skip, default = "hiring_team_by_default")]
    pub hiring_team: bool,
}

/// A company whose only source is its ATS still gets the people who hire.
fn hiring_team_by_default() -> bool {
    true
}

impl FieldMapping {
    /// The provider field mapped to `internal`, if any.
    pub fn source_of(&self, internal: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.internal_field == internal).and_then(|e| e.external_field.as_deref())
    }

    /// Whether a sync with this mapping writes `internal`, so the provider owns it: the email
    /// always, a display name when it or a name is mapped (it is made of the names), and every
    /// other field when mapped. The employment status is the sync's in any case (a listed
    /// person is active); admins change it only through deactivation.
    pub fn manages(&self, internal: &str) -> bool {
        match internal {
            "email" | "employmentStatus" => true,
            "displayName" => ["displayName", "firstName", "lastName"].iter().any(|f| self.source_of(f).is_some()),
            other => self.source_of(other).is_some(),
        }
    }

    /// A read of the provider through this mapping, from `cursor`.
    pub fn fetch_request(&self, cursor: Option<String>, page_size: usize) -> FetchRequest {
        FetchRequest { fields: self.external_fields(), cursor, page_size, hiring_team: self.hiring_team }
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
            .map(|field| {
                let given = entries.iter().find(|e| e.internal_field == field.key);
                MappingEntry {
                    internal_field: field.key.to_string(),
                    external_field: given.and_then(|e| e.external_field.clone()),
                    accept_any_type: given.is_some_and(|e| e.accept_any_type && e.external_field.is_some()),
                }
            })
            .collect();
        Self { entries, hiring_team: hiring_team_by_default() }
    }

    /// This mapping, with the hiring team included or not.
    pub fn with_hiring_team(self, hiring_team: bool) -> Self {
        Self { hiring_team, ..self }
    }
}

/// The provider's suggested mapping, limited to fields the tenant actually exposes with a type
/// the directory field takes; for a provider whose fields an admin names (a spreadsheet's
/// headings, a report's columns), each field still unmapped then takes the first column whose
/// heading usually means it.
pub fn suggest_mapping(provider: &ProviderInfo, available: &[ExternalField]) -> FieldMapping {
    let fits = |internal: &str, external: &str| {
        available.iter().any(|a| a.key == external && validate::type_fits(internal, &a.field_type))
    };
    let mut entries: Vec<MappingEntry> = provider
        .suggested_mapping
        .iter()
        .filter(|(internal, external)| fits(internal, external))
        .map(|(internal, external)| MappingEntry::new(internal, Some(external)))
        .collect();
    if provider.named_by_admin {
        for field in INTERNAL_FIELDS {
            let taken = |key: &str| entries.iter().any(|e| e.external_field.as_deref() == Some(key));
            if entries.iter().any(|e| e.internal_field == field.key) {
                continue;
            }
            let column = available
                .iter()
                .find(|a| headings::suggests(&a.key) == Some(field.key) && fits(field.key, &a.key) && !taken(&a.key));
            if let Some(column) = column {
                entries.push(MappingEntry::new(field.key, Some(&column.key)));
            }
        }
    }
    FieldMapping::normalized(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_manages_its_mapped_fields_and_the_names_display_name() {
        let mapping = FieldMapping::normalized(vec![
            MappingEntry::new("email", Some("workEmail")),
            MappingEntry::new("lastName", Some("lastName")),
            MappingEntry::new("jobTitle", None),
        ]);
        assert!(mapping.manages("email") && mapping.manages("lastName"));
        assert!(mapping.manages("displayName"), "made of a mapped name");
        assert!(!mapping.manages("jobTitle") && !mapping.manages("managerId") && !mapping.manages("department"));
        let email_only = FieldMapping::normalized(vec![MappingEntry::new("email", Some("workEmail"))]);
        assert!(!email_only.manages("displayName") && email_only.manages("employmentStatus"));
    }
}

//! Checks a mapping before it is saved.

use std::collections::HashSet;

use super::{FieldMapping, MappingEntry, INTERNAL_FIELDS};
use crate::providers::ExternalField;
use crate::text::excerpt;

/// Why a mapping cannot be saved, naming the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MappingError {
    /// The internal field (or, for unknown provider fields, the internal field using it).
    pub field: String,
    pub message: String,
}

fn error(field: &str, message: String) -> MappingError {
    MappingError { field: excerpt(field, ECHOED_INPUT_CHARS), message }
}

/// Most characters of a caller's field name repeated in a message.
const ECHOED_INPUT_CHARS: usize = 64;

/// Whether a provider field of type `field_type` can fill the directory field `internal`.
pub fn type_fits(internal: &str, field_type: &str) -> bool {
    INTERNAL_FIELDS
        .iter()
        .find(|f| f.key == internal)
        .is_some_and(|f| f.takes.is_empty() || f.takes.contains(&field_type))
}

/// Validates `entries` against the directory's fields and the provider fields discovered on
/// the live tenant (their keys and types), and returns the normalised mapping.
pub fn validate_mapping(entries: &[MappingEntry], available: &[ExternalField]) -> Result<FieldMapping, MappingError> {
    let mut seen = HashSet::new();
    for entry in entries {
        let internal = entry.internal_field.as_str();
        let shown = excerpt(internal, ECHOED_INPUT_CHARS);
        if !INTERNAL_FIELDS.iter().any(|f| f.key == internal) {
            return Err(error(internal, format!("'{shown}' is not a directory field")));
        }
        if !seen.insert(internal) {
            return Err(error(internal, format!("'{internal}' is mapped more than once")));
        }
        if let Some(external) = &entry.external_field {
            let Some(field) = available.iter().find(|a| &a.key == external) else {
                let external = excerpt(external, ECHOED_INPUT_CHARS);
                return Err(error(
                    internal,
                    format!("'{internal}' is mapped to '{external}', which the provider does not offer"),
                ));
            };
            if !entry.accept_any_type && !type_fits(internal, &field.field_type) {
                let wanted = INTERNAL_FIELDS.iter().find(|f| f.key == internal).map(|f| f.takes.join(" or "));
                return Err(error(
                    internal,
                    format!(
                        "'{internal}' takes a field of type {}, and '{external}' is of type {}; map another \
                         field, or set acceptAnyType on this entry if the provider keeps it in a field of another type",
                        wanted.unwrap_or_default(),
                        field.field_type
                    ),
                ));
            }
        }
    }
    let mapping = FieldMapping::normalized(entries.to_vec());
    for field in INTERNAL_FIELDS.iter().filter(|f| f.required) {
        if mapping.source_of(field.key).is_none() {
            return Err(error(field.key, format!("'{}' must be mapped", field.key)));
        }
    }
    Ok(mapping)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(internal: &str, external: Option<&str>) -> MappingEntry {
        MappingEntry::new(internal, external)
    }

    fn field(key: &str, field_type: &str) -> ExternalField {
        ExternalField { key: key.into(), label: key.into(), field_type: field_type.into(), category: "Personal".into() }
    }

    fn available() -> Vec<ExternalField> {
        vec![field("workEmail", "email"), field("firstName", "string"), field("hireDate", "date")]
    }

    #[test]
    fn a_field_must_be_of_a_type_the_directory_field_takes() {
        let err = validate_mapping(&[entry("email", Some("hireDate"))], &available()).unwrap_err();
        assert_eq!(err.field, "email");
        assert!(err.message.contains("takes a field of type email, and 'hireDate' is of type date"), "{}", err.message);
        let err =
            validate_mapping(&[entry("email", Some("workEmail")), entry("startDate", Some("firstName"))], &available())
                .unwrap_err();
        assert_eq!(err.field, "startDate");
        // Text fields take anything, and an explicit override takes a loosely typed field.
        validate_mapping(&[entry("email", Some("workEmail")), entry("jobTitle", Some("hireDate"))], &available())
            .unwrap();
        let loose = MappingEntry { accept_any_type: true, ..entry("email", Some("firstName")) };
        let mapping = validate_mapping(&[loose], &available()).unwrap();
        assert!(mapping.entries[0].accept_any_type, "the override is kept with the mapping");
    }

    #[test]
    fn email_must_be_mapped() {
        let err = validate_mapping(&[entry("firstName", Some("firstName"))], &available()).unwrap_err();
        assert_eq!(err.field, "email");
        let err = validate_mapping(&[entry("email", None)], &available()).unwrap_err();
        assert_eq!(err.field, "email");
    }

    #[test]
    fn rejects_duplicates_unknown_and_unavailable_fields() {
        let twice = [entry("email", Some("workEmail")), entry("email", Some("firstName"))];
        assert!(validate_mapping(&twice, &available()).unwrap_err().message.contains("more than once"));
        let unknown = [entry("email", Some("workEmail")), entry("shoeSize", Some("firstName"))];
        assert_eq!(validate_mapping(&unknown, &available()).unwrap_err().field, "shoeSize");
        let missing = [entry("email", Some("homeEmail"))];
        assert!(validate_mapping(&missing, &available()).unwrap_err().message.contains("homeEmail"));
        let huge = "x".repeat(100_000);
        let err = validate_mapping(&[entry(&huge, Some("firstName"))], &available()).unwrap_err();
        assert!(err.message.len() < 200 && err.field.len() < 100, "a 100 KB name is not echoed whole");
    }

    #[test]
    fn valid_mapping_is_normalised_to_every_field() {
        let mapping = validate_mapping(&[entry("email", Some("workEmail"))], &available()).unwrap();
        assert_eq!(mapping.entries.len(), INTERNAL_FIELDS.len());
        assert_eq!(mapping.source_of("email"), Some("workEmail"));
        assert_eq!(mapping.source_of("firstName"), None);
    }
}

//! Checks a mapping before it is saved.

use std::collections::HashSet;

use super::{FieldMapping, MappingEntry, INTERNAL_FIELDS};

/// Why a mapping cannot be saved, naming the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MappingError {
    /// The internal field (or, for unknown provider fields, the internal field using it).
    pub field: String,
    pub message: String,
}

fn error(field: &str, message: String) -> MappingError {
    MappingError { field: field.to_string(), message }
}

/// Validates `entries` against the directory's fields and the provider fields discovered on
/// the live tenant, and returns the normalised mapping.
pub fn validate_mapping(entries: &[MappingEntry], available: &[String]) -> Result<FieldMapping, MappingError> {
    let mut seen = HashSet::new();
    for entry in entries {
        let internal = entry.internal_field.as_str();
        if !INTERNAL_FIELDS.iter().any(|f| f.key == internal) {
            return Err(error(internal, format!("'{internal}' is not a directory field")));
        }
        if !seen.insert(internal) {
            return Err(error(internal, format!("'{internal}' is mapped more than once")));
        }
        if let Some(external) = &entry.external_field {
            if !available.iter().any(|a| a == external) {
                return Err(error(
                    internal,
                    format!("'{internal}' is mapped to '{external}', which the provider does not offer"),
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
        MappingEntry { internal_field: internal.into(), external_field: external.map(Into::into) }
    }

    fn available() -> Vec<String> {
        vec!["workEmail".into(), "firstName".into()]
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
    }

    #[test]
    fn valid_mapping_is_normalised_to_every_field() {
        let mapping = validate_mapping(&[entry("email", Some("workEmail"))], &available()).unwrap();
        assert_eq!(mapping.entries.len(), INTERNAL_FIELDS.len());
        assert_eq!(mapping.source_of("email"), Some("workEmail"));
        assert_eq!(mapping.source_of("firstName"), None);
    }
}

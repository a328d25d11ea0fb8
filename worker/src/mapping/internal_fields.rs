//! The directory's own fields, the targets of every mapping.

/// A field of a directory user that a mapping can fill.
#[derive(Debug)]
pub struct InternalField {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    pub description: &'static str,
    /// The provider field types it takes (see `ExternalField::field_type`); empty for any.
    pub takes: &'static [&'static str],
}

/// Text fields take whatever the provider has; a text of a date or a list is still text.
const ANY: &[&str] = &[];

pub const INTERNAL_FIELDS: &[InternalField] = &[
    InternalField {
        key: "email",
        label: "Email",
        required: true,
        description: "Work email. It becomes the user's login and invitation address, and \
                      matches people already in the directory.",
        takes: &["email"],
    },
    InternalField { key: "firstName", label: "First name", required: false, description: "Given name.", takes: ANY },
    InternalField { key: "lastName", label: "Last name", required: false, description: "Family name.", takes: ANY },
    InternalField {
        key: "displayName",
        label: "Display name",
        required: false,
        description: "Name shown in the directory; defaults to first and last name.",
        takes: ANY,
    },
    InternalField {
        key: "jobTitle",
        label: "Job title",
        required: false,
        description: "Current job title.",
        takes: ANY,
    },
    InternalField {
        key: "department",
        label: "Department",
        required: false,
        description: "Department or team.",
        takes: ANY,
    },
    InternalField {
        key: "location",
        label: "Location",
        required: false,
        description: "Office or work location.",
        takes: ANY,
    },
    InternalField {
        key: "employmentStatus",
        label: "Employment status",
        required: false,
        description: "Active or inactive; inactive people are kept but marked INACTIVE. \
                      Unmapped means everyone present in the provider is active.",
        takes: &["status"],
    },
    InternalField {
        key: "startDate",
        label: "Start date",
        required: false,
        description: "Hire date (ISO 8601).",
        takes: &["date"],
    },
    InternalField {
        key: "managerId",
        label: "Manager",
        required: false,
        description: "The provider's id of the person's manager; builds the org chart.",
        takes: &["reference"],
    },
];

//! The directory's own fields, the targets of every mapping.

/// A field of a directory user that a mapping can fill.
#[derive(Debug)]
pub struct InternalField {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    pub description: &'static str,
}

pub const INTERNAL_FIELDS: &[InternalField] = &[
    InternalField {
        key: "email",
        label: "Email",
        required: true,
        description: "Work email. It becomes the user's login and invitation address, and \
                      matches people already in the directory.",
    },
    InternalField { key: "firstName", label: "First name", required: false, description: "Given name." },
    InternalField { key: "lastName", label: "Last name", required: false, description: "Family name." },
    InternalField {
        key: "displayName",
        label: "Display name",
        required: false,
        description: "Name shown in the directory; defaults to first and last name.",
    },
    InternalField { key: "jobTitle", label: "Job title", required: false, description: "Current job title." },
    InternalField { key: "department", label: "Department", required: false, description: "Department or team." },
    InternalField { key: "location", label: "Location", required: false, description: "Office or work location." },
    InternalField {
        key: "employmentStatus",
        label: "Employment status",
        required: false,
        description: "Active or inactive; inactive people are kept but marked INACTIVE. \
                      Unmapped means everyone present in the provider is active.",
    },
    InternalField { key: "startDate", label: "Start date", required: false, description: "Hire date (ISO 8601)." },
    InternalField {
        key: "managerId",
        label: "Manager",
        required: false,
        description: "The provider's id of the person's manager; builds the org chart.",
    },
];

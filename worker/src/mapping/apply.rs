//! Turns a provider record into a directory user through a mapping.

use std::collections::BTreeSet;

use super::email::email_key;
use super::{FieldMapping, INTERNAL_FIELDS};
use crate::providers::{RemoteRecord, EMPLOYMENT_INACTIVE, EMPLOYMENT_PRE_START};
use chrono::{NaiveDate, Utc};
use entity::directory_user::EmploymentStatus;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A provider record in the directory's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappedUser {
    pub remote_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    /// With the company (not a leaver), started or not.
    pub active: bool,
    /// Hired, not started yet (see [`employment_status`]). Left out of the hash when false, so
    /// the hashes of everyone else read as before the status existed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pre_start: bool,
    pub start_date: Option<String>,
    pub remote_manager_id: Option<String>,
    /// Directory fields whose provider field was withheld: their values are unknown, and what
    /// the directory holds for them stays.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub withheld: BTreeSet<&'static str>,
    /// The email's matching key (see [`email_key`]): the identity used to match and
    /// de-duplicate people. Derived from `email`, so not hashed.
    #[serde(skip)]
    pub email_key: String,
    /// See [`RemoteRecord::yields`].
    #[serde(skip)]
    pub yields: bool,
}

impl MappedUser {
    /// SHA-256 over everything a sync writes; equal hashes mean nothing to write.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a mapped user serialises");
        format!("{:x}", Sha256::digest(bytes))
    }

    /// The employment status writing this record gives its person.
    pub fn status(&self) -> EmploymentStatus {
        match (self.active, self.pre_start) {
            (false, _) => EmploymentStatus::Inactive,
            (true, true) => EmploymentStatus::PreStart,
            (true, false) => EmploymentStatus::Active,
        }
    }

    /// Whether the provider withheld the field filling `internal`.
    pub fn is_withheld(&self, internal: &str) -> bool {
        self.withheld.contains(internal)
    }

    /// This record as the directory will hold it once written: each withheld field takes what
    /// `held` (the directory's person, in these terms) holds for it. Its hash is then that of a
    /// record nothing was withheld from, so a field the provider stops showing changes no one.
    pub fn completed_from(&self, held: &MappedUser) -> MappedUser {
        let mut user = self.clone();
        for field in std::mem::take(&mut user.withheld) {
            match field {
                "firstName" => user.first_name.clone_from(&held.first_name),
                "lastName" => user.last_name.clone_from(&held.last_name),
                "displayName" => user.display_name.clone_from(&held.display_name),
                "jobTitle" => user.job_title.clone_from(&held.job_title),
                "department" => user.department.clone_from(&held.department),
                "location" => user.location.clone_from(&held.location),
                "employmentStatus" => (user.active, user.pre_start) = (held.active, held.pre_start),
                "startDate" => user.start_date.clone_from(&held.start_date),
                "managerId" => user.remote_manager_id.clone_from(&held.remote_manager_id),
                // A withheld email is a record problem: such a record is never mapped.
                _ => {}
            }
        }
        user
    }
}

/// Why a record cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordProblem {
    MissingEmail,
    InvalidEmail(String),
    /// The provider withheld the field the email is mapped to.
    EmailWithheld(String),
}

impl RecordProblem {
    /// The sync issue kind stored and shown to admins.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingEmail => "MISSING_EMAIL",
            Self::InvalidEmail(_) => "INVALID_EMAIL",
            Self::EmailWithheld(_) => "EMAIL_WITHHELD",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::MissingEmail => "email is empty".into(),
            Self::InvalidEmail(value) => format!("email '{value}' is not a valid address"),
            Self::EmailWithheld(field) => {
                format!(
                    "the provider withheld '{field}', which the email is mapped to; grant the connection read access"
                )
            }
        }
    }
}

/// Applies `mapping` to `record`. An employment status reads as a leaver only when the connector
/// wrote [`EMPLOYMENT_INACTIVE`]; unmapped, everyone the provider lists is active.
pub fn apply_mapping(mapping: &FieldMapping, record: &RemoteRecord) -> Result<MappedUser, RecordProblem> {
    let value = |internal: &str| -> Option<String> {
        mapping.source_of(internal).and_then(|external| record.values.get(external)).cloned()
    };
    // Most records withhold nothing: only look when one does.
    let mut withheld: BTreeSet<&'static str> = BTreeSet::new();
    if !record.withheld.is_empty() {
        withheld.extend(
            INTERNAL_FIELDS.iter().map(|f| f.key).filter(|internal| {
                mapping.source_of(internal).is_some_and(|external| record.withheld.contains(external))
            }),
        );
    }
    // A display name made of a withheld name is unknown too.
    if mapping.source_of("displayName").is_none() && (withheld.contains("firstName") || withheld.contains("lastName")) {
        withheld.insert("displayName");
    }
    if withheld.contains("email") {
        let field = mapping.source_of("email").unwrap_or_default().to_string();
        return Err(RecordProblem::EmailWithheld(field));
    }
    let email = value("email").ok_or(RecordProblem::MissingEmail)?;
    let Some(key) = email_key(&email) else { return Err(RecordProblem::InvalidEmail(email)) };
    let first_name = value("firstName");
    let last_name = value("lastName");
    let start_date = value("startDate").and_then(|d| iso_date(&d));
    let status =
        employment_status(value("employmentStatus").as_deref(), start_date.as_deref(), Utc::now().date_naive());
    let display_name =
        value("displayName").unwrap_or_else(|| display_name(first_name.as_deref(), last_name.as_deref(), &email));
    Ok(MappedUser {
        remote_id: record.remote_id.clone(),
        email_key: key,
        email,
        first_name,
        last_name,
        display_name,
        job_title: value("jobTitle"),
        department: value("department"),
        location: value("location"),
        active: status.is_with_company(),
        pre_start: status == EmploymentStatus::PreStart,
        start_date,
        remote_manager_id: value("managerId").map(|manager| manager_reference(&manager)),
        withheld,
        yields: record.yields,
    })
}

/// A manager as a record names them: the provider's id of their record, or (as applicant
/// tracking systems name hiring managers) their email, kept as its matching key so that finalize
/// finds its holder among everyone in the directory.
fn manager_reference(manager: &str) -> String {
    if manager.contains('@') {
        if let Some(key) = email_key(manager) {
            return key;
        }
    }
    manager.to_string()
}

/// The status of someone whose employment-status field says `said` (in the directory's terms,
/// see [`crate::providers::EMPLOYMENT_ACTIVE`]; `None` when unmapped or empty) and who starts on
/// `start_date` (ISO), as of `today`. A leaver is inactive; anyone else is pre-start until the
/// start date, whatever the provider says (it may not tell, or not have caught up), and, with no
/// start date known, when the provider says so; active otherwise.
pub fn employment_status(said: Option<&str>, start_date: Option<&str>, today: NaiveDate) -> EmploymentStatus {
    if said == Some(EMPLOYMENT_INACTIVE) {
        return EmploymentStatus::Inactive;
    }
    let starts = start_date.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match starts {
        Some(starts) if starts > today => EmploymentStatus::PreStart,
        None if said == Some(EMPLOYMENT_PRE_START) => EmploymentStatus::PreStart,
        _ => EmploymentStatus::Active,
    }
}

/// A person's name as the directory shows it when nobody gives one: the names, or the email.
pub fn display_name(first_name: Option<&str>, last_name: Option<&str>, email: &str) -> String {
    let full = [first_name, last_name].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if full.is_empty() {
        email.to_string()
    } else {
        full
    }
}

/// ISO dates (and the date of ISO date-times) pass through; BambooHR's `0000-00-00` and
/// anything unparseable become absent.
fn iso_date(raw: &str) -> Option<String> {
    let date = raw.get(..10).unwrap_or(raw);
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::MappingEntry;
    use crate::providers::EMPLOYMENT_ACTIVE;

    fn mapping(pairs: &[(&str, &str)]) -> FieldMapping {
        FieldMapping::normalized(pairs.iter().map(|(i, e)| MappingEntry::new(i, Some(e))).collect())
    }

    fn record(pairs: &[(&str, &str)]) -> RemoteRecord {
        RemoteRecord::new("1".into(), pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn maps_fields_and_derives_display_name() {
        let m = mapping(&[
            ("email", "workEmail"),
            ("firstName", "fn"),
            ("lastName", "ln"),
            ("employmentStatus", "status"),
            ("startDate", "hire"),
        ]);
        let user = apply_mapping(
            &m,
            &record(&[
                ("workEmail", "Ada@Example.com"),
                ("fn", "Ada"),
                ("ln", "Lovelace"),
                ("status", EMPLOYMENT_INACTIVE),
                ("hire", "0000-00-00"),
            ]),
        )
        .unwrap();
        assert_eq!(user.display_name, "Ada Lovelace");
        assert_eq!(user.email_key, "ada@example.com");
        assert!(!user.active);
        assert_eq!(user.start_date, None);
    }

    #[test]
    fn flags_missing_and_invalid_email() {
        let m = mapping(&[("email", "workEmail")]);
        assert_eq!(apply_mapping(&m, &record(&[])), Err(RecordProblem::MissingEmail));
        assert_eq!(apply_mapping(&m, &record(&[("workEmail", "not-an-email")])).unwrap_err().kind(), "INVALID_EMAIL");
    }

    #[test]
    fn withheld_fields_are_marked_and_a_withheld_email_is_a_problem() {
        let m = mapping(&[("email", "workEmail"), ("jobTitle", "t"), ("employmentStatus", "status")]);
        let mut r = record(&[("workEmail", "a@x.io")]);
        r.withheld.insert("t".into());
        let user = apply_mapping(&m, &r).unwrap();
        assert!(user.is_withheld("jobTitle") && !user.is_withheld("employmentStatus"));
        assert!(user.active, "an unmapped or empty status is active");
        r.withheld.insert("workEmail".into());
        assert_eq!(apply_mapping(&m, &r).unwrap_err(), RecordProblem::EmailWithheld("workEmail".into()));
    }

    #[test]
    fn a_withheld_field_completed_from_the_directory_hashes_as_the_whole_record() {
        let m = mapping(&[("email", "workEmail"), ("jobTitle", "t"), ("department", "d")]);
        let whole = apply_mapping(&m, &record(&[("workEmail", "a@x.io"), ("t", "Engineer"), ("d", "R&D")])).unwrap();
        let mut r = record(&[("workEmail", "a@x.io"), ("d", "R&D")]);
        r.withheld.insert("t".into());
        let partial = apply_mapping(&m, &r).unwrap();
        assert_ne!(partial.content_hash(), whole.content_hash(), "withheld, the record alone hashes otherwise");
        assert_eq!(partial.completed_from(&whole).content_hash(), whole.content_hash());
        let mut moved = r.clone();
        moved.values.insert("d".into(), "Sales".into());
        let moved = apply_mapping(&m, &moved).unwrap().completed_from(&whole);
        assert_ne!(moved.content_hash(), whole.content_hash(), "what the provider still shows counts");
        assert_eq!(moved.job_title.as_deref(), Some("Engineer"));
    }

    #[test]
    fn someone_hired_is_pre_start_until_the_start_date() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let status = |said, start| employment_status(said, start, today);
        assert_eq!(status(Some(EMPLOYMENT_INACTIVE), Some("2027-01-04")), EmploymentStatus::Inactive);
        assert_eq!(status(Some(EMPLOYMENT_ACTIVE), Some("2027-01-04")), EmploymentStatus::PreStart, "not yet");
        assert_eq!(status(Some(EMPLOYMENT_PRE_START), Some("2026-12-07")), EmploymentStatus::Active, "today");
        assert_eq!(status(Some(EMPLOYMENT_PRE_START), None), EmploymentStatus::PreStart, "the provider's word");
        assert_eq!(status(None, Some("2027-01-04")), EmploymentStatus::PreStart);
        assert_eq!(status(None, None), EmploymentStatus::Active);
        assert_eq!(status(Some(EMPLOYMENT_ACTIVE), Some("2020-01-01")), EmploymentStatus::Active);
    }

    #[test]
    fn hash_changes_with_content() {
        let m = mapping(&[("email", "workEmail"), ("jobTitle", "t")]);
        let a = apply_mapping(&m, &record(&[("workEmail", "a@x.io"), ("t", "Engineer")])).unwrap();
        let b = apply_mapping(&m, &record(&[("workEmail", "a@x.io"), ("t", "Manager")])).unwrap();
        assert_ne!(a.content_hash(), b.content_hash());
        assert_eq!(a.content_hash(), a.clone().content_hash());
    }
}

//! Connectors to HR and applicant-tracking systems. Each provider lives in its own module and
//! implements [`catalogue::Provider`] and [`Connector`]; [`catalogue`] is the one place that
//! lists them.
//!
//! Error policy: the shared [`http`] client retries what is worth retrying (429 with
//! Retry-After, 5xx, network errors); each connector then says what its provider's failure
//! answers mean, as a [`ProviderError`], once. Callers decide what an error means for a
//! connection or a run.
//!
//! Records come out in the directory's terms where the directory has terms of its own: a
//! connector writes its provider's employment statuses as [`EMPLOYMENT_ACTIVE`],
//! [`EMPLOYMENT_PRE_START`] or [`EMPLOYMENT_INACTIVE`], and lists the fields the provider left out of its answer (as it
//! does, silently, with fields the API user may not read) in [`RemoteRecord::withheld`].

pub mod ats;
pub mod bamboohr;
pub mod catalogue;
pub mod greenhouse;
pub mod hibob;
pub mod http;
pub mod lever;
pub mod merge;
pub mod merge_ats;
pub mod oauth;
pub mod pace;
pub mod personio;
pub mod scim;
pub mod spool;
pub mod spreadsheet;
pub mod workday;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use catalogue::{AuthMethod, ProviderCategory, ProviderInfo};

/// What went wrong talking to a provider, in terms an admin can act on.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ProviderError {
    #[error("the provider rejected the credentials: {0}")]
    InvalidCredentials(String),
    #[error("the provider refused access; API access may be disabled for this account: {0}")]
    AccessDisabled(String),
    #[error("the provider does not know this company domain: {0}")]
    UnknownTenant(String),
    #[error("the provider kept rate-limiting requests")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider answered something unexpected: {0}")]
    BadResponse(String),
    #[error("{0}")]
    NotConfigured(String),
    /// The provider cannot answer yet, for a reason an admin can wait out (a bridge still
    /// importing the account for the first time).
    #[error("{0}")]
    NotReady(String),
    /// Our side failed while holding the answer (the spool's disk, say); worth a retry.
    #[error("could not buffer the provider's answer: {0}")]
    Buffer(String),
}

impl ProviderError {
    /// Our database failed while a connector read a source kept there (an uploaded file, what a
    /// SCIM provider pushed).
    pub fn buffer(err: sea_orm::DbErr) -> Self {
        Self::Buffer(err.to_string())
    }

    /// Worth another attempt later (a queue retry), as opposed to needing an admin.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unreachable(_) | Self::Buffer(_))
    }
}

/// One field the provider exposes, as discovered from the live tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalField {
    pub key: String,
    pub label: String,
    /// Normalised type: string, email, date, reference, status, number, list.
    pub field_type: String,
    /// Grouping shown to the admin ("Employees", "Employment", ...).
    pub category: String,
}

impl ExternalField {
    /// A field of a provider whose fields are the same for every account, as its module lists them.
    pub fn listed(key: &str, label: &str, field_type: &str, category: &str) -> Self {
        Self { key: key.into(), label: label.into(), field_type: field_type.into(), category: category.into() }
    }
}

/// The value an employment-status field carries for someone with the company (employed or on
/// leave; someone whose start date is still to come is pre-start whatever the field says).
pub const EMPLOYMENT_ACTIVE: &str = "active";
/// The value an employment-status field carries for someone hired who has not started yet (an
/// HR system's onboarding), for providers that say so.
pub const EMPLOYMENT_PRE_START: &str = "pre_start";
/// The value an employment-status field carries for a leaver.
pub const EMPLOYMENT_INACTIVE: &str = "inactive";

/// The employment-status value of someone who has `left` the company, or not.
pub fn employment(left: bool) -> &'static str {
    if left {
        EMPLOYMENT_INACTIVE
    } else {
        EMPLOYMENT_ACTIVE
    }
}

/// A JSON value as a record's text: strings trimmed, numbers and booleans written out; null,
/// blank text, lists and objects are absent.
pub fn scalar_text(value: Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    let trimmed = text.trim();
    match trimmed.len() {
        0 => None,
        len if len == text.len() => Some(text),
        _ => Some(trimmed.to_string()),
    }
}

/// One employee (or candidate) as the provider sent it: field key → value. Null and empty values
/// are absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRecord {
    pub remote_id: String,
    pub values: BTreeMap<String, String>,
    /// Fields asked for that the provider left out of this record (as opposed to sending them
    /// empty): the API user may not read them. Their values are unknown, not blank.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub withheld: BTreeSet<String>,
    /// A record of someone another record of the same connection may already bring in (an
    /// applicant tracking system's user account of someone it hired): when another record of
    /// the connection holds its email, it is that person's, and adds nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yields: bool,
    /// Where the record is in the provider's document, for messages about it (a spreadsheet's
    /// "row 7"), when the provider's records have a place the admin can look.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// What the connector noticed about the record that the admin should see: each becomes a
    /// sync issue of the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<RecordNote>,
}

/// Something a connector noticed about one record, as the sync issue it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordNote {
    pub kind: NoteKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteKind {
    /// A value that looks like a spreadsheet formula, kept as text and never evaluated.
    FormulaAsText,
    /// A value the directory cannot read (a status word it does not know, an ambiguous date):
    /// the field is read as if empty, or as its default.
    ValueNotRead,
    /// The record lacks what identifies it, so it cannot be synced.
    MissingId,
}

impl NoteKind {
    /// The sync issue's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FormulaAsText => "FORMULA_AS_TEXT",
            Self::ValueNotRead => "VALUE_NOT_READ",
            Self::MissingId => "MISSING_ID",
        }
    }

    /// Whether the record is left out of the sync because of it.
    pub fn skips(self) -> bool {
        self == Self::MissingId
    }
}

impl RemoteRecord {
    pub fn new(remote_id: String, values: BTreeMap<String, String>) -> Self {
        Self { remote_id, values, withheld: BTreeSet::new(), yields: false, origin: None, notes: Vec::new() }
    }

    /// `message` about this record, prefixed with where it is when the provider says.
    pub fn described(&self, message: &str) -> String {
        match &self.origin {
            Some(origin) => format!("{origin}: {message}"),
            None => message.to_string(),
        }
    }

    /// Whether a note of the connector keeps it from being synced.
    pub fn skipped(&self) -> bool {
        self.notes.iter().any(|note| note.kind.skips())
    }
}

/// The `requested` fields an answer left out, for providers that send every readable field (null
/// when empty) and silently leave out the others; `present` tells the keys the answer carried,
/// null ones included.
pub fn left_out(requested: &[String], present: impl Fn(&str) -> bool) -> BTreeSet<String> {
    requested.iter().filter(|f| !present(f)).cloned().collect()
}

/// What the one read call that verifies a connection learned about the account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// Which system the account is, where a bridge links many ("BambooHR", via Merge).
    pub linked_system: Option<String>,
}

/// What a fetch asks for: the fields the mapping needs, and where to resume.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub fields: Vec<String>,
    /// Resume point from a previous [`RemotePage::next_cursor`]; `None` starts at the beginning.
    /// Ignored by providers that cannot resume mid-way: they start over.
    pub cursor: Option<String>,
    pub page_size: usize,
    /// An applicant tracking system's users (its hiring team) are read as people too, after
    /// its hires; other providers have no such records.
    pub hiring_team: bool,
}

/// A page of records and the cursor to resume after it.
#[derive(Debug, Clone)]
pub struct RemotePage {
    pub records: Vec<RemoteRecord>,
    /// Resume point after this page, when the provider can resume there; without one, an
    /// interrupted fetch starts over.
    pub next_cursor: Option<String>,
    /// No page follows: the fetch is complete.
    pub last: bool,
    /// Total records, once known.
    pub total: Option<usize>,
    /// Before the total is known, how many records the answer likely holds (from the share of a
    /// `Content-Length` parsed so far), when the provider's answer lets us tell.
    pub estimated_total: Option<usize>,
}

/// Pages in provider order, lazily fetched.
pub type PageStream<'a> = BoxStream<'a, Result<RemotePage, ProviderError>>;

/// What changed at the provider since a moment: an INCREMENTAL sync's input.
pub struct Changes<'a> {
    /// The records added or changed, page by page.
    pub pages: PageStream<'a>,
    /// Remote ids of records the provider deleted.
    pub removed: Vec<String>,
}

/// A live, authenticated link to one provider tenant.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The fields this tenant exposes.
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError>;

    /// One read call that proves the credentials reach the account; by default, field discovery.
    async fn verify(&self) -> Result<AccountInfo, ProviderError> {
        self.discover_fields().await?;
        Ok(AccountInfo::default())
    }

    /// Every employee, active and inactive, page by page from `request.cursor`.
    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError>;

    /// The employees added, changed or deleted since `since`, for providers with a change
    /// feed; `None` for the others, whose INCREMENTAL syncs read everything instead.
    async fn fetch_changes(
        &self,
        _since: DateTime<Utc>,
        _request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        Ok(None)
    }
}

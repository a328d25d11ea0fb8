//! A spreadsheet (CSV or Excel) an admin uploads, for companies whose HR system is one. There is
//! no API to call: the connection's source is its newest upload (see [`crate::uploads`]), read
//! on arrival and kept normalised as UTF-8 CSV until a run has synced it.
//!
//! - the file's columns are the accessible data; the suggested mapping matches usual headings;
//! - a row's id is its employee-id column where the file has one, else its email, so that the
//!   next upload's row for the same person updates them; people missing from a later upload
//!   are leavers, through the deactivation guard like every source's;
//! - only the mapped columns are read from a row: nothing else about people is kept;
//! - a status column's words and unambiguous dates are read in the directory's terms; a value
//!   that cannot be read, a cell that looks like a formula (kept as text) and a row without an
//!   id are sync issues naming the row and the column.

use std::collections::BTreeMap;

use async_trait::async_trait;
use uuid::Uuid;

use super::catalogue::{Provider, ProviderCategory, ProviderContext, ProviderInfo};
use super::spool::{spool_pages, RecordSink};
use super::{Connector, ExternalField, FetchRequest, NoteKind, PageStream, ProviderError, RecordNote, RemoteRecord};
use crate::credentials::Credentials;
use crate::mapping::headings;
use crate::uploads::{self, cells, UploadStore};

/// The spreadsheet's catalogue id.
pub const ID: &str = "spreadsheet";

static INFO: ProviderInfo = ProviderInfo {
    id: ID,
    name: "Spreadsheet (CSV or Excel)",
    category: ProviderCategory::Hris,
    logo_url: "",
    sign_in: None,
    credential_fields: &[],
    api_key_instructions: "Export your people as CSV (UTF-8, or as Excel saves it) or as an Excel workbook (.xlsx): \
        a header row, then one row per person. It needs a column of work emails (each becomes the person's login and \
        invitation address) and, if you have them, an Employee ID column, so that a person whose email changes \
        stays the same person. Other columns the directory reads: First name, Last name, Display name, Job title, \
        Department, Location, Start date (YYYY-MM-DD), Status (Active or Inactive) and Manager email (or the \
        manager's Employee ID). Upload a new file whenever people change: anyone missing from it is marked inactive, \
        and a file missing many people is held for your confirmation.",
    read_permissions: &["The columns you map, for every row of the file you upload; nothing else is kept"],
    terms_url: "",
    suggested_mapping: &[],
    named_by_admin: true,
    uploaded: true,
    pushed: false,
};

pub struct Spreadsheet;

#[async_trait]
impl Provider for Spreadsheet {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        _credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        match (&ctx.uploads, ctx.connection_id) {
            (Some(store), Some(connection_id)) => {
                Ok(Box::new(SpreadsheetConnector { store: store.clone(), connection_id }))
            }
            _ => Err(ProviderError::NotConfigured("a spreadsheet is connected by uploading it".into())),
        }
    }
}

struct SpreadsheetConnector {
    store: UploadStore,
    connection_id: Uuid,
}

#[async_trait]
impl Connector for SpreadsheetConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        let upload = self.store.latest(self.connection_id).await.map_err(ProviderError::buffer)?.ok_or_else(no_file)?;
        Ok(column_fields(&uploads::columns(&upload)))
    }

    async fn verify(&self) -> Result<super::AccountInfo, ProviderError> {
        Ok(super::AccountInfo::default())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        let upload = self.store.readable(self.connection_id).await.map_err(ProviderError::buffer)?.ok_or_else(|| {
            ProviderError::NotConfigured(
                "there is no file to read: upload the spreadsheet again (a file is kept only until a sync succeeds with it)"
                    .into(),
            )
        })?;
        let rows =
            RowReader::new(&uploads::columns(&upload), &upload.key_column, &request.fields, upload.header_row as usize);
        let expected = upload.row_count as usize;
        let content = tokio_util::io::StreamReader::new(Box::pin(self.store.content(upload.id)));
        let content = tokio_util::io::SyncIoBridge::new(Box::pin(content));
        spool_pages(request.page_size, move |sink: &mut RecordSink<'_>| {
            let mut reader = csv::Reader::from_reader(std::io::BufReader::new(content));
            let mut read = 0;
            for (index, row) in reader.records().enumerate() {
                let row = row.map_err(|err| ProviderError::Buffer(format!("reading the stored file: {err}")))?;
                if let Some(record) = rows.record(index, &row) {
                    read += 1;
                    sink(record, Some(expected))?;
                }
            }
            // A file that ends early (its content deleted while it was read) is not the whole
            // company: the run fails rather than take the rest for leavers.
            if read != expected {
                return Err(ProviderError::Buffer(format!(
                    "the stored file held {read} of its {expected} rows; upload it again"
                )));
            }
            Ok(())
        })
    }
}

/// A file's columns as the fields it offers, each typed by its heading.
pub fn column_fields(columns: &[String]) -> Vec<ExternalField> {
    columns.iter().map(|c| ExternalField::listed(c, c, headings::field_type(c), "Columns")).collect()
}

fn no_file() -> ProviderError {
    ProviderError::NotConfigured("no file has been uploaded for this connection yet".into())
}

/// How a row of the normalised content becomes a record: which cells are read, and how.
struct RowReader {
    /// The position of the key column.
    key: usize,
    key_name: String,
    key_is_email: bool,
    /// The mapped columns: position, name and type.
    read: Vec<(usize, String, &'static str)>,
    header_row: usize,
}

impl RowReader {
    fn new(columns: &[String], key_column: &str, mapped: &[String], header_row: usize) -> Self {
        let key = columns.iter().position(|c| c == key_column).unwrap_or(0);
        let read = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| mapped.contains(c))
            .map(|(i, c)| (i, c.clone(), headings::field_type(c)))
            .collect();
        Self {
            key,
            key_name: key_column.to_string(),
            key_is_email: headings::field_type(key_column) == "email",
            read,
            header_row,
        }
    }

    /// The record of the `index`th row after the header; `None` for a blank row.
    fn record(&self, index: usize, row: &csv::StringRecord) -> Option<RemoteRecord> {
        if row.iter().all(|v| v.trim().is_empty()) {
            return None;
        }
        let row_number = self.header_row + index + 1;
        let mut notes = Vec::new();
        let mut values = BTreeMap::new();
        for (position, column, field_type) in &self.read {
            let raw = row.get(*position).unwrap_or_default();
            let value = raw.trim();
            if value.is_empty() {
                continue;
            }
            if cells::looks_like_formula(raw) {
                // A mapped column's value is the directory's to show.
                let shown: String = value.chars().take(40).collect();
                let message = format!("{}: '{shown}'", cells::formula_finding(row_number, column));
                notes.push(RecordNote { kind: NoteKind::FormulaAsText, message });
            }
            let read = match *field_type {
                "status" => cells::employment_status(value).map(str::to_string),
                "date" => cells::iso_date(value),
                _ => Some(value.to_string()),
            };
            match read {
                Some(read) => {
                    values.insert(column.clone(), read);
                }
                None => notes.push(RecordNote {
                    kind: NoteKind::ValueNotRead,
                    message: not_read(row_number, column, value, field_type),
                }),
            }
        }
        let key = row.get(self.key).unwrap_or_default().trim();
        let remote_id = if self.key_is_email { key.to_lowercase() } else { key.to_string() };
        if remote_id.is_empty() {
            notes.push(RecordNote {
                kind: NoteKind::MissingId,
                message: format!(
                    "row {row_number}: '{}' is empty, and it is what tells this person apart from one upload to the \
                     next; the row is not synced",
                    self.key_name
                ),
            });
        }
        let mut record = RemoteRecord::new(remote_id, values);
        record.origin = Some(format!("row {row_number}"));
        record.notes = notes;
        Some(record)
    }
}

fn not_read(row: usize, column: &str, value: &str, field_type: &str) -> String {
    let shown: String = value.chars().take(40).collect();
    let wanted = match field_type {
        "status" => {
            "a status the directory knows (Active, Inactive, Terminated, Pre-start, …); the person is read as active"
        }
        _ => "a date written YYYY-MM-DD (03/04/2024 could be either month); it is left empty",
    };
    format!("row {row}, column '{column}': '{shown}' is not {wanted}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{EMPLOYMENT_INACTIVE, EMPLOYMENT_PRE_START};

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_row_reads_only_its_mapped_columns_in_the_directorys_terms() {
        let header = columns(&["Employee ID", "Email", "Status", "Start date", "Salary", "Title"]);
        let mapped = columns(&["Email", "Status", "Start date", "Title"]);
        let reader = RowReader::new(&header, "Employee ID", &mapped, 1);
        let row = csv::StringRecord::from(vec!["E7", " ada@acme.test ", "Terminated", "2024-03-05", "90000", "=1+1"]);
        let record = reader.record(0, &row).unwrap();
        assert_eq!(record.remote_id, "E7");
        assert_eq!(record.origin.as_deref(), Some("row 2"));
        assert_eq!(record.values["Email"], "ada@acme.test");
        assert_eq!(record.values["Status"], EMPLOYMENT_INACTIVE);
        assert_eq!(record.values["Start date"], "2024-03-05");
        assert_eq!(record.values["Title"], "=1+1", "kept as text");
        assert!(!record.values.contains_key("Salary"), "an unmapped column is never read");
        assert_eq!(record.notes.len(), 1);
        assert_eq!(record.notes[0].kind, NoteKind::FormulaAsText);
        assert!(record.notes[0].message.starts_with("row 2, column 'Title'"), "{}", record.notes[0].message);
    }

    #[test]
    fn unreadable_values_and_rows_without_an_id_are_noted() {
        let header = columns(&["Email", "Status", "Start date"]);
        let reader = RowReader::new(&header, "Email", &header, 3);
        let row = csv::StringRecord::from(vec!["", "Onboarding", "03/04/2024"]);
        let record = reader.record(2, &row).unwrap();
        assert_eq!(record.values["Status"], EMPLOYMENT_PRE_START);
        assert!(!record.values.contains_key("Start date"));
        let kinds: Vec<NoteKind> = record.notes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoteKind::ValueNotRead, NoteKind::MissingId]);
        assert!(record.notes[0].message.starts_with("row 6, column 'Start date'"), "{}", record.notes[0].message);
        assert!(record.skipped());
        let email_keyed = reader.record(0, &csv::StringRecord::from(vec!["Ada@Acme.test", "", ""])).unwrap();
        assert_eq!(email_keyed.remote_id, "ada@acme.test", "an email id does not depend on its case");
        assert!(reader.record(1, &csv::StringRecord::from(vec!["", " ", ""])).is_none(), "a blank row");
    }
}

//! Reading an uploaded Excel workbook (.xlsx) on arrival, through calamine: its first sheet's
//! cells in order, a row at a time, into the same checks and normalised CSV as a CSV upload.
//! Cells are read as the workbook saved them (a formula's last result, never the formula run
//! again); dates become ISO 8601.
//!
//! An .xlsx is a zip archive. Before anything is unpacked, the sizes its directory declares are
//! added up: a file that would unpack past [`UploadLimits::max_unpacked_bytes`] (a zip bomb) is
//! refused by that alone.

use std::collections::VecDeque;
use std::io::{Read, Seek, Write};

use calamine::{Cell, DataRef, Reader, Xlsx, XlsxError};

use super::{normalize, UploadError, UploadLimits};

pub fn normalize_xlsx(
    mut file: impl Read + Seek,
    limits: &UploadLimits,
    out: impl Write,
) -> Result<normalize::Summary, UploadError> {
    check_unpacked_size(&mut file, limits.max_unpacked_bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(file).map_err(unreadable)?;
    let sheets = workbook.sheet_names();
    let Some(sheet) = sheets.first() else { return Err(UploadError::Empty) };
    let mut cells = workbook.worksheet_cells_reader(sheet).map_err(unreadable)?;
    let rows = SheetRows { next_cell: move || cells.next_cell(), filling: None, ready: VecDeque::new(), done: false };
    let mut summary = normalize::rewrite(rows, limits, out, "UTF-8")?;
    if sheets.len() > 1 {
        summary
            .findings
            .insert(0, format!("the workbook has {} sheets; only the first, '{sheet}', is read", sheets.len()));
    }
    Ok(summary)
}

/// The sizes the archive's directory declares, added up, against `limit`.
fn check_unpacked_size(file: &mut (impl Read + Seek), limit: u64) -> Result<(), UploadError> {
    let mut archive = zip::ZipArchive::new(&mut *file).map_err(|err| {
        UploadError::Unsupported(format!("the file starts like an Excel workbook but is not one it can read ({err})"))
    })?;
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|err| UploadError::Unsupported(format!("the workbook is damaged ({err})")))?;
        unpacked = unpacked.saturating_add(part.size());
    }
    file.rewind()?;
    if unpacked > limit {
        return Err(UploadError::Unsupported(format!(
            "the workbook would unpack to {} MB, more than the {} MB allowed: it is refused unopened",
            unpacked / (1024 * 1024),
            limit / (1024 * 1024)
        )));
    }
    Ok(())
}

fn unreadable(err: XlsxError) -> UploadError {
    UploadError::Unsupported(format!("the Excel workbook could not be read ({err}); save it again, or as CSV"))
}

/// A sheet's used cells as rows: each with its row number in the sheet (counting from 1), in
/// order; a row is complete when a cell of a later one arrives.
struct SheetRows<F> {
    /// The sheet's next used cell (calamine's cell reader).
    next_cell: F,
    /// The row being filled: its number and its cells so far.
    filling: Option<(usize, csv::StringRecord)>,
    ready: VecDeque<(usize, csv::StringRecord)>,
    done: bool,
}

impl<'a, F> Iterator for SheetRows<F>
where
    F: FnMut() -> Result<Option<Cell<DataRef<'a>>>, XlsxError>,
{
    type Item = Result<(usize, csv::StringRecord), UploadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.ready.pop_front() {
                return Some(Ok(row));
            }
            if self.done {
                return None;
            }
            match (self.next_cell)() {
                Err(err) => {
                    self.done = true;
                    return Some(Err(unreadable(err)));
                }
                Ok(None) => {
                    self.done = true;
                    self.ready.extend(self.filling.take());
                }
                Ok(Some(cell)) => {
                    let (row, column) = cell.get_position();
                    let (row, column) = (row as usize + 1, column as usize);
                    if self.filling.as_ref().is_some_and(|(filling, _)| *filling != row) {
                        self.ready.extend(self.filling.take());
                    }
                    let record = &mut self.filling.get_or_insert_with(|| (row, csv::StringRecord::new())).1;
                    if column < record.len() {
                        continue;
                    }
                    while record.len() < column {
                        record.push_field("");
                    }
                    record.push_field(&cell_text(cell.get_value()));
                }
            }
        }
    }
}

/// A cell as the text a CSV of the sheet would hold: whole numbers without a decimal point,
/// dates in ISO 8601, an error cell (`#N/A`) empty.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
        DataRef::SharedString(text) => (*text).to_string(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(moment) if !moment.is_duration() => match moment.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.format("%Y-%m-%d").to_string(),
            Some(at) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => moment.as_f64().to_string(),
        },
        DataRef::DateTime(moment) => moment.as_f64().to_string(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

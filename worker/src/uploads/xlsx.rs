//! Reading an uploaded Excel workbook (.xlsx) on arrival, through calamine: its first sheet's
//! cells in order, a row at a time, into the same checks and normalised CSV as a CSV upload.
//! Cells are read as the workbook saved them (a formula's last result, never the formula run
//! again); dates become ISO 8601.
//!
//! An .xlsx is a zip archive, checked before calamine opens it (see [`check_archive`]): a file
//! that would unpack past [`UploadLimits::max_unpacked_bytes`] (a zip bomb) is refused, by the
//! sizes it declares or, when they lie, by unpacking it once, counting.

use std::collections::VecDeque;
use std::io::{Read, Seek, Write};

use calamine::{Cell, DataRef, Reader, Xlsx, XlsxError};

use super::{normalize, UploadError, UploadLimits};

pub fn normalize_xlsx(
    mut file: impl Read + Seek,
    limits: &UploadLimits,
    out: impl Write,
) -> Result<normalize::Summary, UploadError> {
    check_archive(&mut file, limits.max_unpacked_bytes)?;
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

/// The archive, checked before calamine opens it. First the sizes its directory declares, added
/// up: a zip bomb that owns up to its size is refused by that alone. Then every part is unpacked
/// once, counting: the declared sizes may lie (an unpacker need not stop at them), and so may
/// the shared strings' count, which calamine reserves room for up front.
fn check_archive(file: &mut (impl Read + Seek), limit: u64) -> Result<(), UploadError> {
    let damaged = |err: &dyn std::fmt::Display| UploadError::Unsupported(format!("the workbook is damaged ({err})"));
    let too_big = |unpacked: u64| {
        UploadError::Unsupported(format!(
            "the workbook would unpack to {} MB or more, more than the {} MB allowed (UPLOAD_MAX_UNPACKED_BYTES)",
            unpacked / (1024 * 1024),
            limit / (1024 * 1024)
        ))
    };
    let mut archive = zip::ZipArchive::new(&mut *file).map_err(|err| {
        UploadError::Unsupported(format!("the file starts like an Excel workbook but is not one it can read ({err})"))
    })?;
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        declared = declared.saturating_add(archive.by_index_raw(index).map_err(|err| damaged(&err))?.size());
    }
    if declared > limit {
        return Err(UploadError::Unsupported(format!("{}: it is refused unopened", too_big(declared))));
    }
    let mut unpacked: u64 = 0;
    let mut block = vec![0u8; 64 * 1024];
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).map_err(|err| damaged(&err))?;
        let shared_strings = part.name() == "xl/sharedStrings.xml";
        let (mut head, mut size) = (Vec::new(), 0u64);
        loop {
            let read = part.read(&mut block).map_err(|err| damaged(&err))?;
            if read == 0 {
                break;
            }
            size += read as u64;
            unpacked += read as u64;
            if unpacked > limit {
                return Err(too_big(unpacked));
            }
            if shared_strings && head.len() < 4096 {
                head.extend_from_slice(&block[..read.min(4096 - head.len())]);
            }
        }
        // The shortest shared string, `<si/>`, takes five bytes.
        if shared_strings && declared_strings(&head).is_some_and(|count| count > size / 5) {
            return Err(damaged(&"it declares more shared strings than it holds"));
        }
    }
    file.rewind()?;
    Ok(())
}

/// The `uniqueCount` the shared strings' `<sst>` element declares, if it declares one.
fn declared_strings(head: &[u8]) -> Option<u64> {
    let head = String::from_utf8_lossy(head);
    let at = head.find("uniqueCount=")? + "uniqueCount=".len();
    let digits: String = head[at..].chars().skip(1).take_while(char::is_ascii_digit).collect();
    // A count too long to be a number is more than any file holds.
    Some(digits.parse().unwrap_or(u64::MAX))
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
                    if column >= normalize::MAX_COLUMNS {
                        self.done = true;
                        return Some(Err(UploadError::TooManyColumns { limit: normalize::MAX_COLUMNS }));
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

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    fn archive(parts: &[(&str, &[u8])]) -> Cursor<Vec<u8>> {
        let mut archive = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            archive.start_file(*name, options).unwrap();
            archive.write_all(content).unwrap();
        }
        Cursor::new(archive.finish().unwrap().into_inner())
    }

    #[test]
    fn an_archive_is_unpacked_once_counting_before_calamine_opens_it() {
        let fine = archive(&[("xl/sharedStrings.xml", b"<sst uniqueCount=\"1\"><si><t>a</t></si></sst>")]);
        assert!(check_archive(&mut fine.clone(), 1024).is_ok());
        let bomb = archive(&[("xl/worksheets/sheet1.xml", &vec![b' '; 4096])]);
        let refused = check_archive(&mut bomb.clone(), 1024);
        assert!(
            matches!(refused, Err(UploadError::Unsupported(ref m)) if m.contains("refused unopened")),
            "{refused:?}"
        );
        // calamine would reserve room for a billion strings before reading one.
        let lying = archive(&[("xl/sharedStrings.xml", b"<sst count=\"1\" uniqueCount=\"1000000000\"><si/></sst>")]);
        let refused = check_archive(&mut lying.clone(), 1024);
        assert!(
            matches!(refused, Err(UploadError::Unsupported(ref m)) if m.contains("more shared strings")),
            "{refused:?}"
        );
        // An archive whose directory understates what its part unpacks to.
        let mut lying = bomb.into_inner();
        let directory = lying.windows(4).rposition(|w| w == [0x50, 0x4B, 0x01, 0x02]).unwrap();
        lying[directory + 24..directory + 28].copy_from_slice(&10u32.to_le_bytes());
        let refused = check_archive(&mut Cursor::new(lying), 1024);
        assert!(
            matches!(refused, Err(UploadError::Unsupported(ref m)) if m.contains("would unpack to")),
            "{refused:?}"
        );
        assert_eq!(declared_strings(b"<sst xmlns=\"x\" uniqueCount='12'>"), Some(12));
        assert_eq!(declared_strings(b"<sst count=\"3\">"), None);
    }
}

//! Reading an uploaded CSV once, on arrival: its text encoding and delimiter told, every row
//! read, and the file written out again as the one shape a sync reads (UTF-8, comma-separated,
//! quoted where needed, one header row, every row as wide as the header). What the read finds
//! wrong with the file as a whole is an [`UploadError`]; what it finds wrong with single rows is
//! a finding, listed for the admin, and the row is kept.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::{cells, UploadError, UploadLimits};

/// What the read learned of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The header row, trimmed; a blank heading named by its position ("Column 4").
    pub columns: Vec<String>,
    /// Rows of people (blank rows not counted).
    pub rows: usize,
    /// The column whose value identifies a person from one upload to the next.
    pub key_column: String,
    /// The header's row number in the file (1 unless a sheet starts lower); the normalised
    /// content's rows follow it one by one, blank rows included.
    pub header_row: usize,
    /// Row-level problems worth the admin's look, at most [`MAX_FINDINGS`] of them, then a count
    /// of the rest.
    pub findings: Vec<String>,
    /// The text encoding the file was read in ("UTF-8", "UTF-16LE", "windows-1252").
    pub encoding: &'static str,
}

/// The most columns a file may have: Excel's own limit (column XFD).
pub const MAX_COLUMNS: usize = 16_384;
/// Findings listed one by one; more are counted.
pub const MAX_FINDINGS: usize = 50;
/// Bytes of the file looked at to tell its encoding and delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// The text encoding of a CSV file: a byte-order mark says UTF-8 or UTF-16; otherwise valid
/// UTF-8 is UTF-8 and anything else Windows-1252 (what Excel on Windows saves as "CSV"), unless
/// it holds bytes no text in these encodings has.
pub fn detect_encoding(file: &mut (impl Read + Seek)) -> Result<&'static Encoding, UploadError> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.by_ref().take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    if let Some((encoding, _)) = Encoding::for_bom(&head) {
        return Ok(encoding);
    }
    // UTF-16 without its mark: every other byte of Latin text is zero.
    let zeros = head.iter().filter(|b| **b == 0).count();
    if zeros > 0 && zeros * 4 >= head.len() {
        return Err(UploadError::Encoding(
            "the file looks like UTF-16 text without a byte-order mark; save it as \"CSV UTF-8\" (or as UTF-16 with \
             its mark, as Excel's \"Unicode Text\" does)"
                .into(),
        ));
    }
    file.seek(SeekFrom::Start(0))?;
    if is_utf8(file)? {
        return Ok(UTF_8);
    }
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = BufReader::new(file).bytes();
    // Windows-1252 leaves these five bytes undefined, and no text has NUL or most controls.
    let foreign = bytes.try_fold(None, |found, byte| {
        let byte = byte?;
        let bad = matches!(byte, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D) || (byte < 0x20 && !b"\t\r\n".contains(&byte));
        Ok::<_, io::Error>(found.or(bad.then_some(byte)))
    })?;
    match foreign {
        Some(byte) => Err(UploadError::Encoding(format!(
            "the file is not text in UTF-8, UTF-16 or Windows-1252 (it holds the byte 0x{byte:02X}); save it as \
             \"CSV UTF-8\""
        ))),
        None => Ok(WINDOWS_1252),
    }
}

/// Whether the whole of `file` is valid UTF-8, read a block at a time.
fn is_utf8(file: &mut impl Read) -> io::Result<bool> {
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut carried: Vec<u8> = Vec::new();
    loop {
        let block = reader.fill_buf()?;
        if block.is_empty() {
            return Ok(carried.is_empty());
        }
        let length = block.len();
        let mut text = std::mem::take(&mut carried);
        text.extend_from_slice(block);
        reader.consume(length);
        let valid = Encoding::utf8_valid_up_to(&text);
        // A character cut at the block's end is carried into the next; anything else is invalid.
        if text.len() - valid > 3 || std::str::from_utf8(&text[valid..]).is_err_and(|e| e.error_len().is_some()) {
            return Ok(false);
        }
        carried = text[valid..].to_vec();
    }
}

/// The delimiter of a CSV whose first line is `line`: Excel's `sep=` line where there is one,
/// else whichever of comma, semicolon and tab its header row holds most of, outside quotes.
fn detect_delimiter(line: &str) -> (u8, bool) {
    if let Some(sep) = line.trim_end_matches(['\r', '\n']).strip_prefix("sep=") {
        if let [delimiter] = sep.as_bytes() {
            return (*delimiter, true);
        }
    }
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in line.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            _ => counts.iter_mut().filter(|(d, _)| *d == byte).for_each(|(_, n)| *n += 1),
        }
    }
    let (delimiter, _) = counts.iter().fold((b',', 0), |best, &(d, n)| if n > best.1 { (d, n) } else { best });
    (delimiter, false)
}

/// Findings as they come: the first [`MAX_FINDINGS`] kept, the rest counted.
#[derive(Default)]
struct Findings {
    listed: Vec<String>,
    more: usize,
}

impl Findings {
    fn note(&mut self, finding: String) {
        if self.listed.len() < MAX_FINDINGS {
            self.listed.push(finding);
        } else {
            self.more += 1;
        }
    }

    fn into_list(mut self) -> Vec<String> {
        if self.more > 0 {
            self.listed.push(format!("… and {} more like these", self.more));
        }
        self.listed
    }
}

/// The header row as columns: trimmed, a blank heading named by its position, no name twice
/// (compared without case).
pub fn columns_of(header: &csv::StringRecord) -> Result<Vec<String>, UploadError> {
    if header.len() > MAX_COLUMNS {
        return Err(UploadError::TooManyColumns { limit: MAX_COLUMNS });
    }
    let mut columns: Vec<String> = Vec::with_capacity(header.len());
    for (index, heading) in header.iter().enumerate() {
        let heading = heading.trim().trim_start_matches('\u{feff}').trim();
        let name = if heading.is_empty() { format!("Column {}", index + 1) } else { heading.to_string() };
        if let Some(first) = columns.iter().position(|c| c.to_lowercase() == name.to_lowercase()) {
            return Err(UploadError::DuplicateHeader { name, first: first + 1, second: index + 1 });
        }
        columns.push(name);
    }
    // Trailing blank headings over empty columns are a spreadsheet's leftovers, not data.
    while columns.last().is_some_and(|c| c.starts_with("Column "))
        && header.get(columns.len() - 1).is_some_and(|h| h.trim().is_empty())
    {
        columns.pop();
    }
    Ok(columns)
}

/// Reads the CSV in `file` (any of the encodings and delimiters above), checks it, and writes it
/// normalised to `out`.
pub fn normalize_csv(
    file: &mut (impl Read + Seek),
    limits: &UploadLimits,
    out: impl Write,
) -> Result<Summary, UploadError> {
    let encoding = detect_encoding(file)?;
    let (delimiter, sep_line) = detect_delimiter(&first_line(file, encoding)?);
    file.seek(SeekFrom::Start(0))?;
    let text = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .strip_bom(true)
        .build(file);
    let mut text = BufReader::with_capacity(256 * 1024, text);
    if sep_line {
        let mut skipped = String::new();
        text.read_line(&mut skipped)?;
    }
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text);
    let (mut row, mut record) = (0, csv::StringRecord::new());
    let rows = std::iter::from_fn(move || {
        let start = reader.position().line();
        match reader.read_record(&mut record) {
            Err(err) => Some(Err(malformed(err))),
            Ok(false) => None,
            Ok(true) => {
                row = next_row_number(row, reader.position().line() - start, &record);
                Some(Ok((row, record.clone())))
            }
        }
    });
    rewrite(rows, limits, out, encoding.name())
}

/// The row number of `record`, read over `lines` lines after row `previous`, as a spreadsheet
/// program numbers a CSV's rows: the CSV reader skips empty lines, each a blank row there, and a
/// quoted line break stays inside its row.
fn next_row_number(previous: usize, lines: u64, record: &csv::StringRecord) -> usize {
    let breaks: u64 = record.iter().map(|field| field.matches('\n').count() as u64).sum();
    previous + lines.saturating_sub(breaks + 1) as usize + 1
}

/// The first line of the file, decoded (at most [`SNIFF_BYTES`] of it).
fn first_line(file: &mut (impl Read + Seek), encoding: &'static Encoding) -> io::Result<String> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.by_ref().take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    let (text, _) = encoding.decode_with_bom_removal(&head);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// Checks the header and every row of a table read from a file (in `encoding`), each with its
/// row number in the file, and writes them, normalised, to `out`.
pub(super) fn rewrite<W: Write>(
    mut table: impl Iterator<Item = Result<(usize, csv::StringRecord), UploadError>>,
    limits: &UploadLimits,
    out: W,
    encoding: &'static str,
) -> Result<Summary, UploadError> {
    // Blank rows are written too (to keep row numbers), so they are bounded as well: a sheet
    // whose rows run far past its people is refused rather than written out.
    let max_row_number = limits.max_rows.saturating_mul(2).saturating_add(1);
    let too_many_rows = || UploadError::TooManyRows { limit: limits.max_rows };
    let Some((header_row, header)) = table.next().transpose()? else {
        return Err(UploadError::Empty);
    };
    if header_row > max_row_number {
        return Err(too_many_rows());
    }
    let columns = columns_of(&header)?;
    let key_column = cells::key_column(&columns).ok_or(UploadError::NoKeyColumn)?;
    let mut writer = csv::Writer::from_writer(Capped { inner: out, left: limits.max_unpacked_bytes });
    let unpacked = || UploadError::Unpacked { limit: limits.max_unpacked_bytes };
    let write = |writer: &mut csv::Writer<Capped<W>>, record: &mut dyn Iterator<Item = &str>| {
        writer.write_record(record).map_err(|err| if writer.get_ref().left == 0 { unpacked() } else { malformed(err) })
    };
    write(&mut writer, &mut columns.iter().map(String::as_str))?;
    let (mut rows, mut findings) = (0usize, Findings::default());
    let blank: Vec<&str> = vec![""; columns.len()];
    let mut last_row = header_row;
    for row in table {
        let (row_number, record) = row?;
        if row_number > max_row_number {
            return Err(too_many_rows());
        }
        // Rows a sheet skips are written blank, so that row numbers stay the file's.
        for _ in last_row + 1..row_number {
            write(&mut writer, &mut blank.iter().copied())?;
        }
        last_row = row_number;
        if record.iter().all(|value| value.trim().is_empty()) {
            // Kept as a blank row, so that row numbers stay the file's.
            write(&mut writer, &mut blank.iter().copied())?;
            continue;
        }
        rows += 1;
        if rows > limits.max_rows {
            return Err(UploadError::TooManyRows { limit: limits.max_rows });
        }
        let extra = record.iter().skip(columns.len()).filter(|v| !v.trim().is_empty()).count();
        if extra > 0 {
            findings.note(format!(
                "row {row_number} has {} values, more than the header's {} columns: the values past the last \
                 column are not read",
                record.len(),
                columns.len()
            ));
        }
        for (column, value) in columns.iter().zip(record.iter()) {
            if cells::looks_like_formula(value) {
                findings.note(cells::formula_finding(row_number, column));
            }
        }
        let width = record.len().min(columns.len());
        write(&mut writer, &mut record.iter().take(width).chain(blank[width..].iter().copied()))?;
    }
    if rows == 0 {
        return Err(UploadError::HeaderOnly);
    }
    writer.flush().map_err(|err| if writer.get_ref().left == 0 { unpacked() } else { UploadError::Io(err) })?;
    Ok(Summary { columns, rows, key_column, header_row, findings: findings.into_list(), encoding })
}

/// A writer that takes at most `left` bytes: past them it takes none, and says so with `left` 0.
struct Capped<W> {
    inner: W,
    left: u64,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if bytes.len() as u64 >= self.left {
            self.left = 0;
            return Err(io::Error::other("the normalised file is over its limit"));
        }
        let written = self.inner.write(bytes)?;
        self.left -= written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub(super) fn malformed(err: csv::Error) -> UploadError {
    let row = err.position().map(|p| p.record() + 1);
    match err.into_kind() {
        csv::ErrorKind::Io(err) => UploadError::Io(err),
        csv::ErrorKind::Utf8 { .. } => UploadError::Encoding("the file's text is not valid in its encoding".into()),
        other => UploadError::Malformed { row, detail: format!("{other:?}") },
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use encoding_rs::{UTF_16BE, UTF_16LE};

    use super::*;

    fn limits() -> UploadLimits {
        UploadLimits { max_rows: 1000, ..UploadLimits::default() }
    }

    fn normalized(bytes: &[u8]) -> Result<(Summary, String), UploadError> {
        let mut out = Vec::new();
        let summary = normalize_csv(&mut Cursor::new(bytes.to_vec()), &limits(), &mut out)?;
        Ok((summary, String::from_utf8(out).unwrap()))
    }

    #[test]
    fn encodings_are_told_by_their_mark_or_their_bytes() {
        let plain = "Email,First name\nzoe@acme.test,Zoë\n";
        let (summary, out) = normalized(plain.as_bytes()).unwrap();
        assert_eq!((summary.encoding, out.as_str()), ("UTF-8", plain));
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], plain.as_bytes()].concat();
        assert_eq!(normalized(&with_bom).unwrap().1, plain, "the mark is not part of the first heading");
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(plain.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let (summary, out) = normalized(&utf16).unwrap();
        assert_eq!((summary.encoding, out.as_str()), ("UTF-16LE", plain));
        let utf16be: Vec<u8> =
            [0xFE, 0xFF].into_iter().chain(plain.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(normalized(&utf16be).unwrap().1, plain);
        let (cp1252, _, _) = WINDOWS_1252.encode(plain);
        let (summary, out) = normalized(&cp1252).unwrap();
        assert_eq!((summary.encoding, out.as_str()), ("windows-1252", plain));
        let unmarked: Vec<u8> = plain.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(matches!(normalized(&unmarked), Err(UploadError::Encoding(m)) if m.contains("byte-order mark")));
        let binary = b"Email,Name\nzoe@acme.test,\x81\x02\n";
        assert!(matches!(normalized(binary), Err(UploadError::Encoding(m)) if m.contains("0x81")));
        assert_eq!(UTF_16BE.name(), "UTF-16BE");
        assert_eq!(UTF_16LE.name(), "UTF-16LE");
    }

    #[test]
    fn a_character_cut_at_a_block_boundary_is_still_utf8() {
        let mut text = "a".repeat(256 * 1024 - 1).into_bytes();
        text.extend_from_slice("é,ü\n".as_bytes());
        assert!(is_utf8(&mut Cursor::new(text.clone())).unwrap());
        text.push(0xE9);
        assert!(!is_utf8(&mut Cursor::new(text)).unwrap());
    }

    #[test]
    fn semicolons_tabs_and_excels_sep_line_are_delimiters() {
        for (file, row) in [
            ("Email;Name;Title\na@x.test;A;\"CEO; founder\"\n", "a@x.test,A,CEO; founder"),
            ("Email\tName\tTitle\na@x.test\tA\tCEO, founder\n", "a@x.test,A,\"CEO, founder\""),
            ("sep=;\nEmail;Name;Title\na@x.test;A;CEO, founder\n", "a@x.test,A,\"CEO, founder\""),
        ] {
            let (summary, out) = normalized(file.as_bytes()).unwrap();
            assert_eq!(summary.columns, ["Email", "Name", "Title"], "{file:?}");
            assert_eq!(out.lines().nth(1), Some(row), "{file:?}");
        }
        assert_eq!(detect_delimiter("\"a,b\";c;d"), (b';', false), "commas inside quotes do not count");
        assert_eq!(detect_delimiter("Email"), (b',', false));
    }

    #[test]
    fn quoted_newlines_stay_in_their_cell_and_rows_keep_the_files_numbers() {
        let file = "Email,Address,Title\na@x.test,\"1 Main St\nSpringfield\",=1+2\n,,\nb@x.test,x,@SUM(A1)\n";
        let (summary, out) = normalized(file.as_bytes()).unwrap();
        assert_eq!(summary.rows, 2);
        assert!(out.contains("\"1 Main St\nSpringfield\""), "{out}");
        assert_eq!(summary.findings.len(), 2, "{:?}", summary.findings);
        assert!(summary.findings[0].starts_with("row 2, column 'Title'"), "{:?}", summary.findings);
        assert!(
            summary.findings[1].starts_with("row 4, column 'Title'"),
            "the blank row 3 counts: {:?}",
            summary.findings
        );
    }

    #[test]
    fn files_that_say_nothing_or_say_it_twice_are_refused() {
        assert!(matches!(normalized(b""), Err(UploadError::Empty)));
        assert!(matches!(normalized(b"\n\n"), Err(UploadError::Empty)));
        assert!(matches!(normalized(b"Email,Name\n"), Err(UploadError::HeaderOnly)));
        assert!(matches!(normalized(b"Email,Name\n,\n"), Err(UploadError::HeaderOnly)));
        let twice = normalized(b"Email,Name,email\na@x.test,A,b@x.test\n");
        assert!(
            matches!(twice, Err(UploadError::DuplicateHeader { ref name, first: 1, second: 3 }) if name == "email")
        );
        assert!(matches!(normalized(b"Name,Title\nA,CEO\n"), Err(UploadError::NoKeyColumn)));
    }

    #[test]
    fn rows_past_the_limit_are_refused_with_the_limit() {
        let mut file = String::from("Email\n");
        (0..1001).for_each(|n| file.push_str(&format!("p{n}@x.test\n")));
        assert!(matches!(normalized(file.as_bytes()), Err(UploadError::TooManyRows { limit: 1000 })));
    }

    #[test]
    fn an_empty_line_is_a_blank_row_in_the_numbering() {
        let file = "Email,Title\n\na@x.test,=1\n\n\nb@x.test,\"two\nlines\"\nc@x.test,=2\n";
        let (summary, out) = normalized(file.as_bytes()).unwrap();
        assert_eq!(summary.rows, 3);
        assert!(summary.findings[0].starts_with("row 3, column 'Title'"), "{:?}", summary.findings);
        assert!(summary.findings[1].starts_with("row 7, column 'Title'"), "{:?}", summary.findings);
        // Written out, the sync's reader counts the same rows.
        assert_eq!(out.lines().filter(|l| l.starts_with("c@x.test")).count(), 1);
        let rows: Vec<String> = csv::Reader::from_reader(out.as_bytes())
            .records()
            .map(|r| r.unwrap().get(0).unwrap().to_string())
            .collect();
        assert_eq!(rows, ["", "a@x.test", "", "", "b@x.test", "c@x.test"], "row n is record n - 2");
    }

    #[test]
    fn what_is_written_out_is_bounded_however_small_the_file() {
        let wide =
            format!("Email,{}\na@x.test\n", (0..MAX_COLUMNS).map(|n| format!("c{n}")).collect::<Vec<_>>().join(","));
        assert!(matches!(normalized(wide.as_bytes()), Err(UploadError::TooManyColumns { limit: MAX_COLUMNS })));
        // Short rows padded to a wide header grow the file manyfold.
        let header = (0..2000).map(|n| format!("c{n}")).collect::<Vec<_>>().join(",");
        let file = format!("Email,{header}\n{}", "a@x.test\n".repeat(500));
        let small = UploadLimits { max_unpacked_bytes: 500_000, ..limits() };
        let refused = normalize_csv(&mut Cursor::new(file.into_bytes()), &small, &mut Vec::new());
        assert!(matches!(refused, Err(UploadError::Unpacked { limit: 500_000 })), "{refused:?}");
        // A sheet whose rows skip far ahead would be written out as blank rows.
        let far = vec![
            Ok((1, csv::StringRecord::from(vec!["Email"]))),
            Ok((1_000_000_000, csv::StringRecord::from(vec!["a@x.test"]))),
        ];
        let refused = rewrite(far.into_iter(), &limits(), Vec::new(), "UTF-8");
        assert!(matches!(refused, Err(UploadError::TooManyRows { limit: 1000 })), "{refused:?}");
    }

    #[test]
    fn short_rows_are_padded_and_long_ones_flagged() {
        let (summary, out) = normalized(b"Email,Name,Title,,\na@x.test\nb@x.test,B,CTO,extra\n").unwrap();
        assert_eq!(summary.columns, ["Email", "Name", "Title"], "trailing blank headings are dropped");
        assert_eq!(out, "Email,Name,Title\na@x.test,,\nb@x.test,B,CTO\n");
        assert!(summary.findings[0].contains("row 3 has 4 values"), "{:?}", summary.findings);
        let blank_heading = normalized(b"Email,,Title\na@x.test,x,y\n").unwrap().0;
        assert_eq!(blank_heading.columns, ["Email", "Column 2", "Title"]);
    }
}

//! A CSV datapool file read into a `Table`: the header row names the columns, each later row
//! gives one value per column. Every way a file can be unusable (missing, empty, not UTF-8,
//! a header column without a name or named twice, a row of the wrong width, too many rows,
//! and what `csv_shape` refuses: bytes the reader would take other than as written) is an
//! error naming the file, the line (and the column, where one byte is at fault) and the fix.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::csv_shape::{Checked, Refusal};
use crate::limits::{CSV_LINE_BYTES_MAX, DATAPOOL_ROWS_MAX};
use crate::model::datapool::Table;

/// A CSV datapool file that cannot be used; each names the file (and the line when known).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file cannot be opened or read.
    #[error("{}{}: cannot read the file: {reason}", path.display(), at(*line))]
    Read {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<u64>,
        /// Why.
        reason: String,
    },
    /// Not a regular file: a named pipe (opening it waits for a writer, for ever when none
    /// comes), a device (read until its end: never, for some), a directory.
    #[error(
        "{}: not a regular file ({kind}): a datapool is read whole before the run, so save the rows to a file \
         and name that",
        path.display()
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: super::NotRegular,
    },
    /// Nothing in the file, not even a header row.
    #[error(
        "{}: the file is empty: its first line must be a header row naming the columns (say id,name), \
         then one row of values per line",
        path.display()
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A header column without a name.
    #[error(
        "{}:{line}: column {column} of the header row has no name: the first line must name every column \
         (say id,name)",
        path.display()
    )]
    UnnamedColumn {
        /// The file.
        path: PathBuf,
        /// The header's line.
        line: u64,
        /// 1-based column.
        column: usize,
    },
    /// Two header columns with one name: a template could read only one of them.
    #[error(
        "{}:{line}: the header row names column {name:?} twice (columns {first} and {second}): give each \
         column its own name",
        path.display()
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The header's line.
        line: u64,
        /// The name.
        name: String,
        /// 1-based columns.
        first: usize,
        /// 1-based columns.
        second: usize,
    },
    /// Bytes that are not UTF-8 text (a file saved as Latin-1 or UTF-16).
    #[error(
        "{}:{line}: the file is not UTF-8 text (column {column} of this line has a byte that is not): save \
         it as UTF-8 (a spreadsheet's \"CSV UTF-8\")",
        path.display()
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
    },
    /// A header of one column holding `;` or a tab: a file separated by something else.
    #[error(
        "{}:{line}: the header row is one column, {name:?}: values are separated by commas, and this file \
         seems to use {separator}: save it with commas (a spreadsheet's \"CSV\")",
        path.display()
    )]
    NotCommas {
        /// The file.
        path: PathBuf,
        /// The header's line.
        line: u64,
        /// The one column's name.
        name: String,
        /// What the file seems to be separated by, in words.
        separator: &'static str,
    },
    /// A row wider or narrower than the header.
    #[error(
        "{}:{line}: this row has {values} value(s), but the header row names {columns} column(s): give every \
         row one value per column (quote a value that holds a comma: \"a, b\")",
        path.display()
    )]
    Width {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Values in the row.
        values: u64,
        /// Columns in the header.
        columns: u64,
    },
    /// A quoted value whose closing quote never comes: it would swallow the rest of the file.
    #[error(
        "{}:{line}: a quoted value opens on this line and its closing quote never comes, so the rest of the \
         file would be read into it: close the quote (a quote inside a quoted value is written twice: \"\")",
        path.display()
    )]
    UnclosedQuote {
        /// The file.
        path: PathBuf,
        /// 1-based line of the opening quote.
        line: u64,
    },
    /// Text after a value's closing quote: the reader would drop the quotes and run on.
    #[error(
        "{}:{line}:{column}: value {value}, {text}, has text after its closing quote: it would be read as \
         {read_as}. A quote only begins or ends a value: to send the text as written, quote it whole and \
         write each quote in it twice ({fix})",
        path.display()
    )]
    TextAfterQuote {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based character column of the text after the quote.
        column: u64,
        /// 1-based value of the row.
        value: u64,
        /// The value as written.
        text: String,
        /// What the reader would take it for.
        read_as: String,
        /// The value quoted, as it should be written.
        fix: String,
    },
    /// A quote inside a value that does not begin with one.
    #[error(
        "{}:{line}:{column}: value {value}, {text}, holds a quote but does not begin with one: {advice}",
        path.display()
    )]
    QuoteInValue {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based character column of the quote.
        column: u64,
        /// 1-based value of the row.
        value: u64,
        /// The value as written.
        text: String,
        /// What to write instead.
        advice: String,
    },
    /// A NUL byte: a UTF-16 file, or a file that is not text.
    #[error(
        "{}:{line}:{column}: value {value} holds a NUL byte (a zero byte): a file saved as UTF-16 has one in \
         every other byte, so save it as UTF-8 (a spreadsheet's \"CSV UTF-8\"); a value cannot hold one",
        path.display()
    )]
    Nul {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based character column.
        column: u64,
        /// 1-based value of the row.
        value: u64,
    },
    /// A byte-order mark (U+FEFF) beginning a value after the file's start: two files
    /// joined, each saved with one (the second's header row would be read as a row).
    #[error(
        "{}:{line}:{column}: value {value} begins with a byte-order mark (U+FEFF, invisible): {}",
        path.display(),
        byte_order_mark_why(*line, *value)
    )]
    ByteOrderMark {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based character column.
        column: u64,
        /// 1-based value of the row.
        value: u64,
    },
    /// A line break of one kind where the file's lines end with the other: the reader would
    /// split the line there.
    #[error(
        "{}:{line}:{column}: {found} alone, but this file's lines end with {lines_end}: it would end the line \
         here and split the row in two: remove it (a value that holds a line break is quoted)",
        path.display()
    )]
    StrayBreak {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based character column of the break.
        column: u64,
        /// The break found, in words.
        found: &'static str,
        /// The break the file's lines end with, in words.
        lines_end: &'static str,
    },
    /// A row ending with a comma: one value more than the header, empty.
    #[error(
        "{}:{line}:{column}: this row ends with a comma, so it has {values} values, the last empty, but the \
         header row names {columns} column(s): remove the comma",
        path.display()
    )]
    TrailingComma {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based character column of the comma.
        column: u64,
        /// Values in the row.
        values: u64,
        /// Columns in the header.
        columns: u64,
    },
    /// A line longer than `limits::CSV_LINE_BYTES_MAX`: not a CSV file, most likely.
    #[error(
        "{}:{line}: this line is longer than {bytes_max} bytes: is the file CSV text, one row per line? \
         (a line may hold at most that much; a longer value goes quoted across lines)",
        path.display()
    )]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The bound.
        bytes_max: u64,
    },
    /// More rows than `limits::DATAPOOL_ROWS_MAX`.
    #[error("{}: more than {rows_max} rows: split the file, or use fewer rows", path.display())]
    TooManyRows {
        /// The file.
        path: PathBuf,
        /// The bound.
        rows_max: usize,
    },
}

fn at(line: Option<u64>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// Reads a CSV file whose header row names the columns. Errors name the file and line.
pub fn read_csv(path: &Path) -> Result<Table, CsvError> {
    read_csv_bounded(path, DATAPOOL_ROWS_MAX)
}

/// `read_csv`, refusing a file of more than `rows_max` rows.
pub(super) fn read_csv_bounded(path: &Path, rows_max: usize) -> Result<Table, CsvError> {
    let read_error = |line: Option<u64>, e: &dyn std::fmt::Display| CsvError::Read {
        path: path.to_path_buf(),
        line,
        reason: e.to_string(),
    };
    // Asked before opening: opening a named pipe waits for a writer.
    if let Some(kind) = super::not_regular(path) {
        return Err(CsvError::NotAFile { path: path.to_path_buf(), kind });
    }
    let file = File::open(path).map_err(|e| read_error(None, &e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let checked = Checked::new(BufReader::new(file), CSV_LINE_BYTES_MAX);
    // Flexible: a row of the wrong width is refused here, with its line.
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(checked);
    let mut record = csv::StringRecord::new();
    let read = |reader: &mut csv::Reader<_>, record: &mut csv::StringRecord| {
        reader.read_record(record).map_err(|e| record_error(path, e))
    };
    if !read(&mut reader, &mut record)? {
        return Err(CsvError::Empty { path: path.to_path_buf() });
    }
    let header_line = record.position().map_or(1, csv::Position::line);
    let columns = header(path, &record, header_line)?;
    // Values take no more room than the file: the text never grows (and is never copied).
    let capacity = usize::try_from(size).unwrap_or(0).min(isize::MAX as usize / 2);
    let mut table = Table::with_capacity(columns, capacity);
    while read(&mut reader, &mut record)? {
        if table.rows() >= rows_max {
            return Err(CsvError::TooManyRows { path: path.to_path_buf(), rows_max });
        }
        if !table.push_row(record.iter()) {
            let (values, columns) = (record.len() as u64, table.columns().len() as u64);
            let start = record.position().map_or(0, csv::Position::byte);
            let line =
                record_line(path, start).map_err(|e| read_error(record.position().map(csv::Position::line), &e))?;
            return Err(CsvError::Width { path: path.to_path_buf(), line, values, columns });
        }
    }
    table.shrink_to_fit();
    Ok(table)
}

/// The header's column names: each named, each once.
fn header(path: &Path, record: &csv::StringRecord, line: u64) -> Result<Arc<[String]>, CsvError> {
    let columns: Vec<String> = record.iter().map(|h| h.trim().to_string()).collect();
    if let [name] = &columns[..] {
        let separator = [(';', "semicolons"), ('\t', "tabs")].into_iter().find(|(c, _)| name.contains(*c));
        if let Some((_, separator)) = separator {
            return Err(CsvError::NotCommas { path: path.to_path_buf(), line, name: name.clone(), separator });
        }
    }
    if let Some(i) = columns.iter().position(String::is_empty) {
        return Err(CsvError::UnnamedColumn { path: path.to_path_buf(), line, column: i + 1 });
    }
    for (second, name) in columns.iter().enumerate() {
        if let Some(first) = columns[..second].iter().position(|c| c == name) {
            let (name, first, second) = (name.clone(), first + 1, second + 1);
            return Err(CsvError::DuplicateColumn { path: path.to_path_buf(), line, name, first, second });
        }
    }
    Ok(columns.into())
}

/// A record the reader refused, in the file's words.
fn record_error(path: &Path, e: csv::Error) -> CsvError {
    if let csv::ErrorKind::Io(io) = e.kind()
        && let Some(refusal) = io.get_ref().and_then(|e| e.downcast_ref::<Refusal>())
    {
        return refused(path, refusal.clone());
    }
    let line = |pos: &Option<csv::Position>| {
        pos.as_ref()
            .map_or(Ok(1), |p| record_line(path, p.byte()))
            .unwrap_or_else(|_| pos.as_ref().map_or(1, csv::Position::line))
    };
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => {
            CsvError::NotUtf8 { path: path.to_path_buf(), line: line(pos), column: err.field() + 1 }
        }
        _ => CsvError::Read {
            line: e.position().map(csv::Position::line),
            reason: e.to_string(),
            path: path.to_path_buf(),
        },
    }
}

/// The 1-based line of the record that the reader says begins at byte `start`: the line of
/// its first byte that is not a line break (a line break being `\n`, `\r\n` or a lone `\r`,
/// as the reader takes them). The reader's own line count cannot be used: in a file with CRLF
/// line endings (a spreadsheet's, on Windows) a record begins at the LF of the line before,
/// and the reader counts it on that line, one line early. Reads the file up to there.
fn record_line(path: &Path, start: u64) -> std::io::Result<u64> {
    let (mut line, mut after_cr) = (1u64, false);
    for (at, next) in BufReader::new(File::open(path)?).bytes().enumerate() {
        let next = next?;
        // A CR ends a line unless an LF follows it (then the LF does).
        let cr_ended_a_line = after_cr && next != b'\n';
        if at as u64 >= start && !matches!(next, b'\r' | b'\n') {
            return Ok(line + u64::from(cr_ended_a_line));
        }
        line += u64::from(next == b'\n' || cr_ended_a_line);
        after_cr = next == b'\r';
    }
    Ok(line + u64::from(after_cr))
}

/// What `csv_shape` refused, in the file's words.
fn refused(path: &Path, refusal: Refusal) -> CsvError {
    let path = path.to_path_buf();
    match refusal {
        Refusal::LineTooLong(line) => CsvError::LineTooLong { path, line, bytes_max: CSV_LINE_BYTES_MAX },
        Refusal::UnclosedQuote(line) => CsvError::UnclosedQuote { path, line },
        Refusal::Nul(at) => CsvError::Nul { path, line: at.line, column: at.column, value: at.value },
        Refusal::ByteOrderMark(at) => {
            CsvError::ByteOrderMark { path, line: at.line, column: at.column, value: at.value }
        }
        Refusal::TextAfterQuote(at, text) => {
            let (read_as, fix) = (read_as(&text), quoted(&text));
            CsvError::TextAfterQuote { path, line: at.line, column: at.column, value: at.value, text, read_as, fix }
        }
        Refusal::QuoteInValue(at, text) => {
            let advice = if text.trim_start().starts_with('"') && text.starts_with(char::is_whitespace) {
                "a space before the opening quote makes the quote part of the value (and a comma after it \
                 ends the value): remove the space"
                    .to_string()
            } else {
                format!(
                    "a value holding a quote is quoted whole, each quote in it written twice: write {}",
                    quoted(&text)
                )
            };
            CsvError::QuoteInValue { path, line: at.line, column: at.column, value: at.value, text, advice }
        }
        Refusal::StrayBreak { at, found, lines_end } => {
            let (found, lines_end) = (found.words(), lines_end.line_end_words());
            CsvError::StrayBreak { path, line: at.line, column: at.column, found, lines_end }
        }
        Refusal::TrailingComma(at, columns) => {
            CsvError::TrailingComma { path, line: at.line, column: at.column, values: columns + 1, columns }
        }
    }
}

/// What the reader takes a value written `text` (a quoted value with text after its closing
/// quote) for: the quoted part (`""` in it a quote), then the rest as written.
fn read_as(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.strip_prefix('"').unwrap_or(text).chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
        } else if chars.clone().next() == Some('"') {
            out.push(chars.next().unwrap_or('"'));
        } else {
            out.extend(chars);
            break;
        }
    }
    out
}

/// `text` as a quoted CSV value: in quotes, each quote in it written twice.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Why a byte-order mark beginning value `value` of line `line` is refused: a second one at
/// the file's start, one in a column's name, two files joined (a row's first value past the
/// header), or a mark that would be sent as part of a value.
fn byte_order_mark_why(line: u64, value: u64) -> &'static str {
    match (line, value) {
        (1, 1) => "the file starts with two: remove one",
        (1, _) => "the column's name would hold it: remove it",
        (_, 1) => {
            "the file seems to be two files joined, each saved with one, so the second's header row would be read \
             as values: remove the mark (and that header row)"
        }
        _ => "it would be sent as part of the value: remove it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` written to a file called `name` in a folder of its own (tests run in
    /// parallel), removed with the folder when dropped.
    struct CsvFile {
        _dir: tempfile::TempDir,
        path: PathBuf,
    }

    fn csv_file(name: &str, bytes: &[u8]) -> CsvFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        CsvFile { _dir: dir, path }
    }

    fn error(bytes: &[u8]) -> String {
        read_csv(&csv_file("d.csv", bytes).path).unwrap_err().to_string()
    }

    #[test]
    fn csv_rows_past_the_bound_are_refused_naming_the_file() {
        let file = csv_file("rows.csv", b"id\n1\n2\n3\n");
        let path = &file.path;
        assert_eq!(read_csv_bounded(path, 3).unwrap().rows(), 3);
        let err = read_csv_bounded(path, 2).unwrap_err().to_string();
        assert!(err.contains("rows.csv") && err.contains("more than 2 rows"), "{err}");
    }

    /// The outside tester's `unterm.csv`: the second line's quote never closes. The reader took
    /// the rest of the file as one value (1 row, name "unterminated\r\n2,b\r\n").
    #[test]
    fn an_unclosed_quote_is_refused_at_the_line_it_opens() {
        let err = error(b"id,name\r\n1,\"unterminated\r\n2,b\r\n");
        assert!(err.contains("d.csv:2: a quoted value opens on this line"), "{err}");
        assert!(err.contains("close the quote"), "{err}");
        let err = error(b"id,name\n1,a\n2,b\n3,\"x\"\"y\n4,c\n");
        assert!(err.contains("d.csv:4: a quoted value opens"), "{err}");
        // Opened on a later line of a record that began earlier.
        let err = error(b"id,name,note\n1,\"two\nlines\",\"open\n");
        assert!(err.contains("d.csv:3: a quoted value opens"), "{err}");
        let err = error(b"\"id,name\n1,a\n");
        assert!(err.contains("d.csv:1: a quoted value opens"), "{err}");
        let err = error(b"\xEF\xBB\xBF\"id,name\n1,a\n");
        assert!(err.contains("d.csv:1: a quoted value opens"), "{err}");
    }

    /// The values of column `column`, every row, in order.
    fn column(bytes: &[u8], column: &str) -> Vec<String> {
        let table = read_csv(&csv_file("q.csv", bytes).path).unwrap();
        let pool = crate::model::datapool::DataPool::table("q", table, false);
        let mut shard = pool.shard(0, 1);
        std::iter::from_fn(|| shard.checkout()).map(|r| r.by_name(column).unwrap().to_string()).collect()
    }

    #[test]
    fn quotes_that_close_are_read() {
        let text = b"id,name\r\n1,\"a, \"\"b\"\"\r\nc\"\r\n2,\"d\"\"e\"\r\n3,\"\"\r\n4,\"\"\"x\"\"y\"\n";
        assert_eq!(column(text, "name"), ["a, \"b\"\r\nc", "d\"e", "", "\"x\"y"]);
        // A blank line is passed over; a row of one empty value is written `""`.
        assert_eq!(column(b"id\n\n\"\"\nb\n", "id"), ["", "b"]);
    }

    /// `1,"x"y` was read as `xy`: the reader dropped the quotes and ran on, changing the value
    /// without a word. A quote can only close a value.
    #[test]
    fn text_after_a_closing_quote_is_refused_naming_the_value_and_the_fix() {
        let err = error(b"id,name\n1,\"x\"y\n");
        assert!(err.contains("d.csv:2:6: value 2, \"x\"y, has text after its closing quote"), "{err}");
        assert!(err.contains("would be read as xy"), "{err}");
        assert!(err.contains("\"\"\"x\"\"y\""), "{err}");
        // A backslash does not escape a quote: `"a\"b"` closes at `\"`.
        let err = error(b"id,name\n1,ok\n2,\"a\\\"b\",c\n");
        assert!(err.contains("d.csv:3:7: value 2, \"a\\\"b\", has text after its closing quote"), "{err}");
        // A space after the closing quote is text too, and the header is checked alike.
        let err = error(b"\"id\" ,name\n1,a\n");
        assert!(err.contains("d.csv:1:5: value 1, \"id\" , has text after"), "{err}");
    }

    /// `1,a"b` is read as `a"b`, but `1, "a, b"` as two values, ` "a` and ` b"`: a quote is
    /// only a quote at the start of a value, so one inside an unquoted value is refused.
    #[test]
    fn a_quote_inside_an_unquoted_value_is_refused_naming_the_fix() {
        let err = error(b"id,name\n1,a\"b\n");
        assert!(err.contains("d.csv:2:4: value 2, a\"b, holds a quote but does not begin with one"), "{err}");
        assert!(err.contains("write \"a\"\"b\""), "{err}");
        let err = error(b"id,name,note\n1, \"a, b\",c\n");
        assert!(err.contains("d.csv:2:4: value 2,  \"a, holds a quote"), "{err}");
        assert!(err.ends_with("a space before the opening quote makes the quote part of the value (and a comma after it ends the value): remove the space"), "{err}");
    }

    /// A UTF-16 file without a byte-order mark is valid UTF-8 with a NUL in every other byte:
    /// it loaded, every value holding NULs.
    #[test]
    fn a_nul_byte_is_refused_naming_where() {
        let err = error(b"id,name\n1,a\0b\n");
        assert!(err.contains("d.csv:2:4: value 2 holds a NUL byte"), "{err}");
        assert!(err.contains("save it as UTF-8"), "{err}");
        let err = error(b"i\0d\0,\0n\0\n\x001\0,\0a\0\n\0");
        assert!(err.contains("d.csv:1:2: value 1 holds a NUL byte"), "{err}");
        let err = error(b"id,name\n1,\"a\0\"\n");
        assert!(err.contains("d.csv:2:5: value 2 holds a NUL byte"), "{err}");
    }

    /// A carriage return alone in a file whose lines end with LF (or CRLF) broke the line
    /// there: a one-column file gained a row, `a` and `b` for `a\rb`, without a word.
    #[test]
    fn a_line_break_unlike_the_files_own_is_refused_where_it_splits_a_line() {
        let err = error(b"id\na\rb\n");
        assert!(err.contains("d.csv:2:2: a carriage return (\\r) alone"), "{err}");
        assert!(err.contains("this file's lines end with a line feed (\\n or \\r\\n)"), "{err}");
        let err = error(b"id,name\r\n1,a\r\n2,b\rc\r\n");
        assert!(err.contains("d.csv:3:4: a carriage return (\\r) alone"), "{err}");
        let err = error(b"id\ra\rb\nc\r");
        assert!(err.contains("d.csv:3:2: a line feed (\\n) alone"), "{err}");
        assert!(err.contains("this file's lines end with a carriage return"), "{err}");
        // LF and CRLF mixed, a CR before a CRLF or at the end, one inside quotes: no line is split.
        assert_eq!(column(b"id\r\na\nb\r\n", "id"), ["a", "b"]);
        assert_eq!(column(b"id\na\r\r\nb\n\n\nc\r", "id"), ["a", "b", "c"]);
        assert_eq!(column(b"id\n\"a\rb\"\n", "id"), ["a\rb"]);
        assert_eq!(column(b"id\ra\r\rb\r", "id"), ["a", "b"]);
        assert_eq!(column(b"id\ra\r\nb\r", "id"), ["a", "b"]);
    }

    /// A second mark at the file's start, or one inside a row, is no joined file: the error
    /// said "two files joined ... remove that header row" of the file's own header, and of a
    /// row's second value.
    #[test]
    fn a_byte_order_mark_that_is_no_joined_file_is_not_said_to_be_one() {
        let err = error(b"\xEF\xBB\xBF\xEF\xBB\xBFid,name\n1,a\n");
        assert!(
            err.ends_with(
                "d.csv:1:1: value 1 begins with a byte-order mark (U+FEFF, invisible): the file starts \
             with two: remove one"
            ),
            "{err}"
        );
        let err = error(b"id,name\n1,\"\xEF\xBB\xBFa\"\n");
        assert!(err.ends_with("it would be sent as part of the value: remove it"), "{err}");
    }

    /// `cat a.csv b.csv` of two files saved with a byte-order mark: the second header row
    /// loaded as a row of values, its first beginning with an invisible U+FEFF.
    #[test]
    fn a_byte_order_mark_after_the_start_is_refused_naming_where() {
        let err = error(b"\xEF\xBB\xBFid,name\n1,a\n\xEF\xBB\xBFid,name\n2,b\n");
        assert!(err.contains("d.csv:3:1: value 1 begins with a byte-order mark (U+FEFF, invisible)"), "{err}");
        assert!(err.contains("two files joined"), "{err}");
        let err = error(b"id,name\n1,\"\xEF\xBB\xBFa\"\n");
        assert!(err.contains("d.csv:2:4: value 2 begins with a byte-order mark"), "{err}");
        // Greek and Cyrillic letters end in the same byte, 0xBF: they are text.
        assert_eq!(column("id,name\n1,\u{3bf}\u{43f}\u{feff}x\n".as_bytes(), "name"), ["\u{3bf}\u{43f}\u{feff}x"]);
    }

    /// A row with one value more than the header, the last empty: a trailing comma.
    #[test]
    fn a_trailing_comma_on_a_row_is_refused_naming_it() {
        let err = error(b"id,name\n1,a\n2,b,\n3,c\n");
        assert!(err.contains("d.csv:3:4: this row ends with a comma"), "{err}");
        assert!(err.contains("the header row names 2 column(s): remove the comma"), "{err}");
        let err = error(b"id,name\r\n1,a,\r\n");
        assert!(err.contains("d.csv:2:4: this row ends with a comma"), "{err}");
        let err = error(b"id,name\n1,\"a,\nb\",");
        assert!(err.contains("d.csv:3:3: this row ends with a comma"), "{err}");
        // One too many with a value in it is a row of the wrong width.
        let err = error(b"id,name\n1,a,x\n");
        assert!(err.contains("d.csv:2: this row has 3 value(s)"), "{err}");
    }

    #[test]
    fn header_columns_are_named_once_each() {
        let err = error(b"id,name,id\n1,a,9\n");
        assert!(err.contains("d.csv:1: the header row names column \"id\" twice (columns 1 and 3)"), "{err}");
        let err = error(b",name\n1,a\n");
        assert!(err.contains("d.csv:1: column 1 of the header row has no name"), "{err}");
        let err = error(b"id;name\n1;a\n");
        assert!(err.contains("d.csv:1: the header row is one column, \"id;name\""), "{err}");
        assert!(err.contains("seems to use semicolons: save it with commas"), "{err}");
        assert!(error(b"id\tname\n1\ta\n").contains("seems to use tabs"));
    }

    #[test]
    fn empty_and_non_utf8_files_say_so() {
        for empty in [&b""[..], b"\xEF\xBB\xBF", b"\n\n"] {
            let err = error(empty);
            assert!(err.contains("d.csv: the file is empty"), "{empty:?}: {err}");
        }
        let err = error(b"id,name\n1,caf\xE9\n");
        assert!(err.contains("d.csv:2: the file is not UTF-8 text (column 2"), "{err}");
        assert!(err.contains("save it as UTF-8"), "{err}");
        let err = error(b"\xFF\xFEi\0d\0\n\0");
        assert!(err.contains("d.csv:1:4: value 1 holds a NUL byte") && err.contains("save it as UTF-8"), "{err}");
    }

    /// A file saved with CRLF line endings (a spreadsheet's on Windows): the reader counts a
    /// record on the line before its own, so every error named the line above the bad one.
    #[test]
    fn errors_in_a_crlf_file_name_the_line_they_are_on() {
        let err = error(b"id,name\r\n1,a\r\n2,b\r\n3,c,extra\r\n");
        assert!(err.contains("d.csv:4: this row has 3 value(s)"), "{err}");
        let err = error(b"id,name\r\n1,a\r\n2,caf\xE9\r\n");
        assert!(err.contains("d.csv:3: the file is not UTF-8 text (column 2"), "{err}");
        // A quoted value over two lines before the bad row.
        let err = error(b"id,name\r\n1,\"two\r\nlines\"\r\n2,b,extra\r\n");
        assert!(err.contains("d.csv:4: this row has 3 value(s)"), "{err}");
        let err = error(b"id,name\n1,\"two\nlines\"\n2,b,extra\n");
        assert!(err.contains("d.csv:4: this row has 3 value(s)"), "{err}");
        // Blank lines (skipped by the reader) and lone CRs count as lines.
        let err = error(b"id,name\r\n1,a\r\n\r\n\r\n2,b,extra\r\n");
        assert!(err.contains("d.csv:5: this row has 3 value(s)"), "{err}");
        let err = error(b"id,name\r1,a\r2,b,extra\r");
        assert!(err.contains("d.csv:3: this row has 3 value(s)"), "{err}");
        let err = error(b"\xEF\xBB\xBFid,name\r\n1,a\r\n2,\"open\r\n");
        assert!(err.contains("d.csv:3: a quoted value opens"), "{err}");
    }

    /// `csv = "/dev/zero"` (or any file without line breaks) read one endless record into
    /// memory: 278 MB after 5 s, growing until the process was killed.
    #[test]
    fn a_line_past_the_bound_is_refused_naming_it() {
        let mut text = b"id,name\n1,a\n2,".to_vec();
        text.resize(text.len() + CSV_LINE_BYTES_MAX as usize, b'x');
        let err = error(&text);
        assert!(err.contains("d.csv:3: this line is longer than 1048576 bytes: is the file CSV text"), "{err}");
        let err = read_csv(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("/dev/zero: not a regular file (a device)"), "{err}");
        // A long value just under the bound is read.
        let mut text = b"id\n".to_vec();
        text.resize(text.len() + CSV_LINE_BYTES_MAX as usize, b'x');
        assert_eq!(read_csv(&csv_file("long.csv", &text).path).unwrap().rows(), 1);
        // Lines ended by a lone CR are lines, however long the file.
        let rows: Vec<u8> = (0..200_000).flat_map(|i| format!("{i:06}\r").into_bytes()).collect();
        let text = [&b"id\r"[..], &rows].concat();
        assert_eq!(read_csv(&csv_file("cr.csv", &text).path).unwrap().rows(), 200_000);
        let mut text = b"id\r1\r\n2\r".to_vec();
        text.resize(text.len() + CSV_LINE_BYTES_MAX as usize + 1, b'x');
        let err = error(&text);
        assert!(err.contains("d.csv:4: this line is longer"), "{err}");
        // The bound is a line's, not a value's (it said "a value may hold at most that much"):
        // a value quoted across lines may be longer, and is read whole.
        assert!(err.ends_with("(a line may hold at most that much; a longer value goes quoted across lines)"), "{err}");
        let line = "x".repeat(1000);
        let value: String = (0..(CSV_LINE_BYTES_MAX as usize / 1000 + 50)).map(|_| format!("{line}\n")).collect();
        let text = format!("id,v\n1,\"{value}\"\n2,b\n");
        let pool = read_csv(&csv_file("quoted.csv", text.as_bytes()).path).unwrap();
        assert_eq!(pool.rows(), 2);
        assert!(value.len() as u64 > CSV_LINE_BYTES_MAX);
    }

    /// A named pipe with no writer held `scenario check` (and a run, before its first request)
    /// in `open` for ever; a device (a terminal's `/dev/stdin`) until its end. A datapool is
    /// read whole before the run: it must be a file.
    #[test]
    fn a_pipe_or_a_device_is_refused_without_waiting_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let (done, finished) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || done.send(read_csv(&path).map(|t| t.rows()).map_err(|e| e.to_string())));
        let read = finished.recv_timeout(std::time::Duration::from_secs(5)).expect("waited on the pipe");
        let err = read.unwrap_err();
        assert!(err.contains("p.csv: not a regular file (a named pipe)"), "{err}");
        assert!(err.contains("save the rows to a file"), "{err}");
        let err = read_csv(Path::new("/dev/null")).unwrap_err().to_string();
        assert!(err.contains("/dev/null: not a regular file (a device)"), "{err}");
    }

    #[test]
    fn a_row_of_the_wrong_width_names_its_line() {
        let err = error(b"id,name\n1,a\n2,b,extra\n");
        assert!(err.contains("d.csv:3: this row has 3 value(s), but the header row names 2 column(s)"), "{err}");
    }
}

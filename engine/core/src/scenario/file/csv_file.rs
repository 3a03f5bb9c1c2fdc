//! A CSV datapool file read into a `Table`: the header row names the columns, each later row
//! gives one value per column. Every way a file can be unusable (missing, empty, not UTF-8,
//! a header column without a name or named twice, a row of the wrong width, a quote never
//! closed, too many rows) is an error naming the file, the line and the fix.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// A line longer than `limits::CSV_LINE_BYTES_MAX`: not a CSV file, most likely.
    #[error(
        "{}:{line}: this line is longer than {bytes_max} bytes: is the file CSV text, one row per line? \
         (a value may hold at most that much)",
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
    let file = File::open(path).map_err(|e| read_error(None, &e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let lines = LineBound {
        inner: BufReader::new(file),
        line: 1,
        line_bytes: 0,
        after_cr: false,
        bytes_max: CSV_LINE_BYTES_MAX,
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(lines);
    let mut record = csv::StringRecord::new();
    let read = |reader: &mut csv::Reader<_>, record: &mut csv::StringRecord| {
        reader.read_record(record).map_err(|e| record_error(path, e))
    };
    if !read(&mut reader, &mut record)? {
        return Err(CsvError::Empty { path: path.to_path_buf() });
    }
    let header_line = record.position().map_or(1, csv::Position::line);
    let mut last_start = record.position().map_or(0, csv::Position::byte);
    let columns = header(path, &record, header_line)?;
    // Values take no more room than the file: the text never grows (and is never copied).
    let capacity = usize::try_from(size).unwrap_or(0).min(isize::MAX as usize / 2);
    let mut table = Table::with_capacity(columns, capacity);
    while read(&mut reader, &mut record)? {
        if table.rows() >= rows_max {
            return Err(CsvError::TooManyRows { path: path.to_path_buf(), rows_max });
        }
        last_start = record.position().map_or(last_start, csv::Position::byte);
        if !table.push_row(record.iter()) {
            let (values, columns) = (record.len() as u64, table.columns().len() as u64);
            let line = record_line(path, last_start)
                .map_err(|e| read_error(record.position().map(csv::Position::line), &e))?;
            return Err(CsvError::Width { path: path.to_path_buf(), line, values, columns });
        }
    }
    if let Some(line) = unclosed_quote(path, last_start).map_err(|e| read_error(None, &e))? {
        return Err(CsvError::UnclosedQuote { path: path.to_path_buf(), line });
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

/// The file's bytes, refused past a line longer than `bytes_max` (the error's text is
/// [`LineTooLongAt`]): the CSV reader buffers a record whole, however long.
struct LineBound<R> {
    inner: R,
    /// 1-based line being read.
    line: u64,
    /// Bytes of that line read so far.
    line_bytes: u64,
    /// The last byte was a CR (a line break, unless an LF follows).
    after_cr: bool,
    bytes_max: u64,
}

/// The I/O error `LineBound` ends the file with: the line too long.
#[derive(Debug, thiserror::Error)]
#[error("line {0} too long")]
struct LineTooLongAt(u64);

impl<R: Read> Read for LineBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &byte in &buf[..n] {
            // A line ends at LF, CRLF or a lone CR, as the reader takes them.
            self.line += u64::from(byte == b'\n' || self.after_cr);
            self.after_cr = byte == b'\r';
            if matches!(byte, b'\n' | b'\r') {
                self.line_bytes = 0;
            } else {
                self.line_bytes += 1;
                if self.line_bytes > self.bytes_max {
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, LineTooLongAt(self.line)));
                }
            }
        }
        Ok(n)
    }
}

/// A record the reader refused, in the file's words.
fn record_error(path: &Path, e: csv::Error) -> CsvError {
    if let csv::ErrorKind::Io(io) = e.kind()
        && let Some(LineTooLongAt(line)) = io.get_ref().and_then(|e| e.downcast_ref::<LineTooLongAt>())
    {
        return CsvError::LineTooLong { path: path.to_path_buf(), line: *line, bytes_max: CSV_LINE_BYTES_MAX };
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
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            CsvError::Width { path: path.to_path_buf(), line: line(pos), values: *len, columns: *expected_len }
        }
        _ => CsvError::Read {
            line: e.position().map(csv::Position::line),
            reason: e.to_string(),
            path: path.to_path_buf(),
        },
    }
}

/// The 1-based line of the record that the reader says begins at byte `start`: the line of
/// its first byte that is not a line break. The reader's own line count cannot be used: in a
/// file with CRLF line endings (a spreadsheet's, on Windows) a record begins at the LF of the
/// line before, and the reader counts it on that line, one line early.
fn record_line(path: &Path, start: u64) -> std::io::Result<u64> {
    line_at(path, start, true)
}

/// The 1-based line holding byte `byte` of the file, a line break being `\n`, `\r\n` or a
/// lone `\r` (as the reader takes them). With `skip_breaks`, line breaks at `byte` are passed
/// over first, to the line of the next byte that is not one. Reads the file up to there.
fn line_at(path: &Path, byte: u64, skip_breaks: bool) -> std::io::Result<u64> {
    let (mut line, mut after_cr) = (1u64, false);
    for (at, next) in BufReader::new(File::open(path)?).bytes().enumerate() {
        let next = next?;
        // A CR ends a line unless an LF follows it (then the LF does).
        let cr_ended_a_line = after_cr && next != b'\n';
        if at as u64 >= byte && !(skip_breaks && matches!(next, b'\r' | b'\n')) {
            return Ok(line + u64::from(cr_ended_a_line));
        }
        line += u64::from(next == b'\n' || cr_ended_a_line);
        after_cr = next == b'\r';
    }
    Ok(line + u64::from(after_cr))
}

/// Where the file's last record begins (`start`), is a quoted value left open at the end of
/// the file? The reader takes such a value to run to the end of the file (the tell: a quote
/// never closed), so only the last record can hold one. The line it opens on (the file read
/// again up to `start` to count lines only then: a file that loads pays no second pass).
fn unclosed_quote(path: &Path, start: u64) -> std::io::Result<Option<u64>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    // The reader skips a byte-order mark before the header; so does the scan.
    let text = if start == 0 { tail.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&tail) } else { &tail };
    let Some(newlines) = open_quote_at(text) else { return Ok(None) };
    Ok(Some(line_at(path, start, false)? + newlines))
}

/// Scans one record's bytes as the CSV reader does (a quote opens a quoted value only at the
/// start of a value; `""` inside one is a quote); when the text ends inside a quoted value,
/// how many line breaks come before its opening quote.
fn open_quote_at(text: &[u8]) -> Option<u64> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        ValueStart,
        Plain,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::ValueStart;
    let (mut newlines, mut opened_after) = (0u64, 0u64);
    for (i, &byte) in text.iter().enumerate() {
        let line_break = byte == b'\n' || (byte == b'\r' && text.get(i + 1) != Some(&b'\n'));
        state = match (state, byte) {
            (State::ValueStart, b'"') => {
                opened_after = newlines;
                State::Quoted
            }
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) | (State::QuoteInQuoted, b'"') => State::Quoted,
            (_, b',' | b'\n' | b'\r') => State::ValueStart,
            _ => State::Plain,
        };
        newlines += u64::from(line_break);
    }
    (state == State::Quoted).then_some(opened_after)
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

    #[test]
    fn quotes_that_close_are_read() {
        let text = b"id,name\r\n1,\"a, \"\"b\"\"\r\nc\"\r\n2,d\"e\r\n3,\"\"\r\n4,\"x\"y\n";
        let table = read_csv(&csv_file("q.csv", text).path).unwrap();
        let pool = crate::model::datapool::DataPool::table("q", table, false);
        let mut shard = pool.shard(0, 1);
        let names: Vec<String> =
            std::iter::from_fn(|| shard.checkout()).map(|r| r.by_name("name").unwrap().to_string()).collect();
        assert_eq!(names, ["a, \"b\"\r\nc", "d\"e", "", "xy"]);
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
        assert!(err.contains("not UTF-8 text"), "{err}");
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
        assert!(err.contains("/dev/zero:1: this line is longer than"), "{err}");
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
    }

    #[test]
    fn a_row_of_the_wrong_width_names_its_line() {
        let err = error(b"id,name\n1,a\n2,b,extra\n");
        assert!(err.contains("d.csv:3: this row has 3 value(s), but the header row names 2 column(s)"), "{err}");
    }
}

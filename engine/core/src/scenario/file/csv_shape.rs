//! What a CSV datapool file's bytes must be, checked as the CSV reader reads them (one pass):
//! what the reader would take in a way other than written is refused where it is, rather than
//! read into a value changed without a word. Refused: text after a value's closing quote (the
//! reader drops the quotes and runs on: `"x"y` reads `xy`), a quote inside an unquoted value
//! (`a "b, c"` is read as two values), a NUL byte (a UTF-16 file, or not text), a value
//! beginning with a byte-order mark after the file's start (two files joined), a line break
//! of a kind the file does not use (a carriage return alone in a file of LF lines splits its
//! line in two), a row ending with a comma (one value more than the header, empty), a quote
//! never closed (the rest of the file read into one value) and a line longer than the bound.

use std::io::Read;

/// The most bytes of a value an error quotes.
const SHOWN_VALUE_BYTES_MAX: usize = 48;

/// Where in the file: 1-based line, character column and value of the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct At {
    pub line: u64,
    pub column: u64,
    pub value: u64,
}

/// A kind of line break, as a file's lines end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Break {
    /// `\n`, or `\r\n` (the reader takes both alike).
    LineFeed,
    /// `\r` alone.
    CarriageReturn,
}

/// Why the bytes were refused (the file's path is added by the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refusal {
    /// A line longer than the bound.
    #[error("line {0} too long")]
    LineTooLong(u64),
    /// A NUL byte.
    #[error("NUL at {0:?}")]
    Nul(At),
    /// A value (after the file's start) beginning with a byte-order mark.
    #[error("a byte-order mark at {0:?}")]
    ByteOrderMark(At),
    /// Text after a value's closing quote; the value's text as written.
    #[error("text after a quote at {0:?}")]
    TextAfterQuote(At, String),
    /// A quote inside a value that does not begin with one; the value's text as written.
    #[error("a quote inside a value at {0:?}")]
    QuoteInValue(At, String),
    /// A line break of one kind in a file whose lines end with the other.
    #[error("a stray line break at {at:?}")]
    StrayBreak { at: At, found: Break, lines_end: Break },
    /// A row ending with a comma; the header's width.
    #[error("a trailing comma at {0:?}")]
    TrailingComma(At, u64),
    /// A quoted value never closed; the line it opens on.
    #[error("a quote opened on line {0} never closes")]
    UnclosedQuote(u64),
}

/// Where the reading is in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a value.
    ValueStart,
    /// In a value that did not begin with a quote.
    Plain,
    /// In a quoted value.
    Quoted,
    /// Just after a quote in a quoted value: its end, or the first of `""`.
    QuoteInQuoted,
}

/// An unquoted line break whose kind is known once the next byte is: a `\r` followed by `\n`
/// is one break, and a break followed by another (a blank line) splits nothing.
#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: Break,
    /// A `\r\n`: a line feed's, but also a carriage return's line end (in a file of `\r`
    /// lines the `\r` ends the line, as there).
    crlf: bool,
    at: At,
}

/// The file's bytes as the CSV reader asks for them, each checked; a refusal ends the bytes
/// with an I/O error whose payload is the [`Refusal`], after the bytes before it are given
/// (so that the reader's own errors earlier in the file come first).
pub(super) struct Checked<R> {
    inner: R,
    bytes_max: u64,
    /// 1-based line of the next byte, and the characters and bytes of that line read so far.
    line: u64,
    line_chars: u64,
    line_bytes: u64,
    /// The last byte was a `\r` (a line break, unless a `\n` follows), or ended a line.
    after_cr: bool,
    line_ended: bool,
    state: State,
    /// 1-based value of the row being read, and whether the row has any byte yet.
    value: u64,
    row_started: bool,
    /// Where the last unquoted comma of the row is.
    last_comma: At,
    /// The values of the first row (the header), once read.
    header_values: Option<u64>,
    /// The line a quoted value was opened on.
    quote_line: u64,
    /// The first bytes of the value being read, for an error to quote.
    value_text: Vec<u8>,
    pending: Option<Pending>,
    /// The kind of break the file's lines end with, once one splits two lines.
    lines_end: Option<Break>,
    /// Bytes of a leading byte-order mark still to pass over.
    bom_left: &'static [u8],
    refused: Option<Refusal>,
}

impl<R: Read> Checked<R> {
    pub(super) fn new(inner: R, bytes_max: u64) -> Checked<R> {
        Checked {
            inner,
            bytes_max,
            line: 1,
            line_chars: 0,
            line_bytes: 0,
            after_cr: false,
            line_ended: false,
            state: State::ValueStart,
            value: 1,
            row_started: false,
            last_comma: At { line: 1, column: 1, value: 1 },
            header_values: None,
            quote_line: 1,
            value_text: Vec::new(),
            pending: None,
            lines_end: None,
            bom_left: b"\xEF\xBB\xBF",
            refused: None,
        }
    }

    fn at(&self) -> At {
        At { line: self.line, column: self.line_chars, value: self.value }
    }

    /// Takes one byte; `rest` is what follows it in the buffer (to quote a refused value whole).
    fn take(&mut self, byte: u8, rest: &[u8]) -> Result<(), Refusal> {
        if self.plain(byte) {
            return self.take_plain(byte);
        }
        if let Some((&first, left)) = self.bom_left.split_first() {
            self.bom_left = if byte == first { left } else { b"" };
            if byte == first {
                return Ok(());
            }
        }
        self.count_position(byte)?;
        if byte == 0 {
            return Err(Refusal::Nul(self.at()));
        }
        if self.state != State::Quoted && matches!(byte, b'\r' | b'\n') {
            return self.line_break(byte);
        }
        if byte == 0xBF && self.value_text.ends_with(b"\xEF\xBB") && self.value_text.len() <= 3 {
            let quoted = self.value_text.first() == Some(&b'"');
            if self.value_text.len() == 2 + usize::from(quoted) {
                // The column of the mark's first byte: one character back.
                return Err(Refusal::ByteOrderMark(At { column: self.line_chars, ..self.at() }));
            }
        }
        self.resolve_pending(false)?;
        if self.value_text.len() < SHOWN_VALUE_BYTES_MAX {
            self.value_text.push(byte);
        }
        self.row_started = true;
        self.state = match (self.state, byte) {
            (State::ValueStart, b'"') => {
                self.quote_line = self.line;
                State::Quoted
            }
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) | (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::ValueStart | State::Plain | State::QuoteInQuoted, b',') => {
                self.last_comma = self.at();
                self.value += 1;
                self.value_text.clear();
                State::ValueStart
            }
            (State::Plain, b'"') => return Err(Refusal::QuoteInValue(self.at(), self.value_rest(rest))),
            (State::QuoteInQuoted, _) => return Err(Refusal::TextAfterQuote(self.at(), self.value_rest(rest))),
            (State::ValueStart | State::Plain, _) => State::Plain,
        };
        Ok(())
    }

    /// Whether `byte` is text inside a line, whatever the value (most of a file's bytes): it
    /// changes nothing but the position and the value's text.
    fn plain(&self, byte: u8) -> bool {
        // 0xBF ends a byte-order mark (and many letters).
        !matches!(byte, b'"' | b',' | b'\r' | b'\n' | 0 | 0xBF)
            && self.state != State::QuoteInQuoted
            && !self.line_ended
            && self.pending.is_none()
            && self.bom_left.is_empty()
    }

    /// `take` for a byte that `plain` says is text.
    fn take_plain(&mut self, byte: u8) -> Result<(), Refusal> {
        self.line_bytes += 1;
        self.line_chars += u64::from(byte & 0xC0 != 0x80);
        if self.line_bytes > self.bytes_max {
            return Err(Refusal::LineTooLong(self.line));
        }
        if self.value_text.len() < SHOWN_VALUE_BYTES_MAX {
            self.value_text.push(byte);
        }
        self.row_started = true;
        if self.state == State::ValueStart {
            self.state = State::Plain;
        }
        Ok(())
    }

    /// Counts `byte` into the line and column, refusing a line past the bound.
    fn count_position(&mut self, byte: u8) -> Result<(), Refusal> {
        // A line ends at LF, CRLF or a lone CR, as the reader takes them; the next line begins
        // at the byte after.
        if self.line_ended && !(byte == b'\n' && self.after_cr) {
            self.line += 1;
            (self.line_chars, self.line_bytes) = (0, 0);
        }
        self.after_cr = byte == b'\r';
        self.line_ended = matches!(byte, b'\n' | b'\r');
        if !self.line_ended {
            self.line_bytes += 1;
            // A UTF-8 continuation byte is part of the character before it.
            self.line_chars += u64::from(byte & 0xC0 != 0x80);
            if self.line_bytes > self.bytes_max {
                return Err(Refusal::LineTooLong(self.line));
            }
        }
        Ok(())
    }

    /// An unquoted `\r` or `\n`: the end of a row (a blank line's, when it has no byte).
    fn line_break(&mut self, byte: u8) -> Result<(), Refusal> {
        let crlf = byte == b'\n' && matches!(self.pending, Some(Pending { kind: Break::CarriageReturn, .. }));
        if crlf {
            if let Some(pending) = &mut self.pending {
                (pending.kind, pending.crlf) = (Break::LineFeed, true);
            }
            return Ok(());
        }
        // A break right after another splits nothing: a blank line, or `\r` before `\r\n`.
        self.resolve_pending(true)?;
        let at = At { line: self.line, column: self.line_chars + 1, value: self.value };
        let kind = if byte == b'\n' { Break::LineFeed } else { Break::CarriageReturn };
        self.pending = Some(Pending { kind, crlf: false, at });
        self.end_row()
    }

    /// The pending break, now that the byte after it is known to be a line break
    /// (`followed_by_break`) or text.
    fn resolve_pending(&mut self, followed_by_break: bool) -> Result<(), Refusal> {
        let Some(pending) = self.pending.take() else { return Ok(()) };
        if followed_by_break {
            return Ok(());
        }
        match self.lines_end {
            None => self.lines_end = Some(pending.kind),
            Some(lines_end) if lines_end != pending.kind && !pending.crlf => {
                return Err(Refusal::StrayBreak { at: pending.at, found: pending.kind, lines_end });
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The row read so far ends (at a line break or the end of the file).
    fn end_row(&mut self) -> Result<(), Refusal> {
        // The last value is empty, after a comma: the row ends with one.
        let (values, started, ends_with_comma) = (self.value, self.row_started, self.state == State::ValueStart);
        (self.value, self.row_started, self.state) = (1, false, State::ValueStart);
        self.value_text.clear();
        if !started {
            return Ok(());
        }
        let Some(header_values) = self.header_values else {
            self.header_values = Some(values);
            return Ok(());
        };
        if values == header_values + 1 && ends_with_comma {
            return Err(Refusal::TrailingComma(self.last_comma, header_values));
        }
        Ok(())
    }

    /// The refused value's text as written: what was read of it, then the rest of it from
    /// `rest` and the file, up to its end (an unquoted comma or line break) or the bound.
    fn value_rest(&mut self, rest: &[u8]) -> String {
        let mut text = std::mem::take(&mut self.value_text);
        let mut more = [0u8; SHOWN_VALUE_BYTES_MAX];
        let from_file = match self.inner.read(&mut more) {
            Ok(n) => &more[..n],
            Err(_) => &[][..],
        };
        // Past the quote at fault the reader takes quotes as text: the value ends at a comma.
        for &byte in rest.iter().chain(from_file) {
            if text.len() >= SHOWN_VALUE_BYTES_MAX || matches!(byte, b',' | b'\r' | b'\n') {
                break;
            }
            text.push(byte);
        }
        let cut = if text.len() >= SHOWN_VALUE_BYTES_MAX { "..." } else { "" };
        // Control characters written out (`\r`, `\t`, `\u{1b}`); the rest as written.
        let shown = String::from_utf8_lossy(&text).chars().fold(String::new(), |mut shown, c| {
            if c.is_control() {
                shown.extend(c.escape_default());
            } else {
                shown.push(c);
            }
            shown
        });
        shown + cut
    }

    /// The end of the file: what is still open there.
    fn end_of_file(&mut self) -> Result<(), Refusal> {
        if self.state == State::Quoted {
            return Err(Refusal::UnclosedQuote(self.quote_line));
        }
        self.resolve_pending(true)?;
        self.end_row()
    }
}

impl Break {
    /// The break in words, as one found alone.
    pub(super) fn words(self) -> &'static str {
        match self {
            Break::LineFeed => "a line feed (\\n)",
            Break::CarriageReturn => "a carriage return (\\r)",
        }
    }

    /// The break in words, as a file's lines end with it.
    pub(super) fn line_end_words(self) -> &'static str {
        match self {
            Break::LineFeed => "a line feed (\\n or \\r\\n)",
            Break::CarriageReturn => "a carriage return (\\r)",
        }
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(refusal) = &self.refused {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, refusal.clone()));
        }
        let n = self.inner.read(buf)?;
        let refused = if n == 0 {
            self.end_of_file().err().map(|r| (0, r))
        } else {
            (0..n).find_map(|i| self.take(buf[i], &buf[i + 1..n]).err().map(|r| (i, r)))
        };
        match refused {
            None => Ok(n),
            // The bytes before the refused one are read first.
            Some((given, refusal)) => {
                self.refused = Some(refusal);
                if given > 0 { Ok(given) } else { self.read(buf) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives its bytes `chunk` at a time.
    struct Chunks<'a> {
        bytes: &'a [u8],
        chunk: usize,
    }

    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// The bytes read through the check, or its refusal.
    fn checked(bytes: &[u8], chunk: usize) -> Result<Vec<u8>, Refusal> {
        let mut read = Vec::new();
        let mut checked = Checked::new(Chunks { bytes, chunk }, 64);
        match checked.read_to_end(&mut read) {
            Ok(_) => Ok(read),
            Err(e) => Err(e.into_inner().and_then(|e| e.downcast::<Refusal>().ok()).map(|r| *r).unwrap()),
        }
    }

    /// However the file's bytes arrive (a read may end anywhere: after a `\r`, inside a
    /// byte-order mark or a `""`), the same bytes are refused at the same place, and the
    /// bytes before a refusal are all given first.
    #[test]
    fn a_refusal_does_not_depend_on_where_reads_end() {
        let files: [&[u8]; 13] = [
            b"\xEF\xBB\xBF\"id\",name\r\n1,\"a\"\"b\"\r\n",
            b"id,name\n1,\"x\"y\n",
            b"id,name\n1,a\"b\n",
            b"id\na\rb\n",
            b"id\ra\r\nb\rc\nd\r",
            b"id\r\na\r\r\nb\n\nc\r",
            b"id,name\n1,a,\n",
            b"id,name\n1,\"a\nb\",",
            b"id,name\n1,\"open\n2,b\n",
            b"i\0d\0",
            b"id\n0123456789012345678901234567890123456789012345678901234567890123456789\n",
            b"id,name\n1,\"\xC3\xA9\"\"\"\n",
            b"\xEF\xBB\xBFid\n1\n\xEF\xBB\xBFid\n",
        ];
        for file in files {
            let whole = checked(file, usize::MAX);
            for chunk in 1..8 {
                assert_eq!(checked(file, chunk), whole, "{:?} read {chunk} byte(s) at a time", file.escape_ascii());
            }
        }
        assert_eq!(checked(files[0], 1), Ok(files[0].to_vec()));
        let at = |line, column, value| At { line, column, value };
        assert_eq!(checked(files[1], 1), Err(Refusal::TextAfterQuote(at(2, 6, 2), "\"x\"y".into())));
        assert_eq!(
            checked(files[3], 3),
            Err(Refusal::StrayBreak { at: at(2, 2, 1), found: Break::CarriageReturn, lines_end: Break::LineFeed })
        );
        assert_eq!(
            checked(files[4], 2).unwrap_err(),
            Refusal::StrayBreak { at: at(4, 2, 1), found: Break::LineFeed, lines_end: Break::CarriageReturn }
        );
        assert_eq!(checked(files[6], 5), Err(Refusal::TrailingComma(at(2, 4, 2), 2)));
        assert_eq!(checked(files[8], 1), Err(Refusal::UnclosedQuote(2)));
        assert_eq!(checked(files[10], 1), Err(Refusal::LineTooLong(2)));
        assert!(checked(files[11], 1).is_ok());
        assert_eq!(checked(files[12], 1), Err(Refusal::ByteOrderMark(at(3, 1, 1))));
        // The bytes before a refused one reach the reader first (its own errors come first).
        let mut checked = Checked::new(Chunks { bytes: files[1], chunk: usize::MAX }, 64);
        let mut buf = [0u8; 64];
        assert_eq!(checked.read(&mut buf).unwrap(), 13);
        assert!(checked.read(&mut buf).is_err() && checked.read(&mut buf).is_err());
    }
}

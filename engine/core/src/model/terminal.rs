//! Text on its way to a terminal: the one place that decides which characters would act on
//! it (an escape sequence, a carriage return, a line break, a bidirectional override) and
//! writes them out instead. Every name from a scenario file (journey, transaction, datapool,
//! threshold) and every text from a server passes through here before it is printed, and
//! the one place that cuts a text too wide for its column in the middle.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::limits::TRACE_VALUE_COLUMNS_MAX;

/// `text` with the characters that would act on a terminal rather than show written out as
/// escapes: control characters (an escape sequence, a carriage return or a line break in a
/// transaction or scenario name would recolour the screen or forge a table row) and the
/// bidirectional overrides (which reorder the line around them); a backslash is written `\\`,
/// so that a name holding the two characters `\n` reads apart from one holding a line break
/// (`new\\nline` and `new\nline`). For every text that came from a server (an error sample, a
/// reason phrase, a header value) or from a scenario file (a name, a threshold) on its way to a
/// terminal; once: a text made of names already made printable goes through
/// [`printable_composed`].
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |c| c == '\\', |_| false)
}

/// A line the engine composed from texts already made printable (a message naming a
/// transaction, a journey test's trace line with its quoted values): control characters and
/// bidirectional overrides written out as [`printable`] does, a backslash kept (it begins an
/// escape already written; writing it again would show `\\\\n` for a line break).
pub fn printable_composed(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |_| false, |_| false)
}

/// Lines of text as the terminal should show them: each line as [`printable_composed`] says,
/// the line breaks (`\n`) kept. For a whole table or message whose own lines are the engine's
/// (a carriage return, which would let one line overwrite another, is still written out).
pub fn printable_lines(text: &str) -> std::borrow::Cow<'_, str> {
    escaped(text, |_| false, |c| c == '\n')
}

/// `text` with each character that `acts` on a terminal written as its escape, and each that
/// `also` names (a backslash, for a raw text) too.
fn escaped(text: &str, also: impl Fn(char) -> bool, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let acts = |c: char| {
        also(c) || !keep(c) && (c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    };
    if !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether `c` is a format character (Unicode general category Cf): invisible, yet one acts
/// on the text around it (U+202E reverses it, U+200B splits a word unseen, U+FEFF, the soft
/// hyphen U+00AD). The ranges of Unicode 15.1.
pub(crate) fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// A value as a journey test's trace shows it (a captured value, a datapool row's): quoted,
/// control characters and quotes escaped, one wider than [`TRACE_VALUE_COLUMNS_MAX`] cut in
/// the middle (a token's ends tell it apart).
pub(crate) fn traced_value(value: &str) -> String {
    cut(printable_composed(&format!("{value:?}")), TRACE_VALUE_COLUMNS_MAX)
}

/// A name as the terminal should show it, cut to `width` terminal columns: see [`printable`];
/// a name too long loses its middle, not its end (names from a HAR recording differ at their
/// end: `…_3ds_challenge_ok` and `…_3ds_challenge_fail` must not both read
/// `…_3ds_challenge_…`). A wide character that would straddle the cut is left out.
pub(crate) fn truncate(name: &str, width: usize) -> String {
    cut(printable(name), width)
}

/// `name`, made printable already, cut in its middle to `width` terminal columns.
fn cut(name: std::borrow::Cow<'_, str>, width: usize) -> String {
    if name.width() <= width {
        return name.into_owned();
    }
    let head = (width - 1) / 2;
    let tail = width - 1 - head;
    let mut cut = taken(name.chars(), head);
    let mut end: Vec<char> = taken(name.chars().rev(), tail).chars().collect();
    end.reverse();
    cut.push('…');
    cut.extend(end);
    cut
}

/// The characters of `chars` that fit in `columns` terminal columns, from the first.
fn taken(chars: impl Iterator<Item = char>, columns: usize) -> String {
    let mut used = 0;
    chars
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= columns
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_acts_on_a_terminal_is_written_out() {
        assert_eq!(printable("j\u{1b}[2J\nWARNING: fake"), "j\\u{1b}[2J\\nWARNING: fake");
        assert_eq!(printable("a\u{202e}b\u{2066}c\u{9b}"), "a\\u{202e}b\\u{2066}c\\u{9b}");
        assert!(matches!(printable("plain ünïcode"), std::borrow::Cow::Borrowed("plain ünïcode")));
        assert_eq!(printable_lines("one\ntwo\r\u{1b}"), "one\ntwo\\r\\u{1b}");
    }

    /// A name holding a backslash and `n` reads apart from one holding a line break; a line
    /// composed of texts already printable keeps its escapes as they are.
    #[test]
    fn a_backslash_reads_apart_from_the_escape_it_begins() {
        let (literal, newline) = (printable("new\\nline"), printable("new\nline"));
        assert_eq!(literal, "new\\\\nline");
        assert_eq!(newline, "new\\nline");
        assert_ne!(literal, newline);
        assert_eq!(printable("C:\\dir"), "C:\\\\dir");
        let composed = format!("transaction {literal}: {}", traced_value("a\nb"));
        assert_eq!(printable_composed(&composed), composed, "escapes already written are kept");
        assert_eq!(printable_composed("a\\b\u{1b}\u{202e}"), "a\\b\\u{1b}\\u{202e}");
        assert_eq!(printable_lines("a\\n\nb"), "a\\n\nb");
    }
}

//! What a scenario file's step and WebSocket headers are told before the run: a name that is
//! not a token, with a corrected name only when one can be made that is valid and keeps the
//! name's words (never `X--` for `X-Ü`). What a value that is not ASCII is told is
//! `http::fields`' (a journey test says it too).

/// Why a header a scenario file (or a HAR file) writes cannot be sent, if it cannot: the one
/// check of its name (an empty one told so; a suggestion only when it is a valid name that
/// keeps every word), of its value (one line) and of its framing (`Content-Length` and the
/// like are the client's).
pub fn header_problem(name: &str, value: &str) -> Option<String> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_ok() {
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Some(format!(
                "the value {value:?} holds a line break (CR or LF) or a NUL; a header value is one line"
            ));
        }
        return crate::http::fields::framing_problem(name);
    }
    if name.trim().is_empty() {
        let what = if name.is_empty() { "empty" } else { "only spaces" };
        return Some(format!(
            "{name:?} is not a header name: the name is {what}; give the header a name, e.g. \"X-Id\""
        ));
    }
    let mut said = format!(
        "{name:?} is not a header name: names are ASCII letters, digits and - (RFC 9110 tokens) with no spaces, \
         colons or quotes"
    );
    match name.chars().find(|c| !c.is_ascii()) {
        Some(c) => said.push_str(&format!(
            "; {c:?} is not ASCII and no header name can hold it (spell it in ASCII, or carry it in the value)"
        )),
        None => {
            if let Some(fixed) = suggested_name(name) {
                said.push_str(&format!("; write e.g. {fixed:?}"));
            }
        }
    }
    Some(said)
}

/// `name` (ASCII) with each run of characters a header name cannot hold (spaces, colons,
/// quotes, brackets) made one `-`, and none at either end: `Content Type` → `Content-Type`,
/// `X-Id:` → `X-Id`. `None` when nothing valid is left.
fn suggested_name(name: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let words: Vec<&str> = name.split(|c: char| !token(c)).filter(|w| !w.is_empty()).collect();
    let fixed = words.join("-").trim_matches('-').to_string();
    http::HeaderName::from_bytes(fixed.as_bytes()).is_ok().then_some(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `X-Ü` was told to write `X--`, a mangled name: a name with a character outside ASCII
    /// gets no suggestion, only what is wrong; an ASCII name with spaces or a colon gets a
    /// valid one that keeps its words; a name of nothing valid gets none.
    #[test]
    fn a_suggested_header_name_is_valid_and_keeps_the_words_or_is_not_made() {
        let said = header_problem("X-Ü", "v").unwrap();
        assert!(said.contains("'Ü' is not ASCII and no header name can hold it"), "{said}");
        assert!(!said.contains("write e.g."), "{said}");
        for (name, fixed) in
            [("Content Type", "Content-Type"), ("X-Id:", "X-Id"), (" X  Trace ", "X-Trace"), ("(a)[b]", "a-b")]
        {
            let said = header_problem(name, "v").unwrap();
            assert!(said.ends_with(&format!("; write e.g. {fixed:?}")), "{name:?}: {said}");
            assert!(http::HeaderName::from_bytes(fixed.as_bytes()).is_ok());
        }
        for name in [":", "\"\""] {
            let said = header_problem(name, "v").unwrap();
            assert!(!said.contains("write e.g."), "{name:?}: {said}");
        }
        // An empty name is told it is empty (not shown `write e.g. ""`).
        assert_eq!(
            header_problem("", "1").unwrap(),
            "\"\" is not a header name: the name is empty; give the header a name, e.g. \"X-Id\""
        );
        assert!(header_problem("  ", "1").unwrap().contains("the name is only spaces"));
        assert_eq!(header_problem("X-Ok", "v"), None);
        assert!(header_problem("X-Ok", "a\r\nb").unwrap().contains("line break"));
    }
}

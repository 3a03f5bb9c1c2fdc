//! Header fields a request may carry, checked before anything is written: a name must be an
//! RFC 9110 token, a value must hold no CR, LF or NUL (no request splitting), and the body's
//! framing (`Content-Length`, `Transfer-Encoding`) is the engine's, never the journey's. A
//! value that is not ASCII is sent as its bytes, and told (before a run for a scenario file's,
//! in a journey test's trace for every request's).

use crate::http::HttpError;
use crate::stats::ErrorKind;

/// Checks every `(name, value)`; the first that cannot be sent is an `invalid_request` error,
/// not sent.
pub fn check_headers(headers: &[(&str, &str)]) -> Result<(), HttpError> {
    for (name, value) in headers {
        if !is_token(name) {
            return Err(invalid(format!("header name {name:?} is not a valid token")));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(invalid(format!("header {name} value contains CR, LF or NUL")));
        }
        if let Some(why) = framing_problem(name) {
            return Err(invalid(why));
        }
    }
    Ok(())
}

/// Why a journey may not set header `name`, when it is one of the body's framing fields: the
/// engine writes `Content-Length` from the body itself, and sends no other framing, so a
/// journey's own would make a second length, or announce a chunked body that is not chunked
/// (a server and the proxies before it would disagree on where the request ends).
pub fn framing_problem(name: &str) -> Option<String> {
    let field = if name.eq_ignore_ascii_case("content-length") {
        "Content-Length"
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        "Transfer-Encoding"
    } else {
        return None;
    };
    Some(format!(
        "header {name} cannot be set: the engine frames the body itself (Content-Length from the body); \
         remove the {field} header"
    ))
}

fn invalid(why: String) -> HttpError {
    HttpError::not_sent(ErrorKind::InvalidRequest, why)
}

/// An RFC 9110 token: one or more of `A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~`.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The characters of `text` that are not ASCII, each once, in order, as the warning shows them
/// (`é, ü`); at most `shown` of them, then `…`.
pub fn non_ascii_characters(text: &str, shown: usize) -> String {
    let mut found: Vec<char> = Vec::new();
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    let mut said: Vec<String> = found.iter().take(shown).map(|c| c.escape_debug().to_string()).collect();
    if found.len() > shown {
        said.push("…".into());
    }
    said.join(", ")
}

/// What a non-ASCII header value's warning says after where it came from: what is sent, and
/// what to do.
pub const NON_ASCII_SENT_AS: &str = "it is sent as its UTF-8 bytes, which a server may read as Latin-1 (mojibake) \
                                     or refuse (header values are ASCII; percent-encode it, or agree an encoding \
                                     with the server)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tokens_and_values_cannot_split_the_request() {
        assert!(check_headers(&[("X-Trace-Id", "a b; c"), ("accept", "")]).is_ok());
        for (name, value, why) in [
            ("", "v", "header name \"\" is not a valid token"),
            ("X Y", "v", "header name \"X Y\" is not a valid token"),
            ("X:Y", "v", "header name \"X:Y\" is not a valid token"),
            ("X", "a\r\nInjected: 1", "header X value contains CR, LF or NUL"),
            ("X", "a\0", "header X value contains CR, LF or NUL"),
            (
                "content-length",
                "5",
                "header content-length cannot be set: the engine frames the body itself (Content-Length \
                 from the body); remove the Content-Length header",
            ),
            (
                "Transfer-Encoding",
                "chunked",
                "header Transfer-Encoding cannot be set: the engine frames the body itself (Content-Length \
                 from the body); remove the Transfer-Encoding header",
            ),
        ] {
            let err = check_headers(&[(name, value)]).unwrap_err();
            assert_eq!(err.to_string(), format!("invalid_request: {why}"));
            assert_eq!(err.kind(), Some(ErrorKind::InvalidRequest));
            assert!(!err.was_sent());
        }
    }

    #[test]
    fn non_ascii_characters_are_named_once_each() {
        assert_eq!(non_ascii_characters("José Ünïcode é", 8), "é, Ü, ï");
        assert_eq!(non_ascii_characters("äöü", 2), "ä, ö, …");
        assert_eq!(non_ascii_characters("plain", 2), "");
    }
}

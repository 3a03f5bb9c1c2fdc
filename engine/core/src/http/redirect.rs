//! Redirects, I/O-free: which statuses are followed, the method and body of the next request
//! (RFC 9110 §15.4), and the `Location` reference resolved against the current URL (RFC 3986
//! §5.2). The loop that sends each hop is the journey session's.

use std::borrow::Cow;

use super::url::{Url, UrlError};

/// A redirect that cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// The URL the redirect came from does not parse.
    #[error(transparent)]
    Base(#[from] UrlError),
    /// `Location` names a scheme other than http and https (`ftp:`, `javascript:`...).
    #[error("redirect to {location:?}: only http and https are followed")]
    Scheme {
        /// The `Location` value.
        location: String,
    },
    /// `Location` resolves to a URL the client cannot send.
    #[error("redirect to {location:?}: {reason}")]
    Target {
        /// The `Location` value.
        location: String,
        /// What is wrong with the URL it resolves to.
        reason: &'static str,
    },
}

/// A followed redirect status: 301, 302, 303, 307 or 308.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The next hop's method, and whether it keeps the body. 303 turns every method but HEAD into
/// GET; 301 and 302 turn POST into GET (RFC 9110 §15.4.2-3 allow it, and every browser does);
/// 307 and 308 keep both.
pub fn next_method(method: &http::Method, status: u16) -> (http::Method, bool) {
    match status {
        303 if *method != http::Method::HEAD && *method != http::Method::GET => (http::Method::GET, false),
        301 | 302 if *method == http::Method::POST => (http::Method::GET, false),
        _ => (method.clone(), true),
    }
}

/// Whether two absolute URLs share scheme, host and port (credentials stay within an origin).
pub fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a.tls == b.tls && a.port == b.port && a.host.eq_ignore_ascii_case(b.host),
        _ => false,
    }
}

/// Resolves `location` against the absolute URL `base` into an absolute URL the client can
/// send, or says why not. As browsers do (WHATWG URL): `http:rel`, a scheme without `//` that
/// is the current URL's own, is relative to it; `https:host/p`, another scheme without `//`,
/// names a host (the slashes a browser adds); a `\` before the query is a `/` (http and https
/// are special schemes), so `/\host/p` and `http:\\host\p` name `host`; tabs and line breaks
/// are dropped; `///host` names `host` (slashes after the first two are skipped);
/// a space in the path or query is `%20`.
pub fn resolve(base: &str, location: &str) -> Result<String, RedirectError> {
    let written = location.trim();
    let location = browser_form(written);
    let location = location.split('#').next().unwrap_or("");
    let base_url = Url::parse(base)?;
    let scheme = if base_url.tls { "https" } else { "http" };
    let resolved = if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{}", rest.trim_start_matches('/'))
    } else if let Some(colon) = scheme_end(location) {
        let target_scheme = location[..colon].to_ascii_lowercase();
        if target_scheme != "http" && target_scheme != "https" {
            return Err(RedirectError::Scheme { location: written.to_string() });
        }
        let rest = &location[colon + 1..];
        if target_scheme == scheme && !rest.starts_with("//") {
            relative(&base_url, scheme, rest)
        } else {
            format!("{target_scheme}://{}", rest.trim_start_matches('/'))
        }
    } else {
        relative(&base_url, scheme, location)
    };
    let resolved = encode_spaces_in_target(resolved);
    Url::parse(&resolved).map_err(|e| RedirectError::Target { location: written.to_string(), reason: e.reason })?;
    Ok(resolved)
}

/// `url` with each space or control character of its path and query percent-encoded, as a
/// browser follows `Location: /a b` to `/a%20b` (WHATWG URL's percent-encode sets); its
/// authority is left as it is (a space there is no host).
fn encode_spaces_in_target(url: String) -> String {
    let needs = |b: u8| b <= b' ' || b == 0x7f;
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let Some(target_start) = url[authority_start..].find(['/', '?']).map(|i| authority_start + i) else {
        return url;
    };
    if !url.bytes().skip(target_start).any(needs) {
        return url;
    }
    let mut out = String::with_capacity(url.len() + 8);
    out.push_str(&url[..target_start]);
    for c in url[target_start..].chars() {
        match u8::try_from(c) {
            Ok(b) if needs(b) => out.push_str(&format!("%{b:02X}")),
            _ => out.push(c),
        }
    }
    out
}

/// `location` as a browser reads it before resolving it (WHATWG URL, for the special schemes
/// http and https): ASCII tabs and line breaks removed, and each `\` before the query or
/// fragment read as `/` (a path separator, or the end of the host). Borrowed when there is
/// neither, which is nearly always.
fn browser_form(location: &str) -> Cow<'_, str> {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let backslash = location[..end].contains('\\');
    if !backslash && !location.contains(['\t', '\n', '\r']) {
        return Cow::Borrowed(location);
    }
    let kept = location.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    let mut out = String::with_capacity(location.len());
    let mut in_path = true;
    for c in kept {
        in_path &= c != '?' && c != '#';
        out.push(if in_path && c == '\\' { '/' } else { c });
    }
    Cow::Owned(out)
}

/// A reference without scheme or authority (`/p`, `p`, `../p`, `?q`, empty) resolved against
/// `base_url` (RFC 3986 §5.2.2).
fn relative(base_url: &Url<'_>, scheme: &str, location: &str) -> String {
    let (base_path, base_query) = split_query(base_url.target);
    let (path, query) = if location.is_empty() {
        (base_path.to_string(), base_query)
    } else if location.starts_with('/') {
        let (path, query) = split_query(location);
        (remove_dot_segments(path), query)
    } else if let Some(query) = location.strip_prefix('?') {
        (base_path.to_string(), Some(query))
    } else {
        let (relative, query) = split_query(location);
        let directory = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        (remove_dot_segments(&format!("{directory}{relative}")), query)
    };
    let mut out = format!("{scheme}://{}{path}", base_url.authority);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The end of a URI scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`), if any.
fn scheme_end(text: &str) -> Option<usize> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    (first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))).then_some(colon)
}

fn split_query(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// RFC 3986 §5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_per_status() {
        use http::Method;
        assert_eq!(next_method(&Method::POST, 302), (Method::GET, false));
        assert_eq!(next_method(&Method::POST, 301), (Method::GET, false));
        assert_eq!(next_method(&Method::PUT, 302), (Method::PUT, true));
        assert_eq!(next_method(&Method::PUT, 303), (Method::GET, false));
        assert_eq!(next_method(&Method::HEAD, 303), (Method::HEAD, true));
        assert_eq!(next_method(&Method::POST, 307), (Method::POST, true));
        assert_eq!(next_method(&Method::POST, 308), (Method::POST, true));
        assert!(is_redirect(308) && !is_redirect(304) && !is_redirect(300));
    }

    #[test]
    fn resolves_references() {
        let base = "http://h:8080/a/b/c?q=1";
        let cases = [
            ("/x", "http://h:8080/x"),
            ("/x?y=2#frag", "http://h:8080/x?y=2"),
            ("d", "http://h:8080/a/b/d"),
            ("../d", "http://h:8080/a/d"),
            ("./", "http://h:8080/a/b/"),
            ("../../../../d", "http://h:8080/d"),
            ("?z", "http://h:8080/a/b/c?z"),
            ("", "http://h:8080/a/b/c?q=1"),
            ("//other:81/p", "http://other:81/p"),
            ("HTTPS://secure/p", "https://secure/p"),
            ("/a/./b/../c", "http://h:8080/a/c"),
        ];
        for (location, want) in cases {
            assert_eq!(resolve(base, location).as_deref(), Ok(want), "{location}");
        }
    }

    /// `Location: http:rel` (the current scheme, no `//`) is relative, as in a browser; it was
    /// sent as the URL `http:rel`, which names no host.
    #[test]
    fn a_scheme_without_slashes_reads_as_a_browser_reads_it() {
        let base = "http://h:8080/a/b/c?q=1";
        let cases = [
            ("http:rel", "http://h:8080/a/b/rel"),
            ("HTTP:rel?x=1", "http://h:8080/a/b/rel?x=1"),
            ("http:/top", "http://h:8080/top"),
            ("http:../up", "http://h:8080/a/up"),
            ("http:?z", "http://h:8080/a/b/c?z"),
            ("http:", "http://h:8080/a/b/c?q=1"),
            ("https:other/p", "https://other/p"),
            ("https:/other:444/p", "https://other:444/p"),
        ];
        for (location, want) in cases {
            assert_eq!(resolve(base, location).as_deref(), Ok(want), "{location}");
        }
        assert_eq!(resolve("https://s/a/b", "https:c").as_deref(), Ok("https://s/a/c"));
        assert_eq!(resolve("https://s/a/b", "http:c").as_deref(), Ok("http://c"));
    }

    /// A `Location` with backslashes was read as a path of the current host (`/\evil` sent
    /// as `GET /\evil` to the same host; `http:\\h\p` as a relative path). Browsers read
    /// `\` as `/` in http and https URLs (WHATWG URL), and so does the engine now.
    #[test]
    fn backslashes_read_as_a_browser_reads_them() {
        let base = "http://h:8080/a/b/c?q=1";
        let cases = [
            ("http:\\\\other\\p\\q", "http://other/p/q"),
            ("http:\\/other:81/p", "http://other:81/p"),
            ("https:\\\\secure\\p", "https://secure/p"),
            ("/\\other/p", "http://other/p"),
            ("\\\\other\\p", "http://other/p"),
            ("\\/other", "http://other"),
            ("///other/p", "http://other/p"),
            ("\\top", "http://h:8080/top"),
            ("d\\e", "http://h:8080/a/b/d/e"),
            ("..\\d", "http://h:8080/a/d"),
            ("http://other\\@h/p", "http://other/@h/p"),
            ("/x?a=\\b", "http://h:8080/x?a=\\b"),
            ("/x\\y#f\\g", "http://h:8080/x/y"),
            ("/\t/other/p", "http://other/p"),
            ("/a\tb", "http://h:8080/ab"),
        ];
        for (location, want) in cases {
            assert_eq!(resolve(base, location).as_deref(), Ok(want), "{location:?}");
        }
        assert_eq!(browser_form("/plain?q=\\"), Cow::Borrowed("/plain?q=\\"), "nothing to change: borrowed");
        // A refusal names the Location as the server wrote it.
        let err = resolve(base, "ftp:\\\\h\\f").unwrap_err();
        assert_eq!(err, RedirectError::Scheme { location: "ftp:\\\\h\\f".into() });
        let err = resolve(base, "\\\\").unwrap_err().to_string();
        assert!(err.starts_with("redirect to \"\\\\\\\\\": "), "{err}");
    }

    /// A browser follows `Location: /a b` to `/a%20b`; it was refused as a URL with a space.
    /// Non-ASCII text is left to the request, which encodes it as UTF-8.
    #[test]
    fn spaces_in_a_location_are_encoded_as_a_browser_encodes_them() {
        let base = "http://h:81/a/b?q=1";
        for (location, want) in [
            ("/a b", "http://h:81/a%20b"),
            ("/search?q=mite engine&x= 1", "http://h:81/search?q=mite%20engine&x=%201"),
            ("c d", "http://h:81/a/c%20d"),
            ("?q=a b", "http://h:81/a/b?q=a%20b"),
            ("//other:82/p q", "http://other:82/p%20q"),
            ("/%20already", "http://h:81/%20already"),
            ("/é ü", "http://h:81/é%20ü"),
        ] {
            assert_eq!(resolve(base, location).as_deref(), Ok(want), "{location:?}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_followed() {
        let base = "http://h/";
        assert_eq!(resolve(base, "ftp://h/file"), Err(RedirectError::Scheme { location: "ftp://h/file".into() }));
        assert_eq!(
            resolve(base, "ftp://h/file").unwrap_err().to_string(),
            "redirect to \"ftp://h/file\": only http and https are followed"
        );
        assert!(matches!(resolve(base, "javascript:alert(1)"), Err(RedirectError::Scheme { .. })));
        assert!(matches!(resolve(base, "http://"), Err(RedirectError::Target { .. })));
        assert!(matches!(resolve("not a url", "/x"), Err(RedirectError::Base(_))));
    }

    #[test]
    fn origins() {
        assert!(same_origin("http://h:80/a", "http://H/b"));
        assert!(!same_origin("http://h/a", "https://h/a"));
        assert!(!same_origin("http://h/a", "http://g/a"));
        assert!(!same_origin("http://h:81/a", "http://h/a"));
    }
}

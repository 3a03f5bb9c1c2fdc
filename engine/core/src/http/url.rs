//! URL parsing for the client: `http(s)://host[:port]/path?query`, borrowed, no allocation.

/// The parts of an absolute `http`/`https` URL the client needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// `https`.
    pub tls: bool,
    /// Authority exactly as written (`host:port`), used for the `Host` header and pool key.
    pub authority: &'a str,
    /// Host without brackets (`::1` for `[::1]`), used for DNS and SNI.
    pub host: &'a str,
    /// Port, defaulted from the scheme.
    pub port: u16,
    /// Origin-form target (`/` when the URL has no path).
    pub target: &'a str,
}

/// A URL the client cannot use, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL {url:?}: {reason}")]
pub struct UrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl<'a> Url<'a> {
    /// Parses an absolute URL.
    pub fn parse(url: &'a str) -> Result<Url<'a>, UrlError> {
        let fail = |reason| UrlError { url: url.to_string(), reason };
        let (tls, rest) = if let Some(rest) = strip_prefix_ci(url, "http://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ci(url, "https://") {
            (true, rest)
        } else {
            return Err(fail("only http:// and https:// URLs are supported"));
        };
        // Byte searches: the URL is parsed for every request, and a `char` pattern decodes
        // UTF-8 as it goes (all three delimiters are ASCII, so a byte match is a char match).
        let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
        let authority = &rest[..end];
        let mut target = &rest[end..];
        if let Some(hash) = target.find('#') {
            target = &target[..hash];
        }
        if target.is_empty() || target.starts_with('?') {
            // "http://h" and "http://h?q" both mean the root path; the query is dropped only in
            // the second, rare, form; we refuse it rather than guess.
            if target.starts_with('?') {
                return Err(fail("a query needs a path: write http://host/?query"));
            }
            target = "/";
        }
        if authority.is_empty() {
            return Err(fail("missing host"));
        }
        if authority.contains('@') {
            return Err(fail("credentials in URLs are not supported; send an Authorization header"));
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6.find(']').ok_or_else(|| fail("unclosed [ in IPv6 host"))?;
            let host = &v6[..close];
            let after = &v6[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => parse_port(port).ok_or_else(|| fail("invalid port"))?,
                None if after.is_empty() => default_port,
                None => return Err(fail("unexpected text after IPv6 host")),
            };
            (host, port)
        } else {
            match authority.bytes().rposition(|b| b == b':') {
                Some(colon) => {
                    (&authority[..colon], parse_port(&authority[colon + 1..]).ok_or_else(|| fail("invalid port"))?)
                }
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return Err(fail("missing host"));
        }
        if target.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(fail("spaces or control characters in the path must be percent-encoded"));
        }
        Ok(Url { tls, authority, host, port, target })
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() {
        return None;
    }
    let mut port = 0u32;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        port = port * 10 + u32::from(b - b'0');
        if port > u32::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(port).ok().filter(|&p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let url = Url::parse("http://127.0.0.1:8080/a/b?c=1#frag").unwrap();
        assert_eq!(
            url,
            Url { tls: false, authority: "127.0.0.1:8080", host: "127.0.0.1", port: 8080, target: "/a/b?c=1" }
        );
        let url = Url::parse("HTTPS://localhost").unwrap();
        assert_eq!((url.tls, url.port, url.target), (true, 443, "/"));
        let url = Url::parse("http://[::1]:9000/x").unwrap();
        assert_eq!((url.host, url.port, url.authority), ("::1", 9000, "[::1]:9000"));
    }

    #[test]
    fn ports_are_decimal_from_1_to_65535() {
        for (text, port) in [("1", Some(1)), ("65535", Some(65535)), ("00080", Some(80)), ("0000000443", Some(443))] {
            assert_eq!(parse_port(text), port, "{text}");
        }
        for bad in ["", "0", "000", "65536", "99999999999999999999", "+80", "-1", "8 0", "８０", "80a", "0x50"] {
            assert_eq!(parse_port(bad), None, "{bad:?}");
        }
        let url = Url::parse("http://[::1]:65535/").unwrap();
        assert_eq!(url.port, 65535);
        let url = Url::parse("http://host:8080").unwrap();
        assert_eq!((url.host, url.port, url.target), ("host", 8080, "/"));
        let url = Url::parse("http://héllo.example:81/ü?x#y").unwrap();
        assert_eq!((url.host, url.port, url.target), ("héllo.example", 81, "/ü?x"));
    }

    #[test]
    fn refuses_what_it_cannot_send() {
        for bad in [
            "ftp://x/",
            "http://",
            "http://:80/",
            "http://h:0/",
            "http://h:99999/",
            "http://u:p@h/",
            "http://[::1/",
            "http://h/a b",
            "127.0.0.1:8080/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }
}

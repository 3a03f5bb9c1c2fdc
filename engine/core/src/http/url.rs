//! URL parsing for the client: `http(s)://host[:port]/path?query`, borrowed, no allocation.

use std::cell::RefCell;
use std::fmt::Write;

use crate::limits::{URL_PARSED_KEPT_BYTES_MAX, URLS_PARSED_KEPT};

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
    /// Parses an absolute URL. Every request parses its URL, and a journey sends the same few
    /// URLs again and again: the core keeps where the parts of the last URLs it parsed lie
    /// (`ParsedUrls`), so a URL seen again costs a compare of its bytes, not a parse.
    pub fn parse(url: &'a str) -> Result<Url<'a>, UrlError> {
        if let Some(parts) = PARSED.with_borrow(|parsed| parsed.find(url)) {
            return Ok(parts.on(url));
        }
        let parts = UrlParts::parse(url)?;
        PARSED.with_borrow_mut(|parsed| parsed.keep(url, parts));
        Ok(parts.on(url))
    }
}

/// A URL's text parsed once, for a journey that sends it again and again (a declarative step's
/// URL that reads configuration only): a request that carries it skips the parse, and its parts
/// are held apart, each its own text, so that a request takes them as they are (no slice of the
/// text made and checked for each request).
#[derive(Debug)]
pub(crate) struct KeptUrl {
    text: String,
    tls: bool,
    port: u16,
    authority: Box<str>,
    host: Box<str>,
    target: Box<str>,
}

impl KeptUrl {
    /// `text` with its parts, when it parses and is all ASCII (a non-ASCII path is sent
    /// percent-encoded, a copy each request makes); `None` otherwise, and the requests that
    /// send it parse it (and report what is wrong with it) as any other.
    pub(crate) fn parse(text: String) -> Option<KeptUrl> {
        if !text.is_ascii() {
            return None;
        }
        let Url { tls, authority, host, port, target } = UrlParts::parse(&text).ok()?.on(&text);
        let (authority, host, target) = (authority.into(), host.into(), target.into());
        Some(KeptUrl { text, tls, port, authority, host, target })
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The parts, as [`Url::parse`] gives them.
    #[inline]
    pub(crate) fn url(&self) -> Url<'_> {
        Url { tls: self.tls, authority: &self.authority, host: &self.host, port: self.port, target: &self.target }
    }
}

thread_local! {
    /// This core's last parsed URLs (a URL's parts only borrow it, so the cache holds offsets).
    static PARSED: RefCell<ParsedUrls> = const { RefCell::new(ParsedUrls::new()) };
}

/// The last `URLS_PARSED_KEPT` URLs a core parsed (each at most `URL_PARSED_KEPT_BYTES_MAX`
/// long): their bytes and where their parts lie, replaced oldest first. Only URLs that parsed
/// are kept, and a URL's parts lie at the same offsets in any string with the same bytes.
struct ParsedUrls {
    kept: [ParsedUrl; URLS_PARSED_KEPT],
    /// The entry the next new URL replaces.
    next: usize,
}

/// One kept URL: its bytes (`len` of them; none in an entry not used yet) and its parts.
#[derive(Clone, Copy)]
struct ParsedUrl {
    len: usize,
    bytes: [u8; URL_PARSED_KEPT_BYTES_MAX],
    parts: UrlParts,
}

impl ParsedUrls {
    const fn new() -> ParsedUrls {
        let empty = ParsedUrl {
            len: 0,
            bytes: [0; URL_PARSED_KEPT_BYTES_MAX],
            parts: UrlParts { tls: false, port: 0, authority: (0, 0), host: (0, 0), target: None },
        };
        ParsedUrls { kept: [empty; URLS_PARSED_KEPT], next: 0 }
    }

    /// The parts of `url` when it is kept (an empty string, never a URL, is not: it would
    /// match an entry not used yet).
    fn find(&self, url: &str) -> Option<UrlParts> {
        let len = url.len();
        if len == 0 {
            return None;
        }
        self.kept.iter().find(|kept| kept.len == len && kept.bytes[..len] == *url.as_bytes()).map(|kept| kept.parts)
    }

    /// Keeps `url`, which parsed into `parts`, in place of the oldest entry (unless too long).
    fn keep(&mut self, url: &str, parts: UrlParts) {
        if url.len() > URL_PARSED_KEPT_BYTES_MAX {
            return;
        }
        let kept = &mut self.kept[self.next];
        kept.len = url.len();
        kept.bytes[..url.len()].copy_from_slice(url.as_bytes());
        kept.parts = parts;
        self.next = (self.next + 1) % URLS_PARSED_KEPT;
    }
}

/// Where the parts of a URL lie in its text (byte ranges), and what is not a slice of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct UrlParts {
    tls: bool,
    port: u16,
    authority: Span,
    host: Span,
    /// `None`: the URL has no path, its target is `/`.
    target: Option<Span>,
}

/// A byte range of a URL's text: start, end.
type Span = (usize, usize);

impl UrlParts {
    /// The parts of `url`, which must be the text they were parsed from (or the same bytes).
    #[inline]
    fn on<'a>(&self, url: &'a str) -> Url<'a> {
        let slice = |(start, end): Span| &url[start..end];
        Url {
            tls: self.tls,
            authority: slice(self.authority),
            host: slice(self.host),
            port: self.port,
            target: self.target.map_or("/", slice),
        }
    }

    /// Parses an absolute URL, each part found in one pass over its bytes (all delimiters are
    /// ASCII, so a byte match is a char match, and every range below falls on a char boundary).
    fn parse(url: &str) -> Result<UrlParts, UrlError> {
        let fail = |reason| UrlError { url: url.to_string(), reason };
        let (tls, at) = if strip_prefix_ci(url, "http://").is_some() {
            (false, "http://".len())
        } else if strip_prefix_ci(url, "https://").is_some() {
            (true, "https://".len())
        } else {
            return Err(fail("only http:// and https:// URLs are supported"));
        };
        let rest = &url[at..];
        let authority = Authority::scan(rest);
        let target = Target::scan(&rest[authority.len..]);
        let authority_text = &rest[..authority.len];
        if target.query_first {
            // "http://h?q" would have to mean the root path; we refuse it rather than guess.
            return Err(fail("a query needs a path: write http://host/?query"));
        }
        if authority_text.is_empty() {
            return Err(fail("missing host"));
        }
        if authority.has_backslash {
            return Err(fail(HOST_BACKSLASH));
        }
        if authority.has_at {
            return Err(fail("credentials in URLs are not supported; send an Authorization header"));
        }
        let (host, port) =
            host_and_port(authority_text, authority.last_colon, if tls { 443 } else { 80 }).map_err(fail)?;
        if host.is_empty() {
            return Err(fail("missing host"));
        }
        if authority.has_non_ascii {
            return Err(fail(HOST_NOT_ASCII));
        }
        if target.has_space_or_control {
            return Err(fail(
                "spaces or control characters in the path or query must be percent-encoded (a space is %20)",
            ));
        }
        // The host is the authority's start, or just after its `[`.
        let host_at = at + usize::from(authority_text.starts_with('['));
        let target_at = at + authority.len;
        // An empty port (`h:`) is the scheme's default (RFC 3986 §3.2.3), and its `:` is left
        // out of the authority the `Host` field and the pool take (§6.2.3: `h:` is `h`).
        let authority_end = target_at - usize::from(authority_text.ends_with(':'));
        Ok(UrlParts {
            tls,
            port,
            authority: (at, authority_end),
            host: (host_at, host_at + host.len()),
            target: (target.len != 0).then_some((target_at, target_at + target.len)),
        })
    }
}

/// Why a `\` before the path is refused: a browser reads it as `/`, the end of the host
/// (WHATWG URL, in http and https URLs), where a name lookup would take it as part of the host.
const HOST_BACKSLASH: &str = "a backslash in the host: browsers read \\ as / in http(s) URLs, ending the host there; \
                              write / after the host";

/// Why a host outside ASCII (`http://ü.example/`) is refused: it would go to the name lookup
/// as its UTF-8 bytes, which no resolver finds; its ASCII (IDNA) form is what a browser looks
/// up, and no IDNA mapping is built in.
const HOST_NOT_ASCII: &str = "the host is not ASCII, and it would be looked up as it is written (and not found): \
                              write the host in its ASCII form (IDNA: `xn--` labels, e.g. `xn--tda.example` for \
                              `ü.example`; `idn2 <host>` prints it)";

/// What one pass over the authority (up to the first `/`, `?` or `#`) finds.
struct Authority {
    len: usize,
    has_at: bool,
    has_backslash: bool,
    has_non_ascii: bool,
    last_colon: Option<usize>,
}

impl Authority {
    fn scan(rest: &str) -> Authority {
        let mut found =
            Authority { len: rest.len(), has_at: false, has_backslash: false, has_non_ascii: false, last_colon: None };
        for (i, &b) in rest.as_bytes().iter().enumerate() {
            match b {
                b'/' | b'?' | b'#' => {
                    found.len = i;
                    break;
                }
                b'@' => found.has_at = true,
                b'\\' => found.has_backslash = true,
                b':' => found.last_colon = Some(i),
                0x80.. => found.has_non_ascii = true,
                _ => {}
            }
        }
        found
    }
}

/// What one pass over the path and query (up to a `#`) finds.
struct Target {
    /// Bytes before the fragment.
    len: usize,
    /// The target starts with `?` (a query with no path).
    query_first: bool,
    /// ASCII whitespace or a control character before the fragment.
    has_space_or_control: bool,
}

impl Target {
    fn scan(target: &str) -> Target {
        let bytes = target.as_bytes();
        let len = bytes.iter().position(|&b| b == b'#').unwrap_or(bytes.len());
        Target {
            len,
            query_first: bytes.first() == Some(&b'?'),
            // ASCII whitespace and controls together: every byte up to space, and DEL.
            has_space_or_control: bytes[..len].iter().any(|&b| b <= b' ' || b == 0x7f),
        }
    }
}

/// Why a zone in an IPv6 host (`[fe80::1%25eth0]`, RFC 6874) is refused: the client connects
/// to addresses without one, so a link-local address cannot name its interface.
const IPV6_ZONE: &str = "an IPv6 zone (the %25 and interface after the address) is not supported; use an address \
                         without a zone (a global or unique-local one), or the host's name";

/// Host (without brackets for IPv6) and port (the scheme's default when none is written, or
/// when the `:` is followed by nothing: RFC 3986 §3.2.3).
fn host_and_port(authority: &str, last_colon: Option<usize>, default_port: u16) -> Result<(&str, u16), &'static str> {
    let port_or_default = |port: &str| match port {
        "" => Some(default_port),
        port => parse_port(port),
    };
    if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or("unclosed [ in IPv6 host")?;
        let after = &v6[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => port_or_default(port).ok_or("invalid port")?,
            None if after.is_empty() => default_port,
            None => return Err("unexpected text after IPv6 host"),
        };
        if v6[..close].contains('%') {
            return Err(IPV6_ZONE);
        }
        return Ok((&v6[..close], port));
    }
    match last_colon {
        Some(colon) if authority[..colon].contains(':') => {
            Err("more than one : in the host and port (an IPv6 address goes in brackets: http://[::1]:8080/)")
        }
        Some(colon) => Ok((&authority[..colon], port_or_default(&authority[colon + 1..]).ok_or("invalid port")?)),
        None => Ok((authority, default_port)),
    }
}

/// `url` with the non-ASCII bytes of its path and query percent-encoded as UTF-8 (as browsers
/// send them: a request target is ASCII); `None` when there is nothing to encode, which is
/// nearly always, so nothing is copied. A non-ASCII host is left as it is (`Url::parse` refuses
/// it: write its `xn--` form).
#[inline]
pub fn encode_non_ascii(url: &str) -> Option<String> {
    // Every request asks: the answer for an ASCII URL is inlined where it is asked.
    if url.is_ascii() { None } else { encode_non_ascii_path(url) }
}

/// `encode_non_ascii` for a URL with a non-ASCII byte somewhere.
fn encode_non_ascii_path(url: &str) -> Option<String> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let path_at = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    let (head, rest) = url.split_at(path_at);
    if rest.is_ascii() {
        return None;
    }
    // Each non-ASCII byte becomes three characters (`%C3`).
    let mut out = String::with_capacity(url.len() + 2 * rest.bytes().filter(|b| !b.is_ascii()).count());
    out.push_str(head);
    for byte in rest.bytes() {
        if byte.is_ascii() {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    Some(out)
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
        let url = Url::parse("http://hello.example:81/ü?x#y").unwrap();
        assert_eq!((url.host, url.port, url.target), ("hello.example", 81, "/ü?x"));
    }

    #[test]
    fn non_ascii_paths_and_queries_are_percent_encoded_and_nothing_else_is_copied() {
        assert_eq!(encode_non_ascii("http://h:1/a%20b?q=1"), None);
        assert_eq!(encode_non_ascii("http://h/ünï?q=é&x=1").as_deref(), Some("http://h/%C3%BCn%C3%AF?q=%C3%A9&x=1"));
        assert_eq!(encode_non_ascii("http://h?é").as_deref(), Some("http://h?%C3%A9"));
        assert_eq!(encode_non_ascii("http://hé.example/x"), None, "the host is not encoded");
        let encoded = encode_non_ascii("https://h/€").unwrap();
        assert_eq!(Url::parse(&encoded).unwrap().target, "/%E2%82%AC");
    }

    /// Outside testers: `http://[fe80::1%25eth0]:8080/` parsed, and failed at run time as a
    /// name lookup of `fe80::1%25eth0`. A zone is refused with the URL, before the run.
    #[test]
    fn an_ipv6_zone_is_refused_in_words() {
        for url in ["http://[fe80::1%25eth0]:8080/", "https://[fe80::1%eth0]/", "http://[fe80::1%25]/"] {
            let err = Url::parse(url).unwrap_err().to_string();
            assert_eq!(err, format!("invalid URL {url:?}: {IPV6_ZONE}"));
        }
        assert_eq!(Url::parse("http://[fe80::1]:8080/").unwrap().host, "fe80::1");
    }

    /// `http://127.0.0.1:/echo` was refused as `invalid port`: an empty port is the scheme's
    /// default (RFC 3986 §3.2.3), and the `Host` field and the pool get the authority without
    /// the `:` (§6.2.3), as for a URL with no port.
    #[test]
    fn an_empty_port_is_the_schemes_default() {
        let url = Url::parse("http://127.0.0.1:/echo").unwrap();
        assert_eq!(url, Url { tls: false, authority: "127.0.0.1", host: "127.0.0.1", port: 80, target: "/echo" });
        let url = Url::parse("https://h:?").err();
        assert!(url.is_some(), "a query still needs a path");
        let url = Url::parse("https://h:").unwrap();
        assert_eq!((url.authority, url.host, url.port, url.target), ("h", "h", 443, "/"));
        let url = Url::parse("http://[::1]:/a").unwrap();
        assert_eq!((url.authority, url.host, url.port, url.target), ("[::1]", "::1", 80, "/a"));
        let kept = KeptUrl::parse("http://h:/k".to_string()).unwrap();
        assert_eq!(kept.url(), Url { tls: false, authority: "h", host: "h", port: 80, target: "/k" });
        for bad in ["http://:/", "http://h::/", "http://h: /", "http://[::1]x:/"] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    /// `http://ü.example/` went to the name lookup as its UTF-8 bytes: refused, saying to write
    /// the host's ASCII (IDNA) form; a path outside ASCII is still sent, percent-encoded.
    #[test]
    fn a_host_outside_ascii_is_refused_in_words() {
        for url in ["http://ü.example/", "https://héllo.example:81/ü", "http://[::ü]/", "http://ü.example:/"] {
            assert_eq!(Url::parse(url).unwrap_err().to_string(), format!("invalid URL {url:?}: {HOST_NOT_ASCII}"));
        }
        assert!(HOST_NOT_ASCII.contains("xn--tda.example"));
        assert_eq!(Url::parse("http://xn--tda.example/ü").unwrap().host, "xn--tda.example");
    }

    /// `http://h\path` was taken as the host `h\path` and failed at run time as a name
    /// lookup; a browser reads it as `http://h/path`. Refused, saying so; in the path a `\` is
    /// sent as written.
    #[test]
    fn a_backslash_in_the_host_is_refused_in_words() {
        for url in ["http://h\\path", "https://h:81\\p", "http://\\\\h/", "http://h\\@g/"] {
            assert_eq!(Url::parse(url).unwrap_err().to_string(), format!("invalid URL {url:?}: {HOST_BACKSLASH}"));
        }
        assert_eq!(Url::parse("http://h/a\\b?c\\d").unwrap().target, "/a\\b?c\\d");
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

    fn is_kept(url: &str) -> bool {
        PARSED.with_borrow(|parsed| parsed.find(url).is_some())
    }

    #[test]
    fn a_url_parsed_again_comes_from_the_kept_parts_and_reads_the_same() {
        let first = String::from("http://[::1]:8080/a?b=1#c");
        assert!(!is_kept(&first));
        let parsed = Url::parse(&first).unwrap();
        assert!(is_kept(&first), "a URL that parsed is kept");
        // The same bytes elsewhere: parts taken from the kept offsets, slices of the new text.
        let again = first.clone();
        let from_kept = Url::parse(&again).unwrap();
        assert_eq!(from_kept, parsed);
        assert_eq!(from_kept.target.as_ptr(), again[17..].as_ptr());
        // Same length, other bytes: not mistaken for the kept one.
        assert_eq!(Url::parse("http://[::1]:8080/x?b=1#c").unwrap().target, "/x?b=1");
        assert_eq!(Url::parse("http://h").unwrap().target, "/");
        assert_eq!(Url::parse("http://h").unwrap().target, "/");
        // Refused URLs are not kept; too long ones are parsed every time.
        assert!(Url::parse("http://h/a b").is_err() && !is_kept("http://h/a b"));
        let long = format!("http://h:81/{}", "x".repeat(URL_PARSED_KEPT_BYTES_MAX));
        assert_eq!(Url::parse(&long).unwrap().target.len(), URL_PARSED_KEPT_BYTES_MAX + 1);
        assert!(!is_kept(&long));
        let longest = format!("http://h/{}", "y".repeat(URL_PARSED_KEPT_BYTES_MAX - "http://h/".len()));
        assert_eq!(Url::parse(&longest).unwrap().host, "h");
        assert!(is_kept(&longest));
        // The oldest goes first.
        for i in 0..URLS_PARSED_KEPT {
            Url::parse(&format!("http://h{i}/")).unwrap();
        }
        assert!(!is_kept(&longest) && is_kept("http://h0/"));
    }

    /// A URL kept by a journey slot reads as `Url::parse` reads it, and one that must be
    /// encoded or does not parse is not kept (each request parses it, as any other).
    #[test]
    fn a_kept_url_reads_as_parse_reads_it() {
        for text in ["http://h/", "HTTPS://[::1]:8443/a?b=1#c", "http://h:81", "http://h/x?y=%20"] {
            let kept = KeptUrl::parse(text.to_string()).unwrap();
            assert_eq!((kept.as_str(), kept.url()), (text, Url::parse(text).unwrap()), "{text}");
        }
        for text in ["http://h/caf\u{e9}", "ftp://h/", "http://h/a b", "http://h:0/"] {
            assert!(KeptUrl::parse(text.to_string()).is_none(), "{text}");
        }
    }

    /// The parser as it was before the one-pass scans: the reference they are held to.
    fn reference_parse(url: &str) -> Result<Url<'_>, UrlError> {
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
        if authority.contains('\\') {
            return Err(fail(HOST_BACKSLASH));
        }
        if authority.contains('@') {
            return Err(fail("credentials in URLs are not supported; send an Authorization header"));
        }
        let default_port = if tls { 443 } else { 80 };
        // An empty port is the default's, and its `:` is not part of the authority.
        let port_or_default = |port: &str| if port.is_empty() { Some(default_port) } else { parse_port(port) };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6.find(']').ok_or_else(|| fail("unclosed [ in IPv6 host"))?;
            let host = &v6[..close];
            let after = &v6[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => port_or_default(port).ok_or_else(|| fail("invalid port"))?,
                None if after.is_empty() => default_port,
                None => return Err(fail("unexpected text after IPv6 host")),
            };
            if host.contains('%') {
                return Err(fail(IPV6_ZONE));
            }
            (host, port)
        } else {
            match authority.bytes().rposition(|b| b == b':') {
                Some(colon) if authority[..colon].contains(':') => {
                    return Err(fail(
                        "more than one : in the host and port (an IPv6 address goes in brackets: http://[::1]:8080/)",
                    ));
                }
                Some(colon) => {
                    (&authority[..colon], port_or_default(&authority[colon + 1..]).ok_or_else(|| fail("invalid port"))?)
                }
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return Err(fail("missing host"));
        }
        if !host.is_ascii() {
            return Err(fail(HOST_NOT_ASCII));
        }
        if target.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(fail(
                "spaces or control characters in the path or query must be percent-encoded (a space is %20)",
            ));
        }
        let authority = authority.strip_suffix(':').unwrap_or(authority);
        Ok(Url { tls, authority, host, port, target })
    }

    proptest::proptest! {
        #[test]
        fn one_pass_parsing_matches_the_reference(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "http://", "HTTPS://", "https://", "ftp://", "h", "host", "127.0.0.1", "[::1]", "[", "]",
                    ":", ":80", ":0", ":65536", "@", "/", "?", "#", " ", "\t", "\u{7f}", "\u{1}", "é", "%20", "a", "\\",
                ]),
                0..10,
            )
        ) {
            let url: String = parts.concat();
            proptest::prop_assert_eq!(Url::parse(&url), reference_parse(&url), "{:?}", url);
            let prefixed = format!("http://{url}");
            proptest::prop_assert_eq!(Url::parse(&prefixed), reference_parse(&prefixed), "{:?}", prefixed);
        }

        /// A core's kept URLs, hit and missed in any order, give what a parse gives.
        #[test]
        fn kept_urls_read_as_parsed(
            urls in proptest::collection::vec(
                proptest::sample::select(vec![
                    "http://h/", "http://h/a", "http://h/b", "https://h/a", "http://h:1/a", "http://h:2/a",
                    "http://[::1]/a", "http://[::2]/a", "http://h", "http://g", "HTTP://h/a?q#f", "http://h/a?r#f",
                    "http://h/a b", "http://h:0/a", "http://h?q", "",
                ]),
                1..40,
            )
        ) {
            for url in urls {
                let text = url.to_string();
                proptest::prop_assert_eq!(Url::parse(&text), reference_parse(&text), "{:?}", text);
            }
        }
    }
}

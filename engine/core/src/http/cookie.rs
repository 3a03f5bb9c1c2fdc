//! An RFC 6265 cookie jar, I/O-free: parses `Set-Cookie` fields against the URL that sent
//! them, keeps domain, path, expiry, Secure, HttpOnly and host-only, and renders the `Cookie`
//! field for a request. The clock is an argument (Unix seconds), so it is tested without time.
//!
//! Not done: the public-suffix list (a server may set `Domain=co.uk`, which a browser would
//! refuse), and SameSite (a browser's cross-site rule, meaningless without a browsing context).

use std::fmt;

use crate::limits::{COOKIE_BYTES_MAX, COOKIE_JAR_BYTES_MAX, COOKIES_PER_JAR_MAX, START_AT_UNIX_S_MAX};

/// The latest expiry the jar holds, 9999-12-31T23:59:59Z: the latest an `Expires` date can
/// say (four-digit years), and where a `Max-Age` past it stops.
pub const EXPIRY_UNIX_S_MAX: i64 = START_AT_UNIX_S_MAX as i64;

/// One stored cookie (RFC 6265 §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value, as the server sent it.
    pub value: String,
    /// Domain, lower case, without a leading dot.
    pub domain: String,
    /// Path (`/` or a prefix of request paths).
    pub path: String,
    /// Expiry in Unix seconds; `None` for a session cookie.
    pub expires_unix_s: Option<i64>,
    /// Sent over `https` only.
    pub secure: bool,
    /// Not for scripts (kept and shown; a load injector has no scripts).
    pub http_only: bool,
    /// Sent to exactly `domain`, not its subdomains (no `Domain` attribute was given).
    pub host_only: bool,
    creation: u64,
}

impl fmt::Display for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}; domain={}{}; path={}",
            self.name,
            self.value,
            if self.host_only { "" } else { "." },
            self.domain,
            self.path
        )?;
        if let Some(at) = self.expires_unix_s {
            write!(f, "; expires_unix_s={at}")?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        Ok(())
    }
}

/// Where a request goes, as the jar sees it.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// `https`.
    pub secure: bool,
    /// Host (any case; IPv6 without brackets).
    pub host: &'a str,
    /// Request target: path and query (`/a/b?c`).
    pub target: &'a str,
}

/// What a `Set-Cookie` field did to the jar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The cookie is held (new, or replacing one of the same name, domain and path).
    Kept,
    /// It had expired already (`Max-Age=0`, an `Expires` in the past): the one of the same
    /// name, domain and path, if any, is deleted, and nothing is held.
    Deleted,
}

/// Why a `Set-Cookie` field was ignored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No `=` in the name-value pair, or an empty name.
    #[error("no name=value")]
    NoName,
    /// Name and value above `COOKIE_BYTES_MAX`.
    #[error("name and value above {COOKIE_BYTES_MAX} bytes")]
    TooLarge,
    /// `Domain` does not cover the host that sent it.
    #[error("Domain={0} does not cover the host that set it")]
    ForeignDomain(String),
    /// `Domain` ends in a dot, from a host that does not (RFC 6265 §5.1.3: no domain-match).
    #[error("Domain={0} ends in a dot, which the host that set it does not: it covers no such host")]
    TrailingDot(String),
    /// `Secure` from a plain-HTTP response.
    #[error("Secure cookie set over plain http")]
    SecureFromInsecure,
    /// From plain HTTP, a cookie that would replace or shadow a `Secure` one of the same name
    /// (RFC 6265bis §5.7: a plain-HTTP answer cannot overwrite what HTTPS set).
    #[error("would replace a Secure cookie of the same name, from plain http")]
    ShadowsSecure,
    /// A control character (other than a tab) in the name or value (RFC 6265bis §5.6: such a
    /// cookie is ignored; sent back, it would break or be refused in the `Cookie` field).
    #[error("control character in the name or value")]
    ControlCharacter,
}

/// Why a cookie a request gives itself (`.cookie(name, value)`, a step's `cookies`) cannot go
/// into its `Cookie` field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadPair {
    /// The name is empty, or holds `=`, `;`, white space or a control character.
    #[error("cookie name {0:?} is not a cookie name (empty, or with '=', ';', a space or a control character)")]
    Name(String),
    /// The value holds `;` (which would end it and start another cookie) or a control character.
    #[error("cookie {name}: value {value:?} holds {what}")]
    Value {
        /// The cookie's name.
        name: String,
        /// The value given.
        value: String,
        /// What it holds that cannot be sent.
        what: &'static str,
    },
}

/// Checks a cookie a request gives itself, so that its `Cookie` field says what it was told.
pub fn check_pair(name: &str, value: &str) -> Result<(), BadPair> {
    let bad_name = |c: char| c == '=' || c == ';' || c.is_whitespace() || c.is_control();
    if name.is_empty() || name.contains(bad_name) {
        return Err(BadPair::Name(name.to_string()));
    }
    let what = if value.contains(';') {
        "';' (it would end the cookie and start another)"
    } else if value.contains(is_control) {
        "a control character"
    } else {
        return Ok(());
    };
    Err(BadPair::Value { name: name.to_string(), value: value.to_string(), what })
}

/// RFC 6265bis §5.6: `%x00-08 / %x0A-1F / %x7F`, the control characters but the tab.
fn is_control(c: char) -> bool {
    c != '\t' && c.is_ascii_control()
}

/// A journey run's cookies.
#[derive(Clone, Debug, Default)]
pub struct Jar {
    cookies: Vec<Cookie>,
    next_creation: u64,
    /// Live cookies dropped to make room for newer ones, over the jar's life.
    evicted: u64,
}

impl Jar {
    /// True when there is no cookie (the plain path skips all cookie work).
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Every stored cookie, oldest first.
    pub fn cookies(&self) -> &[Cookie] {
        &self.cookies
    }

    /// Live cookies dropped so far to make room for newer ones (the oldest going first: at most
    /// `COOKIES_PER_JAR_MAX` cookies, `COOKIE_JAR_BYTES_MAX` bytes of names and values).
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Forgets every cookie (the capacity is kept).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Stores one `Set-Cookie` field value received from `origin` at `now_unix_s` (§5.3).
    /// An expired cookie deletes the stored one of the same name, domain and path.
    pub fn store(&mut self, origin: Origin<'_>, set_cookie: &str, now_unix_s: i64) -> Result<Stored, Refused> {
        let parsed = parse_set_cookie(set_cookie, now_unix_s)?;
        let host = origin.host.trim_end_matches('.').to_ascii_lowercase();
        let (domain, host_only) = match parsed.domain {
            Some(domain) if !domain.is_empty() => (covered_domain(origin.host, &host, domain)?, false),
            _ => (host, true),
        };
        if parsed.secure && !origin.secure {
            return Err(Refused::SecureFromInsecure);
        }
        let path = parsed.path.unwrap_or_else(|| default_path(origin.target).to_string());
        if !origin.secure && self.shadows_secure(&parsed.name, &domain, &path) {
            return Err(Refused::ShadowsSecure);
        }
        let mut creation = self.next_creation;
        if let Some(i) = self.cookies.iter().position(|c| c.name == parsed.name && c.domain == domain && c.path == path)
        {
            creation = self.cookies.remove(i).creation;
        } else {
            self.next_creation += 1;
        }
        if parsed.expires_unix_s.is_some_and(|at| at <= now_unix_s) {
            return Ok(Stored::Deleted);
        }
        let bytes = parsed.name.len() + parsed.value.len();
        while !self.cookies.is_empty()
            && (self.cookies.len() >= COOKIES_PER_JAR_MAX || self.bytes() + bytes > COOKIE_JAR_BYTES_MAX)
        {
            self.evict(now_unix_s);
        }
        self.cookies.push(Cookie {
            name: parsed.name,
            value: parsed.value,
            domain,
            path,
            expires_unix_s: parsed.expires_unix_s,
            secure: parsed.secure,
            http_only: parsed.http_only,
            host_only,
            creation,
        });
        Ok(Stored::Kept)
    }

    /// A stored `Secure` cookie named `name` whose domain and this one's match either way, and
    /// whose path this one's path matches.
    fn shadows_secure(&self, name: &str, domain: &str, path: &str) -> bool {
        self.cookies.iter().any(|c| {
            c.secure
                && c.name == name
                && (domain_match(&c.domain, domain) || domain_match(domain, &c.domain))
                && path_match(path, &c.path)
        })
    }

    /// Names and values held, in bytes.
    fn bytes(&self) -> usize {
        self.cookies.iter().map(|c| c.name.len() + c.value.len()).sum()
    }

    /// Makes room for one more: the expired cookies if there are any, else the oldest.
    fn evict(&mut self, now_unix_s: i64) {
        let before = self.cookies.len();
        self.cookies.retain(|c| c.expires_unix_s.is_none_or(|at| at > now_unix_s));
        if self.cookies.len() == before
            && let Some((i, _)) = self.cookies.iter().enumerate().min_by_key(|(_, c)| c.creation)
        {
            self.cookies.remove(i);
            self.evicted += 1;
        }
    }

    /// Appends `name=value; ...` for the cookies that go to `origin` (§5.4: longer paths
    /// first, then older first) to `out`; returns whether any did.
    pub fn render(&self, origin: Origin<'_>, now_unix_s: i64, out: &mut String) -> bool {
        let path = origin.target.split(['?', '#']).next().unwrap_or("/");
        let host = origin.host.trim_end_matches('.');
        let mut chosen: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| {
                let domain_ok =
                    if c.host_only { c.domain.eq_ignore_ascii_case(host) } else { domain_match(host, &c.domain) };
                domain_ok
                    && path_match(path, &c.path)
                    && (!c.secure || origin.secure)
                    && c.expires_unix_s.is_none_or(|at| at > now_unix_s)
            })
            .collect();
        chosen.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.creation.cmp(&b.creation)));
        for cookie in &chosen {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&cookie.name);
            out.push('=');
            out.push_str(&cookie.value);
        }
        !chosen.is_empty()
    }
}

/// A parsed `Set-Cookie` value, before storage decisions.
#[derive(Debug, PartialEq, Eq)]
struct SetCookie {
    name: String,
    value: String,
    domain: Option<String>,
    path: Option<String>,
    expires_unix_s: Option<i64>,
    secure: bool,
    http_only: bool,
}

/// §5.2: the parsing algorithm. `Max-Age` wins over `Expires`; the last of each attribute wins.
fn parse_set_cookie(text: &str, now_unix_s: i64) -> Result<SetCookie, Refused> {
    let mut parts = text.split(';');
    let pair = parts.next().unwrap_or("");
    let (name, value) = pair.split_once('=').ok_or(Refused::NoName)?;
    let (name, value) = (trim_wsp(name), trim_wsp(value));
    if name.is_empty() {
        return Err(Refused::NoName);
    }
    if name.len() + value.len() > COOKIE_BYTES_MAX {
        return Err(Refused::TooLarge);
    }
    if name.contains(is_control) || value.contains(is_control) {
        return Err(Refused::ControlCharacter);
    }
    let mut cookie = SetCookie {
        name: name.to_string(),
        value: value.to_string(),
        domain: None,
        path: None,
        expires_unix_s: None,
        secure: false,
        http_only: false,
    };
    let (mut max_age, mut expires) = (None, None);
    for attribute in parts {
        let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
        let (key, value) = (trim_wsp(key), trim_wsp(value));
        if key.eq_ignore_ascii_case("expires") {
            if let Some(at) = parse_cookie_date(value) {
                expires = Some(at);
            }
        } else if key.eq_ignore_ascii_case("max-age") {
            if let Some(delta) = parse_max_age(value) {
                // Past the last date the jar holds (an overflowing Max-Age, shown in seconds
                // to go as 9223372035058812579), the jar keeps that date (§5.2.1 lets the
                // latest representable date stand in).
                let at = now_unix_s.saturating_add(delta).min(EXPIRY_UNIX_S_MAX);
                max_age = Some(if delta <= 0 { i64::MIN } else { at });
            }
        } else if key.eq_ignore_ascii_case("domain") {
            // An empty Domain is ignored (§5.2.3); one leading dot is dropped, and nothing
            // else: a trailing dot stays, and `store` refuses such a domain.
            if !value.is_empty() {
                cookie.domain = Some(value.strip_prefix('.').unwrap_or(value).to_ascii_lowercase());
            }
        } else if key.eq_ignore_ascii_case("path") {
            cookie.path = value.starts_with('/').then(|| value.to_string());
        } else if key.eq_ignore_ascii_case("secure") {
            cookie.secure = true;
        } else if key.eq_ignore_ascii_case("httponly") {
            cookie.http_only = true;
        }
    }
    cookie.expires_unix_s = max_age.or(expires);
    Ok(cookie)
}

/// §5.2: what the parser trims is WSP, spaces and tabs; other spaces (a no-break space, an
/// ideographic space) are part of a name or value.
fn trim_wsp(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// §5.2.2: an optional `-` then digits; anything else ignores the attribute.
fn parse_max_age(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Too many digits for i64 is still a (far) future or past time.
    Some(text.parse::<i64>().unwrap_or(if text.starts_with('-') { i64::MIN } else { i64::MAX }))
}

/// The `Domain` attribute (lower case, its leading dot dropped) of a cookie from `request_host`
/// (as the URL wrote it; `host`: the same, lower case, without a trailing dot, as the jar keeps
/// hosts), if it covers the host (§5.3 step 6). A domain ending in a dot (`example.com.`)
/// domain-matches no host but one that ends in a dot too (§5.1.3: the strings must be equal,
/// or the domain a suffix after a dot): from `example.com` it is refused, not read as
/// `example.com`.
fn covered_domain(request_host: &str, host: &str, domain: String) -> Result<String, Refused> {
    let domain = match domain.strip_suffix('.') {
        Some(_) if !request_host.ends_with('.') => return Err(Refused::TrailingDot(domain)),
        Some(stripped) => stripped.to_string(),
        None => domain,
    };
    if !domain_match(host, &domain) {
        return Err(Refused::ForeignDomain(domain));
    }
    Ok(domain)
}

/// §5.1.3: `host` domain-matches `domain` when they are equal, or `domain` is a dot-separated
/// suffix of `host` and `host` is not an IP address.
pub fn domain_match(host: &str, domain: &str) -> bool {
    if host.eq_ignore_ascii_case(domain) {
        return true;
    }
    if host.len() <= domain.len() || host.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    let split = host.len() - domain.len();
    host.as_bytes()[split - 1] == b'.' && host[split..].eq_ignore_ascii_case(domain)
}

/// §5.1.4: the request path is the cookie path, or starts with it at a `/` boundary.
pub fn path_match(request_path: &str, cookie_path: &str) -> bool {
    match request_path.strip_prefix(cookie_path) {
        None => false,
        Some(rest) => rest.is_empty() || cookie_path.ends_with('/') || rest.starts_with('/'),
    }
}

/// §5.1.4: the directory of the request path (`/a/b` → `/a`, `/a` → `/`).
pub fn default_path(target: &str) -> &str {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return "/";
    }
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// §5.1.1: the lenient cookie date format (`Wed, 21 Oct 2015 07:28:00 GMT` and its historic
/// variants) to Unix seconds; `None` when it is not a date.
pub fn parse_cookie_date(text: &str) -> Option<i64> {
    let is_delimiter = |c: char| matches!(c, '\t' | ' '..='/' | ';'..='@' | '['..='`' | '{'..='~');
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text.split(is_delimiter).filter(|t| !t.is_empty()) {
        if time.is_none()
            && let Some(found) = date_time(token)
        {
            time = Some(found);
        } else if day.is_none()
            && let Some(found) = leading_digits(token, 1, 2)
        {
            day = Some(found);
        } else if month.is_none()
            && let Some(found) = month_of(token)
        {
            month = Some(found);
        } else if year.is_none()
            && let Some(found) = leading_digits(token, 2, 4)
        {
            year = Some(found);
        }
    }
    let (hour, minute, second) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if !(1..=31).contains(&day) || year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Step 6: a day the month does not have (31 Apr, 29 Feb 2021) is no date.
    let date = time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let [hour, minute, second] = [hour, minute, second].map(|v| u8::try_from(v).unwrap_or(u8::MAX));
    let at = date.with_hms(hour, minute, second).ok()?.assume_utc();
    Some(at.unix_timestamp())
}

/// `1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT` followed by anything but a digit.
fn date_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut fields = token.splitn(3, ':');
    let hour = leading_digits(fields.next()?, 1, 2)?;
    let minute = leading_digits(fields.next()?, 1, 2)?;
    let second = leading_digits(fields.next()?, 1, 2)?;
    Some((hour, minute, second))
}

/// `min..=max` digits at the start of `token`, not followed by another digit.
fn leading_digits(token: &str, min: usize, max: usize) -> Option<u32> {
    let count = token.bytes().take_while(u8::is_ascii_digit).count();
    if count < min || count > max {
        return None;
    }
    token[..count].parse().ok()
}

fn month_of(token: &str) -> Option<time::Month> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let prefix = token.get(..3)?;
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(prefix))?;
    time::Month::try_from(index as u8 + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn http(host: &'static str, target: &'static str) -> Origin<'static> {
        Origin { secure: false, host, target }
    }

    fn https(host: &'static str, target: &'static str) -> Origin<'static> {
        Origin { secure: true, host, target }
    }

    fn header(jar: &Jar, origin: Origin<'_>) -> String {
        let mut out = String::new();
        jar.render(origin, NOW, &mut out);
        out
    }

    #[test]
    fn host_only_cookie_goes_back_to_the_same_host_only() {
        let mut jar = Jar::default();
        jar.store(http("Example.com", "/login"), "sid=abc; Path=/", NOW).unwrap();
        assert_eq!(header(&jar, http("example.com", "/account")), "sid=abc");
        assert_eq!(header(&jar, http("www.example.com", "/")), "");
        assert!(jar.cookies()[0].host_only);
    }

    #[test]
    fn domain_attribute_covers_subdomains_and_refuses_foreign_hosts() {
        let mut jar = Jar::default();
        jar.store(http("www.example.com", "/"), "a=1; Domain=.Example.com", NOW).unwrap();
        assert_eq!(header(&jar, http("api.example.com", "/")), "a=1");
        assert_eq!(header(&jar, http("example.com", "/")), "a=1");
        assert_eq!(header(&jar, http("badexample.com", "/")), "");
        assert_eq!(
            jar.store(http("www.example.com", "/"), "b=2; Domain=other.com", NOW),
            Err(Refused::ForeignDomain("other.com".into()))
        );
        // A subdomain of the host is not the host's to set.
        assert!(jar.store(http("example.com", "/"), "c=3; Domain=www.example.com", NOW).is_err());
        // IP addresses match only themselves.
        assert!(!domain_match("10.0.0.1", "0.0.1"));
        jar.store(http("127.0.0.1", "/"), "d=4; Domain=127.0.0.1", NOW).unwrap();
        assert_eq!(header(&jar, http("127.0.0.1", "/")), "d=4");
    }

    #[test]
    fn path_rules() {
        assert!(path_match("/a/b", "/a"));
        assert!(path_match("/a/", "/a/"));
        assert!(path_match("/a", "/a"));
        assert!(!path_match("/ab", "/a"));
        assert!(!path_match("/", "/a"));
        assert_eq!(default_path("/a/b/c?x=/y"), "/a/b");
        assert_eq!(default_path("/login"), "/");
        assert_eq!(default_path(""), "/");
        let mut jar = Jar::default();
        jar.store(http("h", "/shop/cart/add"), "cart=1", NOW).unwrap();
        assert_eq!(jar.cookies()[0].path, "/shop/cart");
        assert_eq!(header(&jar, http("h", "/shop/cart")), "cart=1");
        assert_eq!(header(&jar, http("h", "/shop/cart/x?q")), "cart=1");
        assert_eq!(header(&jar, http("h", "/shop")), "");
        // A Path that does not start with '/' means the default path.
        jar.store(http("h", "/x/y"), "p=2; Path=rel", NOW).unwrap();
        assert_eq!(jar.cookies()[1].path, "/x");
    }

    #[test]
    fn longer_paths_first_then_older_first() {
        let mut jar = Jar::default();
        jar.store(http("h", "/"), "a=1; Path=/", NOW).unwrap();
        jar.store(http("h", "/"), "b=2; Path=/app", NOW).unwrap();
        jar.store(http("h", "/"), "c=3; Path=/", NOW).unwrap();
        assert_eq!(header(&jar, http("h", "/app/x")), "b=2; a=1; c=3");
    }

    #[test]
    fn replacing_keeps_the_creation_order_and_expiry_deletes() {
        let mut jar = Jar::default();
        jar.store(http("h", "/"), "a=1", NOW).unwrap();
        jar.store(http("h", "/"), "b=2", NOW).unwrap();
        assert_eq!(jar.store(http("h", "/"), "a=changed", NOW), Ok(Stored::Kept));
        assert_eq!(header(&jar, http("h", "/")), "a=changed; b=2");
        assert_eq!(jar.store(http("h", "/"), "a=gone; Max-Age=0", NOW), Ok(Stored::Deleted));
        assert_eq!(header(&jar, http("h", "/")), "b=2");
        let expired = jar.store(http("h", "/"), "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", NOW);
        assert_eq!(expired, Ok(Stored::Deleted));
        assert!(jar.is_empty());
    }

    #[test]
    fn expiry_by_max_age_wins_over_expires() {
        let mut jar = Jar::default();
        jar.store(http("h", "/"), "a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", NOW).unwrap();
        assert_eq!(jar.cookies()[0].expires_unix_s, Some(NOW + 60));
        let mut out = String::new();
        assert!(jar.render(http("h", "/"), NOW + 59, &mut out));
        out.clear();
        assert!(!jar.render(http("h", "/"), NOW + 60, &mut out));
        // A malformed Max-Age is ignored, not taken as zero.
        jar.store(http("h", "/"), "b=2; Max-Age=1x", NOW).unwrap();
        assert_eq!(jar.cookies()[1].expires_unix_s, None);
    }

    /// A Max-Age past what the jar's dates hold (one that overflows, one past year 9999) was
    /// kept as `i64::MAX` seconds, shown as expiring in 9223372035058812579 s: it is the
    /// jar's last date, 9999-12-31T23:59:59Z, as the latest `Expires` is; a Max-Age short of
    /// it is kept to the second.
    #[test]
    fn a_max_age_past_the_last_date_is_the_last_date() {
        let mut jar = Jar::default();
        let expiry = |jar: &mut Jar, field: &str| {
            jar.store(http("h", "/"), field, NOW).unwrap();
            let name = field.split('=').next().unwrap();
            jar.cookies().iter().find(|c| c.name == name).unwrap().expires_unix_s
        };
        assert_eq!(expiry(&mut jar, "a=1; Max-Age=99999999999999999999"), Some(EXPIRY_UNIX_S_MAX));
        assert_eq!(expiry(&mut jar, "b=1; Max-Age=9223372036854775807"), Some(EXPIRY_UNIX_S_MAX));
        assert_eq!(expiry(&mut jar, "c=1; Max-Age=1000000000000"), Some(EXPIRY_UNIX_S_MAX));
        let short = EXPIRY_UNIX_S_MAX - NOW - 1;
        assert_eq!(expiry(&mut jar, &format!("d=1; Max-Age={short}")), Some(EXPIRY_UNIX_S_MAX - 1));
        assert_eq!(expiry(&mut jar, "e=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"), Some(EXPIRY_UNIX_S_MAX));
        let date = crate::model::civil::Civil::of_unix_s(EXPIRY_UNIX_S_MAX as u64).unwrap();
        assert_eq!(date.text("T", "Z"), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn secure_cookies_need_https_both_ways() {
        let mut jar = Jar::default();
        assert_eq!(jar.store(http("h", "/"), "s=1; Secure", NOW), Err(Refused::SecureFromInsecure));
        jar.store(https("h", "/"), "s=1; Secure; HttpOnly", NOW).unwrap();
        assert!(jar.cookies()[0].http_only && jar.cookies()[0].secure);
        assert_eq!(header(&jar, https("h", "/")), "s=1");
        assert_eq!(header(&jar, http("h", "/")), "");
    }

    /// Outside try: `sec=1; Secure` over https, then `sec=2` over plain http, and the next
    /// https request sent `sec=2`. Plain http cannot replace (or shadow, on a longer path or a
    /// parent domain) a Secure cookie; it can still set other names, and https can replace it.
    #[test]
    fn plain_http_cannot_replace_a_secure_cookie() {
        let mut jar = Jar::default();
        jar.store(https("a.h", "/"), "sec=1; Secure", NOW).unwrap();
        assert_eq!(jar.store(http("a.h", "/"), "sec=2", NOW), Err(Refused::ShadowsSecure));
        assert_eq!(jar.store(http("a.h", "/x/y"), "sec=3; Path=/x", NOW), Err(Refused::ShadowsSecure));
        assert_eq!(jar.store(http("a.h", "/"), "sec=4; Domain=h", NOW), Err(Refused::ShadowsSecure));
        assert_eq!(header(&jar, https("a.h", "/x/y")), "sec=1");
        jar.store(http("a.h", "/"), "other=1", NOW).unwrap();
        jar.store(http("b.h", "/"), "sec=5", NOW).unwrap();
        jar.store(https("a.h", "/"), "sec=6", NOW).unwrap();
        assert_eq!(header(&jar, http("a.h", "/")), "sec=6; other=1");
    }

    #[test]
    fn malformed_set_cookie_is_refused_not_guessed() {
        let mut jar = Jar::default();
        assert_eq!(jar.store(http("h", "/"), "novalue", NOW), Err(Refused::NoName));
        assert_eq!(jar.store(http("h", "/"), "=v", NOW), Err(Refused::NoName));
        assert_eq!(jar.store(http("h", "/"), &format!("a={}", "x".repeat(5000)), NOW), Err(Refused::TooLarge));
        jar.store(http("h", "/"), " a = b=c ; ; =; Unknown=1", NOW).unwrap();
        assert_eq!(header(&jar, http("h", "/")), "a=b=c");
    }

    /// RFC 6265bis §5.6: a control character (but a tab) in the name or value ignores the
    /// cookie; kept, it broke every later request's `Cookie` field (CR, LF, NUL are refused
    /// there). Quotes, spaces inside, `=` and non-ASCII text are kept as sent.
    #[test]
    fn control_characters_refuse_the_cookie_other_odd_values_are_kept() {
        let mut jar = Jar::default();
        for bad in ["a=b\r\nX-Evil: 1", "a=b\0", "a\u{1}=b", "a=\u{7f}", "a=b\nc"] {
            assert_eq!(jar.store(http("h", "/"), bad, NOW), Err(Refused::ControlCharacter), "{bad:?}");
        }
        assert!(jar.is_empty());
        jar.store(http("h", "/"), "q=\"a b\"; Path=/", NOW).unwrap();
        jar.store(http("h", "/"), "u=ünï\t=x", NOW).unwrap();
        assert_eq!(header(&jar, http("h", "/")), "q=\"a b\"; u=ünï\t=x");
    }

    /// Outside try: names and values were trimmed of every Unicode space (`str::trim`), so a
    /// value ending in a no-break space or an ideographic space came back without it. RFC 6265
    /// §5.2 trims spaces and tabs only.
    #[test]
    fn only_spaces_and_tabs_are_trimmed() {
        let mut jar = Jar::default();
        jar.store(http("h", "/"), " \tn\u{a0} = \u{a0}x\u{3000}\t ; Path=/", NOW).unwrap();
        let kept = &jar.cookies()[0];
        assert_eq!((kept.name.as_str(), kept.value.as_str()), ("n\u{a0}", "\u{a0}x\u{3000}"));
        assert_eq!(header(&jar, http("h", "/")), "n\u{a0}=\u{a0}x\u{3000}");
        // Attributes alike: a Path ending in a no-break space is that path, not `/`.
        jar.store(http("h", "/"), "p=1; Path=/a\u{a0}", NOW).unwrap();
        assert_eq!(jar.cookies()[1].path, "/a\u{a0}");
    }

    /// Two fields for one name in one answer: the later one wins, in the earlier one's place;
    /// a later expired one deletes it.
    #[test]
    fn the_later_of_two_fields_for_one_name_wins() {
        let mut jar = Jar::default();
        for field in ["a=1; Path=/", "b=1; Path=/", "a=2; Path=/"] {
            jar.store(http("h", "/x"), field, NOW).unwrap();
        }
        assert_eq!(header(&jar, http("h", "/")), "a=2; b=1");
        assert_eq!(jar.store(http("h", "/x"), "a=; Path=/; Max-Age=0", NOW), Ok(Stored::Deleted));
        assert_eq!(header(&jar, http("h", "/")), "b=1");
    }

    #[test]
    fn a_request_cookie_must_be_one_cookie() {
        assert_eq!(check_pair("theme", "dark \"x\" ü="), Ok(()));
        assert_eq!(check_pair("e", ""), Ok(()));
        for name in ["", "a b", "a=b", "a;b", "a\u{1}"] {
            assert_eq!(check_pair(name, "v"), Err(BadPair::Name(name.into())), "{name:?}");
        }
        let err = check_pair("a", "x; session=evil").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cookie a: value \"x; session=evil\" holds ';' (it would end the cookie and start another)"
        );
        for value in ["a\rb", "\u{7f}", "\0"] {
            let err = check_pair("a", value).unwrap_err();
            assert_eq!(err, BadPair::Value { name: "a".into(), value: value.into(), what: "a control character" });
        }
    }

    /// Attributes as a careless server writes them (RFC 6265 §5.2, §5.3).
    #[test]
    fn odd_attributes() {
        let mut jar = Jar::default();
        // A leading dot is dropped; an IP address may name itself.
        jar.store(http("127.0.0.1", "/"), "ip=1; Domain=.127.0.0.1", NOW).unwrap();
        assert_eq!(header(&jar, http("127.0.0.1", "/")), "ip=1");
        // Negative Max-Age expires; an unparsable Expires is ignored (a session cookie).
        assert_eq!(jar.store(http("h", "/"), "m=1; Max-Age=-5", NOW), Ok(Stored::Deleted));
        assert_eq!(jar.store(http("h", "/"), "m=1; Max-Age=99999999999999999999999", NOW), Ok(Stored::Kept));
        jar.store(http("h", "/"), "x=1; Expires=soon; SameSite=Strict; Partitioned; Priority=High", NOW).unwrap();
        let x = jar.cookies().iter().find(|c| c.name == "x").unwrap();
        assert_eq!((x.expires_unix_s, x.path.as_str()), (None, "/"));
        // An empty Domain is no Domain (host-only); an empty Path is the default path.
        // A trailing dot is kept (§5.2.3 drops one leading dot only), and covers no host
        // without one (§5.1.3, §5.3 step 6): the cookie is ignored, not read as `example.com`.
        let mut named = Jar::default();
        for (field, why) in [
            ("t=1; Domain=example.com.", Refused::TrailingDot("example.com.".into())),
            ("t=1; Domain=.Example.COM.", Refused::TrailingDot("example.com.".into())),
            ("t=1; Domain=www.example.com.", Refused::TrailingDot("www.example.com.".into())),
            ("t=1; Domain=..example.com", Refused::ForeignDomain(".example.com".into())),
        ] {
            assert_eq!(named.store(http("www.example.com", "/"), field, NOW), Err(why), "{field}");
        }
        assert_eq!(
            jar.store(http("127.0.0.1", "/"), "t=1; Domain=127.0.0.1.", NOW),
            Err(Refused::TrailingDot("127.0.0.1.".into()))
        );
        // From a host written with its trailing dot, the same spelling covers it.
        named.store(http("www.example.com.", "/"), "t=1; Domain=example.com.", NOW).unwrap();
        assert_eq!(header(&named, http("www.example.com", "/")), "t=1");
        assert_eq!(named.cookies().len(), 1);
        jar.store(http("h", "/a/b"), "y=1; Domain=; Path=", NOW).unwrap();
        let y = jar.cookies().iter().find(|c| c.name == "y").unwrap();
        assert!(y.host_only);
        assert_eq!(y.path, "/a");
        // The last of an attribute wins.
        jar.store(http("h", "/"), "z=1; Path=/a; Path=/b", NOW).unwrap();
        assert_eq!(jar.cookies().iter().find(|c| c.name == "z").unwrap().path, "/b");
    }

    #[test]
    fn the_jar_is_bounded() {
        let mut jar = Jar::default();
        for i in 0..COOKIES_PER_JAR_MAX + 10 {
            jar.store(http("h", "/"), &format!("c{i}=v"), NOW).unwrap();
        }
        assert_eq!(jar.cookies().len(), COOKIES_PER_JAR_MAX);
        assert_eq!(jar.cookies()[0].name, "c10", "the oldest go first");
        // Large cookies: the bytes are bounded too, so the Cookie field is.
        let mut jar = Jar::default();
        let big = "v".repeat(COOKIE_BYTES_MAX - 8);
        for i in 0..100 {
            jar.store(http("h", "/"), &format!("big{i:03}={big}"), NOW).unwrap();
        }
        assert!(jar.bytes() <= COOKIE_JAR_BYTES_MAX, "{}", jar.bytes());
        assert_eq!(jar.cookies().last().unwrap().name, "big099", "the newest is kept");
        let mut rendered = String::new();
        jar.render(http("h", "/"), NOW, &mut rendered);
        assert!(rendered.len() <= COOKIE_JAR_BYTES_MAX + 4 * jar.cookies().len(), "{}", rendered.len());
    }

    #[test]
    fn cookie_dates() {
        assert_eq!(parse_cookie_date("Wed, 21 Oct 2015 07:28:00 GMT"), Some(1_445_412_480));
        assert_eq!(parse_cookie_date("Wednesday, 21-Oct-15 07:28:00 GMT"), Some(1_445_412_480));
        assert_eq!(parse_cookie_date("Wed Oct 21 07:28:00 2015"), Some(1_445_412_480));
        assert_eq!(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_cookie_date("Sat, 29 Feb 2020 23:59:59 GMT"), Some(1_583_020_799));
        for bad in
            ["", "tomorrow", "Wed, 21 Oct 2015 25:00:00 GMT", "Wed, 32 Oct 2015 07:28:00 GMT", "21 Oct 1600 07:28:00"]
        {
            assert_eq!(parse_cookie_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn cookie_dates_at_the_calendar_boundaries() {
        assert_eq!(parse_cookie_date("Mon, 01 Jan 1601 00:00:00 GMT"), Some(-11_644_473_600));
        assert_eq!(parse_cookie_date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
        assert_eq!(parse_cookie_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(parse_cookie_date("Thu, 29 Feb 2024 12:00:00 GMT"), Some(1_709_208_000));
        assert_eq!(parse_cookie_date("Sun, 31 Dec 1600 23:59:59 GMT"), None, "before 1601");
        // §5.1.1 step 6: a day the month does not have is no date (it was counted on into March).
        for bad in ["29 Feb 2021 00:00:00", "29 Feb 1900 00:00:00", "31 Apr 2026 00:00:00", "30 Feb 2024 00:00:00"] {
            assert_eq!(parse_cookie_date(bad), None, "{bad}");
        }
        // Month names: the first three letters, any case; anything else is no month.
        assert_eq!(parse_cookie_date("21 OCTOBER 2015 07:28:00"), Some(1_445_412_480));
        assert_eq!(parse_cookie_date("21 october 2015 07:28:00"), Some(1_445_412_480));
        for bad in ["21 Oc 2015 07:28:00", "21 Okt 2015 07:28:00", "21 10 2015 07:28:00", "21 Xyz 2015 07:28:00"] {
            assert_eq!(parse_cookie_date(bad), None, "{bad}");
        }
    }
}

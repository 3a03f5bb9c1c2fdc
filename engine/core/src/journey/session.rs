//! A journey run's HTTP session, as Mite's `@mite_http` gives one: the cookie jar (reset at the
//! start of every run), and the loop that sends a request and follows its redirects. Each hop is
//! one exchange through `Ctx::execute`, so it is recorded and counted as a request of its own;
//! the transaction around the call spans them all.
//!
//! A request with no cookie (none in the jar, none of its own), no auth and no generated body
//! goes straight to one exchange: the plain GET path allocates nothing here.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::http::cookie::{Cookie, Jar, Origin, Refused, Stored, check_pair};
use crate::http::redirect::{is_redirect, next_method, resolve, same_origin};
use crate::http::{HttpError, Response, Url, UrlError};
use crate::journey::trace::counted;
use crate::journey::{Ctx, RequestBuilder};
use crate::limits::{COOKIE_JAR_BYTES_MAX, COOKIE_TRACED_BYTES_MAX, COOKIES_PER_JAR_MAX};
use crate::stats::{CookieIgnored, CookiesIgnored};

/// `ctx.set_cookie` could not store the cookie.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetCookieError {
    /// The URL the cookie is set for does not parse.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The jar refused the cookie, as it would from that URL's response.
    #[error("cookie {set_cookie:?} for {url}: {why}")]
    Refused {
        /// The `Set-Cookie` text given.
        set_cookie: String,
        /// The URL it was set for.
        url: String,
        /// Why it was refused.
        why: Refused,
    },
}

/// One journey run's state.
#[derive(Default)]
pub struct Session {
    jar: Jar,
}

impl Session {
    /// The cookie jar.
    pub fn jar(&self) -> &Jar {
        &self.jar
    }

    /// Forgets everything (a new journey run starts).
    pub fn reset(&mut self) {
        // A journey that stored no cookie (most) has nothing to clear: no call.
        if !self.jar.is_empty() {
            self.jar.clear();
        }
    }
}

/// Seconds since the Unix epoch (the jar's clock).
fn now_unix_s() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn origin<'a>(url: &Url<'a>) -> Origin<'a> {
    Origin { secure: url.tls, host: url.host, target: url.target }
}

/// Stores the `Set-Cookie` fields of a response to `url` in the journey's jar.
#[inline]
pub(crate) fn absorb(ctx: &Ctx, url: &str, response: &Response) {
    if response.has_set_cookie() {
        store_cookies(ctx, url, response);
    }
}

#[cold]
fn store_cookies(ctx: &Ctx, url: &str, response: &Response) {
    let Ok(url) = Url::parse(url) else { return };
    store_fields(ctx, &url, |each| mite_codec::head::for_each_header(response.head_bytes(), "set-cookie", each));
}

/// Stores each `Set-Cookie` value `fields` gives in the journey's jar; in a journey test,
/// keeps a line saying what became of each for [`trace_cookies`]. A field the jar ignores is
/// counted, by reason, under the current transaction (a load run has no trace to say so).
fn store_fields(ctx: &Ctx, url: &Url<'_>, fields: impl FnOnce(&mut dyn FnMut(&[u8]))) {
    let now = now_unix_s();
    let tracing = ctx.tracing();
    let mut ignored = CookiesIgnored::default();
    {
        let mut session = ctx.session.borrow_mut();
        let mut cookie_lines = ctx.shard().cookie_lines.borrow_mut();
        fields(&mut |value| {
            let Ok(text) = std::str::from_utf8(value) else {
                ignored.add(CookieIgnored::NotUtf8, 1);
                if tracing {
                    cookie_lines
                        .push(format!("ignored Set-Cookie ({}, not UTF-8)", counted(value.len() as u64, "byte")));
                }
                return;
            };
            let evicted_before = session.jar.evicted();
            let stored = session.jar.store(origin(url), text, now);
            if let Err(why) = &stored {
                ignored.add(ignored_for(why), 1);
            }
            if tracing {
                let evicted = session.jar.evicted() - evicted_before;
                if evicted > 0 {
                    let oldest = if evicted == 1 { "cookie".to_string() } else { format!("{evicted} cookies") };
                    cookie_lines.push(format!(
                        "jar full: the oldest {oldest} dropped to make room (a journey run keeps at most \
                         {COOKIES_PER_JAR_MAX} cookies, {} KiB of names and values)",
                        COOKIE_JAR_BYTES_MAX / 1024
                    ));
                }
                // The cookie just kept is the jar's last: shown as stored, not as written.
                let kept = matches!(stored, Ok(Stored::Kept)).then(|| session.jar.cookies().last()).flatten();
                let stored_text = kept.map(|cookie| stored_cookie(cookie, now));
                cookie_lines.push(cookie_line(stored_text.as_deref().unwrap_or(text), &stored));
            }
        });
    }
    if ignored.total() > 0 {
        ctx.shard().stats.borrow_mut().txn(ctx.current_txn()).cookies_ignored.merge(&ignored);
    }
}

/// The reason a refused cookie is counted under.
fn ignored_for(why: &Refused) -> CookieIgnored {
    match why {
        Refused::NoName => CookieIgnored::NoName,
        Refused::TooLarge => CookieIgnored::TooLarge,
        Refused::ForeignDomain(_) | Refused::TrailingDot(_) => CookieIgnored::ForeignDomain,
        Refused::SecureFromInsecure | Refused::ShadowsSecure => CookieIgnored::SecureOverHttp,
        Refused::ControlCharacter => CookieIgnored::ControlCharacter,
    }
}

/// A cookie as the jar holds it: its domain and path (defaulted when the field gave none),
/// whether it goes to subdomains, and its expiry resolved against `now_unix_s`.
fn stored_cookie(cookie: &Cookie, now_unix_s: i64) -> String {
    let Cookie { name, value, domain, path, .. } = cookie;
    let only = if cookie.host_only { " (this host only)" } else { " (and its subdomains)" };
    let expiry = match cookie.expires_unix_s {
        Some(at) => {
            let date = u64::try_from(at).ok().and_then(crate::model::civil::Civil::of_unix_s);
            let date = date.map_or_else(|| format!("Unix {at}"), |date| date.text(" ", " UTC"));
            format!("expires in {}s ({date})", at.saturating_sub(now_unix_s))
        }
        None => "no expiry (kept for the journey run)".to_string(),
    };
    let secure = if cookie.secure { "; Secure" } else { "" };
    let http_only = if cookie.http_only { "; HttpOnly" } else { "" };
    format!("{name}={value}; domain={domain}{only}; path={path}; {expiry}{secure}{http_only}")
}

/// The trace line for a `Set-Cookie` field (a kept one as the jar stored it, [`stored_cookie`]): what the jar did, and the field, a long one cut
/// to `COOKIE_TRACED_BYTES_MAX` bytes and its length said (a hostile server's 60 KiB cookie
/// is refused in a line, not quoted whole).
fn cookie_line(text: &str, stored: &Result<Stored, Refused>) -> String {
    let mut cut = text.len().min(COOKIE_TRACED_BYTES_MAX);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let (shown, more) = match cut < text.len() {
        true => (&text[..cut], format!("... ({} bytes)", text.len())),
        false => (text, String::new()),
    };
    match stored {
        Ok(Stored::Kept) => format!("cookie stored: {shown}{more}"),
        Ok(Stored::Deleted) => format!("cookie deleted (expired): {shown}{more}"),
        Err(why) if more.is_empty() => format!("ignored Set-Cookie {shown:?}: {why}"),
        Err(why) => format!("ignored Set-Cookie {shown:?}{more}: {why}"),
    }
}

/// Journey test: says what the jar did with the last response's `Set-Cookie` fields, once
/// that response's own line is in the trace (taken in the same turn: no other journey's
/// lines come between).
pub(crate) fn trace_cookies(ctx: &Ctx) {
    let lines = std::mem::take(&mut *ctx.shard().cookie_lines.borrow_mut());
    for line in &lines {
        ctx.trace_line(format_args!("{line}"));
    }
}

/// A WebSocket handshake's one `Cookie` field, as a request's ([`cookie_header`]): the
/// journey's own `Cookie` headers, then its jar's cookies for `url`.
pub(crate) fn handshake_cookie(ctx: &Ctx, url: &Url<'_>, headers: &[(&str, &str)]) -> String {
    let mut cookie = String::new();
    append_own(&mut cookie, headers);
    append_jar(ctx, url, &mut cookie);
    cookie
}

/// The values of `headers`' own `Cookie` fields, appended to `cookie`.
fn append_own(cookie: &mut String, headers: &[(&str, &str)]) {
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("cookie") {
            append_pair(cookie, value);
        }
    }
}

/// The jar's cookies for `url`, appended to `cookie`.
fn append_jar(ctx: &Ctx, url: &Url<'_>, cookie: &mut String) {
    let session = ctx.session.borrow();
    if !session.jar.is_empty() {
        let mut jar_part = String::new();
        session.jar.render(origin(url), now_unix_s(), &mut jar_part);
        append_pair(cookie, &jar_part);
    }
}

/// Stores the `Set-Cookie` fields of a raw response head from `url` (a WebSocket handshake's
/// answer) in the journey's jar; a journey test's trace says what became of each, as for any
/// response.
pub(crate) fn absorb_head(ctx: &Ctx, url: &Url<'_>, head: &[u8]) {
    const NAME: &[u8] = b"set-cookie:";
    // A handshake is rare: a scan of its head is fine here (the HTTP path has the codec's flag).
    let has_set_cookie = head
        .split(|&b| b == b'\n')
        .any(|line| line.len() > NAME.len() && line[..NAME.len()].eq_ignore_ascii_case(NAME));
    if has_set_cookie {
        store_fields(ctx, url, |each| mite_codec::ws::handshake::for_each_answer_header(head, "set-cookie", each));
    }
}

/// What a response means for the redirect loop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Hop {
    /// The final response: judged by the request's expected statuses.
    Final,
    /// A redirect that will be followed: the hop succeeded.
    Followed,
    /// A redirect that cannot be followed (too many, bad `Location`): a failed hop.
    Broken(String),
}

/// Judges one hop's response (used by `Ctx::execute` when it records the hop).
#[inline]
pub(crate) fn hop_verdict(request: &RequestBuilder<'_>, response: &Response) -> Hop {
    match request.redirects_left {
        Some(left) if is_redirect(response.status()) => redirect_verdict(request, response, left),
        _ => Hop::Final,
    }
}

#[cold]
fn redirect_verdict(request: &RequestBuilder<'_>, response: &Response, left: u8) -> Hop {
    let Some(location) = response.header("location") else {
        if mite_codec::head::find_header(response.head_bytes(), "location").is_some() {
            return Hop::Broken("its Location is not UTF-8".into());
        }
        return Hop::Final;
    };
    if let Some(other) = another_location(response, location) {
        return Hop::Broken(format!("two different Location fields, {location:?} and {other:?}: which to follow?"));
    }
    if left == 0 {
        return Hop::Broken(format!(
            "redirect to {location:?} not followed: more than {} redirects",
            request.max_redirects_allowed()
        ));
    }
    match resolve(request.url, location) {
        Ok(_) => Hop::Followed,
        Err(why) => Hop::Broken(why.to_string()),
    }
}

/// A `Location` field of `response` other than `location` (its first), if there is one: a
/// redirect that names two targets is not followed (as browsers refuse it); the same one
/// written twice is.
fn another_location(response: &Response, location: &str) -> Option<String> {
    let mut other = None;
    mite_codec::head::for_each_header(response.head_bytes(), "location", |value| {
        if other.is_none() && value.trim_ascii() != location.trim().as_bytes() {
            other = Some(String::from_utf8_lossy(value).into_owned());
        }
    });
    other
}

/// Readies `request` for its first hop; true when it is plain (no cookie, auth or generated
/// body): then `RequestBuilder::send` makes the exchange itself, and calls [`chain`] only if
/// the response is a redirect to follow ([`follows`]).
#[inline]
pub(crate) fn prepare(request: &mut RequestBuilder<'_>) -> bool {
    let allowed = request.max_redirects_allowed();
    request.redirects_left = request.follows_redirects().then_some(allowed);
    request.extras.is_none()
        && request.ctx.session.borrow().jar.is_empty()
        && !request.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("cookie"))
}

/// Whether the response to a plain first hop is a redirect the session follows.
#[inline]
pub(crate) fn follows(request: &RequestBuilder<'_>, response: &Response) -> bool {
    request.redirects_left.is_some() && is_redirect(response.status()) && response.header("location").is_some()
}

/// The general loop: each hop's headers (the request's own, auth within its origin, generated
/// content type, cookies) built afresh, redirects followed with RFC 9110's method rules.
pub(crate) async fn chain(first: RequestBuilder<'_>, mut previous: Option<Response>) -> Result<Response, HttpError> {
    let ctx = first.ctx;
    let extras = first.extras.as_deref();
    if let Some(why) = extras.and_then(|e| e.invalid.as_deref()) {
        let err = HttpError::not_sent(crate::stats::ErrorKind::InvalidRequest, why);
        return Err(ctx.not_sendable(first.method.as_str(), first.url, err));
    }
    if let Some(bad) = extras.and_then(|e| e.cookies.iter().find_map(|(name, value)| check_pair(name, value).err())) {
        let err = HttpError::not_sent(crate::stats::ErrorKind::InvalidRequest, bad.to_string());
        return Err(ctx.not_sendable(first.method.as_str(), first.url, err));
    }
    let first_url: &str = extras.and_then(|e| e.url.as_deref()).unwrap_or(first.url);
    let mut url = first_url.to_string();
    let mut method = first.method.clone();
    let mut body: &[u8] = extras.and_then(|e| e.body.as_deref()).unwrap_or(first.body);
    let mut left = first.redirects_left;
    let mut body_dropped = false;
    loop {
        if let Some(response) = previous.take() {
            let location = match (left, is_redirect(response.status()), response.header("location")) {
                (Some(_), true, Some(location)) => location,
                _ => return Ok(response),
            };
            // (A Location that does not resolve was judged a `status` error already.)
            let next = resolve(&url, location).map_err(|e| {
                let err = HttpError::not_sent(crate::stats::ErrorKind::InvalidUrl, e.to_string());
                ctx.not_sendable(method.as_str(), &url, err)
            })?;
            let (next_method, keep_body) = next_method(&method, response.status());
            ctx.trace_line(format_args!("redirect {} -> {next_method} {next}", response.status()));
            method = next_method;
            if !keep_body {
                body = b"";
                body_dropped = true;
            }
            url = next;
            left = left.map(|n| n.saturating_sub(1));
        }
        let same_origin = same_origin(first_url, &url);
        let cookie = cookie_header(&first, &url, same_origin);
        let headers = hop_headers(&first, body_dropped, same_origin, &cookie);
        let hop = first.hop(method.clone(), &url, headers, body, left);
        previous = Some(ctx.execute(&hop).await?);
    }
}

/// The `Cookie` field of one hop: the request's own `Cookie` headers and its `.cookie()`s
/// (both within its origin only), then the jar's for that URL.
fn cookie_header(first: &RequestBuilder<'_>, url: &str, same_origin: bool) -> String {
    let mut cookie = String::new();
    if same_origin {
        append_own(&mut cookie, &first.headers);
    }
    if same_origin && let Some(extras) = first.extras.as_deref() {
        for (name, value) in &extras.cookies {
            append_pair(&mut cookie, &format!("{name}={value}"));
        }
    }
    if !first.ctx.session.borrow().jar.is_empty()
        && let Ok(parsed) = Url::parse(url)
    {
        append_jar(first.ctx, &parsed, &mut cookie);
    }
    cookie
}

/// One hop's header fields: the request's own (less `Cookie`, less credentials and `Host` off its origin,
/// less the body's own fields once the body is dropped), auth, a generated content type, cookies.
fn hop_headers<'a>(
    first: &'a RequestBuilder<'_>,
    body_dropped: bool,
    same_origin: bool,
    cookie: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut headers: Vec<(&str, &str)> = first
        .headers
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("cookie")
                && (same_origin || !name.eq_ignore_ascii_case("authorization"))
                // A `Host` names the first origin's virtual host: another origin gets its own.
                && (same_origin || !name.eq_ignore_ascii_case("host"))
                && (!body_dropped || !is_body_header(name))
        })
        .copied()
        .collect();
    if let Some(extras) = first.extras.as_deref() {
        if same_origin && let Some(auth) = &extras.authorization {
            headers.push(("Authorization", auth));
        }
        // The request's own Content-Type wins over the generated one (never two).
        let typed = first.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if !body_dropped
            && !typed
            && let Some(content_type) = extras.content_type
        {
            headers.push(("Content-Type", content_type));
        }
    }
    if !cookie.is_empty() {
        headers.push(("Cookie", cookie));
    }
    headers
}

/// A field that describes the body (Fetch's request-body-header names: `Content-Type`,
/// `-Encoding`, `-Language`, `-Location`): dropped with the body when a redirect makes the
/// request a GET (WHATWG Fetch, HTTP-redirect fetch), or it would describe a body not sent.
fn is_body_header(name: &str) -> bool {
    ["content-type", "content-encoding", "content-language", "content-location"]
        .iter()
        .any(|body_field| name.eq_ignore_ascii_case(body_field))
}

fn append_pair(out: &mut String, part: &str) {
    if part.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push_str("; ");
    }
    out.push_str(part);
}

impl Ctx {
    /// The cookies this journey run holds (Mite's `session.cookies()`).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let url = format!("{}/login", ctx.config().get_or("base", ""));
    ///     ctx.http().post(&url).form(&[("user", "ann"), ("password", "secret")]).send().await?;
    ///     let names: Vec<String> = ctx.cookies().into_iter().map(|cookie| cookie.name).collect();
    ///     assert_eq!(names, ["session"]);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn cookies(&self) -> Vec<Cookie> {
        self.session.borrow().jar.cookies().to_vec()
    }

    /// The value of cookie `name`, if the jar holds one (the first, when several paths do).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let url = format!("{}/login", ctx.config().get_or("base", ""));
    ///     ctx.http().post(&url).form(&[("user", "ann"), ("password", "secret")]).send().await?;
    ///     assert_eq!(ctx.cookie("session").as_deref(), Some("tok-ann"));
    ///     assert_eq!(ctx.cookie("theme"), None);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.session.borrow().jar.cookies().iter().find(|c| c.name == name).map(|c| c.value.clone())
    }

    /// Stores a cookie as if the response from `url` had sent `set_cookie` (`"name=value;
    /// Path=/"`, any `Set-Cookie` attributes): Mite's `create_http_cookie`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     ctx.set_cookie(base, "theme=dark; Path=/")?;
    ///     let sent = ctx.http().get(&format!("{base}/cookies")).send().await?;
    ///     assert_eq!(sent.text()?, "theme=dark");
    ///     let err = ctx.set_cookie(base, "id=1; Secure").unwrap_err(); // not over plain http
    ///     assert!(err.to_string().ends_with("Secure cookie set over plain http"), "{err}");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn set_cookie(&self, url: &str, set_cookie: &str) -> Result<(), SetCookieError> {
        let parsed = Url::parse(url)?;
        self.session
            .borrow_mut()
            .jar
            .store(origin(&parsed), set_cookie, now_unix_s())
            .map_err(|why| SetCookieError::Refused { set_cookie: set_cookie.to_string(), url: url.to_string(), why })?;
        Ok(())
    }

    /// Forgets every cookie of this journey run (Mite's `erase_all_cookies()`).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.set_cookie("http://shop.test/", "theme=dark")?;
    ///     assert_eq!(ctx.cookies().len(), 1);
    ///     ctx.clear_cookies(); // as a new visitor
    ///     assert!(ctx.cookies().is_empty());
    ///     Ok(())
    /// }
    /// # assert!(JourneyTest::new().run(journey).unwrap().is_ok());
    /// ```
    pub fn clear_cookies(&self) {
        self.session.borrow_mut().jar.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::http::{HttpClient, HttpSettings};
    use crate::journey::shard::Shard;
    use crate::model::config::Config;

    /// Outside try: a refused 60 KiB `Set-Cookie` was quoted whole in the journey test's
    /// trace (and a stored one with 60 KiB of attributes too). Now cut, its length said.
    #[test]
    fn trace_lines_quote_a_long_field_cut() {
        let huge = format!("big={}", "é".repeat(30_000));
        let line = cookie_line(&huge, &Err(Refused::TooLarge));
        assert!(line.len() < COOKIE_TRACED_BYTES_MAX + 100, "{} bytes", line.len());
        assert!(line.starts_with("ignored Set-Cookie \"big=é"), "{line}");
        assert!(line.ends_with("\"... (60004 bytes): name and value above 4096 bytes"), "{line}");
        let attributes = format!("a=1; {}", "x".repeat(1000));
        assert!(cookie_line(&attributes, &Ok(Stored::Kept)).ends_with("xx... (1005 bytes)"));
        assert_eq!(cookie_line("a=1; Path=/", &Ok(Stored::Kept)), "cookie stored: a=1; Path=/");
    }

    /// `journey test` showed a kept `Set-Cookie` as written (no domain, no path, `Max-Age`
    /// unresolved): now as the jar stored it, its domain and path defaulted, its expiry resolved.
    #[test]
    fn a_kept_cookie_is_shown_as_the_jar_stored_it() {
        let mut jar = crate::http::cookie::Jar::default();
        let origin = crate::http::cookie::Origin { secure: false, host: "Shop.Example", target: "/a/login?x=1" };
        jar.store(origin, "sid=42; Max-Age=60; HttpOnly", 1_000).unwrap();
        assert_eq!(
            stored_cookie(jar.cookies().last().unwrap(), 1_000),
            "sid=42; domain=shop.example (this host only); path=/a; expires in 60s (1970-01-01 00:17:40 UTC); HttpOnly"
        );
        // An overflowing Max-Age read `expires in 9223372035058812579s`: the jar's last date.
        jar.store(origin, "far=1; Max-Age=99999999999999999999", 1_000).unwrap();
        assert_eq!(
            stored_cookie(jar.cookies().last().unwrap(), 1_000),
            "far=1; domain=shop.example (this host only); path=/a; expires in 253402299799s (9999-12-31 23:59:59 UTC)"
        );
        jar.store(origin, "t=1; Domain=.shop.example; Path=/", 1_000).unwrap();
        assert_eq!(
            stored_cookie(jar.cookies().last().unwrap(), 1_000),
            "t=1; domain=shop.example (and its subdomains); path=/; no expiry (kept for the journey run)"
        );
        assert_eq!(cookie_line("a=; Max-Age=0", &Ok(Stored::Deleted)), "cookie deleted (expired): a=; Max-Age=0");
        assert_eq!(
            cookie_line("s=1; Secure", &Err(Refused::SecureFromInsecure)),
            "ignored Set-Cookie \"s=1; Secure\": Secure cookie set over plain http"
        );
    }

    /// `ctx.set_cookie` says which cookie, for which URL, and why it was refused.
    #[test]
    fn set_cookie_errors_name_the_cookie_the_url_and_the_reason() {
        let http = HttpClient::new(Arc::new(HttpSettings::default()), None);
        let ctx = Ctx::new(Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now())), "j");
        assert_eq!(ctx.set_cookie("http://shop/", "theme=dark; Path=/"), Ok(()));
        assert_eq!(ctx.cookie("theme").as_deref(), Some("dark"));
        let refused = ctx.set_cookie("http://shop/", "s=1; Secure").unwrap_err();
        assert_eq!(
            refused,
            SetCookieError::Refused {
                set_cookie: "s=1; Secure".into(),
                url: "http://shop/".into(),
                why: Refused::SecureFromInsecure
            }
        );
        assert_eq!(refused.to_string(), "cookie \"s=1; Secure\" for http://shop/: Secure cookie set over plain http");
        let bad_url = ctx.set_cookie("shop/", "a=1").unwrap_err();
        assert!(matches!(bad_url, SetCookieError::Url(_)), "{bad_url:?}");
        assert!(bad_url.to_string().starts_with("invalid URL \"shop/\""), "{bad_url}");
    }
}

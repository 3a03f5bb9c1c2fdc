//! The request builder journeys use (`ctx.http().get(url).header(..).send().await`): method,
//! URL, headers, body, expected statuses, redirects, cookies, auth, JSON and form bodies.

use std::ops::RangeInclusive;

use crate::http::{HttpError, Response};
use crate::journey::Ctx;

/// `ctx.http()`: starts a request.
pub struct Http<'c> {
    pub(super) ctx: &'c Ctx,
}

impl<'c> Http<'c> {
    /// A request with any method.
    pub fn request(&self, method: http::Method, url: &'c str) -> RequestBuilder<'c> {
        RequestBuilder {
            ctx: self.ctx,
            method,
            url,
            headers: Vec::new(),
            body: b"",
            expect: 200..=399,
            keep_body: true,
            follow: None,
            max_redirects: None,
            redirects_left: None,
            extras: None,
        }
    }

    /// `GET url`.
    pub fn get(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::GET, url)
    }

    /// `POST url`.
    pub fn post(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::POST, url)
    }

    /// `PUT url`.
    pub fn put(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::PUT, url)
    }

    /// `DELETE url`.
    pub fn delete(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::DELETE, url)
    }

    /// `HEAD url`.
    pub fn head(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::HEAD, url)
    }

    /// `PATCH url`.
    pub fn patch(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::PATCH, url)
    }

    /// `OPTIONS url`.
    pub fn options(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::OPTIONS, url)
    }
}

/// A request being built; `send().await` runs it in the journey's session (cookies, redirects)
/// and records each exchange under the current transaction.
pub struct RequestBuilder<'c> {
    pub(crate) ctx: &'c Ctx,
    pub(crate) method: http::Method,
    pub(crate) url: &'c str,
    pub(crate) headers: Vec<(&'c str, &'c str)>,
    pub(crate) body: &'c [u8],
    pub(super) expect: RangeInclusive<u16>,
    pub(super) keep_body: bool,
    /// Follow redirects (`None`: the client's setting).
    follow: Option<bool>,
    /// Redirects allowed (`None`: the client's setting).
    max_redirects: Option<u8>,
    /// Set by the session for each hop: `Some(n)` when redirects are followed, `n` left.
    pub(crate) redirects_left: Option<u8>,
    /// What only some requests need (cookies, auth, generated bodies): boxed, so the plain
    /// request stays small and allocates nothing.
    pub(crate) extras: Option<Box<RequestExtras<'c>>>,
}

/// The less common parts of a request.
#[derive(Default)]
pub(crate) struct RequestExtras<'c> {
    /// Cookies for this request only (`name`, `value`), besides the jar's.
    pub cookies: Vec<(&'c str, &'c str)>,
    /// `Authorization` value (basic auth); sent within the request's origin only.
    pub authorization: Option<String>,
    /// A generated body (JSON, form), in place of `body`.
    pub body: Option<Vec<u8>>,
    /// `Content-Type` of the generated body.
    pub content_type: Option<&'static str>,
    /// The URL with query parameters added, in place of `url`.
    pub url: Option<String>,
    /// Why the request cannot be sent (a body that could not be written).
    pub invalid: Option<String>,
}

impl<'c> RequestBuilder<'c> {
    /// Adds a header field.
    pub fn header(mut self, name: &'c str, value: &'c str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets the body (`Content-Length` is added).
    pub fn body(mut self, body: &'c [u8]) -> Self {
        self.body = body;
        self
    }

    /// Statuses counted as success (default 200-399); others are `status` errors.
    pub fn expect_status(mut self, statuses: RangeInclusive<u16>) -> Self {
        self.expect = statuses;
        self
    }

    /// Counts the body bytes but does not keep them (saves a copy on the hot path).
    pub fn discard_body(mut self) -> Self {
        self.keep_body = false;
        self
    }

    /// Follows redirects (301, 302, 303, 307, 308) or not; when not, a 3xx is the response
    /// (judged by `expect_status`). Default: the scenario's `[client] follow_redirects`, true.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow = Some(follow);
        self
    }

    /// Redirects followed at most (Mite's `max_redirects`, default 5; at most
    /// `limits::REDIRECTS_MAX`); one more is a `status` error.
    pub fn max_redirects(mut self, redirects: u8) -> Self {
        self.max_redirects = Some(redirects.min(crate::limits::REDIRECTS_MAX));
        self
    }

    /// Sends a cookie with this request (and its redirects within the same origin), besides
    /// the session's.
    pub fn cookie(mut self, name: &'c str, value: &'c str) -> Self {
        self.extras().cookies.push((name, value));
        self
    }

    /// Basic authentication (`Authorization: Basic base64(user:password)`), sent within the
    /// request's origin only (not to another host it redirects to).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.extras().authorization = Some(format!("Basic {token}"));
        self
    }

    /// A JSON body (serde), with `Content-Type: application/json`. A value serde cannot
    /// write (a map with non-string keys) fails the request when it is sent.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let extras = self.extras();
        match serde_json::to_vec(value) {
            Ok(body) => {
                extras.body = Some(body);
                extras.content_type = Some("application/json");
            }
            Err(err) => extras.invalid = Some(format!("json body: {err}")),
        }
        self
    }

    /// A form body (`application/x-www-form-urlencoded`), as a browser posts a form.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, fields: &[(K, V)]) -> Self {
        let mut body = String::new();
        crate::http::form::encode_pairs(&mut body, fields);
        let extras = self.extras();
        extras.body = Some(body.into_bytes());
        extras.content_type = Some("application/x-www-form-urlencoded");
        self
    }

    /// Adds query parameters to the URL, encoded (`?a=1&b=x+y`).
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, params: &[(K, V)]) -> Self {
        let url = crate::http::form::with_query(
            self.extras.as_ref().and_then(|e| e.url.as_deref()).unwrap_or(self.url),
            params,
        );
        self.extras().url = Some(url);
        self
    }

    pub(crate) fn extras(&mut self) -> &mut RequestExtras<'c> {
        self.extras.get_or_insert_with(Box::default)
    }

    pub(crate) fn follows_redirects(&self) -> bool {
        self.follow.unwrap_or(self.ctx.shard.http.settings().follow_redirects)
    }

    pub(crate) fn max_redirects_allowed(&self) -> u8 {
        self.max_redirects.unwrap_or(self.ctx.shard.http.settings().max_redirects)
    }

    /// One hop of this request: another method, URL, headers and body, the same expectations.
    pub(crate) fn hop<'h>(
        &'h self,
        method: http::Method,
        url: &'h str,
        headers: Vec<(&'h str, &'h str)>,
        body: &'h [u8],
        redirects_left: Option<u8>,
    ) -> RequestBuilder<'h> {
        RequestBuilder {
            ctx: self.ctx,
            method,
            url,
            headers,
            body,
            expect: self.expect.clone(),
            keep_body: self.keep_body,
            follow: self.follow,
            max_redirects: self.max_redirects,
            redirects_left,
            extras: None,
        }
    }

    /// Sends the request in the journey's session (cookies, redirects) and waits for the
    /// whole response. Every hop is recorded as a request under the current transaction.
    pub async fn send(mut self) -> Result<Response, HttpError> {
        // The plain request is one exchange, inline; anything more is the session's loop.
        if !crate::journey::session::prepare(&mut self) {
            return Box::pin(crate::journey::session::chain(self, None)).await;
        }
        let result = self.ctx.execute(&self).await;
        match result {
            Ok(response) if crate::journey::session::follows(&self, &response) => {
                Box::pin(crate::journey::session::chain(self, Some(response))).await
            }
            result => result,
        }
    }
}

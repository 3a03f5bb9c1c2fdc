//! The request builder journeys use (`ctx.http().get(url).header(..).send().await`): method,
//! URL, headers, body, expected statuses, redirects, cookies, auth, JSON and form bodies.

use std::ops::RangeInclusive;

use crate::http::client::{EncodedHead, HostHint};
use crate::http::url::KeptUrl;
use crate::http::{HttpError, Response, Url};
use crate::journey::Ctx;

/// What a declarative step's journey slot keeps of the step's request from one run to the
/// next: its URL parsed, and the head its request has when nothing is added to it (no header,
/// no body: no cookie of the session's, no option of the step's), encoded once. Such a request
/// is sent as these bytes, one copy, rather than encoded anew: a head is a function of its
/// method, target, `Host`, fields and body, and these are the same at every run.
pub(crate) struct KeptRequest {
    pub url: KeptUrl,
    method: http::Method,
    head: EncodedHead,
}

impl KeptRequest {
    /// `url`'s request with `method`, its plain head encoded as the client encodes any.
    pub(crate) fn new(url: KeptUrl, method: &http::Method) -> KeptRequest {
        let mut head = bytes::BytesMut::new();
        let Url { target, authority, .. } = url.url();
        let request = mite_codec::RequestHead { method: method.as_str(), target, host: authority, headers: &[] };
        mite_codec::encode_request(&mut head, &request, b"");
        KeptRequest { url, method: method.clone(), head: EncodedHead(head[..].into(), HostHint::default()) }
    }

    /// The head kept, when `request` is the kept one as it is (its URL this URL's text, the
    /// same method, and no header or body added): `None` otherwise.
    #[inline]
    pub(crate) fn head_for(&self, request: &RequestBuilder<'_>) -> Option<&EncodedHead> {
        let plain = std::ptr::eq(self.url.as_str(), request.url)
            && request.headers.is_empty()
            && request.body.is_empty()
            && request.method == self.method;
        plain.then_some(&self.head)
    }
}

/// `ctx.http()`: starts a request, by method.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = format!("{}/echo", ctx.config().get_or("base", ""));
///     let http: Http<'_> = ctx.http();
///     assert_eq!(http.post(&url).body(b"a").send().await?.text()?, "a");
///     assert_eq!(http.put(&url).body(b"b").send().await?.text()?, "b");
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// # assert_eq!(record.statuses(), [Some(200), Some(200)]);
/// ```
pub struct Http<'c> {
    pub(super) ctx: &'c Ctx,
}

impl<'c> Http<'c> {
    /// A request with any method.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().request("PURGE".parse()?, &format!("{base}/")).send().await?;
    ///     assert_eq!(response.status(), 200);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "PURGE");
    /// ```
    pub fn request(&self, method: http::Method, url: &'c str) -> RequestBuilder<'c> {
        RequestBuilder {
            ctx: self.ctx,
            method,
            url,
            headers: Vec::new(),
            body: b"",
            expect: 200..=399,
            keep_body: true,
            keep_head: true,
            follow: None,
            max_redirects: None,
            redirects_left: None,
            kept: None,
            timed_from_transaction: false,
            extras: None,
        }
    }

    /// `GET url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/json")).send().await?;
    ///     assert_eq!(response.header("Content-Type"), Some("application/json"));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "GET");
    /// ```
    pub fn get(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::GET, url)
    }

    /// `POST url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().post(&format!("{base}/echo")).body(b"order=1").send().await?;
    ///     assert_eq!(response.text()?, "order=1");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "POST");
    /// ```
    pub fn post(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::POST, url)
    }

    /// `PUT url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().put(&format!("{base}/echo")).body(b"name=ann").send().await?;
    ///     assert_eq!(response.text()?, "name=ann");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "PUT");
    /// ```
    pub fn put(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::PUT, url)
    }

    /// `DELETE url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().delete(&format!("{base}/status/204")).send().await?;
    ///     assert_eq!((response.status(), response.body_len()), (204, 0));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "DELETE");
    /// ```
    pub fn delete(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::DELETE, url)
    }

    /// `HEAD url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().head(&format!("{base}/")).send().await?;
    ///     assert_eq!((response.status(), response.body_len()), (200, 0)); // a head has no body
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "HEAD");
    /// ```
    pub fn head(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::HEAD, url)
    }

    /// `PATCH url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().patch(&format!("{base}/echo")).body(b"qty=2").send().await?;
    ///     assert_eq!(response.text()?, "qty=2");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "PATCH");
    /// ```
    pub fn patch(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::PATCH, url)
    }

    /// `OPTIONS url`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().options(&format!("{base}/")).send().await?;
    ///     assert_eq!(response.status(), 200);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests[0].method, "OPTIONS");
    /// ```
    pub fn options(&self, url: &'c str) -> RequestBuilder<'c> {
        self.request(http::Method::OPTIONS, url)
    }
}

/// A request being built; `send().await` runs it in the journey's session (cookies, redirects)
/// and records each exchange under the current transaction. Each method takes the builder and
/// gives it back, so a request reads as one chain.
///
/// ```
/// # use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = format!("{}/status/404", ctx.config().get_or("base", ""));
///     let request: RequestBuilder<'_> = ctx.http().get(&url).header("Accept", "text/plain");
///     let response = request.expect_status(200..=404).discard_body().send().await?;
///     assert_eq!(response.status(), 404);
///     Ok(())
/// }
/// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
/// # assert!(record.is_ok(), "{:?}", record.result);
/// ```
pub struct RequestBuilder<'c> {
    pub(crate) ctx: &'c Ctx,
    pub(crate) method: http::Method,
    pub(crate) url: &'c str,
    pub(crate) headers: Vec<(&'c str, &'c str)>,
    pub(crate) body: &'c [u8],
    pub(super) expect: RangeInclusive<u16>,
    pub(super) keep_body: bool,
    /// Whether the response's raw head is kept for its fields: always, but for a declarative
    /// step that captures no header (a head with `Set-Cookie` or a redirect's is kept still).
    pub(super) keep_head: bool,
    /// Follow redirects (`None`: the client's setting).
    follow: Option<bool>,
    /// Redirects allowed (`None`: the client's setting).
    max_redirects: Option<u8>,
    /// Set by the session for each hop: `Some(n)` when redirects are followed, `n` left.
    pub(crate) redirects_left: Option<u8>,
    /// `url` parsed once already (when it is this text: the same bytes, borrowed from there),
    /// and the plain request's head encoded once.
    pub(crate) kept: Option<&'c KeptRequest>,
    /// The request starts at its transaction's start (the clock read once for both), when it is
    /// the first thing the transaction sends in the poll it began in: a declarative step's (its
    /// hops ask too: the session's first hop is sent in that poll, the redirects after a wait).
    pub(crate) timed_from_transaction: bool,
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
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/json/echo");
    ///     let json = ctx.http().post(&url).header("Content-Type", "application/json").body(b"[1]");
    ///     assert_eq!(json.send().await?.text()?, "[1]");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn header(mut self, name: &'c str, value: &'c str) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Sets the body (`Content-Length` is added).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().post(&format!("{base}/echo")).body(b"hello").send().await?;
    ///     assert_eq!(response.body().as_ref(), b"hello");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn body(mut self, body: &'c [u8]) -> Self {
        self.body = body;
        self
    }

    /// Statuses counted as success (default 200-399); others are `status` errors.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let gone = ctx.http().get(&format!("{base}/status/404")).expect_status(404..=404).send().await?;
    ///     assert_eq!(gone.status(), 404);
    ///     let err = ctx.http().get(&format!("{base}/status/404")).send().await.unwrap_err();
    ///     assert_eq!(err.status(), Some(404));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn expect_status(mut self, statuses: RangeInclusive<u16>) -> Self {
        self.expect = statuses;
        self
    }

    /// Counts the body bytes but does not keep them (saves a copy on the hot path).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/bytes/1000")).discard_body().send().await?;
    ///     assert_eq!((response.body().len(), response.body_len()), (0, 1000));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn discard_body(mut self) -> Self {
        self.keep_body = false;
        self
    }

    /// Follows redirects (301, 302, 303, 307, 308) or not; when not, a 3xx is the response
    /// (judged by `expect_status`). Default: the scenario's `[client] follow_redirects`, true.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/redirect/302/1");
    ///     let response = ctx.http().get(&url).follow_redirects(false).send().await?;
    ///     assert_eq!(response.status(), 302);
    ///     assert_eq!(response.header("Location"), Some("/redirect/302/0"));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.requests.len(), 1);
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow = Some(follow);
        self
    }

    /// Redirects followed at most (Mite's `max_redirects`, default 5; at most
    /// `limits::REDIRECTS_MAX`); one more is a `status` error.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let three = format!("{base}/redirect/302/3");
    ///     assert!(ctx.http().get(&three).max_redirects(3).send().await.is_ok());
    ///     let err = ctx.http().get(&three).max_redirects(2).send().await.unwrap_err();
    ///     assert_eq!(err.kind().map(|kind| kind.name()), Some("status"));
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn max_redirects(mut self, redirects: u8) -> Self {
        self.max_redirects = Some(redirects.min(crate::limits::REDIRECTS_MAX));
        self
    }

    /// Sends a cookie with this request (and its redirects within the same origin), besides
    /// the session's.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let response = ctx.http().get(&format!("{base}/cookies")).cookie("theme", "dark").send().await?;
    ///     assert_eq!(response.text()?, "theme=dark");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn cookie(mut self, name: &'c str, value: &'c str) -> Self {
        self.extras().cookies.push((name, value));
        self
    }

    /// Basic authentication (`Authorization: Basic base64(user:password)`), sent within the
    /// request's origin only (not to another host it redirects to).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/basic-auth/ann/secret");
    ///     let response = ctx.http().get(&url).basic_auth("ann", "secret").send().await?;
    ///     assert_eq!(response.text()?, "ann");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    ///
    /// A user name holding `:` (the server would read the password from the first one, RFC
    /// 7617) or either part holding a control character fails the request, unsent.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let extras = self.extras();
        if let Some(why) = basic_auth_problem(user, password) {
            extras.invalid.get_or_insert(why);
            return self;
        }
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        extras.authorization = Some(format!("Basic {token}"));
        self
    }

    /// A JSON body (serde), with `Content-Type: application/json`. A value serde cannot
    /// write (a map with non-string keys) fails the request when it is sent.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let order = std::collections::BTreeMap::from([("item", "tea"), ("size", "large")]);
    ///     let response = ctx.http().post(&format!("{base}/json/echo")).json(&order).send().await?;
    ///     assert_eq!(response.text()?, r#"{"item":"tea","size":"large"}"#);
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
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
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/login");
    ///     let login = ctx.http().post(&url).form(&[("user", "ann"), ("password", "secret")]);
    ///     let account = login.send().await?; // 302 with a session cookie, followed to /account
    ///     assert_eq!(account.text()?, "hello ann");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, fields: &[(K, V)]) -> Self {
        let mut body = String::new();
        crate::http::form::encode_pairs(&mut body, fields);
        let extras = self.extras();
        extras.body = Some(body.into_bytes());
        extras.content_type = Some("application/x-www-form-urlencoded");
        self
    }

    /// Adds query parameters to the URL, encoded (`?a=1&b=x+y`).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/query");
    ///     let search = ctx.http().get(&url).query(&[("q", "green tea"), ("page", "2")]);
    ///     assert_eq!(search.send().await?.text()?, "q=green+tea&page=2");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, params: &[(K, V)]) -> Self {
        let url = crate::http::form::with_query(
            self.extras.as_ref().and_then(|e| e.url.as_deref()).unwrap_or(self.url),
            params,
        );
        self.extras().url = Some(url);
        self
    }

    /// A declarative step's request, made whole in one place rather than by a builder call for
    /// each part (`expect_status`, `discard_body` when `keep_body` is false), each of which
    /// moves the whole builder on: its URL parsed once already when `kept` is given (`url` is
    /// its text), and its time started at its transaction's (see
    /// `timed_from_transaction`).
    #[inline(always)]
    pub(crate) fn for_step(
        ctx: &'c Ctx,
        method: http::Method,
        url: &'c str,
        expect: RangeInclusive<u16>,
        kept: Option<&'c KeptRequest>,
        (keep_body, keep_head): (bool, bool),
    ) -> Self {
        RequestBuilder {
            ctx,
            method,
            url,
            headers: Vec::new(),
            body: b"",
            expect,
            keep_body,
            keep_head,
            follow: None,
            max_redirects: None,
            redirects_left: None,
            kept,
            timed_from_transaction: true,
            extras: None,
        }
    }

    /// Starts the request's time at its transaction's start (one clock read for both) when the
    /// transaction began in this poll and has sent nothing yet; else the request reads the
    /// clock itself. For a transaction that only builds this request from parts made before
    /// it (a declarative step): its time then also holds that building, a few hundred
    /// instructions. (A declarative step's request is made so by [`RequestBuilder::for_step`].)
    #[cfg(test)]
    pub(crate) fn timed_from_transaction(mut self) -> Self {
        self.timed_from_transaction = true;
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
            keep_head: self.keep_head,
            follow: self.follow,
            max_redirects: self.max_redirects,
            redirects_left,
            kept: None,
            timed_from_transaction: self.timed_from_transaction,
            extras: None,
        }
    }

    /// Sends the request in the journey's session (cookies, redirects) and waits for the
    /// whole response. Every hop is recorded as a request under the current transaction.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     let url = format!("{base}/redirect/302/1");
    ///     let response = ctx.transaction("home", async { Ok(ctx.http().get(&url).send().await?) }).await?;
    ///     assert_eq!(response.text()?, "GET ");
    ///     Ok(())
    /// }
    /// # let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// # assert!(record.is_ok(), "{:?}", record.result);
    /// # assert_eq!(record.statuses(), [Some(302), Some(200)]);
    /// # assert!(record.requests.iter().all(|r| r.transaction == "home"));
    /// ```
    #[expect(clippy::manual_async_fn, reason = "an async fn keeps its argument twice in its future")]
    pub fn send(mut self) -> impl Future<Output = Result<Response, HttpError>> {
        // An async block, not an `async fn`: an `async fn` keeps its argument twice in its
        // future (as received and as moved), and every idle journey holds this future's size.
        async move { send_in_place!(self) }
    }
}

/// The body of [`RequestBuilder::send`] (`$request`, a mutable `RequestBuilder` binding, moved
/// from), written out in the async block that awaits it: `Result<Response, HttpError>`. A
/// declarative step's transaction awaits the client's exchange so, with no future of `send`'s
/// between (the builder not moved into one, the response not copied out of one, no drop glue
/// of one called). The exchange's own body is written out here too (`exchange_in_place!`):
/// no future of the exchange's either.
///
/// `send_in_place!(request, transaction)`: each await polled in that open transaction
/// (`crate::journey::ctx::OpenTransaction`), as a `Transaction` polls its body.
macro_rules! send_in_place {
    (@await $future:expr,) => {
        $future.await
    };
    (@await $future:expr, $transaction:ident) => {
        $transaction.polled($future).await
    };
    ($request:ident $(, $transaction:ident)?) => {
        'send: {
            // The plain request is one exchange, inline; anything more is the session's loop.
            if !$crate::journey::session::prepare(&mut $request) {
                break 'send $crate::journey::send_in_place!(@await ::std::boxed::Box::pin(
                    $crate::http::out_of_line::out_of_line($crate::journey::session::chain($request, None))
                ), $($transaction)?);
            }
            // `Ctx::execute` written out, and the client's exchange in it: its round trip awaited
            // here, two levels fewer (in a block: what it borrows is not kept in this future
            // beside the redirects' chain).
            let result = {
                let mut encoded = None;
                let (exchange, progress) = match $request.ctx.open_exchange(&$request, &mut encoded) {
                    Ok(open) => open,
                    Err(err) => {
                        ::std::hint::cold_path();
                        break 'send Err(err);
                    }
                };
                let mut result = $crate::http::client::exchange_in_place!(
                    &$request.ctx.shard().http, &exchange, &progress $(, $transaction)?
                );
                $request.ctx.close_exchange(&$request, &progress, &mut result);
                result
            };
            match result {
                Ok(response) if $crate::journey::session::follows(&$request, &response) => {
                    $crate::journey::send_in_place!(@await ::std::boxed::Box::pin(
                        $crate::http::out_of_line::out_of_line($crate::journey::session::chain($request, Some(response)))
                    ), $($transaction)?)
                }
                result => result,
            }
        }
    };
}
pub(crate) use send_in_place;

/// Why basic-auth credentials cannot be sent as given (RFC 7617): the one rule, for a request
/// (`RequestBuilder::basic_auth`) and for a scenario file's literal `auth` (refused at load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BasicAuthProblem {
    /// The user name holds `:`: the server would read the password from the first one.
    UserColon,
    /// The user name holds a control character.
    UserControl,
    /// The password holds a control character.
    PasswordControl,
}

impl BasicAuthProblem {
    /// What keeps `user` and `password` from being sent, if anything. A password may hold
    /// colons.
    pub fn of(user: &str, password: &str) -> Option<BasicAuthProblem> {
        if user.contains(':') {
            Some(BasicAuthProblem::UserColon)
        } else if user.chars().any(char::is_control) {
            Some(BasicAuthProblem::UserControl)
        } else if password.chars().any(char::is_control) {
            Some(BasicAuthProblem::PasswordControl)
        } else {
            None
        }
    }

    /// True when the password is the part at fault.
    pub fn in_password(self) -> bool {
        self == BasicAuthProblem::PasswordControl
    }

    /// What the part at fault holds, and why that cannot go.
    pub fn words(self) -> &'static str {
        match self {
            BasicAuthProblem::UserColon => "holds ':' (the server would read the password from it, RFC 7617)",
            BasicAuthProblem::UserControl | BasicAuthProblem::PasswordControl => {
                "holds a control character, which basic auth cannot carry"
            }
        }
    }
}

/// Why a basic-auth user and password cannot be sent as given, if they cannot.
fn basic_auth_problem(user: &str, password: &str) -> Option<String> {
    let problem = BasicAuthProblem::of(user, password)?;
    Some(if problem.in_password() {
        format!("basic auth: the password of user {user:?} {}", problem.words())
    } else {
        format!("basic auth: user {user:?} {}", problem.words())
    })
}

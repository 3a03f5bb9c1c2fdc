//! Issue 12: sessions as Mite scripts them. Cookies, redirects, auth, JSON, form and query
//! bodies through Rust journeys, every hop counted as a request, the engine's counts checked
//! against the target's own per route.

use std::time::Duration;

use mite_core::stats::ErrorKind;
use mite_core::{Ctx, DataPool, JourneyError, JourneyResult, Registry, Row, RunResult, ScenarioEntry, VolumeModel};
use mite_tests::{assert_target_saw_every_request, options, run, scenario};
use mite_tools::{Target, TargetOptions};

fn counting_target() -> Target {
    Target::start(TargetOptions { count_routes: true, ..TargetOptions::default() }).unwrap()
}

#[test]
fn login_example_counts_every_hop_and_matches_the_target_per_route() {
    let target = counting_target();
    let registry = mite_journeys::registry();
    let mut s = scenario("login_example:journey", VolumeModel::constant(4));
    s.entries = vec![ScenarioEntry {
        journey: "login_example:journey".into(),
        datapool: Some(mite_journeys::login_example::users()),
        volume: VolumeModel::constant(4),
    }];
    let result = run(&registry, s, &[format!("target_url={}", target.url("/"))], options(1, Duration::from_secs(1)));
    let total = result.merged.total();
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    assert_eq!(result.merged.journeys.failed, 0, "{:?}", result.merged.error_samples);
    let logins = target.route_hits("/login");
    assert!(logins > 20, "too few journeys: {logins}");
    let txns = &result.merged.txns;
    // login: POST /login, then the redirect to /account; logout: /logout, then /.
    assert_eq!(txns["login"].requests(), target.route_hits("/login") + target.route_hits("/account") / 2);
    assert_eq!(txns["login"].requests(), 2 * logins);
    assert_eq!(txns["account"].requests(), logins);
    assert_eq!(target.route_hits("/account"), 2 * logins);
    assert_eq!(txns["logout"].requests(), target.route_hits("/logout") + target.route_hits("/"));
    assert_eq!(txns["login"].status_class[3], logins, "each login's 302 is a request of its own");
    assert_target_saw_every_request(&result, target.hits());
}

/// Fails the journey with `what` when `got` is not `want`.
fn check<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> JourneyResult {
    if got == want { Ok(()) } else { Err(JourneyError::msg(format!("{what}: got {got:?}, want {want:?}"))) }
}

async fn redirect_rules(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let url = |path: &str| format!("{base}{path}");
    let text = |r: &mite_core::http::Response| r.text().unwrap_or("").to_string();
    ctx.transaction("post_302", async {
        let r = ctx.http().post(&url("/redirect/302/2")).body(b"data").send().await?;
        check("302 turns POST into GET without the body", text(&r), "GET ".into())
    })
    .await?;
    ctx.transaction("post_307", async {
        let r = ctx.http().post(&url("/redirect/307/2")).body(b"data").send().await?;
        check("307 keeps method and body", text(&r), "POST data".into())
    })
    .await?;
    ctx.transaction("put_303", async {
        let r = ctx.http().put(&url("/redirect/303/1")).body(b"data").send().await?;
        check("303 turns PUT into GET", text(&r), "GET ".into())
    })
    .await?;
    ctx.transaction("patch_options", async {
        let r = ctx.http().patch(&url("/redirect/308/1")).body(b"p").send().await?;
        check("308 keeps PATCH and its body", text(&r), "PATCH p".into())?;
        let r = ctx.http().options(&url("/redirect/302/1")).send().await?;
        check("302 keeps OPTIONS", text(&r), "OPTIONS ".into())
    })
    .await?;
    ctx.transaction("five_308", async {
        let r = ctx.http().get(&url("/redirect/308/5")).send().await?;
        check("five redirects are allowed by default", r.status(), 200)
    })
    .await?;
    ctx.transaction("absolute", async {
        let r = ctx.http().get(&url("/redirect/absolute/2")).send().await?;
        check("absolute Location", r.status(), 200)
    })
    .await?;
    ctx.transaction("not_followed", async {
        let r = ctx.http().get(&url("/redirect/302/1")).follow_redirects(false).send().await?;
        check(
            "follow_redirects(false) returns the 3xx",
            (r.status(), r.header("location")),
            (302, Some("/redirect/302/0")),
        )
    })
    .await?;
    ctx.transaction("six_302", async {
        match ctx.http().get(&url("/redirect/302/6")).send().await {
            Err(err) if err.kind() == Some(ErrorKind::Status) && err.to_string().contains("more than 5 redirects") => {
                Ok(())
            }
            other => Err(JourneyError::msg(format!("six redirects: {:?}", other.map(|r| r.status())))),
        }
    })
    .await?;
    ctx.transaction("bad_locations", async {
        for path in ["/redirect/to?url=ftp%3A%2F%2Fh%2Ff", "/redirect/binary"] {
            match ctx.http().get(&url(path)).send().await {
                Err(err) if err.kind() == Some(ErrorKind::Status) => {}
                other => return Err(JourneyError::msg(format!("{path}: {:?}", other.map(|r| r.status())))),
            }
        }
        Ok(())
    })
    .await?;
    ctx.transaction("spaced", async {
        // `Location: /query?q=a b` is followed as a browser follows it, the space encoded.
        let r = ctx.http().get(&url("/redirect/to?url=%2Fquery%3Fq%3Da%20b")).send().await?;
        check("the space is sent as %20", text(&r), "q=a%20b".into())
    })
    .await?;
    ctx.transaction("loop", async {
        let result = ctx.http().get(&url("/redirect/loop")).max_redirects(3).send().await;
        check("a loop ends at max_redirects", result.is_err(), true)
    })
    .await?;
    Ok(())
}

/// Runs the Rust journey `f`, registered as `name`, once on one core with `overrides` (at
/// most 10 s).
fn run_once<F>(name: &str, f: F, overrides: &[String]) -> RunResult
where
    F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
{
    let mut registry = Registry::default();
    registry.journey(name, f);
    run(&registry, scenario(name, VolumeModel::Oneshot { journeys: 1 }), overrides, options(1, Duration::from_secs(10)))
}

#[test]
fn redirects_follow_rfc_9110_and_each_hop_is_a_request() {
    let target = counting_target();
    let overrides = [format!("base={}", target.url(""))];
    let result = run_once("t:redirects", redirect_rules, &overrides);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    let requests = |name: &str| m.txns[name].requests();
    assert_eq!(requests("post_302"), 3);
    assert_eq!(requests("post_307"), 3);
    assert_eq!(requests("put_303"), 2);
    assert_eq!(requests("five_308"), 6);
    assert_eq!(requests("patch_options"), 4);
    assert_eq!(requests("absolute"), 3);
    assert_eq!(requests("not_followed"), 1);
    // Six hops followed' worth: the first five 302s are ok, the sixth cannot be followed.
    assert_eq!(
        (requests("six_302"), m.txns["six_302"].req_ok, m.txns["six_302"].errors_of(ErrorKind::Status)),
        (6, 5, 1)
    );
    assert_eq!((requests("loop"), m.txns["loop"].errors_of(ErrorKind::Status)), (4, 1));
    // A Location that cannot be followed (another scheme, not UTF-8) fails its hop.
    assert_eq!((requests("bad_locations"), m.txns["bad_locations"].errors_of(ErrorKind::Status)), (2, 2));
    assert_eq!(m.txns["bad_locations"].attempts(), 2, "each failed hop counted once");
    assert_eq!((requests("spaced"), m.txns["spaced"].req_ok), (2, 2));
    assert_eq!(target.route_hits("/query"), 1);
    assert_eq!(target.route_hits("/redirect/loop"), 4);
    assert_eq!(target.route_hits("/redirect/302/6"), 1);
    // post_302 and six_302 pass through it, not_followed and patch_options start there.
    assert_eq!(target.route_hits("/redirect/302/1"), 4);
    assert_eq!(target.route_hits("/redirect/307/0"), 1);
    assert_target_saw_every_request(&result, target.hits());
    assert!(m.error_samples["status"].contains("more than 5 redirects"), "{:?}", m.error_samples);
}

/// Every byte but the unreserved ones percent-encoded (a query value).
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `Location` values with backslashes, each to a `/status/<code>` of its own: a browser reads
/// each `\` before the query as `/` (WHATWG URL), so each names that route on the target.
async fn backslash_locations(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let locations = [
        (format!("http:\\\\{authority}\\status\\201"), 201),
        (format!("/\\{authority}/status/202"), 202),
        ("\\status\\203".to_string(), 203),
    ];
    for (location, code) in locations {
        let name = format!("to_{code}");
        ctx.transaction(&name, async {
            let r = ctx.http().get(&format!("{base}/redirect/to?url={}", query_value(&location))).send().await?;
            check(&format!("Location {location:?}"), r.status(), code)
        })
        .await?;
    }
    Ok(())
}

/// A `Location` with backslashes was read as a path of the redirecting host (`http:\\h\p`
/// as `/redirect/\\h\p`): now followed as a browser follows it.
#[test]
fn backslashes_in_a_location_are_followed_as_a_browser_follows_them() {
    let target = counting_target();
    let result = run_once("t:backslashes", backslash_locations, &[format!("base={}", target.url(""))]);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    for code in [201, 202, 203] {
        assert_eq!(target.route_hits(&format!("/status/{code}")), 1, "{:?}", target.route_counts());
        assert_eq!(m.txns[format!("to_{code}").as_str()].requests(), 2, "the redirect and its hop");
    }
    assert_eq!(target.route_hits("/redirect/to"), 3);
    assert_target_saw_every_request(&result, target.hits());
}

async fn bodies_auth_cookies(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let other = ctx.config().get("other").unwrap().to_string();
    let url = |path: &str| format!("{base}{path}");
    let text = |r: &mite_core::http::Response| r.text().unwrap_or("").to_string();
    ctx.transaction("auth", async {
        let r = ctx.http().get(&url("/basic-auth/ann/pw")).basic_auth("ann", "pw").send().await?;
        check("basic auth", text(&r), "ann".into())?;
        let r = ctx.http().get(&url("/basic-auth/ann/pw")).expect_status(401..=401).send().await?;
        check("no auth", r.header("www-authenticate"), Some("Basic realm=\"mite\""))
    })
    .await?;
    ctx.transaction("auth_stays_home", async {
        // Redirected to another origin (another port), the credentials are not sent along.
        let away = format!("{other}/basic-auth/ann/pw");
        let redirect = url("/redirect/to");
        let r = ctx
            .http()
            .get(&redirect)
            .query(&[("url", away.as_str())])
            .basic_auth("ann", "pw")
            .expect_status(401..=401)
            .send()
            .await?;
        check("auth dropped across origins", r.status(), 401)
    })
    .await?;
    ctx.transaction("cookies_stay_home", async {
        // The request's own cookies, as a header or by name, go to its origin only.
        let home = ctx.http().get(&url("/cookies")).header("Cookie", "mine=1").cookie("named", "2").send().await?;
        check("own cookies at home", text(&home), "mine=1; named=2".into())?;
        let away = format!("{other}/cookies");
        let r = ctx
            .http()
            .get(&url("/redirect/to"))
            .query(&[("url", away.as_str())])
            .header("Cookie", "mine=1")
            .cookie("named", "2")
            .send()
            .await?;
        check("own cookies dropped across origins", text(&r), String::new())
    })
    .await?;
    ctx.transaction("json", async {
        let value = serde_json::json!({"user": {"id": 7, "tags": ["a", "b"]}});
        let r = ctx.http().post(&url("/json/echo")).json(&value).send().await?;
        check("json echo", serde_json::from_slice::<serde_json::Value>(r.body()).ok(), Some(value))
    })
    .await?;
    ctx.transaction("form_login", async {
        let r = ctx.http().post(&url("/login")).form(&[("user", "zoe"), ("password", "secret")]).send().await?;
        check("form login lands on the account page", text(&r), "hello zoe".into())?;
        check("session cookie", ctx.cookie("session"), Some("tok-zoe".into()))
    })
    .await?;
    ctx.transaction("query", async {
        let r = ctx.http().get(&url("/query")).query(&[("a", "x y"), ("b", "é&=")]).send().await?;
        check("query encoding", text(&r), "a=x+y&b=%C3%A9%26%3D".into())?;
        // Non-ASCII written in a URL goes percent-encoded, as browsers send it.
        let r = ctx.http().get(&url("/query?q=é")).send().await?;
        check("non-ASCII encoding", text(&r), "q=%C3%A9".into())
    })
    .await?;
    ctx.transaction("cookies", async {
        ctx.set_cookie(&base, "theme=dark; Path=/")?;
        let r = ctx.http().get(&url("/cookies")).cookie("once", "1").send().await?;
        check("jar and request cookies", text(&r), "once=1; session=tok-zoe; theme=dark".into())?;
        ctx.clear_cookies();
        let r = ctx.http().get(&url("/cookies")).send().await?;
        check("cleared", text(&r), String::new())
    })
    .await?;
    Ok(())
}

#[test]
fn auth_json_form_query_and_cookie_api() {
    let target = counting_target();
    let other = counting_target();
    let overrides = [format!("base={}", target.url("")), format!("other={}", other.url(""))];
    let result = run_once("t:bodies", bodies_auth_cookies, &overrides);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!(m.total().req_errors(), 0, "{:?}", m.error_samples);
    assert_eq!(other.route_hits("/basic-auth/ann/pw"), 1);
    assert_eq!(m.total().requests(), target.hits() + other.hits());
}

/// Every run starts with an empty jar: the cookie a run sets is not seen by the next.
async fn fresh_session(ctx: &Ctx, row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let user = row.get(0).unwrap_or("x").to_string();
    ctx.transaction("fresh", async {
        let r = ctx.http().get(&format!("{base}/cookies")).send().await?;
        check("a new run's first request carries no cookie", r.text().unwrap_or("?"), "")?;
        ctx.http()
            .post(&format!("{base}/login"))
            .form(&[("user", user.as_str()), ("password", "secret")])
            .send()
            .await?;
        check("logged in", ctx.cookie("session"), Some(format!("tok-{user}")))
    })
    .await
}

#[test]
fn the_session_is_reset_for_every_journey_run() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:fresh", fresh_session);
    let mut s = scenario("t:fresh", VolumeModel::constant(2));
    let rows = (0..10).map(|i| Row::new([format!("u{i}")])).collect();
    s.entries[0].datapool = Some(DataPool::recyclable("users", rows));
    let result = run(&registry, s, &[format!("base={}", target.url(""))], options(1, Duration::from_millis(800)));
    let m = &result.merged;
    assert!(m.journeys.ok > 10, "{:?}", m.journeys);
    assert_eq!(m.journeys.failed, 0, "{:?}", m.error_samples);
    assert_target_saw_every_request(&result, target.hits());
}

/// Loops until the run stops, then ends cleanly (not cancelled).
async fn until_stopped(ctx: &Ctx, _row: Row) -> JourneyResult {
    let url = format!("{}/", ctx.config().get("base").unwrap());
    let mut sent = 0u64;
    while !ctx.should_stop() {
        ctx.transaction("poll", async { ctx.http().get(&url).send().await.map(drop).map_err(Into::into) }).await?;
        sent += 1;
    }
    Err(JourneyError::msg("stopped").field("requests", &sent).field("user", &"ann"))
}

#[test]
fn should_stop_ends_loops_and_error_fields_reach_the_samples() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:loop", until_stopped);
    let result = run(
        &registry,
        scenario("t:loop", VolumeModel::constant(1)),
        &[format!("base={}", target.url(""))],
        options(1, Duration::from_millis(500)),
    );
    let m = &result.merged;
    assert_eq!((m.journeys.started, m.journeys.failed, m.journeys.cancelled), (1, 1, 0), "{:?}", m.journeys);
    let sample = &m.error_samples["journey"];
    let sent = m.txns["poll"].requests();
    assert_eq!(sample, &format!("stopped (requests={sent}, user=ann)"));
    assert_eq!(sent, target.hits());
}

#[test]
fn pacing_helpers_space_journey_runs() {
    async fn paced(ctx: &Ctx, _row: Row) -> JourneyResult {
        mite_core::journey::pacing::ensure_fixed_separation(Duration::from_millis(200), async {
            ctx.transaction("t", async { Ok(()) }).await
        })
        .await
    }
    let mut registry = Registry::default();
    registry.journey("t:paced", paced);
    let result =
        run(&registry, scenario("t:paced", VolumeModel::constant(1)), &[], options(1, Duration::from_millis(1000)));
    let started = result.merged.journeys.started;
    assert!((4..=6).contains(&started), "{started} runs of at least 200 ms in 1 s");
}

/// A request's own cookies go out as given, or not at all: a `;` in a value would end the
/// cookie and start another (`x; session=evil` sent a second `session`), so the request is
/// refused, not sent, and says which cookie. Quotes, spaces and non-ASCII text go as they are.
async fn hostile_cookie_values(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let cookies = format!("{base}/cookies");
    ctx.transaction("semicolon", async {
        let sent = ctx.http().get(&cookies).cookie("a", "x; session=evil").send().await;
        let err = sent.err().ok_or_else(|| JourneyError::msg("a value with ';' was sent"))?;
        check("its kind", err.kind(), Some(ErrorKind::InvalidRequest))?;
        check("it names the cookie", err.to_string().contains("cookie a: value \"x; session=evil\""), true)
    })
    .await?;
    ctx.transaction("odd_but_whole", async {
        let r = ctx.http().get(&cookies).cookie("q", "\"a b\" ünï").cookie("e", "").send().await?;
        check("sent as given", r.text().unwrap_or("?"), "q=\"a b\" ünï; e=")
    })
    .await?;
    ctx.transaction("control_in_jar", async {
        let refused = ctx.set_cookie(&base, "a=b\u{1}c").err().map(|e| e.to_string());
        check("a control character is refused", refused.is_some_and(|e| e.contains("control character")), true)?;
        let r = ctx.http().get(&cookies).send().await?;
        check("nothing stored", r.text().unwrap_or("?"), "")
    })
    .await
}

#[test]
fn hostile_cookie_values_are_sent_whole_or_refused_by_name() {
    let target = counting_target();
    let result = run_once("t:hostile_cookies", hostile_cookie_values, &[format!("base={}", target.url(""))]);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!(m.txns["semicolon"].not_sent, 1);
    assert_eq!(m.txns["semicolon"].errors_of(ErrorKind::InvalidRequest), 1);
    assert_eq!(target.route_hits("/cookies"), 2, "the refused request was not sent");
    assert_target_saw_every_request(&result, target.hits());
}

/// RFC 7617: a basic-auth user name cannot hold `:` (the server reads the password from the
/// first one: `a:b` / `c` reached it as user `a`, password `b:c`), and neither part a control
/// character: the request is refused, unsent, saying why; a password with colons goes as it is.
async fn colon_in_basic_auth(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    ctx.transaction("colon_user", async {
        let sent = ctx.http().get(&format!("{base}/basic-auth/a/b:c")).basic_auth("a:b", "c").send().await;
        let err = sent.err().ok_or_else(|| JourneyError::msg("a user with ':' was sent"))?;
        check("its kind", err.kind(), Some(ErrorKind::InvalidRequest))?;
        check("it says why", err.to_string().contains("user \"a:b\" holds ':'"), true)
    })
    .await?;
    ctx.transaction("colon_password", async {
        let r = ctx.http().get(&format!("{base}/basic-auth/a/b:c")).basic_auth("a", "b:c").send().await?;
        check("accepted", r.status(), 200)
    })
    .await
}

#[test]
fn a_colon_in_a_basic_auth_user_is_refused_unsent() {
    let target = counting_target();
    let result = run_once("t:colon_auth", colon_in_basic_auth, &[format!("base={}", target.url(""))]);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!(m.txns["colon_user"].not_sent, 1);
    assert_eq!(target.hits(), 1, "only the good request reached the target");
    assert_target_saw_every_request(&result, target.hits());
}

/// `Set-Cookie` fields as careless servers write them, through the real response path.
async fn odd_set_cookies(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let other = ctx.config().get("other").unwrap().to_string();
    let fields = [
        "dot=1; Domain=.127.0.0.1",                      // leading dot dropped; an IP names itself
        "gone=1; Max-Age=-1",                            // expired: not kept
        "past=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", // expired: not kept
        "junkdate=1; Expires=someday",                   // unparsable: a session cookie
        "deep=1; Path=/cookies/deeper",                  // not for /cookies
        "pre=1; Path=/cook",                             // /cookies is not under /cook
        "samesite=1; SameSite=Strict; Partitioned",      // unknown to the jar: kept
        "q=\"a b\"",                                     // quotes and a space kept
        "u=ünï",                                         // non-ASCII kept
        "sec=1; Secure",                                 // refused from plain http
        "foreign=1; Domain=example.com",                 // refused: not this host's
        "trail=1; Domain=127.0.0.1.",                    // refused: a trailing dot matches no host without one
        "dots=1; Domain=..127.0.0.1",                    // refused: one leading dot is dropped, not two
    ];
    let query = fields.iter().map(|f| query_value(f)).collect::<Vec<_>>().join("&");
    ctx.transaction("set", async {
        let r = ctx.http().get(&format!("{base}/cookies/set?{query}")).send().await?;
        check("the target set them", r.status(), 200)?;
        let names: Vec<String> = ctx.cookies().into_iter().map(|c| c.name).collect();
        check("kept", names.join(","), "dot,junkdate,deep,pre,samesite,q,u".into())
    })
    .await?;
    ctx.transaction("sent", async {
        let want = "dot=1; junkdate=1; samesite=1; q=\"a b\"; u=ünï";
        let r = ctx.http().get(&format!("{base}/cookies")).send().await?;
        check("sent back, default path /cookies", r.text().unwrap_or("?"), want)?;
        // RFC 6265 §8.5: cookies do not tell ports apart.
        let r = ctx.http().get(&format!("{other}/cookies")).send().await?;
        check("sent to another port of the host", r.text().unwrap_or("?"), want)
    })
    .await
}

#[test]
fn odd_set_cookie_attributes_are_read_as_rfc_6265_says() {
    let target = counting_target();
    let other = counting_target();
    let overrides = [format!("base={}", target.url("")), format!("other={}", other.url(""))];
    let result = run_once("t:odd_set_cookies", odd_set_cookies, &overrides);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!(m.total().req_errors(), 0, "{:?}", m.error_samples);
    assert_eq!(m.total().requests(), target.hits() + other.hits());
    assert_eq!((target.hits(), other.hits()), (2, 1));
}

/// A redirect that names two targets is not followed (a browser refuses it too); the same
/// `Location` written twice is.
async fn two_locations(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    ctx.transaction("two", async {
        let err = ctx.http().get(&format!("{base}/redirect/two")).send().await.err();
        let err = err.ok_or_else(|| JourneyError::msg("two Location fields were followed"))?;
        check("its kind", err.kind(), Some(ErrorKind::Status))?;
        let want = "two different Location fields, \"/query\" and \"/cookies\": which to follow?";
        check("it names both", err.to_string().contains(want), true)
    })
    .await?;
    ctx.transaction("twice", async {
        let r = ctx.http().get(&format!("{base}/redirect/twice")).send().await?;
        check("followed", r.status(), 200)
    })
    .await
}

#[test]
fn a_redirect_with_two_different_locations_is_not_followed() {
    let target = counting_target();
    let result = run_once("t:two_locations", two_locations, &[format!("base={}", target.url(""))]);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!((m.txns["two"].attempts(), m.txns["two"].errors_of(ErrorKind::Status)), (1, 1));
    assert_eq!((m.txns["twice"].requests(), m.txns["twice"].req_ok), (2, 2));
    assert_eq!((target.route_hits("/query"), target.route_hits("/cookies")), (1, 0));
    assert_target_saw_every_request(&result, target.hits());
}

/// `Set-Cookie` fields as real servers send them, through the real response path: two for one
/// name, a deletion in the same answer, spaces that are not ASCII, a huge cookie among others,
/// more cookies than the jar keeps, a cookie set on a redirect, a domain not this host's.
async fn cookie_edges(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    let set = |fields: &[&str]| {
        let query: Vec<String> = fields.iter().map(|f| query_value(f)).collect();
        format!("{base}/cookies/set?{}", query.join("&"))
    };
    let sent = async || -> Result<String, JourneyError> {
        let r = ctx.http().get(&format!("{base}/cookies")).send().await?;
        Ok(r.text().unwrap_or("?").to_string())
    };
    ctx.transaction("two_for_one", async {
        ctx.http().get(&set(&["a=1; Path=/", "b=1; Path=/", "a=2; Path=/"])).send().await?;
        check("the later wins", sent().await?, "a=2; b=1".into())
    })
    .await?;
    ctx.transaction("deleted", async {
        let fields = ["a=; Path=/; Max-Age=0", "b=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "c=1; Path=/"];
        ctx.http().get(&set(&fields)).send().await?;
        check("both deleted", sent().await?, "c=1".into())
    })
    .await?;
    ctx.clear_cookies();
    ctx.transaction("spaces", async {
        ctx.http().get(&set(&["n=\u{a0}x\u{3000}; Path=/", "q=\"a b\" ; Path=/"])).send().await?;
        check("only spaces and tabs trimmed", sent().await?, "n=\u{a0}x\u{3000}; q=\"a b\"".into())
    })
    .await?;
    ctx.clear_cookies();
    ctx.transaction("huge", async {
        let huge = format!("big={}; Path=/", "x".repeat(5000));
        ctx.http().get(&set(&[&huge, "small=1; Path=/"])).send().await?;
        check("the huge one ignored, the other kept", sent().await?, "small=1".into())
    })
    .await?;
    ctx.clear_cookies();
    ctx.transaction("many", async {
        // Four answers of 78, as a site sets them over several pages.
        for answer in 0..4 {
            let fields: Vec<String> = (answer * 78..(answer + 1) * 78).map(|i| format!("c{i}=1; Path=/")).collect();
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            ctx.http().get(&set(&fields)).send().await?;
        }
        let names: Vec<String> = ctx.cookies().into_iter().map(|c| c.name).collect();
        check("300 kept, the oldest gone", (names.len(), names[0].as_str()), (300, "c12"))?;
        let header = sent().await?;
        check("all 300 sent", header.split("; ").count(), 300)
    })
    .await?;
    ctx.clear_cookies();
    ctx.transaction("redirect", async {
        let query = ["r=1; Path=/", "elsewhere=1; Path=/other"].map(query_value).join("&");
        let r = ctx.http().get(&format!("{base}/cookies/redirect?{query}")).send().await?;
        check("the next hop carries what the redirect set", r.text().unwrap_or("?"), "r=1")?;
        ctx.clear_cookies();
        let url = format!("{base}/cookies/redirect?{}", query_value("kept=1; Path=/"));
        let r = ctx.http().get(&url).follow_redirects(false).expect_status(302..=302).send().await?;
        check("a redirect not followed", r.status(), 302)?;
        check("still sets its cookie", ctx.cookie("kept"), Some("1".to_string()))
    })
    .await?;
    ctx.clear_cookies();
    ctx.transaction("foreign", async {
        ctx.http().get(&set(&["dom=1; Domain=localhost; Path=/", "ok=1; Domain=127.0.0.1; Path=/"])).send().await?;
        check("another host's domain ignored", sent().await?, "ok=1".into())
    })
    .await
}

/// Outside try: values lost a trailing no-break or ideographic space (every Unicode space was
/// trimmed, not spaces and tabs only).
#[test]
fn set_cookie_edges_as_real_servers_send_them() {
    let target = counting_target();
    let result = run_once("t:cookie_edges", cookie_edges, &[format!("base={}", target.url(""))]);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!(m.total().req_errors(), 0, "{:?}", m.error_samples);
    assert_eq!(m.txns["redirect"].requests(), 3, "the 302 and its hop, and the 302 not followed");
    assert_eq!(target.route_hits("/cookies/redirect"), 2);
    assert_target_saw_every_request(&result, target.hits());
}

/// `/cookies/many/300` (300 `Set-Cookie` fields in one answer), then what the jar sends back.
async fn three_hundred_cookies(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    ctx.http().get(&format!("{base}/cookies/many/300")).send().await?;
    let r = ctx.http().get(&format!("{base}/cookies")).send().await?;
    check("all 300 sent back", r.text().unwrap_or("?").split("; ").count(), 300)
}

/// A response with more header fields than the client's limit (256 by default: a site that sets
/// 300 cookies in one answer) is `too_large`, and the error names the limit and how to raise
/// it; raised, the answer is read and every cookie kept. Before: the limit was 100, fixed, and
/// the error said only "more than 100 header fields".
#[test]
fn more_header_fields_than_the_limit_is_too_large_and_says_how_to_raise_it() {
    let target = counting_target();
    let overrides = [format!("base={}", target.url(""))];
    let mut registry = Registry::default();
    registry.journey("t:cookies_300", three_hundred_cookies);
    let once = || scenario("t:cookies_300", VolumeModel::Oneshot { journeys: 1 });
    let result = run(&registry, once(), &overrides, options(1, Duration::from_secs(10)));
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.total().errors_of(ErrorKind::TooLarge)), (0, 1), "{:?}", m.error_samples);
    let said = &m.error_samples["too_large"];
    let words = "response has more than 256 header fields (the client's limit: raise it with --max-headers or \
                 [client] max_headers, up to 1024)";
    assert!(said.contains(words), "{said}");
    let mut raised = options(1, Duration::from_secs(10));
    raised.http.limits.headers_count_max = 400;
    let result = run(&registry, once(), &overrides, raised);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.total().req_errors()), (1, 0), "{:?}", m.error_samples);
    assert_eq!(target.route_hits("/cookies/many/300"), 2);
    assert_target_saw_every_request(&result, target.hits() - 1);
}

/// Two `Set-Cookie` fields the jar ignores, each in its own transaction: one not UTF-8 (beside
/// a good one), one above the size limit.
async fn ignored_cookies(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    ctx.transaction("binary", async {
        ctx.http().get(&format!("{base}/cookies/binary")).send().await?;
        Ok(())
    })
    .await?;
    let huge = query_value(&format!("big={}; Path=/", "x".repeat(5000)));
    ctx.transaction("huge", async {
        ctx.http().get(&format!("{base}/cookies/set?{huge}")).send().await?;
        Ok(())
    })
    .await?;
    check("the good one kept", ctx.cookie("good"), Some("1".to_string()))
}

/// A load run says which `Set-Cookie` fields the jar ignored, and why: counted per transaction
/// by reason, in the end table and the result file (totals and each transaction), and read back
/// by `merge`. Before: only `journey test` said so; a load run ignored them silently.
#[test]
fn a_load_run_counts_the_cookies_it_ignored_by_reason_and_transaction() {
    use mite_core::stats::CookieIgnored;
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:ignored_cookies", ignored_cookies);
    let result = run(
        &registry,
        scenario("t:ignored_cookies", VolumeModel::Oneshot { journeys: 3 }),
        &[format!("base={}", target.url(""))],
        options(1, Duration::from_secs(10)),
    );
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.total().req_errors()), (3, 0), "{:?}", m.error_samples);
    let binary = &m.txns["binary"].cookies_ignored;
    let huge = &m.txns["huge"].cookies_ignored;
    assert_eq!((binary.of(CookieIgnored::NotUtf8), binary.total()), (3, 3));
    assert_eq!((huge.of(CookieIgnored::TooLarge), huge.total()), (3, 3));
    let table = mite_core::output::report::table(m, result.duration_s);
    let line = "cookies ignored: 6 Set-Cookie fields the jar did not keep (not_utf8 3, too_large 3; in binary 3, \
                huge 3): `journey test` says why for each";
    assert!(table.contains(line), "{table}");
    let file = mite_core::output::result_file::result_file(&result, true);
    let json = file.to_value();
    assert_eq!(json["totals"]["cookies_ignored"], serde_json::json!({"not_utf8": 3, "too_large": 3}));
    let txn = |name: &str| json["transactions"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap().clone();
    assert_eq!(txn("binary")["cookies_ignored"], serde_json::json!({"not_utf8": 3}));
    let back = mite_core::output::result_file::read_run(&file, "run.json").unwrap();
    assert_eq!(back.merged.txns["huge"].cookies_ignored, *huge, "merge reads them back");
    let mut edited = file.clone();
    for txn in &mut edited.transactions {
        txn.cookies_ignored.insert("stale".into(), 1);
    }
    let refused = mite_core::output::result_file::read_run(&edited, "run.json").unwrap_err().to_string();
    assert!(refused.contains("\"stale\" is not a reason a cookie is ignored for"), "{refused}");
    assert_target_saw_every_request(&result, target.hits());
}

/// A server of two routes on its own thread, for what the target cannot say: `/303` answers a
/// 303 to `/heads`, which answers with the request's head as its body. Serves `requests` requests
/// (one a connection), then ends.
fn head_echo_server(requests: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serve = std::thread::spawn(move || {
        for _ in 0..requests {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut body_bytes = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(length) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    body_bytes = length.trim().parse().unwrap();
                }
                head.push_str(&line);
            }
            reader.by_ref().take(body_bytes).read_to_end(&mut Vec::new()).unwrap();
            let answer = if head.starts_with("POST /303 ") {
                "HTTP/1.1 303 See Other\r\nLocation: /heads\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            } else {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}", head.len())
            };
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
        }
    });
    (base, serve)
}

async fn body_fields_after_303(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    ctx.transaction("see_other", async {
        let r = ctx
            .http()
            .post(&format!("{base}/303"))
            .header("Content-Type", "text/plain")
            .header("Content-Encoding", "identity")
            .header("Content-Language", "en")
            .header("Content-Location", "/draft")
            .header("X-Kept", "1")
            .body(b"draft")
            .send()
            .await?;
        let head = r.text().unwrap_or("").to_ascii_lowercase();
        check("the GET is sent", head.starts_with("get /heads "), true)?;
        check("no field of the dropped body", head.contains("content-"), false)?;
        check("the request's other fields", head.contains("x-kept: 1"), true)
    })
    .await
}

/// A 303 makes a POST a GET without its body, and without the fields that describe it
/// (`Content-Type`, `-Encoding`, `-Language`, `-Location`: WHATWG Fetch's HTTP-redirect fetch);
/// other fields go on. (Only `Content-Type` was dropped: the GET said `Content-Language: en`
/// of a body it did not have.)
#[test]
fn a_redirect_that_drops_the_body_drops_the_fields_that_describe_it() {
    let (base, server) = head_echo_server(2);
    let result = run_once("t:body_fields_after_303", body_fields_after_303, &[format!("base={base}")]);
    let m = &result.merged;
    assert_eq!((m.journeys.ok, m.journeys.failed), (1, 0), "{:?}", m.error_samples);
    assert_eq!(m.txns["see_other"].requests(), 2);
    server.join().unwrap();
}

async fn past_the_jars_limit(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get("base").unwrap().to_string();
    ctx.http().get(&format!("{base}/cookies/many/300")).send().await?;
    ctx.http().get(&format!("{base}/cookies/set?late%3D1%3B+Path%3D%2F")).send().await?;
    check("the newest kept", ctx.cookie("late"), Some("1".to_string()))?;
    check("the oldest dropped", ctx.cookie("c0"), None)?;
    check("the jar's size", ctx.cookies().len(), 300)
}

/// `journey test` says when the jar drops its oldest cookie to make room (the 301st here), and
/// how much it keeps. (A cookie dropped so went without a word, after its `cookie stored` line:
/// a journey missing it later had no clue why.)
#[test]
fn journey_test_says_when_a_full_jar_drops_its_oldest_cookie() {
    let target = counting_target();
    let mut registry = Registry::default();
    registry.journey("t:past_the_jars_limit", past_the_jars_limit);
    let config = mite_core::run::layered_config(&Default::default(), &[format!("base={}", target.url(""))]).unwrap();
    let mut opts = options(1, Duration::from_secs(5));
    opts.http.limits.headers_count_max = 400;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut lines = Vec::new();
    let mut report = |event: &mite_core::output::events::RunEvent<'_>| {
        if let mite_core::output::events::RunEvent::Trace { line, .. } = event {
            lines.push(line.to_string());
        }
    };
    let (merged, _) =
        mite_core::journey_test(&registry, "t:past_the_jars_limit", [], config, &opts, &stop, &mut report).unwrap();
    assert_eq!(merged.journeys.ok, 1, "{:?} {lines:?}", merged.error_samples);
    let full: Vec<&String> = lines.iter().filter(|l| l.contains("jar full")).collect();
    assert_eq!(
        full,
        ["jar full: the oldest cookie dropped to make room (a journey run keeps at most 300 cookies, 64 KiB of \
          names and values)"],
        "{lines:?}"
    );
    let at = lines.iter().position(|l| l.contains("jar full")).unwrap();
    assert!(lines[at + 1].starts_with("cookie stored: late=1; "), "{lines:?}");
}

//! A Mite-style login flow against the tools/ target: post the login form, follow the redirect
//! to the account page with the session cookie the login set, read it, log out. The session
//! (cookies, redirects) is the journey run's own, as with Mite's `@mite_http`.

use mite_core::prelude::*;

use crate::http_example::TARGET_URL_DEFAULT;

/// The target's password for every user (`tools/src/session_routes.rs`).
pub const PASSWORD: &str = "secret";

/// `login_example:journey`: three transactions, five requests per run (`POST /login` → 302 →
/// `GET /account`; `GET /account`; `GET /logout` → 302 → `GET /`).
pub async fn journey(ctx: &Ctx, args: Row) -> JourneyResult {
    let user = args.get(0).ok_or_else(|| JourneyError::msg("the row needs a user name"))?;
    let base = ctx.config().get_or("target_url", TARGET_URL_DEFAULT).trim_end_matches('/');
    let (login, account, logout) = (format!("{base}/login"), format!("{base}/account"), format!("{base}/logout"));
    ctx.transaction("login", async {
        let page = ctx.http().post(&login).form(&[("user", user), ("password", PASSWORD)]).send().await?;
        expect_text(page.text().unwrap_or(""), &format!("hello {user}"))
    })
    .await?;
    ctx.transaction("account", async {
        let page = ctx.http().get(&account).send().await?;
        expect_text(page.text().unwrap_or(""), &format!("hello {user}"))
    })
    .await?;
    ctx.transaction("logout", async {
        ctx.http().get(&logout).discard_body().send().await?;
        match ctx.cookie("session") {
            None => Ok(()),
            Some(value) => Err(JourneyError::msg(format!("still logged in after logout: session={value}"))),
        }
    })
    .await
}

fn expect_text(got: &str, want: &str) -> JourneyResult {
    if got == want { Ok(()) } else { Err(JourneyError::msg(format!("expected {want:?}, got {got:?}"))) }
}

/// `login_example:users`: user0 .. user999, recyclable.
pub fn users() -> DataPool {
    DataPool::recyclable("login_example:users", (0..1000).map(|i| Row::new([format!("user{i}")])).collect())
}

/// `login_example:scenario`: `journeys` (config, default 16) login journeys in flight.
pub fn scenario(config: &Config) -> Result<Scenario, ScenarioError> {
    let text = config.get_or("journeys", "16");
    let journeys = text.parse().map_err(|_| ScenarioError::config("journeys", text, "expected a whole number"))?;
    Ok(Scenario {
        name: "login_example:scenario".into(),
        entries: vec![ScenarioEntry {
            journey: "login_example:journey".into(),
            datapool: Some(users()),
            volume: VolumeModel::constant(journeys),
        }],
        config: Config::default(),
    })
}

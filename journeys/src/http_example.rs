//! HTTP examples: a plain GET journey (the demo's), and a journey fed by user ids.

use mite_core::prelude::*;

/// Where the examples send requests unless `target_url` is configured.
pub const TARGET_URL_DEFAULT: &str = "http://127.0.0.1:8080/";

/// `http_example:journey`: one GET of `target_url` in transaction `get_root`.
pub async fn journey(ctx: &Ctx, _args: Row) -> JourneyResult {
    let url = ctx.config().get_or("target_url", TARGET_URL_DEFAULT);
    ctx.transaction("get_root", async {
        ctx.http().get(url).discard_body().send().await?;
        Ok(())
    })
    .await
}

/// `http_example:user_journey`: posts the user id to `{target_url}echo` and checks the echo.
pub async fn user_journey(ctx: &Ctx, args: Row) -> JourneyResult {
    let base = ctx.config().get_or("target_url", TARGET_URL_DEFAULT);
    let user = args.get(0).ok_or_else(|| JourneyError::msg("user row is empty"))?;
    let url = format!("{}echo", base.trim_end_matches('/').to_string() + "/");
    ctx.transaction("echo_user", async {
        let response = ctx.http().post(&url).header("Content-Type", "text/plain").body(user.as_bytes()).send().await?;
        if response.body().as_ref() != user.as_bytes() {
            return Err(JourneyError::msg(format!("echo returned {:?}, sent {user:?}", response.text())));
        }
        Ok(())
    })
    .await
}

/// `http_example:users`: user ids 1..=1000, recyclable.
pub fn users() -> DataPool {
    DataPool::recyclable("http_example:users", (1..=1000).map(|i| Row::new([format!("user-{i}")])).collect())
}

fn journeys_in_flight(config: &Config) -> Result<u64, ScenarioError> {
    let text = config.get_or("journeys", "64");
    text.parse().map_err(|_| ScenarioError::config("journeys", text, "expected a whole number of journeys in flight"))
}

/// `http_example:scenario`: `journeys` (config, default 64) GET journeys in flight.
pub fn scenario(config: &Config) -> Result<Scenario, ScenarioError> {
    Ok(Scenario {
        name: "http_example:scenario".into(),
        entries: vec![ScenarioEntry {
            journey: "http_example:journey".into(),
            datapool: None,
            volume: VolumeModel::constant(journeys_in_flight(config)?),
        }],
        config: Config::default(),
    })
}

/// `http_example:users_scenario`: the echo journey over the users datapool.
pub fn users_scenario(config: &Config) -> Result<Scenario, ScenarioError> {
    Ok(Scenario {
        name: "http_example:users_scenario".into(),
        entries: vec![ScenarioEntry {
            journey: "http_example:user_journey".into(),
            datapool: Some(users()),
            volume: VolumeModel::constant(journeys_in_flight(config)?),
        }],
        config: Config::default(),
    })
}

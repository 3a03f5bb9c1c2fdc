//! The shop: a journey that opens the home page and a product, fed by a datapool of users.

use std::sync::Arc;

use mite_engine::prelude::*;

/// Opens the home page, then a product (`/json` on the embedded target), as one user, and
/// reads the product's name from its JSON.
pub async fn browse(ctx: &Ctx, row: Row) -> JourneyResult {
    let base = ctx.config().get_or("base", "http://127.0.0.1:8080").trim_end_matches('/').to_string();
    let user = row.by_name("user").unwrap_or("guest").to_string();
    let (home, product) = (format!("{base}/"), format!("{base}/json"));
    ctx.transaction("home", async {
        ctx.http().get(&home).send().await?;
        Ok(())
    })
    .await?;
    ctx.transaction("product", async {
        let response = ctx.http().get(&product).send().await?;
        let json: serde_json::Value = serde_json::from_slice(response.body())
            .map_err(|e| JourneyError::msg(format!("the product is not JSON: {e}")).field("url", &product))?;
        let name = json["user"]["name"].as_str().unwrap_or("none");
        ctx.send("product_seen", &[("user", &user), ("bytes", &response.body_len()), ("name", &name)]);
        Ok(())
    })
    .await
}

/// The users the journey runs as (each row comes back after its journey: recyclable).
pub fn users() -> DataPool {
    let columns: Arc<[String]> = vec!["user".to_string()].into();
    let rows = ["ann", "bob", "cho", "dee"].iter().map(|u| Row::with_columns(vec![u.to_string()], columns.clone()));
    DataPool::recyclable("users", rows.collect())
}

/// Browsing users, `journeys` of them in flight (config `journeys`, default 4).
pub fn scenario(config: &Config) -> Result<Scenario, ScenarioError> {
    let journeys = config.get_or("journeys", "4");
    let journeys = journeys.parse().map_err(|_| ScenarioError::config("journeys", journeys, "expected a whole number"))?;
    Ok(Scenario {
        name: "shop".into(),
        entries: vec![ScenarioEntry {
            journey: "shop:browse".into(),
            datapool: Some(users()),
            volume: VolumeModel::constant(journeys),
        }],
        config: Config::default(),
    })
}

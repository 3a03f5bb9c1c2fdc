//! Mite's own example, translated: a journey that sends a message, sleeps half a second and
//! takes two numbers; a recyclable datapool of 5000 pairs; ten journeys in flight.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mite_core::prelude::*;

/// `mite_example:journey`: one transaction that sends `test_message` and sleeps 0.5 s.
pub async fn journey(ctx: &Ctx, args: Row) -> JourneyResult {
    let arg1 = args.int(0)?;
    let arg2 = args.int(1)?;
    ctx.transaction("test1", async {
        let content = ctx.config().get_or("test_msg", "Not set");
        let sent_at = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        ctx.send("test_message", &[("content", &content), ("sent_at", &sent_at), ("arg1", &arg1), ("arg2", &arg2)]);
        sleep(Duration::from_millis(500)).await;
        Ok(())
    })
    .await
}

/// `mite_example:datapool`: the pairs `(i, i + 2)` for i in 1..=5000, recyclable.
pub fn datapool() -> DataPool {
    DataPool::recyclable(
        "mite_example:datapool",
        (1..=5000).map(|i| Row::new([i.to_string(), (i + 2).to_string()])).collect(),
    )
}

/// `mite_example:scenario`: ten journeys in flight (Mite's `lambda start, end: 10`).
pub fn scenario(_config: &Config) -> Result<Scenario, ScenarioError> {
    Ok(Scenario {
        name: "mite_example:scenario".into(),
        entries: vec![ScenarioEntry {
            journey: "mite_example:journey".into(),
            datapool: Some(datapool()),
            volume: VolumeModel::constant(10),
        }],
        config: Config::default(),
    })
}

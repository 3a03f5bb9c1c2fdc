//! What a user crate's `register` gets when it registers one journey name twice: the registry
//! keeps the later and names the name, and `mite_engine::main` refuses to start with it
//! (README.md, "Your own journeys, in Mite's order", step 4).

use mite_engine::prelude::*;

async fn first(ctx: &Ctx, _row: Row) -> JourneyResult {
    ctx.transaction("first", async { Ok(()) }).await
}

async fn second(ctx: &Ctx, _row: Row) -> JourneyResult {
    ctx.transaction("second", async { Ok(()) }).await
}

#[test]
fn a_journey_name_registered_twice_runs_the_later_journey() {
    let mut registry = Registry::default();
    registry.journey("shop:browse", first);
    registry.journey("shop:browse", second);
    assert_eq!(registry.journey_names().collect::<Vec<_>>(), ["shop:browse"]);
    assert_eq!(registry.registered_twice(), [r#"journey "shop:browse""#]);
    let record = JourneyTest::new().run_registered(&registry, "shop:browse").unwrap();
    assert!(record.is_ok(), "{:?}", record.errors);
    let names: Vec<&str> = record.transactions.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["second"]);
}

//! The shop's journey against the embedded target: what it requested, timed and sent.

use std::sync::Arc;

use mite_engine::prelude::*;
use mite_engine::testing;

fn user(name: &str) -> Row {
    Row::with_columns(vec![name.to_string()], Arc::from(vec!["user".to_string()]))
}

#[test]
fn browse_opens_home_then_product() {
    let target = testing::target();
    let record = JourneyTest::new().config("base", target.url("")).row(user("ann")).run({{lib}}::shop::browse).unwrap();
    assert!(record.is_ok(), "{:?}", record.errors);
    let requests: Vec<_> = record.requests.iter().map(|r| (r.method.as_str(), r.url.as_str(), r.status)).collect();
    assert_eq!(
        requests,
        [("GET", target.url("/").as_str(), Some(200)), ("GET", target.url("/json").as_str(), Some(200))]
    );
    let names: Vec<_> = record.transactions.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["home", "product"]);
    assert_eq!(record.messages[0].kind, "product_seen");
    assert_eq!(record.messages[0].fields[0], ("user".to_string(), "ann".to_string()));
    assert_eq!(record.messages[0].fields[2], ("name".to_string(), "mite".to_string()), "read from the JSON");
    assert_eq!(target.hits(), 2, "the target served what the journey sent");
}

#[test]
fn browse_stops_at_a_missing_home_page() {
    let target = testing::target();
    // Nothing is served under /missing: the home page answers 404, the product is never asked.
    let base = target.url("/missing");
    let record = JourneyTest::new().config("base", base).row(user("bob")).run({{lib}}::shop::browse).unwrap();
    assert!(record.result.is_err(), "{record:?}");
    assert_eq!(record.statuses(), [Some(404)]);
    assert!(record.transaction("home").and_then(|t| t.error.as_ref()).is_some(), "{record:?}");
    assert!(record.transaction("product").is_none() && record.messages.is_empty(), "{record:?}");
}

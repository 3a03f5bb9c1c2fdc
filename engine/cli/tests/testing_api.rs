//! The journey authors' testing API (issue 18): what `JourneyTest` records of a journey that
//! nests transactions, follows a redirect, fails on a status and meets a refused connection.

use mite_engine::prelude::*;
use mite_engine::testing;

async fn nested(ctx: &Ctx, _row: Row) -> JourneyResult {
    let base = ctx.config().get_or("base", "").to_string();
    let (ok, missing) = (format!("{base}/json"), format!("{base}/status/503"));
    ctx.transaction("outer", async {
        ctx.transaction("inner", async {
            ctx.http().get(&ok).send().await?;
            Ok(())
        })
        .await?;
        ctx.send("between", &[("n", &1)]);
        ctx.http().get(&missing).send().await?;
        Ok(())
    })
    .await
}

#[test]
fn records_requests_transactions_messages_and_errors_in_order() {
    let target = testing::target();
    let record = JourneyTest::new().config("base", target.url("")).run(nested).unwrap();
    let requests: Vec<_> = record.requests.iter().map(|r| (r.status, r.transaction.as_str())).collect();
    assert_eq!(requests, [(Some(200), "outer :: inner"), (Some(503), "outer")]);
    assert!(record.requests[1].error.as_deref().unwrap().contains("answered 503"), "{record:?}");
    let txns: Vec<_> = record.transactions.iter().map(|t| (t.name.as_str(), t.error.is_some())).collect();
    assert_eq!(txns, [("outer :: inner", false), ("outer", true)]);
    assert_eq!(
        record.messages,
        [testing::RecordedMessage { kind: "between".into(), fields: vec![("n".into(), "1".into())] }]
    );
    assert_eq!(record.errors.len(), 2, "the failed request, then the journey's error: {:?}", record.errors);
    let failure = record.result.as_ref().unwrap_err();
    assert!(failure.to_string().contains("503"), "{failure}");
    assert_eq!(failure.kind.map(|k| k.name()), Some("status"), "a request failed the journey: {failure:?}");
    assert_eq!(target.hits(), 2);
}

#[test]
fn a_refused_connection_is_a_request_without_status() {
    // Bind then drop a listener: the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let record = JourneyTest::new().config("base", format!("http://127.0.0.1:{port}")).run(nested).unwrap();
    assert_eq!(record.statuses(), [None]);
    assert!(record.requests[0].error.is_some() && record.result.is_err(), "{record:?}");
    assert_eq!(record.result.as_ref().unwrap_err().kind.map(|k| k.name()), Some("refused"), "{record:?}");
    assert!(record.messages.is_empty());
}

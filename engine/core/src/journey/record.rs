//! What one journey run did, recorded as data for journey authors' tests (Mite's
//! `test_context`, `run_single_journey` and `http_spy`): its requests, transactions, messages
//! and errors, and [`JourneyTest`], which runs one journey with one row and a configuration on
//! the calling thread, without starting the engine's cores or its stats thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exec::runtime::{CoreRuntime, DriverChoice};
use crate::exec::shard::Shard;
use crate::http::client::HttpClient;
use crate::http::{HttpSettings, TlsOptions};
use crate::journey::{Ctx, JourneyResult, Registry};
use crate::model::config::Config;
use crate::model::datapool::Row;
use crate::run::RunError;

/// One request (one hop of a redirect chain is one request), as sent and answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL requested.
    pub url: String,
    /// The response's status; `None` when there was no response (refused, timeout, reset...).
    pub status: Option<u16>,
    /// Why the request counted as an error (a status outside the expected range, a transport
    /// failure), `None` when it succeeded.
    pub error: Option<String>,
    /// The transaction it was recorded under (`outer :: inner`; the journey's name outside any).
    pub transaction: String,
}

/// One transaction, recorded when it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedTransaction {
    /// Its full name (`outer :: inner` when nested).
    pub name: String,
    /// Its error, `None` when it succeeded.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

/// One message sent by `ctx.send(kind, fields)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedMessage {
    /// The message type.
    pub kind: String,
    /// Its fields, displayed, in order.
    pub fields: Vec<(String, String)>,
}

/// Everything one journey run did, in the order it happened within each list.
#[derive(Clone, Debug)]
pub struct JourneyRecord {
    /// The journey's own outcome: `Err` with its message (and fields) when it failed.
    pub result: Result<(), String>,
    /// Every request, in the order they finished.
    pub requests: Vec<RecordedRequest>,
    /// Every transaction, in the order they ended (inner ones before outer ones).
    pub transactions: Vec<RecordedTransaction>,
    /// Every message, in the order they were sent.
    pub messages: Vec<RecordedMessage>,
    /// Every error counted: failed requests, then the journey's own error if it failed.
    pub errors: Vec<String>,
}

impl Default for JourneyRecord {
    fn default() -> JourneyRecord {
        JourneyRecord {
            result: Ok(()),
            requests: Vec::new(),
            transactions: Vec::new(),
            messages: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl JourneyRecord {
    /// True when the journey returned `Ok`.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The statuses of the requests, in order (`None` for a request without a response).
    pub fn statuses(&self) -> Vec<Option<u16>> {
        self.requests.iter().map(|r| r.status).collect()
    }

    /// The transaction named `name` (its full name), the first one that ended.
    pub fn transaction(&self, name: &str) -> Option<&RecordedTransaction> {
        self.transactions.iter().find(|t| t.name == name)
    }
}

/// The recorder a shard carries while a [`JourneyTest`] runs (absent in load runs).
pub(crate) type Recorder = RefCell<JourneyRecord>;

/// Name the journey under test is recorded under (its root transaction).
const JOURNEY_NAME: &str = "journey";

/// Runs one journey once, with one row and a configuration, from a plain `#[test]`.
///
/// ```no_run
/// use mite_core::journey::record::JourneyTest;
/// use mite_core::{Ctx, JourneyResult, Row};
///
/// async fn home(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("base", "http://127.0.0.1:8080").to_string() + "/";
///     ctx.transaction("home", async {
///         ctx.http().get(&url).send().await?;
///         Ok(())
///     })
///     .await
/// }
///
/// let record = JourneyTest::new().config("base", "http://127.0.0.1:8080").run(home).unwrap();
/// assert!(record.is_ok(), "{:?}", record.result);
/// assert_eq!(record.statuses(), [Some(200)]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct JourneyTest {
    row: Option<Row>,
    config: Config,
    http: HttpSettings,
    tls: TlsOptions,
}

impl JourneyTest {
    /// The empty row, an empty configuration, the engine's default timeouts and TLS checks.
    pub fn new() -> JourneyTest {
        JourneyTest::default()
    }

    /// The row of arguments the journey gets.
    pub fn row(mut self, row: Row) -> JourneyTest {
        self.row = Some(row);
        self
    }

    /// Sets configuration `key` (what `ctx.config().get(key)` returns).
    pub fn config(mut self, key: &str, value: impl Into<String>) -> JourneyTest {
        self.config.set(key, value);
        self
    }

    /// Replaces the whole configuration.
    pub fn with_config(mut self, config: Config) -> JourneyTest {
        self.config = config;
        self
    }

    /// The per-request timeout (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> JourneyTest {
        self.http.request_timeout = timeout;
        self
    }

    /// TLS checks (a private CA, or none at all).
    pub fn tls(mut self, tls: TlsOptions) -> JourneyTest {
        self.tls = tls;
        self
    }

    /// Runs `journey` once on this thread and returns what it did. `Err` only when the run
    /// could not start (no I/O driver, a bad TLS option); a failing journey is `Ok` with
    /// `record.result` set to its error.
    pub fn run<F>(self, journey: F) -> Result<JourneyRecord, RunError>
    where
        F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
    {
        let mut registry = Registry::default();
        registry.journey(JOURNEY_NAME, journey);
        self.run_registered(&registry, JOURNEY_NAME)
    }

    /// Runs the journey registered as `name` in `registry` once (e.g. a scenario file's).
    pub fn run_registered(self, registry: &Registry, name: &str) -> Result<JourneyRecord, RunError> {
        let journey = registry.find_journey(name)?;
        let tls = crate::http::tls::client_config(&self.tls)?;
        let (mut runtime, _fallback) = CoreRuntime::build(DriverChoice::Auto).map_err(RunError::Runtime)?;
        let row = self.row.unwrap_or_else(Row::empty);
        let (config, http) = (Arc::new(self.config), Arc::new(self.http));
        Ok(runtime.block_on(async move {
            let client = HttpClient::new(http, Some(tls));
            let mut shard = Shard::new(0, 1, config, client, false, Instant::now());
            shard.recorder = Some(Recorder::default());
            let shard = Rc::new(shard);
            let ctx = Ctx::new(shard.clone(), name);
            let result = journey.run_once(&ctx, row).await;
            let mut record = shard.recorder.as_ref().map(|r| r.take()).unwrap_or_default();
            if let Err(err) = &result {
                record.errors.push(err.to_string());
            }
            record.result = result.map_err(|e| e.to_string());
            record
        }))
    }
}

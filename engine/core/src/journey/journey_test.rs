//! [`JourneyTest`]: runs one journey with one row and a configuration on the calling thread,
//! without starting the engine's cores or its stats thread, and returns its
//! [`JourneyRecord`] (Mite's `run_single_journey`).

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::driver::{CoreRuntime, DriverChoice, DriverError};
use crate::http::client::HttpClient;
use crate::http::tls::TlsSetupError;
use crate::http::{HttpSettings, TlsOptions};
use crate::journey::record::{JourneyFailure, JourneyRecord, Recorder};
use crate::journey::shard::Shard;
use crate::journey::{Ctx, JourneyResult, Registry, UnknownName};
use crate::model::config::Config;
use crate::model::datapool::Row;

/// A journey test that could not start.
#[derive(Debug, thiserror::Error)]
pub enum JourneyTestError {
    /// The registry has no journey by that name.
    #[error(transparent)]
    UnknownJourney(#[from] UnknownName),
    /// A TLS option cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// No I/O driver could start.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

/// Name the journey under test is recorded under (its root transaction).
const JOURNEY_NAME: &str = "journey";

/// Runs one journey once, with one row and a configuration, from a plain `#[test]`.
///
/// ```no_run
/// use mite_core::journey::journey_test::JourneyTest;
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
    pub fn run<F>(self, journey: F) -> Result<JourneyRecord, JourneyTestError>
    where
        F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
    {
        let mut registry = Registry::default();
        registry.journey(JOURNEY_NAME, journey);
        self.run_registered(&registry, JOURNEY_NAME)
    }

    /// Runs the journey registered as `name` in `registry` once (e.g. a scenario file's).
    pub fn run_registered(self, registry: &Registry, name: &str) -> Result<JourneyRecord, JourneyTestError> {
        let journey = registry.find_journey(name)?;
        let tls = crate::http::tls::client_config(&self.tls)?;
        let (mut runtime, _fallback) = CoreRuntime::build(DriverChoice::Auto)?;
        let row = self.row.unwrap_or_else(Row::empty);
        let (config, http) = (Arc::new(self.config), Arc::new(self.http));
        Ok(runtime.block_on(async move {
            let client = HttpClient::new(http, Some(tls));
            let mut shard = Shard::new(0, 1, config, client, Instant::now());
            shard.recorder = Some(Recorder::default());
            let shard = Rc::new(shard);
            let ctx = Ctx::new(shard.clone(), name);
            let result = journey.run_once(&ctx, row).await;
            let mut record = shard.recorder.as_ref().map(|r| r.take()).unwrap_or_default();
            if let Err(err) = &result {
                record.errors.push(err.to_string());
            }
            record.result = result.map_err(|e| JourneyFailure::of(&e));
            record
        }))
    }
}

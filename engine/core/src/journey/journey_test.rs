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

/// Runs one journey once, with one row and a configuration, from a plain `#[test]` (Mite's
/// `run_single_journey`), and returns what it did: requests, transactions, messages, errors.
///
/// ```
/// use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// // `target`: the embedded target server, `mite_engine::testing::target()` in a user crate
///
/// async fn home(ctx: &Ctx, row: Row) -> JourneyResult {
///     let url = ctx.config().get_or("base", "http://127.0.0.1:8080").to_string() + "/";
///     ctx.transaction("home", async {
///         ctx.http().get(&url).send().await?;
///         ctx.send("visit", &[("user", &row.get(0).unwrap_or("-"))]);
///         Ok(())
///     })
///     .await
/// }
///
/// let test = JourneyTest::new().config("base", target.url("")).row(Row::new(["ann"]));
/// let record = test.run(home).unwrap();
/// assert!(record.is_ok(), "{:?}", record.result);
/// assert_eq!(record.statuses(), [Some(200)]);
/// assert_eq!((record.transactions[0].name.as_str(), record.messages[0].kind.as_str()), ("home", "visit"));
/// assert_eq!(target.hits(), 1); // the target's own count agrees
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
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, row: Row) -> JourneyResult {
    ///     ctx.send("row", &[("values", &row.len()), ("keys", &ctx.config().iter().count())]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().run(journey).unwrap();
    /// assert_eq!(record.messages[0].fields, [("values".into(), "0".into()), ("keys".into(), "0".into())]);
    /// ```
    pub fn new() -> JourneyTest {
        JourneyTest::default()
    }

    /// The row of arguments the journey gets.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, row: Row) -> JourneyResult {
    ///     ctx.send("user", &[("name", &row.by_name("user").unwrap_or("?"))]);
    ///     Ok(())
    /// }
    ///
    /// let row = Row::with_columns(vec!["ann".into()], vec!["user".to_string()].into());
    /// let record = JourneyTest::new().row(row).run(journey).unwrap();
    /// assert_eq!(record.messages[0].fields[0].1, "ann");
    /// ```
    pub fn row(mut self, row: Row) -> JourneyTest {
        self.row = Some(row);
        self
    }

    /// Sets configuration `key` (what `ctx.config().get(key)` returns).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get("base").ok_or_else(|| JourneyError::msg("no base"))?;
    ///     ctx.send("base", &[("url", &base)]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("base", "http://shop").run(journey).unwrap();
    /// assert_eq!(record.messages[0].fields[0].1, "http://shop");
    /// assert_eq!(JourneyTest::new().run(journey).unwrap().result.unwrap_err().message, "no base");
    /// ```
    pub fn config(mut self, key: &str, value: impl Into<String>) -> JourneyTest {
        self.config.set(key, value);
        self
    }

    /// Replaces the whole configuration.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.send("keys", &[("n", &ctx.config().iter().count())]);
    ///     Ok(())
    /// }
    ///
    /// let mut config = Config::default();
    /// config.apply_overrides(&["base=http://shop", "users=3"]).unwrap();
    /// let record = JourneyTest::new().config("dropped", "x").with_config(config).run(journey).unwrap();
    /// assert_eq!(record.messages[0].fields[0].1, "2");
    /// ```
    pub fn with_config(mut self, config: Config) -> JourneyTest {
        self.config = config;
        self
    }

    /// The per-request timeout (default 30 s).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// // `target`: the embedded target server, `mite_engine::testing::target()` in a user crate
    /// async fn slow(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.http().get(&format!("{}/delay/2000", ctx.config().get_or("base", ""))).send().await?;
    ///     Ok(())
    /// }
    ///
    /// let test = JourneyTest::new().config("base", target.url("")).timeout(std::time::Duration::from_millis(100));
    /// let record = test.run(slow).unwrap();
    /// assert_eq!(record.result.unwrap_err().kind.map(|kind| kind.name()), Some("timeout"));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> JourneyTest {
        self.http.request_timeout = timeout;
        self
    }

    /// TLS checks (a private CA, or none at all).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    ///
    /// async fn journey(_ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     Ok(())
    /// }
    ///
    /// let ca = TlsOptions { ca_file: Some("/no/such/ca.pem".into()), ..TlsOptions::default() };
    /// let err = JourneyTest::new().tls(ca).run(journey).unwrap_err(); // the test cannot start
    /// assert!(err.to_string().contains("/no/such/ca.pem"), "{err}");
    /// ```
    pub fn tls(mut self, tls: TlsOptions) -> JourneyTest {
        self.tls = tls;
        self
    }

    /// Runs `journey` once on this thread and returns what it did. `Err` only when the run
    /// could not start (no I/O driver, a bad TLS option); a failing journey is `Ok` with
    /// `record.result` set to its error.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.transaction("pay", async { Err(JourneyError::msg("declined")) }).await
    /// }
    ///
    /// let record = JourneyTest::new().run(journey).unwrap(); // Ok: the test ran
    /// assert!(!record.is_ok());
    /// assert_eq!(record.result.unwrap_err().message, "declined");
    /// assert_eq!(record.transactions[0].error.as_deref(), Some("declined"));
    /// ```
    pub fn run<F>(self, journey: F) -> Result<JourneyRecord, JourneyTestError>
    where
        F: AsyncFn(&Ctx, Row) -> JourneyResult + Copy + Send + Sync + 'static,
    {
        let mut registry = Registry::default();
        registry.journey(JOURNEY_NAME, journey);
        self.run_registered(&registry, JOURNEY_NAME)
    }

    /// Runs the journey registered as `name` in `registry` once (e.g. a scenario file's).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn browse(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.transaction("home", async { Ok(()) }).await
    /// }
    ///
    /// let mut registry = Registry::default();
    /// registry.journey("shop:browse", browse);
    /// let record = JourneyTest::new().run_registered(&registry, "shop:browse").unwrap();
    /// assert_eq!(record.transactions[0].name, "home");
    /// let err = JourneyTest::new().run_registered(&registry, "shop:brwose").unwrap_err();
    /// assert!(err.to_string().contains("did you mean shop:browse?"), "{err}");
    /// ```
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

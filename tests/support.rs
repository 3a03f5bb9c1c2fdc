//! What the end-to-end tests share: run a scenario quietly, run the example GET journey against a
//! local target, load a scenario file written into a temporary directory, and check the engine's
//! request count against the target's own.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use mite_core::run::layered_config;
use mite_core::stats::TxnStats;
use mite_core::{Config, Registry, RunOptions, RunResult, Scenario, ScenarioEntry, VolumeModel};

/// The journey most tests drive: one GET of its `target_url` config per journey run.
pub const GET_JOURNEY: &str = "http_example:journey";

/// Runs `scenario` with `config` overrides and returns the result.
pub fn run(registry: &Registry, scenario: Scenario, overrides: &[String], options: RunOptions) -> RunResult {
    let config = layered_config(&scenario.config, overrides).expect("config");
    let stop = Arc::new(AtomicBool::new(false));
    mite_core::run_scenario(registry, scenario, config, &options, stop, &mut |_| {}).expect("run")
}

/// Runs [`GET_JOURNEY`] with `target_url=url` from the example registry.
pub fn get(url: &str, volume: VolumeModel, options: RunOptions) -> RunResult {
    run(&mite_journeys::registry(), scenario(GET_JOURNEY, volume), &[format!("target_url={url}")], options)
}

/// Options for tests: unpinned (tests share the machine), short tick.
pub fn options(cores: usize, duration: Duration) -> RunOptions {
    RunOptions {
        cores: (0..cores).collect(),
        duration: Some(duration),
        tick: Duration::from_millis(200),
        grace: Duration::from_secs(2),
        pin: false,
        ..RunOptions::default()
    }
}

/// A one-entry scenario.
pub fn scenario(journey: &str, volume: VolumeModel) -> Scenario {
    Scenario {
        name: format!("test:{journey}"),
        entries: vec![ScenarioEntry { journey: journey.into(), datapool: None, volume }],
        config: Config::default(),
    }
}

/// Checks that the target received exactly the requests the engine says it wrote (an
/// independent count: the engine's `requests` against the target's parsed requests), and
/// returns the run's totals for further checks.
#[track_caller]
pub fn assert_target_saw_every_request(result: &RunResult, target_hits: u64) -> TxnStats {
    let total = result.merged.total();
    assert_eq!(
        total.requests(),
        target_hits,
        "the engine says it wrote {} requests ({} ok, {} failed, {} of the failures never sent); the target received {}: {:?}",
        total.requests(),
        total.req_ok,
        total.req_errors(),
        total.not_sent,
        target_hits,
        result.merged.error_samples
    );
    total
}

/// A temporary directory for scenario files and their data, removed when dropped.
pub struct ScenarioDir {
    dir: tempfile::TempDir,
}

impl ScenarioDir {
    /// A new, empty directory.
    pub fn new() -> ScenarioDir {
        ScenarioDir { dir: tempfile::tempdir().expect("a temporary directory") }
    }

    /// Writes `text` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for ScenarioDir {
    fn default() -> Self {
        Self::new()
    }
}

/// Loads the scenario file at `path` (journeys from the example registry) and runs it.
pub fn run_file(path: &Path, overrides: &[String], options: RunOptions) -> RunResult {
    let loaded = mite_core::scenario::file::load(path, &mite_journeys::registry(), overrides)
        .unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
    run(&loaded.registry, loaded.scenario, overrides, options)
}

/// A scenario file shipped in `journeys/scenarios/`.
pub fn shipped_scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../journeys/scenarios").join(name)
}

/// The target in its own process (`tests/target_main.rs`), optionally pinned to one core, so
/// that its work is neither counted nor scheduled as the engine's. Stops when dropped.
pub struct TargetProcess {
    child: Child,
    addr: String,
}

impl TargetProcess {
    /// Starts `exe` (the test's `env!("CARGO_BIN_EXE_mite-test-target")`) and waits for its
    /// address; `pin`: the core its server thread is pinned to.
    pub fn start(exe: &str, pin: Option<usize>) -> TargetProcess {
        let mut command = Command::new(exe);
        if let Some(core) = pin {
            command.arg("--pin").arg(core.to_string());
        }
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("start the target process");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("the target's stdout")).read_line(&mut line).unwrap();
        let addr = line.trim().to_string();
        assert!(!addr.is_empty(), "the target process printed no address");
        TargetProcess { child, addr }
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the target and returns the requests it received.
    pub fn stop(mut self) -> u64 {
        drop(self.child.stdin.take());
        let mut rest = String::new();
        self.child.stdout.take().expect("the target's stdout").read_to_string(&mut rest).unwrap();
        let _ = self.child.wait();
        let hits = rest.lines().find_map(|l| l.strip_prefix("hits "));
        hits.and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the target process did not report its hits: {rest:?}"))
    }
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Two different cores this process may run on (the injector's, the target's), when it may
/// run on two or more and at least two of them are idle (the 1-minute load average leaves two
/// free). Pinning isolates the two on a quiet machine; on a busy one it would tie each to a
/// core that other work holds (measured: p50 of a 20 ms delay 20.7-22.5 ms pinned against
/// 20.4-20.6 ms unpinned, at a load average of 6 on 2 cores), so there it is not done.
pub fn two_quiet_cores() -> Option<(usize, usize)> {
    let ids = core_affinity::get_core_ids()?;
    let load: f64 = std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()?;
    match ids.as_slice() {
        [first, second, ..] if load + 2.0 <= ids.len() as f64 => Some((first.id, second.id)),
        _ => None,
    }
}

/// A global allocator that counts every allocation and reallocation (and defers to the
/// system's): a test binary declares `#[global_allocator] static GLOBAL: CountingAllocator =
/// CountingAllocator;` and reads [`allocations`] around the work it measures.
pub struct CountingAllocator;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Allocations counted so far in this process.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

// SAFETY: defers to the system allocator; only counts.
#[allow(unsafe_code)] // a global allocator is an unsafe trait: the counting is the test.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// The plain target (counting its routes) or the TLS one, for tests that run the same routes
/// over both.
pub enum Server {
    /// The plain-HTTP target.
    Plain(mite_tools::Target),
    /// The TLS target (test CA: [`Server::options`] trusts it).
    Tls(mite_tools::TlsTarget),
}

impl Server {
    /// A plain target that counts its routes.
    pub fn plain() -> Server {
        let options = mite_tools::TargetOptions { count_routes: true, ..mite_tools::TargetOptions::default() };
        Server::Plain(mite_tools::Target::start(options).expect("start the plain target"))
    }

    /// A TLS target.
    pub fn tls() -> Server {
        Server::Tls(mite_tools::TlsTarget::start().expect("start the TLS target"))
    }

    /// `http://` or `https://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        match self {
            Server::Plain(target) => target.url(path),
            Server::Tls(target) => target.url(path),
        }
    }

    /// Complete requests the target received.
    pub fn hits(&self) -> u64 {
        match self {
            Server::Plain(target) => target.hits(),
            Server::Tls(target) => target.hits(),
        }
    }

    /// Connections the target accepted.
    pub fn connections(&self) -> u64 {
        match self {
            Server::Plain(target) => target.connections(),
            Server::Tls(target) => target.connections(),
        }
    }

    /// Requests to `path` (all of them for the TLS target, which counts no routes).
    pub fn route_hits(&self, path: &str) -> u64 {
        match self {
            Server::Plain(target) => target.route_hits(path),
            Server::Tls(target) => target.hits(),
        }
    }

    /// [`options`] for one core and 20 s on `driver`, trusting the TLS target's CA.
    pub fn options(&self, driver: mite_core::DriverChoice) -> RunOptions {
        let mut opts = options(1, Duration::from_secs(20));
        opts.driver = driver;
        if let Server::Tls(_) = self {
            opts.tls.ca_file = Some(mite_tools::tls_server::CA_PATH.into());
        }
        opts
    }
}

/// A WebSocket journey: connects to config `ws_url`, sends one message, waits for one, and
/// closes, in transaction `hostile`.
pub async fn ws_one_exchange(ctx: &mite_core::Ctx, _args: mite_core::Row) -> mite_core::JourneyResult {
    let url = ctx.config().get_or("ws_url", "");
    ctx.transaction("hostile", async {
        let mut ws = ctx.websocket().connect(url).await?;
        ws.send_text("hello").await?;
        ws.receive().await?;
        ws.close().await?;
        Ok(())
    })
    .await
}

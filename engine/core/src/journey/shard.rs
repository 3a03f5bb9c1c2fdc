//! One core's state: its HTTP client, its transaction table and counters, its configuration.
//! Owned by that core's thread only; journeys reach it through their [`Ctx`](crate::journey::Ctx).

use rustc_hash::FxHashMap as HashMap;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Instant;

use crate::driver::{Moment, thread_cpu_us};
use crate::http::HttpClient;
use crate::journey::trace::TraceSink;
use crate::limits::{MESSAGE_TYPES_MAX, TRANSACTIONS_MAX};
use crate::model::config::Config;
use crate::stats::{ErrorKind, JourneyCounts, Latencies, Snapshot, TxnStats};
use crate::stats::{InjectorLoad, RecordedValues};

/// Index of a transaction in a core's table.
pub type TxnId = u32;

/// Name of the transaction that collects what overflows `TRANSACTIONS_MAX`.
const OVERFLOW_TXN: &str = "(too many transaction names)";

struct TxnSlot {
    name: Arc<str>,
    /// Counters; its histograms stay empty on a core (latencies go to `latencies`).
    stats: TxnStats,
    latencies: Latencies,
    requests_in_flight: u64,
    /// WebSocket waits on the server (request/reply exchanges, close handshakes) in progress.
    ws_waits_in_flight: u64,
}

/// Transaction names interned to ids, and their stats for the current interval.
pub(crate) struct ShardStats {
    roots: HashMap<Box<str>, TxnId>,
    /// The id `root` found last (a transaction begun again and again, as a journey's step is,
    /// is found by comparing its name, without hashing it); `TxnId::MAX`: none yet.
    last_root: TxnId,
    children: Vec<HashMap<Box<str>, TxnId>>,
    txns: Vec<TxnSlot>,
    pub journeys: JourneyCounts,
    messages: HashMap<Arc<str>, u64>,
    overflow: Option<TxnId>,
    sampled: Vec<&'static str>,
    samples: Vec<(&'static str, String)>,
    /// The injector's own lag and load this interval.
    pub injector: InjectorLoad,
    /// Thread CPU time and wall clock at the start of the interval.
    busy_mark: Option<(u64, Instant)>,
}

impl Default for ShardStats {
    fn default() -> Self {
        ShardStats {
            roots: HashMap::default(),
            last_root: TxnId::MAX,
            children: Vec::new(),
            txns: Vec::new(),
            journeys: JourneyCounts::default(),
            messages: HashMap::default(),
            overflow: None,
            sampled: Vec::new(),
            samples: Vec::new(),
            injector: InjectorLoad::default(),
            busy_mark: None,
        }
    }
}

impl ShardStats {
    /// Adds a transaction, or returns the overflow row once the table is full.
    fn add(&mut self, name: Arc<str>) -> TxnId {
        if self.txns.len() >= TRANSACTIONS_MAX {
            if let Some(id) = self.overflow {
                return id;
            }
            let id = self.push(Arc::from(OVERFLOW_TXN));
            self.overflow = Some(id);
            return id;
        }
        self.push(name)
    }

    fn push(&mut self, name: Arc<str>) -> TxnId {
        let id = self.txns.len() as TxnId;
        self.txns.push(TxnSlot {
            name,
            stats: TxnStats::default(),
            latencies: Latencies::default(),
            requests_in_flight: 0,
            ws_waits_in_flight: 0,
        });
        self.children.push(HashMap::default());
        id
    }

    /// The id of a top-level name (a journey, or a transaction outside any other).
    pub fn root(&mut self, name: &str) -> TxnId {
        // Every id kept in `last_root` is a root's own (never the overflow row's), whose full
        // name is the name it was found by: the same name is the same id.
        if self.txns.get(self.last_root as usize).is_some_and(|txn| *txn.name == *name) {
            return self.last_root;
        }
        let id = match self.roots.get(name) {
            Some(&id) => id,
            None => {
                let id = self.add(Arc::from(name));
                if Some(id) == self.overflow {
                    return id;
                }
                self.roots.insert(name.into(), id);
                id
            }
        };
        self.last_root = id;
        id
    }

    /// The id of transaction `name` inside `parent` (`outer :: inner`).
    pub fn child(&mut self, parent: TxnId, name: &str) -> TxnId {
        if let Some(&id) = self.children[parent as usize].get(name) {
            return id;
        }
        let full: Arc<str> = format!("{} :: {name}", self.txns[parent as usize].name).into();
        let id = self.add(full);
        if Some(id) != self.overflow {
            self.children[parent as usize].insert(name.into(), id);
        }
        id
    }

    /// The full name of transaction `id` (`outer :: inner`).
    pub fn name(&self, id: TxnId) -> &Arc<str> {
        &self.txns[id as usize].name
    }

    pub fn txn(&mut self, id: TxnId) -> &mut TxnStats {
        &mut self.txns[id as usize].stats
    }

    /// Transaction `id`'s counters and its latencies (what a core records latencies into).
    pub fn txn_latencies(&mut self, id: TxnId) -> (&mut TxnStats, &mut Latencies) {
        let slot = &mut self.txns[id as usize];
        (&mut slot.stats, &mut slot.latencies)
    }

    pub fn request_started(&mut self, id: TxnId) {
        self.txns[id as usize].requests_in_flight += 1;
    }

    pub fn request_finished(&mut self, id: TxnId) {
        self.txns[id as usize].requests_in_flight -= 1;
    }

    pub fn ws_wait_started(&mut self, id: TxnId) {
        self.txns[id as usize].ws_waits_in_flight += 1;
    }

    pub fn ws_wait_finished(&mut self, id: TxnId) {
        let slot = &mut self.txns[id as usize];
        slot.ws_waits_in_flight = slot.ws_waits_in_flight.saturating_sub(1);
    }

    pub fn message(&mut self, kind: &str) {
        if let Some(count) = self.messages.get_mut(kind) {
            *count += 1;
        } else if self.messages.len() < MESSAGE_TYPES_MAX {
            self.messages.insert(Arc::from(kind), 1);
        }
    }

    /// Keeps the first error message of each kind this core sees.
    pub fn sample_error(&mut self, kind: &'static str, text: impl FnOnce() -> String) {
        if !self.sampled.contains(&kind) {
            self.sampled.push(kind);
            self.samples.push((kind, text()));
        }
    }

    /// Requests and WebSocket waits on a server in flight on this core, all transactions.
    pub fn in_flight(&self) -> u64 {
        self.txns.iter().map(|slot| slot.requests_in_flight + slot.ws_waits_in_flight).sum()
    }

    /// Requests still in flight are counted as cancelled (called once, when the core stops).
    /// They are sampled as any other error is, so that a count of `cancelled` is never without
    /// its words.
    pub fn cancel_in_flight(&mut self) {
        let (mut requests, mut waits) = (0, 0);
        for slot in &mut self.txns {
            requests += slot.requests_in_flight;
            waits += slot.ws_waits_in_flight;
            slot.stats.add_errors(ErrorKind::Cancelled, std::mem::take(&mut slot.requests_in_flight));
            slot.stats.ws.errors[ErrorKind::Cancelled as usize] += std::mem::take(&mut slot.ws_waits_in_flight);
        }
        if requests + waits > 0 {
            self.sample_error(ErrorKind::Cancelled.name(), || cancelled_words(requests, waits));
        }
    }

    /// Starts measuring how busy this core's thread is (call on the core's own thread).
    pub fn mark_busy_start(&mut self) {
        self.busy_mark = Some((thread_cpu_us(), Instant::now()));
    }

    /// Takes this interval's stats into a snapshot, leaving fresh ones. The journey gauges
    /// are the caller's to fill in.
    pub fn take_snapshot(&mut self, core: usize, elapsed_s: f64, tick: u64, last: bool) -> Snapshot {
        let mut txns = Vec::new();
        let mut recorded = Vec::new();
        for slot in &mut self.txns {
            if !slot.stats.is_empty() {
                // The walk over each latency's counts happens here, on this core, so that the
                // stats thread only adds the values recorded; the counts' memory stays here.
                let (counters, values) = slot.stats.take_interval();
                debug_assert!(values.iter().all(RecordedValues::is_empty), "a core records latencies as slot counts");
                recorded.push(slot.latencies.take());
                txns.push((slot.name.clone(), counters));
            }
        }
        if let Some((cpu_us, at)) = self.busy_mark {
            let (cpu_now_us, now) = (thread_cpu_us(), Instant::now());
            let wall_us = u64::try_from(now.duration_since(at).as_micros()).unwrap_or(u64::MAX);
            self.injector.record_busy(cpu_now_us.saturating_sub(cpu_us), wall_us);
            self.busy_mark = Some((cpu_now_us, now));
        }
        let messages =
            self.messages.iter_mut().filter(|(_, c)| **c > 0).map(|(k, c)| (k.clone(), std::mem::take(c))).collect();
        Snapshot {
            core,
            elapsed_s,
            tick,
            txns,
            recorded,
            journeys: std::mem::take(&mut self.journeys),
            journeys_in_flight: 0,
            journeys_target: 0,
            messages,
            error_samples: std::mem::take(&mut self.samples),
            injector: std::mem::take(&mut self.injector),
            last,
            completed: false,
            phase: crate::stats::Phase::Run,
        }
    }
}

/// The sample of the `cancelled` errors a stopping core counts.
fn cancelled_words(requests: u64, waits: u64) -> String {
    let counted = crate::journey::trace::counted;
    let what = match (requests, waits) {
        (r, 0) => counted(r, "request"),
        (0, w) => counted(w, "WebSocket wait"),
        (r, w) => format!("{} and {}", counted(r, "request"), counted(w, "WebSocket wait")),
    };
    format!(
        "{what} still in flight when the core stopped (the grace ended, or the run was interrupted, before the answer)"
    )
}

/// Everything a core owns. Built on the core's own thread, after pinning.
pub struct Shard {
    /// This core's position among the run's cores.
    pub index: usize,
    /// How many cores the run uses.
    pub cores: usize,
    /// Configuration journeys read.
    pub config: Arc<Config>,
    /// The core's HTTP client.
    pub http: HttpClient,
    pub(crate) stats: RefCell<ShardStats>,
    /// Where a readable trace of every transaction and request goes (journey test); `None`
    /// in load runs.
    pub(crate) trace: Option<TraceSink>,
    /// Journey test: what the jar did with the last response's `Set-Cookie` fields, said after
    /// that response's own line of the trace (empty when not tracing).
    pub(crate) cookie_lines: RefCell<Vec<String>>,
    /// Set when the run is stopping: journeys are not restarted.
    pub(crate) stopping: Cell<bool>,
    /// When the run started.
    pub started: Instant,
    /// What the journey did, kept for a journey author's test (`JourneyTest`); `None` in runs.
    pub(crate) recorder: Option<crate::journey::record::Recorder>,
    /// When the last response on this core came whole, set by its exchange and cleared as
    /// each transaction polls its body and as each slot polls its journey: still set when the
    /// body ends, the body ended in the turn (of its own task: nothing else runs within a
    /// poll) that response came in, and the transaction ends then too (one clock read for
    /// both); still set when the journey ends, the slot's next journey starts then.
    pub(crate) last_response_end: Cell<Option<Moment>>,
    /// The wakers of this core's journey slots: the stop has every journey polled once more.
    pub(crate) slot_wakers: RefCell<crate::journey::slot::SlotWakers>,
}

impl Shard {
    /// A core's state.
    pub fn new(index: usize, cores: usize, config: Arc<Config>, http: HttpClient, started: Instant) -> Shard {
        Shard {
            index,
            cores,
            config,
            http,
            stats: RefCell::default(),
            trace: None,
            cookie_lines: RefCell::default(),
            stopping: Cell::new(false),
            started,
            recorder: None,
            last_response_end: Cell::new(None),
            slot_wakers: RefCell::default(),
        }
    }

    /// Sends a readable trace of every transaction, request and message to `sink` (the
    /// journey test's; the engine itself never prints).
    pub fn with_trace(mut self, sink: TraceSink) -> Shard {
        self.trace = Some(sink);
        self
    }

    /// Adds to the journey test's record, when there is one (nothing in load runs: inlined,
    /// a load run's request pays one test of `recorder`, not a call).
    #[inline]
    pub(crate) fn record(&self, add: impl FnOnce(&mut crate::journey::record::JourneyRecord)) {
        if let Some(recorder) = &self.recorder {
            add_to_record(recorder, add);
        }
    }
}

/// Adds to a journey test's record (out of line: only journey tests record).
#[cold]
fn add_to_record(
    recorder: &crate::journey::record::Recorder,
    add: impl FnOnce(&mut crate::journey::record::JourneyRecord),
) {
    add(&mut recorder.borrow_mut());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `root` answers from the last id it found when the name is the same, and from the table
    /// otherwise: the same ids either way, whatever order names come in.
    #[test]
    fn roots_found_again_keep_their_ids() {
        let mut stats = ShardStats::default();
        let a = stats.root("a");
        assert_eq!(stats.root("a"), a);
        let b = stats.root("b");
        assert_ne!(a, b);
        assert_eq!((stats.root("a"), stats.root("b"), stats.root("b"), stats.root("a")), (a, b, b, a));
        // A child's full name may be a root's name too: they stay two transactions.
        let child = stats.child(a, "b");
        assert_eq!(&**stats.name(child), "a :: b");
        let root = stats.root("a :: b");
        assert_ne!(root, child);
        assert_eq!((stats.child(a, "b"), stats.root("a :: b")), (child, root));
    }

    /// Requests in flight when a core stopped were counted `cancelled` with no sample: a run
    /// failed with 4 request errors and empty error samples, which nothing could explain.
    #[test]
    fn requests_cancelled_at_the_stop_are_sampled() {
        let mut stats = ShardStats::default();
        let id = stats.root("home");
        for _ in 0..4 {
            stats.request_started(id);
        }
        stats.ws_wait_started(id);
        stats.cancel_in_flight();
        let snapshot = stats.take_snapshot(0, 1.0, 1, true);
        assert_eq!(snapshot.txns[0].1.errors_of(ErrorKind::Cancelled), 4);
        let said = "4 requests and 1 WebSocket wait still in flight when the core stopped (the grace ended, or the \
                    run was interrupted, before the answer)";
        assert_eq!(snapshot.error_samples, [("cancelled", said.to_string())]);
        assert_eq!(cancelled_words(1, 0).split(" still").next(), Some("1 request"));
        let mut idle = ShardStats::default();
        idle.root("home");
        idle.cancel_in_flight();
        assert!(idle.take_snapshot(0, 1.0, 1, true).error_samples.is_empty());
    }

    /// A core's latencies (slot counts) travel in the snapshot of their interval, once, in
    /// `TxnStats::histograms_mut` order, and build the histograms `record_latency` would.
    #[test]
    fn latencies_travel_once_in_their_intervals_snapshot() {
        use crate::stats::{Latency, LatencyHistogram, new_latency_histogram, record_latency};
        let mut stats = ShardStats::default();
        let id = stats.root("home");
        let (counters, latencies) = stats.txn_latencies(id);
        counters.req_ok += 1;
        for us in [0, 700, 700, 90_000, u64::MAX] {
            latencies.record(Latency::Req, us);
        }
        latencies.record(Latency::Txn, 1_234);
        let snapshot = stats.take_snapshot(0, 1.0, 1, false);
        assert_eq!(snapshot.txns.len(), 1);
        let [txn, _, req, ..] = &snapshot.recorded[0];
        let (mut built, mut expected) = (LatencyHistogram::new(), new_latency_histogram());
        req.add_to(&mut built);
        for us in [0, 700, 700, 90_000, u64::MAX] {
            record_latency(&mut expected, us);
        }
        assert_eq!(*built, expected);
        assert_eq!(txn.pairs().len(), 1);
        assert!(snapshot.recorded[0].iter().skip(3).all(RecordedValues::is_empty));
        stats.txn(id).req_ok += 1;
        let next = stats.take_snapshot(0, 2.0, 2, false);
        assert!(next.recorded[0].iter().all(RecordedValues::is_empty), "counted once");
    }

    /// Past `TRANSACTIONS_MAX` names go to the overflow row; a root named like that row keeps
    /// its own id, also right after a name went to the overflow row.
    #[test]
    fn the_overflow_row_is_never_taken_for_a_root_of_the_same_name() {
        let mut stats = ShardStats::default();
        let named_like_it = stats.root(OVERFLOW_TXN);
        for i in stats.txns.len()..TRANSACTIONS_MAX {
            stats.root(&format!("t{i}"));
        }
        let overflow = stats.root("one too many");
        assert_ne!(overflow, named_like_it);
        assert_eq!(&**stats.name(overflow), OVERFLOW_TXN);
        assert_eq!(stats.root(OVERFLOW_TXN), named_like_it);
        assert_eq!(stats.root("another"), overflow);
        assert_eq!(stats.root("t5"), 5);
    }
}

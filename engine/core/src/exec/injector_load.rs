//! The injector's own delay and load: how long a woken task waits before its core polls it
//! (event-loop lag, sampled), and how busy each core's thread is. A user reads these to tell
//! the server's latency from the injector's.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::stats::{new_latency_histogram, record_latency};

/// How often each core measures its own lag.
pub const LAG_PROBE_INTERVAL: Duration = Duration::from_millis(10);
/// A core busy at least this share of an interval is saturated.
pub const SATURATED_BUSY_PERCENT: f64 = 95.0;
/// Lag at p99 of at least this share of the reported request p50 means the latencies carry a
/// significant part of injector delay.
pub const SATURATED_LAG_SHARE: f64 = 0.2;
/// Lags below this are never called significant (timer and scheduling noise).
pub const SATURATED_LAG_US_MIN: u64 = 200;

/// The injector's load over an interval (one core's, or merged).
#[derive(Clone, Debug)]
pub struct InjectorLoad {
    /// Sampled event-loop lag: from a task waking until its core polled it, µs.
    pub lag_us: Histogram<u64>,
    /// CPU time the core threads used (user + system), µs.
    pub busy_us: u64,
    /// Wall time those threads were measured over, µs.
    pub wall_us: u64,
    /// The highest busy share of one core over one interval, percent.
    pub busy_percent_max: f64,
}

impl Default for InjectorLoad {
    fn default() -> Self {
        InjectorLoad { lag_us: new_latency_histogram(), busy_us: 0, wall_us: 0, busy_percent_max: 0.0 }
    }
}

impl InjectorLoad {
    /// Records one lag sample.
    pub fn record_lag(&mut self, lag: Duration) {
        record_latency(&mut self.lag_us, u64::try_from(lag.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one core's busy time over `wall_us`.
    pub fn record_busy(&mut self, busy_us: u64, wall_us: u64) {
        self.busy_us += busy_us;
        self.wall_us += wall_us;
        if wall_us > 0 {
            self.busy_percent_max = self.busy_percent_max.max(percent(busy_us, wall_us));
        }
    }

    /// Mean busy share of the cores, percent.
    pub fn busy_percent_mean(&self) -> f64 {
        if self.wall_us == 0 { 0.0 } else { percent(self.busy_us, self.wall_us) }
    }

    /// Lag at quantile `q`, µs (0 when nothing was sampled).
    pub fn lag_at(&self, q: f64) -> u64 {
        if self.lag_us.is_empty() { 0 } else { self.lag_us.value_at_quantile(q) }
    }

    /// Whether the injector was saturated against requests whose median was `request_p50_us`:
    /// a core busy at least `SATURATED_BUSY_PERCENT`, or a p99 lag that is a significant share
    /// of the median latency it reports.
    pub fn saturated(&self, request_p50_us: u64) -> bool {
        let lag = self.lag_at(0.99);
        let lag_significant = request_p50_us > 0
            && lag >= SATURATED_LAG_US_MIN
            && lag as f64 >= SATURATED_LAG_SHARE * request_p50_us as f64;
        self.busy_percent_max >= SATURATED_BUSY_PERCENT || lag_significant
    }

    /// Adds `other` into `self`; lag histograms merge losslessly.
    pub fn merge(&mut self, other: &InjectorLoad) {
        self.lag_us.add(&other.lag_us).expect("auto-resizing histograms always merge");
        self.busy_us += other.busy_us;
        self.wall_us += other.wall_us;
        self.busy_percent_max = self.busy_percent_max.max(other.busy_percent_max);
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    (part as f64 * 100.0 / whole as f64).min(100.0)
}

/// CPU time (user + system) the calling thread has used, µs.
pub fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the plain struct passed by pointer and reads nothing else.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000).saturating_add(ts.tv_nsec as u64 / 1_000)
}

/// Remembers when a future's waker was last woken, and passes the wake on to the task.
pub struct WakeStamp {
    base: Instant,
    /// Nanoseconds after `base` of the last wake; `u64::MAX` when none since the last poll.
    woken_ns: AtomicU64,
    task: Mutex<Option<Waker>>,
}

impl WakeStamp {
    /// A stamp with no wake recorded.
    pub fn new() -> Arc<WakeStamp> {
        Arc::new(WakeStamp { base: Instant::now(), woken_ns: AtomicU64::new(u64::MAX), task: Mutex::new(None) })
    }
}

impl Wake for WakeStamp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let ns = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.woken_ns.store(ns, Ordering::Relaxed);
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            task.wake_by_ref();
        }
    }
}

/// Polls `inner` and, when it is ready, answers how long the task waited between the wake that
/// made it ready and this poll: the core's event-loop lag as any woken journey sees it.
pub struct Stamped<'a, F> {
    inner: Pin<&'a mut F>,
    stamp: &'a Arc<WakeStamp>,
}

impl<'a, F: Future> Stamped<'a, F> {
    /// Wraps `inner`; `stamp` is reused across probes (no allocation per probe).
    pub fn new(inner: Pin<&'a mut F>, stamp: &'a Arc<WakeStamp>) -> Self {
        Stamped { inner, stamp }
    }
}

impl<F: Future> Future for Stamped<'_, F> {
    type Output = Duration;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Duration> {
        let polled_at = Instant::now();
        {
            let mut task = self.stamp.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let woken_ns = self.stamp.woken_ns.swap(u64::MAX, Ordering::Relaxed);
        let waker = Waker::from(self.stamp.clone());
        let mut stamped_cx = Context::from_waker(&waker);
        match self.inner.as_mut().poll(&mut stamped_cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) if woken_ns == u64::MAX => Poll::Ready(Duration::ZERO),
            Poll::Ready(_) => {
                let woken_at = self.stamp.base + Duration::from_nanos(woken_ns);
                Poll::Ready(polled_at.saturating_duration_since(woken_at))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_cores_are_saturated() {
        let mut load = InjectorLoad::default();
        load.record_busy(990_000, 1_000_000);
        assert!(load.saturated(1_000));
        assert_eq!(load.busy_percent_mean().round(), 99.0);
    }

    #[test]
    fn lag_that_is_a_large_share_of_latency_is_saturation() {
        let mut load = InjectorLoad::default();
        load.record_busy(100_000, 1_000_000);
        for _ in 0..100 {
            load.record_lag(Duration::from_micros(500));
        }
        assert!(load.saturated(1_000), "500 µs of lag against a 1 ms median");
        assert!(!load.saturated(50_000), "500 µs of lag against a 50 ms median");
    }

    #[test]
    fn small_lag_is_never_significant() {
        let mut load = InjectorLoad::default();
        load.record_lag(Duration::from_micros(50));
        assert!(!load.saturated(100));
    }

    #[test]
    fn merge_keeps_the_busiest_core() {
        let mut a = InjectorLoad::default();
        a.record_busy(500, 1_000);
        let mut b = InjectorLoad::default();
        b.record_busy(970, 1_000);
        b.record_lag(Duration::from_micros(300));
        a.merge(&b);
        assert_eq!(a.busy_percent_max.round(), 97.0);
        assert_eq!(a.busy_percent_mean().round(), 74.0);
        assert_eq!(a.lag_us.len(), 1);
    }

    #[test]
    fn stamped_measures_from_the_wake_to_the_poll() {
        struct WokenLater(u8);
        impl Future for WokenLater {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
                self.0 += 1;
                if self.0 == 1 {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }
        }
        let stamp = WakeStamp::new();
        let mut inner = std::pin::pin!(WokenLater(0));
        let mut stamped = std::pin::pin!(Stamped::new(inner.as_mut(), &stamp));
        let noop = Waker::noop();
        let mut cx = Context::from_waker(noop);
        assert!(stamped.as_mut().poll(&mut cx).is_pending());
        std::thread::sleep(Duration::from_millis(5));
        match stamped.as_mut().poll(&mut cx) {
            Poll::Ready(waited) => assert!(waited >= Duration::from_millis(5), "{waited:?}"),
            Poll::Pending => panic!("ready on the second poll"),
        }
    }

    #[test]
    fn thread_cpu_time_moves_forward() {
        let before = thread_cpu_us();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_us() > before);
    }
}

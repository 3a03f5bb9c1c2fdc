//! The injector's own delay and load, measured: how long a woken task waits before its core
//! polls it (event-loop lag, sampled), and how busy each core's thread is. The figures live in
//! `stats::injector_load`; a user reads them to tell the server's latency from the injector's.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

pub use crate::stats::injector_load::InjectorLoad;

/// How often each core measures its own lag.
pub const LAG_PROBE_INTERVAL: Duration = Duration::from_millis(10);

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

/// A core's busy share per piece of interval, as its peak is judged. A piece shorter than a
/// tenth of a tick (the stop a few ms after a tick) is mostly the stop's own work, so its own
/// share is no peak of the load; it is judged joined to the pieces before it, up to a whole
/// one (a piece of a tick or more). Every busy microsecond is in some judged piece, so the peak
/// is never below the run's mean (it was: the short piece's share was set to 0, while its busy
/// time still counted in the mean, so a run of one interval read "mean 55%, max 50%").
#[derive(Debug, Default)]
pub struct BusyPieces {
    /// Busy and wall time of the pieces since the last whole one, that whole one included.
    joined: Option<(u64, u64)>,
}

impl BusyPieces {
    /// The peak busy share to report for a piece of `busy_us` over `wall_us` whose own share is
    /// `own_percent`; `short` when it is shorter than a tenth of a tick.
    pub fn peak_percent(&mut self, busy_us: u64, wall_us: u64, own_percent: f64, short: bool) -> f64 {
        match (short, self.joined) {
            (true, Some((busy_before, wall_before))) => {
                let joined = (busy_before.saturating_add(busy_us), wall_before.saturating_add(wall_us));
                self.joined = Some(joined);
                busy_percent(joined.0, joined.1)
            }
            // A whole piece, or a short one with nothing before it (a run shorter than a tenth
            // of a tick): its own share.
            _ => {
                self.joined = Some((busy_us, wall_us));
                own_percent
            }
        }
    }
}

/// `busy_us` out of `wall_us`, percent (at most 100; 0 over no time).
fn busy_percent(busy_us: u64, wall_us: u64) -> f64 {
    if wall_us == 0 { 0.0 } else { (busy_us as f64 * 100.0 / wall_us as f64).min(100.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Outside testers: "cores busy mean 55%, max 50%". Whatever the pieces, short ones
    /// anywhere, the peak reported is at least the mean over the run.
    #[test]
    fn the_busy_peak_is_never_below_the_mean() {
        let runs: &[&[(u64, u64, bool)]] = &[
            // One interval at 50%, then the stop's 100 ms of work at 100%.
            &[(500_000, 1_000_000, false), (100_000, 100_000, true)],
            &[(100_000, 100_000, true)],
            &[(900_000, 1_000_000, false), (10, 5_000, true), (2_000, 2_000, true), (200_000, 1_000_000, false)],
            &[(0, 1_000_000, false), (1_000, 1_000, true), (0, 0, true)],
        ];
        for run in runs {
            let mut pieces = BusyPieces::default();
            let (mut peak, mut busy, mut wall) = (0.0f64, 0u64, 0u64);
            for &(piece_busy, piece_wall, short) in *run {
                let own = busy_percent(piece_busy, piece_wall);
                peak = peak.max(pieces.peak_percent(piece_busy, piece_wall, own, short));
                (busy, wall) = (busy + piece_busy, wall + piece_wall);
            }
            assert!(peak >= busy_percent(busy, wall), "{run:?}: peak {peak} below mean {}", busy_percent(busy, wall));
        }
        // A short piece alone is not a peak of its own: the stop's 100% after a quiet interval.
        let mut pieces = BusyPieces::default();
        assert_eq!(pieces.peak_percent(100_000, 1_000_000, 10.0, false), 10.0);
        let joined = pieces.peak_percent(10_000, 10_000, 100.0, true);
        assert!((joined - 110_000.0 * 100.0 / 1_010_000.0).abs() < 1e-9, "{joined}");
    }
}

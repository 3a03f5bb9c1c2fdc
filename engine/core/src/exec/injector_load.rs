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
}

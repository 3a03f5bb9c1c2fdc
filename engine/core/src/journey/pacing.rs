//! Pacing, with Mite's names and meaning: `ensure_fixed_separation(s, block)` makes the block
//! take at least `s` (it sleeps the rest after the block), `ensure_average_separation(mean,
//! plus_minus, block)` at least a time drawn uniformly from `mean ± plus_minus` (Mite's default
//! `plus_minus` is a quarter of the mean); and `ctx.should_stop()` for journeys that loop.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::driver::Sleep;
use crate::journey::Ctx;

/// Runs `block`, then sleeps until `separation` has passed since it started. A block that
/// takes longer is not slowed further. Mite's `ensure_fixed_separation`.
///
/// ```
/// # use mite_core::prelude::*;
/// use std::time::{Duration, Instant};
///
/// async fn paced(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let started = Instant::now();
///     // One page every 50 ms at most: the page, then the rest of the 50 ms.
///     ensure_fixed_separation(Duration::from_millis(50), ctx.transaction("page", async { Ok(()) })).await?;
///     ctx.send("paced", &[("50 ms at least", &(started.elapsed() >= Duration::from_millis(50)))]);
///     Ok(())
/// }
///
/// let record = JourneyTest::new().run(paced).unwrap();
/// assert_eq!(record.messages[0].fields[0].1, "true");
/// assert!(record.transaction("page").is_some());
/// ```
pub fn ensure_fixed_separation<F: Future>(separation: Duration, block: F) -> Separated<F> {
    Separated { stage: Stage::Block { block, started: None, separation } }
}

/// Like [`ensure_fixed_separation`], with the separation drawn uniformly from `mean ±
/// plus_minus` (default: a quarter of `mean`), so that journeys do not march in step. Mite's
/// `ensure_average_separation`.
///
/// ```
/// # use mite_core::prelude::*;
/// use std::time::{Duration, Instant};
///
/// async fn jittered(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let started = Instant::now();
///     // 40 ms ± 10 ms per page: between 30 and 50 ms.
///     let mean = Duration::from_millis(40);
///     ensure_average_separation(mean, Some(Duration::from_millis(10)), async { Ok::<_, JourneyError>(()) }).await?;
///     let took = started.elapsed();
///     ctx.send("paced", &[("30 ms at least", &(took >= Duration::from_millis(30)))]);
///     Ok(())
/// }
///
/// let record = JourneyTest::new().run(jittered).unwrap();
/// assert_eq!(record.messages[0].fields[0].1, "true");
/// ```
pub fn ensure_average_separation<F: Future>(mean: Duration, plus_minus: Option<Duration>, block: F) -> Separated<F> {
    ensure_fixed_separation(average_separation(mean, plus_minus, unit_random()), block)
}

pin_project_lite::pin_project! {
    /// A block, then the rest of its separation. Written by hand, not as an `async fn`: an
    /// `async fn` taking a future would hold it twice (as its argument and as the value it
    /// awaits), and these wrap whole journeys, whose futures every idle journey keeps.
    #[must_use = "a paced block does nothing unless awaited"]
    pub struct Separated<F: Future> {
        #[pin]
        stage: Stage<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = StageProj]
    enum Stage<F: Future> {
        Block { #[pin] block: F, started: Option<Instant>, separation: Duration },
        Rest { sleep: Sleep, output: Option<F::Output> },
        Done,
    }
}

impl<F: Future> Future for Separated<F> {
    type Output = F::Output;

    // Always inlined: an unpaced journey's every poll passes through it (two a request).
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut stage = self.project().stage;
        if let StageProj::Block { block, started, separation } = stage.as_mut().project() {
            if separation.is_zero() {
                // No separation (an unpaced journey, every declarative one without `pace`): the
                // block alone, polled through, with no clock read, no sleep and no change of
                // stage (the finished block is dropped with this future).
                return block.poll(cx);
            }
            let began = *started.get_or_insert_with(Instant::now);
            let Poll::Ready(output) = block.poll(cx) else { return Poll::Pending };
            let sleep = crate::driver::think_until(began + *separation);
            stage.set(Stage::Rest { sleep, output: Some(output) });
        }
        match stage.as_mut().project() {
            StageProj::Rest { sleep, output } => {
                std::task::ready!(Pin::new(sleep).poll(cx));
                let output = output.take().expect("polled after completion");
                stage.set(Stage::Done);
                Poll::Ready(output)
            }
            _ => panic!("a paced block polled after it completed"),
        }
    }
}

/// `mean ± plus_minus` at `unit` in `[0, 1)` (0 → `mean - plus_minus`), never below zero.
pub fn average_separation(mean: Duration, plus_minus: Option<Duration>, unit: f64) -> Duration {
    let plus_minus = plus_minus.unwrap_or(mean / 4).as_secs_f64();
    Duration::from_secs_f64((mean.as_secs_f64() - plus_minus + unit * 2.0 * plus_minus).max(0.0))
}

thread_local! {
    static RANDOM_STATE: Cell<u64> = const { Cell::new(0) };
}

/// A number in `[0, 1)` from a per-thread xorshift generator (pacing jitter, not cryptography).
pub(crate) fn unit_random() -> f64 {
    RANDOM_STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            // Seeded from the clock and the thread, so that cores do not draw the same jitter.
            use std::hash::{BuildHasher, Hash, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            std::thread::current().id().hash(&mut hasher);
            std::time::SystemTime::now().hash(&mut hasher);
            x = hasher.finish() | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

impl Ctx {
    /// True once the run is stopping (duration reached, interrupted): a journey that loops
    /// should end its loop. Mite's `ctx.should_stop`.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn browse_until_stopped(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let mut pages = 0;
    ///     while !ctx.should_stop() && pages < 3 {
    ///         ctx.transaction("page", async { Ok(()) }).await?;
    ///         pages += 1;
    ///     }
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().run(browse_until_stopped).unwrap(); // a test never stops early
    /// assert_eq!(record.transactions.len(), 3);
    /// ```
    pub fn should_stop(&self) -> bool {
        self.shard().stopping.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_separation_spans_mean_plus_minus() {
        let mean = Duration::from_secs(2);
        assert_eq!(average_separation(mean, None, 0.0), Duration::from_millis(1500));
        assert_eq!(average_separation(mean, None, 0.5), mean);
        assert_eq!(average_separation(mean, Some(Duration::from_secs(1)), 0.0), Duration::from_secs(1));
        assert_eq!(average_separation(mean, Some(Duration::from_secs(5)), 0.0), Duration::ZERO);
        for _ in 0..1000 {
            let unit = unit_random();
            assert!((0.0..1.0).contains(&unit), "{unit}");
        }
    }

    #[test]
    fn pacing_holds_its_block_once() {
        let block = async {
            let held = [0u8; 1000];
            crate::driver::sleep(Duration::from_millis(1)).await;
            held.len()
        };
        let block_size = std::mem::size_of_val(&block);
        let paced = ensure_average_separation(Duration::from_secs(1), None, block);
        // An `async fn` taking the block held it twice (three times through the average).
        assert!(
            std::mem::size_of_val(&paced) <= block_size + 64,
            "{} for a block of {block_size}",
            std::mem::size_of_val(&paced)
        );
    }

    #[test]
    fn fixed_separation_waits_out_the_rest_and_never_cuts_a_block() {
        let (mut runtime, _) = crate::driver::CoreRuntime::build(crate::DriverChoice::Epoll).unwrap();
        runtime.block_on(async {
            let started = Instant::now();
            let value = ensure_fixed_separation(Duration::from_millis(50), async { 7 }).await;
            assert_eq!(value, 7);
            assert!(started.elapsed() >= Duration::from_millis(50));
            let started = Instant::now();
            ensure_fixed_separation(Duration::from_millis(80), crate::driver::sleep(Duration::from_millis(100))).await;
            let took = started.elapsed();
            // 100 ms, not 180: the separation counts from the block's start.
            assert!(took >= Duration::from_millis(100) && took < Duration::from_millis(170), "{took:?}");
        });
    }
}

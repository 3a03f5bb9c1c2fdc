//! The run's stop as every core sees it: the stop flag (raised by a signal, or by the stats
//! thread) and the one instant the stop was taken, read once, by the first to find the flag
//! raised, and shared like the flag. Every core schedules arrivals up to that same instant,
//! however late in its poll it notices the flag: none schedules (or starts) an arrival due
//! after it, and `requested` is the rate over the window, to the arrival. Beside it, the flag
//! that cuts the grace short (a second interrupt).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The stop flag and the instant the stop was taken.
#[derive(Debug)]
pub struct RunStop {
    flag: Arc<AtomicBool>,
    /// Raised, the grace ends at once (`RunOptions::grace_cut`).
    grace_cut: Arc<AtomicBool>,
    started: Instant,
    /// When the stop was taken, nanoseconds since `started`, plus one (0: not taken yet).
    taken_ns: AtomicU64,
}

impl RunStop {
    /// The stop of the run that started at `started`, raised through `flag`.
    pub fn new(flag: Arc<AtomicBool>, started: Instant) -> RunStop {
        RunStop { flag, grace_cut: Arc::default(), started, taken_ns: AtomicU64::new(0) }
    }

    /// The same stop, its grace ended at once when `grace_cut` is raised.
    pub fn with_grace_cut(self, grace_cut: Arc<AtomicBool>) -> RunStop {
        RunStop { grace_cut, ..self }
    }

    /// Whether the grace is to end now, whatever is left of it.
    pub fn grace_cut(&self) -> bool {
        self.grace_cut.load(Ordering::SeqCst)
    }

    /// Whether the stop flag is raised.
    pub fn is_raised(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// When the stop was taken (`None` while the flag is down): the first caller to find the
    /// flag raised reads the clock, and every caller, on any core, gets that same instant.
    pub fn taken_at(&self) -> Option<Instant> {
        if !self.is_raised() {
            return None;
        }
        let now_ns = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        let taken_ns = match self.taken_ns.compare_exchange(0, now_ns + 1, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => now_ns + 1,
            Err(taken_ns) => taken_ns,
        };
        Some(self.started + Duration::from_nanos(taken_ns - 1))
    }

    /// How far arrivals may be scheduled, given `now`, a clock read taken before this call:
    /// `now` while the flag is down (the stop, when it comes, is taken after the flag is seen
    /// raised, so later than that), else the instant the stop was taken (read by now, so every
    /// arrival before it is due), whichever core took it.
    pub fn scheduled_until(&self, now: Instant) -> Instant {
        self.taken_at().unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cores that notice the stop at different moments, their clocks read before or after it
    /// was taken, all schedule up to the instant the first one took.
    #[test]
    fn every_core_gets_the_one_instant_the_stop_was_taken() {
        let flag = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(RunStop::new(flag.clone(), Instant::now()));
        let before = Instant::now();
        assert_eq!(stop.taken_at(), None);
        assert_eq!(stop.scheduled_until(before), before, "not stopped: as far as the clock read");
        flag.store(true, Ordering::SeqCst);
        let first = stop.taken_at().expect("taken");
        assert!(first >= before);
        std::thread::sleep(Duration::from_millis(20));
        let others: Vec<Instant> = (0..4)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || stop.scheduled_until(Instant::now()))
            })
            .map(|thread| thread.join().unwrap())
            .collect();
        assert!(others.iter().all(|&at| at == first), "{others:?} against {first:?}");
        assert_eq!(stop.scheduled_until(before), first, "a clock read before the stop was taken");
    }
}

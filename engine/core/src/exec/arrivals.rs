//! Open-model arrival accounting: the intended start times of one part's share of a rate, the
//! bounded queue they wait in for a journey slot, and the counting that keeps
//! `requested = started + missed` exact whatever the overload or the moment of the stop.
//!
//! Runtime-agnostic: the runtime asks the clock for what came due, pushes it into the queue,
//! and reports each arrival's end (started, or missed) here; nothing else touches the counts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::model::volume::RateModel;
use crate::stats::JourneyCounts;

/// When a part's rate gives nothing (rate 0), how far the clock steps before it looks again.
const IDLE_STEP_S: f64 = 0.01;

/// Turns a rate model into the intended start times of part `part` of `parts` (cores ×
/// segments). Parts interleave: part k starts k/N of an arrival interval late, so the union
/// of all parts is the rate itself. While the rate holds, the n-th time is computed as
/// `anchor + n / rate` rather than by adding steps, so millions of arrivals do not accumulate
/// rounding (a `Duration` step of 1/3 µs, or a sum of 0.1 s steps, would).
#[derive(Clone, Debug)]
pub struct ArrivalClock {
    rate: RateModel,
    parts: f64,
    next_s: f64,
    /// Where the current run of equal steps started, its rate, and steps taken since.
    anchor_s: f64,
    anchor_rate: f64,
    steps: u64,
    ended: bool,
}

impl ArrivalClock {
    /// The clock of part `part` of `parts`, at the start of the run.
    pub fn new(rate: RateModel, part: usize, parts: usize) -> ArrivalClock {
        let parts = parts.max(1) as f64;
        let first = rate.rate_at(0.0).unwrap_or(0.0) / parts;
        let next_s = if first > 0.0 { part as f64 / parts / first } else { 0.0 };
        ArrivalClock { rate, parts, next_s, anchor_s: next_s, anchor_rate: 0.0, steps: 0, ended: false }
    }

    /// Calls `arrive` with every intended start time (seconds since the start) before
    /// `until_s`, in order. Returns `false` once the rate model has ended.
    pub fn due(&mut self, until_s: f64, mut arrive: impl FnMut(f64)) -> bool {
        while !self.ended && self.next_s < until_s {
            let Some(total) = self.rate.rate_at(self.next_s) else {
                self.ended = true;
                break;
            };
            let per_part = total / self.parts;
            if per_part <= 0.0 {
                self.next_s += IDLE_STEP_S;
                continue;
            }
            arrive(self.next_s);
            if per_part != self.anchor_rate {
                (self.anchor_s, self.anchor_rate, self.steps) = (self.next_s, per_part, 0);
            }
            self.steps += 1;
            self.next_s = self.anchor_s + self.steps as f64 / per_part;
        }
        !self.ended
    }

    /// The next intended start time, seconds since the start.
    pub fn next_s(&self) -> f64 {
        self.next_s
    }

    /// True once the rate model has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }
}

/// Arrivals waiting for a journey slot, bounded. Every arrival pushed is counted as
/// `scheduled` (requested); it ends exactly once, as `arrivals_started` or `missed`.
#[derive(Debug)]
pub struct ArrivalQueue {
    queue: VecDeque<Instant>,
    capacity: usize,
}

impl ArrivalQueue {
    /// An empty queue holding at most `capacity` arrivals.
    pub fn new(capacity: usize) -> ArrivalQueue {
        ArrivalQueue { queue: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// An arrival came due: it waits, or is missed at once when the queue is full.
    pub fn arrive(&mut self, at: Instant, counts: &mut JourneyCounts) {
        counts.scheduled += 1;
        if self.queue.len() >= self.capacity {
            counts.missed += 1;
        } else {
            self.queue.push_back(at);
        }
    }

    /// The oldest waiting arrival. The caller must end it with [`started`] or [`missed`].
    ///
    /// [`started`]: ArrivalQueue::started
    /// [`missed`]: ArrivalQueue::missed
    pub fn take(&mut self) -> Option<Instant> {
        self.queue.pop_front()
    }

    /// A taken arrival started its journey.
    pub fn started(counts: &mut JourneyCounts) {
        counts.arrivals_started += 1;
    }

    /// A taken arrival could not start (the run stopped, or its datapool ran out).
    pub fn missed(counts: &mut JourneyCounts) {
        counts.missed += 1;
    }

    /// The run stopped: every arrival still waiting is missed. Returns how many.
    pub fn close(&mut self, counts: &mut JourneyCounts) -> u64 {
        let left = self.queue.len() as u64;
        self.queue.clear();
        counts.missed += left;
        left
    }

    /// Arrivals waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when none waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// `started + Duration(seconds)`, for intended start times.
pub fn instant_at(started: Instant, seconds: f64) -> Instant {
    started + Duration::from_secs_f64(seconds.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn constant(per_s: f64) -> RateModel {
        RateModel::Constant { per_s, duration_s: None }
    }

    /// Runs every part's clock to `stop_s` and returns how many arrivals came due in all.
    fn due_count(rate: &RateModel, parts: usize, stop_s: f64) -> u64 {
        (0..parts)
            .map(|part| {
                let mut clock = ArrivalClock::new(rate.clone(), part, parts);
                let mut count = 0u64;
                clock.due(stop_s, |_| count += 1);
                count
            })
            .sum()
    }

    proptest! {
        /// Whatever the rate, queue size, slot speed and stop time: every arrival that came
        /// due is either started or missed, exactly once, and as many came due as the rate
        /// asks for (within one per part).
        #[test]
        fn requested_is_started_plus_missed(
            per_s in 1.0f64..20_000.0,
            parts in 1usize..8,
            capacity in 1usize..64,
            // How many arrivals a slot takes per step of the scheduler (0: overload).
            takes_per_step in 0usize..6,
            // One in `fail_every` taken arrivals cannot start (its datapool ran out).
            fail_every in 1u64..50,
            stop_s in 0.0f64..3.0,
            step_s in 0.0005f64..0.2,
        ) {
            let base = Instant::now();
            let rate = constant(per_s);
            let mut total = JourneyCounts::default();
            for part in 0..parts {
                let mut clock = ArrivalClock::new(rate.clone(), part, parts);
                let mut queue = ArrivalQueue::new(capacity);
                let mut counts = JourneyCounts::default();
                let mut now_s = 0.0;
                let mut taken = 0u64;
                while now_s < stop_s {
                    now_s = (now_s + step_s).min(stop_s);
                    clock.due(now_s, |t| queue.arrive(instant_at(base, t), &mut counts));
                    for _ in 0..takes_per_step {
                        if queue.take().is_none() {
                            break;
                        }
                        taken += 1;
                        if taken.is_multiple_of(fail_every) {
                            ArrivalQueue::missed(&mut counts);
                        } else {
                            ArrivalQueue::started(&mut counts);
                        }
                    }
                }
                // The stop: what came due up to it and still waits is missed.
                clock.due(stop_s, |t| queue.arrive(instant_at(base, t), &mut counts));
                queue.close(&mut counts);
                prop_assert_eq!(counts.scheduled, counts.arrivals_started + counts.missed);
                total.merge(&counts);
            }
            let expected = per_s * stop_s;
            prop_assert!(
                (total.scheduled as f64 - expected).abs() <= parts as f64 + 1e-6,
                "requested {} for {} expected", total.scheduled, expected
            );
            prop_assert_eq!(total.scheduled, due_count(&rate, parts, stop_s));
        }
    }

    #[test]
    fn a_million_steps_do_not_drift() {
        // 1/3 µs steps would drift by a third of a nanosecond each as `Duration`s.
        assert_eq!(due_count(&constant(3_000_000.0), 1, 1.0), 3_000_000);
        assert_eq!(due_count(&constant(300_000.0), 3, 10.0), 3_000_000);
    }

    #[test]
    fn the_model_end_stops_the_clock() {
        let mut clock = ArrivalClock::new(RateModel::Constant { per_s: 10.0, duration_s: Some(1.0) }, 0, 1);
        let mut count = 0;
        assert!(!clock.due(5.0, |_| count += 1));
        assert_eq!(count, 10);
        assert!(clock.ended());
    }

    #[test]
    fn a_full_queue_misses_at_once() {
        let mut queue = ArrivalQueue::new(2);
        let mut counts = JourneyCounts::default();
        for _ in 0..5 {
            queue.arrive(Instant::now(), &mut counts);
        }
        assert_eq!((counts.scheduled, counts.missed, queue.len()), (5, 3, 2));
        assert_eq!(queue.close(&mut counts), 2);
        assert_eq!(counts.missed, 5);
    }
}

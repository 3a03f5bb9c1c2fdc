//! Open-model arrival accounting: the intended start times of one part's share of a rate, the
//! bounded queue they wait in for a journey slot, and the counting that keeps
//! `requested = started + missed + datapool exhausted` exact whatever the overload or the
//! moment of the stop.
//!
//! Runtime-agnostic: the runtime asks the clock for what came due, pushes it into the queue,
//! and reports each arrival's end (started, or missed) here; nothing else touches the counts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::model::volume::RateModel;
use crate::stats::JourneyCounts;

/// Turns a rate model into the intended start times of part `part` of `parts` (cores ×
/// segments). The model's arrivals are numbered in order (`RateModel::arrival_time_s`); part k
/// takes numbers k, k + N, k + 2N…, so the union of all parts is the rate itself. Each time is
/// computed from the model, not by adding steps: a change of rate (a low stage before a high
/// one, a stage at rate 0, a ramp from 0) is met exactly where it happens, and millions of
/// arrivals do not accumulate rounding.
#[derive(Clone, Debug)]
pub struct ArrivalClock {
    rate: RateModel,
    parts: u64,
    /// The model's number of this part's next arrival.
    next: u64,
    /// Its time, seconds since the start; `None` when the model has no more.
    next_s: Option<f64>,
}

impl ArrivalClock {
    /// The clock of part `part` of `parts`, at the start of the run.
    pub fn new(rate: RateModel, part: usize, parts: usize) -> ArrivalClock {
        let next = part as u64;
        let next_s = rate.arrival_time_s(next as f64);
        ArrivalClock { rate, parts: parts.max(1) as u64, next, next_s }
    }

    /// Calls `arrive` with every intended start time (seconds since the start) before
    /// `until_s` and before the rate model's end, in order: the arrivals of `[0, until_s)` and
    /// of `[0, end)` (one due exactly at the end, a ramp's rounding clamped to it, is none).
    /// Returns `false` once the rate model has ended by `until_s`.
    pub fn due(&mut self, until_s: f64, mut arrive: impl FnMut(f64)) -> bool {
        let until_s = self.scheduled_until_s(until_s);
        while let Some(at_s) = self.next_s.filter(|&t| t < until_s) {
            arrive(at_s);
            self.next += self.parts;
            self.next_s = self.rate.arrival_time_s(self.next as f64);
        }
        !self.ended_by(until_s)
    }

    /// How far arrivals have been scheduled once every one due before `until_s` was: `until_s`,
    /// or the rate model's own end when that came first (seconds since the start).
    pub fn scheduled_until_s(&self, until_s: f64) -> f64 {
        self.end_s().map_or(until_s, |end_s| until_s.min(end_s))
    }

    /// When there is next something to do, seconds since the start: the next intended start
    /// time, else the rate model's end (`None`: neither, a rate of 0 for ever).
    pub fn wake_s(&self) -> Option<f64> {
        self.next_s.or(self.end_s())
    }

    /// When the rate model ends, seconds since the start (`None`: it has no length).
    pub fn end_s(&self) -> Option<f64> {
        self.rate.duration_s()
    }

    /// True once the rate model has ended by `at_s`: a model with a length ends at its length,
    /// not at its last arrival (a low last stage whose next arrival would fall after the end,
    /// a stage at rate 0, still run their time). One at rate 0 for ever never ends by itself:
    /// the run's duration ends it.
    pub fn ended_by(&self, at_s: f64) -> bool {
        self.end_s().is_some_and(|end_s| at_s >= end_s)
    }
}

/// Arrivals waiting for a journey slot, bounded. Every arrival pushed is counted as
/// `scheduled` (requested); it ends exactly once, as `arrivals_started`, `missed` or
/// `datapool_exhausted`.
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

    /// The oldest waiting arrival. The caller must end it with [`started`], [`missed`] or
    /// [`datapool_exhausted`].
    ///
    /// [`started`]: ArrivalQueue::started
    /// [`missed`]: ArrivalQueue::missed
    /// [`datapool_exhausted`]: ArrivalQueue::datapool_exhausted
    pub fn take(&mut self) -> Option<Instant> {
        self.queue.pop_front()
    }

    /// A taken arrival started its journey.
    pub fn started(counts: &mut JourneyCounts) {
        counts.arrivals_started += 1;
    }

    /// A taken arrival could not start: the run stopped.
    pub fn missed(counts: &mut JourneyCounts) {
        counts.missed += 1;
    }

    /// A taken arrival could not start: its single-use datapool ran out.
    pub fn datapool_exhausted(counts: &mut JourneyCounts) {
        counts.datapool_exhausted += 1;
    }

    /// The run stopped: every arrival still waiting never starts. They are missed, or, when
    /// the entry's single-use datapool ran out (`exhausted`: no row would have started them),
    /// counted as such. Returns how many.
    pub fn close(&mut self, counts: &mut JourneyCounts, exhausted: bool) -> u64 {
        let left = self.queue.len() as u64;
        self.queue.clear();
        if exhausted {
            counts.datapool_exhausted += left;
        } else {
            counts.missed += left;
        }
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
        /// due is started, missed or left by an exhausted datapool, exactly once, and as many
        /// came due as the rate asks for (within one per part).
        #[test]
        fn requested_is_started_plus_missed_plus_datapool_exhausted(
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
                            ArrivalQueue::datapool_exhausted(&mut counts);
                        } else {
                            ArrivalQueue::started(&mut counts);
                        }
                    }
                }
                // The stop: what came due up to it and still waits is missed, or left by the
                // datapool once it ran out.
                clock.due(stop_s, |t| queue.arrive(instant_at(base, t), &mut counts));
                let (missed_before, exhausted) = (counts.missed, counts.datapool_exhausted > 0);
                let left = queue.close(&mut counts, exhausted);
                prop_assert_eq!(counts.missed - missed_before, if exhausted { 0 } else { left });
                prop_assert_eq!(counts.scheduled, counts.arrivals_started + counts.missed + counts.datapool_exhausted);
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
        assert!(clock.ended_by(5.0));
    }

    /// Outside tester: `rate = 0.5` for 4 s ended the run at 2 s (its last arrival) as
    /// `completed`, and `rate = 50` for 2 s read `arrivals over 1.98s`: the clock said it had
    /// ended once it had no more arrivals. It ends at the model's end.
    #[test]
    fn the_clock_runs_to_the_model_end_not_its_last_arrival() {
        let mut clock = ArrivalClock::new(RateModel::Constant { per_s: 0.5, duration_s: Some(4.0) }, 0, 1);
        let mut times = Vec::new();
        assert!(clock.due(2.5, |t| times.push(t)), "ended at the last arrival (2 s), not at 4 s");
        assert_eq!(times, [0.0, 2.0]);
        assert_eq!((clock.wake_s(), clock.scheduled_until_s(2.5)), (Some(4.0), 2.5), "wakes for the end");
        assert!(clock.due(3.999, |t| times.push(t)));
        assert!(!clock.due(4.0, |t| times.push(t)), "ends at its end");
        assert_eq!((times.len(), clock.scheduled_until_s(9.0)), (2, 4.0));
        // 50/s for 2 s: 100 arrivals over [0, 2 s), the last at 1.98 s; the clock goes on to 2 s.
        let rate = RateModel::Constant { per_s: 50.0, duration_s: Some(2.0) };
        let mut clock = ArrivalClock::new(rate.clone(), 0, 1);
        let mut count = 0;
        assert!(clock.due(1.99, |_| count += 1) && count == 100, "{count}");
        assert!(!clock.due(2.0, |_| count += 1) && count == 100);
        // A low last stage whose one arrival falls late, split over 4 parts: every part runs
        // to the end of the model (3 s), and the stage's arrival is in.
        let late = stages(&[(100.0, 1.0), (0.4, 2.0)]);
        for part in 0..4 {
            let mut clock = ArrivalClock::new(late.clone(), part, 4);
            assert!(clock.due(2.9, |_| ()), "part {part} ended before the last stage did");
            assert!(!clock.due(3.0, |_| ()));
        }
        assert_eq!(due_count(&late, 4, 3.0), 101);
    }

    /// `requested` counts the arrivals of `[0, end)`: one the model puts exactly at its end
    /// (a ramp's rounding clamps to it) is not requested, whether the scheduler wakes at the
    /// end or after it.
    #[test]
    fn an_arrival_due_exactly_at_the_end_is_not_requested() {
        let rate = RateModel::Constant { per_s: 50.0, duration_s: Some(2.0) };
        for until_s in [2.0, 2.5, 100.0] {
            assert_eq!(due_count(&rate, 1, until_s), 100, "until {until_s}");
            assert_eq!(due_count(&rate, 3, until_s), 100, "until {until_s}");
        }
        // A ramp clamps an arrival whose computed time rounds past its end to the end itself.
        let mut clock = ArrivalClock::new(RateModel::Ramp { from: 0.0, to: 20.0, duration_s: 3.0 }, 0, 1);
        clock.next_s = Some(3.0);
        let mut count = 0;
        assert!(!clock.due(3.5, |_| count += 1));
        assert_eq!(count, 0, "an arrival at the end came due after it");
    }

    /// The arrival times `part` of `parts` gets before `stop_s`.
    fn due_times(rate: &RateModel, part: usize, parts: usize, stop_s: f64) -> Vec<f64> {
        let mut times = Vec::new();
        ArrivalClock::new(rate.clone(), part, parts).due(stop_s, |t| times.push(t));
        times
    }

    fn stages(stages: &[(f64, f64)]) -> RateModel {
        RateModel::Stages(stages.iter().map(|&(per_s, d)| RateModel::Constant { per_s, duration_s: Some(d) }).collect())
    }

    #[test]
    fn a_low_stage_before_a_high_one_gets_each_its_own_arrivals() {
        // 0.1/s for 1 s, then 100/s for 2 s: 0.1 + 200 expected. The clock stepped 1/0.1 s
        // from the first arrival and so skipped the whole second stage (1 arrival in all).
        let rate = stages(&[(0.1, 1.0), (100.0, 2.0)]);
        assert_eq!(due_count(&rate, 1, 3.0), 201);
        assert_eq!(due_count(&rate, 4, 3.0), 201);
        let times = due_times(&rate, 0, 1, 3.0);
        assert_eq!(times[..2], [0.0, 1.0 + 0.9 / 100.0], "the second begins where 0.9 arrivals are still owed");
    }

    #[test]
    fn a_stage_at_rate_0_sends_nothing_and_leaves_no_burst() {
        // 50/s, 0/s for 2 s, 50/s: 100 arrivals; the quiet stage's "arrivals" came due at
        // once when the third stage began (200 in all).
        let rate = stages(&[(50.0, 1.0), (0.0, 2.0), (50.0, 1.0)]);
        let times = due_times(&rate, 0, 1, 4.0);
        assert_eq!(times.len(), 100);
        assert!(times.iter().all(|&t| !(1.0..3.0).contains(&t)), "arrivals in the quiet stage");
        assert!(times.windows(2).all(|w| w[1] - w[0] > 0.019), "a burst: {times:?}");
    }

    #[test]
    fn a_ramp_from_0_follows_its_integral() {
        // 0 → 20/s over 3 s: 30 arrivals, the n-th at √(n / k) with k = 20 / 6.
        let rate = RateModel::Ramp { from: 0.0, to: 20.0, duration_s: 3.0 };
        let times = due_times(&rate, 0, 1, 3.0);
        assert_eq!(times.len(), 30);
        for (n, t) in times.iter().enumerate() {
            assert!((t - (n as f64 * 6.0 / 20.0).sqrt()).abs() < 1e-9, "arrival {n} at {t}");
        }
        let down = RateModel::Ramp { from: 200.0, to: 0.0, duration_s: 3.0 };
        assert_eq!(due_count(&down, 3, 3.0), 300);
    }

    fn piece() -> impl Strategy<Value = RateModel> {
        let rate = prop_oneof![Just(0.0), 0.1f64..2_000.0];
        prop_oneof![
            (rate.clone(), 0.05f64..2.0).prop_map(|(per_s, d)| RateModel::Constant { per_s, duration_s: Some(d) }),
            (rate.clone(), rate, 0.05f64..2.0).prop_map(|(from, to, duration_s)| RateModel::Ramp {
                from,
                to,
                duration_s
            }),
        ]
    }

    proptest! {
        /// Any sequence of stages and ramps, split over any number of parts, stopped anywhere:
        /// the arrivals are the integral of the rate up to the stop (within one per part), in
        /// order, none while the rate is 0, and the parts together are the model alone.
        #[test]
        fn arrivals_follow_the_rate_integral(
            pieces in proptest::collection::vec(piece(), 1..5),
            parts in 1usize..8,
            stop_fraction in 0.0f64..1.2,
        ) {
            let rate = RateModel::Stages(pieces);
            let stop_s = rate.duration_s().unwrap() * stop_fraction;
            let step = 1e-5;
            let integral: f64 = (0..(stop_s / step) as u64).map(|i| rate.rate_at((i as f64 + 0.5) * step).unwrap_or(0.0) * step).sum();
            let count = due_count(&rate, parts, stop_s);
            prop_assert!((count as f64 - integral).abs() <= parts as f64 + 1.0 + integral * 1e-3,
                "{count} arrivals for an integral of {integral}");
            prop_assert_eq!(count, due_count(&rate, 1, stop_s));
            for part in 0..parts {
                let times = due_times(&rate, part, parts, stop_s);
                prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "out of order: {times:?}");
                for t in times {
                    // Not strictly inside a stretch at rate 0 (its edges are where a rate begins).
                    let around = [t - 1e-9, t + 1e-9].map(|x| rate.rate_at(x.max(0.0)).unwrap_or(0.0));
                    prop_assert!(around.iter().any(|&r| r > 0.0) || t == 0.0, "an arrival at {t} while the rate is 0");
                }
            }
        }
    }

    #[test]
    fn a_full_queue_misses_at_once() {
        let mut queue = ArrivalQueue::new(2);
        let mut counts = JourneyCounts::default();
        for _ in 0..5 {
            queue.arrive(Instant::now(), &mut counts);
        }
        assert_eq!((counts.scheduled, counts.missed, queue.len()), (5, 3, 2));
        assert_eq!(queue.close(&mut counts, false), 2);
        assert_eq!(counts.missed, 5);
    }

    /// Arrivals queued when the entry's single-use pool ran out never start for want of a row,
    /// not for want of a slot: they are counted apart from the missed ones.
    #[test]
    fn arrivals_left_by_an_exhausted_pool_are_not_missed() {
        let mut queue = ArrivalQueue::new(8);
        let mut counts = JourneyCounts::default();
        for _ in 0..4 {
            queue.arrive(Instant::now(), &mut counts);
        }
        queue.take();
        ArrivalQueue::datapool_exhausted(&mut counts);
        assert_eq!(queue.close(&mut counts, true), 3);
        assert_eq!((counts.scheduled, counts.missed, counts.datapool_exhausted), (4, 0, 4));
    }
}

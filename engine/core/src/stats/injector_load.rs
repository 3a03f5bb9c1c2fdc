//! The injector's own delay and load as figures: event-loop lag (a histogram), CPU busy time
//! against wall time, and when they mean the injector was saturated. Measured by
//! `exec::injector_load`; merged like the other statistics.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::stats::histogram::{new_latency_histogram, quantile, record_latency};

/// A core busy at least this share of an interval is saturated.
pub const SATURATED_BUSY_PERCENT: f64 = 95.0;
/// Busy shares measured over less wall time than this (all core threads together) are no
/// verdict: a run that ends as it starts (a segment given no datapool rows, a journey that fails
/// at once) spends its few ms starting and stopping, busy all of them, and is not saturated.
pub const SATURATED_BUSY_WALL_US_MIN: u64 = 100_000;
/// Lag at p99 of at least this share of the reported request p50 means the latencies carry a
/// significant part of injector delay.
pub const SATURATED_LAG_SHARE: f64 = 0.2;
/// Lags below this are never called significant (timer and scheduling noise).
pub const SATURATED_LAG_US_MIN: u64 = 200;
/// A core whose busiest interval used less than this share of it is quiet: a woken task
/// seldom finds its own core's work ahead of it, so a lag of a few hundred µs there is the
/// machine's (the thread waiting for a CPU that other work holds, a timer's wake-up), which
/// lowering the load or adding cores would not remove.
pub const SATURATED_LAG_BUSY_PERCENT_MIN: f64 = 50.0;
/// On a quiet core, lag at p99 below this is never called saturation, whatever its share of
/// the latencies: a sub-millisecond target's median is below the machine's own scheduling
/// noise (a core busy 6 % read "lag p99 236µs is a large share of the requests' median
/// 124µs"). From this lag up, a quiet core is saturated as a busy one is (a journey blocking
/// its thread for ms at a time uses little CPU).
pub const SATURATED_QUIET_LAG_US_MIN: u64 = 1_000;
/// A core whose event loop was held this long (lag at p99, from the probes' due times) was
/// saturated whatever its requests' latency: its timers, think times, timeouts and arrivals
/// all slipped by as much. A thread held in the kernel (the ephemeral-port search of tens of
/// thousands of connects) or by a journey that blocks it shows here, not in the busy share.
pub const SATURATED_STALL_LAG_US: u64 = 100_000;
/// A lag probe this late (µs after it was due) was starved by a held thread: its lateness is
/// its lag, with the samples it missed (see `InjectorLoad::record_probe`).
pub const STARVED_PROBE_LATE_US: u64 = SATURATED_STALL_LAG_US;
/// Lag samples at or above the significant lag needed to call it significant: in a short or
/// quiet interval the p99 of a few samples is their maximum, and one late wake-up of an idle
/// core (the machine's scheduling, not the injector's load) is not saturation.
pub const SATURATED_LAG_SAMPLES_MIN: u64 = 3;

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

    /// Records one lag probe, due every `every`: `waited` from its timer's wake to its poll,
    /// `late` from when it was due to its poll. A probe late by `STARVED_PROBE_LATE_US` or
    /// more was starved, not merely queued: the core's thread was held, so the timers had not
    /// even fired, and `waited` is small. Its lag is then `late`, with the samples the held
    /// thread could not take (one per `every`, as HdrHistogram's coordinated-omission
    /// correction adds them), so that a held second weighs as a second of samples, not one.
    /// Shorter delays (the machine's scheduler taking the CPU for a few ms) stay `waited`.
    pub fn record_probe(&mut self, waited: Duration, late: Duration, every: Duration) {
        if every.is_zero() || late < Duration::from_micros(STARVED_PROBE_LATE_US) {
            self.record_lag(waited);
            return;
        }
        let mut missed = late;
        while missed >= every {
            self.record_lag(missed);
            missed -= every;
        }
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
        quantile(&self.lag_us, q)
    }

    /// Whether the injector was saturated against requests whose median was `request_p50_us`:
    /// a core busy at least `SATURATED_BUSY_PERCENT` (over at least `SATURATED_BUSY_WALL_US_MIN`
    /// of measured time), a core held (`stalled`), or a p99 lag that is a significant share of
    /// the median latency it reports.
    pub fn saturated(&self, request_p50_us: u64) -> bool {
        self.busy() || self.lag_significant(request_p50_us) || self.stalled()
    }

    /// Whether a core was busy at least `SATURATED_BUSY_PERCENT` of an interval, over enough
    /// measured time to tell.
    pub fn busy(&self) -> bool {
        self.busy_percent_max >= SATURATED_BUSY_PERCENT && self.wall_us >= SATURATED_BUSY_WALL_US_MIN
    }

    /// Whether the lag at p99 is a significant share of `request_p50_us` (at least
    /// `SATURATED_LAG_SHARE` of it and `SATURATED_LAG_US_MIN`, in `SATURATED_LAG_SAMPLES_MIN`
    /// samples or more), and at least `SATURATED_QUIET_LAG_US_MIN` when every core was quiet.
    pub fn lag_significant(&self, request_p50_us: u64) -> bool {
        let floor_us = if self.quiet() { SATURATED_QUIET_LAG_US_MIN } else { SATURATED_LAG_US_MIN };
        let significant_us = floor_us.max((SATURATED_LAG_SHARE * request_p50_us as f64).ceil() as u64);
        request_p50_us > 0
            && self.lag_at(0.99) >= significant_us
            && self.lag_samples_from(significant_us) >= SATURATED_LAG_SAMPLES_MIN
    }

    /// Whether every core was busy less than `SATURATED_LAG_BUSY_PERCENT_MIN` of each interval
    /// (measured: with no thread time, no core is known to be quiet).
    pub fn quiet(&self) -> bool {
        self.wall_us > 0 && self.busy_percent_max < SATURATED_LAG_BUSY_PERCENT_MIN
    }

    /// Whether a core's event loop was held at least `SATURATED_STALL_LAG_US` (at p99, over
    /// at least `SATURATED_LAG_SAMPLES_MIN` samples).
    pub fn stalled(&self) -> bool {
        self.lag_at(0.99) >= SATURATED_STALL_LAG_US
            && self.lag_samples_from(SATURATED_STALL_LAG_US) >= SATURATED_LAG_SAMPLES_MIN
    }

    /// Lag samples of at least `us` (as the histogram's buckets resolve it).
    fn lag_samples_from(&self, us: u64) -> u64 {
        let below = if us == 0 { 0 } else { self.lag_us.count_between(0, us - 1) };
        self.lag_us.len().saturating_sub(below)
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

    /// A run that ends as it starts (a segment given no rows) is busy all its few ms: no verdict.
    #[test]
    fn a_run_of_a_few_ms_is_not_judged_busy() {
        let mut load = InjectorLoad::default();
        load.record_busy(3_000, 3_000);
        assert_eq!(load.busy_percent_max, 100.0, "the figure stays what was measured");
        assert!(!load.saturated(1_000));
        load.record_busy(97_000, 97_000);
        assert!(load.saturated(1_000), "100 ms busy is a verdict");
    }

    #[test]
    fn lag_that_is_a_large_share_of_latency_is_saturation() {
        let mut load = InjectorLoad::default();
        load.record_busy(600_000, 1_000_000);
        for _ in 0..100 {
            load.record_lag(Duration::from_micros(500));
        }
        assert!(load.saturated(1_000), "500 µs of lag against a 1 ms median");
        assert!(!load.saturated(50_000), "500 µs of lag against a 50 ms median");
    }

    /// Outside try: a core busy 6 % against a sub-millisecond target read "INJECTOR SATURATED
    /// (its event-loop lag p99 236µs is a large share of the requests' median 124µs)". A quiet
    /// core's lag of a few hundred µs is the machine's scheduling, not its own queue: not
    /// saturation. The same lag on a core busy with its own work is; so is a lag of ms on a
    /// quiet one (a journey blocking its thread).
    #[test]
    fn a_quiet_injector_against_a_fast_target_is_not_saturated() {
        let lagged = |busy_us: u64, lag_us: u64| {
            let mut load = InjectorLoad::default();
            load.record_busy(busy_us, 1_000_000);
            for _ in 0..100 {
                load.record_lag(Duration::from_micros(lag_us));
            }
            load
        };
        let quiet = lagged(60_000, 236);
        assert!(quiet.quiet() && !quiet.lag_significant(124) && !quiet.saturated(124));
        let busy = lagged(600_000, 236);
        assert!(!busy.quiet() && busy.lag_significant(124) && busy.saturated(124), "its own work delays it");
        let blocked = lagged(60_000, 1_500);
        assert!(blocked.quiet() && blocked.saturated(124), "1.5 ms at p99 on a quiet core");
        assert!(!blocked.saturated(10_000), "1.5 ms against a 10 ms median");
        // No thread time measured: not known to be quiet, judged as before.
        let mut unmeasured = lagged(0, 236);
        unmeasured.wall_us = 0;
        assert!(!unmeasured.quiet() && unmeasured.saturated(124));
    }

    #[test]
    fn one_late_wake_up_of_an_idle_core_is_not_saturation() {
        // A quiet interval: 30 samples, one of them 226 µs late, against 100 µs requests (its
        // p99 is that one sample). Before: INJECTOR SATURATED at 1 % busy.
        let mut load = InjectorLoad::default();
        load.record_busy(10_000, 1_000_000);
        for _ in 0..29 {
            load.record_lag(Duration::from_micros(20));
        }
        load.record_lag(Duration::from_micros(226));
        assert!(!load.saturated(100));
        for _ in 0..2 {
            load.record_lag(Duration::from_micros(1_300));
        }
        assert!(!load.saturated(100), "two of a millisecond are not a pattern");
        load.record_lag(Duration::from_micros(1_200));
        assert!(load.saturated(100), "three late wake-ups of a millisecond are a pattern");
    }

    /// A core held for a second (its probe ran once, a second late) was saturated even when its
    /// requests' median is zero (every attempt failed at once) and its thread was not on a CPU.
    /// Before, the one late probe measured from its timer's wake (when the held thread got
    /// back, a few µs) and the lag said nothing.
    #[test]
    fn a_held_core_is_saturated() {
        let mut load = InjectorLoad::default();
        load.record_busy(10_000, 1_000_000);
        for _ in 0..50 {
            load.record_probe(Duration::from_micros(30), Duration::from_micros(200), Duration::from_millis(10));
        }
        // The machine taking the CPU for 30 ms now and then is not a held core.
        load.record_probe(Duration::from_micros(30), Duration::from_millis(30), Duration::from_millis(10));
        assert_eq!(load.lag_us.len(), 51);
        assert!(!load.saturated(0) && !load.stalled());
        load.record_probe(Duration::from_micros(5), Duration::from_secs(1), Duration::from_millis(10));
        assert_eq!(load.lag_us.len(), 151, "the held second counts as the 100 probes it missed");
        assert!(load.lag_at(0.99) >= 900_000, "{}", load.lag_at(0.99));
        assert!(load.stalled() && load.saturated(0));
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
}

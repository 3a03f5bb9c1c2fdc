//! The clock a request's times are read from: [`Moment`], a reading of `CLOCK_MONOTONIC` (the
//! clock `Instant` reads on Linux) kept as nanoseconds in a `u64`. Every request reads the
//! clock at its start and as the read bringing its last byte returns, and its transaction
//! subtracts two readings: as plain integers, a subtraction and a division by 1,000, where
//! `Instant`'s is a normalising `timespec` subtraction and a `Duration` made and taken apart.
//! Same clock, same nanoseconds, same whole microseconds (truncated, as `Duration::as_micros`)
//! as the `Instant` arithmetic it replaces.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

/// A reading of the monotonic clock, in nanoseconds since the clock's (unspecified) start: a
/// `u64` holds 584 years of them. Never 0 (the clock has run since boot), so an
/// `Option<Moment>` is 8 bytes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment(NonZeroU64);

impl Moment {
    /// The clock now.
    #[inline]
    pub fn now() -> Moment {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes the plain struct passed by pointer and reads nothing else.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        // CLOCK_MONOTONIC is always there on Linux, and the pointer is valid: it cannot fail.
        debug_assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC)");
        Moment::from_nanos((ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64))
    }

    #[inline]
    pub(super) fn from_nanos(nanos: u64) -> Moment {
        Moment(NonZeroU64::new(nanos).unwrap_or(NonZeroU64::MIN))
    }

    #[inline]
    pub(super) fn nanos(self) -> u64 {
        self.0.get()
    }

    /// Whole microseconds from `earlier` to this moment; 0 when `earlier` is later.
    #[inline]
    pub fn micros_since(self, earlier: Moment) -> u64 {
        self.nanos().saturating_sub(earlier.nanos()) / 1_000
    }

    /// The time from `earlier` to this moment; zero when `earlier` is later.
    #[inline]
    pub fn saturating_duration_since(self, earlier: Moment) -> Duration {
        Duration::from_nanos(self.nanos().saturating_sub(earlier.nanos()))
    }

    /// The time since this moment (a clock read).
    pub fn elapsed(self) -> Duration {
        Moment::now().saturating_duration_since(self)
    }

    /// `duration` after this moment; `None` past the clock's range (584 years).
    #[inline]
    pub fn checked_add(self, duration: Duration) -> Option<Moment> {
        self.nanos().checked_add(nanos_of(duration)?).map(Moment::from_nanos)
    }

    /// [`Moment::checked_add`] of a duration whose nanoseconds were worked out once
    /// ([`Moment::span_nanos`]): one addition, for a limit added to a moment at every request.
    #[inline]
    pub fn checked_add_nanos(self, span_nanos: u64) -> Option<Moment> {
        self.nanos().checked_add(span_nanos).map(Moment::from_nanos)
    }

    /// Whether this moment is at or past `since` plus the duration of `span_nanos`
    /// ([`Moment::span_nanos`]): `since.checked_add(duration).is_some_and(|end| self >= end)`,
    /// as a subtraction and a comparison (nothing is past the clock's range).
    #[inline]
    pub fn passed(self, since: Moment, span_nanos: u64) -> bool {
        self.nanos().checked_sub(since.nanos()).is_some_and(|nanos| nanos >= span_nanos)
    }

    /// Whether this moment is after `since` plus the duration of `span_nanos`
    /// ([`Moment::span_nanos`]): `since.checked_add_nanos(span_nanos).is_some_and(|end| self >
    /// end)`, with no end kept to compare with later (a request's deadline, kept across its
    /// round trip's await in every request's future, is this from its start).
    #[inline]
    pub fn after(self, since: Moment, span_nanos: u64) -> bool {
        self.nanos().checked_sub(since.nanos()).is_some_and(|nanos| nanos > span_nanos)
    }

    /// A duration's nanoseconds for [`Moment::checked_add_nanos`] and [`Moment::passed`],
    /// worked out once; `u64::MAX` past a `u64`'s, which no moment reaches either way (every
    /// moment is at least 1 nanosecond).
    pub const fn span_nanos(duration: Duration) -> u64 {
        match nanos_of(duration) {
            Some(nanos) => nanos,
            None => u64::MAX,
        }
    }

    /// The same time as an `Instant` (for a sleep until it): this moment's distance from now,
    /// applied to `Instant::now()`. Off by the few nanoseconds between the two clock reads.
    pub fn to_instant(self) -> Instant {
        let (now, instant) = (Moment::now(), Instant::now());
        if self >= now {
            instant + Duration::from_nanos(self.nanos() - now.nanos())
        } else {
            instant.checked_sub(Duration::from_nanos(now.nanos() - self.nanos())).unwrap_or(instant)
        }
    }
}

/// `duration` in nanoseconds; `None` past a `u64`'s. In `u64` arithmetic, where
/// `Duration::as_nanos` makes a `u128` product (run three times a request, for its deadlines).
#[inline]
const fn nanos_of(duration: Duration) -> Option<u64> {
    match duration.as_secs().checked_mul(1_000_000_000) {
        Some(nanos) => nanos.checked_add(duration.subsec_nanos() as u64),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same nanoseconds as `Duration::as_nanos` wherever those fit a `u64`, and `None`
    /// exactly where they do not: at every second and nanosecond near the edges.
    #[test]
    fn nanoseconds_of_a_duration_as_std_counts_them() {
        let edge_s = u64::MAX / 1_000_000_000;
        let seconds = [0, 1, 59, 86_400, edge_s - 1, edge_s, edge_s + 1, u64::MAX / 2, u64::MAX];
        let nanos = [0, 1, 999_999_999, u64::MAX as u32 % 1_000_000_000, 709_551_615, 709_551_616];
        for secs in seconds {
            for sub in nanos.iter().map(|n| n % 1_000_000_000) {
                let duration = Duration::new(secs, sub);
                assert_eq!(nanos_of(duration), u64::try_from(duration.as_nanos()).ok(), "{duration:?}");
            }
        }
    }

    /// The same clock as `Instant`: readings taken between two `Instant` reads lie between them.
    #[test]
    fn it_reads_the_clock_instant_reads() {
        for _ in 0..100 {
            let before = Instant::now();
            let moment = Moment::now();
            let after = Instant::now();
            let back = moment.to_instant();
            // `to_instant` is off by the time between its own two reads: well under 1 ms.
            let slack = Duration::from_millis(1);
            assert!(back + slack >= before && back <= after + slack, "{back:?} outside {before:?}..{after:?}");
        }
    }

    /// Whole microseconds, truncated like `Duration::as_micros`, and never negative.
    #[test]
    fn microseconds_between_readings() {
        let start = Moment::from_nanos(5_000_000_000);
        assert_eq!(Moment::from_nanos(5_000_001_999).micros_since(start), 1);
        assert_eq!(Moment::from_nanos(5_000_002_000).micros_since(start), 2);
        assert_eq!(Moment::from_nanos(6_500_000_000).micros_since(start), 1_500_000);
        assert_eq!(start.micros_since(Moment::from_nanos(6_000_000_000)), 0, "a later start: 0, not a wrap");
        for nanos in [0u64, 999, 1_000, 123_456_789, 86_400_000_000_000] {
            let later = Moment::from_nanos(start.nanos() + nanos);
            assert_eq!(later.micros_since(start), Duration::from_nanos(nanos).as_micros() as u64);
            assert_eq!(later.saturating_duration_since(start), Duration::from_nanos(nanos));
        }
    }

    #[test]
    fn it_moves_forward_and_adds() {
        let first = Moment::now();
        std::thread::sleep(Duration::from_millis(2));
        let second = Moment::now();
        assert!(second.micros_since(first) >= 2_000);
        assert!(first.elapsed() >= Duration::from_millis(2));
        assert_eq!(first.checked_add(Duration::from_micros(3)), Some(Moment::from_nanos(first.nanos() + 3_000)));
        assert_eq!(first.checked_add(Duration::MAX), None, "past the clock's range");
        assert_eq!(Moment::from_nanos(u64::MAX - 1).checked_add(Duration::from_nanos(2)), None);
    }

    /// A duration's nanoseconds worked out once add and compare as the duration does: at the
    /// clock's edges, for durations past a `u64`'s nanoseconds, and a nanosecond either side
    /// of the end.
    #[test]
    fn a_span_worked_out_once_adds_and_compares_as_its_duration() {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_millis(10),
            Duration::from_secs(u64::MAX / 1_000_000_000),
            Duration::MAX,
        ];
        let moments = [1, 2, 1_000, 10_000_000, u64::MAX / 2, u64::MAX - 10_000_000, u64::MAX - 1, u64::MAX];
        for duration in durations {
            let span = Moment::span_nanos(duration);
            for since in moments.map(Moment::from_nanos) {
                assert_eq!(since.checked_add_nanos(span), since.checked_add(duration), "{since:?} + {duration:?}");
                let end = since.checked_add(duration);
                for now in moments.map(Moment::from_nanos) {
                    let passed = end.is_some_and(|end| now >= end);
                    assert_eq!(now.passed(since, span), passed, "{now:?} past {since:?} + {duration:?}");
                    let after = end.is_some_and(|end| now > end);
                    assert_eq!(now.after(since, span), after, "{now:?} after {since:?} + {duration:?}");
                }
                if let Some(end) = end {
                    for now in [end.nanos() - 1, end.nanos(), end.nanos().saturating_add(1)].map(Moment::from_nanos) {
                        assert_eq!(now.passed(since, span), now >= end, "{now:?} past {since:?} + {duration:?}");
                        assert_eq!(now.after(since, span), now > end, "{now:?} after {since:?} + {duration:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_optional_moment_is_one_word() {
        assert_eq!(std::mem::size_of::<Option<Moment>>(), 8);
    }

    /// A moment in the past or the future maps to the `Instant` as far from now.
    #[test]
    fn to_an_instant_and_back() {
        let now = Moment::now();
        let ahead = now.checked_add(Duration::from_millis(40)).unwrap();
        let from_now = ahead.to_instant().saturating_duration_since(Instant::now());
        assert!(from_now <= Duration::from_millis(40) && from_now > Duration::from_millis(30), "{from_now:?}");
        let behind = Moment::from_nanos(now.nanos() - 40_000_000).to_instant();
        assert!(behind.elapsed() >= Duration::from_millis(40));
    }
}

//! A core's alarm clock on io_uring runtimes: a timerfd set to an absolute time on a fixed grid
//! of `TIMER_RESOLUTION`, whose expiry a read through the ring waits for. The runtime's own
//! timer rounds every deadline up to the next millisecond, which made an open model's
//! arrivals start up to a millisecond late (and their corrected latencies that much longer);
//! the grid keeps them within `TIMER_RESOLUTION` and bounds the wakes it costs (deadlines in
//! one grid step share one).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::limits::TIMER_RESOLUTION;

/// A timerfd on `CLOCK_MONOTONIC` (the clock `Instant` reads on Linux), with the pair of
/// readings that turns an `Instant` into the clock's absolute time.
pub(super) struct Alarm {
    fd: OwnedFd,
    base: Instant,
    base_ns: u128,
}

impl Alarm {
    /// A disarmed alarm; `Err` when the kernel refuses a timerfd (the caller keeps the
    /// runtime's timer).
    pub(super) fn new() -> io::Result<Alarm> {
        #[allow(unsafe_code)]
        // SAFETY: timerfd_create takes no pointers; a non-negative result is a new descriptor
        // this process owns alone.
        let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        #[allow(unsafe_code)]
        // SAFETY: `fd` was just created and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let base = Instant::now();
        let base_ns = monotonic_ns()?;
        Ok(Alarm { fd, base, base_ns })
    }

    /// The descriptor a read waits on (it completes at each expiry).
    pub(super) fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// `at` rounded up to the grid: when the alarm would ring for it.
    pub(super) fn rings_for(&self, at: Instant) -> Instant {
        let step = TIMER_RESOLUTION.as_nanos();
        let since = at.saturating_duration_since(self.base).as_nanos();
        let rounded = since.div_ceil(step) * step;
        self.base + Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX))
    }

    /// Rings at `at` (a grid time from [`Alarm::rings_for`]); a time already past rings at once.
    pub(super) fn set(&self, at: Instant) {
        let ns = self.base_ns + at.saturating_duration_since(self.base).as_nanos();
        // Zero would disarm it; the base itself is in the past, so 1 ns rings at once.
        self.settime(ns.max(1), libc::TFD_TIMER_ABSTIME);
    }

    /// Rings no more until set again.
    pub(super) fn clear(&self) {
        self.settime(0, 0);
    }

    fn settime(&self, ns: u128, flags: libc::c_int) {
        let value = libc::timespec {
            tv_sec: (ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (ns % 1_000_000_000) as libc::c_long,
        };
        let spec = libc::itimerspec { it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 }, it_value: value };
        #[allow(unsafe_code)]
        // SAFETY: `spec` lives across the call; a null old value is allowed.
        let rc = unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), flags, &spec, std::ptr::null_mut()) };
        // Only a bad descriptor or a bad time fails, and both are ours: a bug, not a condition.
        debug_assert_eq!(rc, 0, "timerfd_settime: {}", io::Error::last_os_error());
    }
}

fn monotonic_ns() -> io::Result<u128> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    #[allow(unsafe_code)]
    // SAFETY: `ts` is a valid timespec to write into.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_the_grid_and_one_step_shares_a_ring() {
        let alarm = Alarm::new().unwrap();
        let step = TIMER_RESOLUTION;
        let at = alarm.base + step * 3 + Duration::from_nanos(1);
        assert_eq!(alarm.rings_for(at), alarm.base + step * 4);
        assert_eq!(alarm.rings_for(alarm.base + step * 4), alarm.base + step * 4, "on the grid: itself");
        assert_eq!(alarm.rings_for(alarm.base - step), alarm.base, "before the base: at once");
    }

    /// Set to a time, the descriptor becomes readable at it, not a millisecond later; cleared,
    /// it does not ring.
    #[test]
    fn it_rings_at_its_time_and_not_when_cleared() {
        let alarm = Alarm::new().unwrap();
        let readable = |timeout_ms: i32| {
            let mut poll = libc::pollfd { fd: alarm.fd().as_raw_fd(), events: libc::POLLIN, revents: 0 };
            #[allow(unsafe_code)]
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut poll, 1, timeout_ms) };
            n == 1
        };
        alarm.set(alarm.rings_for(Instant::now() + Duration::from_millis(30)));
        alarm.clear();
        assert!(!readable(60), "a cleared alarm rang");
        let at = alarm.rings_for(Instant::now() + Duration::from_millis(2));
        alarm.set(at);
        assert!(readable(1_000), "a set alarm did not ring");
        assert!(Instant::now() >= at, "it rang before its time");
    }
}

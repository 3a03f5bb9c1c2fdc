//! SIGINT (Ctrl-C), SIGTERM (what Kubernetes sends) and SIGHUP during `run` (and `journey
//! run`, `journey test`, `scenario test`, `demo`): installed before
//! anything else is done, so a signal at any moment is handled, never the default "killed".
//!
//! - Before the results are written, the first signal stops the run gracefully: no journey
//!   starts again, those in flight get the grace period, and the results are written (before
//!   the first request, nothing is sent and nothing is written, and a second signal exits at
//!   once). A second one ends the grace at once: the journeys still in flight are cancelled,
//!   counted, and the results are written. A third exits at once without results.
//! - `journey test` has no grace and no result file: the first signal cancels the journey in
//!   flight at its next wait and the rows left are not run; the table of what ran is printed.
//!   A journey that does not wait within `JOURNEY_CANCEL_WAIT` (a loop that never awaits
//!   anything pending holds the thread that would cancel it) ends the process, saying so.
//! - Once the run has ended, while its results are written (a slow disk, a FIFO whose reader
//!   does not read), a first signal says so and skips any linger after them; a second one
//!   exits at once without the results not yet written.
//! - After the results are written (the dashboard's linger), a signal ends the wait.
//! - A SIGHUP the process was started ignoring (`nohup`) stays ignored: the run goes on past
//!   a closed terminal, as `nohup` asks.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::commands::EXIT_ABORTED;

/// A signal within this time of the previous one is the same one delivered twice (to the
/// process and to its group, as `timeout` and some supervisors do), not a second one.
const SIGNAL_REPEAT_MIN: Duration = Duration::from_millis(100);

/// How long the handler waits for its message to be written: standard error may be a full
/// pipe nobody reads, and a handler held there would leave the next signal unheard.
const SAY_WAIT: Duration = Duration::from_millis(200);

/// How long `journey test`'s first signal waits for the journey in flight to be cancelled (at
/// its next wait) before it ends the process: one that never waits cannot be cancelled.
const JOURNEY_CANCEL_WAIT: Duration = Duration::from_secs(5);

/// How often a wait looks for a signal.
const SIGNAL_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// What the handler has seen, shared with the run.
#[derive(Default)]
pub struct Signals {
    /// Set by the first signal: the run's stop flag.
    stop: Arc<AtomicBool>,
    /// Set by the second signal of a run in its grace: the grace ends at once.
    grace_cut: Arc<AtomicBool>,
    /// Signals counted (a repeat within `SIGNAL_REPEAT_MIN` counts once).
    count: AtomicU32,
    /// Set once every core runs: before, a signal stops the run before its first request.
    run_started: AtomicBool,
    /// Set once the run has ended: its results are being written.
    run_ended: AtomicBool,
    /// A signal came while the results were written: the wait after them is skipped.
    leave_after_results: AtomicBool,
    /// Set once the results are written: a signal then only ends a wait.
    results_written: AtomicBool,
    /// `count` when the results were written: a signal since ends a wait after them.
    count_at_results: AtomicU32,
    /// `journey test`: a stop cancels the journey in flight at once (no grace, no results file).
    at_once: AtomicBool,
}

impl Signals {
    /// The process's signal state, the handler installed on the first call.
    pub fn installed() -> &'static Signals {
        static SIGNALS: OnceLock<Arc<Signals>> = OnceLock::new();
        SIGNALS.get_or_init(Signals::install)
    }

    fn install() -> Arc<Signals> {
        let signals = Arc::new(Signals::default());
        let hangup_ignored = hangup_ignored();
        let state = signals.clone();
        let (mut last, mut nth): (Option<Instant>, u32) = (None, 0);
        let _ = ctrlc::set_handler(move || {
            let now = Instant::now();
            if last.is_some_and(|at| now.duration_since(at) < SIGNAL_REPEAT_MIN) {
                return;
            }
            last = Some(now);
            nth = nth.saturating_add(1);
            if state.on_signal(nth) {
                let state = state.clone();
                // A thread of its own: the handler stays free for the next signal.
                let _ = std::thread::Builder::new().name("journey-cancel".into()).spawn(move || {
                    if !state.ended_within(JOURNEY_CANCEL_WAIT) {
                        say(&format!(
                            "the journey in flight has not come to a wait in {}s: it never awaits anything pending (a \
                             loop with no I/O, sleep or other wait), so it cannot be cancelled; exiting without its table",
                            JOURNEY_CANCEL_WAIT.as_secs()
                        ));
                        std::process::exit(EXIT_ABORTED);
                    }
                });
            }
        });
        if hangup_ignored {
            ignore_hangup();
        }
        signals
    }

    /// The `nth` signal (1 for the first); true when it asked `journey test`'s journey in flight
    /// to stop (the handler then waits, `JOURNEY_CANCEL_WAIT` at most, for it to have).
    fn on_signal(&self, nth: u32) -> bool {
        let mut watch = false;
        let first = nth == 1;
        if self.results_written.load(Ordering::SeqCst) {
            say("interrupt: the results are written; leaving");
        } else if first && self.run_ended.load(Ordering::SeqCst) {
            self.leave_after_results.store(true, Ordering::SeqCst);
            say("interrupt: the run has ended and its results are being written; leaving once they are (interrupt \
                 again to exit at once, without those not yet written)");
        } else if first && !self.run_started.load(Ordering::SeqCst) {
            self.stop.store(true, Ordering::SeqCst);
            say("interrupt (SIGINT, SIGTERM or SIGHUP): stopping before the first request; nothing will be \
                 sent (interrupt again to exit at once)");
        } else if first && self.at_once.load(Ordering::SeqCst) {
            self.stop.store(true, Ordering::SeqCst);
            watch = true;
            say(&format!(
                "interrupt (SIGINT, SIGTERM or SIGHUP): stopping; the journey in flight is cancelled at its next wait \
                 (or the process ends if none comes within {}s) and the rows left are not run (interrupt again to \
                 exit at once)",
                JOURNEY_CANCEL_WAIT.as_secs()
            ));
        } else if first {
            self.stop.store(true, Ordering::SeqCst);
            say("interrupt (SIGINT, SIGTERM or SIGHUP): stopping; journeys in flight get the grace period, \
                 then the results are written (interrupt again to end the grace at once)");
        } else if nth == 2
            && self.run_started.load(Ordering::SeqCst)
            && !self.at_once.load(Ordering::SeqCst)
            && !self.run_ended.load(Ordering::SeqCst)
        {
            self.grace_cut.store(true, Ordering::SeqCst);
            say("second interrupt: ending the grace now; journeys still in flight are cancelled (counted as \
                 such) and the results are written (interrupt again to exit at once, without them)");
        } else {
            say("interrupt again: exiting at once, without results");
            std::process::exit(EXIT_ABORTED);
        }
        self.count.fetch_add(1, Ordering::SeqCst);
        watch
    }

    /// Whether the run (`journey test`'s journeys) ended within `wait`.
    fn ended_within(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while !self.run_ended.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(left.min(SIGNAL_POLL_INTERVAL));
        }
        true
    }

    /// `journey test`: a stop cancels the journey in flight at once, as the first signal says.
    pub fn cancel_at_once(&self) {
        self.at_once.store(true, Ordering::SeqCst);
    }

    /// The run's stop flag, set by the first signal.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The flag that ends the run's grace at once (`RunOptions::grace_cut`), set by the second
    /// signal.
    pub fn grace_cut_flag(&self) -> Arc<AtomicBool> {
        self.grace_cut.clone()
    }

    /// Whether a signal has asked the run to stop.
    pub fn interrupted(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Every core runs: from now on a first signal stops a run that has results.
    pub fn run_started(&self) {
        self.run_started.store(true, Ordering::SeqCst);
    }

    /// The run has ended: from now on a first signal waits for the results being written.
    pub fn run_ended(&self) {
        self.run_ended.store(true, Ordering::SeqCst);
    }

    /// From now on a signal only ends a wait.
    pub fn results_written(&self) {
        self.count_at_results.store(self.count.load(Ordering::SeqCst), Ordering::SeqCst);
        self.results_written.store(true, Ordering::SeqCst);
    }

    /// Waits `wait`, or until a signal comes after the results were written (one that came
    /// while the wait was being announced counts too).
    pub fn wait(&self, wait: Duration) {
        let seen = self.count_at_results.load(Ordering::SeqCst);
        let deadline = Instant::now() + wait;
        while self.count.load(Ordering::SeqCst) == seen && !self.leave_after_results.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(SIGNAL_POLL_INTERVAL));
        }
    }
}

/// Says `line` on standard error from a thread of its own, waiting at most `SAY_WAIT` for it
/// (not eprintln!: after SIGHUP the terminal may be gone, and a panic here would leave the
/// next signal unhandled).
fn say(line: &str) {
    let line = line.to_string();
    let (done, written) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("interrupt-message".into()).spawn(move || {
        let _ = writeln!(std::io::stderr(), "{line}");
        let _ = done.send(());
    });
    if spawned.is_ok() {
        let _ = written.recv_timeout(SAY_WAIT);
    }
}

/// Whether SIGHUP was ignored when the process started (`nohup`).
#[allow(unsafe_code)]
fn hangup_ignored() -> bool {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action only reads the
    // current one.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
    }
}

/// Ignores SIGHUP again after the handler took it over.
#[allow(unsafe_code)]
fn ignore_hangup() {
    // SAFETY: setting a signal's disposition to SIG_IGN installs no code.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_stops_and_a_later_one_ends_a_wait() {
        let signals = Signals::default();
        signals.on_signal(1);
        assert!(signals.interrupted());
        signals.results_written();
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                signals.on_signal(2);
            });
            signals.wait(Duration::from_secs(30));
        });
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    /// A signal between the results and the start of the wait (while it is announced) still
    /// ends it: under load the test at the command line once waited the whole linger.
    #[test]
    fn a_signal_just_before_the_wait_ends_it() {
        let signals = Signals::default();
        signals.results_written();
        signals.on_signal(1);
        let started = Instant::now();
        signals.wait(Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }

    /// A signal while the results are written skips the wait after them.
    #[test]
    fn a_signal_while_the_results_are_written_skips_the_wait() {
        let signals = Signals::default();
        signals.run_started();
        signals.run_ended();
        signals.on_signal(1);
        signals.results_written();
        let started = Instant::now();
        signals.wait(Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }

    /// In a run, the second signal ends the grace (the results still to be written) and
    /// exits nothing; before the first request, in `journey test` and while the results are
    /// written, there is no grace to end.
    #[test]
    fn the_second_signal_of_a_run_ends_its_grace() {
        let signals = Signals::default();
        signals.run_started();
        signals.on_signal(1);
        assert!(signals.interrupted() && !signals.grace_cut_flag().load(Ordering::SeqCst));
        signals.on_signal(2);
        assert!(signals.grace_cut_flag().load(Ordering::SeqCst), "the grace ends");
        // (A third exits the process: the CLI's `run_ends` tests see it.)
        let test = Signals::default();
        test.run_started();
        test.cancel_at_once();
        test.on_signal(1);
        assert!(!test.grace_cut_flag().load(Ordering::SeqCst));
    }

    /// `journey test` of a journey that never waits: one SIGTERM said the journey was
    /// cancelled and the process ran on (a `timeout` sends one signal). The first signal now
    /// has the handler watch for the journey's end, and the process ends when none comes.
    #[test]
    fn journey_tests_first_signal_watches_for_the_journeys_end() {
        let test = Signals::default();
        test.cancel_at_once();
        test.run_started();
        assert!(test.on_signal(1), "the journey in flight is watched");
        let started = Instant::now();
        assert!(!test.ended_within(Duration::from_millis(120)), "a journey that never ended");
        assert!(started.elapsed() >= Duration::from_millis(120));
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                test.run_ended();
            });
            assert!(test.ended_within(Duration::from_secs(30)), "a journey cancelled at its wait");
        });
        let run = Signals::default();
        run.run_started();
        assert!(!run.on_signal(1), "a run's grace is not watched");
    }

    #[test]
    fn a_wait_without_a_signal_lasts_its_time() {
        let signals = Signals::default();
        let started = Instant::now();
        signals.wait(Duration::from_millis(120));
        assert!(started.elapsed() >= Duration::from_millis(120));
    }
}

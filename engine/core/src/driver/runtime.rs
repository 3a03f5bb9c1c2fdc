//! Building a core's runtime: by default the engine's own io_uring runtime (SINGLE_ISSUER |
//! DEFER_TASKRUN, a plain ring on kernels without them), or monoio's epoll when it cannot start
//! (with the reason); monoio's io_uring runtime when asked for by name; and the two things the
//! engine asks of a running one: spawn a task, sleep.

use std::future::Future;
use std::time::Duration;

use super::uring_diagnosis;
use super::{Driver, DriverChoice};
use crate::limits::URING_ENTRIES;

type UringRuntime = monoio::Runtime<monoio::time::TimeDriver<monoio::IoUringDriver>>;
type EpollRuntime = monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>>;

/// A runtime that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// `--driver io_uring` and io_uring cannot start here: the diagnosed cause and its fix.
    #[error("io_uring runtime: {diagnosis} (or use --driver epoll)")]
    IoUring {
        /// Why io_uring could not start, and what to do about it.
        diagnosis: String,
    },
    /// Not even epoll started.
    #[error("epoll runtime: {0}")]
    Epoll(#[source] std::io::Error),
    /// `--driver own` and its ring (or the alarm its timers wait on) cannot start here.
    #[error("--driver own: {diagnosis} (or use --driver io_uring or --driver epoll)")]
    Own {
        /// Why, and what to do about it.
        diagnosis: String,
    },
}

/// A built runtime of either kind.
pub enum CoreRuntime {
    /// io_uring.
    Uring(Box<UringRuntime>),
    /// epoll.
    Epoll(Box<EpollRuntime>),
    /// The engine's own io_uring runtime.
    Own(super::ring::OwnRuntime),
}

impl CoreRuntime {
    /// Builds a runtime on the current thread. `Auto` is the own runtime; when it cannot start,
    /// epoll, with the reason returned alongside (in the user's words). `MITE_DRIVER` (a
    /// `--driver` value) stands in for `Auto` when set: how a test suite written for the default
    /// runs on another driver.
    pub fn build(choice: DriverChoice) -> Result<(CoreRuntime, Option<String>), DriverError> {
        let choice = match choice {
            DriverChoice::Auto => auto_stands_for(),
            chosen => chosen,
        };
        match choice {
            DriverChoice::Epoll => Ok((build_epoll()?, None)),
            DriverChoice::Own => {
                build_own().map(|rt| (rt, None)).map_err(|refused| DriverError::Own { diagnosis: refused.diagnosis() })
            }
            DriverChoice::IoUring => {
                build_uring().map(|rt| (rt, None)).map_err(|e| DriverError::IoUring { diagnosis: diagnosis(&e) })
            }
            DriverChoice::Auto => match build_own() {
                Ok(rt) => Ok((rt, None)),
                Err(refused) => Ok((build_epoll()?, Some(fallback_reason(&refused)))),
            },
        }
    }

    /// The driver this runtime uses.
    pub fn driver(&self) -> Driver {
        match self {
            CoreRuntime::Uring(_) => Driver::IoUring,
            CoreRuntime::Epoll(_) => Driver::Epoll,
            CoreRuntime::Own(_) => Driver::Own,
        }
    }

    /// Runs `future` to completion on this runtime.
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        match self {
            CoreRuntime::Uring(rt) => rt.block_on(future),
            CoreRuntime::Epoll(rt) => rt.block_on(future),
            CoreRuntime::Own(rt) => rt.block_on(future),
        }
    }
}

impl Drop for CoreRuntime {
    /// The core's timers and socket sweep go with it: the tasks still sleeping are dropped
    /// inside the runtime (their connections close through it), and the next runtime on this
    /// thread starts afresh.
    fn drop(&mut self) {
        let mut sleeping = super::timer::forget_all();
        sleeping.extend(super::io_deadlines::forget_sweeper());
        if !sleeping.is_empty() {
            self.block_on(async move { drop(sleeping) });
        }
    }
}

/// What `Auto` means here: `MITE_DRIVER` when it names a driver, else `Auto` itself.
fn auto_stands_for() -> DriverChoice {
    std::env::var("MITE_DRIVER").ok().and_then(|value| value.parse().ok()).unwrap_or(DriverChoice::Auto)
}

/// io_uring, with the deferred flags when the kernel has them (6.1+), a plain ring otherwise
/// (or when `MITE_URING_PLAIN` is set).
fn build_uring() -> std::io::Result<CoreRuntime> {
    if std::env::var_os("MITE_URING_PLAIN").is_some() {
        return build_uring_with(false);
    }
    build_uring_with(true).or_else(|_| build_uring_with(false))
}

fn build_uring_with(deferred: bool) -> std::io::Result<CoreRuntime> {
    let mut ring = io_uring::IoUring::builder();
    if deferred {
        // One thread submits to each ring, and completions are processed only when the core
        // asks for them: no inter-processor interrupts, batched task work.
        ring.setup_single_issuer().setup_defer_taskrun().setup_coop_taskrun();
    }
    monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
        .with_entries(URING_ENTRIES)
        .uring_builder(ring)
        .enable_timer()
        .build()
        .map(|rt| CoreRuntime::Uring(Box::new(rt)))
}

/// What kept the own runtime from starting.
#[derive(Debug)]
enum OwnRefused {
    /// The ring: why io_uring cannot start here, and what to do about it.
    Ring {
        /// The diagnosed cause and its fix.
        diagnosis: String,
    },
    /// The ring started, but the timerfd its timers wait on did not.
    Alarm(std::io::Error),
}

impl OwnRefused {
    /// The cause, as `--driver own` reports it.
    fn diagnosis(&self) -> String {
        match self {
            OwnRefused::Ring { diagnosis } => diagnosis.clone(),
            OwnRefused::Alarm(err) => format!("timerfd: {err}"),
        }
    }
}

/// Why the default runs on epoll, in the user's words: what refused, and that epoll runs.
fn fallback_reason(refused: &OwnRefused) -> String {
    match refused {
        OwnRefused::Ring { diagnosis } => format!("io_uring unavailable ({diagnosis}); using epoll"),
        OwnRefused::Alarm(_) => format!("io_uring timer alarm unavailable ({}); using epoll", refused.diagnosis()),
    }
}

/// The own runtime: deferred task work when the kernel has it (and `MITE_URING_PLAIN` is not
/// set), a plain ring otherwise.
fn build_own() -> Result<CoreRuntime, OwnRefused> {
    let plain = std::env::var_os("MITE_URING_PLAIN").is_some();
    let runtime = match plain {
        true => super::ring::OwnRuntime::build(URING_ENTRIES, false),
        false => super::ring::OwnRuntime::build(URING_ENTRIES, true)
            .or_else(|_| super::ring::OwnRuntime::build(URING_ENTRIES, false)),
    }
    .map_err(|err| OwnRefused::Ring { diagnosis: diagnosis(&err) })?;
    // Its timers wait on an alarm read through the ring: refused at start, not at a first sleep.
    super::timer::prepare_own_alarm().map_err(OwnRefused::Alarm)?;
    Ok(CoreRuntime::Own(runtime))
}

fn build_epoll() -> Result<CoreRuntime, DriverError> {
    monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
        .map(|rt| CoreRuntime::Epoll(Box::new(rt)))
        .map_err(DriverError::Epoll)
}

fn diagnosis(err: &std::io::Error) -> String {
    uring_diagnosis::diagnose(err.raw_os_error(), &err.to_string(), uring_diagnosis::Facts::of_this_process())
        .to_string()
}

/// Sleeps on the current core's runtime without blocking it (a user's think time): the
/// core's other journeys run meanwhile.
///
/// ```
/// # use mite_core::prelude::*;
/// use std::time::{Duration, Instant};
///
/// async fn think(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let started = Instant::now();
///     sleep(Duration::from_millis(20)).await; // a user's think time: the core runs other journeys
///     ctx.send("slept", &[("enough", &(started.elapsed() >= Duration::from_millis(20)))]);
///     Ok(())
/// }
///
/// let record = JourneyTest::new().run(think).unwrap();
/// assert_eq!(record.messages[0].fields[0].1, "true");
/// ```
pub fn sleep(duration: Duration) -> super::timer::Sleep {
    super::timer::think_for(duration)
}

/// Sleeps without blocking the core, for the engine's own tasks (ticks, polls, schedulers):
/// not a journey's think time.
pub fn pause(duration: Duration) -> super::timer::Sleep {
    super::timer::sleep_for(duration)
}

/// Starts `task` on the current core's runtime; it runs until it returns (nothing joins it).
pub fn spawn<F>(task: F)
where
    F: Future<Output = ()> + 'static,
{
    if super::ring::running() {
        super::ring::spawn(task);
    } else {
        monoio::spawn(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoll_runtime_always_builds() {
        let (mut rt, fallback) = CoreRuntime::build(DriverChoice::Epoll).unwrap();
        assert_eq!(rt.driver(), Driver::Epoll);
        assert!(fallback.is_none());
        assert_eq!(rt.block_on(async { 2 + 2 }), 4);
    }

    #[test]
    fn a_spawned_task_runs_while_the_caller_sleeps() {
        let (mut rt, _) = CoreRuntime::build(DriverChoice::Epoll).unwrap();
        let ran = rt.block_on(async {
            let flag = std::rc::Rc::new(std::cell::Cell::new(false));
            let set = flag.clone();
            spawn(async move { set.set(true) });
            sleep(Duration::from_millis(1)).await;
            flag.get()
        });
        assert!(ran);
    }

    /// The default is the own runtime; where its ring or its alarm is refused, epoll, with a
    /// reason naming what refused (the same cause `--driver own` reports).
    #[test]
    fn the_default_is_the_own_runtime_or_epoll_with_the_reason() {
        if let Ok(value) = std::env::var("MITE_DRIVER") {
            println!("MITE_DRIVER={value} stands in for the default: nothing to check");
            return;
        }
        let (mut rt, reason) = CoreRuntime::build(DriverChoice::Auto).unwrap();
        match rt.driver() {
            Driver::Own => {
                assert!(reason.is_none(), "no fallback, no reason: {reason:?}");
                let on_the_ring = rt.block_on(async {
                    sleep(Duration::from_millis(1)).await;
                    super::super::ring::running()
                });
                assert!(on_the_ring, "the default's tasks run on the own runtime");
            }
            Driver::Epoll => {
                let reason = reason.expect("a fallback says why");
                drop(rt);
                let own = CoreRuntime::build(DriverChoice::Own).err().expect("the own runtime refused here too");
                let DriverError::Own { diagnosis } = own else { panic!("{own}") };
                assert!(reason.contains(&diagnosis), "{reason:?} names what refused: {diagnosis:?}");
                assert!(reason.starts_with("io_uring ") && reason.ends_with("; using epoll"), "{reason}");
            }
            other => panic!("the default ran {other}, neither the own runtime nor epoll"),
        }
    }

    #[test]
    fn the_fallback_reason_names_what_refused() {
        let ring = OwnRefused::Ring { diagnosis: "io_uring_setup is blocked by this process's seccomp filter".into() };
        assert_eq!(
            fallback_reason(&ring),
            "io_uring unavailable (io_uring_setup is blocked by this process's seccomp filter); using epoll"
        );
        assert_eq!(ring.diagnosis(), "io_uring_setup is blocked by this process's seccomp filter");
        let alarm = OwnRefused::Alarm(std::io::Error::from_raw_os_error(libc::EMFILE));
        assert_eq!(
            fallback_reason(&alarm),
            "io_uring timer alarm unavailable (timerfd: Too many open files (os error 24)); using epoll"
        );
        assert_eq!(alarm.diagnosis(), "timerfd: Too many open files (os error 24)");
    }
}

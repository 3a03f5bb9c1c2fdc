//! The executor underneath every core: which I/O driver runs (the engine's own io_uring
//! runtime, `ring`, or monoio's epoll when it cannot start, and why; or monoio's io_uring
//! runtime when asked for),
//! building a core's runtime, spawning tasks and sleeping on it,
//! the clock a request's times are read from ([`Moment`]), and the calling thread's CPU time. With `http::transport`, `http::client` and `ws::client`,
//! the only code that names the executor (monoio).

mod alarm;
mod clock;
mod deadlines;
mod io_deadlines;
// The own runtime: its tasks, wakers and ring operations are the engine's one executor made
// by hand, fenced in this module (each block with its SAFETY comment).
#[allow(unsafe_code)]
pub mod ring;
mod runtime;
mod timer;
pub mod uring_diagnosis;

use std::fmt;

pub use clock::Moment;
pub use io_deadlines::IoDeadline;
pub use runtime::{CoreRuntime, DriverError, pause, sleep, spawn};
pub use timer::{Sleep, TimedOut, Timeout, first_think_ends, sleep_until, think_until, thinking, timeout};

/// Which I/O driver to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DriverChoice {
    /// The engine's own io_uring runtime when it starts, monoio's epoll otherwise.
    #[default]
    Auto,
    /// monoio's io_uring runtime, or fail.
    IoUring,
    /// monoio's epoll runtime only.
    Epoll,
    /// The engine's own io_uring runtime (what `Auto` tries first), or fail.
    Own,
}

/// A `--driver` value that names no driver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown driver {given:?}: expected auto, io_uring, epoll or own")]
pub struct UnknownDriver {
    /// What was given.
    pub given: String,
}

impl std::str::FromStr for DriverChoice {
    type Err = UnknownDriver;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(DriverChoice::Auto),
            "io_uring" | "io-uring" | "uring" => Ok(DriverChoice::IoUring),
            "epoll" | "legacy" => Ok(DriverChoice::Epoll),
            "own" => Ok(DriverChoice::Own),
            other => Err(UnknownDriver { given: other.to_string() }),
        }
    }
}

/// The driver a core actually runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// Linux io_uring through monoio's runtime.
    IoUring,
    /// epoll (monoio's legacy driver).
    Epoll,
    /// The engine's own io_uring runtime.
    Own,
}

impl Driver {
    /// Name used in output and results.
    pub fn name(self) -> &'static str {
        match self {
            Driver::IoUring => "io_uring",
            Driver::Epoll => "epoll",
            Driver::Own => "own",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// CPU time (user + system) the calling thread has used, µs.
pub fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the plain struct passed by pointer and reads nothing else.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000).saturating_add(ts.tv_nsec as u64 / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{crate_imports, source_files, without_tests};

    #[test]
    fn driver_choice_parses() {
        assert_eq!("auto".parse::<DriverChoice>(), Ok(DriverChoice::Auto));
        assert_eq!("epoll".parse::<DriverChoice>(), Ok(DriverChoice::Epoll));
        assert_eq!("io-uring".parse::<DriverChoice>(), Ok(DriverChoice::IoUring));
        assert_eq!("own".parse::<DriverChoice>(), Ok(DriverChoice::Own));
        let err = "kqueue".parse::<DriverChoice>().unwrap_err();
        assert_eq!(err.to_string(), "unknown driver \"kqueue\": expected auto, io_uring, epoll or own");
    }

    /// Architecture invariant: only the driver, the HTTP transport and client, and the
    /// WebSocket client name the executor; everything else reaches it through `driver`.
    #[test]
    fn only_the_driver_and_the_connections_name_monoio() {
        const ALLOWED: [&str; 4] = ["driver/", "http/transport.rs", "http/client.rs", "ws/client.rs"];
        let mut offenders = Vec::new();
        for (relative, text) in source_files() {
            if ALLOWED.iter().any(|a| relative.starts_with(a)) {
                continue;
            }
            for (i, line) in text.lines().enumerate() {
                if line.contains("monoio") && !line.trim_start().starts_with("//") {
                    offenders.push(format!("{relative}:{}: {}", i + 1, line.trim()));
                }
            }
        }
        assert!(offenders.is_empty(), "monoio named outside driver/ and the connections:\n{}", offenders.join("\n"));
    }

    /// The executor side's layering: a folder imports only from those below it (driver under
    /// http, http under journey, journey under ws::client and exec), never from the scenario
    /// files, the outputs or the run on top. Tests are not scanned.
    #[test]
    fn the_executor_side_imports_only_downwards() {
        const MAY_IMPORT: [(&str, &[&str]); 6] = [
            ("driver/", &["limits", "driver"]),
            ("http/", &["limits", "model", "stats", "driver", "http"]),
            ("journey/", &["limits", "model", "stats", "driver", "http", "journey"]),
            ("ws/client.rs", &["limits", "model", "stats", "driver", "http", "journey", "ws"]),
            ("ws/mod.rs", &["ws"]),
            ("exec/", &["limits", "model", "stats", "driver", "http", "journey", "exec"]),
        ];
        let mut offenders = Vec::new();
        for (relative, text) in source_files() {
            let Some((_, allowed)) = MAY_IMPORT.iter().find(|(folder, _)| relative.starts_with(folder)) else {
                continue;
            };
            for (line, module, code) in crate_imports(without_tests(&text)) {
                if !module.is_empty() && !allowed.contains(&module.as_str()) {
                    offenders.push(format!("{relative}:{line}: {}", code.trim()));
                }
            }
        }
        assert!(offenders.is_empty(), "imports pointing up:\n{}", offenders.join("\n"));
    }

    #[test]
    fn thread_cpu_time_moves_forward() {
        let before = thread_cpu_us();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_us() > before);
    }
}

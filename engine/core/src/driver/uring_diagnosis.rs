//! Why io_uring could not start on this machine, told apart by cause, each with its fix: a
//! seccomp filter (containers: Docker 25+ and containerd 2.0 default profiles deny io_uring),
//! the `kernel.io_uring_disabled` sysctl, RLIMIT_MEMLOCK, or a kernel without io_uring.
//!
//! `diagnose` is a pure function of the error and a few facts; `Facts::of_this_process` reads
//! them from /proc.

use std::fmt;

const EPERM: i32 = 1;
const ENOMEM: i32 = 12;
const ENOSYS: i32 = 38;

/// What /proc says about this process and kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// `Seccomp:` in /proc/self/status: 0 none, 1 strict, 2 filter.
    pub seccomp_mode: Option<u8>,
    /// /proc/sys/kernel/io_uring_disabled (Linux 6.6+): 0 allowed, 1 only for io_uring_group, 2 off.
    pub io_uring_disabled: Option<u8>,
}

impl Facts {
    /// Reads the facts for the calling process.
    pub fn of_this_process() -> Facts {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field =
            |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse::<u8>().ok());
        let sysctl = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").ok();
        Facts { seccomp_mode: field("Seccomp:"), io_uring_disabled: sysctl.and_then(|v| v.trim().parse().ok()) }
    }
}

/// The cause of a failed io_uring start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A seccomp filter (a container's profile) denies io_uring_setup.
    Seccomp { errno: i32 },
    /// The `kernel.io_uring_disabled` sysctl forbids it.
    Sysctl { value: u8 },
    /// Ring memory is over RLIMIT_MEMLOCK.
    Memlock,
    /// The kernel has no io_uring (too old, or built without it).
    NoKernelSupport,
    /// EPERM, and /proc could not say whether a filter or the sysctl refused it.
    Refused,
    /// Something else; the error says what.
    Other,
}

/// A diagnosis: the cause and the operating-system error it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// What went wrong.
    pub cause: Cause,
    /// The error as the system reported it.
    pub error: String,
}

/// Tells the cause of `errno` from io_uring_setup apart, given the facts.
pub fn diagnose(errno: Option<i32>, error: &str, facts: Facts) -> Diagnosis {
    let filtered = facts.seccomp_mode == Some(2);
    let cause = match errno {
        Some(EPERM) if filtered => Cause::Seccomp { errno: EPERM },
        Some(EPERM) if matches!(facts.io_uring_disabled, Some(v) if v > 0) => {
            Cause::Sysctl { value: facts.io_uring_disabled.unwrap_or(0) }
        }
        Some(EPERM) if facts.seccomp_mode.is_none() => Cause::Refused,
        Some(ENOSYS) if filtered => Cause::Seccomp { errno: ENOSYS },
        Some(ENOSYS) => Cause::NoKernelSupport,
        Some(ENOMEM) => Cause::Memlock,
        _ => Cause::Other,
    };
    Diagnosis { cause, error: error.to_owned() }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = &self.error;
        match self.cause {
            Cause::Seccomp { errno } => write!(
                f,
                "io_uring_setup is blocked by this process's seccomp filter ({error}; a container's default \
                 profile denies io_uring{}): run under a profile that allows io_uring_setup, io_uring_enter \
                 and io_uring_register (Kubernetes: tools/k8s/seccomp-io-uring.json as a Localhost profile; \
                 Docker: --security-opt seccomp=tools/k8s/seccomp-io-uring.json)",
                if errno == ENOSYS { ", answering ENOSYS" } else { "" }
            ),
            Cause::Sysctl { value } => write!(
                f,
                "io_uring is disabled by the kernel.io_uring_disabled sysctl (= {value}, {error}): set it to 0 \
                 on the host{}",
                if value == 1 { ", or run in the group named by kernel.io_uring_group" } else { "" }
            ),
            Cause::Memlock => write!(
                f,
                "{error}: ring memory counts against RLIMIT_MEMLOCK for non-root users, about 112 KiB per core; \
                 raise `ulimit -l`"
            ),
            Cause::Refused => write!(
                f,
                "io_uring_setup was refused ({error}) by a seccomp filter (a container's default profile \
                 denies io_uring: use tools/k8s/seccomp-io-uring.json) or by the kernel.io_uring_disabled \
                 sysctl; /proc could not tell which"
            ),
            Cause::NoKernelSupport => {
                write!(f, "this kernel has no io_uring ({error}): Linux 5.11 or later with CONFIG_IO_URING")
            }
            Cause::Other => f.write_str(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(seccomp: u8, disabled: Option<u8>) -> Facts {
        Facts { seccomp_mode: Some(seccomp), io_uring_disabled: disabled }
    }

    #[test]
    fn causes_are_told_apart() {
        let cause = |errno, f| diagnose(Some(errno), "x", f).cause;
        assert_eq!(cause(EPERM, facts(2, Some(0))), Cause::Seccomp { errno: EPERM });
        assert_eq!(cause(ENOSYS, facts(2, None)), Cause::Seccomp { errno: ENOSYS });
        assert_eq!(cause(EPERM, facts(0, Some(2))), Cause::Sysctl { value: 2 });
        assert_eq!(cause(EPERM, facts(2, Some(2))), Cause::Seccomp { errno: EPERM });
        assert_eq!(cause(ENOMEM, facts(0, Some(0))), Cause::Memlock);
        assert_eq!(cause(ENOMEM, facts(2, Some(0))), Cause::Memlock);
        assert_eq!(cause(ENOSYS, facts(0, None)), Cause::NoKernelSupport);
        assert_eq!(cause(EPERM, facts(0, Some(0))), Cause::Other);
        assert_eq!(diagnose(None, "weird", facts(0, None)).cause, Cause::Other);
        let no_proc = Facts { seccomp_mode: None, io_uring_disabled: None };
        assert_eq!(cause(EPERM, no_proc), Cause::Refused);
        assert!(diagnose(Some(EPERM), "x", no_proc).to_string().contains("seccomp-io-uring.json"));
    }

    #[test]
    fn messages_name_the_cause_and_the_fix() {
        let text = |errno, f| diagnose(Some(errno), "Operation not permitted (os error 1)", f).to_string();
        let seccomp = text(EPERM, facts(2, Some(0)));
        assert!(seccomp.contains("seccomp") && seccomp.contains("seccomp-io-uring.json"), "{seccomp}");
        assert!(!seccomp.contains("MEMLOCK"), "{seccomp}");
        let memlock = text(ENOMEM, facts(0, Some(0)));
        assert!(memlock.contains("RLIMIT_MEMLOCK") && !memlock.contains("seccomp"), "{memlock}");
        assert!(text(ENOSYS, facts(0, None)).contains("no io_uring"));
        assert!(text(EPERM, facts(0, Some(1))).contains("io_uring_group"));
    }
}

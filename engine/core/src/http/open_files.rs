//! The process's open-file limit, named in the error a connect gets when it is reached: every
//! connection is a descriptor, and "too many open files" alone does not say which limit or what
//! to change.

use std::io;
use std::sync::OnceLock;

/// The detail of a connect that failed, naming the open-file limit and the fix when that limit
/// (or the system's) was the cause; `None` for any other failure.
pub(crate) fn limit_hint(err: &io::Error) -> Option<String> {
    match err.raw_os_error()? {
        libc::EMFILE => Some(match soft_limit() {
            Some(files) => format!(
                "too many open files: this process may have at most {files} open (ulimit -n), one per \
                 connection; raise that limit, or run fewer journeys per core (or a lower --max-connections)"
            ),
            None => "too many open files: the process reached its open-file limit (ulimit -n), one file per \
                     connection; raise that limit, or run fewer journeys per core (or a lower --max-connections)"
                .to_string(),
        }),
        libc::ENFILE => Some(
            "too many open files in the system: the kernel's table of open files is full (fs.file-max); \
             raise it, or run fewer journeys on this machine"
                .to_string(),
        ),
        _ => None,
    }
}

/// The soft limit on open files (`ulimit -n`), read once: the CLI raises it to the hard limit
/// before any connection is made, and a process that reaches it asks on its first failed
/// connect, not on every one.
fn soft_limit() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes the plain struct it is given a valid pointer to.
        #[allow(unsafe_code)]
        let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) };
        (read == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_names_the_limit_and_the_fix() {
        let hint = limit_hint(&io::Error::from_raw_os_error(libc::EMFILE)).unwrap();
        let files = soft_limit().expect("a finite open-file limit in tests");
        assert!(hint.contains(&format!("at most {files} open (ulimit -n)")), "{hint}");
        assert!(hint.contains("raise that limit, or run fewer journeys per core"), "{hint}");
        assert!(limit_hint(&io::Error::from_raw_os_error(libc::ENFILE)).unwrap().contains("fs.file-max"));
        assert_eq!(limit_hint(&io::Error::from_raw_os_error(libc::ECONNREFUSED)), None);
        assert_eq!(limit_hint(&io::Error::other("no os error")), None);
    }
}

//! The command line's own errors, each naming the flag, variable, file or directory it is
//! about in the user's words. Commands add the core crates' errors to these through `anyhow`
//! at the top (`commands::dispatch`), which prints the chain as one line.

use std::path::PathBuf;

/// What the command line itself refuses (the engine's own errors come from `mite_core`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A flag or environment variable whose value cannot be used: `--segment "3/2": need 0 <= K < N`.
    #[error("{name} {value:?}: {why}")]
    BadValue {
        /// The flag (`--segment`) or variable (`JOB_COMPLETION_INDEX`).
        name: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong and what to write instead.
        why: String,
    },
    /// A flag that needs another flag or variable: `--segments 3 needs JOB_COMPLETION_INDEX ...`.
    #[error("{flag} needs {needs}")]
    Needs {
        /// The flag with its value.
        flag: String,
        /// What it needs, in the user's words.
        needs: &'static str,
    },
    /// Two sources of one setting that disagree: `--segment 0/2 and MITE_SEGMENT 1/2 name
    /// different segments`.
    #[error("{first} and {second} name different segments; give this injector's segment one way")]
    SegmentConflict {
        /// The first source with its value.
        first: String,
        /// The other, with its value.
        second: String,
    },
    /// `new DIR`: a directory whose last part cannot name a crate.
    #[error(
        "new: cannot name a crate after the directory {:?}: its last part must start with a letter \
         (e.g. mite-engine new load-tests)",
        dir.display().to_string()
    )]
    CrateName {
        /// The directory given.
        dir: PathBuf,
    },
    /// `new DIR`: a directory whose name has letters a crate name cannot hold (`ünï`).
    #[error(
        "new: cannot name a crate after the directory {:?}: crate names are ASCII letters, digits, - and _, \
         and {chars} are not; give the directory an ASCII name, e.g. mite-engine new load-tests \
         (nothing was written)",
        dir.display().to_string()
    )]
    NonAsciiName {
        /// The directory given.
        dir: PathBuf,
        /// The characters that are not ASCII, as the user wrote them: `ü, ï`.
        chars: String,
    },
    /// `new DIR`: a directory whose name gives a crate that cannot build (`self`, `std`,
    /// `mite-engine`), with a name that can.
    #[error(
        "new: cannot name a crate after the directory {:?}: `{name}` {why}; give another directory, \
         e.g. mite-engine new {suggestion} (nothing was written)",
        dir.display().to_string()
    )]
    ReservedName {
        /// The directory given.
        dir: PathBuf,
        /// The crate name it would give.
        name: String,
        /// Why that name cannot be used: `is a Rust keyword`.
        why: &'static str,
        /// The directory to give instead, as a shell word: the same place, `-load` added to
        /// the name.
        suggestion: String,
    },
    /// `new DIR`: DIR, or a directory above it, is a file.
    #[error("new: {} is {what}, not a directory (nothing was written)", path.display())]
    NotADirectory {
        /// DIR itself or the part of it that is not a directory.
        path: PathBuf,
        /// `a file`, `a special file` (a FIFO, a device, a socket) or `a link to a path that
        /// does not exist`.
        what: &'static str,
    },
    /// `new DIR`: a file of the crate could not be written (a full disk, a read-only place);
    /// what was written before it is removed, so DIR is as it was.
    #[error("new: writing {} (the crate's files written before it were removed)", path.display())]
    NotWritten {
        /// The file or directory that could not be written.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// `new DIR`: the directory exists and holds something.
    #[error("new: {} is not empty; give a new or empty directory (nothing was written)", dir.display())]
    NotEmpty {
        /// The directory given.
        dir: PathBuf,
    },
    /// `new --engine-path PATH`: not a checkout of the engine.
    #[error(
        "new: --engine-path {}: not a mite-engine checkout (neither it nor its engine/cli has the \
         mite-engine package's Cargo.toml)",
        path.display()
    )]
    NotACheckout {
        /// The path given.
        path: PathBuf,
    },
    /// A file or directory that could not be read, written or created; the cause follows.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done, with the command or flag: `new: writing`, `new: --engine-path`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// [`Error::Io`] for `path`, as a closure for `map_err`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }
}

/// An error and its causes as one line, `outer: cause: cause`, each cause said once: many
/// errors already include their cause's words in their own (`--hdr-log: File too large`), and
/// the chain would repeat them.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_said_is_not_said_again() {
        let io = std::io::Error::other("File too large (os error 27)");
        #[derive(Debug, thiserror::Error)]
        #[error("--hdr-log: {0}")]
        struct Says(#[source] std::io::Error);
        let err = anyhow::Error::new(Says(io)).context("the run");
        assert_eq!(one_line(&err), "the run: --hdr-log: File too large (os error 27)");
        let plain = anyhow::anyhow!("reading x").context("--json");
        assert_eq!(one_line(&plain), "--json: reading x");
    }
}

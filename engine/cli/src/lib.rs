//! The engine as a library with its whole command line: a user crate's `main` registers its
//! journeys, datapools and scenarios and hands over to [`main`], which runs every command
//! (`run`, `journey test`, `journey run`, `scenario test/check`, `har convert`, `compare`,
//! `merge`, `demo`, `target`, `new`, `list`) with them.
//!
//! ```no_run
//! use std::process::ExitCode;
//! use mite_engine::prelude::*;
//!
//! async fn browse(ctx: &Ctx, _row: Row) -> JourneyResult {
//!     let url = ctx.config().get("base").unwrap_or("http://127.0.0.1:8080").to_string();
//!     ctx.transaction("home", async {
//!         ctx.http().get(&url).send().await?;
//!         Ok(())
//!     })
//!     .await
//! }
//!
//! fn main() -> ExitCode {
//!     mite_engine::main(|registry| registry.journey("shop:browse", browse))
//! }
//! ```

mod args;
mod commands;
mod error;
mod output;
mod scaffold;
mod schedule;
mod signals;

pub mod testing;

use std::process::ExitCode;

pub use error::Error;
pub use mite_core::prelude;
pub use mite_core::prelude::Registry;

/// Raises the soft limit on open files to the hard limit: every connection is a descriptor.
#[allow(unsafe_code)]
fn raise_open_files_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write the plain struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The whole `mite-engine` command line, with what `register` adds to the registry: parses
/// the arguments, runs the command and returns its exit code (see the README's table).
/// Scenario files (`--scenario FILE.toml`) may name the journeys registered here.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     mite_engine::main(|_registry| {}) // scenario files and the built-in commands only
/// }
/// ```
pub fn main(register: impl FnOnce(&mut Registry)) -> ExitCode {
    raise_open_files_limit();
    let cli = args::Cli::parse_checked();
    let mut registry = Registry::default();
    register(&mut registry);
    match commands::dispatch(cli, registry) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", error::one_line(&err));
            ExitCode::from(commands::EXIT_ERROR)
        }
    }
}

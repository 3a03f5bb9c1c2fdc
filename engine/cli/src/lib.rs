//! The engine as a library with its whole command line: a user crate's `main` registers its
//! journeys, datapools and scenarios and hands over to [`main`], which runs every command
//! (`run`, `journey test`, `journey run`, `scenario test/check`, `har convert`, `compare`,
//! `merge`, `demo`, `target`, `new`, `list`) with them. A user crate's whole `main.rs` (not
//! run here: [`main`] would parse the doc test's own command line; see [`testing`] for
//! journeys run from tests):
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
mod exit_reason;
mod merge;
mod output;
mod scaffold;
mod schedule;
mod signals;
mod stderr_lines;

pub mod testing;

use std::process::ExitCode;

/// [`main`] prints one as `error: ...`, naming the flag, variable or file it is about.
///
/// ```
/// let err = mite_engine::Error::BadValue { name: "--start-at", value: "soon".into(), why: "not a time".into() };
/// assert_eq!(err.to_string(), r#"--start-at "soon": not a time"#);
/// ```
pub use error::Error;
pub use mite_core::prelude;
/// ```
/// use mite_engine::prelude::*;
///
/// let mut registry = mite_engine::Registry::default(); // the prelude's Registry
/// registry.scenario("shop:empty", |_config| Ok(Scenario::default()));
/// assert_eq!(registry.scenario_names().collect::<Vec<_>>(), ["shop:empty"]);
/// ```
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
/// The registering function is plain code, so a test can check it (this one runs):
///
/// ```
/// use mite_engine::prelude::*;
///
/// async fn browse(ctx: &Ctx, _row: Row) -> JourneyResult {
///     ctx.transaction("home", async { Ok(()) }).await
/// }
///
/// fn register(registry: &mut Registry) {
///     registry.journey("shop:browse", browse);
///     registry.datapool("shop:users", || DataPool::recyclable("users", vec![Row::new(["ann"])]));
/// }
///
/// let mut registry = Registry::default();
/// register(&mut registry);
/// let record = JourneyTest::new().run_registered(&registry, "shop:browse").unwrap();
/// assert_eq!(record.transactions[0].name, "home");
/// ```
///
/// and `main` hands it to the command line (not run here: it would parse the doc test's own
/// arguments and run a command):
///
/// ```no_run
/// # fn register(_registry: &mut mite_engine::Registry) {}
/// fn main() -> std::process::ExitCode {
///     mite_engine::main(register) // `cargo run -- journey test shop:browse shop:users`
/// }
/// ```
pub fn main(register: impl FnOnce(&mut Registry)) -> ExitCode {
    raise_open_files_limit();
    let cli = args::Cli::parse_checked();
    let mut registry = Registry::default();
    register(&mut registry);
    if let Err(twice) = commands::registered_once(&registry) {
        commands::tell(format_args!("error: {twice}"));
        return ExitCode::from(commands::EXIT_ERROR);
    }
    match commands::dispatch(cli, registry) {
        Ok(code) => code,
        Err(err) => {
            commands::tell(format_args!("error: {}", error::one_line(&err)));
            ExitCode::from(commands::EXIT_ERROR)
        }
    }
}

//! `mite-engine`: the command line. Parses flags, picks the scenario, runs it, prints and
//! writes the results. Everything else lives in `mite-core`.

mod args;
mod commands;
mod schedule;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(commands::EXIT_ERROR)
        }
    }
}

//! `mite-engine`: the shipped binary, the engine's command line ([`mite_engine::main`]) with
//! the example journeys, datapools and scenarios of `journeys/` registered.

use std::process::ExitCode;

fn main() -> ExitCode {
    mite_engine::main(mite_journeys::register)
}

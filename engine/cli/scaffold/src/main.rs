//! The `{{package}}` load tests: mite-engine's whole command line with this crate's journeys,
//! datapools and scenarios registered.

use std::process::ExitCode;

fn main() -> ExitCode {
    mite_engine::main({{lib}}::register)
}

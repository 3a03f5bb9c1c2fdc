//! Runs the tools/ target in its own process and prints its address; `--pin CORE` pins its
//! server thread to that core. On stdin's close it prints `hits N` (requests received) and exits.

use std::io::Read;

use mite_tools::{Target, TargetOptions};

fn main() {
    let mut options = TargetOptions::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, core] if flag == "--pin" => match core.parse() {
            Ok(core) => options.pin = vec![core],
            Err(_) => fail(&format!("--pin {core:?}: expected a core number")),
        },
        _ => fail(&format!("unexpected arguments {args:?}; usage: mite-test-target [--pin CORE]")),
    }
    let target = Target::start(options).unwrap_or_else(|e| fail(&format!("start the target: {e}")));
    println!("{}", target.addr());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    println!("hits {}", target.hits());
}

fn fail(why: &str) -> ! {
    eprintln!("mite-test-target: {why}");
    std::process::exit(2);
}

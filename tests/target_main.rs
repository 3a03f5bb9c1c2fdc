//! Runs the tools/ target in its own process and prints its address; exits when stdin closes.

use std::io::Read;

use mite_tools::{Target, TargetOptions};

fn main() {
    let target = Target::start(TargetOptions::default()).expect("start target");
    println!("{}", target.addr());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    println!("hits {}", target.hits());
}

//! `mite-target`: runs the local target server from the command line (for benchmarks).

use std::net::SocketAddr;

use mite_tools::{Target, TargetOptions};

fn usage() -> ! {
    eprintln!("usage: mite-target [--addr 127.0.0.1:8080] [--threads 1] [--pin 1,2]");
    std::process::exit(2);
}

fn main() {
    let mut options = TargetOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--addr" => options.addr = value.parse::<SocketAddr>().unwrap_or_else(|_| usage()),
            "--threads" => options.threads = value.parse().unwrap_or_else(|_| usage()),
            "--pin" => {
                options.pin = value.split(',').map(|v| v.trim().parse().unwrap_or_else(|_| usage())).collect();
            }
            _ => usage(),
        }
    }
    let target = match Target::start(options) {
        Ok(target) => target,
        Err(err) => {
            eprintln!("mite-target: {err}");
            std::process::exit(1);
        }
    };
    println!("mite-target listening on http://{}", target.addr());
    loop {
        std::thread::park();
    }
}

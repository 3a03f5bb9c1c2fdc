//! `mite-seccomp`: runs a command under an OCI seccomp profile, as a container runtime would
//! install it (for trying mite-engine under a Kubernetes profile without a cluster).
//!
//!   mite-seccomp [--cap CAP_NAME]... [-v] PROFILE.json -- COMMAND [ARGS...]

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

fn usage() -> ExitCode {
    eprintln!("usage: mite-seccomp [--cap CAP_NAME]... [-v] PROFILE.json -- COMMAND [ARGS...]");
    eprintln!("  runs COMMAND under the profile; --cap names a capability the container keeps (default: none)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(split) = args.iter().position(|a| a == "--") else { return usage() };
    let (options, command) = (&args[..split], &args[split + 1..]);
    let (mut caps, mut profile, mut verbose) = (Vec::new(), None, false);
    let mut it = options.iter();
    while let Some(option) = it.next() {
        match option.as_str() {
            "--cap" => match it.next() {
                Some(cap) => caps.push(cap.as_str()),
                None => return usage(),
            },
            "-v" => verbose = true,
            path if profile.is_none() && !path.starts_with('-') => profile = Some(path),
            _ => return usage(),
        }
    }
    let (Some(profile), Some(program)) = (profile, command.first()) else { return usage() };
    let text = match std::fs::read_to_string(profile) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("mite-seccomp: reading {profile}: {e}");
            return ExitCode::from(1);
        }
    };
    let compiled = match mite_seccomp::compile(&text, &caps) {
        Ok(compiled) => compiled,
        Err(e) => {
            eprintln!("mite-seccomp: {profile}: {e}");
            return ExitCode::from(1);
        }
    };
    if verbose {
        eprintln!(
            "mite-seccomp: {profile}: {} syscalls allowed unconditionally, {} names not on this architecture, {} filters",
            compiled.allowed.len(),
            compiled.unknown_names.len(),
            compiled.programs.len()
        );
    }
    if let Err(e) = mite_seccomp::install(&compiled.programs) {
        eprintln!("mite-seccomp: installing the filter: {e}");
        return ExitCode::from(1);
    }
    let err = Command::new(program).args(&command[1..]).exec();
    eprintln!("mite-seccomp: running {program}: {err}");
    ExitCode::from(127)
}

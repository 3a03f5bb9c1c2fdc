//! What a user new to the engine meets in the first hour, as README tells it: the local target's
//! banner names the routes README lists.

mod support;
use support::signal_when;

/// `mite-engine target` listed `/ /json /echo /bytes/N /status/CODE /delay/MS /bad/MODE`, not
/// `/split/MS`, which README lists and the target serves.
#[test]
fn the_target_banner_names_every_route_readme_lists() {
    let args: Vec<String> = ["target", "--addr", "127.0.0.1:0"].map(String::from).to_vec();
    let (out, _) = signal_when(&args, libc::SIGINT, |said| said.contains("Ctrl-C stops it"));
    let said = String::from_utf8_lossy(&out.stderr);
    let banner = said.lines().find(|line| line.contains("target listening on")).expect("the banner");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    for route in ["/json", "/echo", "/bytes/N", "/status/CODE", "/delay/MS", "/split/MS", "/bad/"] {
        assert!(readme.contains(&format!("`{route}")), "README lists {route}");
        assert!(banner.contains(&format!(" {route}")), "the banner lists {route}: {banner}");
    }
}

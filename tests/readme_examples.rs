//! README's examples hold: its scenario-file examples outside the main one (which
//! `scenario_files` checks) load as written (the WebSocket journey, the open-model volume lines),
//! and its Rust examples compile (`build.rs` writes them out; a block that does not compile fails
//! this test's build).

use mite_core::scenario::file as scenario_file;
use mite_tests::ScenarioDir;

fn readme() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap()
}

/// The first ```toml block after `heading` in README.
fn toml_block_after(readme: &str, heading: &str) -> String {
    let section = &readme[readme.find(heading).unwrap_or_else(|| panic!("README has {heading:?}"))..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    section[start..start + section[start..].find("```").unwrap()].to_string()
}

fn load(dir: &ScenarioDir, text: &str) -> Result<(), String> {
    let path = dir.write("readme.toml", text);
    scenario_file::load(&path, &mite_journeys::registry(), &[]).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn readmes_websocket_journey_loads_as_written() {
    let block = toml_block_after(&readme(), "## WebSockets");
    assert!(block.contains("[websockets.ping_pong]"), "{block}");
    let dir = ScenarioDir::new();
    let text = format!(
        "name = \"readme_ws\"\n[config]\nws_url = \"ws://127.0.0.1:1/ws/echo\"\nuser = \"ann\"\n\n{block}\n\
         [[scenario]]\njourney = \"ping_pong\"\nvolume = {{ constant = 1 }}\n"
    );
    load(&dir, &text).unwrap_or_else(|e| panic!("README's WebSocket example: {e}\n{text}"));
}

#[test]
fn readmes_open_model_volume_lines_load_as_written() {
    let block = toml_block_after(&readme(), "## Open model");
    let lines: Vec<&str> = block.lines().filter(|line| line.starts_with("volume = ")).collect();
    assert_eq!(lines.len(), 3, "{block}");
    let dir = ScenarioDir::new();
    for line in lines {
        let text = format!(
            "name = \"readme_open\"\n[journeys.get]\nsteps = [{{ url = \"http://127.0.0.1:1/\" }}]\n\n\
             [[scenario]]\njourney = \"get\"\n{line}\n"
        );
        load(&dir, &text).unwrap_or_else(|e| panic!("README's volume line {line}: {e}\n{text}"));
    }
}

include!(concat!(env!("OUT_DIR"), "/readme_examples.rs"));

#[test]
fn every_rust_block_of_readme_is_compiled() {
    let fences = readme().lines().filter(|line| line.starts_with("```rust")).count();
    assert_eq!(BLOCKS, fences, "a ```rust block build.rs did not take (a fence with more after `rust`?)");
}

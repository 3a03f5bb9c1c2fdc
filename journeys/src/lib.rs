//! The example journeys, datapools and scenarios of the shipped `mite-engine` binary, registered by `module:name`
//! the way Mite names `mite.example:journey`: the first user crate of the engine, using only
//! `mite_core::prelude` (your own journeys go in your own crate: `mite-engine new DIR`).
#![forbid(unsafe_code)] // nothing here needs it: the workspace denies it, this crate refuses it outright

pub mod http_example;
pub mod login_example;
pub mod mite_example;
pub mod websocket_example;

use mite_core::prelude::Registry;

/// Everything this crate provides, in a new registry.
pub fn registry() -> Registry {
    let mut registry = Registry::default();
    register(&mut registry);
    registry
}

/// Adds everything this crate provides, by name, to `registry` (what the shipped
/// `mite-engine` binary's `main` hands to `mite_engine::main`).
pub fn register(registry: &mut Registry) {
    registry.journey("mite_example:journey", mite_example::journey);
    registry.datapool("mite_example:datapool", mite_example::datapool);
    registry.scenario("mite_example:scenario", mite_example::scenario);
    registry.journey("http_example:journey", http_example::journey);
    registry.journey("http_example:user_journey", http_example::user_journey);
    registry.datapool("http_example:users", http_example::users);
    registry.scenario("http_example:scenario", http_example::scenario);
    registry.scenario("http_example:users_scenario", http_example::users_scenario);
    registry.journey("login_example:journey", login_example::journey);
    registry.datapool("login_example:users", login_example::users);
    registry.scenario("login_example:scenario", login_example::scenario);
    registry.journey("websocket_example:echo", websocket_example::echo);
    registry.journey("websocket_example:listen", websocket_example::listen);
}

#[cfg(test)]
mod tests {
    /// This crate is the first user crate: it reaches the engine only through the prelude
    /// (issue 18), as a crate made by `mite-engine new` does through `mite_engine::prelude`.
    #[test]
    fn the_examples_use_only_the_public_surface() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut reached = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code_before_tests = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, line) in code_before_tests.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for (at, _) in code.match_indices("mite_core::") {
                    if !code[at..].starts_with("mite_core::prelude") {
                        reached.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
        assert!(reached.is_empty(), "outside the prelude:\n{}", reached.join("\n"));
    }
}

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

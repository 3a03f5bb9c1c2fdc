//! Journeys, datapools and scenarios compiled into `mite-engine`, registered by `module:name`
//! the way Mite names `mite.example:journey`. Add yours here and to [`registry`].

pub mod http_example;
pub mod login_example;
pub mod mite_example;
pub mod websocket_example;

use mite_core::Registry;

/// Everything this crate provides, by name.
pub fn registry() -> Registry {
    let mut registry = Registry::default();
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
    registry
}

//! Journeys, datapools and scenarios of `{{package}}`, registered by `module:name` (as Mite
//! names `mite.example:journey`).

pub mod shop;

use mite_engine::prelude::Registry;

/// Adds everything this crate provides to the engine's registry.
pub fn register(registry: &mut Registry) {
    registry.journey("shop:browse", shop::browse);
    registry.datapool("shop:users", shop::users);
    registry.scenario("shop:scenario", shop::scenario);
}

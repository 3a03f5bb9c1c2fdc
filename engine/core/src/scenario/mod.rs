//! Scenario files and their journeys: the file schema and loading, declarative journeys,
//! templates, step options, HAR import, preflight warnings, errors in the file's own words.

pub mod capture;
pub mod config_keys;
pub mod declarative;
pub mod duration;
pub mod file;
pub mod file_words;
pub mod har;
pub mod header_words;
pub mod preflight;
pub mod step_options;
pub mod template;
pub mod ws_steps;

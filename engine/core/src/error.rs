//! The crate's one error type: what any of mite-core's entry points can fail with, each
//! variant wrapping the owning module's error, which carries the context a user needs (the
//! file, line and field; the flag; the journey; the result file). Module functions return
//! their own error; code that calls several (the command line, a user's `main`) can use
//! `mite_core::Result` and `?` across all of them.

use crate::driver::{DriverError, UnknownDriver};
use crate::http::HttpError;
use crate::journey::journey_test::JourneyTestError;
use crate::journey::{ScenarioError, UnknownName};
use crate::model::config::ConfigError;
use crate::model::cores::CoresError;
use crate::model::datapool::RowError;
use crate::model::volume::VolumeError;
use crate::output::result_file::ResultFileError;
use crate::output::result_frame::FrameError;
use crate::output::results::MergeError;
use crate::output::threshold::ThresholdError;
use crate::run::RunError;
use crate::scenario::duration::DurationError;
use crate::scenario::file::ScenarioFileError;
use crate::scenario::har::HarError;
use crate::scenario::template::TemplateError;

/// Any of mite-core's errors. The message is the module error's own, unchanged.
///
/// ```
/// use mite_core::prelude::*;
///
/// fn find(registry: &Registry, name: &str) -> mite_core::Result<()> {
///     registry.find_journey(name)?; // an unknown name, with the closest registered ones
///     Ok(())
/// }
///
/// # async fn browse(_ctx: &Ctx, _row: Row) -> JourneyResult { Ok(()) }
/// let mut registry = Registry::default();
/// registry.journey("shop:browse", browse);
/// let err = find(&registry, "shop:brwse").unwrap_err();
/// assert!(matches!(err, mite_core::Error::UnknownName(_)));
/// assert_eq!(err.to_string(), r#"unknown journey "shop:brwse"; did you mean shop:browse?"#);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scenario file that cannot be run (file:line:field and a suggestion).
    #[error(transparent)]
    ScenarioFile(#[from] ScenarioFileError),
    /// A scenario function that refused its configuration.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A journey, scenario or datapool name not registered.
    #[error(transparent)]
    UnknownName(#[from] UnknownName),
    /// A configuration value (`--config`, `MITE_CONF_*`) that cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `--cores` list that cannot be used.
    #[error(transparent)]
    Cores(#[from] CoresError),
    /// A `--driver` name not known.
    #[error(transparent)]
    UnknownDriver(#[from] UnknownDriver),
    /// The executor could not start (io_uring refused, no epoll).
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// A volume model that cannot run.
    #[error(transparent)]
    Volume(#[from] VolumeError),
    /// A datapool row that cannot be used.
    #[error(transparent)]
    Row(#[from] RowError),
    /// A duration as written (`30s`, `1m30s`) that cannot be read.
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// A `${name}` template that cannot be filled.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A HAR file that cannot be converted.
    #[error(transparent)]
    Har(#[from] HarError),
    /// One request that failed (journeys see these; a run counts them).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A run that could not start or finish.
    #[error(transparent)]
    Run(#[from] RunError),
    /// `journey test` that failed.
    #[error(transparent)]
    JourneyTest(#[from] JourneyTestError),
    /// A result file that cannot be read.
    #[error(transparent)]
    ResultFile(#[from] ResultFileError),
    /// A framed result in a log that cannot be decoded.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Result files that cannot be merged.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// A `--threshold` that cannot be read.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
}

/// `Result` with mite-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate error says what the module error says, and keeps it as its source's place.
    #[test]
    fn wraps_module_errors_without_changing_their_words() {
        let unknown: UnknownDriver = "uringg".parse::<crate::driver::DriverChoice>().unwrap_err();
        let said = unknown.to_string();
        let error = Error::from(unknown);
        assert_eq!(error.to_string(), said);
        assert!(matches!(error, Error::UnknownDriver(_)));
        let duration: Result<std::time::Duration> =
            crate::scenario::duration::parse_duration("ten seconds").map_err(Error::from);
        assert!(matches!(duration, Err(Error::Duration(_))));
    }
}

//! A journey's error: a message with named values, the request error kind when a request
//! failed, and whether a transaction has counted it yet.

use std::any::Any;
use std::fmt;

use crate::http::HttpError;
use crate::stats::ErrorKind;

/// What a journey returns.
pub type JourneyResult<T = ()> = Result<T, JourneyError>;

/// A journey failed. Counted against the innermost transaction it passed through (once), and
/// against the journey; it never stops the run.
pub struct JourneyError {
    message: Box<str>,
    kind: Option<ErrorKind>,
    pub(super) recorded: bool,
    /// Named values that travel with the error (Mite's `MiteError(message, **fields)`).
    fields: Vec<(Box<str>, Box<str>)>,
}

impl JourneyError {
    /// An error with a message.
    pub fn msg(message: impl Into<String>) -> JourneyError {
        JourneyError { message: message.into().into_boxed_str(), kind: None, recorded: false, fields: Vec::new() }
    }

    /// Adds a named value (`JourneyError::msg("bad basket").field("user", &user)`): shown with
    /// the message in traces and in the result's error samples.
    pub fn field(mut self, name: &str, value: &dyn fmt::Display) -> JourneyError {
        self.fields.push((name.into(), value.to_string().into_boxed_str()));
        self
    }

    /// The named values, in the order they were added.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(name, value)| (&**name, &**value))
    }

    /// The request error kind, when the journey failed on a request.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True once a transaction has counted this error.
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }
}

impl<E: std::error::Error + 'static> From<E> for JourneyError {
    fn from(err: E) -> JourneyError {
        let kind = (&err as &dyn Any).downcast_ref::<HttpError>().and_then(HttpError::kind);
        JourneyError { message: err.to_string().into_boxed_str(), kind, recorded: false, fields: Vec::new() }
    }
}

impl fmt::Display for JourneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (i, (name, value)) in self.fields.iter().enumerate() {
            write!(f, "{}{name}={value}", if i == 0 { " (" } else { ", " })?;
        }
        if !self.fields.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for JourneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JourneyError({:?})", self.message)
    }
}

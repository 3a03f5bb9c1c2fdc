//! A journey's error: a message with named values, the request error kind when a request
//! failed, and whether a transaction has counted it yet.

use std::any::Any;
use std::fmt;

use crate::http::HttpError;
use crate::stats::ErrorKind;

/// What a journey returns: `Ok` or a [`JourneyError`]. Any error type converts with `?`.
///
/// ```
/// # use mite_core::prelude::*;
/// async fn journey(ctx: &Ctx, row: Row) -> JourneyResult {
///     let quantity: u32 = row.get(0).unwrap_or("").parse()?; // a ParseIntError becomes a JourneyError
///     ctx.send("quantity", &[("n", &quantity)]);
///     Ok(())
/// }
///
/// assert!(JourneyTest::new().row(Row::new(["3"])).run(journey).unwrap().is_ok());
/// let record = JourneyTest::new().row(Row::new(["three"])).run(journey).unwrap();
/// assert_eq!(record.result.unwrap_err().message, "invalid digit found in string");
/// ```
pub type JourneyResult<T = ()> = Result<T, JourneyError>;

/// A journey failed. Counted against the innermost transaction it passed through (once), and
/// against the journey; it never stops the run.
///
/// ```
/// # use mite_core::prelude::*;
/// async fn journey(ctx: &Ctx, row: Row) -> JourneyResult {
///     let user = row.get(0).unwrap_or("");
///     ctx.transaction("basket", async {
///         Err(JourneyError::msg("basket empty").field("user", &user))
///     })
///     .await
/// }
///
/// let record = JourneyTest::new().row(Row::new(["ann"])).run(journey).unwrap();
/// assert_eq!(record.transactions[0].error.as_deref(), Some("basket empty (user=ann)"));
/// assert_eq!(record.errors, ["basket empty (user=ann)"]);
/// ```
pub struct JourneyError {
    message: Box<str>,
    kind: Option<ErrorKind>,
    pub(super) recorded: bool,
    /// Named values that travel with the error (Mite's `MiteError(message, **fields)`).
    fields: Vec<(Box<str>, Box<str>)>,
}

impl JourneyError {
    /// An error with a message.
    ///
    /// ```
    /// # use mite_core::prelude::JourneyError;
    /// let err = JourneyError::msg(format!("{} items", 0));
    /// assert_eq!(err.to_string(), "0 items");
    /// ```
    pub fn msg(message: impl Into<String>) -> JourneyError {
        JourneyError { message: message.into().into_boxed_str(), kind: None, recorded: false, fields: Vec::new() }
    }

    /// Adds a named value (`JourneyError::msg("bad basket").field("user", &user)`): shown with
    /// the message in traces and in the result's error samples.
    ///
    /// ```
    /// # use mite_core::prelude::JourneyError;
    /// let err = JourneyError::msg("bad basket").field("user", &"ann").field("items", &0);
    /// assert_eq!(err.to_string(), "bad basket (user=ann, items=0)");
    /// ```
    pub fn field(mut self, name: &str, value: &dyn fmt::Display) -> JourneyError {
        self.fields.push((name.into(), value.to_string().into_boxed_str()));
        self
    }

    /// The named values, in the order they were added.
    ///
    /// ```
    /// # use mite_core::prelude::JourneyError;
    /// let err = JourneyError::msg("bad basket").field("user", &"ann");
    /// assert_eq!(err.fields().collect::<Vec<_>>(), [("user", "ann")]);
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(name, value)| (&**name, &**value))
    }

    /// The request error kind, when the journey failed on a request (its name is what the
    /// results count it under: `status`, `refused`, `timeout`...); `None` for the journey's own
    /// errors.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let url = format!("{}/status/503", ctx.config().get_or("base", ""));
    ///     let err: JourneyError = ctx.http().get(&url).send().await.unwrap_err().into();
    ///     assert_eq!(err.kind().map(|kind| kind.name()), Some("status"));
    ///     assert_eq!(JourneyError::msg("mine").kind(), None);
    ///     Ok(())
    /// }
    /// # assert!(JourneyTest::new().config("base", target.url("")).run(journey).unwrap().is_ok());
    /// ```
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The message, without the fields.
    ///
    /// ```
    /// # use mite_core::prelude::JourneyError;
    /// assert_eq!(JourneyError::msg("bad basket").field("user", &"ann").message(), "bad basket");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True once a transaction has counted this error (outer transactions then do not count
    /// it again).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     assert!(!JourneyError::msg("new").is_recorded());
    ///     let err = ctx.transaction("t", async { Err::<(), _>(JourneyError::msg("late")) }).await.unwrap_err();
    ///     assert!(err.is_recorded());
    ///     Ok(())
    /// }
    /// # assert!(JourneyTest::new().run(journey).unwrap().is_ok());
    /// ```
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

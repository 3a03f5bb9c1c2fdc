//! What one journey run did, recorded as data for journey authors' tests (Mite's
//! `test_context`, `run_single_journey` and `http_spy`): its requests, transactions, messages
//! and errors. `journey_test::JourneyTest` runs a journey and returns this record.

use std::cell::RefCell;
use std::time::Duration;

use crate::journey::JourneyError;
use crate::stats::ErrorKind;

/// One request (one hop of a redirect chain is one request), as sent and answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL requested.
    pub url: String,
    /// The response's status; `None` when there was no response (refused, timeout, reset...).
    pub status: Option<u16>,
    /// Why the request counted as an error (a status outside the expected range, a transport
    /// failure), `None` when it succeeded.
    pub error: Option<String>,
    /// The transaction it was recorded under (`outer :: inner`; the journey's name outside any).
    pub transaction: String,
}

/// One transaction, recorded when it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedTransaction {
    /// Its full name (`outer :: inner` when nested).
    pub name: String,
    /// Its error, `None` when it succeeded.
    pub error: Option<String>,
    /// How long it took.
    pub duration: Duration,
}

/// One message sent by `ctx.send(kind, fields)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedMessage {
    /// The message type.
    pub kind: String,
    /// Its fields, displayed, in order.
    pub fields: Vec<(String, String)>,
}

/// Everything one journey run did, in the order it happened within each list.
#[derive(Clone, Debug)]
pub struct JourneyRecord {
    /// The journey's own outcome: `Err` with its message, fields and kind when it failed.
    pub result: Result<(), JourneyFailure>,
    /// Every request, in the order they finished.
    pub requests: Vec<RecordedRequest>,
    /// Every transaction, in the order they ended (inner ones before outer ones).
    pub transactions: Vec<RecordedTransaction>,
    /// Every message, in the order they were sent.
    pub messages: Vec<RecordedMessage>,
    /// Every error counted: failed requests, then the journey's own error if it failed.
    pub errors: Vec<String>,
}

impl Default for JourneyRecord {
    fn default() -> JourneyRecord {
        JourneyRecord {
            result: Ok(()),
            requests: Vec::new(),
            transactions: Vec::new(),
            messages: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl JourneyRecord {
    /// True when the journey returned `Ok`.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The statuses of the requests, in order (`None` for a request without a response).
    pub fn statuses(&self) -> Vec<Option<u16>> {
        self.requests.iter().map(|r| r.status).collect()
    }

    /// The transaction named `name` (its full name), the first one that ended.
    pub fn transaction(&self, name: &str) -> Option<&RecordedTransaction> {
        self.transactions.iter().find(|t| t.name == name)
    }
}

/// Why a recorded journey failed: what its [`JourneyError`] said, kept as data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{shown}")]
pub struct JourneyFailure {
    /// The message alone.
    pub message: String,
    /// The named values that travelled with it, in order.
    pub fields: Vec<(String, String)>,
    /// The request error kind when a request failed it (`status`, `refused`, `timeout`...);
    /// `None` for the journey's own error.
    pub kind: Option<ErrorKind>,
    /// The message with its fields, as traces and error samples show it.
    shown: String,
}

impl JourneyFailure {
    pub(crate) fn of(err: &JourneyError) -> JourneyFailure {
        JourneyFailure {
            message: err.message().to_string(),
            fields: err.fields().map(|(name, value)| (name.to_string(), value.to_string())).collect(),
            kind: err.kind(),
            shown: err.to_string(),
        }
    }
}

/// The recorder a shard carries while a journey test runs (absent in load runs).
pub(crate) type Recorder = RefCell<JourneyRecord>;

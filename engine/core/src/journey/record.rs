//! What one journey run did, recorded as data for journey authors' tests (Mite's
//! `test_context`, `run_single_journey` and `http_spy`): its requests, transactions, messages,
//! WebSocket connections and errors. `journey_test::JourneyTest` runs a journey and returns
//! this record.

use std::cell::RefCell;
use std::time::Duration;

use crate::journey::JourneyError;
use crate::limits::{WS_RECORDED_MESSAGES_PER_CONNECTION_MAX, WS_RECORDED_TEXT_BYTES_MAX};
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

/// One WebSocket connection a journey opened (`ctx.websocket().connect(url)`): its handshake,
/// the data messages sent and received on it, and how it closed. The handshake is also one
/// of [`JourneyRecord::requests`] (`GET`, status 101), as the engine counts it as a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedWebSocket {
    /// The URL connected to, as the journey gave it (`ws://` or `wss://`).
    pub url: String,
    /// The transaction the handshake was made under.
    pub transaction: String,
    /// The handshake's answer: `Some(101)` when it upgraded, the server's status when it
    /// refused (`Some(400)`), `None` without an answer (refused connection, timeout, TLS).
    pub status: Option<u16>,
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    /// Why the handshake failed (as the journey's error shows it); `None` when it opened.
    pub error: Option<String>,
    /// The data messages (text and binary) sent and received, in the order they moved: the
    /// first `limits::WS_RECORDED_MESSAGES_PER_CONNECTION_MAX` (1,000) of them.
    pub messages: Vec<RecordedWsMessage>,
    /// Data messages that moved after `messages` was full, counted but not kept.
    pub messages_left_out: u64,
    /// How it closed; `None` when it never opened.
    pub close: Option<RecordedWsClose>,
}

/// Which way a WebSocket message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsDirection {
    /// Sent by the journey (`send_text`, `send_binary`, `request_reply`).
    Sent,
    /// Received from the server (`receive...`, or while closing).
    Received,
}

/// One WebSocket data message, sent or received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedWsMessage {
    /// Sent or received.
    pub direction: WsDirection,
    /// A text message (`false`: binary).
    pub is_text: bool,
    /// Its payload's length in bytes.
    pub len: usize,
    /// The text of a text message up to `limits::WS_RECORDED_TEXT_BYTES_MAX` (256) bytes long;
    /// `None` for a longer one (see `len`) and for binary data.
    pub text: Option<String>,
    /// The transaction it moved under.
    pub transaction: String,
}

/// Who ended a WebSocket connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsCloser {
    /// The journey (`ws.close()`), or the engine on the journey's behalf when the server broke
    /// the protocol (the code says why: 1002, 1007, 1009).
    Client,
    /// The server, with a close frame (or by hanging up without one: `code` is then `None`
    /// and `error` says so).
    Server,
    /// Neither: the connection failed (reset, a timeout) without a close handshake.
    Lost,
    /// The journey dropped it open (at the end of its scope, or of the journey): the engine
    /// closes it with 1000 in the background (that close's outcome is not recorded), unless
    /// the run is stopping or its last receive timed out with nothing come since; then it is
    /// released with no close (the record has no close code).
    Dropped,
}

/// How a WebSocket connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedWsClose {
    /// Who closed it.
    pub by: WsCloser,
    /// The close code sent (by the journey) or received (from the server); `None` when there
    /// was none.
    pub code: Option<u16>,
    /// The error counted with it (an abnormal code, a close the server never answered, a
    /// failure), as the journey's error shows it; `None` for a clean close.
    pub error: Option<String>,
    /// The transaction current when it closed.
    pub transaction: String,
}

impl RecordedWebSocket {
    /// Keeps one data message, or only counts it once `messages` is full.
    pub(crate) fn message(&mut self, direction: WsDirection, is_text: bool, payload: &[u8], transaction: &str) {
        if self.messages.len() >= WS_RECORDED_MESSAGES_PER_CONNECTION_MAX {
            self.messages_left_out += 1;
            return;
        }
        let text = (is_text && payload.len() <= WS_RECORDED_TEXT_BYTES_MAX)
            .then(|| String::from_utf8_lossy(payload).into_owned());
        self.messages.push(RecordedWsMessage {
            direction,
            is_text,
            len: payload.len(),
            text,
            transaction: transaction.to_string(),
        });
    }

    /// The texts of the messages that went `direction`, in order (`None` for binary or long
    /// ones).
    pub fn texts(&self, direction: WsDirection) -> Vec<Option<&str>> {
        self.messages.iter().filter(|m| m.direction == direction).map(|m| m.text.as_deref()).collect()
    }
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
    /// Every WebSocket connection tried, in the order their handshakes finished.
    pub websockets: Vec<RecordedWebSocket>,
    /// Every error counted, in order: failed requests and WebSocket failures, then the
    /// journey's own error if it failed.
    pub errors: Vec<String>,
}

impl Default for JourneyRecord {
    fn default() -> JourneyRecord {
        JourneyRecord {
            result: Ok(()),
            requests: Vec::new(),
            transactions: Vec::new(),
            messages: Vec::new(),
            websockets: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl JourneyRecord {
    /// True when the journey returned `Ok`.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn refused(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let url = format!("{}/status/503", ctx.config().get_or("base", ""));
    ///     ctx.http().get(&url).send().await?; // 503 is not a success: the journey fails
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("base", target.url("")).run(refused).unwrap();
    /// assert!(!record.is_ok());
    /// assert_eq!(record.statuses(), [Some(503)]);
    /// ```
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The statuses of the requests, in order (`None` for a request without a response).
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn two(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let base = ctx.config().get_or("base", "");
    ///     ctx.http().get(&format!("{base}/")).send().await?;
    ///     ctx.http().get(&format!("{base}/status/404")).expect_status(404..=404).send().await?;
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("base", target.url("")).run(two).unwrap();
    /// assert_eq!(record.statuses(), [Some(200), Some(404)]);
    /// ```
    pub fn statuses(&self) -> Vec<Option<u16>> {
        self.requests.iter().map(|r| r.status).collect()
    }

    /// The transaction named `name` (its full name), the first one that ended.
    ///
    /// ```
    /// use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    ///
    /// async fn checkout(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.transaction("checkout", async { ctx.transaction("pay", async { Ok(()) }).await }).await
    /// }
    ///
    /// let record = JourneyTest::new().run(checkout).unwrap();
    /// assert!(record.transaction("checkout :: pay").is_some_and(|pay| pay.error.is_none()));
    /// assert!(record.transaction("pay").is_none()); // the full name
    /// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> RecordedWebSocket {
        RecordedWebSocket {
            url: "ws://127.0.0.1:1/".into(),
            transaction: "t".into(),
            status: Some(101),
            protocol: None,
            error: None,
            messages: Vec::new(),
            messages_left_out: 0,
            close: None,
        }
    }

    #[test]
    fn a_text_is_kept_up_to_the_limit_and_binary_never() {
        let mut ws = connection();
        let at_limit = "a".repeat(WS_RECORDED_TEXT_BYTES_MAX);
        ws.message(WsDirection::Sent, true, at_limit.as_bytes(), "t");
        ws.message(WsDirection::Sent, true, "a".repeat(WS_RECORDED_TEXT_BYTES_MAX + 1).as_bytes(), "t");
        ws.message(WsDirection::Received, false, b"ab", "t :: u");
        assert_eq!(ws.texts(WsDirection::Sent), [Some(at_limit.as_str()), None]);
        assert_eq!(ws.texts(WsDirection::Received), [None]);
        let lens: Vec<_> = ws.messages.iter().map(|m| (m.len, m.is_text, m.transaction.as_str())).collect();
        assert_eq!(
            lens,
            [
                (WS_RECORDED_TEXT_BYTES_MAX, true, "t"),
                (WS_RECORDED_TEXT_BYTES_MAX + 1, true, "t"),
                (2, false, "t :: u")
            ]
        );
    }

    #[test]
    fn messages_past_the_limit_are_counted_not_kept() {
        let mut ws = connection();
        for i in 0..WS_RECORDED_MESSAGES_PER_CONNECTION_MAX + 3 {
            ws.message(WsDirection::Received, true, i.to_string().as_bytes(), "t");
        }
        assert_eq!(ws.messages.len(), WS_RECORDED_MESSAGES_PER_CONNECTION_MAX);
        assert_eq!(ws.messages_left_out, 3);
        let last = (WS_RECORDED_MESSAGES_PER_CONNECTION_MAX - 1).to_string();
        assert_eq!(ws.messages.last().unwrap().text.as_deref(), Some(last.as_str()), "the first ones, in order");
    }
}

//! The journey-test trace (every transaction, request, message and WebSocket handshake, data
//! message and close as a readable line, nested by depth). The engine never prints it: a shard sends each line to the sink its caller gave,
//! and [`TraceBuffer`] hands them on to the caller while the journey runs.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use crate::limits::TRACE_BODY_BYTES_MAX;
use crate::model::counts::grouped;

/// Receives the trace one line at a time, with its nesting depth (transactions open around
/// it, the journey itself counting as one).
pub type TraceSink = Box<dyn Fn(usize, fmt::Arguments<'_>)>;

/// Trace lines kept between two looks of the caller (a journey test's: one journey at a time).
#[derive(Clone, Default)]
pub struct TraceBuffer {
    lines: Rc<RefCell<Vec<(usize, String)>>>,
}

impl TraceBuffer {
    /// A sink for `Shard::with_trace` that keeps lines here.
    pub fn sink(&self) -> TraceSink {
        let lines = self.lines.clone();
        Box::new(move |depth, line| lines.borrow_mut().push((depth, line.to_string())))
    }

    /// Runs `journey`, handing every trace line to `emit` as soon as the journey next
    /// yields or ends, so a slow journey's trace shows while it runs.
    pub async fn run<F: Future>(&self, journey: F, emit: &mut dyn FnMut(usize, &str)) -> F::Output {
        let mut journey = std::pin::pin!(journey);
        std::future::poll_fn(|cx| {
            let poll = journey.as_mut().poll(cx);
            self.drain(emit);
            poll
        })
        .await
    }

    /// Hands every line kept so far to `emit`, in order.
    pub fn drain(&self, emit: &mut dyn FnMut(usize, &str)) {
        let lines = std::mem::take(&mut *self.lines.borrow_mut());
        for (depth, line) in &lines {
            emit(*depth, line);
        }
    }
}

/// `n` of `noun` (its singular: "byte", "body byte") as a person writes it: `1 byte`,
/// `0 bytes`, `16,384 bytes`.
pub(crate) fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{} {noun}s", grouped(n)),
    }
}

/// A request body as the trace shows it: its size, then its first
/// `limits::TRACE_BODY_BYTES_MAX` bytes quoted, escaped so that no byte can move the terminal
/// (text as a string, with `\n`, `\t`, `\u{1b}`; a body that is not UTF-8 as bytes, `\xff`).
pub(crate) fn traced_body(body: &[u8]) -> String {
    let shown = &body[..body.len().min(TRACE_BODY_BYTES_MAX)];
    let total = counted(body.len() as u64, "byte");
    let cut = if shown.len() < body.len() { format!(", the first {}", shown.len()) } else { String::new() };
    // A character cut at the end of what is shown leaves the rest text.
    let text = match std::str::from_utf8(shown) {
        Ok(text) => Some(text),
        Err(err) if err.error_len().is_none() && shown.len() < body.len() => {
            Some(std::str::from_utf8(&shown[..err.valid_up_to()]).unwrap_or_default())
        }
        Err(_) => None,
    };
    match text {
        Some(text) => format!("{total}{cut}: {text:?}"),
        None => format!("{total}, not UTF-8{cut}: b\"{}\"", shown.escape_ascii()),
    }
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// `journey test` said "(1 bytes)": one is singular wherever a size is said in the trace.
    #[test]
    fn one_byte_is_singular() {
        assert_eq!(counted(1, "byte"), "1 byte");
        assert_eq!(counted(0, "body byte"), "0 body bytes");
        assert_eq!(counted(16_384, "byte"), "16,384 bytes");
        assert_eq!(traced_body(b"x"), "1 byte: \"x\"");
        assert_eq!(traced_body(b"\xff"), "1 byte, not UTF-8: b\"\\xff\"");
    }

    /// A body is shown as its bytes, escaped, with its size, cut past the limit; a binary one
    /// as escaped bytes; none of it can reach the terminal raw.
    #[test]
    fn a_body_is_shown_escaped_with_its_size() {
        assert_eq!(traced_body(b"user=u1&password=secret"), "23 bytes: \"user=u1&password=secret\"");
        assert_eq!(traced_body(b"{\"a\":\n\t1}"), "9 bytes: \"{\\\"a\\\":\\n\\t1}\"");
        assert_eq!(traced_body("é\u{1b}[2J".as_bytes()), "6 bytes: \"é\\u{1b}[2J\"");
        assert_eq!(traced_body(b"\x89PNG\r\n\x00"), "7 bytes, not UTF-8: b\"\\x89PNG\\r\\n\\x00\"");
        let long = "a".repeat(5000);
        let said = traced_body(long.as_bytes());
        let first = format!("5,000 bytes, the first {TRACE_BODY_BYTES_MAX}: \"{}\"", "a".repeat(TRACE_BODY_BYTES_MAX));
        assert_eq!(said, first);
        // A character cut by the limit is left out, the rest still text.
        let euros = "€".repeat(TRACE_BODY_BYTES_MAX);
        let said = traced_body(euros.as_bytes());
        let whole = TRACE_BODY_BYTES_MAX / 3;
        assert!(said.ends_with(&format!(": {:?}", "€".repeat(whole))), "{said}");
        assert!(said.starts_with(&format!("{} bytes, the first {TRACE_BODY_BYTES_MAX}", grouped(euros.len() as u64))));
        assert!(traced_body(&[0xff; 300]).contains("not UTF-8, the first"));
        for said in [traced_body(b"\x1b]0;x\x07"), traced_body(&[0x1b, 0xff, 0x9b])] {
            assert!(!said.chars().any(char::is_control), "{said:?}");
        }
    }

    #[test]
    fn lines_are_handed_on_at_every_yield() {
        let buffer = TraceBuffer::default();
        let sink = buffer.sink();
        let mut yielded = false;
        let journey = std::future::poll_fn(|_| {
            sink(1, format_args!("line {}", u8::from(yielded)));
            if yielded {
                return Poll::Ready(7);
            }
            yielded = true;
            Poll::Pending
        });
        let seen = RefCell::new(Vec::new());
        let mut emit = |depth: usize, line: &str| seen.borrow_mut().push((depth, line.to_string()));
        let mut run = std::pin::pin!(buffer.run(journey, &mut emit));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(run.as_mut().poll(&mut cx).is_pending());
        assert_eq!(*seen.borrow(), [(1, "line 0".to_string())], "handed on at the first yield");
        assert!(matches!(run.as_mut().poll(&mut cx), Poll::Ready(7)));
        assert_eq!(*seen.borrow(), [(1, "line 0".to_string()), (1, "line 1".to_string())]);
    }
}

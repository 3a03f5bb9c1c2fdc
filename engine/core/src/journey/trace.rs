//! The journey-test trace (every transaction, request, message and WebSocket handshake, data
//! message and close as a readable line, nested by depth). The engine never prints it: a shard sends each line to the sink its caller gave,
//! and [`TraceBuffer`] hands them on to the caller while the journey runs.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

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

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::*;

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

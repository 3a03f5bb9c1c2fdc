//! A rare future polled by a function of its own, so that its code is not laid out among the
//! hot code of the future that awaits it.
//!
//! A future awaited inside another is polled by the outer future's `poll`, where the compiler
//! inlines it: the rare round trip's rest (a response that did not come whole with its write,
//! a large or TLS write) then sits in the exchange's own function, between its hot blocks, and
//! every request's walk through that function touches more code lines. [`OutOfLine`] keeps the
//! inner future's polling in one never-inlined, cold function: the awaiting future holds a call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// `future`, polled out of line (see the module).
    pub(crate) struct OutOfLine<F> {
        #[pin]
        future: F,
    }
}

/// `future`, polled by a cold function of its own: for a future that is rarely awaited at all.
pub(crate) fn out_of_line<F: Future>(future: F) -> OutOfLine<F> {
    OutOfLine { future }
}

impl<F: Future> Future for OutOfLine<F> {
    type Output = F::Output;

    #[cold]
    #[inline(never)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_the_inner_future_to_its_output() {
        let mut polls = 0;
        let future = out_of_line(std::future::poll_fn(|cx| {
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(polls * 10)
            }
        }));
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(30));
    }
}

//! The last final head parsed on this thread and its answer, given again for the same bytes.
//!
//! A server answers the same request with the same head, byte for byte, most of the time
//! (nginx's changes once a second, at its `Date`). [`super::parse_head_step`] is a function of
//! the head's bytes, the limits and whether the request was a `HEAD`: a buffer that starts with
//! the bytes of a head it answered, asked under the same limits and method, gets that answer
//! again without httparse walking the head once more. Only complete final heads the parser
//! answered are kept (never an error, a partial head or an interim one), so every answer is the
//! parser's: the memo changes how often the head is parsed, never what a head means. When the
//! heads kept stop being of use (every head differs), it rests, and tries again now and then.
//!
//! One memo per thread (the engine runs one core per thread), not per connection: no memory
//! per connection, and the connections of a core share what each learnt. It is plain data with
//! no destructor: the thread-local needs no registration, and a look costs a call and a borrow
//! flag.

use std::cell::RefCell;

use super::ResponseHead;
use crate::Limits;

/// Longest head kept, in bytes; a longer one is parsed every time (and costs one length test).
pub const MEMO_HEAD_BYTES_MAX: usize = 512;

/// Heads in a row kept and never recalled before the memo rests: a server whose heads all
/// differ (a request id, a fresh cookie) would otherwise pay a copy and a compare per head.
pub const MEMO_MISSES_BEFORE_REST: u32 = 8;
/// While resting, one head in this many is kept, to notice when heads repeat again.
pub const MEMO_RETRY_EVERY_MISSES: u32 = 64;

/// One head and the question it answered.
struct Memo {
    /// Bytes of the head in `bytes`; 0 while nothing is kept.
    len: usize,
    bytes: [u8; MEMO_HEAD_BYTES_MAX],
    limits: Limits,
    request_was_head: bool,
    head: ResponseHead,
    /// The head kept has been recalled at least once.
    recalled: bool,
    /// Heads parsed since a kept head was last of use.
    misses: u32,
}

thread_local! {
    static MEMO: RefCell<Memo> = const {
        RefCell::new(Memo {
            len: 0,
            bytes: [0; MEMO_HEAD_BYTES_MAX],
            limits: Limits::DEFAULT,
            request_was_head: false,
            head: ResponseHead {
                status: 0,
                minor_version: 1,
                head_len: 0,
                interim_count: 0,
                framing: super::BodyFraming::Empty,
                keep_alive: false,
                set_cookie: false,
                folded: false,
            },
            recalled: false,
            misses: 0,
        })
    };
}

/// The answer kept for a buffer that starts with the head kept, asked the same way.
#[inline]
pub(super) fn recall(buf: &[u8], limits: &Limits, request_was_head: bool) -> Option<ResponseHead> {
    MEMO.with_borrow_mut(|memo| {
        let len = memo.len;
        let same = len != 0
            && buf.len() >= len
            && memo.request_was_head == request_was_head
            && memo.limits == *limits
            && buf[..len] == memo.bytes[..len];
        memo.recalled |= same;
        same.then_some(memo.head)
    })
}

/// Keeps `head`, the answer for the complete final head `bytes`, in place of the one kept;
/// after [`MEMO_MISSES_BEFORE_REST`] heads in a row that were never recalled, only one in
/// [`MEMO_RETRY_EVERY_MISSES`] (nothing is kept in between, so that recalling costs nothing).
#[inline]
pub(super) fn remember(bytes: &[u8], limits: &Limits, request_was_head: bool, head: &ResponseHead) {
    MEMO.with_borrow_mut(|memo| {
        memo.misses = if memo.recalled { 0 } else { memo.misses.wrapping_add(1) };
        memo.recalled = false;
        let resting = memo.misses >= MEMO_MISSES_BEFORE_REST && memo.misses % MEMO_RETRY_EVERY_MISSES != 0;
        if resting || bytes.len() > MEMO_HEAD_BYTES_MAX {
            memo.len = 0;
            return;
        }
        memo.bytes[..bytes.len()].copy_from_slice(bytes);
        memo.len = bytes.len();
        memo.limits = *limits;
        memo.request_was_head = request_was_head;
        memo.head = *head;
    });
}

/// Bytes of the head kept (0: none), without recalling it.
#[cfg(test)]
fn kept_len() -> usize {
    MEMO.with_borrow(|memo| memo.len)
}

/// Forgets the head kept and the misses (for tests that need the parser's own answer).
#[cfg(test)]
pub(super) fn forget() {
    MEMO.with_borrow_mut(|memo| {
        memo.len = 0;
        memo.recalled = false;
        memo.misses = 0;
    });
}

#[cfg(test)]
mod tests {
    use super::super::{BodyFraming, HeadStep, parse_head_step};
    use super::*;
    use crate::CodecError;

    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\n\r\n";

    /// The parser's own answer, with nothing kept.
    fn parsed(buf: &[u8], limits: &Limits, request_was_head: bool) -> Result<Option<HeadStep>, CodecError> {
        forget();
        let answer = parse_head_step(buf, limits, request_was_head);
        forget();
        answer
    }

    #[test]
    fn a_head_parsed_again_is_recalled_with_the_parsers_answer() {
        forget();
        let buf = [HEAD, b"hello"].concat();
        let first = parse_head_step(&buf, &Limits::DEFAULT, false).unwrap();
        let Some(HeadStep::Final(head)) = first else { panic!("{first:?}") };
        assert_eq!((head.framing, head.set_cookie, head.head_len), (BodyFraming::Length(5), true, HEAD.len()));
        assert_eq!(recall(&buf, &Limits::DEFAULT, false), Some(head), "kept");
        assert_eq!(recall(HEAD, &Limits::DEFAULT, false), Some(head), "the head alone");
        assert_eq!(parse_head_step(&buf, &Limits::DEFAULT, false).unwrap(), first);
        assert_eq!(parse_head_step(&buf, &Limits::DEFAULT, false), parsed(&buf, &Limits::DEFAULT, false));
    }

    /// The same bytes asked another way (a `HEAD` request, other limits) get the parser's
    /// answer to that question, not the kept one.
    #[test]
    fn only_the_same_question_is_recalled() {
        let few = Limits { headers_count_max: 2, ..Limits::DEFAULT };
        let short = Limits { head_bytes_max: 40, ..Limits::DEFAULT };
        for (limits, request_was_head) in [(Limits::DEFAULT, true), (few, false), (short, false)] {
            forget();
            parse_head_step(HEAD, &Limits::DEFAULT, false).unwrap();
            assert_eq!(recall(HEAD, &limits, request_was_head), None);
            let answer = parse_head_step(HEAD, &limits, request_was_head);
            assert_eq!(answer, parsed(HEAD, &limits, request_was_head), "{limits:?} {request_was_head}");
        }
        assert_eq!(parsed(HEAD, &few, false), Err(CodecError::TooManyHeaders { limit: 2 }));
        assert_eq!(parsed(HEAD, &short, false), Err(CodecError::HeadTooLarge { limit_bytes: 40 }));
        let Ok(Some(HeadStep::Final(head))) = parsed(HEAD, &Limits::DEFAULT, true) else { panic!() };
        assert_eq!(head.framing, BodyFraming::Empty);
    }

    /// A buffer that holds part of the kept head, or a head that only starts like it, is
    /// parsed: the kept answer is for those bytes exactly, up to the blank line.
    #[test]
    fn a_head_that_only_starts_like_the_kept_one_is_parsed() {
        let longer =
            b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nConnection: close\r\n\r\n";
        for at in 0..HEAD.len() {
            forget();
            parse_head_step(HEAD, &Limits::DEFAULT, false).unwrap();
            assert_eq!(parse_head_step(&HEAD[..at], &Limits::DEFAULT, false), Ok(None), "cut at {at}");
        }
        forget();
        parse_head_step(HEAD, &Limits::DEFAULT, false).unwrap();
        let answer = parse_head_step(longer, &Limits::DEFAULT, false);
        assert_eq!(answer, parsed(longer, &Limits::DEFAULT, false));
        let Ok(Some(HeadStep::Final(head))) = answer else { panic!("{answer:?}") };
        assert!(!head.keep_alive && head.head_len == longer.len());
    }

    /// Heads that all differ rest the memo (one in `MEMO_RETRY_EVERY_MISSES` kept after the
    /// first `MEMO_MISSES_BEFORE_REST`); a head recalled again wakes it.
    #[test]
    fn heads_that_never_repeat_rest_the_memo_until_one_does() {
        let head = |n: u32| format!("HTTP/1.1 200 OK\r\nX-Request-Id: {n}\r\nContent-Length: 0\r\n\r\n").into_bytes();
        let want_128 = parsed(&head(128), &Limits::DEFAULT, false);
        let mut kept = Vec::new();
        for n in 1..=MEMO_RETRY_EVERY_MISSES * 2 {
            parse_head_step(&head(n), &Limits::DEFAULT, false).unwrap();
            if kept_len() != 0 {
                kept.push(n);
            }
        }
        let want: Vec<u32> = (1..MEMO_MISSES_BEFORE_REST).chain([64, 128]).collect();
        assert_eq!(kept, want);
        assert_eq!(parse_head_step(&head(128), &Limits::DEFAULT, false), want_128, "recalled");
        parse_head_step(&head(129), &Limits::DEFAULT, false).unwrap();
        assert_eq!(kept_len(), head(129).len(), "awake again: the head after a recalled one is kept");
    }

    /// Errors, partial heads and interim heads are never kept; a head longer than the memo is
    /// parsed every time.
    #[test]
    fn only_complete_final_heads_that_fit_are_kept() {
        let long = [b"HTTP/1.1 204 No Content\r\nX: ".as_slice(), &[b'a'; MEMO_HEAD_BYTES_MAX], b"\r\n\r\n"].concat();
        let heads: [&[u8]; 4] = [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n",
            &long,
        ];
        for head in heads {
            forget();
            let _ = parse_head_step(head, &Limits::DEFAULT, false);
            assert_eq!(recall(head, &Limits::DEFAULT, false), None, "{:?}", String::from_utf8_lossy(head));
        }
    }
}

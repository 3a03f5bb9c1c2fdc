//! One response read incrementally from a connection's read buffer: head, then body.

use bytes::{Buf, Bytes, BytesMut};

use crate::head::{HeadStep, INTERIM_RESPONSES_MAX, parse_head_step};
use crate::{BodyDecoder, CodecError, Limits, ResponseHead};

/// Where a response read stands after being fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadProgress {
    /// More bytes are needed.
    NeedMore,
    /// The response is complete; bytes left in the buffer belong to the next response.
    Complete,
}

/// Reads one response out of a growing buffer. The connection layer appends bytes from the
/// socket to `input` and calls [`ResponseReader::feed`]; the reader takes what belongs to this
/// response out of `input` and appends the body to `body`.
#[derive(Debug)]
pub struct ResponseReader {
    limits: Limits,
    request_was_head: bool,
    head: Option<(ResponseHead, Bytes)>,
    decoder: Option<BodyDecoder>,
    /// Keep body bytes (false: count them and drop them).
    keep_body: bool,
    /// Keep the head's raw bytes (false: see [`ResponseReader::with_head_kept`]).
    keep_head: bool,
    /// `1xx` interim responses consumed so far.
    interim_count: u16,
}

impl ResponseReader {
    /// A reader for the response to one request.
    pub fn new(limits: Limits, request_was_head: bool, keep_body: bool) -> ResponseReader {
        ResponseReader {
            limits,
            request_was_head,
            head: None,
            decoder: None,
            keep_body,
            keep_head: true,
            interim_count: 0,
        }
    }

    /// Whether the raw head is kept (the default) for [`ResponseReader::take_head`]. A caller
    /// that reads none of the fields by name says `false`: the head's bytes are then let go
    /// with the read buffer's (an advance, not a split of the buffer into a shared second
    /// handle), and the raw head taken is empty, unless the head carries `Set-Cookie` or is a
    /// redirect's (`3xx`: its `Location`), which a client reads whatever its caller asked.
    /// What the head means (the parsed [`ResponseHead`]) is the same either way.
    #[inline]
    pub fn with_head_kept(self, keep_head: bool) -> ResponseReader {
        ResponseReader { keep_head, ..self }
    }

    /// The parsed head and its raw bytes, once they have arrived.
    pub fn head(&self) -> Option<&(ResponseHead, Bytes)> {
        self.head.as_ref()
    }

    /// Takes the head out (after completion).
    pub fn take_head(&mut self) -> Option<(ResponseHead, Bytes)> {
        self.head.take()
    }

    /// Body bytes seen so far (kept or not).
    pub fn body_bytes(&self) -> u64 {
        self.decoder.as_ref().map_or(0, BodyDecoder::body_bytes)
    }

    /// Consumes what it can from `input`.
    pub fn feed(&mut self, input: &mut BytesMut, body: &mut BytesMut) -> Result<ReadProgress, CodecError> {
        // Bytes at the front of `input` that are a head just read and not kept (see
        // `with_head_kept`): let go together with the body's below, not on their own.
        let mut skip = 0;
        let decoder = match &mut self.decoder {
            Some(decoder) => decoder,
            None => match self.read_head(input, &mut skip)? {
                Some(decoder) => self.decoder.insert(decoder),
                None => return Ok(ReadProgress::NeedMore),
            },
        };
        // The body all there, as plain bytes (most responses: one read brought them all):
        // taken in one step, without the decoder's loop.
        if let Some(len) = decoder.take_whole(input.len() - skip) {
            if self.keep_body {
                body.extend_from_slice(&input[skip..skip + len]);
            }
            let used = skip + len;
            if used == input.len() {
                input.clear(); // nothing left: cheaper than moving the start past it
            } else {
                input.advance(used);
            }
            return Ok(ReadProgress::Complete);
        }
        if skip != 0 {
            input.advance(skip);
        }
        loop {
            let step = decoder.decode(input)?;
            if let Some(range) = &step.data
                && self.keep_body
            {
                body.extend_from_slice(&input[range.clone()]);
            }
            input.advance(step.consumed);
            if step.done {
                return Ok(ReadProgress::Complete);
            }
            if input.is_empty() || step.consumed == 0 {
                return Ok(ReadProgress::NeedMore);
            }
        }
    }

    /// Takes the final head off the front of `input` once it is all there (the interim heads
    /// before it consumed as each completes: each byte is parsed once, and only one head is
    /// ever buffered, however many `100 Continue` a server sends), and gives the decoder of
    /// the body after it; `None` when more bytes are needed.
    #[inline(always)]
    /// A head not kept is left at the front of `input`, its length in `skip`.
    fn read_head(&mut self, input: &mut BytesMut, skip: &mut usize) -> Result<Option<BodyDecoder>, CodecError> {
        loop {
            let head = match parse_head_step(input, &self.limits, self.request_was_head)? {
                None => return Ok(None),
                Some(HeadStep::Final(head)) => ResponseHead { interim_count: self.interim_count, ..head },
                Some(HeadStep::Interim { len }) => {
                    input.advance(len);
                    self.interim_count += 1;
                    if self.interim_count > INTERIM_RESPONSES_MAX {
                        return Err(CodecError::TooManyInterim { limit: INTERIM_RESPONSES_MAX });
                    }
                    continue;
                }
            };
            if head.folded {
                crate::head::unfold(&mut input[..head.head_len]);
            }
            // An `HTTP/1.2` (or later minor) head was read as HTTP/1.1: the head handed on says
            // so too, for the readers of its fields (`head::find_header`).
            if head.minor_version == 1 && input[7] != b'1' {
                input[7] = b'1';
            }
            let raw = if self.keep_head || head.set_cookie || (300..400).contains(&head.status) {
                input.split_to(head.head_len).freeze()
            } else {
                *skip = head.head_len;
                Bytes::new()
            };
            let decoder = BodyDecoder::new(head.framing, &self.limits);
            decoder.check_declared()?;
            self.head = Some((head, raw));
            return Ok(Some(decoder));
        }
    }

    /// The server closed the connection. Completes a close-delimited body; any other
    /// incomplete response is an error naming what was cut short.
    pub fn finish_at_eof(&mut self) -> Result<(), CodecError> {
        match self.decoder.as_mut() {
            None => Err(CodecError::UnexpectedEof { during: "response head" }),
            Some(decoder) => decoder.finish_at_eof(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: a flood of `100 Continue` grew the buffer until the timeout (only the last
    /// head was bounded, and every read re-parsed the buffer from the start).
    #[test]
    fn a_flood_of_interim_responses_is_bounded() {
        let mut reader = ResponseReader::new(Limits::DEFAULT, false, true);
        let (mut input, mut body) = (BytesMut::new(), BytesMut::new());
        let mut outcome = Ok(ReadProgress::NeedMore);
        for _ in 0..1000 {
            input.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            outcome = reader.feed(&mut input, &mut body);
            if outcome.is_err() {
                break;
            }
            assert!(input.is_empty(), "interim heads are consumed, not kept");
        }
        assert_eq!(outcome, Err(CodecError::TooManyInterim { limit: INTERIM_RESPONSES_MAX }));
        assert!(outcome.unwrap_err().is_too_large());
    }

    /// What [`read_split`] saw.
    type Read = (ReadProgress, usize, u64, Vec<u8>, Vec<u8>);

    /// Reads `bytes` fed in two pieces split at `split`: (progress, head length, body count,
    /// body kept, bytes left for the next response), or the error.
    fn read_split(bytes: &[u8], split: usize, limits: Limits, keep_body: bool) -> Result<Read, CodecError> {
        let mut reader = ResponseReader::new(limits, false, keep_body);
        let (mut input, mut body) = (BytesMut::new(), BytesMut::new());
        let mut progress = ReadProgress::NeedMore;
        for piece in [&bytes[..split], &bytes[split..]] {
            input.extend_from_slice(piece);
            if progress == ReadProgress::NeedMore {
                progress = reader.feed(&mut input, &mut body)?;
            }
        }
        let head_len = reader.head().map_or(0, |(_, raw)| raw.len());
        Ok((progress, head_len, reader.body_bytes(), body.to_vec(), input.to_vec()))
    }

    /// Issue 15's straight path (a `Content-Length` body taken whole when it is all there): at
    /// every split, kept or counted only, the body ends where it ends and the next response's
    /// bytes stay; a body over the limit is refused as before.
    #[test]
    fn a_body_all_there_is_taken_whole_at_every_split() {
        let next = b"HTTP/1.1 204 No Content\r\n\r\n";
        let cases: [(&[u8], &[u8], Limits); 4] = [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!", b"Hello, World!", Limits::DEFAULT),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"", Limits::DEFAULT),
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", b"", Limits::DEFAULT),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok", Limits { body_bytes_max: 2, ..Limits::DEFAULT }),
        ];
        for (response, expected, limits) in cases {
            let head_len = response.len() - expected.len();
            for trailing in [&b""[..], next] {
                let bytes = [response, trailing].concat();
                for split in 0..=bytes.len() {
                    for keep_body in [true, false] {
                        let read = read_split(&bytes, split, limits, keep_body).unwrap();
                        let kept = if keep_body { expected.to_vec() } else { Vec::new() };
                        let want = (ReadProgress::Complete, head_len, expected.len() as u64, kept, trailing.to_vec());
                        assert_eq!(read, want, "{:?} split at {split}", String::from_utf8_lossy(&bytes));
                    }
                }
            }
        }
        let over = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        for split in 0..=over.len() {
            let read = read_split(over, split, Limits { body_bytes_max: 2, ..Limits::DEFAULT }, false);
            assert_eq!(read, Err(CodecError::BodyTooLarge { limit_bytes: 2 }), "split at {split}");
        }
    }

    #[test]
    fn interim_heads_are_skipped_and_not_part_of_the_head() {
        let mut reader = ResponseReader::new(Limits::DEFAULT, false, true);
        let mut input = BytesMut::from(
            &b"HTTP/1.1 100 Continue\r\nX-A: no\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nX-A: yes\r\nContent-Length: 2\r\n\r\nok"[..],
        );
        let mut body = BytesMut::new();
        // Fed one byte at a time, as a trickling server would.
        let mut fed = BytesMut::new();
        let mut done = false;
        while !input.is_empty() {
            fed.extend_from_slice(&input.split_to(1));
            done = reader.feed(&mut fed, &mut body).unwrap() == ReadProgress::Complete;
        }
        assert!(done);
        let (head, raw) = reader.take_head().unwrap();
        assert_eq!((head.status, head.interim_count), (200, 2));
        assert!(raw.starts_with(b"HTTP/1.1 200 OK"), "{raw:?}");
        assert_eq!(&body[..], b"ok");
    }

    /// A reader told not to keep the head reads what one that keeps it reads (the parsed head,
    /// the body, the next response's bytes left), its raw head empty; a head with `Set-Cookie`
    /// and a redirect's are kept all the same.
    #[test]
    fn a_head_not_kept_is_read_the_same_and_let_go() {
        let next = b"HTTP/1.1 204 No Content\r\n\r\n";
        let cases: [(&[u8], bool); 4] = [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false),
            (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n\r\nok", true),
            (b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 2\r\n\r\nok", true),
        ];
        for (response, kept_anyway) in cases {
            let bytes = [response, next].concat();
            // Fed in two pieces, split at `split`.
            let read = |keep_head: bool, split: usize| {
                let mut reader = ResponseReader::new(Limits::DEFAULT, false, true).with_head_kept(keep_head);
                let (mut input, mut body) = (BytesMut::new(), BytesMut::new());
                let mut progress = ReadProgress::NeedMore;
                for piece in [&bytes[..split], &bytes[split..]] {
                    input.extend_from_slice(piece);
                    if progress == ReadProgress::NeedMore {
                        progress = reader.feed(&mut input, &mut body).unwrap();
                    }
                }
                let (head, raw) = reader.take_head().unwrap();
                (progress, head, raw, reader.body_bytes(), body.to_vec(), input.to_vec())
            };
            for split in 0..=bytes.len() {
                let (kept, let_go) = (read(true, split), read(false, split));
                assert_eq!(kept.0, ReadProgress::Complete);
                assert!(response.starts_with(&kept.2) && kept.2.ends_with(b"\r\n\r\n"), "{:?}", kept.2);
                let want_raw = if kept_anyway { kept.2.clone() } else { Bytes::new() };
                assert_eq!(
                    let_go,
                    (kept.0, kept.1, want_raw, kept.3, kept.4.clone(), kept.5.clone()),
                    "split at {split}"
                );
                assert_eq!((&kept.4[..], &kept.5[..]), (&b"ok"[..], &next[..]));
            }
        }
    }
}

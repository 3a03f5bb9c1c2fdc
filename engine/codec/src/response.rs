//! One response read incrementally from a connection's read buffer: head, then body.

use bytes::{Buf, Bytes, BytesMut};

use crate::{BodyDecoder, CodecError, Limits, ResponseHead, parse_response_head};

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
}

impl ResponseReader {
    /// A reader for the response to one request.
    pub fn new(limits: Limits, request_was_head: bool, keep_body: bool) -> ResponseReader {
        ResponseReader { limits, request_was_head, head: None, decoder: None, keep_body }
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
        if self.head.is_none() {
            let Some(head) = parse_response_head(input, &self.limits, self.request_was_head)? else {
                return Ok(ReadProgress::NeedMore);
            };
            let raw = input.split_to(head.head_len).freeze();
            let decoder = BodyDecoder::new(head.framing, &self.limits);
            decoder.check_declared()?;
            self.head = Some((head, raw));
            self.decoder = Some(decoder);
        }
        let decoder = self.decoder.as_mut().expect("decoder set with head");
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

    /// The server closed the connection. Completes a close-delimited body; any other
    /// incomplete response is an error naming what was cut short.
    pub fn finish_at_eof(&mut self) -> Result<(), CodecError> {
        match self.decoder.as_mut() {
            None => Err(CodecError::UnexpectedEof { during: "response head" }),
            Some(decoder) => decoder.finish_at_eof(),
        }
    }
}

//! Every response fixture fed to the reader split at every byte position, in two and three
//! pieces, must give the same outcome as feeding it whole.

use bytes::BytesMut;
use mite_codec::{CodecError, Limits, ReadProgress, ResponseReader};

/// (name, bytes, expected outcome: Ok((status, body, keep_alive)) or Err(kind))
struct Fixture {
    name: &'static str,
    bytes: &'static [u8],
    head_request: bool,
    expect: Result<(u16, &'static [u8], bool), &'static str>,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "content-length",
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!",
        head_request: false,
        expect: Ok((200, b"Hello, World!", true)),
    },
    Fixture {
        name: "chunked with extensions and trailers",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: 1\r\n\r\n",
        head_request: false,
        expect: Ok((200, b"Hello, World!", true)),
    },
    Fixture {
        name: "100 continue then 204",
        bytes: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        head_request: false,
        expect: Ok((204, b"", true)),
    },
    Fixture {
        name: "a 204 with a length has no body and ends its connection",
        bytes: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        head_request: false,
        expect: Ok((204, b"", false)),
    },
    Fixture {
        name: "a 204 chunked has no body and ends its connection",
        bytes: b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        head_request: false,
        expect: Ok((204, b"", false)),
    },
    Fixture {
        name: "a 304 with a length (the 200's) has no body and keeps its connection",
        bytes: b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        head_request: false,
        expect: Ok((304, b"", true)),
    },
    Fixture {
        name: "HTTP/1.2 is read as HTTP/1.1",
        bytes: b"HTTP/1.2 103 Early Hints\r\n\r\nHTTP/1.2 200\r\nContent-Length: 2\r\n\r\nok",
        head_request: false,
        expect: Ok((200, b"ok", true)),
    },
    Fixture {
        name: "HTTP/2.0 is another version",
        bytes: b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        head_request: false,
        expect: Err("version"),
    },
    Fixture {
        name: "a TLS alert where a status line should be",
        bytes: b"\x15\x03\x03\x00\x02\x02\x46",
        head_request: false,
        expect: Err("tls"),
    },
    Fixture {
        name: "HTTP/1.10 is not a version",
        bytes: b"HTTP/1.10 200 OK\r\nContent-Length: 2\r\n\r\nok",
        head_request: false,
        expect: Err("malformed"),
    },
    Fixture {
        name: "lines ended by LF alone and no reason",
        bytes: b"HTTP/1.1 200\nContent-Length: 2\n\nok",
        head_request: false,
        expect: Ok((200, b"ok", true)),
    },
    Fixture {
        name: "chunk sizes in upper case and with leading zeros",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000000A\r\nHello, Wor\r\n3\r\nld!\r\n000\r\n\r\n",
        head_request: false,
        expect: Ok((200, b"Hello, World!", true)),
    },
    Fixture {
        name: "a chunk size past 64 bits",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n010000000000000000\r\n",
        head_request: false,
        expect: Err("chunk"),
    },
    // RFC 9112 section 7.1: chunked framing takes CRLF only (section 2.2's bare LF is the
    // head's); a CR without its LF is refused as well.
    Fixture {
        name: "a chunk-size line ended by a bare LF",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nHello\r\n0\r\n\r\n",
        head_request: false,
        expect: Err("chunk-bare-lf"),
    },
    Fixture {
        name: "chunk data ended by a bare LF",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\n0\r\n\r\n",
        head_request: false,
        expect: Err("chunk-bare-lf"),
    },
    Fixture {
        name: "a bare LF ending the chunked body, a second answer after it",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n0\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        head_request: false,
        expect: Err("chunk-bare-lf"),
    },
    Fixture {
        name: "a trailer line ended by a bare LF",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n0\r\nX: 1\nY: 2\r\n\r\n",
        head_request: false,
        expect: Err("chunk-bare-lf"),
    },
    Fixture {
        name: "a CR without LF after chunk data",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r0\r\n\r\n",
        head_request: false,
        expect: Err("chunk"),
    },
    Fixture {
        name: "a CR without LF in the trailer section",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n0\r\nX: 1\rY: 2\r\n\r\n",
        head_request: false,
        expect: Err("chunk"),
    },
    Fixture {
        name: "http/1.0 until close",
        bytes: b"HTTP/1.0 200 OK\r\n\r\nbody until close",
        head_request: false,
        expect: Ok((200, b"body until close", false)),
    },
    Fixture {
        name: "connection close",
        bytes: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        head_request: false,
        expect: Ok((200, b"ok", false)),
    },
    Fixture {
        name: "head request ignores length",
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        head_request: true,
        expect: Ok((200, b"", true)),
    },
    Fixture {
        name: "close before declared length",
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        head_request: false,
        expect: Err("eof"),
    },
    Fixture {
        name: "conflicting content-length",
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        head_request: false,
        expect: Err("conflicting"),
    },
    Fixture {
        name: "non-http bytes",
        bytes: b"\x00\x01\x02garbage\r\n\r\n",
        head_request: false,
        expect: Err("malformed"),
    },
    Fixture {
        name: "truncated chunked",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHel",
        head_request: false,
        expect: Err("eof"),
    },
    Fixture {
        name: "a folded field (obs-fold) is read, the fold as spaces",
        bytes: b"HTTP/1.1 200 OK\r\nX-Folded: hello\r\n  there,\r\n\tagain\r\nContent-Length: 2\r\n\r\nok",
        head_request: false,
        expect: Ok((200, b"ok", true)),
    },
    Fixture {
        name: "a folded Connection is read as a list",
        bytes: b"HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 2\r\n\r\nok",
        head_request: false,
        expect: Ok((200, b"ok", false)),
    },
    Fixture {
        name: "a fold before a Content-Length value leaves one value",
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok",
        head_request: false,
        expect: Ok((200, b"ok", true)),
    },
    Fixture {
        name: "a Content-Length folded inside its value is refused",
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n123456789012",
        head_request: false,
        expect: Err("folded"),
    },
    Fixture {
        name: "a Transfer-Encoding folded inside its value is refused",
        bytes: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n",
        head_request: false,
        expect: Err("folded"),
    },
    Fixture {
        name: "whitespace right after the status line is no fold",
        bytes: b"HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 0\r\n\r\n",
        head_request: false,
        expect: Err("malformed"),
    },
];

fn kind(err: &CodecError) -> &'static str {
    match err {
        CodecError::UnexpectedEof { .. } => "eof",
        CodecError::ConflictingContentLength => "conflicting",
        CodecError::Malformed { .. } => "malformed",
        CodecError::InvalidContentLength => "invalid-length",
        CodecError::BadChunk { what } if what.contains("bare LF") => "chunk-bare-lf",
        CodecError::BadChunk { .. } => "chunk",
        CodecError::FoldedFraming { .. } => "folded",
        CodecError::OtherVersion { .. } => "version",
        CodecError::TlsAnswer => "tls",
        _ => "too-large",
    }
}

/// Feeds `pieces` in order, then EOF if the response is still incomplete.
fn run(fixture: &Fixture, pieces: &[&[u8]]) -> Result<(u16, Vec<u8>, bool), &'static str> {
    let mut reader = ResponseReader::new(Limits::DEFAULT, fixture.head_request, true);
    let mut input = BytesMut::new();
    let mut body = BytesMut::new();
    let mut complete = false;
    for piece in pieces {
        input.extend_from_slice(piece);
        match reader.feed(&mut input, &mut body) {
            Ok(ReadProgress::Complete) => {
                complete = true;
                break;
            }
            Ok(ReadProgress::NeedMore) => {}
            Err(err) => return Err(kind(&err)),
        }
    }
    if !complete {
        reader.finish_at_eof().map_err(|e| kind(&e))?;
    }
    let (head, _) = reader.take_head().expect("complete response has a head");
    Ok((head.status, body.to_vec(), head.keep_alive))
}

fn expected(fixture: &Fixture) -> Result<(u16, Vec<u8>, bool), &'static str> {
    fixture.expect.map(|(status, body, keep)| (status, body.to_vec(), keep))
}

#[test]
fn every_fixture_whole() {
    for fixture in FIXTURES {
        assert_eq!(run(fixture, &[fixture.bytes]), expected(fixture), "{}", fixture.name);
    }
}

#[test]
fn every_fixture_split_at_every_position() {
    for fixture in FIXTURES {
        let bytes = fixture.bytes;
        for split in 0..=bytes.len() {
            let got = run(fixture, &[&bytes[..split], &bytes[split..]]);
            assert_eq!(got, expected(fixture), "{} split at {split}", fixture.name);
        }
    }
}

#[test]
fn every_fixture_split_in_three() {
    for fixture in FIXTURES {
        let bytes = fixture.bytes;
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let got = run(fixture, &[&bytes[..a], &bytes[a..b], &bytes[b..]]);
                assert_eq!(got, expected(fixture), "{} split at {a},{b}", fixture.name);
            }
        }
    }
}

#[test]
fn one_byte_at_a_time() {
    for fixture in FIXTURES {
        let pieces: Vec<&[u8]> = fixture.bytes.chunks(1).collect();
        assert_eq!(run(fixture, &pieces), expected(fixture), "{}", fixture.name);
    }
}

#[test]
fn pipelined_responses_leave_the_next_one_in_the_buffer() {
    let two = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
    let mut input = BytesMut::from(&two[..]);
    let mut body = BytesMut::new();
    let mut first = ResponseReader::new(Limits::DEFAULT, false, true);
    assert_eq!(first.feed(&mut input, &mut body), Ok(ReadProgress::Complete));
    let mut second = ResponseReader::new(Limits::DEFAULT, false, true);
    assert_eq!(second.feed(&mut input, &mut body), Ok(ReadProgress::Complete));
    assert_eq!(&body[..], b"ab");
    assert!(input.is_empty());
}

/// The head a reader hands on for `bytes` fed in two pieces split at `split` (the response
/// must be whole by the second).
fn head_split_at(bytes: &[u8], split: usize) -> (mite_codec::ResponseHead, bytes::Bytes) {
    let mut reader = ResponseReader::new(Limits::DEFAULT, false, true);
    let (mut input, mut body) = (BytesMut::new(), BytesMut::new());
    let mut progress = ReadProgress::NeedMore;
    for piece in [&bytes[..split], &bytes[split..]] {
        input.extend_from_slice(piece);
        progress = reader.feed(&mut input, &mut body).unwrap();
    }
    assert_eq!(progress, ReadProgress::Complete, "split at {split}");
    reader.take_head().unwrap()
}

/// RFC 9112 §5.2: each obs-fold is replaced with spaces before the value is read. The head the
/// reader hands on has its folds replaced (same length), at every split of the bytes.
#[test]
fn a_folded_value_reads_with_spaces_at_every_split() {
    let bytes: &[u8] = b"HTTP/1.1 100 Continue\r\nX-I: a\r\n b\r\n\r\nHTTP/1.1 200 OK\r\nX-Folded: hello\r\n  there,\r\n\tagain\r\nX-Plain: p\r\nContent-Length: 2\r\n\r\nok";
    for split in 0..=bytes.len() {
        let (head, raw) = head_split_at(bytes, split);
        assert!(head.folded);
        let final_at = bytes.windows(8).rposition(|w| w == b"HTTP/1.1").unwrap();
        assert_eq!(raw.len(), bytes.len() - final_at - 2, "the head keeps its length: split at {split}");
        let value = mite_codec::head::find_header(&raw, "x-folded").unwrap();
        assert_eq!(value, b"hello    there,   again", "split at {split}");
        assert_eq!(mite_codec::head::find_header(&raw, "x-plain"), Some(&b"p"[..]));
    }
}

/// RFC 9110 §2.5: an `HTTP/1.2` head is read as HTTP/1.1, and the head handed on says
/// `HTTP/1.1`, so that its fields are found, at every split.
#[test]
fn an_http_1_2_head_is_handed_on_as_http_1_1_at_every_split() {
    let bytes: &[u8] = b"HTTP/1.2 100 Continue\r\n\r\nHTTP/1.2 200 OK\r\nX-A: a\r\nContent-Length: 2\r\n\r\nok";
    for split in 0..=bytes.len() {
        let (head, raw) = head_split_at(bytes, split);
        assert_eq!((head.status, head.minor_version, head.interim_count), (200, 1, 1), "split at {split}");
        assert!(raw.starts_with(b"HTTP/1.1 200 OK\r\n"), "split at {split}: {raw:?}");
        assert_eq!(mite_codec::head::find_header(&raw, "x-a"), Some(&b"a"[..]), "split at {split}");
    }
}

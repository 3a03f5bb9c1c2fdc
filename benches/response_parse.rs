//! Reading one response with the codec alone, as the client does for every request: a new
//! `ResponseReader` fed a buffer holding the whole response (issue 15's response parsing). Each
//! case reads its response over and over, as a core reads nginx's between two `Date`s: after
//! the first, the head is answered by the codec's head memo; `nginx_every_head_new` alternates
//! two heads, so that each is parsed.
//!
//! Time per response: `cargo bench -p mite-benches --bench response_parse`. Instructions per
//! response (independent of the machine's load), under callgrind:
//! `benches/response_instructions.sh`.

use bytes::BytesMut;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use mite_codec::{Limits, ReadProgress, ResponseReader};

/// nginx 1.22's exact answer to `benches/harness.py`'s `return 200 "Hello, World!"`.
const NGINX: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 07:00:34 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!";
/// nginx's answer a second later: read in turn with [`NGINX`], every head differs from the one
/// before it and is parsed (what the head memo costs when it never helps).
const NGINX_NEXT_SECOND: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 07:00:35 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!";
/// The tools/ target's answer to `GET /`.
const MITE_TARGET: &[u8] = b"HTTP/1.1 200 OK\r\nServer: mite-target\r\nContent-Length: 13\r\n\r\nHello, World!";
/// An application server's answer: more fields, a cookie, a JSON body.
const APP: &[u8] = b"HTTP/1.1 200 OK\r\nDate: Thu, 26 Nov 2026 07:00:34 GMT\r\n\
Content-Type: application/json; charset=utf-8\r\nContent-Length: 26\r\nConnection: keep-alive\r\n\
Cache-Control: no-store, max-age=0\r\nX-Request-Id: 6f1c2b7e-53a4-4f0e-9d7a-2b1e0c9a8f31\r\n\
Set-Cookie: session=abc123; Path=/; HttpOnly\r\nVary: Accept-Encoding\r\n\
Strict-Transport-Security: max-age=31536000\r\n\r\n{\"id\":42,\"status\":\"ready\"}";
/// A chunked answer with an extension.
const CHUNKED: &[u8] =
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nHello\r\n8\r\n, World!\r\n0\r\n\r\n";

/// Reads `bytes` as one response, as the client does (body counted, not kept).
fn read_one(input: &mut BytesMut, body: &mut BytesMut, bytes: &[u8]) -> u64 {
    input.clear();
    body.clear();
    input.extend_from_slice(bytes);
    let mut reader = ResponseReader::new(Limits::DEFAULT, false, false);
    let progress = reader.feed(input, body).expect("a valid response");
    assert_eq!(progress, ReadProgress::Complete);
    reader.body_bytes()
}

fn response_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("response_parse");
    group.throughput(Throughput::Elements(1));
    for (name, bytes) in [("nginx", NGINX), ("mite_target", MITE_TARGET), ("app", APP), ("chunked", CHUNKED)] {
        let mut input = BytesMut::with_capacity(4096);
        let mut body = BytesMut::with_capacity(4096);
        group.bench_function(name, |b| b.iter(|| black_box(read_one(&mut input, &mut body, black_box(bytes)))));
    }
    let (mut input, mut body) = (BytesMut::with_capacity(4096), BytesMut::with_capacity(4096));
    let mut turn = false;
    group.bench_function("nginx_every_head_new", |b| {
        b.iter(|| {
            turn = !turn;
            let bytes = if turn { NGINX } else { NGINX_NEXT_SECOND };
            black_box(read_one(&mut input, &mut body, black_box(bytes)))
        })
    });
    group.finish();
}

criterion_group!(benches, response_parse);
criterion_main!(benches);

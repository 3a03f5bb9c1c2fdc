//! Per-request cost of the codec: encoding a GET into a reused buffer, and reading a
//! Content-Length and a chunked response out of a buffer.

use bytes::BytesMut;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use mite_codec::{Limits, ReadProgress, RequestHead, ResponseReader, encode_request};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 22:00:00 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!";
const CHUNKED: &[u8] =
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nHello\r\n8\r\n, World!\r\n0\r\n\r\n";

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let mut out = BytesMut::with_capacity(1024);
    let head = RequestHead { method: "GET", target: "/index.html?user=42", host: "127.0.0.1:8080", headers: &[] };
    group.bench_function("get", |b| {
        b.iter(|| {
            out.clear();
            encode_request(&mut out, black_box(&head), b"");
            black_box(out.len())
        })
    });
    let headers = [("Accept", "application/json"), ("Authorization", "Bearer abcdef0123456789")];
    let head = RequestHead { method: "POST", target: "/api/orders", host: "api.example:443", headers: &headers };
    group.bench_function("post_with_headers", |b| {
        b.iter(|| {
            out.clear();
            encode_request(&mut out, black_box(&head), br#"{"sku":123,"qty":1}"#);
            black_box(out.len())
        })
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    for (name, bytes) in [("content_length", RESPONSE), ("chunked", CHUNKED)] {
        let mut input = BytesMut::with_capacity(4096);
        let mut body = BytesMut::with_capacity(4096);
        group.bench_function(name, |b| {
            b.iter(|| {
                input.clear();
                body.clear();
                input.extend_from_slice(bytes);
                let mut reader = ResponseReader::new(Limits::DEFAULT, false, false);
                let progress = reader.feed(&mut input, &mut body).expect("valid response");
                assert_eq!(progress, ReadProgress::Complete);
                black_box(reader.body_bytes())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode, parse);
criterion_main!(benches);

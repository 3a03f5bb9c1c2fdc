//! Fuzzes the response reader: any bytes, fed in pieces at a fuzzer-chosen split, must give a
//! response or an error — never a panic — and the same outcome as feeding them whole, or
//! feeding them whole again (then from the head memo).

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mite_codec::{Limits, ReadProgress, ResponseReader};

fn read(pieces: &[&[u8]], head_request: bool) -> Result<(u16, Vec<u8>), String> {
    let limits = Limits { head_bytes_max: 4096, headers_count_max: 32, body_bytes_max: 1 << 16, chunk_line_bytes_max: 256 };
    let mut reader = ResponseReader::new(limits, head_request, true);
    let mut input = BytesMut::new();
    let mut body = BytesMut::new();
    for piece in pieces {
        input.extend_from_slice(piece);
        match reader.feed(&mut input, &mut body) {
            Ok(ReadProgress::Complete) => {
                let (head, _) = reader.take_head().expect("complete has a head");
                return Ok((head.status, body.to_vec()));
            }
            Ok(ReadProgress::NeedMore) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
    reader.finish_at_eof().map_err(|e| e.to_string())?;
    let (head, _) = reader.take_head().expect("finished body has a head");
    Ok((head.status, body.to_vec()))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let head_request = data[0] & 1 == 1;
    let split = usize::from(data[1]).min(data.len() - 2);
    let rest = &data[2..];
    let whole = read(&[rest], head_request);
    let split_up = read(&[&rest[..split], &rest[split..]], head_request);
    assert_eq!(whole, split_up);
    // Read again: a head answered before comes from the head memo, with the same outcome.
    assert_eq!(whole, read(&[rest], head_request));
});

//! The result framed for a log stream (`--json=-`): the compact JSON cut into short, numbered
//! lines with a header carrying its length and checksum, so that a collector finds it among
//! whatever else the pod's log holds (stderr lines, warnings, `kubectl logs --timestamps`
//! prefixes) and knows it is whole. I/O-free: `encode` makes the text, `decode` reads it back.
//!
//! ```text
//! mite-result begin v1 segment=1/4 lines=3 bytes=9876 fnv1a64=8c9d0e1f2a3b4c5d
//! mite-result 1/3 {"mite_engine_version":...
//! mite-result 2/3 ...
//! mite-result 3/3 ...}
//! mite-result end
//! ```

use crate::limits::{RESULT_FRAME_CHUNK_BYTES, RESULT_FRAME_LINES_MAX};

/// What every frame line starts with.
pub const MARKER: &str = "mite-result ";

/// Why a log holds no usable result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No frame began in the text.
    #[error("no result in it (no `{MARKER}begin` line: the run did not end?)")]
    NoFrame,
    /// A frame began (at this 1-based line of the log) but some of its lines never came.
    #[error("the result begun at line {line} is incomplete: {} of {expected} lines missing ({})", missing.len(), listed(missing))]
    Incomplete {
        /// The line its header is on.
        line: usize,
        /// The numbers of the frame's lines that never came.
        missing: Vec<usize>,
        /// How many lines the header announced.
        expected: usize,
    },
    /// All lines came but the bytes are not what the header announced.
    #[error("the result begun at line {line} is damaged: {reason}")]
    Corrupt {
        /// The line its header is on.
        line: usize,
        /// What does not match.
        reason: String,
    },
    /// A header this version cannot read.
    #[error("line {line}: unreadable result header {header:?}")]
    BadHeader {
        /// The line it is on.
        line: usize,
        /// The header as found.
        header: String,
    },
}

/// The first ten missing line numbers, `...` when there are more.
fn listed(missing: &[usize]) -> String {
    let shown: Vec<String> = missing.iter().take(10).map(usize::to_string).collect();
    format!("{}{}", shown.join(", "), if missing.len() > 10 { ", ..." } else { "" })
}

/// FNV-1a, 64 bits: enough to tell a damaged frame from a whole one.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Frames `json` (one line, no newlines: compact serde_json output) as log lines, each ending
/// in `\n`. `segment` (`K/N`) is informative.
pub fn encode(json: &str, segment: Option<&str>) -> String {
    debug_assert!(!json.contains('\n'), "compact JSON has no newlines");
    let chunks = chunks(json, RESULT_FRAME_CHUNK_BYTES);
    let mut out = String::with_capacity(json.len() + chunks.len() * 24 + 128);
    out.push_str(&format!(
        "{MARKER}begin v1 segment={} lines={} bytes={} fnv1a64={:016x}\n",
        segment.unwrap_or("-"),
        chunks.len(),
        json.len(),
        fnv1a64(json.as_bytes())
    ));
    for (i, chunk) in chunks.iter().enumerate() {
        out.push_str(&format!("{MARKER}{}/{} {chunk}\n", i + 1, chunks.len()));
    }
    out.push_str(&format!("{MARKER}end\n"));
    out
}

/// Cuts `text` into pieces of at most `max` bytes, on character boundaries.
fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// A frame being read.
struct Partial {
    line: usize,
    lines: usize,
    bytes: usize,
    hash: u64,
    parts: Vec<Option<String>>,
}

impl Partial {
    /// Keeps a `K/N chunk` line of this frame; anything else is not its.
    fn take_line(&mut self, body: &str) {
        let Some((position, chunk)) = body.split_once(' ') else { return };
        let Some((k, n)) = position.split_once('/') else { return };
        let (Ok(k), Ok(n)) = (k.parse::<usize>(), n.parse::<usize>()) else { return };
        if n == self.lines && (1..=n).contains(&k) {
            self.parts[k - 1] = Some(chunk.to_owned());
        }
    }

    fn finish(self) -> Result<String, FrameError> {
        let missing: Vec<usize> =
            self.parts.iter().enumerate().filter(|(_, p)| p.is_none()).map(|(i, _)| i + 1).collect();
        if !missing.is_empty() {
            return Err(FrameError::Incomplete { line: self.line, missing, expected: self.lines });
        }
        let json: String = self.parts.into_iter().flatten().collect();
        let corrupt = |reason: String| FrameError::Corrupt { line: self.line, reason };
        if json.len() != self.bytes {
            return Err(corrupt(format!("{} bytes, the header says {}", json.len(), self.bytes)));
        }
        if fnv1a64(json.as_bytes()) != self.hash {
            return Err(corrupt("checksum differs".into()));
        }
        Ok(json)
    }
}

/// Finds the last whole result framed in `log`: lines may carry a prefix (a timestamp, a pod
/// name) before the marker, and other lines may come between them. Earlier frames (a restarted
/// container's) are skipped when a later one is whole.
pub fn decode(log: &str) -> Result<String, FrameError> {
    decode_noting(log).map(|(json, _)| json)
}

/// [`decode`], and the frame after the one returned that was cut short or damaged, if any (a
/// container that finished a run, was restarted and killed during the next): its caller says
/// that an earlier run's result stands in for it.
pub fn decode_noting(log: &str) -> Result<(String, Option<FrameError>), FrameError> {
    let mut current: Option<Partial> = None;
    let mut last = Latest::default();
    for (index, line) in log.lines().enumerate() {
        let Some(at) = line.find(MARKER) else { continue };
        let body = line[at + MARKER.len()..].trim_end_matches('\r');
        if let Some(header) = body.strip_prefix("begin ") {
            if let Some(partial) = current.take() {
                last.then(partial.finish());
            }
            match parse_header(header, index + 1) {
                Ok(partial) => current = Some(partial),
                Err(err) => last.then(Err(err)),
            }
        } else if body == "end" {
            if let Some(partial) = current.take() {
                last.then(partial.finish());
            }
        } else if let Some(partial) = current.as_mut() {
            partial.take_line(body);
        }
    }
    if let Some(partial) = current.take() {
        // The end line never came; the frame may still be whole.
        last.then(partial.finish());
    }
    last.found.map(|json| (json, last.broken_after))
}

/// One segment's result found in a log by [`decode_parts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramedPart {
    /// The result's JSON.
    pub json: String,
    /// A frame of the same segment after it that was cut short or damaged.
    pub broken_after: Option<FrameError>,
    /// Whole frames of the same segment before it, replaced by it (a restarted container's
    /// earlier runs; or, for results without a segment, other injectors' runs: said).
    pub replaced: usize,
}

/// Every result framed in `log`, one per segment in the order each first appears: several
/// pods' logs one after another (`kubectl logs -l app=... > all.log`) hold one frame each. Of
/// frames of one segment (a restarted container's runs), the last whole one stands, as in
/// [`decode_noting`], with the broken frame after it if any and how many whole ones it
/// replaced. A segment (or a frame whose header cannot be read, which counts with the frame
/// before it) with no whole frame makes the whole log an error: its part would be lost.
pub fn decode_parts(log: &str) -> Result<Vec<FramedPart>, FrameError> {
    let mut groups: Vec<(String, Latest)> = Vec::new();
    let mut current: Option<(String, Partial)> = None;
    for (index, line) in log.lines().enumerate() {
        let Some(at) = line.find(MARKER) else { continue };
        let body = line[at + MARKER.len()..].trim_end_matches('\r');
        if let Some(header) = body.strip_prefix("begin ") {
            if let Some((key, partial)) = current.take() {
                let at = group_of(&mut groups, &key);
                groups[at].1.then(partial.finish());
            }
            match parse_header(header, index + 1) {
                Ok(partial) => current = Some((segment_of(header), partial)),
                Err(err) => {
                    let key = groups.last().map_or_else(|| "-".to_owned(), |(k, _)| k.clone());
                    let at = group_of(&mut groups, &key);
                    groups[at].1.then(Err(err));
                }
            }
        } else if body == "end" {
            if let Some((key, partial)) = current.take() {
                let at = group_of(&mut groups, &key);
                groups[at].1.then(partial.finish());
            }
        } else if let Some((_, partial)) = current.as_mut() {
            partial.take_line(body);
        }
    }
    if let Some((key, partial)) = current.take() {
        let at = group_of(&mut groups, &key);
        groups[at].1.then(partial.finish());
    }
    if groups.is_empty() {
        return Err(FrameError::NoFrame);
    }
    let part = |latest: Latest| {
        let (broken_after, replaced) = (latest.broken_after, latest.replaced);
        latest.found.map(|json| FramedPart { json, broken_after, replaced })
    };
    groups.into_iter().map(|(_, latest)| part(latest)).collect()
}

/// The place in `groups` of the frames of segment `key`, made when it is the first.
fn group_of(groups: &mut Vec<(String, Latest)>, key: &str) -> usize {
    match groups.iter().position(|(k, _)| k == key) {
        Some(at) => at,
        None => {
            groups.push((key.to_owned(), Latest::default()));
            groups.len() - 1
        }
    }
}

/// The `segment=` of a frame header (`-` when it has none).
fn segment_of(header: &str) -> String {
    header.split_whitespace().find_map(|f| f.strip_prefix("segment=")).unwrap_or("-").to_owned()
}

/// The frames read so far: the last whole one, and a broken one after it.
struct Latest {
    found: Result<String, FrameError>,
    broken_after: Option<FrameError>,
    /// Whole frames a later whole one replaced.
    replaced: usize,
}

impl Default for Latest {
    fn default() -> Latest {
        Latest { found: Err(FrameError::NoFrame), broken_after: None, replaced: 0 }
    }
}

impl Latest {
    /// A later frame replaces an earlier one, unless it is broken and the earlier one whole.
    fn then(&mut self, frame: Result<String, FrameError>) {
        match (frame, &self.found) {
            (Err(err), Ok(_)) => self.broken_after = Some(err),
            (frame, found) => {
                self.replaced += usize::from(found.is_ok() && frame.is_ok());
                self.found = frame;
                self.broken_after = None;
            }
        }
    }
}

fn parse_header(header: &str, line: usize) -> Result<Partial, FrameError> {
    let bad = || FrameError::BadHeader { line, header: header.to_owned() };
    let mut fields = header.split_whitespace();
    if fields.next() != Some("v1") {
        return Err(bad());
    }
    let (mut lines, mut bytes, mut hash) = (None, None, None);
    for field in fields {
        match field.split_once('=') {
            Some(("lines", v)) => lines = v.parse::<usize>().ok(),
            Some(("bytes", v)) => bytes = v.parse::<usize>().ok(),
            Some(("fnv1a64", v)) => hash = u64::from_str_radix(v, 16).ok(),
            _ => {}
        }
    }
    let (Some(lines), Some(bytes), Some(hash)) = (lines, bytes, hash) else { return Err(bad()) };
    if lines > RESULT_FRAME_LINES_MAX {
        return Err(bad());
    }
    Ok(Partial { line, lines, bytes, hash, parts: vec![None; lines] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(size: usize) -> String {
        // Multi-byte characters straddle the chunk boundaries.
        let name: String = "é€x".chars().cycle().take(size).collect();
        serde_json::json!({ "scenario": name, "totals": { "requests": 7 } }).to_string()
    }

    #[test]
    fn round_trips_across_chunk_boundaries() {
        for size in [0, 1, 1000, 4095, 4096, 20_000] {
            let json = document(size);
            let framed = encode(&json, Some("1/4"));
            assert!(framed.lines().all(|l| l.len() <= RESULT_FRAME_CHUNK_BYTES + 64), "short lines");
            assert_eq!(decode(&framed).unwrap(), json);
        }
    }

    #[test]
    fn survives_interleaved_lines_and_prefixes() {
        let json = document(20_000);
        let framed = encode(&json, None);
        let mut log = String::from("io_uring unavailable (...); using epoll\n");
        for (i, line) in framed.lines().enumerate() {
            // kubectl logs --timestamps puts a timestamp first; stderr lines fall in between.
            log.push_str(&format!("2026-11-25T18:00:00.{i:09}Z {line}\n"));
            log.push_str("warning: threshold p99<1ms: FAIL {\"not\": \"json\"}\n");
        }
        log.push_str("result written to standard output\n");
        assert_eq!(decode(&log).unwrap(), json);
    }

    #[test]
    fn missing_or_damaged_lines_are_named() {
        let framed = encode(&document(12_000), None);
        let lines: Vec<&str> = framed.lines().collect();
        let without_two: String =
            lines.iter().enumerate().filter(|(i, _)| *i != 2).map(|(_, l)| format!("{l}\n")).collect();
        match decode(&without_two) {
            Err(FrameError::Incomplete { missing, expected, line: 1 }) => {
                assert_eq!(missing, vec![2]);
                assert_eq!(expected, lines.len() - 2);
            }
            other => panic!("{other:?}"),
        }
        let damaged = framed.replacen("é", "e", 1);
        assert!(matches!(decode(&damaged), Err(FrameError::Corrupt { .. })), "{:?}", decode(&damaged));
        assert_eq!(decode("just logs\nno result\n"), Err(FrameError::NoFrame));
        let truncated: String = lines[..3].iter().map(|l| format!("{l}\n")).collect();
        assert!(decode(&truncated).unwrap_err().to_string().contains("incomplete"));
        assert!(matches!(decode("mite-result begin v9 lines=1\n"), Err(FrameError::BadHeader { line: 1, .. })));
    }

    proptest::proptest! {
        /// Whatever lines fall between the frame's (stderr, warnings, other JSON) and whatever
        /// prefix each line gets, the result comes back whole; and no input makes decode panic.
        #[test]
        fn any_interleaving_round_trips(
            size in 0usize..12_000,
            noise in proptest::collection::vec(("[ -~]{0,80}", 0usize..40), 0..20),
            prefix in "[0-9TZ:.-]{0,30} ?",
        ) {
            let json = document(size);
            let mut lines: Vec<String> = encode(&json, Some("0/1")).lines().map(|l| format!("{prefix}{l}")).collect();
            for (text, at) in noise {
                let at = at.min(lines.len());
                lines.insert(at, text);
            }
            let log = lines.join("\n");
            proptest::prop_assert_eq!(decode(&log), Ok(json));
        }

        #[test]
        fn garbage_never_panics(text in "(mite-result [ -~]{0,40}\n|[ -~]{0,40}\n){0,30}") {
            let _ = decode(&text);
        }
    }

    /// Outside try: several pods' logs in one file (`kubectl logs -l app=... > all.log`) gave
    /// one segment's result only. Each segment's frame is a part; a restarted container's
    /// earlier frame of the same segment gives way to its later one.
    #[test]
    fn concatenated_logs_give_every_segment() {
        let (a, b, c) = (document(10), document(9000), document(20));
        let log = format!(
            "pod 0 starting\n{}pod 1 starting\n{}{}",
            encode(&a, Some("0/2")),
            encode(&c, Some("1/2")),
            encode(&b, Some("1/2"))
        );
        let parts = decode_parts(&log).unwrap();
        let whole = |json: &str, replaced| FramedPart { json: json.to_string(), broken_after: None, replaced };
        assert_eq!(parts, vec![whole(&a, 0), whole(&b, 1)], "segment 1/2's later frame replaced its earlier one");
        // One segment whose only frame is cut short loses the file: its part would be missing.
        let cut: String = encode(&b, Some("1/2")).lines().take(2).map(|l| format!("{l}\n")).collect();
        let log = format!("{}{cut}", encode(&a, Some("0/2")));
        assert!(matches!(decode_parts(&log), Err(FrameError::Incomplete { .. })), "{:?}", decode_parts(&log));
        // A segment's later frame cut short: its earlier whole one stands, said.
        let log = format!("{}{cut}", encode(&b, Some("1/2")));
        let parts = decode_parts(&log).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(matches!(parts[0].broken_after, Some(FrameError::Incomplete { .. })), "{parts:?}");
        assert_eq!(decode_parts("no frames\n"), Err(FrameError::NoFrame));
    }

    #[test]
    fn the_last_whole_frame_wins() {
        let (first, second) = (document(10), document(9000));
        let log = format!("{}{}", encode(&first, None), encode(&second, None));
        assert_eq!(decode(&log).unwrap(), second);
        // A later frame cut short does not hide an earlier whole one.
        let cut: String = encode(&second, None).lines().take(2).map(|l| format!("{l}\n")).collect();
        let log = format!("{}{cut}", encode(&first, None));
        assert_eq!(decode(&log).unwrap(), first);
        // ... but says so.
        let (json, broken) = decode_noting(&log).unwrap();
        assert_eq!(json, first);
        assert!(matches!(broken, Some(FrameError::Incomplete { .. })), "{broken:?}");
        assert_eq!(decode_noting(&encode(&first, None)).unwrap().1, None);
    }
}

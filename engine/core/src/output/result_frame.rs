//! The result framed for a log stream (`--json=-`): the compact JSON cut into short, numbered
//! lines with a header carrying its length and checksum, so that a collector finds it among
//! whatever else the pod's log holds (stderr lines, warnings, `kubectl logs --timestamps` or
//! `--prefix` prefixes) and knows it is whole. Every line of a frame carries the frame's
//! checksum, so the lines of several pods' frames interleaved in one stream (`kubectl logs -f`
//! of several pods) are told apart, and one frame found twice (the same lines read twice) is
//! one. I/O-free: `encode` makes the text, `decode_parts` reads it back.
//!
//! ```text
//! mite-result begin v2 segment=1/4 lines=3 bytes=9876 fnv1a64=8c9d0e1f2a3b4c5d
//! mite-result 8c9d0e1f2a3b4c5d 1/3 {"mite_engine_version":...
//! mite-result 8c9d0e1f2a3b4c5d 2/3 ...
//! mite-result 8c9d0e1f2a3b4c5d 3/3 ...}
//! mite-result 8c9d0e1f2a3b4c5d end
//! ```
//!
//! Frames of the first version (`begin v1`, lines `mite-result 1/3 ...` and `mite-result end`
//! without the checksum) are still read, as they were written: one frame's lines after the
//! other's, never interleaved.

use std::collections::BTreeMap;

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
/// in `\n`, each after the header carrying the frame's checksum. `segment` (`K/N`) groups the
/// frames of one injector when they are read back.
pub fn encode(json: &str, segment: Option<&str>) -> String {
    debug_assert!(!json.contains('\n'), "compact JSON has no newlines");
    let chunks = chunks(json, RESULT_FRAME_CHUNK_BYTES);
    let id = format!("{:016x}", fnv1a64(json.as_bytes()));
    let mut out = String::with_capacity(json.len() + chunks.len() * 40 + 128);
    out.push_str(&format!(
        "{MARKER}begin v2 segment={} lines={} bytes={} fnv1a64={id}\n",
        segment.unwrap_or("-"),
        chunks.len(),
        json.len(),
    ));
    for (i, chunk) in chunks.iter().enumerate() {
        out.push_str(&format!("{MARKER}{id} {}/{} {chunk}\n", i + 1, chunks.len()));
    }
    out.push_str(&format!("{MARKER}{id} end\n"));
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

/// A frame being read: its header's figures and the lines found so far.
struct Partial {
    line: usize,
    lines: usize,
    bytes: usize,
    hash: u64,
    parts: Vec<Option<String>>,
}

impl Partial {
    /// Keeps a `K/N chunk` line of this frame; anything else is not its. A line found again
    /// (the same lines read twice) keeps the first.
    fn take_line(&mut self, body: &str) {
        let Some((position, chunk)) = body.split_once(' ') else { return };
        let Some((k, n)) = position.split_once('/') else { return };
        let (Ok(k), Ok(n)) = (k.parse::<usize>(), n.parse::<usize>()) else { return };
        if n == self.lines && (1..=n).contains(&k) && self.parts[k - 1].is_none() {
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

/// One frame found in a log, judged: where its header is, the segment it names (`-` for none),
/// its JSON or why not, and how many more times its header was found (the same frame read
/// again: its lines go to the one frame).
struct Found {
    line: usize,
    segment: String,
    frame: Result<String, FrameError>,
    repeats: usize,
}

/// Every frame in `log`, in the order of their headers. A `v2` frame's lines are found by its
/// checksum wherever they fall; a `v1` frame's are those after its header, up to the next
/// `v1` header or its `end`. An unreadable header is a frame of its own, failed, counted with
/// the segment of the frame before it.
fn frames(log: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut v1: Option<(String, Partial)> = None;
    // By checksum and segment: two segments' frames of the same bytes (their lines the same
    // too) are two results, each line given to both.
    let mut v2: BTreeMap<(u64, String), (usize, Partial)> = BTreeMap::new();
    let finish_v1 = |v1: &mut Option<(String, Partial)>, found: &mut Vec<Found>| {
        if let Some((segment, partial)) = v1.take() {
            found.push(Found { line: partial.line, segment, frame: partial.finish(), repeats: 0 });
        }
    };
    for (index, line) in log.lines().enumerate() {
        let Some(at) = line.find(MARKER) else { continue };
        let body = line[at + MARKER.len()..].trim_end_matches('\r');
        if let Some(header) = body.strip_prefix("begin ") {
            let segment = segment_of(header);
            match parse_header(header, index + 1) {
                Ok((2, partial)) => match v2.get_mut(&(partial.hash, segment.clone())) {
                    Some((repeats, _)) => *repeats += 1,
                    None => {
                        let key = (partial.hash, segment.clone());
                        found.push(Found { line: index + 1, segment, frame: Err(FrameError::NoFrame), repeats: 0 });
                        v2.insert(key, (0, partial));
                    }
                },
                Ok((_, partial)) => {
                    finish_v1(&mut v1, &mut found);
                    v1 = Some((segment, partial));
                }
                Err(err) => {
                    finish_v1(&mut v1, &mut found);
                    let segment = found.last().map_or(segment, |f| f.segment.clone());
                    found.push(Found { line: index + 1, segment, frame: Err(err), repeats: 0 });
                }
            }
        } else if let Some((hash, rest)) = v2_line(body) {
            if rest != "end" {
                for (_, (_, partial)) in v2.range_mut((hash, String::new())..).take_while(|((h, _), _)| *h == hash) {
                    partial.take_line(rest);
                }
            }
        } else if body == "end" {
            finish_v1(&mut v1, &mut found);
        } else if let Some((_, partial)) = v1.as_mut() {
            partial.take_line(body);
        }
    }
    // A v1 frame whose end line never came may still be whole.
    finish_v1(&mut v1, &mut found);
    for (repeats, partial) in v2.into_values() {
        if let Some(entry) = found.iter_mut().find(|f| f.line == partial.line) {
            (entry.frame, entry.repeats) = (partial.finish(), repeats);
        }
    }
    found.sort_by_key(|f| f.line);
    found
}

/// A `v2` frame's line: its checksum (16 hex digits) and the rest (`K/N chunk` or `end`).
fn v2_line(body: &str) -> Option<(u64, &str)> {
    let (id, rest) = body.split_once(' ').unwrap_or((body, ""));
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((u64::from_str_radix(id, 16).ok()?, rest))
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
    let mut last = Latest::default();
    for found in frames(log) {
        last.then(found.frame, found.repeats);
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
    /// How many more times this very result was found (the same frame, or the same lines,
    /// read twice: a log collected twice into one file): counted once, said.
    pub repeats: usize,
}

/// Every result framed in `log`, one per segment in the order each first appears: several
/// pods' logs one after another (`kubectl logs -l app=... > all.log`), or interleaved line by
/// line (`kubectl logs -f` of several pods), hold one frame each. Of frames of one segment (a
/// restarted container's runs), the last whole one stands, as in [`decode_noting`], with the
/// broken frame after it if any and how many whole ones it replaced; the same result found
/// twice is one. A segment (or a frame whose header cannot be read, which counts with the
/// frame before it) with no whole frame makes the whole log an error: its part would be lost.
pub fn decode_parts(log: &str) -> Result<Vec<FramedPart>, FrameError> {
    let mut groups: Vec<(String, Latest)> = Vec::new();
    for found in frames(log) {
        let at = match groups.iter().position(|(segment, _)| *segment == found.segment) {
            Some(at) => at,
            None => {
                groups.push((found.segment.clone(), Latest::default()));
                groups.len() - 1
            }
        };
        groups[at].1.then(found.frame, found.repeats);
    }
    if groups.is_empty() {
        return Err(FrameError::NoFrame);
    }
    let part = |latest: Latest| {
        let (broken_after, replaced, repeats) = (latest.broken_after, latest.replaced, latest.repeats);
        latest.found.map(|json| FramedPart { json, broken_after, replaced, repeats })
    };
    groups.into_iter().map(|(_, latest)| part(latest)).collect()
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
    /// Times the result that stands was found again.
    repeats: usize,
}

impl Default for Latest {
    fn default() -> Latest {
        Latest { found: Err(FrameError::NoFrame), broken_after: None, replaced: 0, repeats: 0 }
    }
}

impl Latest {
    /// A later frame replaces an earlier one, unless it is broken and the earlier one whole, or
    /// it is the same result again (found `repeats` more times itself), which counts once.
    fn then(&mut self, frame: Result<String, FrameError>, repeats: usize) {
        match (frame, &self.found) {
            (Ok(json), Ok(found)) if json == *found => self.repeats += 1 + repeats,
            (Err(err), Ok(_)) => self.broken_after = Some(err),
            (frame, found) => {
                self.replaced += usize::from(found.is_ok() && frame.is_ok());
                self.found = frame;
                self.broken_after = None;
                self.repeats = repeats;
            }
        }
    }
}

/// A header's version (1 or 2) and the frame it begins.
fn parse_header(header: &str, line: usize) -> Result<(u8, Partial), FrameError> {
    let bad = || FrameError::BadHeader { line, header: header.to_owned() };
    let mut fields = header.split_whitespace();
    let version = match fields.next() {
        Some("v1") => 1,
        Some("v2") => 2,
        _ => return Err(bad()),
    };
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
    Ok((version, Partial { line, lines, bytes, hash, parts: vec![None; lines] }))
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

        /// Several pods' frames interleaved in any order that keeps each pod's own: every
        /// segment's result comes back whole, once.
        #[test]
        fn any_interleaving_of_pods_gives_every_segment(
            sizes in proptest::collection::vec(0usize..10_000, 1..5),
            picks in proptest::collection::vec(0usize..5, 0..400),
        ) {
            let jsons: Vec<String> = sizes.iter().map(|size| document(*size)).collect();
            let mut pods: Vec<std::collections::VecDeque<String>> = jsons
                .iter()
                .enumerate()
                .map(|(i, json)| encode(json, Some(&format!("{i}/{}", sizes.len()))).lines().map(str::to_string).collect())
                .collect();
            let mut log = String::new();
            for pick in picks.into_iter().chain(std::iter::repeat_n(0, 400)) {
                let live: Vec<usize> = (0..pods.len()).filter(|p| !pods[*p].is_empty()).collect();
                let Some(&pod) = live.get(pick % live.len().max(1)) else { break };
                log.push_str(&pods[pod].pop_front().unwrap());
                log.push('\n');
            }
            let parts = decode_parts(&log).unwrap();
            let found: Vec<&String> = parts.iter().map(|p| &p.json).collect();
            proptest::prop_assert_eq!(found.len(), jsons.len());
            for json in &jsons {
                proptest::prop_assert!(found.contains(&json));
            }
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
        let whole =
            |json: &str, replaced| FramedPart { json: json.to_string(), broken_after: None, replaced, repeats: 0 };
        assert_eq!(parts, vec![whole(&a, 0), whole(&b, 1)], "segment 1/2's later frame replaced its earlier one");
        // One segment whose only frame is cut short loses the file: its part would be missing.
        let cut: String = encode(&b, Some("1/2")).lines().take(2).map(|l| format!("{l}\n")).collect();
        let log = format!("{}{cut}", encode(&a, Some("0/2")));
        assert!(matches!(decode_parts(&log), Err(FrameError::Incomplete { .. })), "{:?}", decode_parts(&log));
        // A segment's later frame (another run: another result) cut short: its earlier whole
        // one stands, said. The same frame again, cut short, is only that frame found twice.
        let log = format!("{}{cut}", encode(&document(9001), Some("1/2")));
        let parts = decode_parts(&log).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(matches!(parts[0].broken_after, Some(FrameError::Incomplete { .. })), "{parts:?}");
        let parts = decode_parts(&format!("{}{cut}", encode(&b, Some("1/2")))).unwrap();
        assert_eq!((parts.len(), &parts[0].broken_after, parts[0].repeats), (1, &None, 1), "{parts:?}");
        assert_eq!(decode_parts("no frames\n"), Err(FrameError::NoFrame));
    }

    /// `kubectl logs -f` of several pods: each pod's lines in its order, the pods' lines
    /// interleaved, each line prefixed with its pod (`--prefix`). The frames were one frame
    /// broken by the next one's header ("incomplete"); each is read whole.
    /// Two segments whose results are the same bytes (their frames' lines the same too, only
    /// the headers' segments differ), interleaved: two results, not one found twice (the
    /// interleaving property test found it).
    #[test]
    fn two_segments_with_the_same_bytes_are_two_results() {
        let json = document(1145);
        let framed: Vec<Vec<String>> =
            (0..2).map(|i| encode(&json, Some(&format!("{i}/2"))).lines().map(str::to_string).collect()).collect();
        let log: String =
            (0..framed[0].len()).flat_map(|row| framed.iter().map(move |f| format!("{}\n", f[row]))).collect();
        let parts = decode_parts(&log).unwrap();
        let whole = FramedPart { json: json.clone(), broken_after: None, replaced: 0, repeats: 0 };
        assert_eq!(parts, vec![whole.clone(), whole]);
        // The same segment's frame read twice stays one result, counted once.
        let frame = framed[0].join("\n");
        let twice = format!("{frame}\n{frame}\n");
        assert_eq!(decode_parts(&twice).unwrap().iter().map(|p| p.repeats).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn interleaved_frames_of_several_segments_read_apart() {
        // Three frames of the same number of lines: a line's `K/N` alone cannot tell them apart.
        let jsons: Vec<String> = (0..3).map(|i| document(9000 + i)).collect();
        let framed: Vec<Vec<String>> = jsons
            .iter()
            .enumerate()
            .map(|(i, json)| {
                let prefix = format!("[pod/mite-peak-{i}-abc/mite] ");
                encode(json, Some(&format!("{i}/3"))).lines().map(|l| format!("{prefix}{l}")).collect()
            })
            .collect();
        assert!(framed.iter().all(|f| f.len() == framed[0].len()), "same line counts");
        let mut log = String::new();
        for row in 0..framed[0].len() {
            for (pod, lines) in framed.iter().enumerate() {
                log.push_str(&format!("[pod/mite-peak-{pod}-abc/mite] working\n{}\n", lines[row]));
            }
        }
        let parts = decode_parts(&log).unwrap();
        let whole = |json: &String| FramedPart { json: json.clone(), broken_after: None, replaced: 0, repeats: 0 };
        assert_eq!(parts, jsons.iter().map(whole).collect::<Vec<_>>());
        // One pod's frame losing a line is that frame's error, at its own header's line.
        let lost = log.replacen(&framed[1][2], "", 1);
        match decode_parts(&lost) {
            Err(FrameError::Incomplete { line, missing, .. }) => assert_eq!((line, missing), (4, vec![2])),
            other => panic!("{other:?}"),
        }
    }

    /// Two frames of one segment were taken for a restarted container (`1 whole result of
    /// segment 0/2 before its last left out`) even when they were the same result, found twice
    /// (one log collected twice into the file, a stream read again): it is one, counted once,
    /// however it repeats (whole frames one after the other, or the same lines interleaved).
    #[test]
    fn the_same_frame_found_twice_counts_once() {
        let (a, b) = (document(9000), document(20));
        let one = encode(&a, Some("0/2"));
        let parts = decode_parts(&format!("{one}{}{one}", encode(&b, Some("1/2")))).unwrap();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!((parts[0].json == a, parts[0].replaced, parts[0].repeats), (true, 0, 1));
        assert_eq!((parts[1].replaced, parts[1].repeats), (0, 0));
        let twice: String = one.lines().flat_map(|l| [l, l]).map(|l| format!("{l}\n")).collect();
        let parts = decode_parts(&twice).unwrap();
        assert_eq!((parts.len(), parts[0].replaced, parts[0].repeats), (1, 0, 1), "{parts:?}");
        // Frames of the first version found twice count once too.
        let v1 = encode_v1(&a, "0/2");
        let parts = decode_parts(&format!("{v1}{v1}")).unwrap();
        assert_eq!((parts.len(), parts[0].json == a, parts[0].replaced, parts[0].repeats), (1, true, 0, 1));
        // A different result of the same segment is a restarted container's: it replaces.
        let other = encode(&document(9001), Some("0/2"));
        let parts = decode_parts(&format!("{one}{other}{other}")).unwrap();
        assert_eq!((parts[0].replaced, parts[0].repeats), (1, 1), "{parts:?}");
    }

    /// A frame as the first version wrote it: lines without the frame's checksum.
    fn encode_v1(json: &str, segment: &str) -> String {
        let chunks = chunks(json, RESULT_FRAME_CHUNK_BYTES);
        let hash = fnv1a64(json.as_bytes());
        let mut out = format!(
            "{MARKER}begin v1 segment={segment} lines={} bytes={} fnv1a64={hash:016x}\n",
            chunks.len(),
            json.len()
        );
        for (i, chunk) in chunks.iter().enumerate() {
            out.push_str(&format!("{MARKER}{}/{} {chunk}\n", i + 1, chunks.len()));
        }
        out + MARKER + "end\n"
    }

    /// Logs written by the first version read as before: frames one after another, a restarted
    /// container's earlier one replaced, a broken one named, beside frames of this version.
    #[test]
    fn frames_of_the_first_version_still_read() {
        let (a, b) = (document(9000), document(20));
        let log = format!("noise\n{}{}{}", encode_v1(&a, "0/2"), encode_v1(&b, "0/2"), encode(&a, Some("1/2")));
        let parts = decode_parts(&log).unwrap();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!((parts[0].json == b, parts[0].replaced), (true, 1));
        assert_eq!(parts[1].json, a);
        let cut: String = encode_v1(&a, "0/2").lines().take(2).map(|l| format!("{l}\n")).collect();
        assert!(matches!(decode_parts(&cut), Err(FrameError::Incomplete { line: 1, .. })), "{:?}", decode_parts(&cut));
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

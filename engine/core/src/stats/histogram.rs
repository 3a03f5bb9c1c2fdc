//! Latency histograms in one place: how one is made (µs, growing as needed, and only once a
//! value comes: [`LatencyHistogram`]), how a value is recorded (clamped, never lost), how a core
//! hands its values to the stats thread, and how a histogram travels in a result file (base64
//! of its compressed HDR V2 encoding).

use std::ops::Deref;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

use crate::limits::{LATENCY_SIGFIGS, LATENCY_US_MAX};

/// A latency histogram in microseconds that grows as needed (small when latencies are small).
pub fn new_latency_histogram() -> Histogram<u64> {
    let mut histogram = Histogram::new_with_bounds(1, 2, LATENCY_SIGFIGS).expect("static histogram bounds are valid");
    histogram.auto(true);
    histogram
}

/// What every histogram not yet made reads as: empty, with a new histogram's range.
static EMPTY: LazyLock<Histogram<u64>> = LazyLock::new(new_latency_histogram);

/// A latency histogram that takes no memory until its first value. A made one is at least
/// 16 KiB (hdrhistogram's counts at 3 significant digits: 2,048 of 8 bytes, 1 KiB more per
/// doubling of the range), and most of a transaction's nine never hold a value: the corrected
/// ones outside the open model, TLS on plain HTTP, the WebSocket replies of HTTP transactions,
/// DNS and connect in an interval without a new connection. Reads (through `Deref`) see a
/// histogram, empty when none was made; writes go through [`record_latency`] and the methods
/// here, which make it when the first value comes.
#[derive(Clone, Debug, Default)]
pub struct LatencyHistogram(Option<Box<Histogram<u64>>>);

impl Deref for LatencyHistogram {
    type Target = Histogram<u64>;

    fn deref(&self) -> &Histogram<u64> {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl PartialEq for LatencyHistogram {
    fn eq(&self, other: &LatencyHistogram) -> bool {
        **self == **other
    }
}

impl From<Histogram<u64>> for LatencyHistogram {
    /// Keeps `histogram` when it holds a value; an empty one is not kept (nothing is lost: an
    /// empty histogram reads the same whatever its range).
    fn from(histogram: Histogram<u64>) -> LatencyHistogram {
        LatencyHistogram((!histogram.is_empty()).then(|| Box::new(histogram)))
    }
}

impl LatencyHistogram {
    /// Empty, and not made.
    pub const fn new() -> LatencyHistogram {
        LatencyHistogram(None)
    }

    /// Whether it holds memory: it was made by a value, and not released since.
    pub fn is_made(&self) -> bool {
        self.0.is_some()
    }

    /// The histogram, made now when it was not, with a range that holds values up to `max_us`:
    /// made at the range it needs, and made again at a wider one when a value needs it. Left to
    /// itself hdrhistogram widens its counts with `Vec::resize`, which can double their
    /// capacity: a histogram grown so from 1 to 3 buckets held 4,096 counts for 3,072 used.
    #[inline]
    fn made_for(&mut self, max_us: u64) -> &mut Histogram<u64> {
        // The usual case, every request: made already, at a range that holds the value.
        if self.0.as_deref().is_some_and(|histogram| max_us <= covered_by(histogram.buckets())) {
            return self.0.as_deref_mut().expect("made: checked above");
        }
        self.make_for(max_us)
    }

    /// [`Self::made_for`]'s slow path: made now, or made again at a wider range.
    #[cold]
    #[inline(never)]
    fn make_for(&mut self, max_us: u64) -> &mut Histogram<u64> {
        let histogram = self.0.get_or_insert_with(|| Box::new(histogram_for(max_us)));
        if max_us > covered_by(histogram.buckets()) {
            let mut wider = histogram_for(max_us.max(histogram.max()));
            for value in histogram.iter_recorded() {
                wider
                    .record_n(value.value_iterated_to(), value.count_at_value())
                    .expect("auto-resizing histograms take any recorded value");
            }
            **histogram = wider;
        }
        histogram
    }

    /// Adds `other`'s values (nothing is made for an empty `other`).
    pub fn add(&mut self, other: &Histogram<u64>) {
        if !other.is_empty() {
            self.made_for(other.max()).add(other).expect("auto-resizing histograms always merge");
        }
    }

    /// Empties it, keeping its memory for the next values (and its range: see [`fit_range`]).
    pub fn reset(&mut self) {
        if let Some(histogram) = self.0.as_deref_mut()
            && !histogram.is_empty()
        {
            histogram.reset();
        }
    }

    /// Moves its values out (see [`RecordedValues::take`]), keeping its memory.
    pub fn take_values(&mut self) -> RecordedValues {
        self.0.as_deref_mut().map_or(RecordedValues::none(), RecordedValues::take)
    }

    /// Gives its memory back when it holds no value.
    pub fn release_if_empty(&mut self) {
        if self.0.as_deref().is_some_and(Histogram::is_empty) {
            self.0 = None;
        }
    }
}

/// What [`record_latency`] records into: a plain latency histogram, or a
/// [`LatencyHistogram`] (made by its first value, at the range it needs).
pub trait RecordsLatency {
    /// The histogram to record values up to `max_us` into, made (or widened) if need be.
    fn histogram_to_record(&mut self, max_us: u64) -> &mut Histogram<u64>;
}

impl RecordsLatency for Histogram<u64> {
    fn histogram_to_record(&mut self, _max_us: u64) -> &mut Histogram<u64> {
        self
    }
}

impl RecordsLatency for LatencyHistogram {
    #[inline]
    fn histogram_to_record(&mut self, max_us: u64) -> &mut Histogram<u64> {
        self.made_for(max_us)
    }
}

/// The highest value a latency histogram of `buckets` buckets holds without growing.
fn covered_by(buckets: u8) -> u64 {
    (SUB_BUCKETS << (buckets - 1)) - 1
}

/// A new latency histogram with the range (and so the counts) a new one grows to by recording
/// values up to `max_us`: equal to it in everything, its encoding included.
fn histogram_for(max_us: u64) -> Histogram<u64> {
    let buckets = fresh_buckets(max_us);
    if buckets == 1 {
        return new_latency_histogram();
    }
    let mut histogram =
        Histogram::new_with_bounds(1, fresh_high(buckets), LATENCY_SIGFIGS).expect("static histogram bounds are valid");
    histogram.auto(true);
    histogram
}

/// Sub-buckets per bucket of a latency histogram: hdrhistogram's layout, the power of two that
/// holds `2 × 10^LATENCY_SIGFIGS` values at unit resolution.
pub(crate) const SUB_BUCKETS: u64 = (2 * 10u64.pow(LATENCY_SIGFIGS as u32)).next_power_of_two();

/// The buckets a new latency histogram has once it holds values up to `max`: the first covers
/// the values below `SUB_BUCKETS`, each further one doubles the range.
fn fresh_buckets(max: u64) -> u8 {
    let (mut buckets, mut below) = (1, SUB_BUCKETS);
    while below <= max && below <= u64::MAX / 2 {
        below <<= 1;
        buckets += 1;
    }
    buckets
}

/// The highest trackable value of a new latency histogram that grew to `buckets` buckets by
/// recording: 2 (as made) until it first grows, then the top of its last bucket.
fn fresh_high(buckets: u8) -> u64 {
    if buckets == 1 { 2 } else { (SUB_BUCKETS << (buckets - 1)) - 1 }
}

/// Gives `histogram` the range a new histogram recording the same values would have. A
/// histogram reused from an earlier interval keeps the range that interval needed (hdrhistogram
/// never shrinks one), which would show in its encoding (the range is in the header) and its
/// equality; one that is wider is rebuilt. Nothing is allocated when the range is already right,
/// the usual case for a transaction whose latencies keep their order of magnitude.
/// An empty one gives its memory back (it reads as a new one).
pub fn fit_range(latencies: &mut LatencyHistogram) {
    latencies.release_if_empty();
    let Some(histogram) = latencies.0.as_deref_mut() else { return };
    let buckets = fresh_buckets(histogram.max());
    if histogram.buckets() == buckets && histogram.high() == fresh_high(buckets) {
        return;
    }
    let mut fresh = new_latency_histogram();
    for value in histogram.iter_recorded() {
        fresh
            .record_n(value.value_iterated_to(), value.count_at_value())
            .expect("auto-resizing histograms take any recorded value");
    }
    *histogram = fresh;
}

/// Makes an empty `histogram` new again when it is wider than values up to `max` need: recording
/// them then gives the range a new histogram would have, with no rebuild by [`fit_range`].
pub(crate) fn narrow_for(histogram: &mut LatencyHistogram, max: u64) {
    if histogram.is_empty() && histogram.buckets() > fresh_buckets(max) {
        *histogram = LatencyHistogram::new();
    }
}

/// Records `value_us`, clamped to `1..=LATENCY_US_MAX` (a [`LatencyHistogram`] is made by its
/// first value).
#[inline]
pub fn record_latency(histogram: &mut impl RecordsLatency, value_us: u64) {
    let value = value_us.clamp(1, LATENCY_US_MAX);
    histogram.histogram_to_record(value).record(value).expect("auto-resizing histogram accepts clamped values");
}

/// log2 of the sub-buckets per bucket.
const SUB_BUCKET_BITS: u32 = SUB_BUCKETS.trailing_zeros();

/// The position of `value`'s bucket in a latency histogram's counts (hdrhistogram's
/// `index_for` at unit 1): values in one bucket share a slot, higher buckets have higher slots.
/// Below 2^17 for any value.
#[inline]
pub(crate) fn slot_of(value: u64) -> usize {
    slot_at(value, SUB_BUCKET_BITS)
}

/// The highest value of slot `slot`'s bucket (hdrhistogram's `highest_equivalent`), what its
/// iterators report for the bucket.
pub(crate) fn highest_of(slot: usize) -> u64 {
    highest_at(slot, SUB_BUCKET_BITS)
}

/// [`slot_of`] in a histogram of `2^bits` sub-buckets per bucket (any precision).
#[inline]
pub(crate) fn slot_at(value: u64, bits: u32) -> usize {
    let sub_buckets = 1u64 << bits;
    let bucket = 64 - bits - (value | (sub_buckets - 1)).leading_zeros();
    let sub_bucket = value >> bucket;
    (((u64::from(bucket) + 1) << (bits - 1)) + sub_bucket - sub_buckets / 2) as usize
}

/// [`highest_of`] in a histogram of `2^bits` sub-buckets per bucket (any precision); the top
/// slot's highest value is `u64::MAX`.
pub(crate) fn highest_at(slot: usize, bits: u32) -> u64 {
    let (slot, sub_buckets) = (slot as u64, 1u64 << bits);
    if slot < sub_buckets {
        return slot;
    }
    let bucket = (slot >> (bits - 1)) - 1;
    let sub_bucket = (slot & (sub_buckets / 2 - 1)) + sub_buckets / 2;
    ((sub_bucket + 1) << bucket).wrapping_sub(1)
}

/// A latency histogram's recorded values only, as (bucket slot, count) pairs in slot order:
/// what a core sends the stats thread for each histogram. hdrhistogram's `add` walks every
/// bucket of the source's range (about 20 µs for a 0.5–50 ms histogram at 3 significant digits)
/// however few values it holds; adding these costs the values recorded. The core pays the walk
/// once, on its own thread, so the one stats thread's work per interval grows with the values,
/// not with cores × transactions × histogram sizes. Eight bytes a bucket: a count above
/// `u32::MAX` takes several pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedValues(Vec<(u32, u32)>);

impl RecordedValues {
    /// No values.
    pub const fn none() -> RecordedValues {
        RecordedValues(Vec::new())
    }

    /// How many (slot, count) pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No values.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The (slot, count) pairs, in slot order (`slot_of`, `highest_of`).
    pub(crate) fn pairs(&self) -> &[(u32, u32)] {
        &self.0
    }

    /// Moves the values out of `histogram` (a latency histogram: 1 µs units, at
    /// `LATENCY_SIGFIGS`), leaving it empty.
    pub fn take(histogram: &mut Histogram<u64>) -> RecordedValues {
        assert!(histogram.low() == 1 && histogram.sigfig() == LATENCY_SIGFIGS, "not a latency histogram");
        if histogram.is_empty() {
            return RecordedValues::none();
        }
        let mut values = RecordedValues::none();
        for value in histogram.iter_recorded() {
            values.push(slot_of(value.value_iterated_to()), value.count_at_value());
        }
        histogram.reset();
        values
    }

    /// Moves the values out of counts by slot (`slot_counts::SlotCounts`), leaving zeros.
    pub(crate) fn take_slot_counts(counts: &mut [u64]) -> RecordedValues {
        let mut values = RecordedValues::none();
        for (slot, count) in counts.iter_mut().enumerate() {
            if *count > 0 {
                values.push(slot, std::mem::take(count));
            }
        }
        values
    }

    /// Adds `count` values at `slot`, above every slot added before: one pair, several for a
    /// count above `u32::MAX`.
    fn push(&mut self, slot: usize, mut count: u64) {
        let slot = u32::try_from(slot).expect("slots are below 2^17");
        while count > u64::from(u32::MAX) {
            self.0.push((slot, u32::MAX));
            count -= u64::from(u32::MAX);
        }
        self.0.push((slot, count as u32));
    }

    /// Adds the values into `histogram`: each lands in the bucket it came from, as the
    /// bucket's highest value (what hdrhistogram's own iterators give), so the result equals
    /// `histogram.add(original)` exactly.
    pub fn add_to(&self, histogram: &mut impl RecordsLatency) {
        let Some(&(last, _)) = self.0.last() else { return };
        let histogram = histogram.histogram_to_record(highest_of(last as usize));
        for &(slot, count) in &self.0 {
            let value = highest_of(slot as usize);
            histogram.record_n(value, u64::from(count)).expect("auto-resizing histograms take any recorded value");
        }
    }
}

/// A histogram in a result file that does not read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    /// The text is not base64.
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a compressed HDR V2 histogram.
    #[error("histogram does not decode: {}", decode_reason(.0))]
    Decode(hdrhistogram::serialization::DeserializeError),
}

/// Why a histogram's bytes did not decode, in words (the crate's error has no `Display`).
fn decode_reason(e: &hdrhistogram::serialization::DeserializeError) -> String {
    use hdrhistogram::serialization::DeserializeError as E;
    match e {
        E::IoError(e) => format!("its bytes are cut short or not compressed as written ({e})"),
        E::InvalidCookie => "its bytes do not start as an HDR histogram's".to_owned(),
        E::UnsupportedFeature => "it uses an HDR histogram feature this version cannot read".to_owned(),
        E::UnsuitableCounterType => "a count is larger than a 64-bit counter holds".to_owned(),
        E::InvalidParameters => "its value range or precision is not a valid histogram's".to_owned(),
        E::UsizeTypeTooSmall => "it is too large for this machine's memory addresses".to_owned(),
        E::EncodedArrayTooLong => "it holds more counts than its value range has room for".to_owned(),
    }
}

/// Encodes a histogram for a result file: base64 of its compressed HDR V2 encoding.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("serializing into memory cannot fail");
    BASE64.encode(bytes)
}

/// Decodes [`encode`]'s text; the histogram grows as needed, like a new one.
pub fn decode(text: &str) -> Result<Histogram<u64>, HistogramError> {
    #[cfg(test)]
    DECODES.with(|decodes| decodes.set(decodes.get() + 1));
    let bytes = BASE64.decode(text)?;
    let mut h: Histogram<u64> =
        Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(HistogramError::Decode)?;
    h.auto(true);
    Ok(h)
}

#[cfg(test)]
thread_local! {
    /// How many histograms [`decode`] decoded on this thread: a test of a command's reading
    /// counts its decodes (each histogram of a file once), not its time.
    pub(crate) static DECODES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The value at quantile `q`, 0 for an empty histogram.
pub fn quantile(h: &Histogram<u64>, q: f64) -> u64 {
    if h.is_empty() { 0 } else { h.value_at_quantile(q) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn histograms_round_trip_through_text() {
        let mut h = new_latency_histogram();
        for v in [1, 10, 100, 1000, 123_456, 3_000_000] {
            record_latency(&mut h, v);
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert!(matches!(decode("not base64!"), Err(HistogramError::Base64(_))));
        assert!(matches!(decode("aGVsbG8="), Err(HistogramError::Decode(_))));
        // Said in words, not as the crate's debug text.
        let said = decode("aGVsbG8=").unwrap_err().to_string();
        assert_eq!(said, "histogram does not decode: its bytes do not start as an HDR histogram's");
        let mut cut = BASE64.decode(encode(&h)).unwrap();
        cut.truncate(cut.len() / 2);
        let said = decode(&BASE64.encode(cut)).unwrap_err().to_string();
        assert!(said.starts_with("histogram does not decode: its bytes are cut short"), "{said}");
        assert!(!said.contains("Custom {"), "{said}");
    }

    proptest! {
        #[test]
        fn recorded_values_add_exactly_what_add_would(
            parts in proptest::collection::vec(proptest::collection::vec(1u64..50_000_000, 0..300), 1..6),
        ) {
            let mut by_add = new_latency_histogram();
            let mut by_values = new_latency_histogram();
            for part in &parts {
                let mut h = new_latency_histogram();
                for &value in part {
                    record_latency(&mut h, value);
                }
                by_add.add(&h).unwrap();
                let values = RecordedValues::take(&mut h);
                prop_assert!(h.is_empty());
                values.add_to(&mut by_values);
            }
            prop_assert_eq!(by_values.len(), by_add.len());
            if !by_add.is_empty() {
                prop_assert_eq!(by_values.min(), by_add.min());
                prop_assert_eq!(by_values.max(), by_add.max());
                prop_assert_eq!(by_values.mean(), by_add.mean());
                for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                    prop_assert_eq!(by_values.value_at_quantile(q), by_add.value_at_quantile(q));
                }
            }
        }
    }

    /// A new histogram that recorded `values`, as the stats thread made one for each interval.
    fn fresh_with(values: &[u64]) -> Histogram<u64> {
        let mut h = new_latency_histogram();
        for &v in values {
            record_latency(&mut h, v);
        }
        h
    }

    #[test]
    fn fresh_range_is_what_hdrhistogram_grows_to() {
        let mut edges = vec![0, 1, 2, 3, 1_000];
        for shift in 0..22 {
            let edge = SUB_BUCKETS << shift;
            edges.extend([edge - 1, edge, edge + 1]);
        }
        edges.push(LATENCY_US_MAX);
        for max in edges {
            let h = if max == 0 { new_latency_histogram() } else { fresh_with(&[1, max / 2 + 1, max]) };
            assert_eq!(h.buckets(), fresh_buckets(h.max()), "buckets for a maximum of {max}");
            assert_eq!(h.high(), fresh_high(h.buckets()), "highest trackable value for a maximum of {max}");
        }
    }

    /// Equal in everything a reader of the histogram sees: values, counts, range, encoding.
    fn same(a: &Histogram<u64>, b: &Histogram<u64>) -> bool {
        // With the same buckets, hdrhistogram's (one-sided) equality is symmetric.
        (a.high(), a.buckets()) == (b.high(), b.buckets()) && a == b && encode(a) == encode(b)
    }

    #[test]
    fn a_reused_histogram_is_fitted_to_what_a_new_one_would_be() {
        let values = [3_000, 40, 3_000, 12_345];
        let mut wide = LatencyHistogram::from(fresh_with(&[5_000_000, 700]));
        wide.reset();
        for v in values {
            record_latency(&mut wide, v);
        }
        let fresh = fresh_with(&values);
        assert!(!same(&wide, &fresh), "hdrhistogram keeps the wider range");
        fit_range(&mut wide);
        assert!(same(&wide, &fresh));
        let mut emptied = LatencyHistogram::from(fresh_with(&[90_000]));
        emptied.reset();
        fit_range(&mut emptied);
        assert!(same(&emptied, &new_latency_histogram()));
        assert!(!emptied.is_made(), "an empty one gives its memory back");
        let mut right = LatencyHistogram::from(fresh_with(&[90_000, 5]));
        fit_range(&mut right);
        assert!(same(&right, &fresh_with(&[90_000, 5])));
    }

    #[test]
    fn only_an_empty_wider_histogram_is_made_new() {
        let mut wide = LatencyHistogram::from(fresh_with(&[5_000_000]));
        narrow_for(&mut wide, 3_000);
        assert_eq!(wide.len(), 1, "values are never dropped");
        wide.reset();
        narrow_for(&mut wide, 6_000_000);
        assert!(wide.buckets() > 1, "not wider than the values need");
        narrow_for(&mut wide, 3_000);
        assert!(same(&wide, &new_latency_histogram()));
    }

    #[test]
    fn slots_are_hdrhistograms_buckets() {
        let h = new_latency_histogram();
        let mut values: Vec<u64> = (0..5_000).collect();
        for shift in 11..63 {
            let edge = 1u64 << shift;
            values.extend([edge - 1, edge, edge + 1, edge + edge / 3, edge + edge / 2 + 7]);
        }
        values.extend([LATENCY_US_MAX - 1, LATENCY_US_MAX, u64::MAX]);
        values.sort_unstable();
        for pair in values.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(highest_of(slot_of(a)), h.highest_equivalent(a), "highest of {a}");
            assert_eq!(slot_of(a) == slot_of(b), h.highest_equivalent(a) == h.highest_equivalent(b), "{a} and {b}");
            assert!(slot_of(a) <= slot_of(b), "slots rise with values: {a}, {b}");
        }
        assert!(slot_of(u64::MAX) < 1 << 17);
        assert!(slot_of(LATENCY_US_MAX) < 24 * 1024, "an hour is some 24 k slots");
    }

    #[test]
    fn counts_above_32_bits_travel_whole() {
        let mut h = new_latency_histogram();
        h.record_n(1_500, 3 * u64::from(u32::MAX) + 7).unwrap();
        record_latency(&mut h, 90);
        let expected = h.clone();
        let values = RecordedValues::take(&mut h);
        assert_eq!(values.len(), 1 + 4);
        let mut back = new_latency_histogram();
        values.add_to(&mut back);
        assert_eq!(back, expected);
        assert_eq!(back.count_at(1_500), 3 * u64::from(u32::MAX) + 7);
    }

    #[test]
    fn a_latency_histogram_is_made_by_its_first_value_only() {
        let mut h = LatencyHistogram::new();
        assert!(!h.is_made() && h.is_empty() && same(&h, &new_latency_histogram()));
        h.add(&new_latency_histogram());
        RecordedValues::none().add_to(&mut h);
        assert!(h.take_values().is_empty());
        h.reset();
        assert!(!h.is_made(), "nothing recorded, nothing made");
        let mut emptied = fresh_with(&[5_000_000, 9]);
        emptied.reset();
        assert!(!LatencyHistogram::from(emptied).is_made(), "an empty histogram is not kept");
        record_latency(&mut h, 1_234);
        assert!(h.is_made());
        assert!(same(&h, &fresh_with(&[1_234])));
        let values = h.take_values();
        assert!(h.is_made() && h.is_empty(), "taking the values keeps the memory for the next ones");
        values.add_to(&mut h);
        assert!(same(&h, &fresh_with(&[1_234])));
        let mut other = LatencyHistogram::new();
        other.add(&h);
        assert_eq!(other, h);
        h.release_if_empty();
        assert!(h.is_made(), "it holds a value");
        h.reset();
        h.release_if_empty();
        assert!(!h.is_made());
    }

    #[test]
    fn a_latency_histogram_grows_to_exactly_what_a_new_one_grows_to() {
        let mut values = vec![5, 2, 700];
        for shift in 0..22 {
            let edge = SUB_BUCKETS << shift;
            values.extend([edge - 1, edge, edge + 1, edge / 3 + 7]);
        }
        values.push(LATENCY_US_MAX);
        let (mut grown, mut plain) = (LatencyHistogram::new(), new_latency_histogram());
        for v in values {
            record_latency(&mut grown, v);
            record_latency(&mut plain, v);
            assert!(same(&grown, &plain), "after {v}");
        }
        for first in [3, 2_047, 2_048, 90_000, 3_000_000] {
            let mut made = LatencyHistogram::new();
            record_latency(&mut made, first);
            assert!(same(&made, &fresh_with(&[first])), "made by {first}");
        }
        let mut added = LatencyHistogram::new();
        added.add(&plain);
        assert!(same(&added, &plain));
        let mut from_values = LatencyHistogram::new();
        RecordedValues::take(&mut plain.clone()).add_to(&mut from_values);
        assert!(same(&from_values, &plain));
    }

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut h = new_latency_histogram();
        record_latency(&mut h, u64::MAX);
        record_latency(&mut h, 0);
        assert_eq!(h.len(), 2);
    }
}

//! Latency histograms in one place: how one is made (µs, growing as needed), how a value is
//! recorded (clamped, never lost), how a core hands its values to the stats thread, and how a
//! histogram travels in a result file (base64 of its compressed HDR V2 encoding).

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

/// Records `value_us`, clamped to `1..=LATENCY_US_MAX`.
pub fn record_latency(histogram: &mut Histogram<u64>, value_us: u64) {
    let value = value_us.clamp(1, LATENCY_US_MAX);
    histogram.record(value).expect("auto-resizing histogram accepts clamped values");
}

/// A histogram's recorded values only, as (a value of its bucket, count) pairs: what a core
/// sends the stats thread for each histogram. hdrhistogram's `add` walks every bucket of the
/// source's range (about 20 µs for a 0.5–50 ms histogram at 3 significant digits) however few
/// values it holds; adding these costs the values recorded. The core pays the walk once, on
/// its own thread, so the one stats thread's work per interval grows with the values, not with
/// cores × transactions × histogram sizes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedValues(Vec<(u64, u64)>);

impl RecordedValues {
    /// No values.
    pub const fn none() -> RecordedValues {
        RecordedValues(Vec::new())
    }

    /// Moves `histogram`'s values out, leaving it empty.
    pub fn take(histogram: &mut Histogram<u64>) -> RecordedValues {
        if histogram.is_empty() {
            return RecordedValues::none();
        }
        let values = histogram.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        histogram.reset();
        RecordedValues(values)
    }

    /// Adds the values into `histogram`: each lands in the bucket it came from, so the result
    /// equals `histogram.add(original)` exactly.
    pub fn add_to(&self, histogram: &mut Histogram<u64>) {
        for &(value, count) in &self.0 {
            histogram.record_n(value, count).expect("auto-resizing histograms take any recorded value");
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
    #[error("histogram does not decode: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
}

/// Encodes a histogram for a result file: base64 of its compressed HDR V2 encoding.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("serializing into memory cannot fail");
    BASE64.encode(bytes)
}

/// Decodes [`encode`]'s text; the histogram grows as needed, like a new one.
pub fn decode(text: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = BASE64.decode(text)?;
    let mut h: Histogram<u64> =
        Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(HistogramError::Decode)?;
    h.auto(true);
    Ok(h)
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

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut h = new_latency_histogram();
        record_latency(&mut h, u64::MAX);
        record_latency(&mut h, 0);
        assert_eq!(h.len(), 2);
    }
}

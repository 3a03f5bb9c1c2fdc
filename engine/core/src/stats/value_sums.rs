//! Adding many cores' values to one histogram at once: counts summed per bucket in a plain
//! array laid out as hdrhistogram lays out its buckets (the slots `RecordedValues` carry), then
//! recorded once per bucket. The stats
//! thread adds every core's values for a transaction this way: one `record_n` (an index
//! computed, bounds, minimum, maximum and total kept) per bucket rather than per core and
//! bucket, where 64 cores' values share most of their buckets. Exactly what adding the values
//! one by one gives (`sums_record_exactly_what_adding_one_by_one_does`).

use crate::stats::histogram::{LatencyHistogram, RecordedValues, RecordsLatency, highest_of, narrow_for};

/// Sums are worth their walk over the buckets between the lowest and highest value when there
/// are at least one value for this many buckets; sparser values are recorded one by one.
const BUCKETS_PER_VALUE_MAX: usize = 16;

/// A scratch array of per-bucket sums, all zero between uses (kept to be reused: it grows to
/// the highest bucket seen, some 180 KiB for latencies up to an hour).
#[derive(Debug, Default)]
pub struct ValueSums {
    counts: Vec<u64>,
}

impl ValueSums {
    /// Adds every list of `lists` to `histogram` (an empty one wider than the values need is
    /// made new: `histogram::narrow_for`; none is made when the lists hold no value).
    pub fn add_to<'a, I>(&mut self, lists: I, histogram: &mut LatencyHistogram)
    where
        I: Iterator<Item = &'a RecordedValues> + Clone,
    {
        let (mut pairs, mut low, mut high) = (0, usize::MAX, 0);
        for list in lists.clone() {
            if let (Some(first), Some(last)) = (list.pairs().first(), list.pairs().last()) {
                pairs += list.len();
                low = low.min(first.0 as usize);
                high = high.max(last.0 as usize);
            }
        }
        if pairs == 0 {
            return;
        }
        // A histogram handed on from a wider interval starts new rather than being rebuilt.
        narrow_for(histogram, highest_of(high));
        // Made (or widened) once, at the range of every list's values.
        let histogram = histogram.histogram_to_record(highest_of(high));
        if pairs * BUCKETS_PER_VALUE_MAX < high - low + 1 {
            lists.for_each(|list| list.add_to(histogram));
            return;
        }
        if self.counts.len() <= high {
            self.counts.resize(high + 1, 0);
        }
        for &(slot, count) in lists.flat_map(RecordedValues::pairs) {
            let sum = &mut self.counts[slot as usize];
            *sum = sum.saturating_add(u64::from(count));
        }
        for (slot, sum) in self.counts[low..=high].iter_mut().enumerate() {
            if *sum > 0 {
                let value = highest_of(low + slot);
                histogram.record_n(value, std::mem::take(sum)).expect("auto-resizing histograms take any value");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::LATENCY_US_MAX;
    use crate::stats::histogram::encode;
    use crate::stats::{new_latency_histogram, record_latency};
    use proptest::prelude::*;

    /// What a core sends: its values taken from a histogram of `latencies`.
    fn sent(latencies: &[u64]) -> RecordedValues {
        let mut h = new_latency_histogram();
        for &us in latencies {
            record_latency(&mut h, us);
        }
        RecordedValues::take(&mut h)
    }

    proptest! {
        #[test]
        fn sums_record_exactly_what_adding_one_by_one_does(
            // Narrow ranges take the sums, sparse values over wide ones are added one by one.
            cores in prop_oneof![Just(1u64..5_000), Just(400u64..60_000), Just(1u64..LATENCY_US_MAX + 10)]
                .prop_flat_map(|range| proptest::collection::vec(proptest::collection::vec(range, 0..300), 0..12)),
            before in proptest::collection::vec(1u64..10_000_000, 0..3),
        ) {
            let lists: Vec<RecordedValues> = cores.iter().map(|c| sent(c)).collect();
            let (mut one_by_one, mut summed) = (new_latency_histogram(), LatencyHistogram::new());
            for &us in &before {
                record_latency(&mut one_by_one, us);
                record_latency(&mut summed, us);
            }
            lists.iter().for_each(|list| list.add_to(&mut one_by_one));
            let mut sums = ValueSums::default();
            sums.add_to(lists.iter(), &mut summed);
            // Equal in all a reader sees: counts, minimum, maximum, range, encoding (a histogram
            // made again at a wider range keeps its extremes as bucket values, not raw ones).
            prop_assert!(*summed == one_by_one);
            prop_assert_eq!((summed.high(), summed.buckets()), (one_by_one.high(), one_by_one.buckets()));
            prop_assert_eq!(encode(&summed), encode(&one_by_one));
            prop_assert!(sums.counts.iter().all(|&c| c == 0), "the scratch is left zeroed");
        }
    }
}

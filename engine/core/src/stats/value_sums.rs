//! Adding many cores' values to one histogram at once: counts summed per bucket in a plain
//! array laid out as hdrhistogram lays out its buckets, then recorded once per bucket. The stats
//! thread adds every core's values for a transaction this way: one `record_n` (an index
//! computed, bounds, minimum, maximum and total kept) per bucket rather than per core and
//! bucket, where 64 cores' values share most of their buckets. Exactly what adding the values
//! one by one gives (`sums_record_exactly_what_adding_one_by_one_does`).

use hdrhistogram::Histogram;

use crate::stats::histogram::{RecordedValues, SUB_BUCKETS};

/// log2 of the sub-buckets per bucket.
const SUB_BUCKET_BITS: u32 = SUB_BUCKETS.trailing_zeros();
/// Sums are worth their walk over the buckets between the lowest and highest value when there
/// are at least one value for this many buckets; sparser values are recorded one by one.
const BUCKETS_PER_VALUE_MAX: usize = 16;

/// The position of `value`'s bucket in a latency histogram's counts (hdrhistogram's
/// `index_for` at unit 1): values in one bucket share a slot, higher buckets have higher slots.
fn slot_of(value: u64) -> usize {
    let bucket = 64 - SUB_BUCKET_BITS - (value | (SUB_BUCKETS - 1)).leading_zeros();
    let sub_bucket = value >> bucket;
    (((u64::from(bucket) + 1) << (SUB_BUCKET_BITS - 1)) + sub_bucket - SUB_BUCKETS / 2) as usize
}

/// The highest value of slot `slot`'s bucket (hdrhistogram's `highest_equivalent`): what
/// `RecordedValues` carry for that bucket.
fn highest_of(slot: usize) -> u64 {
    let slot = slot as u64;
    if slot < SUB_BUCKETS {
        return slot;
    }
    let bucket = (slot >> (SUB_BUCKET_BITS - 1)) - 1;
    let sub_bucket = (slot & (SUB_BUCKETS / 2 - 1)) + SUB_BUCKETS / 2;
    ((sub_bucket + 1) << bucket) - 1
}

/// A scratch array of per-bucket sums, all zero between uses (kept to be reused: it grows to
/// the highest bucket seen, some 180 KiB for latencies up to an hour).
#[derive(Debug, Default)]
pub struct ValueSums {
    counts: Vec<u64>,
}

impl ValueSums {
    /// Adds every list of `lists` to `histogram`.
    pub fn add_to<'a, I>(&mut self, lists: I, histogram: &mut Histogram<u64>)
    where
        I: Iterator<Item = &'a RecordedValues> + Clone,
    {
        let (mut pairs, mut lowest, mut highest) = (0, u64::MAX, 0);
        for list in lists.clone() {
            if let (Some(first), Some(last)) = (list.pairs().first(), list.pairs().last()) {
                pairs += list.len();
                lowest = lowest.min(first.0);
                highest = highest.max(last.0);
            }
        }
        if pairs == 0 {
            return;
        }
        let (low, high) = (slot_of(lowest), slot_of(highest));
        if pairs * BUCKETS_PER_VALUE_MAX < high - low + 1 {
            lists.for_each(|list| list.add_to(histogram));
            return;
        }
        if self.counts.len() <= high {
            self.counts.resize(high + 1, 0);
        }
        for &(value, count) in lists.flat_map(RecordedValues::pairs) {
            let sum = &mut self.counts[slot_of(value)];
            *sum = sum.saturating_add(count);
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
    use crate::stats::{new_latency_histogram, record_latency};
    use proptest::prelude::*;

    #[test]
    fn slots_are_hdrhistograms_buckets() {
        let h = new_latency_histogram();
        let mut values: Vec<u64> = (0..5_000).collect();
        for shift in 11..32 {
            let edge = 1u64 << shift;
            values.extend([edge - 1, edge, edge + 1, edge + edge / 3, edge + edge / 2 + 7]);
        }
        values.extend([LATENCY_US_MAX - 1, LATENCY_US_MAX, u64::MAX / 4]);
        values.sort_unstable();
        for pair in values.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(highest_of(slot_of(a)), h.highest_equivalent(a), "highest of {a}");
            assert_eq!(slot_of(a) == slot_of(b), h.highest_equivalent(a) == h.highest_equivalent(b), "{a} and {b}");
            assert!(slot_of(a) <= slot_of(b), "slots rise with values: {a}, {b}");
        }
        assert!(slot_of(LATENCY_US_MAX) < 24 * 1024, "an hour fits some 180 KiB of sums");
    }

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
            let (mut one_by_one, mut summed) = (new_latency_histogram(), new_latency_histogram());
            for &us in &before {
                record_latency(&mut one_by_one, us);
                record_latency(&mut summed, us);
            }
            lists.iter().for_each(|list| list.add_to(&mut one_by_one));
            let mut sums = ValueSums::default();
            sums.add_to(lists.iter(), &mut summed);
            prop_assert_eq!(format!("{summed:?}"), format!("{one_by_one:?}"));
            prop_assert!(sums.counts.iter().all(|&c| c == 0), "the scratch is left zeroed");
        }
    }
}

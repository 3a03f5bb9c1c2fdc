//! Exact division of a total across cores (and injector segments): remainders spread, never lost.

/// The share of `total` that part `index` of `parts` gets. The first `total % parts` parts get
/// one more, so the shares always add up to `total` exactly.
pub fn share(total: u64, index: usize, parts: usize) -> u64 {
    assert!(parts > 0 && index < parts, "share: index {index} of {parts} parts");
    let parts = parts as u64;
    let index = index as u64;
    total / parts + u64::from(index < total % parts)
}

/// The share of `total` that core `core` of `cores` in execution segment `(k, n)` gets: first
/// split across segments, then across the segment's cores. Shares add up to `total` exactly.
pub fn segment_share(total: u64, segment: (usize, usize), core: usize, cores: usize) -> u64 {
    share(share(total, segment.0, segment.1), core, cores)
}

/// Whether datapool row `row` belongs to part `index` of `parts` (row i → part i mod N).
pub fn owns_row(row: usize, index: usize, parts: usize) -> bool {
    row % parts == index
}

/// The datapool rows one core owns: `first`, `first + step`, ..., `count` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSpan {
    /// The first row's index in the pool.
    pub first: usize,
    /// The distance between two of its rows.
    pub step: usize,
    /// How many rows.
    pub count: usize,
}

impl RowSpan {
    /// The pool index of this span's `nth` row (below `count`).
    pub fn row(&self, nth: usize) -> usize {
        self.first + nth * self.step
    }
}

/// The rows of a pool of `rows` that core `core` of `cores` in execution segment `(k, n)` owns:
/// row i goes to segment i mod n (`owns_row`), and the j-th row of a segment to core j mod
/// cores; so a core's rows are `k + core × n`, then every `n × cores`-th row after it. A part
/// that does not exist (`k >= n`, `core >= cores`) owns none.
pub fn segment_rows(rows: usize, segment: (usize, usize), core: usize, cores: usize) -> RowSpan {
    let (k, n) = segment;
    if k >= n || core >= cores {
        return RowSpan { first: 0, step: 1, count: 0 };
    }
    let first = core.saturating_mul(n).saturating_add(k);
    let step = n.saturating_mul(cores);
    let count = if first < rows { (rows - first - 1) / step + 1 } else { 0 };
    RowSpan { first, step, count }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn shares_add_up_exactly(total in 0u64..10_000_000, parts in 1usize..300) {
            let sum: u64 = (0..parts).map(|i| share(total, i, parts)).sum();
            prop_assert_eq!(sum, total);
        }

        #[test]
        fn segment_shares_add_up_exactly(total in 0u64..10_000_000, segments in 1usize..20, cores in 1usize..64) {
            let sum: u64 = (0..segments)
                .flat_map(|k| (0..cores).map(move |c| segment_share(total, (k, segments), c, cores)))
                .sum();
            prop_assert_eq!(sum, total);
        }

        /// The core loop relies on it: a part whose share of a volume's peak is none gets
        /// none of any smaller target either.
        #[test]
        fn a_larger_total_never_gives_a_part_less(
            total in 0u64..100_000, more in 0u64..1_000, segments in 1usize..20, cores in 1usize..64,
        ) {
            for k in 0..segments {
                for c in 0..cores {
                    let (smaller, larger) = (segment_share(total, (k, segments), c, cores), segment_share(total + more, (k, segments), c, cores));
                    prop_assert!(smaller <= larger, "part {k}/{c}: {total} gives {smaller}, {} gives {larger}", total + more);
                }
            }
        }

        #[test]
        fn shares_differ_by_at_most_one(total in 0u64..10_000_000, parts in 1usize..300) {
            let shares: Vec<u64> = (0..parts).map(|i| share(total, i, parts)).collect();
            let max = *shares.iter().max().unwrap();
            let min = *shares.iter().min().unwrap();
            prop_assert!(max - min <= 1);
        }

        #[test]
        fn segment_rows_are_the_rows_owns_row_gives(rows in 0usize..3_000, segments in 1usize..7, cores in 1usize..9) {
            for k in 0..segments {
                for core in 0..cores {
                    let span = segment_rows(rows, (k, segments), core, cores);
                    let listed: Vec<usize> = (0..span.count).map(|nth| span.row(nth)).collect();
                    let owned: Vec<usize> = (0..rows)
                        .filter(|&i| owns_row(i, k, segments))
                        .enumerate()
                        .filter(|&(j, _)| owns_row(j, core, cores))
                        .map(|(_, i)| i)
                        .collect();
                    prop_assert_eq!(listed, owned);
                }
            }
        }

        #[test]
        fn every_row_has_exactly_one_owner(rows in 0usize..5_000, parts in 1usize..64) {
            for row in 0..rows {
                let owners = (0..parts).filter(|&p| owns_row(row, p, parts)).count();
                prop_assert_eq!(owners, 1);
            }
        }
    }

    #[test]
    fn small_totals_go_to_the_first_parts() {
        assert_eq!((0..4).map(|i| share(2, i, 4)).collect::<Vec<_>>(), vec![1, 1, 0, 0]);
    }
}

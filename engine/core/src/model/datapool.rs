//! Datapools: rows of journey arguments, partitioned across cores without locks.
//!
//! A pool is built once; each core takes its own shard (row i → core i mod N) and checks rows
//! out and in without talking to any other core. A recyclable shard puts rows back at the end
//! of its queue; a single-use shard hands each row out once and then reports exhaustion, which
//! ends that scenario entry on that core.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use crate::model::split::owns_row;

/// One row of journey arguments. Cloning is one reference-count increment.
#[derive(Clone, PartialEq, Eq)]
pub struct Row {
    values: Arc<[String]>,
    columns: Option<Arc<[String]>>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.values.iter()).finish()
    }
}

/// A row value that is not what the journey asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// The row is shorter than the index asked for.
    #[error("row {row} has no value at index {index}")]
    NoValue {
        /// The row's values, as a list.
        row: String,
        /// The index asked for.
        index: usize,
    },
    /// The value is not a whole number.
    #[error("row value {index} is {value:?}, not an integer")]
    NotAnInteger {
        /// The index asked for.
        index: usize,
        /// The value there.
        value: String,
    },
}

impl Row {
    /// A row of positional values.
    pub fn new<I, S>(values: I) -> Row
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Row { values: values.into_iter().map(Into::into).collect(), columns: None }
    }

    /// A row whose values can also be found by column name (CSV pools, scenario templates).
    pub fn with_columns(values: Vec<String>, columns: Arc<[String]>) -> Row {
        Row { values: values.into(), columns: Some(columns) }
    }

    /// The row a journey without a datapool gets.
    pub fn empty() -> Row {
        Row { values: Arc::from(Vec::new()), columns: None }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True for the empty row.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Value at `index`, if present.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.values.get(index).map(String::as_str)
    }

    /// Value in column `name`, if the row has column names.
    pub fn by_name(&self, name: &str) -> Option<&str> {
        let columns = self.columns.as_ref()?;
        let index = columns.iter().position(|c| c == name)?;
        self.get(index)
    }

    /// Value at `index` parsed as an integer.
    pub fn int(&self, index: usize) -> Result<i64, RowError> {
        let value = self.get(index).ok_or_else(|| RowError::NoValue { row: format!("{self:?}"), index })?;
        value.trim().parse().map_err(|_| RowError::NotAnInteger { index, value: value.to_string() })
    }
}

/// A whole datapool as built by a scenario, before it is split across cores.
#[derive(Clone, Debug)]
pub struct DataPool {
    /// Name shown in errors and results.
    pub name: String,
    rows: Arc<Vec<Row>>,
    recyclable: bool,
}

impl DataPool {
    /// Rows come back after each journey and are handed out again (Mite's recyclable pools).
    pub fn recyclable(name: impl Into<String>, rows: Vec<Row>) -> DataPool {
        DataPool { name: name.into(), rows: Arc::new(rows), recyclable: true }
    }

    /// Each row is handed out once; when they run out the scenario entry ends.
    pub fn single_use(name: impl Into<String>, rows: Vec<Row>) -> DataPool {
        DataPool { name: name.into(), rows: Arc::new(rows), recyclable: false }
    }

    /// Whether rows are reused.
    pub fn is_recyclable(&self) -> bool {
        self.recyclable
    }

    /// Number of rows in the whole pool.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the pool has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows owned by part `index` of `parts` (row i → part i mod N).
    pub fn shard(&self, index: usize, parts: usize) -> PoolShard {
        self.shard_for((0, 1), index, parts)
    }

    /// The rows owned by core `core` of `cores` within execution segment `(k, n)`: row i goes
    /// to segment i mod n, and the j-th row of a segment to core j mod cores. Across all
    /// injectors and cores every row is owned exactly once.
    pub fn shard_for(&self, segment: (usize, usize), core: usize, cores: usize) -> PoolShard {
        let (k, n) = segment;
        let rows = self
            .rows
            .iter()
            .enumerate()
            .filter(|(i, _)| owns_row(*i, k, n))
            .enumerate()
            .filter(|(j, _)| owns_row(*j, core, cores))
            .map(|(_, (_, row))| row.clone())
            .collect();
        let rows: VecDeque<Row> = rows;
        PoolShard { owned: rows.len(), rows, recyclable: self.recyclable, checked_out: 0, endless_empty: false }
    }
}

/// One core's rows. Not shared: checkout and checkin are plain queue operations.
#[derive(Debug)]
pub struct PoolShard {
    rows: VecDeque<Row>,
    /// Rows this shard owns (waiting or checked out).
    owned: usize,
    recyclable: bool,
    checked_out: u64,
    /// Hands out clones of one empty row for ever (journeys without a datapool).
    endless_empty: bool,
}

impl PoolShard {
    /// A shard that always hands out the empty row (journeys without a datapool).
    pub fn unlimited_empty() -> PoolShard {
        PoolShard {
            rows: VecDeque::from([Row::empty()]),
            owned: 1,
            recyclable: true,
            checked_out: 0,
            endless_empty: true,
        }
    }

    /// The next row, or `None` when a single-use shard is exhausted, or every row of a
    /// recyclable shard is checked out (a check-in brings one back: wait, do not give up).
    pub fn checkout(&mut self) -> Option<Row> {
        let row = if self.endless_empty { self.rows.front().cloned() } else { self.rows.pop_front() };
        self.checked_out += u64::from(row.is_some());
        row
    }

    /// Returns a row after its journey; single-use shards drop it.
    pub fn checkin(&mut self, row: Row) {
        if self.recyclable && !self.endless_empty {
            self.rows.push_back(row);
        }
    }

    /// True when no row can ever be handed out again: a single-use shard that ran out, or a
    /// recyclable shard that owns no row at all. A recyclable shard whose rows are all
    /// checked out is not exhausted: they come back.
    pub fn is_exhausted(&self) -> bool {
        self.rows.is_empty() && (!self.recyclable || self.owned == 0)
    }

    /// Rows this shard owns, waiting or checked out.
    pub fn owned(&self) -> usize {
        self.owned
    }

    /// Rows handed out so far.
    pub fn checked_out(&self) -> u64 {
        self.checked_out
    }

    /// Rows waiting in the shard.
    pub fn available(&self) -> usize {
        self.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn numbered(n: usize) -> Vec<Row> {
        (0..n).map(|i| Row::new([i.to_string()])).collect()
    }

    proptest! {
        #[test]
        fn segment_and_core_shards_partition_the_pool(rows in 0usize..1_500, segments in 1usize..6, cores in 1usize..9) {
            let pool = DataPool::single_use("p", numbered(rows));
            let mut seen = Vec::new();
            for k in 0..segments {
                for core in 0..cores {
                    let mut shard = pool.shard_for((k, segments), core, cores);
                    while let Some(row) = shard.checkout() {
                        seen.push(row.int(0).unwrap() as usize);
                    }
                }
            }
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..rows).collect::<Vec<_>>());
        }

        #[test]
        fn shards_partition_the_pool(rows in 0usize..2_000, parts in 1usize..33) {
            let pool = DataPool::single_use("p", numbered(rows));
            let mut seen = Vec::new();
            for part in 0..parts {
                let mut shard = pool.shard(part, parts);
                while let Some(row) = shard.checkout() {
                    seen.push(row.int(0).unwrap() as usize);
                }
            }
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..rows).collect::<Vec<_>>());
        }
    }

    #[test]
    fn single_use_exhausts() {
        let mut shard = DataPool::single_use("p", numbered(2)).shard(0, 1);
        let a = shard.checkout().unwrap();
        shard.checkin(a);
        assert!(shard.checkout().is_some());
        assert!(shard.checkout().is_none());
        assert!(shard.is_exhausted());
    }

    #[test]
    fn recyclable_rows_come_back() {
        let mut shard = DataPool::recyclable("p", numbered(2)).shard(0, 1);
        for _ in 0..10 {
            let row = shard.checkout().unwrap();
            shard.checkin(row);
        }
        assert_eq!(shard.available(), 2);
        assert!(!shard.is_exhausted());
    }

    /// Issue 11: a recyclable shard whose rows are all checked out is empty for a moment,
    /// not exhausted; one that owns no row is.
    #[test]
    fn momentarily_empty_recyclable_is_not_exhausted() {
        let mut shard = DataPool::recyclable("p", numbered(1)).shard(0, 1);
        let row = shard.checkout().unwrap();
        assert!(shard.checkout().is_none());
        assert!(!shard.is_exhausted());
        shard.checkin(row);
        assert!(shard.checkout().is_some());
        let rowless = DataPool::recyclable("p", numbered(1)).shard(1, 2);
        assert!(rowless.is_exhausted());
    }

    #[test]
    fn empty_shard_never_runs_out() {
        let mut shard = PoolShard::unlimited_empty();
        let a = shard.checkout().unwrap();
        let b = shard.checkout().unwrap();
        shard.checkin(a);
        shard.checkin(b);
        assert_eq!(shard.available(), 1);
    }

    #[test]
    fn row_values() {
        let row =
            Row::with_columns(vec!["7".into(), "x".into()], Arc::from(vec!["id".to_string(), "name".to_string()]));
        assert_eq!(row.int(0), Ok(7));
        assert_eq!(row.by_name("name"), Some("x"));
        assert!(row.int(1).unwrap_err().to_string().contains("not an integer"));
        assert!(row.int(5).is_err());
    }
}

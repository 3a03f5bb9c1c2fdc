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
///
/// ```
/// # use mite_core::prelude::*;
/// async fn login(ctx: &Ctx, row: Row) -> JourneyResult {
///     let user = row.by_name("user").ok_or_else(|| JourneyError::msg("no user column"))?;
///     ctx.send("login", &[("user", &user), ("pin", &row.int(1)?)]);
///     Ok(())
/// }
///
/// let row = Row::with_columns(vec!["ann".into(), "1234".into()], vec!["user".into(), "pin".into()].into());
/// let record = JourneyTest::new().row(row).run(login).unwrap();
/// assert_eq!(record.messages[0].fields[1], ("pin".to_string(), "1234".to_string()));
/// ```
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
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// let row = Row::new(["ann", "42"]);
    /// assert_eq!((row.get(0), row.int(1)), (Some("ann"), Ok(42)));
    /// assert_eq!(row.by_name("user"), None); // no column names
    /// ```
    pub fn new<I, S>(values: I) -> Row
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Row { values: values.into_iter().map(Into::into).collect(), columns: None }
    }

    /// A row whose values can also be found by column name (CSV pools, scenario templates).
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// let columns: std::sync::Arc<[String]> = vec!["user".to_string(), "basket".to_string()].into();
    /// let row = Row::with_columns(vec!["ann".into(), "3".into()], columns.clone()); // share the names
    /// assert_eq!((row.by_name("user"), row.get(1)), (Some("ann"), Some("3")));
    /// ```
    pub fn with_columns(values: Vec<String>, columns: Arc<[String]>) -> Row {
        Row { values: values.into(), columns: Some(columns) }
    }

    /// The row a journey without a datapool gets.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// assert!(Row::empty().is_empty());
    /// assert_eq!(Row::empty().get(0), None);
    /// ```
    pub fn empty() -> Row {
        Row { values: Arc::from(Vec::new()), columns: None }
    }

    /// Number of values.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// assert_eq!(Row::new(["ann", "3"]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True for the empty row.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// assert!(Row::empty().is_empty() && !Row::new(["ann"]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Value at `index`, if present.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// let row = Row::new(["ann", "3"]);
    /// assert_eq!((row.get(0), row.get(2)), (Some("ann"), None));
    /// ```
    pub fn get(&self, index: usize) -> Option<&str> {
        self.values.get(index).map(String::as_str)
    }

    /// Value in column `name`, if the row has column names.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// let row = Row::with_columns(vec!["ann".into()], vec!["user".to_string()].into());
    /// assert_eq!((row.by_name("user"), row.by_name("email")), (Some("ann"), None));
    /// ```
    pub fn by_name(&self, name: &str) -> Option<&str> {
        let columns = self.columns.as_ref()?;
        let index = columns.iter().position(|c| c == name)?;
        self.get(index)
    }

    /// Value at `index` parsed as an integer.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// let row = Row::new([" 42 ", "many"]);
    /// assert_eq!(row.int(0), Ok(42)); // surrounding spaces are ignored
    /// assert_eq!(row.int(1).unwrap_err().to_string(), r#"row value 1 is "many", not an integer"#);
    /// async fn journey(_ctx: &Ctx, row: Row) -> JourneyResult {
    ///     let _items = row.int(2)?; // a journey fails, naming the row
    ///     Ok(())
    /// }
    /// let record = JourneyTest::new().row(row).run(journey).unwrap();
    /// assert_eq!(record.result.unwrap_err().message, r#"row [" 42 ", "many"] has no value at index 2"#);
    /// ```
    pub fn int(&self, index: usize) -> Result<i64, RowError> {
        let value = self.get(index).ok_or_else(|| RowError::NoValue { row: format!("{self:?}"), index })?;
        value.trim().parse().map_err(|_| RowError::NotAnInteger { index, value: value.to_string() })
    }
}

/// A whole datapool as built by a scenario, before it is split across cores.
///
/// ```
/// # use mite_core::prelude::*;
/// fn users() -> DataPool {
///     let columns: std::sync::Arc<[String]> = vec!["user".to_string()].into();
///     let rows = ["ann", "bob", "cat"].map(|user| Row::with_columns(vec![user.into()], columns.clone()));
///     DataPool::recyclable("users", rows.to_vec())
/// }
///
/// let volume = VolumeModel::constant(3);
/// let entry = ScenarioEntry { journey: "shop:login".into(), datapool: Some(users()), volume };
/// assert_eq!(entry.datapool.unwrap().len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct DataPool {
    /// Name shown in errors and results.
    pub name: String,
    rows: Arc<Vec<Row>>,
    recyclable: bool,
}

impl DataPool {
    /// Rows come back after each journey and are handed out again (Mite's recyclable pools).
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// let users = DataPool::recyclable("users", vec![Row::new(["ann"]), Row::new(["bob"])]);
    /// assert!(users.is_recyclable());
    /// assert_eq!((users.name.as_str(), users.len()), ("users", 2));
    /// ```
    pub fn recyclable(name: impl Into<String>, rows: Vec<Row>) -> DataPool {
        DataPool { name: name.into(), rows: Arc::new(rows), recyclable: true }
    }

    /// Each row is handed out once; when they run out the scenario entry ends.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// let orders: Vec<Row> = (1..=100).map(|id| Row::new([id.to_string()])).collect();
    /// let pool = DataPool::single_use("orders", orders); // 100 journeys, then this entry ends
    /// assert!(!pool.is_recyclable());
    /// assert_eq!(pool.len(), 100);
    /// ```
    pub fn single_use(name: impl Into<String>, rows: Vec<Row>) -> DataPool {
        DataPool { name: name.into(), rows: Arc::new(rows), recyclable: false }
    }

    /// Whether rows are reused.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// assert!(DataPool::recyclable("users", vec![]).is_recyclable());
    /// assert!(!DataPool::single_use("orders", vec![]).is_recyclable());
    /// ```
    pub fn is_recyclable(&self) -> bool {
        self.recyclable
    }

    /// Number of rows in the whole pool.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// assert_eq!(DataPool::recyclable("users", vec![Row::new(["ann"]), Row::new(["bob"])]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the pool has no rows.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// assert!(DataPool::single_use("orders", vec![]).is_empty());
    /// assert!(!DataPool::single_use("orders", vec![Row::new(["1"])]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows owned by part `index` of `parts` (row i → part i mod N).
    #[doc(hidden)]
    pub fn shard(&self, index: usize, parts: usize) -> PoolShard {
        self.shard_for((0, 1), index, parts)
    }

    /// The rows owned by core `core` of `cores` within execution segment `(k, n)`: row i goes
    /// to segment i mod n, and the j-th row of a segment to core j mod cores. Across all
    /// injectors and cores every row is owned exactly once.
    #[doc(hidden)]
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

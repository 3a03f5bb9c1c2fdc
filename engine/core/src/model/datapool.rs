//! Datapools: rows of journey arguments, partitioned across cores without locks.
//!
//! A pool is built once and never copied. Its rows are held rows (a Rust scenario's, a
//! file's `rows`), a `Table` (a CSV file's values in one buffer: no allocation per row or
//! value) or a range of whole numbers (made as they are checked out: no memory per row). Each
//! core takes its shard, the arithmetic progression of row indexes it owns
//! (`split::segment_rows`: row i → segment i mod n, then core j mod C), and checks rows out
//! and in without talking to any other core. A recyclable shard hands its rows out in order,
//! then those checked back in; a single-use shard hands each row out once, then reports
//! exhaustion, which ends the scenario entries drawing from it on that core. Entries naming
//! the same single-use pool share one shard per core (`CoreShards`): each row is used once in
//! the whole run.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::ops::RangeInclusive;
use std::rc::Rc;
use std::sync::Arc;

use crate::model::split::{RowSpan, segment_rows};

/// One row of journey arguments. Cloning never allocates (a reference count, or a range
/// number's digits copied).
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
#[derive(Clone)]
pub struct Row {
    values: Values,
    columns: Option<Arc<[String]>>,
}

/// Where a row's values are.
#[derive(Clone)]
enum Values {
    /// None: the row of a journey without a datapool (cloned and dropped with every journey,
    /// so it holds no reference count to change).
    Empty,
    /// Values of their own (`Row::new`, `Row::with_columns`).
    Owned(Arc<[String]>),
    /// Row `row` of a table (a CSV file's rows, in one buffer).
    Table { table: Arc<Table>, row: usize },
    /// One whole number of a range pool, its digits in place.
    Number(NumberText),
}

/// The decimal digits of an `i64` (at most 20 bytes with the sign), held without allocating:
/// written at the end of `digits`, from `start` on.
#[derive(Clone, Copy)]
struct NumberText {
    digits: [u8; 20],
    start: u8,
}

impl NumberText {
    /// Written digit by digit by the codec's `decimal` (as a `Content-Length` is): a range
    /// pool's row is taken for every journey, and `core::fmt`'s machinery (a formatter, its
    /// padding, a writer behind a vtable) costs some 450 instructions and, spread over its
    /// functions, more code on the request path.
    #[inline]
    fn new(n: i64) -> NumberText {
        let mut digits = [0u8; 20];
        // The magnitude as a `u64`: `i64::MIN`'s fits (19 digits, with the sign 20 bytes).
        let mut start = digits.len() - mite_codec::decimal(&mut digits, n.unsigned_abs()).len();
        if n < 0 {
            start -= 1;
            digits[start] = b'-';
        }
        NumberText { digits, start: start as u8 }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.digits[usize::from(self.start)..]).unwrap_or_default()
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries((0..self.len()).filter_map(|i| self.get(i))).finish()
    }
}

impl PartialEq for Row {
    /// Rows are equal when their values and column names are, however they are held.
    fn eq(&self, other: &Row) -> bool {
        self.len() == other.len()
            && (0..self.len()).all(|i| self.get(i) == other.get(i))
            && self.columns == other.columns
    }
}

impl Eq for Row {}

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
    /// The journey got the empty row (it runs without a datapool) and asked it for a value.
    #[error(
        "the journey runs without a datapool (its row is empty) and asked for value {index}: give it one \
         (`journey test J DATAPOOL`, the scenario entry's `datapool`, `JourneyTest::row`)"
    )]
    NoRow {
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
        let values: Arc<[String]> = values.into_iter().map(Into::into).collect();
        Row { values: Values::Owned(values), columns: None }
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
        Row { values: Values::Owned(values.into()), columns: Some(columns) }
    }

    /// The row a journey without a datapool gets.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// assert!(Row::empty().is_empty());
    /// assert_eq!(Row::empty().get(0), None);
    /// ```
    pub fn empty() -> Row {
        Row { values: Values::Empty, columns: None }
    }

    /// Whole number `n` of a range pool, in its one column; no allocation.
    fn number(n: i64, columns: Arc<[String]>) -> Row {
        Row { values: Values::Number(NumberText::new(n)), columns: Some(columns) }
    }

    /// Number of values.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// assert_eq!(Row::new(["ann", "3"]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Empty => 0,
            Values::Owned(values) => values.len(),
            Values::Table { table, .. } => table.width(),
            Values::Number(_) => 1,
        }
    }

    /// True for the empty row.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// assert!(Row::empty().is_empty() && !Row::new(["ann"]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value at `index`, if present.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// let row = Row::new(["ann", "3"]);
    /// assert_eq!((row.get(0), row.get(2)), (Some("ann"), None));
    /// ```
    pub fn get(&self, index: usize) -> Option<&str> {
        match &self.values {
            Values::Empty => None,
            Values::Owned(values) => values.get(index).map(String::as_str),
            Values::Table { table, row } => table.value(*row, index),
            Values::Number(number) => (index == 0).then(|| number.as_str()),
        }
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

    /// The column names, when the row has them.
    ///
    /// ```
    /// # use mite_core::prelude::Row;
    /// let row = Row::with_columns(vec!["ann".into()], vec!["user".to_string()].into());
    /// assert_eq!((row.columns(), Row::new(["ann"]).columns()), (Some(&["user".to_string()][..]), None));
    /// ```
    pub fn columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }

    /// The column names as held, shared by the rows of a pool (`Arc::ptr_eq`: the same names).
    pub(crate) fn column_names(&self) -> Option<&Arc<[String]>> {
        self.columns.as_ref()
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
        if matches!(self.values, Values::Empty) {
            return Err(RowError::NoRow { index });
        }
        let value = self.get(index).ok_or_else(|| RowError::NoValue { row: format!("{self:?}"), index })?;
        value.trim().parse().map_err(|_| RowError::NotAnInteger { index, value: value.to_string() })
    }
}

/// Rows of text values under named columns, every value in one buffer: a CSV file's rows cost
/// their text and one offset per value, with no allocation per row or value.
///
/// ```
/// # use mite_core::model::datapool::{DataPool, Table};
/// let mut table = Table::new(vec!["id".to_string(), "name".to_string()].into());
/// assert!(table.push_row(["1", "ann"]));
/// assert!(!table.push_row(["2"])); // not as wide as the columns: refused, nothing added
/// let pool = DataPool::table("users", table, false);
/// let row = pool.shard(0, 1).checkout().unwrap();
/// assert_eq!((row.by_name("id"), row.get(1), pool.len()), (Some("1"), Some("ann"), 1));
/// ```
pub struct Table {
    columns: Arc<[String]>,
    /// Every value, one after another.
    text: String,
    /// Where each value ends in `text` (row r's value i is entry r × width + i).
    ends: Vec<usize>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Arc<[String]>) -> Table {
        Table { columns, text: String::new(), ends: Vec::new() }
    }

    /// An empty table with room for `text_bytes` bytes of values (a CSV file's size: its
    /// values take no more), so that filling it does not copy the text as it grows. When
    /// that much memory cannot be had at once, the text grows as it comes instead.
    pub fn with_capacity(columns: Arc<[String]>, text_bytes: usize) -> Table {
        let mut text = String::new();
        let _ = text.try_reserve_exact(text_bytes);
        Table { columns, text, ends: Vec::new() }
    }

    /// Adds a row; `false`, with nothing added, when it is not as wide as the columns.
    pub fn push_row<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) -> bool {
        let (text_len, ends_len) = (self.text.len(), self.ends.len());
        for value in values {
            self.text.push_str(value);
            self.ends.push(self.text.len());
        }
        let complete = self.ends.len() - ends_len == self.width();
        if !complete {
            self.text.truncate(text_len);
            self.ends.truncate(ends_len);
        }
        complete
    }

    /// Gives back the room the rows did not use.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// The column names.
    pub fn columns(&self) -> &Arc<[String]> {
        &self.columns
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.ends.len().checked_div(self.width()).unwrap_or(0)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    /// Row `row`'s value in column `index`.
    fn value(&self, row: usize, index: usize) -> Option<&str> {
        if index >= self.width() {
            return None;
        }
        let at = row.checked_mul(self.width())?.checked_add(index)?;
        let end = *self.ends.get(at)?;
        let start = if at == 0 { 0 } else { self.ends[at - 1] };
        self.text.get(start..end)
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table").field("columns", &self.columns).field("rows", &self.rows()).finish()
    }
}

/// Where a pool's rows come from.
enum Source {
    /// Rows held as they were given.
    Held(Vec<Row>),
    /// A table's rows.
    Table(Arc<Table>),
    /// The whole numbers `from`, `from + 1`, ..., `count` of them, in one column.
    Range { from: i64, count: usize, columns: Arc<[String]> },
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::Held(rows) => rows.len(),
            Source::Table(table) => table.rows(),
            Source::Range { count, .. } => *count,
        }
    }

    /// Row `index` (below `len`).
    fn row(&self, index: usize) -> Option<Row> {
        match self {
            Source::Held(rows) => rows.get(index).cloned(),
            Source::Table(table) => (index < table.rows()).then(|| Row {
                values: Values::Table { table: table.clone(), row: index },
                columns: Some(table.columns.clone()),
            }),
            Source::Range { from, count, columns } => {
                // from + index <= to, which is an i64: the sum fits.
                (index < *count).then(|| Row::number((i128::from(*from) + index as i128) as i64, columns.clone()))
            }
        }
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
///
/// A clone is the same pool: scenario entries given clones of one single-use pool share its
/// rows, each row used once by one of them.
#[derive(Clone)]
pub struct DataPool {
    /// Name shown in errors and results.
    pub name: String,
    source: Arc<Source>,
    recyclable: bool,
}

impl fmt::Debug for DataPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match *self.source {
            Source::Held(_) => "rows",
            Source::Table(_) => "table",
            Source::Range { .. } => "range",
        };
        f.debug_struct("DataPool")
            .field("name", &self.name)
            .field("kind", &kind)
            .field("rows", &self.len())
            .field("recyclable", &self.recyclable)
            .finish()
    }
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
        DataPool { name: name.into(), source: Arc::new(Source::Held(rows)), recyclable: true }
    }

    /// Each row is handed out once; when they run out the scenario entry ends. Entries given
    /// clones of the pool share its rows.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// let orders: Vec<Row> = (1..=100).map(|id| Row::new([id.to_string()])).collect();
    /// let pool = DataPool::single_use("orders", orders); // 100 journeys, then this entry ends
    /// assert!(!pool.is_recyclable());
    /// assert_eq!(pool.len(), 100);
    /// ```
    pub fn single_use(name: impl Into<String>, rows: Vec<Row>) -> DataPool {
        DataPool { name: name.into(), source: Arc::new(Source::Held(rows)), recyclable: false }
    }

    /// A table's rows (a CSV file's), recyclable or single-use.
    ///
    /// ```
    /// # use mite_core::model::datapool::{DataPool, Table};
    /// let mut table = Table::new(vec!["sku".to_string()].into());
    /// assert!(table.push_row(["tea-1"]) && table.push_row(["tea-2"]));
    /// let skus = DataPool::table("skus", table, true);
    /// assert_eq!((skus.len(), skus.is_recyclable()), (2, true));
    /// ```
    pub fn table(name: impl Into<String>, table: Table, recyclable: bool) -> DataPool {
        DataPool { name: name.into(), source: Arc::new(Source::Table(Arc::new(table))), recyclable }
    }

    /// The whole numbers `numbers` in one column named `column`, recyclable or single-use. A
    /// row is made when it is checked out, so the pool takes no memory per row.
    ///
    /// ```
    /// # use mite_core::prelude::DataPool;
    /// let ids = DataPool::range("ids", "id", 1..=50_000_000, false); // a few bytes
    /// assert_eq!(ids.len(), 50_000_000);
    /// let mut shard = ids.shard(1, 2); // the second of two cores: 2, 4, 6...
    /// assert_eq!(shard.checkout().unwrap().by_name("id"), Some("2"));
    /// ```
    pub fn range(name: impl Into<String>, column: &str, numbers: RangeInclusive<i64>, recyclable: bool) -> DataPool {
        let (from, to) = numbers.into_inner();
        let count = (i128::from(to) - i128::from(from) + 1).max(0);
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let columns: Arc<[String]> = Arc::from(vec![column.to_string()]);
        DataPool { name: name.into(), source: Arc::new(Source::Range { from, count, columns }), recyclable }
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

    /// The pool's name.
    ///
    /// ```
    /// # use mite_core::prelude::DataPool;
    /// assert_eq!(DataPool::single_use("orders", vec![]).name(), "orders");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of rows in the whole pool.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// assert_eq!(DataPool::recyclable("users", vec![Row::new(["ann"]), Row::new(["bob"])]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// True when the pool has no rows.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// assert!(DataPool::single_use("orders", vec![]).is_empty());
    /// assert!(!DataPool::single_use("orders", vec![Row::new(["1"])]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the pool's rows have a column named `column` (a pool of rows given without
    /// names, or of none, has none).
    ///
    /// ```
    /// # use mite_core::prelude::DataPool;
    /// let ids = DataPool::range("ids", "id", 1..=3, true);
    /// assert!(ids.has_column("id") && !ids.has_column("name"));
    /// ```
    pub fn has_column(&self, column: &str) -> bool {
        match &*self.source {
            Source::Held(rows) => rows.first().is_some_and(|row| row.by_name(column).is_some()),
            Source::Table(table) => table.columns.iter().any(|c| c == column),
            Source::Range { columns, .. } => columns.iter().any(|c| c == column),
        }
    }

    /// The first row (from 1) whose value in `column` is not ASCII, with that value: such a
    /// value in a request header is sent as its UTF-8 bytes, which the scenario file's check
    /// warns about before the run. `None` when every row's is ASCII (a range's always are) or
    /// the pool has no such column. A table whose text is all ASCII is answered at once.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// let columns: std::sync::Arc<[String]> = vec!["name".to_string()].into();
    /// let rows = ["ann", "José"].map(|n| Row::with_columns(vec![n.into()], columns.clone()));
    /// let users = DataPool::recyclable("users", rows.to_vec());
    /// assert_eq!(users.first_non_ascii("name"), Some((2, "José".to_string())));
    /// assert_eq!(users.first_non_ascii("id"), None);
    /// ```
    pub fn first_non_ascii(&self, column: &str) -> Option<(usize, String)> {
        let found =
            |(at, value): (usize, Option<&str>)| value.filter(|v| !v.is_ascii()).map(|v| (at + 1, v.to_string()));
        match &*self.source {
            Source::Range { .. } => None,
            Source::Held(rows) => rows.iter().map(|row| row.by_name(column)).enumerate().find_map(found),
            Source::Table(table) => {
                let index = table.columns.iter().position(|c| c == column)?;
                if table.text.is_ascii() {
                    return None;
                }
                (0..table.rows()).map(|row| table.value(row, index)).enumerate().find_map(found)
            }
        }
    }

    /// Whether `other` is this pool (a clone of it): entries naming one single-use pool share
    /// its rows.
    ///
    /// ```
    /// # use mite_core::prelude::{DataPool, Row};
    /// let orders = DataPool::single_use("orders", vec![Row::new(["1"])]);
    /// assert!(orders.is_same_pool(&orders.clone()));
    /// assert!(!orders.is_same_pool(&DataPool::single_use("orders", vec![Row::new(["1"])])));
    /// ```
    pub fn is_same_pool(&self, other: &DataPool) -> bool {
        Arc::ptr_eq(&self.source, &other.source)
    }

    /// The rows owned by part `index` of `parts` (row i → part i mod N).
    #[doc(hidden)]
    pub fn shard(&self, index: usize, parts: usize) -> PoolShard {
        self.shard_for((0, 1), index, parts)
    }

    /// The rows owned by core `core` of `cores` within execution segment `(k, n)`: row i goes
    /// to segment i mod n, and the j-th row of a segment to core j mod cores. Across all
    /// injectors and cores every row is owned exactly once. Nothing is copied: the shard
    /// holds the pool and its row indexes' progression.
    #[doc(hidden)]
    pub fn shard_for(&self, segment: (usize, usize), core: usize, cores: usize) -> PoolShard {
        let span = segment_rows(self.len(), segment, core, cores);
        PoolShard::new(ShardState {
            source: Some(self.source.clone()),
            span,
            next: 0,
            returned: VecDeque::new(),
            recyclable: self.recyclable,
            checked_out: 0,
        })
    }
}

/// One core's shards of a run's datapools, built as its scenario entries are: entries that
/// name the same single-use pool (clones of one `DataPool`) get the same shard, so each row is
/// used once however many entries draw from it. A recyclable pool gives each entry a shard of
/// its own (each entry cycles through the core's rows).
#[derive(Default)]
pub struct CoreShards {
    single_use: Vec<(Arc<Source>, PoolShard)>,
}

impl CoreShards {
    /// The shard of `pool` for core `core` of `cores` in segment `segment`.
    pub fn shard(&mut self, pool: &DataPool, segment: (usize, usize), core: usize, cores: usize) -> PoolShard {
        if pool.recyclable {
            return pool.shard_for(segment, core, cores);
        }
        if let Some((_, shard)) = self.single_use.iter().find(|(source, _)| Arc::ptr_eq(source, &pool.source)) {
            return shard.handle();
        }
        let shard = pool.shard_for(segment, core, cores);
        self.single_use.push((pool.source.clone(), shard.handle()));
        shard
    }
}

/// One core's rows of a pool. Not shared across cores: checkout and checkin are plain
/// operations on the core's own state (shared only by entries of one core drawing from the
/// same single-use pool).
pub struct PoolShard {
    state: Rc<RefCell<ShardState>>,
}

struct ShardState {
    /// The pool; `None` for the endless empty row (journeys without a datapool).
    source: Option<Arc<Source>>,
    /// The pool's rows this shard owns.
    span: RowSpan,
    /// How many of them were handed out for the first time.
    next: usize,
    /// Rows checked back in (recyclable), handed out after the fresh ones, oldest first: at
    /// most the journeys in flight.
    returned: VecDeque<Row>,
    recyclable: bool,
    checked_out: u64,
}

impl fmt::Debug for PoolShard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("PoolShard")
            .field("owned", &state.span.count)
            .field("available", &(state.span.count - state.next + state.returned.len()))
            .field("recyclable", &state.recyclable)
            .finish()
    }
}

impl PoolShard {
    fn new(state: ShardState) -> PoolShard {
        PoolShard { state: Rc::new(RefCell::new(state)) }
    }

    /// Another handle on this shard: the same rows and state, not a copy. The core loop keeps
    /// one per scenario entry to see the rows run out for an entry that draws none itself (its
    /// journeys are not running, another entry drew the last row).
    pub fn handle(&self) -> PoolShard {
        PoolShard { state: self.state.clone() }
    }

    /// A shard that always hands out the empty row (journeys without a datapool).
    pub fn unlimited_empty() -> PoolShard {
        let empty = Row::empty();
        PoolShard::new(ShardState {
            source: None,
            span: RowSpan { first: 0, step: 1, count: 0 },
            next: 0,
            // Never handed out (`checkout` makes the empty row anew, which costs nothing): it
            // keeps the shard available, never exhausted.
            returned: VecDeque::from([empty]),
            recyclable: true,
            checked_out: 0,
        })
    }

    /// The next row, or `None` when a single-use shard is exhausted, or every row of a
    /// recyclable shard is checked out (a check-in brings one back: wait, do not give up).
    #[inline]
    pub fn checkout(&mut self) -> Option<Row> {
        let mut state = self.state.borrow_mut();
        let row = match &state.source {
            None => Some(Row::empty()),
            Some(source) if state.next < state.span.count => {
                let row = source.row(state.span.row(state.next));
                state.next += 1;
                row
            }
            Some(_) => state.returned.pop_front(),
        };
        state.checked_out += u64::from(row.is_some());
        row
    }

    /// Returns a row after its journey; single-use shards drop it.
    #[inline]
    pub fn checkin(&mut self, row: Row) {
        let mut state = self.state.borrow_mut();
        if state.recyclable && state.source.is_some() {
            state.returned.push_back(row);
        }
    }

    /// True when no row can ever be handed out again: a single-use shard that ran out, or a
    /// recyclable shard that owns no row at all. A recyclable shard whose rows are all
    /// checked out is not exhausted: they come back.
    pub fn is_exhausted(&self) -> bool {
        let state = self.state.borrow();
        self.available() == 0 && (!state.recyclable || state.span.count == 0)
    }

    /// Rows this shard owns, waiting or checked out.
    pub fn owned(&self) -> usize {
        self.state.borrow().span.count
    }

    /// Rows handed out so far.
    pub fn checked_out(&self) -> u64 {
        self.state.borrow().checked_out
    }

    /// Rows waiting in the shard.
    pub fn available(&self) -> usize {
        let state = self.state.borrow();
        state.span.count - state.next + state.returned.len()
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
        fn a_range_rows_number_reads_as_its_decimal_text(n in any::<i64>()) {
            let text = NumberText::new(n);
            prop_assert_eq!(text.as_str(), n.to_string());
        }
    }

    #[test]
    fn the_ends_of_the_number_range_read_as_their_decimal_text() {
        for n in [i64::MIN, i64::MIN + 1, -10, -9, -1, 0, 1, 9, 10, 99, 100, i64::MAX - 1, i64::MAX] {
            assert_eq!(NumberText::new(n).as_str(), n.to_string());
        }
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

    /// Every row of a pool, however it is held, checked out of every core's shard: each once.
    fn drained(pool: &DataPool, segments: usize, cores: usize) -> Vec<String> {
        let mut seen = Vec::new();
        for k in 0..segments {
            for core in 0..cores {
                let mut shard = pool.shard_for((k, segments), core, cores);
                while let Some(row) = shard.checkout() {
                    seen.push(row.get(0).unwrap().to_string());
                }
            }
        }
        seen
    }

    proptest! {
        #[test]
        fn range_and_table_shards_partition_the_pool(
            from in -1_000i64..1_000, rows in 0usize..1_500, segments in 1usize..6, cores in 1usize..9,
        ) {
            let expected: Vec<i64> = (0..rows as i64).map(|i| from + i).collect();
            let range = DataPool::range("p", "id", from..=from + rows as i64 - 1, false);
            let mut table = Table::new(vec!["id".to_string()].into());
            for n in &expected {
                prop_assert!(table.push_row([n.to_string().as_str()]));
            }
            for pool in [range, DataPool::table("p", table, false)] {
                prop_assert_eq!(pool.len(), rows);
                let mut seen: Vec<i64> = drained(&pool, segments, cores).iter().map(|v| v.parse().unwrap()).collect();
                seen.sort_unstable();
                prop_assert_eq!(&seen, &expected);
            }
        }
    }

    /// The outside tester's `shared.toml`: two entries naming one single-use pool each took a
    /// shard of their own, so every row was used twice. Through `CoreShards` they share one.
    #[test]
    fn entries_naming_one_single_use_pool_share_its_rows() {
        let pool = DataPool::range("p", "id", 1..=200, false);
        let mut seen = Vec::new();
        for core in 0..2 {
            let mut shards = CoreShards::default();
            let mut j = shards.shard(&pool, (0, 1), core, 2);
            let mut k = shards.shard(&pool.clone(), (0, 1), core, 2);
            loop {
                let (a, b) = (j.checkout(), k.checkout());
                if a.is_none() && b.is_none() {
                    break;
                }
                seen.extend(a.into_iter().chain(b).map(|row| row.int(0).unwrap()));
            }
            assert!(j.is_exhausted() && k.is_exhausted());
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=200).collect::<Vec<_>>());
        // Another pool of the same rows is another pool; a recyclable pool's entries cycle on their own.
        let mut shards = CoreShards::default();
        let _ = shards.shard(&pool, (0, 1), 0, 1);
        assert_eq!(shards.shard(&DataPool::range("p", "id", 1..=200, false), (0, 1), 0, 1).available(), 200);
        let users = DataPool::recyclable("u", numbered(3));
        let mut first = shards.shard(&users, (0, 1), 0, 1);
        let _ = first.checkout();
        assert_eq!(shards.shard(&users, (0, 1), 0, 1).available(), 3);
    }

    #[test]
    fn a_recyclable_range_hands_out_its_rows_then_those_checked_in() {
        let mut shard = DataPool::range("p", "n", -1..=1, true).shard(0, 1);
        let taken: Vec<Row> = (0..3).map(|_| shard.checkout().unwrap()).collect();
        assert_eq!(taken.iter().map(|r| r.get(0).unwrap()).collect::<Vec<_>>(), ["-1", "0", "1"]);
        assert!(shard.checkout().is_none() && !shard.is_exhausted());
        shard.checkin(taken[1].clone());
        assert_eq!(shard.checkout().unwrap().by_name("n"), Some("0"));
        assert_eq!((shard.owned(), shard.checked_out()), (3, 4));
    }

    #[test]
    fn rows_are_equal_by_value_however_they_are_held() {
        let columns: Arc<[String]> = vec!["id".to_string()].into();
        let held = Row::with_columns(vec!["-9223372036854775808".into()], columns.clone());
        let number = DataPool::range("p", "id", i64::MIN..=i64::MIN, false).shard(0, 1).checkout().unwrap();
        let mut table = Table::new(columns);
        assert!(table.push_row(["-9223372036854775808"]));
        let from_table = DataPool::table("p", table, false).shard(0, 1).checkout().unwrap();
        assert_eq!(held, number);
        assert_eq!(held, from_table);
        assert_eq!(format!("{number:?}"), r#"["-9223372036854775808"]"#);
        assert_eq!((number.len(), number.get(1), from_table.get(1)), (1, None, None));
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
        assert_eq!((a.len(), a.get(0), a.by_name("x")), (0, None, None));
        assert_eq!(a, Row::new(Vec::<String>::new()), "the same as any row without values");
        assert_eq!(format!("{b:?}"), "[]");
        shard.checkin(a);
        shard.checkin(b);
        assert_eq!(shard.available(), 1);
        assert!(!shard.is_exhausted());
        assert_eq!(shard.checked_out(), 2);
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

    /// A journey run without a datapool gets the empty row: asking it for a value says so, not
    /// `row [] has no value at index 0`, which reads as a datapool with a short row.
    #[test]
    fn a_value_of_the_empty_row_says_the_journey_has_no_datapool() {
        let err = Row::empty().int(0).unwrap_err().to_string();
        assert!(err.contains("runs without a datapool") && err.contains("journey test J DATAPOOL"), "{err}");
        let short = Row::new(["1"]).int(1).unwrap_err().to_string();
        assert_eq!(short, r#"row ["1"] has no value at index 1"#);
    }
}

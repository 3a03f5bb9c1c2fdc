//! `[datapools.NAME]`: rows inline, a range of numbers, or a CSV file with a header row;
//! each checked (row widths, ranges, row counts) and built into a `DataPool`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

use super::error::{ScenarioFileError, Source};
use super::schema::{DataPoolSpec, RangeSpec, value_text};
use crate::limits::DATAPOOL_ROWS_MAX;
use crate::model::datapool::{DataPool, Row};

/// A datapool's rows, and its column names when it has them.
type Rows = (Vec<Row>, Option<Vec<String>>);

/// The file's datapools by name, each with its column names when it has them.
pub(super) type Pools = BTreeMap<String, (DataPool, Option<Vec<String>>)>;

/// Builds every `[datapools.NAME]`; `dir` is the scenario file's folder (CSV paths are
/// relative to it).
pub(super) fn datapools(
    src: &Source<'_>,
    specs: &BTreeMap<String, Spanned<DataPoolSpec>>,
    dir: &Path,
) -> Result<Pools, ScenarioFileError> {
    specs.iter().map(|(name, spec)| Ok((name.clone(), datapool(src, name, spec, dir)?))).collect()
}

fn datapool(
    src: &Source<'_>,
    name: &str,
    spec: &Spanned<DataPoolSpec>,
    dir: &Path,
) -> Result<(DataPool, Option<Vec<String>>), ScenarioFileError> {
    let field = format!("datapools.{name}");
    let span = Some(spec.span());
    let pool = spec.get_ref();
    let err = |part: &str, message: String| src.error(span.clone(), format!("{field}{part}"), message);
    let (rows, columns) = match (&pool.csv, &pool.rows, &pool.range) {
        (Some(csv_path), None, None) => {
            let (rows, columns) = read_csv(&dir.join(csv_path)).map_err(|e| err(".csv", e.to_string()))?;
            (rows, Some(columns))
        }
        (None, Some(rows), None) => inline_rows(rows, pool.columns.as_deref()).map_err(|(part, e)| err(&part, e))?,
        (None, None, Some(range)) => range_rows(range, pool.column.as_deref()).map_err(|e| err(".range", e))?,
        _ => {
            return Err(err(
                "",
                "give exactly one of csv = \"file.csv\", rows = [[...]], or range = { from, to }".into(),
            ));
        }
    };
    if rows.is_empty() {
        return Err(err("", "the datapool has no rows".into()));
    }
    let pool = if pool.recyclable.unwrap_or(true) {
        DataPool::recyclable(name, rows)
    } else {
        DataPool::single_use(name, rows)
    };
    Ok((pool, columns))
}

/// `rows = [[...]]` with optional `columns`: every row as wide as the columns.
fn inline_rows(rows: &[Vec<toml::Value>], columns: Option<&[String]>) -> Result<Rows, (String, String)> {
    let shared: Option<Arc<[String]>> = columns.map(Arc::from);
    let mut built = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if let Some(columns) = columns
            && row.len() != columns.len()
        {
            let message = format!("{} values, but {} columns ({})", row.len(), columns.len(), columns.join(", "));
            return Err((format!(".rows[{i}]"), message));
        }
        let values: Vec<String> = row.iter().map(value_text).collect();
        built.push(match &shared {
            Some(columns) => Row::with_columns(values, columns.clone()),
            None => Row::new(values),
        });
    }
    Ok((built, columns.map(<[String]>::to_vec)))
}

/// `range = { from, to }`: one row per whole number, in one column (`value` unless named).
fn range_rows(range: &RangeSpec, column: Option<&str>) -> Result<Rows, String> {
    if range.to < range.from {
        return Err(format!("to ({}) is below from ({})", range.to, range.from));
    }
    // In i128: `to - from` of two i64 can overflow i64 (from = i64::MIN, to = i64::MAX).
    let count = (i128::from(range.to) - i128::from(range.from) + 1) as u128;
    if count > DATAPOOL_ROWS_MAX as u128 {
        return Err(format!("{count} rows is more than {DATAPOOL_ROWS_MAX}"));
    }
    let column = column.unwrap_or("value").to_string();
    let columns: Arc<[String]> = Arc::from(vec![column.clone()]);
    let rows = (range.from..=range.to).map(|v| Row::with_columns(vec![v.to_string()], columns.clone())).collect();
    Ok((rows, Some(vec![column])))
}

/// A CSV datapool file that cannot be used; each names the file (and the line when known).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file cannot be opened.
    #[error("{}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The header row cannot be read.
    #[error("{}: header row: {reason}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A header without a name (or no header at all).
    #[error("{}:1: the header row must name every column", path.display())]
    UnnamedColumn {
        /// The file.
        path: PathBuf,
    },
    /// A record that cannot be read (a row wider or narrower than the header, bad UTF-8).
    #[error("{}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<u64>,
        /// Why.
        reason: String,
    },
    /// More rows than `limits::DATAPOOL_ROWS_MAX`.
    #[error("{}: more than {rows_max} rows", path.display())]
    TooManyRows {
        /// The file.
        path: PathBuf,
        /// The bound.
        rows_max: usize,
    },
}

/// Reads a CSV file whose header row names the columns. Errors name the file and line.
pub fn read_csv(path: &Path) -> Result<(Vec<Row>, Vec<String>), CsvError> {
    read_csv_bounded(path, DATAPOOL_ROWS_MAX)
}

/// `read_csv`, refusing a file of more than `rows_max` rows.
fn read_csv_bounded(path: &Path, rows_max: usize) -> Result<(Vec<Row>, Vec<String>), CsvError> {
    let at = || path.to_path_buf();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| CsvError::Open { path: at(), reason: e.to_string() })?;
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| CsvError::Header { path: at(), reason: e.to_string() })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if columns.is_empty() || columns.iter().any(String::is_empty) {
        return Err(CsvError::UnnamedColumn { path: at() });
    }
    let shared: Arc<[String]> = Arc::from(columns.clone());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CsvError::Record {
            path: at(),
            line: e.position().map(csv::Position::line),
            reason: e.to_string(),
        })?;
        if rows.len() >= rows_max {
            return Err(CsvError::TooManyRows { path: at(), rows_max });
        }
        rows.push(Row::with_columns(record.iter().map(str::to_string).collect(), shared.clone()));
    }
    Ok((rows, columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_past_the_bound_are_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("mite-csv-bound-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rows.csv");
        std::fs::write(&path, "id\n1\n2\n3\n").unwrap();
        assert_eq!(read_csv_bounded(&path, 3).unwrap().0.len(), 3);
        let err = read_csv_bounded(&path, 2).unwrap_err().to_string();
        assert!(err.contains("rows.csv") && err.contains("more than 2 rows"), "{err}");
    }

    #[test]
    fn a_range_past_the_datapool_bound_is_refused() {
        let rows_max = DATAPOOL_ROWS_MAX as i64;
        let err = range_rows(&RangeSpec { from: 1, to: rows_max + 1 }, None).unwrap_err();
        assert!(err.contains(&format!("{} rows is more than {DATAPOOL_ROWS_MAX}", rows_max + 1)), "{err}");
        let err = range_rows(&RangeSpec { from: i64::MIN, to: i64::MAX }, None).unwrap_err();
        assert!(err.contains("is more than"), "{err}");
        assert_eq!(range_rows(&RangeSpec { from: -2, to: 2 }, Some("n")).unwrap().0.len(), 5);
    }
}

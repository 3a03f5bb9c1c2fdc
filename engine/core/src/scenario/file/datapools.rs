//! `[datapools.NAME]`: rows inline (with their column names), a range of numbers, or a CSV
//! file with a header row (`csv_file`); each checked (column names, value types, row widths,
//! ranges, row counts) and built into a `DataPool`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use toml::Spanned;

use super::csv_file::read_csv;
use super::error::{ScenarioFileError, Source};
use super::schema::{DataPoolSpec, RangeSpec, value_text};
use crate::limits::DATAPOOL_ROWS_MAX;
use crate::model::datapool::{DataPool, Row};

/// The file's datapools by name, each with its column names when it has them.
pub(super) type Pools = BTreeMap<String, (DataPool, Option<Vec<String>>)>;

/// Builds every `[datapools.NAME]`; `dir` is the scenario file's folder (CSV paths are
/// relative to it).
pub(super) fn datapools(
    src: &Source<'_>,
    specs: &indexmap::IndexMap<String, Spanned<DataPoolSpec>>,
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
    let recyclable = pool.recyclable.unwrap_or(true);
    let err = |part: &str, message: String| src.error(span.clone(), format!("{field}{part}"), message);
    if let Some(misplaced) = misplaced_names(pool) {
        return Err(err("", misplaced.into()));
    }
    let built = match (&pool.csv, &pool.rows, &pool.range) {
        (Some(csv_path), None, None) => {
            let table = read_csv(&dir.join(csv_path)).map_err(|e| err(".csv", e.to_string()))?;
            DataPool::table(name, table, recyclable)
        }
        (None, Some(rows), None) => {
            let rows = inline_rows(src, &field, spec, rows)?;
            if recyclable { DataPool::recyclable(name, rows) } else { DataPool::single_use(name, rows) }
        }
        (None, None, Some(range)) => {
            let column = pool.column.as_deref().unwrap_or("value");
            if column.trim().is_empty() {
                return Err(err(".column", "the column has no name: column = \"id\"".into()));
            }
            let numbers = range_numbers(range).map_err(|e| err(".range", e))?;
            DataPool::range(name, column, numbers, recyclable)
        }
        _ => {
            return Err(err(
                "",
                "give exactly one of csv = \"file.csv\", rows = [[...]] with columns = [...], or range = { from, to }"
                    .into(),
            ));
        }
    };
    if built.is_empty() {
        return Err(match &pool.csv {
            Some(csv) => err(".csv", format!("{csv} has a header row and no rows: add rows of values below it")),
            None => err("", "the datapool has no rows".into()),
        });
    }
    let columns = built.shard(0, 1).checkout().map(|row| column_names(&row));
    Ok((built, columns.flatten()))
}

/// `columns` names a `rows` pool's columns and `column` a range's: given to another kind of
/// pool they would name nothing (a CSV file names its columns in its header row).
fn misplaced_names(pool: &DataPoolSpec) -> Option<&'static str> {
    if pool.columns.is_some() && pool.rows.is_none() {
        return Some(
            "columns = [...] names the values of rows = [[...]] only (a CSV file names its columns in its \
             header row, a range in column = \"...\"); remove it",
        );
    }
    if pool.column.is_some() && pool.range.is_none() {
        return Some(
            "column = \"...\" names a range's numbers only (a CSV file names its columns in its header \
             row, rows in columns = [...]); remove it",
        );
    }
    None
}

/// A row's column names, when it has them.
fn column_names(row: &Row) -> Option<Vec<String>> {
    row.columns().map(<[String]>::to_vec)
}

/// `rows = [[...]]` with `columns = [...]`: the columns named, each once; every row as wide as
/// the columns; every value a string, a number or a boolean (an array or a table has no text
/// a request could carry).
fn inline_rows(
    src: &Source<'_>,
    field: &str,
    spec: &Spanned<DataPoolSpec>,
    rows: &[Spanned<Vec<Spanned<toml::Value>>>],
) -> Result<Vec<Row>, ScenarioFileError> {
    let columns = columns(src, field, spec)?;
    let shared: Arc<[String]> = Arc::from(columns.clone());
    let mut built = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let at = format!("{field}.rows[{i}]");
        if row.get_ref().len() != columns.len() {
            let message = format!(
                "{} value(s), but {} column(s) ({}): give each row one value per column",
                row.get_ref().len(),
                columns.len(),
                columns.join(", ")
            );
            return Err(src.error(Some(row.span()), at, message));
        }
        let mut values = Vec::with_capacity(columns.len());
        for (j, value) in row.get_ref().iter().enumerate() {
            values.push(scalar_text(value.get_ref()).map_err(|kind| {
                let message = format!(
                    "{kind} is not a datapool value: give a string, a number or true/false (a value with \
                     commas or brackets in it is a string: \"[1, 2]\")"
                );
                src.error(Some(value.span()), format!("{at}[{j}]"), message)
            })?);
        }
        built.push(Row::with_columns(values, shared.clone()));
    }
    Ok(built)
}

/// `columns = [...]`, needed beside `rows` (templates and journeys find values by column
/// name), each named once.
fn columns(src: &Source<'_>, field: &str, spec: &Spanned<DataPoolSpec>) -> Result<Vec<String>, ScenarioFileError> {
    let Some(columns) = &spec.get_ref().columns else {
        let message = "rows needs columns = [\"name\", ...] naming each value of a row (templates use \
                       the names: {name})";
        return Err(src.error(Some(spec.span()), format!("{field}.columns"), message));
    };
    let at = |message: String| src.error(Some(columns.span()), format!("{field}.columns"), message);
    if columns.get_ref().is_empty() {
        return Err(at("columns names no column: name each value of a row, columns = [\"id\", ...]".into()));
    }
    for (second, name) in columns.get_ref().iter().enumerate() {
        if name.trim().is_empty() {
            return Err(at(format!("column {} has no name: name every column", second + 1)));
        }
        if let Some(first) = columns.get_ref()[..second].iter().position(|c| c == name) {
            return Err(at(format!(
                "column {name:?} is named twice (columns {} and {}): give each column its own name",
                first + 1,
                second + 1
            )));
        }
    }
    Ok(columns.get_ref().clone())
}

/// A scalar's text as a request carries it; what else it is, when it is not one.
fn scalar_text(value: &toml::Value) -> Result<String, &'static str> {
    match value {
        toml::Value::Array(_) => Err("an array"),
        toml::Value::Table(_) => Err("a table"),
        scalar => Ok(value_text(scalar)),
    }
}

/// `range = { from, to }`: at most `DATAPOOL_ROWS_MAX` whole numbers, `to` not below `from`.
fn range_numbers(range: &RangeSpec) -> Result<std::ops::RangeInclusive<i64>, String> {
    if range.to < range.from {
        return Err(format!("to ({}) is below from ({})", range.to, range.from));
    }
    // In i128: `to - from` of two i64 can overflow i64 (from = i64::MIN, to = i64::MAX).
    let count = (i128::from(range.to) - i128::from(range.from) + 1) as u128;
    if count > DATAPOOL_ROWS_MAX as u128 {
        return Err(format!("{count} rows is more than {DATAPOOL_ROWS_MAX}"));
    }
    Ok(range.from..=range.to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_past_the_datapool_bound_is_refused() {
        let rows_max = DATAPOOL_ROWS_MAX as i64;
        let err = range_numbers(&RangeSpec { from: 1, to: rows_max + 1 }).unwrap_err();
        assert!(err.contains(&format!("{} rows is more than {DATAPOOL_ROWS_MAX}", rows_max + 1)), "{err}");
        let err = range_numbers(&RangeSpec { from: i64::MIN, to: i64::MAX }).unwrap_err();
        assert!(err.contains("is more than"), "{err}");
        assert_eq!(range_numbers(&RangeSpec { from: -2, to: 2 }).unwrap().count(), 5);
    }
}

//! The HTML pages: the run report (`--html`), the comparison and merge pages, and the live
//! dashboard's page. Each is one self-contained document (data, styles, scripts inline; a
//! Content-Security-Policy forbids any network fetch) drawn in the browser by the vendored
//! uPlot charting library (`vendor/uplot`, MIT).

pub mod dashboard;
pub mod data;

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::output::outcome::RunResult;
use crate::output::result_file::{ResultFile, result_file};
use crate::output::threshold::Checked;

const UPLOT_JS: &str = include_str!("vendor/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("vendor/uplot/uPlot.min.css");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Which page a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One run's report.
    Run,
    /// Several runs side by side, the first as the baseline.
    Compare,
    /// A merged result with its segments (injectors).
    Merged,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Run => "run",
            Mode::Compare => "compare",
            Mode::Merged => "merged",
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// JSON safe to embed in a `<script>` element: `<` only occurs inside strings, where `\u003c`
/// means the same.
fn embeddable(data: &Value) -> String {
    data.to_string().replace('<', "\\u003c")
}

/// The whole document around `data`. `live` pages may fetch their own origin (for updates).
pub fn document(title: &str, data: &Value, live: bool) -> String {
    let mut page = document_head(title, live);
    page.push_str(&embeddable(data));
    page.push_str(&document_tail());
    page
}

/// The document up to its data (which [`document_tail`] follows).
fn document_head(title: &str, live: bool) -> String {
    let connect = if live { "'self'" } else { "'none'" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; \
         style-src 'unsafe-inline'; img-src data:; connect-src {connect}\">\
         <title>{}</title>\
         <script>window.miteStatus={{errors:[]}};\
         addEventListener('error',function(e){{window.miteStatus.errors.push('script error: '+e.message)}});\
         document.addEventListener('securitypolicyviolation',function(e){{window.miteStatus.errors.push('blocked fetch of '+e.blockedURI)}});</script>\
         <style>{UPLOT_CSS}\n{APP_CSS}</style></head>\
         <body><div id=\"errors\" hidden></div><div id=\"app\"><p>Drawing the report (it needs JavaScript).</p></div>\
         <pre id=\"mite-status\" hidden></pre>\
         <script id=\"mite-data\" type=\"application/json\">",
        escape(title)
    )
}

/// The document after its data.
fn document_tail() -> String {
    format!("</script><script>{UPLOT_JS}</script><script>{APP_JS}</script></body></html>\n")
}

fn page_data(mode: Mode, runs: Vec<Value>) -> Value {
    json!({
        "mode": mode.name(),
        "generated_by": format!("mite-engine {}", env!("CARGO_PKG_VERSION")),
        "spectrum_nines": data::spectrum_grid(),
        // How each run stopped, in the words the terminal says (a run's `stopped_by` is a name).
        "stop_words": crate::output::outcome::StopReason::ALL
            .iter()
            .map(|reason| (reason.name().to_string(), json!(reason.words())))
            .collect::<serde_json::Map<_, _>>(),
        "runs": runs,
        "thresholds": [],
        "live": Value::Null,
    })
}

/// One run's report data (also what the live dashboard serves each interval), with its
/// thresholds as checked.
pub fn run_page_data(result: &RunResult, thresholds: &[Checked], result_json: Value) -> Value {
    let mut page = page_data(Mode::Run, vec![data::run_data(&result.scenario, result_json, &result.merged)]);
    page["thresholds"] = data::thresholds(thresholds);
    page
}

/// The report of one run, with its thresholds as checked (outcomes, and those that could not
/// be checked), then those a segment left to `merge` (`left_to_merge`, as written).
pub fn render_run(result: &RunResult, thresholds: &[Checked], left_to_merge: &[String]) -> String {
    let mut page = run_page_data(result, thresholds, result_file(result, false).to_value());
    add_left_to_merge(&mut page, left_to_merge);
    document(&format!("mite-engine: {}", result.scenario), &page, false)
}

/// The report of one run (no thresholds).
pub fn render(result: &RunResult) -> String {
    render_run(result, &[], &[])
}

/// Adds the thresholds a segment left to `merge` after those the page shows judged.
fn add_left_to_merge(page: &mut Value, texts: &[String]) {
    if let Some(shown) = page["thresholds"].as_array_mut() {
        shown.extend(data::left_to_merge(texts));
    }
}

/// A result file's page data; the histograms come from its `raw` fields. A file without them
/// (hand-made, or from an older engine) is drawn from its summary figures alone, and says so.
fn file_data(label: &str, file: &ResultFile) -> Value {
    match data::file_data(label, file) {
        Ok(page) => page,
        Err(why) => {
            let mut page = data::run_data(label, file.to_value(), &crate::stats::Merged::default());
            page["notes"] = json!([format!("no percentile spectrum or histogram: {why}")]);
            page
        }
    }
}

/// The comparison page: `files` are `(label, result file)`, the first the baseline;
/// `regressions` are those beyond `max_regression_pct`. Built in memory ([`write_compare`]
/// writes it as it goes).
pub fn render_compare(files: Vec<(String, ResultFile)>, max_regression_pct: f64, regressions: &[String]) -> String {
    let mut page = Vec::new();
    write_compare(&mut page, files, max_regression_pct, regressions).expect("writing to memory cannot fail");
    String::from_utf8(page).expect("a page is UTF-8")
}

/// Writes the comparison page to `out` as [`render_compare`] builds it, the files used up as
/// it is written: each transaction is drawn, written as text and dropped in turn, so neither a
/// tree of every file's JSON values (1.5 GB for two files of 10,000 names) nor the page's
/// whole text is ever held.
pub fn write_compare(
    out: &mut dyn Write,
    files: Vec<(String, ResultFile)>,
    max_regression_pct: f64,
    regressions: &[String],
) -> io::Result<()> {
    let mut page = page_data(Mode::Compare, Vec::new());
    page["compare"] = json!({ "max_regression_pct": max_regression_pct, "regressions": regressions });
    out.write_all(document_head("mite-engine: comparison", false).as_bytes())?;
    write_small_fields(out, page)?;
    out.write_all(b",\"runs\":[")?;
    write_files(out, files)?;
    out.write_all(b"]}")?;
    out.write_all(document_tail().as_bytes())
}

/// The page of a merged result (`file`, as written: with its `parts`, whose cores the page
/// tells apart), with each segment's (injector's) own figures and the thresholds the merge
/// judged on the whole (`thresholds`, as checked). Built in memory ([`write_merged`] writes it
/// as it goes).
pub fn render_merged(
    merged: &RunResult,
    file: ResultFile,
    segments: Vec<(String, ResultFile)>,
    thresholds: &[Checked],
) -> String {
    let mut page = Vec::new();
    write_merged(&mut page, merged, file, segments, thresholds).expect("writing to memory cannot fail");
    String::from_utf8(page).expect("a page is UTF-8")
}

/// Writes the merged page to `out` as [`render_merged`] builds it. The files are used up as
/// the page is written: each transaction is drawn, written as text and dropped in turn, so the
/// page of two files of 10,000 names is written beside what is left of them, never held whole
/// (74 MB) nor as a tree of every file's JSON values.
pub fn write_merged(
    out: &mut dyn Write,
    merged: &RunResult,
    file: ResultFile,
    segments: Vec<(String, ResultFile)>,
    thresholds: &[Checked],
) -> io::Result<()> {
    let label = format!("merged ({})", crate::output::units::counted(segments.len() as u64, "result"));
    let mut page = page_data(Mode::Merged, Vec::new());
    page["thresholds"] = data::thresholds(thresholds);
    out.write_all(document_head(&format!("mite-engine: {} (merged)", merged.scenario), false).as_bytes())?;
    write_small_fields(out, page)?;
    out.write_all(b",\"runs\":[")?;
    // Drawn from the merged file's histograms one name at a time (a merge holds no name's).
    write_files(out, vec![(label, file)])?;
    out.write_all(b"],\"segments\":[")?;
    write_files(out, segments)?;
    out.write_all(b"]}")?;
    out.write_all(document_tail().as_bytes())
}

/// The page data's fields other than its `runs`, as the start of its object's text (the
/// object left open for the fields that follow).
fn write_small_fields(out: &mut dyn Write, mut page: Value) -> io::Result<()> {
    page.as_object_mut().expect("page data is an object").remove("runs");
    let small = embeddable(&page);
    out.write_all(small.strip_suffix('}').expect("an object's text ends with }").as_bytes())
}

/// The files' page data, one after another (a comma between), each used up as it is written.
fn write_files(out: &mut dyn Write, files: Vec<(String, ResultFile)>) -> io::Result<()> {
    for (i, (label, file)) in files.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_file_data(out, &label, file)?;
    }
    Ok(())
}

/// A result file's page data as text: drawn as it is used up, or, for a file without `raw`
/// histograms, from its figures alone, saying so ([`file_data`]).
fn write_file_data(out: &mut dyn Write, label: &str, file: ResultFile) -> io::Result<()> {
    match data::without_raw(label, &file) {
        None => data::write_file_data(out, label, file),
        Some(_) => out.write_all(embeddable(&file_data(label, &file)).as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn embedded_data_cannot_close_its_script_element() {
        let data = json!({ "scenario": "</script><script>alert(1)</script>" });
        let page = document("t", &data, false);
        assert_eq!(page.matches("</script>").count(), 4, "only the page's own four script elements close");
        assert!(page.contains("\\u003c/script>"));
    }

    #[test]
    fn a_result_without_histograms_is_drawn_from_its_figures_and_says_so() {
        let text = r#"{ "mite_engine_version": "0", "duration_s": 1.0, "totals": {},
                        "transactions": [{ "name": "t", "count": 1, "requests": {} }] }"#;
        let bare = ResultFile::read(text, "bare.json").unwrap();
        let page = render_compare(vec![("a".into(), bare.clone()), ("b".into(), bare)], 5.0, &[]);
        assert!(page.contains("no percentile spectrum or histogram"), "{page}");
    }

    /// The merged page's data, written as text while its files are used up, is the data the
    /// page drew from trees of JSON values before (one file of 10,000 names made such a tree of
    /// hundreds of MB), escaped the same, a file without histograms drawn from its figures.
    #[test]
    fn a_merged_page_written_as_text_holds_the_data_of_its_files() {
        use crate::stats::{Merged, TxnStats, record_latency};
        let run = |names: &[&str]| {
            let mut merged = Merged::default();
            for (i, name) in names.iter().enumerate() {
                let mut stats = TxnStats { req_ok: 2, txn_ok: 1, ..TxnStats::default() };
                for us in [100, 3_000 * (i as u64 + 1)] {
                    record_latency(&mut stats.req_us, us);
                }
                record_latency(&mut stats.txn_us, 5_000);
                merged.txns.insert(Arc::from(*name), stats);
            }
            RunResult::of("s</script>", merged)
        };
        let whole = run(&["get", "</script><b>", "put"]);
        let file = result_file(&whole, true);
        let a = result_file(&run(&["get", "</script><b>"]), true);
        let text = r#"{ "mite_engine_version": "0", "duration_s": 1.0, "totals": {},
                        "transactions": [{ "name": "t", "count": 1, "requests": {} }] }"#;
        let bare = ResultFile::read(text, "bare.json").unwrap();
        let thresholds: Vec<Checked> = Vec::new();
        let segments = vec![("a.json".to_string(), a.clone()), ("bare.json".to_string(), bare.clone())];
        let page = render_merged(&whole, file.clone(), segments, &thresholds);
        assert_eq!(page.matches("</script>").count(), 4, "only the page's own four script elements close");
        let data = page.split("<script id=\"mite-data\" type=\"application/json\">").nth(1).unwrap();
        let data: Value = serde_json::from_str(data.split("</script>").next().unwrap()).unwrap();
        let mut expected = page_data(Mode::Merged, vec![file_data("merged (2 results)", &file)]);
        expected["segments"] = json!([file_data("a.json", &a), file_data("bare.json", &bare)]);
        expected["thresholds"] = data::thresholds(&thresholds);
        assert_eq!(data, expected);
        assert!(data["runs"][0]["transactions"][0]["distribution"]["spectrum"].is_array(), "{data}");
        assert!(data["segments"][1]["notes"][0].as_str().unwrap().starts_with("no percentile spectrum"));
        let head = page.split("<script id=").next().unwrap();
        assert_eq!(
            head,
            document("mite-engine: s</script> (merged)", &json!({}), false).split("<script id=").next().unwrap()
        );
    }

    /// The comparison page's data, written as text while its files are used up (a tree of its
    /// JSON values was 1.5 GB for two files of 10,000 names), parses back equal to the data
    /// the page drew from that tree, escaped the same, a file without histograms drawn from its
    /// figures; and the page is the one in memory, byte for byte, however it is written.
    #[test]
    fn a_comparison_page_written_as_text_holds_the_data_of_its_files() {
        use crate::stats::{Merged, TxnStats, record_latency};
        let run = |names: &[&str], us: u64| {
            let mut merged = Merged::default();
            for (i, name) in names.iter().enumerate() {
                let mut stats = TxnStats { req_ok: 2, txn_ok: 1, ..TxnStats::default() };
                for value in [us, 3_000 * (i as u64 + 1)] {
                    record_latency(&mut stats.req_us, value);
                }
                record_latency(&mut stats.txn_us, 5_000 + us);
                merged.txns.insert(Arc::from(*name), stats);
            }
            result_file(&RunResult::of("s", merged), true)
        };
        let (base, new) = (run(&["get", "</script><b>", "put"], 100), run(&["get", "</script><b>"], 900));
        let text = r#"{ "mite_engine_version": "0", "duration_s": 1.0, "totals": {},
                        "transactions": [{ "name": "t", "count": 1, "requests": {} }] }"#;
        let bare = ResultFile::read(text, "bare.json").unwrap();
        let files =
            vec![("base.json".to_string(), base), ("new.json".to_string(), new), ("bare.json".to_string(), bare)];
        let regressions = vec!["get: p50 0.1ms -> 0.9ms (+800.0%)".to_string()];
        let page = render_compare(files.clone(), 5.0, &regressions);
        assert_eq!(page.matches("</script>").count(), 4, "only the page's own four script elements close");
        let data = page.split("<script id=\"mite-data\" type=\"application/json\">").nth(1).unwrap();
        let data: Value = serde_json::from_str(data.split("</script>").next().unwrap()).unwrap();
        let mut expected = page_data(Mode::Compare, files.iter().map(|(label, file)| file_data(label, file)).collect());
        expected["compare"] = json!({ "max_regression_pct": 5.0, "regressions": regressions });
        assert_eq!(data, expected);
        assert!(data["runs"][1]["transactions"][1]["distribution"]["spectrum"].is_array(), "{data}");
        assert!(data["runs"][2]["notes"][0].as_str().unwrap().starts_with("no percentile spectrum"));
        let head = page.split("<script id=").next().unwrap();
        assert_eq!(head, document("mite-engine: comparison", &json!({}), false).split("<script id=").next().unwrap());
        // Written through a writer that takes a few bytes at a time: the same page.
        struct Trickle(Vec<u8>);
        impl Write for Trickle {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                let n = bytes.len().min(7);
                self.0.extend_from_slice(&bytes[..n]);
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut trickle = Trickle(Vec::new());
        write_compare(&mut trickle, files, 5.0, &regressions).unwrap();
        assert_eq!(String::from_utf8(trickle.0).unwrap(), page);
    }

    #[test]
    fn static_pages_may_not_fetch_anything() {
        let page = document("t", &json!({}), false);
        assert!(page.contains("default-src 'none'") && page.contains("connect-src 'none'"));
        assert!(!page.contains("src=\"http"), "no external scripts or images");
        assert!(document("t", &json!({}), true).contains("connect-src 'self'"));
    }
}

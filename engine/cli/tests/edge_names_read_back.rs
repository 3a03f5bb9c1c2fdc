//! Names read back as they are: a name holding a backslash and `n` (two characters) and one
//! holding a line break print apart in `compare` and in `journey test`'s trace; JSON that is no result file (`[]`, `{}`) is
//! said in the user's words by `merge` and `compare`, naming the file.

mod support;
use support::{Scratch, engine, engine_within, text};

fn txn(name: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "count": 10, "errors": 0, "latency_us": {"p50": 1000, "p99": 2000, "p999": 3000},
        "requests": {"count": 10, "errors": 0}})
}

/// `new\nline` (backslash, n) and `new<LF>line` were both printed `new\nline`: the backslash
/// is now written `\\`, so each row names its own transaction.
#[test]
fn a_backslash_n_and_a_line_break_print_apart_in_compare() {
    let scratch = Scratch::new();
    let doc = serde_json::json!({"mite_engine_version": "0", "duration_s": 10.0, "totals": {},
        "transactions": [txn("new\\nline"), txn("new\nline")]});
    let a = scratch.write("a.json", doc.to_string());
    let b = scratch.write("b.json", doc.to_string());
    let out = engine(&["compare", &a, &b]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let literal = said.lines().filter(|l| l.starts_with(r"new\\nline ")).count();
    let newline = said.lines().filter(|l| l.starts_with(r"new\nline ")).count();
    assert_eq!((literal, newline), (1, 1), "one row each, told apart:\n{said}");
}

/// The note that two results ran different scenarios quotes each name with its escapes
/// written once (`{:?}` of the printable name wrote `"new\\\\nline"`).
#[test]
fn different_scenarios_are_named_with_their_escapes_written_once() {
    let scratch = Scratch::new();
    let doc = |scenario: &str| {
        serde_json::json!({"mite_engine_version": "0", "scenario": scenario, "duration_s": 10.0, "totals": {},
            "transactions": [txn("a")]})
        .to_string()
    };
    let a = scratch.write("a.json", doc("new\\nline"));
    let b = scratch.write("b.json", doc("new\nline"));
    let out = engine(&["compare", &a, &b]);
    let said = text(&out);
    assert!(said.contains(r#"ran different scenarios: BASE "new\\nline", NEW "new\nline""#), "{said}");
}

/// `[]` and `{}` said serde's `invalid length 0, expected a JSON object` and
/// ``missing field `mite_engine_version` ``.
#[test]
fn json_that_is_no_result_is_said_as_what_it_lacks() {
    let scratch = Scratch::new();
    let good = scratch.write(
        "good.json",
        serde_json::json!({"mite_engine_version": "0", "duration_s": 10.0, "totals": {}, "transactions": [txn("a")]})
            .to_string(),
    );
    let list = scratch.write("list.json", "[]");
    let empty = scratch.write("empty.json", "{}");
    let merged = scratch.file("m.json").display().to_string();
    for (file, words) in [
        (
            &list,
            "it holds a JSON list, where a result file of --json is a JSON object beginning with mite_engine_version",
        ),
        (&empty, "it has no mite_engine_version (it is not a result file of --json"),
    ] {
        for args in [
            vec!["compare", file.as_str(), good.as_str()],
            vec!["merge", good.as_str(), file.as_str(), "-o", merged.as_str()],
        ] {
            let out = engine(&args);
            let said = text(&out);
            assert_ne!(out.status.code(), Some(0), "{args:?}: {said}");
            assert!(said.contains(words), "{args:?}: {said}");
            assert!(!said.contains("invalid length") && !said.contains("missing field"), "{args:?}: {said}");
            let name = std::path::Path::new(file).file_name().unwrap().to_str().unwrap();
            assert!(said.contains(name), "the file is named: {args:?}: {said}");
        }
    }
}

/// `journey test`'s trace wrote a transaction's name (and a capture's) as it is, so the two
/// names printed alike there too (the trace's line is made printable whole, which keeps a
/// backslash): each name is now made printable on its own first.
#[test]
fn a_backslash_n_and_a_line_break_print_apart_in_the_journey_test_trace() {
    let target = mite_tools::Target::start(Default::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.write(
        "names.toml",
        format!(
            "[config]\nbase = \"{}\"\n[journeys.j]\nsteps = [\n  {{ transaction = 'new\\nline', url = \"{{base}}/\" }},\n  \
             {{ transaction = \"new\\nline\", url = \"{{base}}/json\", capture = {{ 'a\\tb' = {{ json = \"token\" }} }} }},\n]\n\
             [[scenario]]\njourney = \"j\"\nvolume = {{ constant = 1 }}\n",
            target.url("")
        ),
    );
    let out = engine_within(&["journey", "test", "j", "--scenario", &file], std::time::Duration::from_secs(60));
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let opened = |name: &str| said.lines().filter(|l| l.trim_start() == format!("> transaction {name}")).count();
    assert_eq!((opened(r"new\\nline"), opened(r"new\nline")), (1, 1), "one line each, told apart:\n{said}");
    assert!(said.contains(r"capture a\\tb = "), "{said}");
}

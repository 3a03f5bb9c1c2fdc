//! Names read back as they are: a name holding a backslash and `n` (two characters) and one
//! holding a line break print apart in `compare`.

mod support;
use support::{Scratch, engine, text};

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

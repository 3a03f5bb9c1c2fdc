//! A third pass from outside, with the README alone: what the demo said before refusing its
//! outputs, a directory given as a scenario, and a header value that is not ASCII said before
//! the run of `scenario check` and of a run alike.

mod support;
use support::{Scratch, engine, engine_within, says, text};

use std::time::Duration;

/// `demo --json nodir/r.json` said `demo: embedded target at ..., 64 journeys in flight`, and a
/// run with `--dashboard` said `live dashboard on http://...`, then refused the path: refused
/// before those lines now, as before any load.
#[test]
fn an_output_is_refused_before_anything_says_it_started() {
    let scratch = Scratch::new();
    let json = scratch.file("no/such/dir/r.json").display().to_string();
    let scenario = support::scenario("get.toml");
    let live = ["--dashboard", "127.0.0.1:0", "--prometheus", "127.0.0.1:0", "--json", &json];
    let demo = ["demo", "--duration", "100ms", "-q"];
    let run = [
        "--no-pin",
        "--scenario",
        &scenario,
        "--duration",
        "100ms",
        "-q",
        "--config",
        "target_url=http://127.0.0.1:1/",
    ];
    for args in [[&demo[..], &live[4..]].concat(), [&demo[..], &live].concat(), [&run[..], &live].concat()] {
        let out = engine_within(&args, Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        says(&out, &format!("error: --json {json}: directory"));
        for started in ["demo: embedded target", "live dashboard on", "Prometheus metrics on"] {
            assert!(!text(&out).contains(started), "{args:?}: {}", text(&out));
        }
    }
}

/// `scenario test /tmp` (a directory, or a path mistyped without `.toml`) said `unknown
/// scenario "/tmp"; known: http_example:scenario, ...`: a path is a file's, and said to be a
/// directory or missing.
#[test]
fn a_path_given_as_a_scenario_is_read_as_a_file() {
    let scratch = Scratch::new();
    let dir = scratch.path().display().to_string();
    let missing = scratch.file("scenarios/get").display().to_string();
    for (scenario, said) in [
        (&dir, "is a directory: a scenario file must be a regular file (a .toml file)"),
        (&missing, "cannot read: No such file or directory"),
    ] {
        for args in [&["scenario", "test", scenario][..], &["--scenario", scenario, "--duration", "100ms"]] {
            let out = engine_within(args, Duration::from_secs(60));
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
            says(&out, said);
            assert!(!text(&out).contains("unknown scenario"), "{args:?}: {}", text(&out));
        }
    }
}

/// A header value that is not ASCII (here from a CSV datapool's column) was sent as its UTF-8
/// bytes without a word: `scenario check` and the run say so before anything is sent, naming
/// the file's line, the header, the column and the row.
#[test]
fn a_header_value_from_a_datapool_that_is_not_ascii_is_said_before_the_run() {
    let scratch = Scratch::new();
    scratch.write("u.csv", "name,city\n\"Smith, John\",Zürich\nJosé,\"São Paulo\"\n");
    let file = scratch.write(
        "s.toml",
        "[datapools.users]\ncsv = \"u.csv\"\n[journeys.j]\nsteps = [{ url = \"http://127.0.0.1:1/?c={city}\",\n  \
         headers = { \"X-Name\" = \"{name}\" } }]\n[[scenario]]\njourney = \"j\"\ndatapool = \"users\"\n\
         volume = { constant = 1 }\n",
    );
    let words = format!(
        "{file}:5: journeys.j.steps[0].headers.X-Name: column name of datapool users (first at row 2: \"José\"; \
         each such row) holds text that is not ASCII (é): it is sent as its UTF-8 bytes"
    );
    let out = engine(&["scenario", "check", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    says(&out, &words);
    let out = engine_within(&["--no-pin", "--scenario", &file, "--duration", "100ms", "-q"], Duration::from_secs(60));
    says(&out, &format!("WARNING: {words}"));
    // The URL's city is encoded as any URL value is: not warned about.
    assert!(!text(&out).contains("column city"), "{}", text(&out));
}

/// A header value that is not ASCII only at run time (here a value captured from a response)
/// was sent as its UTF-8 bytes without a word: `journey test`'s trace says so after the
/// request's line, naming the header and the characters.
#[test]
fn a_captured_header_value_that_is_not_ascii_is_said_in_the_journey_test() {
    let target = mite_tools::Target::start(Default::default()).unwrap();
    let scratch = Scratch::new();
    let file = scratch.write(
        "s.toml",
        format!(
            "[config]\nbase = \"{}\"\n[journeys.j]\nsteps = [\n  {{ url = \"{{base}}/json/echo\", method = \"POST\", \
             json = {{ name = \"José\" }}, capture = {{ name = {{ json = \"name\" }} }} }},\n  \
             {{ url = \"{{base}}/\", headers = {{ \"X-Name\" = \"{{name}}\" }} }},\n]\n[[scenario]]\njourney = \
             \"j\"\nvolume = {{ constant = 1 }}\n",
            target.url("")
        ),
    );
    let out = engine_within(&["journey", "test", "j", "--scenario", &file], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    says(&out, "capture name = \"José\"");
    says(&out, "header X-Name holds text that is not ASCII (é): it is sent as its UTF-8 bytes");
    assert_eq!(text(&out).matches("not ASCII").count(), 1, "the echo's header is ASCII: {}", text(&out));
}

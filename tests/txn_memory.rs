//! Memory per transaction name. A scenario converted from a HAR recording has one transaction
//! per request, hundreds of names; an outside try measured 0.7 MB per name per core (peak RSS of
//! one core: 10 MB at 1 name, 727 MB at 1,000; `merge` of two such files 1.56 GB), from nine
//! HDR histograms of at least 16 KiB per name in every copy the core and the stats thread hold.
//! Here a global allocator keeps the peak of the bytes in use, and a run of 1,000 names is set
//! against a run of 1 (the same journeys, requests and connections otherwise), so that what is
//! left is the cost of the names: in the run, and in reading two result files back and merging
//! them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mite_core::RunResult;
use mite_core::output::merge_by_name::merge_files;
use mite_core::output::result_file::{ResultFile, result_file};
use mite_core::stats::ErrorKind;
use mite_tests::{ScenarioDir, TargetProcess, options, run_file};

/// Bytes in use, and their peak since [`start_peak`].
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts the bytes every allocation holds (and defers to the system's allocator).
struct PeakAllocator;

#[global_allocator]
static GLOBAL: PeakAllocator = PeakAllocator;

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: defers to the system allocator; only counts.
#[allow(unsafe_code)] // a global allocator is an unsafe trait: the counting is the test.
unsafe impl std::alloc::GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Starts measuring: returns the bytes in use now, the peak starts from them.
fn start_peak() -> usize {
    let now = LIVE.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

/// The peak since `start_peak` returned `from`, above it.
fn peak_above(from: usize) -> usize {
    PEAK.load(Ordering::Relaxed).saturating_sub(from)
}

/// One journey of `names` GETs, each its own transaction, four journeys at a time.
fn scenario(names: usize, url: &str) -> String {
    let steps: Vec<String> = (0..names).map(|i| format!("{{ transaction = \"t{i:04}\", url = \"{url}\" }}")).collect();
    format!(
        "name = \"names\"\n[journeys.j]\nsteps = [ {} ]\n[[scenario]]\njourney = \"j\"\nvolume = {{ constant = 4 }}\n",
        steps.join(", ")
    )
}

/// Peak bytes of a run of `names` transactions (its result kept), and the result.
fn run_peak(target: &TargetProcess, names: usize) -> (usize, RunResult) {
    let dir = ScenarioDir::new();
    let path = dir.write("names.toml", &scenario(names, &target.url("/")));
    let from = start_peak();
    let result = run_file(&path, &[], options(1, Duration::from_secs(3)));
    let peak = peak_above(from);
    let total = result.merged.total();
    // Each kind counted, and its first words: an error counted is never without its kind.
    let kinds: Vec<_> =
        ErrorKind::ALL.iter().map(|&k| (k.name(), total.errors_of(k))).filter(|(_, n)| *n > 0).collect();
    assert_eq!(total.req_errors(), 0, "errors by kind {kinds:?}, samples {:?}", result.merged.error_samples);
    let unrecorded = result.merged.txns.values().filter(|t| t.req_ok == 0).count();
    assert!(result.merged.txns.len() == names && unrecorded == 0, "every name must be recorded: too few requests");
    (peak, result)
}

/// Peak bytes of reading two copies of `result`'s file back and merging them, as `merge` does
/// (name by name: `merge_by_name`).
fn merge_peak(result: &RunResult) -> usize {
    let text = result_file(result, true).to_json();
    let from = start_peak();
    let mut inputs: Vec<(String, ResultFile)> = (0..2)
        .map(|i| {
            let name = format!("copy {i}");
            // As `merge` reads: its histograms decoded once, as it merges.
            let mut file = ResultFile::read_unchecked(&text, &name).expect("a result file reads back");
            // Two runs' results: one run's given twice is refused.
            file.run_id = Some(name.clone());
            (name, file)
        })
        .collect();
    let merged = merge_files(&mut inputs, &[], false).expect("merges");
    assert_eq!(merged.total.requests(), 2 * result.merged.total().requests());
    peak_above(from)
}

#[test]
fn a_transaction_name_costs_kilobytes_not_megabytes() {
    let target = TargetProcess::start(env!("CARGO_BIN_EXE_mite-test-target"), None);
    let (one_run, one) = run_peak(&target, 1);
    let (many_run, many) = run_peak(&target, 1_000);
    let (one_merge, many_merge) = (merge_peak(&one), merge_peak(&many));
    let per_name = |one: usize, many: usize| many.saturating_sub(one) / 999;
    let (run_per_name, merge_per_name) = (per_name(one_run, many_run), per_name(one_merge, many_merge));
    println!(
        "peak heap: run {one_run} B at 1 name, {many_run} B at 1,000 = {run_per_name} B per name; \
         merge of two files {one_merge} B, {many_merge} B = {merge_per_name} B per name"
    );
    // Per name the core holds the transaction, request and first-byte histograms, and the stats
    // thread the same in the interval being added, the one before and the run's total: twelve
    // histograms of 16 KiB and more (measured 170 KB, in a debug build on a busy machine, where
    // latencies run to milliseconds). Before: nine histograms in each of four copies and more,
    // 531 KB.
    assert!(run_per_name < 320_000, "a run holds {run_per_name} bytes per transaction name");
    // Name by name: the two files read (their histograms as encoded text) and the merged file,
    // with one name's histograms decoded at a time (measured 15.5 KB). Before: every name's
    // merged histograms and one whole run read back, six histograms a name (161 KB); before
    // that, the files' nine decoded histograms, each run's and the merge's (514 KB).
    assert!(merge_per_name < 48_000, "a merge holds {merge_per_name} bytes per transaction name");
    drop((one, many));
    target.stop();
}

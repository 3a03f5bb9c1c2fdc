//! A result file of format 1 read as format 2: where version 1 wrote 0 for a figure with nothing
//! behind it (a mean over no connect, an interval with nothing timed), version 2 writes null.
//! Each 0 is told apart by the count it was taken over, as the file has it; latencies of no
//! value are made none by [`Latency`]'s own reading, whatever the version.

use super::*;

impl ResultFile {
    /// Makes a version-1 file's zeros of no data `None`, as a version-2 file says them (its
    /// `format_version` stays 1: what it was written in).
    pub(super) fn upgrade_from_first_version(&mut self) {
        for txn in &mut self.transactions {
            upgrade_requests(&mut txn.requests);
        }
        if let Some(raw) = &self.injector.raw
            && raw.wall_us == 0
        {
            (self.injector.busy_percent_mean, self.injector.busy_percent_max) = (None, None);
        }
        for interval in &mut self.intervals {
            // Every latency recorded is at least 1 µs: a 0 was an interval with none timed.
            let timed = |us: Option<u64>| us.filter(|us| *us > 0);
            interval.p50_us = timed(interval.p50_us);
            interval.p99_us = timed(interval.p99_us);
            interval.injector_lag_p99_us = timed(interval.injector_lag_p99_us);
        }
    }
}

/// A transaction's means, none where version 1 wrote 0 over nothing.
fn upgrade_requests(requests: &mut Requests) {
    let over = |mean: &mut Option<f64>, count: u64| {
        if count == 0 {
            *mean = None;
        }
    };
    let connects = requests.connects.attempted.saturating_sub(requests.connects.failed);
    over(&mut requests.connect_us_mean, connects);
    let handshakes = requests.tls_handshakes.attempted.saturating_sub(requests.tls_handshakes.failed);
    over(&mut requests.tls_us_mean, handshakes);
    // The writer's count: every response that came back (ok, or an unexpected status).
    let status = requests.errors_by_kind.get(ErrorKind::Status.name()).copied().unwrap_or(0);
    over(&mut requests.first_byte_us_mean, requests.ok.saturating_add(status));
}

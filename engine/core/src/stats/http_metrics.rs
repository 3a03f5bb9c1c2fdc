//! Mite's `http_metrics`, per transaction: the phases of every request as HDR histograms (DNS,
//! connect, TLS, time to first byte; the total is `TxnStats::req_us`), and responses counted by
//! method and status code (Prometheus' `method` and `response_code` labels). Merged losslessly
//! like the other histograms, and carried in result files for `merge`. `Timings`, what one
//! exchange measured, is defined here (the HTTP client fills it in).

use hdrhistogram::Histogram;

use crate::stats::histogram::{LatencyHistogram, record_latency};

/// Where the time of one exchange went, in microseconds, and the connection work it took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Name resolution time, when this request resolved the host (once per host per core).
    pub dns_us: Option<u64>,
    /// TCP connect time (summed over connects that succeeded), when a new connection was made.
    pub connect_us: Option<u64>,
    /// TLS handshake time (summed over handshakes that succeeded), when one was done.
    pub tls_us: Option<u64>,
    /// TCP connects tried, whether they succeeded or not.
    pub connects: u32,
    /// TCP connects that failed (refused, timed out, unreachable).
    pub connects_failed: u32,
    /// TLS handshakes tried, whether they succeeded or not.
    pub tls_handshakes: u32,
    /// TLS handshakes that failed.
    pub tls_failed: u32,
    /// From the start of the request (after any connect) to the first response byte.
    pub first_byte_us: u64,
    /// From the start (including connect) to the last byte of the response.
    pub total_us: u64,
    /// Keep-alive connections found closed and replaced during this request.
    pub reconnects: u32,
    /// Bytes of the request written (head and body) on the last attempt, also when it then
    /// failed (a timeout, a reset): they were sent.
    pub request_bytes: u64,
    /// The TLS handshake resumed an earlier session.
    pub tls_resumed: bool,
}

/// Distinct (method, status) pairs kept per transaction; more are counted under the last.
pub const RESPONSE_KINDS_MAX: usize = 256;

/// Methods by index; anything else is `OTHER`.
const METHODS: [&str; 10] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "OTHER"];

/// The phases of requests, and responses by method and code (each histogram made by its first
/// value: most requests neither resolve a name nor open a connection).
#[derive(Clone, Debug, Default)]
pub struct HttpMetrics {
    /// Name resolution (once per host per core), µs.
    pub dns_us: LatencyHistogram,
    /// TCP connect, when the request opened a connection, µs.
    pub connect_us: LatencyHistogram,
    /// TLS handshake, when the request did one, µs.
    pub tls_us: LatencyHistogram,
    /// From writing the request to its first response byte, µs.
    pub first_byte_us: LatencyHistogram,
    /// (method index, status, responses).
    responses: Vec<(u8, u16, u64)>,
}

fn method_index(method: &str) -> u8 {
    METHODS.iter().position(|m| *m == method).unwrap_or(METHODS.len() - 1) as u8
}

/// `METHODS` index of a method: the standard methods compared as `http::Method`s (their tags),
/// not as texts, `GET` first. (Every response counted runs this.)
#[inline]
fn method_of(method: &http::Method) -> u8 {
    use http::Method;
    static STANDARD: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    STANDARD.iter().position(|m| m == method).unwrap_or(STANDARD.len()) as u8
}

impl HttpMetrics {
    /// Records one response's phases and its (method, status).
    pub fn record(&mut self, method: &http::Method, status: u16, timings: &Timings) {
        if let Some(us) = timings.dns_us {
            record_latency(&mut self.dns_us, us);
        }
        if let Some(us) = timings.connect_us {
            record_latency(&mut self.connect_us, us);
        }
        if let Some(us) = timings.tls_us {
            record_latency(&mut self.tls_us, us);
        }
        record_latency(&mut self.first_byte_us, timings.first_byte_us);
        self.count_response(method, status);
    }

    /// Counts one response by (method, status), its phases recorded elsewhere (a core records
    /// them with `slot_counts::Latencies::record_phases`).
    #[inline]
    pub fn count_response(&mut self, method: &http::Method, status: u16) {
        self.count(method_of(method), status, 1);
    }

    #[inline]
    fn count(&mut self, method: u8, status: u16, n: u64) {
        if let Some(entry) = self.responses.iter_mut().find(|(m, s, _)| *m == method && *s == status) {
            entry.2 += n;
        } else if self.responses.len() < RESPONSE_KINDS_MAX {
            self.responses.push((method, status, n));
        } else if let Some(last) = self.responses.last_mut() {
            last.2 += n;
        }
    }

    /// Responses by (method, status code), sorted.
    pub fn responses(&self) -> Vec<(&'static str, u16, u64)> {
        let mut out: Vec<_> = self.responses.iter().map(|&(m, s, n)| (METHODS[usize::from(m)], s, n)).collect();
        out.sort();
        out
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &HttpMetrics) {
        self.dns_us.add(&other.dns_us);
        self.connect_us.add(&other.connect_us);
        self.tls_us.add(&other.tls_us);
        self.first_byte_us.add(&other.first_byte_us);
        for &(m, s, n) in &other.responses {
            self.count(m, s, n);
        }
    }

    /// The phase histograms by name, in request order.
    pub fn phases(&self) -> [(&'static str, &Histogram<u64>); 4] {
        [
            ("dns", &*self.dns_us),
            ("connect", &*self.connect_us),
            ("tls", &*self.tls_us),
            ("first_byte", &*self.first_byte_us),
        ]
    }

    /// Adds `n` responses of `method` (by name; `OTHER` for the unusual) and `status`: how a
    /// result file's counts come back.
    pub fn add_responses(&mut self, method: &str, status: u16, n: u64) {
        self.count(method_index(method), status, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_phases_and_responses_and_merges_losslessly() {
        let mut a = HttpMetrics::default();
        let fresh = Timings {
            dns_us: Some(40),
            connect_us: Some(100),
            tls_us: Some(900),
            first_byte_us: 5_000,
            ..Timings::default()
        };
        a.record(&http::Method::POST, 302, &fresh);
        a.record(&http::Method::GET, 200, &Timings { first_byte_us: 7_000, ..Timings::default() });
        let mut b = HttpMetrics::default();
        b.record(&http::Method::GET, 200, &Timings { first_byte_us: 9_000, ..Timings::default() });
        b.record(&http::Method::from_bytes(b"BREW").unwrap(), 418, &Timings::default());
        a.merge(&b);
        assert_eq!(a.responses(), vec![("GET", 200, 2), ("OTHER", 418, 1), ("POST", 302, 1)]);
        assert_eq!((a.connect_us.len(), a.tls_us.len(), a.first_byte_us.len()), (1, 1, 4));
        assert_eq!(a.first_byte_us.max(), a.first_byte_us.highest_equivalent(9_000));
        let mut back = HttpMetrics::default();
        for (method, status, n) in a.responses() {
            back.add_responses(method, status, n);
        }
        assert_eq!(back.responses(), a.responses());
    }

    #[test]
    fn each_method_is_counted_under_its_own_name() {
        let mut m = HttpMetrics::default();
        for (i, name) in METHODS.iter().enumerate() {
            let method = if *name == "OTHER" { "BREW" } else { name };
            m.count_response(&http::Method::from_bytes(method.as_bytes()).unwrap(), 200 + i as u16);
        }
        // An extension method spelled like a standard one in lower case is another method.
        m.count_response(&http::Method::from_bytes(b"get").unwrap(), 299);
        let mut counted = m.responses();
        counted.sort_by_key(|&(_, status, _)| status);
        let names: Vec<_> = counted.iter().map(|&(name, _, _)| name).collect();
        assert_eq!(names, [&METHODS[..], &["OTHER"]].concat());
    }

    #[test]
    fn response_kinds_are_bounded() {
        let mut m = HttpMetrics::default();
        for status in 0..1000u16 {
            m.record(&http::Method::GET, status, &Timings::default());
        }
        assert_eq!(m.responses.len(), RESPONSE_KINDS_MAX);
        assert_eq!(m.responses.iter().map(|r| r.2).sum::<u64>(), 1000, "none lost");
    }
}

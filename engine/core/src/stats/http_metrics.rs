//! Mite's `http_metrics`, per transaction: the phases of every request as HDR histograms (DNS,
//! connect, TLS, time to first byte; the total is `TxnStats::req_us`), and responses counted by
//! method and status code (Prometheus' `method` and `response_code` labels). Merged losslessly
//! like the other histograms, and carried in result files for `merge`.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::http::Timings;
use crate::stats::{new_latency_histogram, record_latency};

/// Distinct (method, status) pairs kept per transaction; more are counted under the last.
pub const RESPONSE_KINDS_MAX: usize = 256;

/// Methods by index; anything else is `OTHER`.
const METHODS: [&str; 10] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "OTHER"];

/// The phases of requests, and responses by method and code.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    /// Name resolution (once per host per core), µs.
    pub dns_us: Histogram<u64>,
    /// TCP connect, when the request opened a connection, µs.
    pub connect_us: Histogram<u64>,
    /// TLS handshake, when the request did one, µs.
    pub tls_us: Histogram<u64>,
    /// From writing the request to its first response byte, µs.
    pub first_byte_us: Histogram<u64>,
    /// (method index, status, responses).
    responses: Vec<(u8, u16, u64)>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            dns_us: new_latency_histogram(),
            connect_us: new_latency_histogram(),
            tls_us: new_latency_histogram(),
            first_byte_us: new_latency_histogram(),
            responses: Vec::new(),
        }
    }
}

fn method_index(method: &str) -> u8 {
    METHODS.iter().position(|m| *m == method).unwrap_or(METHODS.len() - 1) as u8
}

/// `METHODS` index of a method.
fn method_of(method: &http::Method) -> u8 {
    match method.as_str() {
        "GET" => 0,
        "POST" => 1,
        "PUT" => 2,
        "DELETE" => 3,
        "HEAD" => 4,
        "OPTIONS" => 5,
        "PATCH" => 6,
        "TRACE" => 7,
        "CONNECT" => 8,
        _ => 9,
    }
}

fn add(histogram: &mut Histogram<u64>, other: &Histogram<u64>) {
    histogram.add(other).expect("auto-resizing histograms always merge");
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
        self.count(method_of(method), status, 1);
    }

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
        add(&mut self.dns_us, &other.dns_us);
        add(&mut self.connect_us, &other.connect_us);
        add(&mut self.tls_us, &other.tls_us);
        add(&mut self.first_byte_us, &other.first_byte_us);
        for &(m, s, n) in &other.responses {
            self.count(m, s, n);
        }
    }

    /// The phase histograms by name, in request order.
    pub fn phases(&self) -> [(&'static str, &Histogram<u64>); 4] {
        [
            ("dns", &self.dns_us),
            ("connect", &self.connect_us),
            ("tls", &self.tls_us),
            ("first_byte", &self.first_byte_us),
        ]
    }

    /// For `merge`: histograms as text, responses as `[method, status, count]`.
    pub fn raw_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (name, histogram) in self.phases() {
            out.insert(name.to_string(), json!(crate::output::results::encode_histogram(histogram)));
        }
        out.insert(
            "responses".into(),
            json!(self.responses().iter().map(|(m, s, n)| json!([m, s, n])).collect::<Vec<_>>()),
        );
        Value::Object(out)
    }

    /// Reads `raw_json`; a result file without it (older versions) gives empty metrics.
    pub fn from_raw(raw: Option<&Value>, at: &str) -> Result<HttpMetrics, String> {
        let mut metrics = HttpMetrics::default();
        let Some(raw) = raw else { return Ok(metrics) };
        let histogram = |name: &str| -> Result<Histogram<u64>, String> {
            match raw.get(name).and_then(Value::as_str) {
                None => Ok(new_latency_histogram()),
                Some(text) => {
                    crate::output::results::decode_histogram(text).map_err(|e| format!("{at}: http.{name}: {e}"))
                }
            }
        };
        metrics.dns_us = histogram("dns")?;
        metrics.connect_us = histogram("connect")?;
        metrics.tls_us = histogram("tls")?;
        metrics.first_byte_us = histogram("first_byte")?;
        for item in raw.get("responses").and_then(Value::as_array).into_iter().flatten() {
            let bad = || format!("{at}: http.responses: expected [method, status, count], got {item}");
            let method = item.get(0).and_then(Value::as_str).ok_or_else(bad)?;
            let status = item.get(1).and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()).ok_or_else(bad)?;
            let count = item.get(2).and_then(Value::as_u64).ok_or_else(bad)?;
            metrics.count(method_index(method), status, count);
        }
        Ok(metrics)
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
        let back = HttpMetrics::from_raw(Some(&a.raw_json()), "t").unwrap();
        assert_eq!(back.responses(), a.responses());
        assert_eq!(back.first_byte_us, a.first_byte_us);
        assert!(HttpMetrics::from_raw(Some(&json!({"responses": [["GET"]]})), "t").is_err());
        assert!(HttpMetrics::from_raw(None, "t").unwrap().responses().is_empty());
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

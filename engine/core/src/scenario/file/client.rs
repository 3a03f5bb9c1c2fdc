//! The `[client]` table: HTTP client options a scenario file sets (CLI flags win), and the
//! redirect counts a file may give (there or on a step), and the response-head size that
//! `max_head_bytes` and `--max-head-bytes` both take.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::{ScenarioFileError, Source};
use super::schema::{ClientSpec, SizeSpec};
use crate::limits::{
    CONNECTIONS_PER_HOST_PER_CORE_MAX, REDIRECTS_MAX, RESPONSE_HEAD_BYTES_MAX, RESPONSE_HEADERS_MAX, ResponseLimits,
};
use crate::scenario::duration::DurationRange;

/// Client options from a file, resolved.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClientOptions {
    /// Request timeout.
    pub timeout: Option<Duration>,
    /// Connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Connections per host per core.
    pub max_connections: Option<usize>,
    /// Header fields one response head may have.
    pub max_headers: Option<usize>,
    /// Bytes one response head may have (`--max-head-bytes` wins).
    pub max_head_bytes: Option<usize>,
    /// Skip TLS verification.
    pub insecure: Option<bool>,
    /// Extra CA file (relative paths are relative to the scenario file).
    pub ca: Option<PathBuf>,
    /// Follow redirects (default true).
    pub follow_redirects: Option<bool>,
    /// Redirects one request follows (default 5).
    pub max_redirects: Option<u8>,
    /// Client certificate chain (PEM) for mutual TLS, relative to the scenario file.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
}

/// Checks the `[client]` table; paths resolve against `dir`, the scenario file's folder.
pub(super) fn client_options(
    src: &Source<'_>,
    spec: &ClientSpec,
    dir: &Path,
) -> Result<ClientOptions, ScenarioFileError> {
    let connections = 1..=CONNECTIONS_PER_HOST_PER_CORE_MAX;
    if let Some(n) = spec.max_connections.as_ref().filter(|n| !connections.contains(n.get_ref())) {
        let message = format!(
            "{} connections: must be from 1 to {CONNECTIONS_PER_HOST_PER_CORE_MAX} (per host per core)",
            n.get_ref()
        );
        return Err(src.error(Some(n.span()), "client.max_connections", message));
    }
    if let Some(n) = spec.max_headers.as_ref().filter(|n| !(1..=RESPONSE_HEADERS_MAX).contains(n.get_ref())) {
        let message = format!("{} header fields: must be from 1 to {RESPONSE_HEADERS_MAX} (per response)", n.get_ref());
        return Err(src.error(Some(n.span()), "client.max_headers", message));
    }
    if spec.cert.is_some() != spec.key.is_some() {
        return Err(src.error(None, "client", "give both cert = \"client.pem\" and key = \"client.key\" (or neither)"));
    }
    Ok(ClientOptions {
        cert: spec.cert.as_ref().map(|p| dir.join(p)),
        key: spec.key.as_ref().map(|p| dir.join(p)),
        follow_redirects: spec.follow_redirects,
        max_redirects: spec
            .max_redirects
            .as_ref()
            .map(|n| redirects(src, *n.get_ref(), "client.max_redirects", Some(n.span())))
            .transpose()?,
        timeout: timeout(src, &spec.timeout, "client.timeout")?,
        connect_timeout: timeout(src, &spec.connect_timeout, "client.connect_timeout")?,
        max_connections: spec.max_connections.as_ref().map(|n| *n.get_ref()),
        max_headers: spec.max_headers.as_ref().map(|n| *n.get_ref()),
        max_head_bytes: spec.max_head_bytes.as_ref().map(|size| head_bytes(src, size)).transpose()?,
        insecure: spec.insecure,
        ca: spec.ca.as_ref().map(|ca| dir.join(ca)),
    })
}

/// `max_head_bytes`, by `--max-head-bytes`'s rule and words, with what to write instead.
fn head_bytes(src: &Source<'_>, size: &Spanned<SizeSpec>) -> Result<usize, ScenarioFileError> {
    let text = match size.get_ref() {
        SizeSpec::Bytes(n) => n.to_string(),
        SizeSpec::Text(text) => text.clone(),
    };
    head_bytes_max(&text).map_err(|rule| {
        let suggested = head_bytes_suggested(&text);
        let hint = suggested
            .map(|near| format!("; e.g. max_head_bytes = \"{near}\""))
            .unwrap_or_else(|| "; e.g. max_head_bytes = \"256KiB\"".to_string());
        let shown = match size.get_ref() {
            SizeSpec::Bytes(_) => text.clone(),
            SizeSpec::Text(_) => format!("{text:?}"),
        };
        src.error(Some(size.span()), "client.max_head_bytes", format!("{shown}: {rule}{hint}"))
    })
}

/// A timeout above zero, when given.
fn timeout(
    src: &Source<'_>,
    text: &Option<Spanned<String>>,
    field: &str,
) -> Result<Option<Duration>, ScenarioFileError> {
    let Some(text) = text else { return Ok(None) };
    src.duration(text, field, DurationRange::TIMEOUT).map(Some)
}

/// A redirect count within `limits::REDIRECTS_MAX`; errors point at `span`.
pub(super) fn redirects(
    src: &Source<'_>,
    n: u32,
    field: &str,
    span: Option<std::ops::Range<usize>>,
) -> Result<u8, ScenarioFileError> {
    u8::try_from(n)
        .ok()
        .filter(|&n| n <= REDIRECTS_MAX)
        .ok_or_else(|| src.error(span, field, format!("{n} redirects is more than the {REDIRECTS_MAX} allowed")))
}

/// A response-head size as a user writes it (`--max-head-bytes`, `[client] max_head_bytes`):
/// a whole number of bytes, or of a unit in any case (`65536`, `64KiB`, `64kib`, `1 MiB`):
/// `KiB` and `MiB` are 1,024 and 1,048,576 bytes, `kB` and `MB` 1,000 and 1,000,000 (as the SI
/// and IEC prefixes say; `K` or `M` alone is refused, read either way by someone), within the
/// response parser's rule ([`ResponseLimits::check`]: 1 byte to [`RESPONSE_HEAD_BYTES_MAX`]).
/// The error is the rule in words, for the caller to put after the flag or field.
///
/// ```
/// # use mite_core::scenario::file::head_bytes_max;
/// assert_eq!(head_bytes_max("256KiB"), Ok(256 * 1024));
/// assert_eq!(head_bytes_max("64kib"), Ok(64 * 1024));
/// assert_eq!(head_bytes_max("64kb"), Ok(64_000));
/// assert!(head_bytes_max("64k").unwrap_err().starts_with("must be from 1 to 16,777,216 bytes (16MiB)"));
/// ```
pub fn head_bytes_max(text: &str) -> Result<usize, String> {
    let checked = |n: usize| ResponseLimits { head_bytes_max: n, ..ResponseLimits::DEFAULT }.check().is_ok();
    match bytes_with_unit(text) {
        Some(n) if checked(n) => Ok(n),
        _ => Err(format!(
            "must be from 1 to {} bytes (16MiB), as a whole number of bytes (B), KiB or MiB (1,024 and 1,048,576 \
             bytes), or kB or MB (1,000 and 1,000,000 bytes), the unit in any case (65536, 64KiB, 64kib, 1MiB; \
             bytes one response head may have)",
            crate::model::counts::grouped(RESPONSE_HEAD_BYTES_MAX as u64)
        )),
    }
}

/// A size's unit, in any case, and the bytes in one: `B`, `KiB`, `MiB`, `kB`, `MB`; `None` for
/// any other (`K`, `M` alone: 1,000 to some, 1,024 to others).
fn unit_bytes(unit: &str) -> Option<usize> {
    match unit.to_ascii_lowercase().as_str() {
        "" | "b" => Some(1),
        "kib" => Some(1024),
        "mib" => Some(1024 * 1024),
        "kb" => Some(1000),
        "mb" => Some(1000 * 1000),
        _ => None,
    }
}

/// `N` or `N` and a unit ([`unit_bytes`]; spaces around and between allowed) in bytes; `None`
/// for any other text or a size past `usize`.
fn bytes_with_unit(text: &str) -> Option<usize> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    number.parse::<usize>().ok()?.checked_mul(unit_bytes(unit.trim())?)
}

/// What to write instead of a head size [`head_bytes_max`] refused, when it is close to one it
/// takes: `64K` is `64KiB`, `2m` is `2MiB`, `0` is `1`, `17MiB` is `16MiB`.
fn head_bytes_suggested(text: &str) -> Option<String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => "",
        "k" | "kib" => "KiB",
        "m" | "mib" => "MiB",
        "kb" => "kB",
        "mb" => "MB",
        _ => return None,
    };
    let written = format!("{number}{unit}");
    match head_bytes_max(&written) {
        Ok(_) => Some(written),
        Err(_) if number == 0 => Some("1".to_string()),
        Err(_) => Some("16MiB".to_string()),
    }
}

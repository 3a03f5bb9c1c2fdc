//! The `[client]` table: HTTP client options a scenario file sets (CLI flags win), and the
//! redirect counts a file may give (there or on a step).

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::{ScenarioFileError, Source};
use super::schema::ClientSpec;
use crate::limits::{CONNECTIONS_PER_HOST_PER_CORE_MAX, REDIRECTS_MAX, RESPONSE_HEADERS_MAX};
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
        insecure: spec.insecure,
        ca: spec.ca.as_ref().map(|ca| dir.join(ca)),
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

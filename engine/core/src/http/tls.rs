//! TLS client configuration: webpki roots by default, a private CA on request, or (loudly) none;
//! a client certificate (mTLS) when the scenario gives one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How server certificates are checked, and the client certificate a run presents: the CLI's
/// `--ca`, `--insecure`, `--cert` and `--key`, for a `JourneyTest`.
///
/// ```
/// # use mite_core::prelude::*;
/// let private_ca = TlsOptions { ca_file: Some("certs/ca.pem".into()), ..TlsOptions::default() };
/// assert!(!private_ca.insecure);
/// let test = JourneyTest::new().tls(private_ca); // checks servers against certs/ca.pem
/// # let _ = test;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of extra trusted CA certificates (`--ca`).
    pub ca_file: Option<PathBuf>,
    /// Skip certificate verification entirely (`--insecure`).
    pub insecure: bool,
    /// Client certificate chain, PEM (`--cert`, `[client] cert`): mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM (`--key`, `[client] key`).
    pub client_key: Option<PathBuf>,
}

/// TLS could not be set up before the run: which file, flag or name, and why.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// rustls refused its own default protocol versions (a build without them).
    #[error("TLS protocol versions: {0}")]
    ProtocolVersions(#[source] rustls::Error),
    /// `--ca`: the file cannot be read, or a certificate in it is not one.
    #[error("--ca {}: {why}", path.display())]
    CaFile {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it (the certificate's position when one is at fault).
        why: String,
    },
    /// `--cert`: the client certificate chain cannot be read.
    #[error("client certificate {}: {why}", path.display())]
    ClientCert {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// `--key`: the client's private key cannot be read.
    #[error("client key {}: {why} (expected a PEM private key)", path.display())]
    ClientKey {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The certificate and the key do not go together.
    #[error("client certificate {} with key {}: {why}", cert.display(), key.display())]
    ClientIdentity {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why rustls refused the pair, in words.
        why: String,
    },
    /// Only one of `--cert` and `--key` was given.
    #[error("a client {given} needs its {missing}")]
    HalfIdentity {
        /// `certificate` or `key`.
        given: &'static str,
        /// `key (--key)` or `certificate (--cert)`.
        missing: &'static str,
    },
    /// A host that cannot be a TLS server name.
    #[error("TLS server name {host:?}: {why}")]
    ServerName {
        /// The host.
        host: String,
        /// Why not.
        why: String,
    },
}

/// "no PEM certificates found", said the same way for `--ca` and `--cert`.
const NO_PEM_CERTIFICATES: &str = "no PEM certificates found (expected -----BEGIN CERTIFICATE-----)";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration shared (read-only) by every core. ALPN offers `http/1.1`;
/// session resumption uses rustls' in-memory cache.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::ProtocolVersions)?;
    let builder = if options.insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &options.ca_file {
            add_ca_file(&mut roots, path)?;
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match (&options.client_cert, &options.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let (chain, key_der) = client_identity(cert, key)?;
            builder.with_client_auth_cert(chain, key_der).map_err(|source| TlsSetupError::ClientIdentity {
                cert: cert.clone(),
                key: key.clone(),
                why: identity_refusal(&source),
            })?
        }
        (Some(_), None) => return Err(TlsSetupError::HalfIdentity { given: "certificate", missing: "key (--key)" }),
        (None, Some(_)) => return Err(TlsSetupError::HalfIdentity { given: "key", missing: "certificate (--cert)" }),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Why a certificate and a key do not make a client identity, in the user's words.
fn identity_refusal(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            "the key does not belong to the certificate (their public keys differ): give the key the certificate \
             was issued for"
                .into()
        }
        rustls::Error::InconsistentKeys(_) => {
            "the key's public half cannot be derived, so it cannot be checked against the certificate".into()
        }
        other => other.to_string(),
    }
}

/// Why a TLS handshake failed, in the user's words where rustls's own are type names
/// (`Other(OtherError(CaUsedAsEndEntity))`, `InvalidContentType`), with the fix.
pub(crate) fn handshake_refusal(err: &std::io::Error) -> String {
    use rustls::{CertificateError, Error, InvalidMessage};
    let Some(tls) = rustls_error(err) else { return err.to_string() };
    let trust = "give its CA with --ca FILE (or ca in the scenario's [client]), or --insecure to skip verification";
    let purpose_fix = "serve a certificate for server authentication (extendedKeyUsage serverAuth), or --insecure to skip verification";
    match tls {
        Error::InvalidMessage(InvalidMessage::InvalidContentType) => {
            "the server did not answer in TLS (a plain-HTTP port? use http:// for it)".into()
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            format!("the server's certificate is not signed by a trusted CA: {trust}")
        }
        Error::InvalidCertificate(CertificateError::Other(other))
            if format!("{other:?}").contains("CaUsedAsEndEntity") =>
        {
            "the server's certificate is a CA certificate (CA:TRUE), which cannot identify a server: serve a \
             certificate issued by that CA, or --insecure to skip verification"
                .into()
        }
        Error::InvalidCertificate(CertificateError::Other(other))
            if format!("{other:?}").contains("UnsupportedCriticalExtension") =>
        {
            "the server's certificate (or a CA certificate of its chain) holds an extension marked critical \
             that this client does not know, so it must refuse it (RFC 5280 section 4.2): serve one without it, \
             or --insecure to skip verification"
                .into()
        }
        Error::InvalidCertificate(CertificateError::Other(other)) => format!(
            "the server's certificate was refused: {}: {trust}",
            words(format!("{other:?}").trim_start_matches("OtherError(").trim_end_matches(')'))
        ),
        Error::InvalidCertificate(CertificateError::InvalidPurpose) => format!(
            "the server's certificate does not allow extended key usage for server authentication: {purpose_fix}"
        ),
        Error::InvalidCertificate(why @ CertificateError::InvalidPurposeContext { .. }) => {
            format!("the server's {why}: {purpose_fix}")
        }
        Error::InvalidCertificate(CertificateError::BadSignature) => {
            format!("the server's certificate signature does not verify: {trust}")
        }
        Error::InvalidCertificate(CertificateError::ExpiredContext { time, not_after }) => format!(
            "the server's certificate (or a CA certificate of its chain) expired at {} ({} before this \
             handshake): renew it, or --insecure to skip verification",
            utc(*not_after),
            span_s(time.as_secs().saturating_sub(not_after.as_secs()))
        ),
        Error::InvalidCertificate(CertificateError::Expired) => {
            "the server's certificate (or a CA certificate of its chain) has expired: renew it, or --insecure to \
             skip verification"
                .into()
        }
        Error::InvalidCertificate(CertificateError::NotValidYetContext { time, not_before }) => format!(
            "the server's certificate (or a CA certificate of its chain) is not valid before {} ({} after this \
             handshake): check this machine's clock and the certificate's dates, or --insecure to skip \
             verification",
            utc(*not_before),
            span_s(not_before.as_secs().saturating_sub(time.as_secs()))
        ),
        Error::InvalidCertificate(CertificateError::NotValidYet) => {
            "the server's certificate (or a CA certificate of its chain) is not valid yet: check this machine's \
             clock and the certificate's dates, or --insecure to skip verification"
                .into()
        }
        Error::InvalidCertificate(CertificateError::NotValidForNameContext { expected, presented }) => format!(
            "the server's certificate is for {}, not {}: use a URL with one of its names, or --insecure to skip \
             verification",
            if presented.is_empty() {
                "no name at all".into()
            } else {
                presented.iter().map(|name| presented_name(name)).collect::<Vec<_>>().join(", ")
            },
            expected.to_str()
        ),
        _ => err.to_string(),
    }
}

/// A Rust type name as words: `UnsupportedCriticalExtension` → `unsupported critical extension`.
fn words(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A moment as a user reads it in a certificate's dates: `2021-01-01 00:00:00 UTC` (the Unix
/// seconds when past what a date holds).
fn utc(moment: UnixTime) -> String {
    let secs = moment.as_secs();
    match crate::model::civil::Civil::of_unix_s(secs) {
        Some(at) => at.text(" ", " UTC"),
        None => format!("Unix time {secs} s"),
    }
}

/// A span of seconds in the largest unit that says it: `3 days`, `5 hours`, `40 s`.
fn span_s(secs: u64) -> String {
    const MINUTE_S: u64 = 60;
    const HOUR_S: u64 = 60 * MINUTE_S;
    const DAY_S: u64 = 24 * HOUR_S;
    let (count, unit) = match secs {
        DAY_S.. => (secs / DAY_S, "day"),
        HOUR_S.. => (secs / HOUR_S, "hour"),
        MINUTE_S.. => (secs / MINUTE_S, "minute"),
        _ => return format!("{secs} s"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// A name a certificate presents as rustls writes it (`DnsName("localhost")`,
/// `IpAddress(127.0.0.1)`), as a user writes it in a URL.
fn presented_name(name: &str) -> &str {
    let unwrapped = |prefix: &str, suffix: &str| name.strip_prefix(prefix)?.strip_suffix(suffix);
    unwrapped("DnsName(\"", "\")").or_else(|| unwrapped("IpAddress(", ")")).unwrap_or(name)
}

/// The rustls error inside an I/O error: as the transport marks it (`TlsFailure`), or bare.
fn rustls_error(err: &std::io::Error) -> Option<&rustls::Error> {
    let inner = err.get_ref()?;
    inner.downcast_ref::<super::transport::TlsFailure>().map(|failure| &failure.0).or_else(|| inner.downcast_ref())
}

/// What a read that failed mid-response says: a TLS session's end with no `close_notify`
/// ([`cut_short`]), a record that does not decrypt in words, any other error as it came.
pub(crate) fn receive_failure(err: &std::io::Error, reader: &mut mite_codec::ResponseReader) -> String {
    if err.kind() == std::io::ErrorKind::UnexpectedEof {
        // Only a TLS session ends so: a plain read at the end of the stream returns 0.
        return cut_short(reader);
    }
    match rustls_error(err) {
        Some(rustls::Error::DecryptError) => "receive: a TLS record that does not decrypt came in the middle of the \
                                              response (written past the server's TLS session, by a middlebox or \
                                              another process, or corrupted on the way)"
            .into(),
        _ => format!("receive: {err}"),
    }
}

/// What a response cut by the end of a TLS connection with no `close_notify` says (rustls's own
/// words point at its manual): what was cut short, and that the server never said it was done.
/// A body delimited by the close is an error too: without `close_notify`, its end may be an
/// attacker's or a middlebox's, not the server's (RFC 8446 §6.1).
fn cut_short(reader: &mut mite_codec::ResponseReader) -> String {
    match reader.finish_at_eof() {
        Err(err) => format!("{err}, without a TLS close_notify"),
        Ok(()) => "server closed the connection without a TLS close_notify, so the body (delimited by the close) \
                   may be cut short"
            .into(),
    }
}

/// Why `path` cannot be read as a PEM file (missing, a folder), before a PEM reader turns it
/// into an "I/O error".
fn pem_file_problem(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Some("is a folder, not a PEM file: give the file inside it".into()),
        Ok(_) => None,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Some("no such file".into()),
        Err(err) => Some(format!("cannot be read: {err}")),
    }
}

/// Reads a client certificate chain and its private key (PEM), naming the file at fault.
fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>), TlsSetupError> {
    if let Some(why) = pem_file_problem(cert) {
        return Err(TlsSetupError::ClientCert { path: cert.to_path_buf(), why });
    }
    if let Some(why) = pem_file_problem(key) {
        return Err(TlsSetupError::ClientKey { path: key.to_path_buf(), why });
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| TlsSetupError::ClientCert { path: cert.to_path_buf(), why: e.to_string() })?;
    if chain.is_empty() {
        return Err(TlsSetupError::ClientCert { path: cert.to_path_buf(), why: NO_PEM_CERTIFICATES.into() });
    }
    let key_der = rustls::pki_types::PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsSetupError::ClientKey { path: key.to_path_buf(), why: e.to_string() })?;
    Ok((chain, key_der))
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsSetupError> {
    let ca_error = |why: String| TlsSetupError::CaFile { path: path.to_path_buf(), why };
    if let Some(why) = pem_file_problem(path) {
        return Err(ca_error(why));
    }
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))?;
    let mut added = 0;
    for (i, cert) in certs.enumerate() {
        let cert = cert.map_err(|e| ca_error(format!("certificate {}: {e}", i + 1)))?;
        roots.add(cert).map_err(|e| ca_error(format!("certificate {}: {e}", i + 1)))?;
        added += 1;
    }
    if added == 0 {
        return Err(ca_error(NO_PEM_CERTIFICATES.into()));
    }
    Ok(())
}

/// The server name for SNI and verification (an IP address sends no SNI).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsSetupError> {
    ServerName::try_from(host.to_string())
        .map_err(|e| TlsSetupError::ServerName { host: host.to_string(), why: e.to_string() })
}

/// `--insecure`: accepts every certificate. Signatures are still checked so that the handshake
/// is a real one; only the chain of trust and the name are skipped.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use rustls::{CertificateError, Error, InvalidMessage, OtherError};

    use super::*;

    fn refusal(err: Error) -> String {
        handshake_refusal(&io::Error::new(io::ErrorKind::InvalidData, err))
    }

    /// Outside try: `--ca` with a self-signed CA certificate served as the server's said
    /// `invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))`; a redirect to https on a
    /// plain port said `received corrupt message of type InvalidContentType`.
    #[test]
    fn handshake_refusals_are_worded() {
        #[derive(Debug)]
        struct CaUsedAsEndEntity;
        impl std::fmt::Display for CaUsedAsEndEntity {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("CaUsedAsEndEntity")
            }
        }
        impl std::error::Error for CaUsedAsEndEntity {}
        let ca = refusal(Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(CaUsedAsEndEntity)))));
        assert!(ca.starts_with("the server's certificate is a CA certificate") && !ca.contains("Other("), "{ca}");
        let plain = refusal(Error::InvalidMessage(InvalidMessage::InvalidContentType));
        assert!(plain.contains("did not answer in TLS") && plain.contains("http://"), "{plain}");
        let unknown = refusal(Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert!(unknown.contains("not signed by a trusted CA") && unknown.contains("--ca FILE"), "{unknown}");
        let presented = ["DnsName(\"localhost\")", "IpAddress(127.0.0.1)", "URI(x)"].map(String::from).to_vec();
        let expected = ServerName::try_from("127.0.0.2").unwrap();
        let name = refusal(Error::InvalidCertificate(CertificateError::NotValidForNameContext { expected, presented }));
        assert!(
            name.starts_with("the server's certificate is for localhost, 127.0.0.1, URI(x), not 127.0.0.2: "),
            "{name}"
        );
        // Outside try: an expired certificate said rustls's `invalid peer certificate: certificate
        // expired: verification time 1795963294 (UNIX), but certificate is not valid after
        // 1609459200 (186504094 seconds ago)`.
        let at = |secs| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
        let expired = refusal(Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: at(1_795_963_294),
            not_after: at(1_609_459_200),
        }));
        assert!(
            expired.starts_with(
                "the server's certificate (or a CA certificate of its chain) expired at 2021-01-01 00:00:00 UTC \
                 (2158 days before this handshake): renew it"
            ),
            "{expired}"
        );
        let early = refusal(Error::InvalidCertificate(CertificateError::NotValidYetContext {
            time: at(1_609_459_200),
            not_before: at(1_609_459_200 + 3 * 3600 + 59),
        }));
        assert!(
            early.contains("is not valid before 2021-01-01 03:00:59 UTC (3 hours after this handshake)"),
            "{early}"
        );
        assert!(early.contains("clock"), "{early}");
        // Outside try: a certificate with an unknown critical extension said `invalid peer
        // certificate: Other(OtherError(UnsupportedCriticalExtension))`.
        #[derive(Debug)]
        struct UnsupportedCriticalExtension;
        impl std::fmt::Display for UnsupportedCriticalExtension {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("UnsupportedCriticalExtension")
            }
        }
        impl std::error::Error for UnsupportedCriticalExtension {}
        let critical = refusal(Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
            UnsupportedCriticalExtension,
        )))));
        assert!(critical.contains("holds an extension marked critical") && !critical.contains("Other("), "{critical}");
        #[derive(Debug)]
        struct SomeNewWebpkiError;
        impl std::fmt::Display for SomeNewWebpkiError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("SomeNewWebpkiError")
            }
        }
        impl std::error::Error for SomeNewWebpkiError {}
        let other =
            refusal(Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(SomeNewWebpkiError)))));
        assert!(other.starts_with("the server's certificate was refused: some new webpki error: "), "{other}");
        let purpose = refusal(Error::InvalidCertificate(CertificateError::InvalidPurpose));
        assert!(purpose.starts_with("the server's certificate") && purpose.contains("serverAuth"), "{purpose}");
        let bare = refusal(Error::InvalidCertificate(CertificateError::Expired));
        assert!(bare.contains("has expired: renew it"), "{bare}");
        assert_eq!(span_s(1), "1 s");
        assert_eq!(span_s(60), "1 minute");
        assert_eq!(span_s(86_400 * 2 - 1), "1 day");
        assert_eq!(utc(at(u64::MAX)), format!("Unix time {} s", u64::MAX));
        // As the transport marks it.
        let marked = io::Error::new(
            io::ErrorKind::InvalidData,
            crate::http::transport::TlsFailure(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        );
        assert!(handshake_refusal(&marked).contains("not signed by a trusted CA"), "{}", handshake_refusal(&marked));
        let other = io::Error::other("connection reset");
        assert_eq!(handshake_refusal(&other), "connection reset", "not a TLS error: as it was");
    }
}

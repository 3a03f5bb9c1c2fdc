//! Issue 12: client certificates (mutual TLS) against the TLS target that requires one.

use std::path::PathBuf;
use std::time::Duration;

use mite_core::VolumeModel;
use mite_core::http::TlsOptions;
use mite_core::run::RunResult;
use mite_core::stats::ErrorKind;
use mite_tests::{assert_target_saw_every_request, options};
use mite_tools::TlsTarget;
use mite_tools::tls_server::{CA_PATH, CLIENT_CERT_PATH, CLIENT_KEY_PATH, ROGUE_CERT_PATH, ROGUE_KEY_PATH};

fn get(target: &TlsTarget, tls: TlsOptions) -> RunResult {
    let mut opts = options(1, Duration::from_millis(600));
    opts.tls = tls;
    mite_tests::get(&target.url("/"), VolumeModel::constant(2), opts)
}

fn tls(cert: Option<&str>, key: Option<&str>) -> TlsOptions {
    TlsOptions {
        ca_file: Some(PathBuf::from(CA_PATH)),
        client_cert: cert.map(PathBuf::from),
        client_key: key.map(PathBuf::from),
        ..TlsOptions::default()
    }
}

#[test]
fn a_client_certificate_gets_through_mutual_tls() {
    let target = TlsTarget::start_requiring_client_cert().unwrap();
    let result = get(&target, tls(Some(CLIENT_CERT_PATH), Some(CLIENT_KEY_PATH)));
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.req_ok > 10, "ok {}: {:?}", total.req_ok, result.merged.error_samples);
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
}

#[test]
fn without_an_accepted_certificate_every_request_is_a_tls_error() {
    for (cert, key) in [(None, None), (Some(ROGUE_CERT_PATH), Some(ROGUE_KEY_PATH))] {
        let target = TlsTarget::start_requiring_client_cert().unwrap();
        let result = get(&target, tls(cert, key));
        let total = result.merged.total();
        assert_eq!(target.hits(), 0, "{cert:?}");
        assert!(total.requests() > 0);
        assert_eq!(total.errors_of(ErrorKind::Tls), total.requests(), "{cert:?}: {:?}", result.merged.error_samples);
        println!("{cert:?}: {}", result.merged.error_samples["tls"]);
    }
}

#[test]
fn bad_client_certificate_files_are_named() {
    let err = |cert: &str, key: &str| {
        mite_core::http::tls::client_config(&tls(Some(cert), Some(key))).map(drop).unwrap_err().to_string()
    };
    let missing = err("/nonexistent/client.pem", CLIENT_KEY_PATH);
    assert!(missing.contains("client certificate /nonexistent/client.pem"), "{missing}");
    let swapped = err(CLIENT_KEY_PATH, CLIENT_CERT_PATH);
    assert!(swapped.contains("client.key") && swapped.contains("no PEM certificates"), "{swapped}");
    let mismatched = err(CLIENT_CERT_PATH, ROGUE_KEY_PATH);
    assert!(mismatched.contains("the key does not belong to the certificate"), "{mismatched}");
    assert!(!mismatched.contains("KeyMismatch"), "{mismatched}");
    let folder = std::env::temp_dir();
    let in_folder = err(folder.to_str().unwrap(), CLIENT_KEY_PATH);
    assert!(in_folder.contains("is a folder, not a PEM file"), "{in_folder}");
    let key_folder = err(CLIENT_CERT_PATH, folder.to_str().unwrap());
    assert!(key_folder.contains("client key") && key_folder.contains("is a folder"), "{key_folder}");
    let ca_folder = TlsOptions { ca_file: Some(folder.clone()), ..TlsOptions::default() };
    let ca_folder = mite_core::http::tls::client_config(&ca_folder).map(drop).unwrap_err().to_string();
    assert!(ca_folder.starts_with("--ca ") && ca_folder.contains("is a folder, not a PEM file"), "{ca_folder}");
    assert!(!ca_folder.contains("os error"), "{ca_folder}");
    let only_cert = mite_core::http::tls::client_config(&tls(Some(CLIENT_CERT_PATH), None)).map(drop).unwrap_err();
    assert!(only_cert.to_string().contains("needs its key"), "{only_cert}");
}

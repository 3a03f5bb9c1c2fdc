//! HTTPS against the TLS target with its self-made CA: verification on by default, `--ca` to
//! trust the CA, `--insecure` to skip, and handshake errors that name their cause.

use std::path::PathBuf;
use std::time::Duration;

use mite_core::VolumeModel;
use mite_core::http::TlsOptions;
use mite_core::run::RunResult;
use mite_core::stats::ErrorKind;
use mite_tests::{assert_target_saw_every_request, options, run, scenario};
use mite_tools::TlsTarget;
use mite_tools::tls_server::CA_PATH;

fn get(url: &str, tls: TlsOptions, volume: VolumeModel, duration: Duration) -> RunResult {
    let mut opts = options(1, duration);
    opts.tls = tls;
    mite_tests::get(url, volume, opts)
}

fn with_ca() -> TlsOptions {
    TlsOptions { ca_file: Some(PathBuf::from(CA_PATH)), insecure: false, ..TlsOptions::default() }
}

#[test]
fn verified_get_with_private_ca() {
    let target = TlsTarget::start().unwrap();
    let result = get(&target.url("/"), with_ca(), VolumeModel::constant(2), Duration::from_millis(800));
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.req_ok > 10, "ok {}", total.req_ok);
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
    assert_eq!(total.tls_handshakes, 2, "two keep-alive connections, one handshake each");
}

#[test]
fn sessions_resume_on_new_connections() {
    let target = TlsTarget::start().unwrap();
    // The server closes after every response, so every request needs a new handshake.
    let result = get(&target.url("/bad/close"), with_ca(), VolumeModel::constant(1), Duration::from_millis(600));
    let total = assert_target_saw_every_request(&result, target.hits());
    assert!(total.tls_handshakes > 3, "handshakes {}", total.tls_handshakes);
    assert!(total.tls_resumed >= total.tls_handshakes - 1, "resumed {} of {}", total.tls_resumed, total.tls_handshakes);
    assert_eq!(total.req_errors(), 0, "{:?}", result.merged.error_samples);
}

#[test]
fn unknown_ca_is_a_named_tls_error() {
    let target = TlsTarget::start().unwrap();
    let result =
        get(&target.url("/"), TlsOptions::default(), VolumeModel::Oneshot { journeys: 3 }, Duration::from_secs(10));
    let total = result.merged.total();
    assert_eq!(total.errors_of(ErrorKind::Tls), 3);
    let sample = &result.merged.error_samples["tls"];
    assert!(sample.contains("not signed by a trusted CA"), "{sample}");
    assert_eq!(target.hits(), 0);
    // Issue 11: a failed handshake sends no request; every handshake tried is counted.
    assert_eq!((total.requests(), total.not_sent), (0, 3));
    assert_eq!((total.tls_handshakes, total.tls_failed, total.connects_failed), (3, 3, 0));
}

#[test]
fn name_mismatch_is_a_named_tls_error() {
    // The certificate names 127.0.0.1, localhost and ::1, not 127.0.0.2.
    // Linux's loopback answers on all of 127.0.0.0/8.
    let target = TlsTarget::start_on("127.0.0.2:0".parse().unwrap()).expect("listen on 127.0.0.2");
    let result = get(&target.url("/"), with_ca(), VolumeModel::Oneshot { journeys: 2 }, Duration::from_secs(10));
    let total = result.merged.total();
    assert_eq!(total.errors_of(ErrorKind::Tls), 2);
    let sample = &result.merged.error_samples["tls"];
    assert!(sample.contains("is for localhost") && sample.contains("not 127.0.0.2"), "{sample}");
}

#[test]
fn insecure_skips_verification() {
    let target = TlsTarget::start().unwrap();
    let tls = TlsOptions { ca_file: None, insecure: true, ..TlsOptions::default() };
    let result = get(&target.url("/"), tls, VolumeModel::Oneshot { journeys: 3 }, Duration::from_secs(10));
    assert_eq!(result.merged.total().req_ok, 3);
}

#[test]
fn hostile_routes_over_tls_are_classified_too() {
    let target = TlsTarget::start().unwrap();
    for (path, kind) in [("/bad/short", ErrorKind::UnexpectedClose), ("/bad/garbage", ErrorKind::Malformed)] {
        let hits_before = target.hits();
        let result = get(&target.url(path), with_ca(), VolumeModel::Oneshot { journeys: 2 }, Duration::from_secs(10));
        let total = assert_target_saw_every_request(&result, target.hits() - hits_before);
        assert_eq!(total.errors_of(kind), 2, "{path}: {:?}", result.merged.error_samples);
        assert_eq!(total.requests(), 2);
    }
    let result =
        get(&target.url("/bad/chunked"), with_ca(), VolumeModel::Oneshot { journeys: 2 }, Duration::from_secs(10));
    assert_eq!(result.merged.total().req_ok, 2);
}

async fn post_large(ctx: &mite_core::Ctx, _row: mite_core::Row) -> mite_core::JourneyResult {
    static BODY: [u8; 200 * 1024] = [b'x'; 200 * 1024];
    let url = ctx.config().get_or("target_url", "https://127.0.0.1:1/");
    ctx.transaction("post_large", async {
        let response = ctx.http().post(url).body(&BODY).send().await?;
        if response.body_len() != BODY.len() as u64 {
            return Err(mite_core::JourneyError::msg(format!("echoed {} bytes", response.body_len())));
        }
        Ok(())
    })
    .await
}

/// Issue 11: a TLS request body over 64 KiB failed (rustls' plaintext buffer limit was hit
/// before any flush, counted as `io`).
#[test]
fn tls_request_bodies_over_64_kib_are_sent() {
    let target = TlsTarget::start().unwrap();
    let mut registry = mite_journeys::registry();
    registry.journey("test:post_large", post_large);
    let mut opts = options(1, Duration::from_secs(10));
    opts.tls = with_ca();
    let result = run(
        &registry,
        scenario("test:post_large", VolumeModel::Oneshot { journeys: 2 }),
        &[format!("target_url={}", target.url("/echo"))],
        opts,
    );
    let total = result.merged.total();
    assert_eq!((total.req_ok, total.req_errors()), (2, 0), "{:?}", result.merged.error_samples);
    assert_eq!(result.merged.journeys.failed, 0, "{:?}", result.merged.error_samples);
    assert_eq!(total.body_bytes, 2 * 200 * 1024);
    assert_eq!(target.hits(), 2);
}

//! The HTTP adapter against the kiosk's own client: the server judges nonces
//! by the clock it is given (a manual one here, so expiry needs no waiting),
//! and a refusal travels as the shared `ErrorBody` that the client reads into
//! a typed `UpstreamError::Rejected`.

// Test code: a failed set-up step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use myna_upstream::clock::ManualClock;
use myna_upstream::courier::{Upstream, UpstreamError};
use myna_upstream::http::HttpUpstream;
use myna_upstream::messages::*;
use myna_upstream::request::sign_request;
use myna_upstream::signer::{DeviceSigner, FileSigner};
use rand::rngs::StdRng;
use rand::SeedableRng;
use upstream_ref::{Reference, ReferenceConfig, TEST_DEVICE_KEY_PKCS8};
use uuid::Uuid;

#[test]
fn an_expired_nonce_is_refused_by_the_servers_clock_with_a_typed_error() {
    let signer = FileSigner::from_pkcs8(&TEST_DEVICE_KEY_PKCS8).unwrap();
    let reference = Reference::new(
        ReferenceConfig {
            device_keys: vec![signer.public_key().to_vec()],
            jpki_cas: Vec::new(),
            patients: HashMap::new(),
            nonce_ttl: Duration::from_secs(60),
        },
        Box::new(StdRng::seed_from_u64(3)),
    );
    let clock = Arc::new(ManualClock::at_ms(1_767_225_600_000));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(upstream_ref::serve(listener, reference, clock.clone()));

    let client = HttpUpstream::new(&url, Default::default()).unwrap();
    let request = |nonce: &str| {
        let request = VerifyRequest::new(
            Uuid::now_v7(),
            1_767_225_600,
            nonce,
            DeviceInfo::new(signer.key_id(), "1.0.0"),
            b"not a certificate",
            AuthMethod::Face {
                attempts: 1,
                score_band: ScoreBand::High,
                pad: PadResult::Live,
            },
        );
        sign_request(&signer, &request).unwrap().jws
    };

    let nonce = client.challenge().unwrap().nonce;
    clock.advance(Duration::from_secs(61));
    match client.post(MessageKind::Verify, &request(&nonce)) {
        Err(UpstreamError::Rejected {
            status,
            code,
            message,
        }) => {
            assert_eq!((status, code.as_str()), (400, "nonce-expired"));
            assert_eq!(message, "nonce expired");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // A fresh nonce at the same (manual) time gets past the nonce check to
    // the certificate, which is not one.
    let nonce = client.challenge().unwrap().nonce;
    match client.post(MessageKind::Verify, &request(&nonce)) {
        Err(UpstreamError::Rejected { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "bad-certificate"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    runtime.shutdown_background();
}

//! Benchmark of the upstream leg on loopback, with full durability (SQLite
//! WAL, synchronous=FULL): outbox throughput (enqueue, then drain through the
//! reference upstream) and the verify round trip (challenge, sign, store,
//! send, mark delivered), p50/p99.
//!
//! `cargo build --release --workspace --bins && cargo bench -p mynareader-tests --bench upstream`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use myna_card::pcsc::{ConnectOptions, PcscCard};
use myna_card::MynaCard;
use myna_upstream::courier::{Backoff, Courier, Upstream};
use myna_upstream::http::HttpUpstream;
use myna_upstream::jws;
use myna_upstream::messages::*;
use myna_upstream::outbox::Outbox;
use myna_upstream::request::sign_request;
use myna_upstream::signer::{self, DeviceSigner};
use mynareader_tests::{main_isolated, Bed, UpstreamRef, WhenMissing};
use uuid::Uuid;

const MESSAGES: usize = 1000;
const VERIFIES: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn inner() -> anyhow::Result<()> {
    let bed = Bed::start()?;
    let _card = bed.insert_card(&[]);
    let cert =
        MynaCard::new(PcscCard::connect(ConnectOptions::default())?).read_auth_certificate()?;
    let signer = signer::init_device_key(&bed.dir().join("device.p8"))?;
    let public = bed.dir().join("device.pub.pem");
    std::fs::write(&public, signer::public_key_pem(signer.public_key()))?;
    let upstream = UpstreamRef::start(bed.dir(), &public, 0);
    let courier = Courier::new(
        Outbox::open(&bed.dir().join("bench.db"))?,
        HttpUpstream::new(&upstream.url, Default::default())?,
        Backoff::default(),
    );
    let device = DeviceInfo::new(signer.key_id(), "0.1.0");
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();

    let mut round_trips = Vec::with_capacity(VERIFIES);
    let mut last_verify = Uuid::nil();
    for _ in 0..VERIFIES {
        let start = Instant::now();
        let nonce = courier.upstream().challenge()?.nonce;
        let request = VerifyRequest::new(
            Uuid::now_v7(),
            now(),
            &nonce,
            device.clone(),
            &cert,
            AuthMethod::Face {
                attempts: 1,
                score_band: ScoreBand::High,
                pad: PadResult::Live,
            },
        );
        let signed = sign_request(&signer, &request)?;
        courier.verify(signed.request_id, &signed.jws, Duration::from_secs(10))?;
        round_trips.push(start.elapsed());
        last_verify = signed.request_id;
    }
    round_trips.sort();

    let bodies: Vec<(Uuid, String)> = (0..MESSAGES)
        .map(|_| {
            let record = ConsentRecord {
                version: VERSION,
                request_id: Uuid::now_v7(),
                verify_request_id: last_verify,
                issued_at: now(),
                consents: Consents {
                    DiagnosisInfoConsFlg: Some(ConsentFlag {
                        value: 1,
                        decided_at: now(),
                        source: None,
                    }),
                    ..Consents::default()
                },
                registration_request: false,
                relayed_by: None,
                audit_head: None,
            };
            Ok((
                record.request_id,
                jws::sign(&signer, &serde_json::to_vec(&record)?)?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let start = Instant::now();
    for (id, body) in &bodies {
        courier.enqueue(*id, MessageKind::Consent, body)?;
    }
    let enqueue = start.elapsed();
    let start = Instant::now();
    let report = courier.drain_for(Duration::from_secs(120))?;
    let drain = start.elapsed();
    anyhow::ensure!(
        report.delivered as usize == MESSAGES && report.pending == 0,
        "drain incomplete: {report:?}"
    );

    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!("upstream leg on loopback, SQLite WAL + synchronous=FULL");
    println!(
        "verify round trip ({VERIFIES}): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&round_trips, 0.5).as_secs_f64() * 1e3,
        percentile(&round_trips, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "outbox enqueue ({MESSAGES}): {:.0} msg/s",
        rate(MESSAGES, enqueue)
    );
    println!(
        "outbox drain to the upstream ({MESSAGES}): {:.0} msg/s",
        rate(MESSAGES, drain)
    );
    println!(
        "end to end (enqueue + deliver): {:.0} msg/s",
        rate(MESSAGES, enqueue + drain)
    );
    Ok(())
}

fn main() -> ExitCode {
    main_isolated("upstream bench", &[], WhenMissing::Skip, inner)
}

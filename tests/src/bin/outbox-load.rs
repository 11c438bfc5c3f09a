//! Test load for the crash-safety test: enqueues consent records with
//! deterministic request ids into a durable outbox and drains it to the
//! upstream, resuming where it stopped when killed and restarted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use myna_upstream::courier::{Backoff, Courier};
use myna_upstream::http::HttpUpstream;
use myna_upstream::messages::{ConsentFlag, ConsentRecord, Consents, MessageKind, VERSION};
use myna_upstream::outbox::Outbox;
use myna_upstream::{jws, signer::FileSigner};
use uuid::Uuid;

struct Args {
    db: PathBuf,
    url: String,
    key: PathBuf,
    verify_id: Uuid,
    count: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut get = |name: &str| -> anyhow::Result<String> {
        match (args.next(), args.next()) {
            (Some(flag), Some(value)) if flag == name => Ok(value),
            _ => anyhow::bail!("usage: outbox-load --db F --url U --key F --verify-id ID --count N (missing {name})"),
        }
    };
    Ok(Args {
        db: get("--db")?.into(),
        url: get("--url")?,
        key: get("--key")?.into(),
        verify_id: get("--verify-id")?.parse()?,
        count: get("--count")?.parse()?,
    })
}

/// Request id of message `i`: fixed, so a restarted run recognises its work.
pub fn message_id(i: u64) -> Uuid {
    Uuid::from_u128((0x4D59_4E41u128 << 96) | u128::from(i))
}

fn run() -> anyhow::Result<()> {
    let args = parse_args()?;
    let signer = FileSigner::load(&args.key)?;
    let courier = Courier::new(
        Outbox::open(&args.db)?,
        HttpUpstream::new(&args.url, Default::default())?,
        Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_millis(500),
        },
    );
    for i in 0..args.count {
        let id = message_id(i);
        if courier.outbox().get(id)?.is_none() {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let record = ConsentRecord {
                version: VERSION,
                request_id: id,
                verify_request_id: args.verify_id,
                issued_at: now,
                consents: Consents {
                    DiagnosisInfoConsFlg: Some(ConsentFlag {
                        value: (i % 2) as u8,
                        decided_at: now,
                        source: None,
                    }),
                    ..Consents::default()
                },
                registration_request: false,
                relayed_by: None,
                audit_head: None,
            };
            let body = jws::sign(&signer, &serde_json::to_vec(&record)?)?;
            courier.enqueue(id, MessageKind::Consent, &body)?;
        }
        if i % 10 == 9 {
            courier.drain_due()?;
        }
    }
    while courier.drain_for(Duration::from_secs(10))?.pending > 0 {}
    println!("done");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outbox-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

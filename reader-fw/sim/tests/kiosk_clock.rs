//! The kiosk's event loop on a manual clock (the reader in this process,
//! the reference upstream in this process): what it does as days pass
//! between receptions, without waiting for them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use myna_kiosk::{assemble, FaceWork, Kiosk, Parts};
use myna_link_host::ReaderLink;
use myna_reception::ReceptionConfig;
use myna_sim_world::SharedCard;
use myna_upstream::clock::{Clock, ManualClock, SystemRng};
use myna_upstream::courier::{Backoff, Courier};
use myna_upstream::messages::MessageKind;
use myna_upstream::outbox::Outbox;
use myna_upstream::signer::{init_device_key, DeviceSigner};
use reader_fw::catalogue::Lang;
use reader_fw::device::{Identity, Reader};
use reader_sim::{InProcessReader, SimBoard};
use upstream_ref::{InProcess, Reference, ReferenceConfig};
use uuid::Uuid;

type Clocked = Arc<ManualClock>;
type TestKiosk = Kiosk<SharedCard, InProcessReader, InProcess<Clocked>, Clocked>;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn kiosk(dir: &std::path::Path, clock: &Clocked) -> TestKiosk {
    let signer = init_device_key(&dir.join("device.key")).unwrap();
    let reference = Reference::new(
        ReferenceConfig {
            device_keys: vec![signer.public_key().to_vec()],
            jpki_cas: vec![myna_card_sim::pki::AUTH_CA_CERT.to_vec()],
            patients: HashMap::new(),
            nonce_ttl: Duration::from_secs(60),
        },
        Box::new(SystemRng::default()),
    );
    let courier = Courier::with_clock(
        Outbox::open(&dir.join("kiosk.db")).unwrap(),
        InProcess::new(reference, clock.clone()),
        Backoff::default(),
        clock.clone(),
        SystemRng::default(),
    );
    let (board, _) = SimBoard::for_tests(3);
    let reader = Reader::new(
        board,
        Identity {
            firmware: 1,
            slot: 0,
            boot_id: 9,
        },
        Lang::Ja,
    );
    let link = ReaderLink::open(InProcessReader::new(reader), || 41).unwrap();
    let mut kiosk = assemble(
        Parts {
            link,
            courier,
            signer: Arc::new(signer),
            reception: ReceptionConfig::default(),
            verify_deadline: Duration::from_secs(10),
            confirm_screens: false,
            face: None,
            face_work: FaceWork::InPlace,
            staff: None,
            observer: Box::new(myna_sim_world::Recorder::default()),
        },
        clock.clone(),
    )
    .unwrap()
    .keep_finished(7 * DAY);
    kiosk.start();
    kiosk
}

#[test]
fn finished_outbox_rows_are_pruned_after_the_keep_time_between_receptions() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Clocked = Arc::new(ManualClock::at_ms(1_767_225_600_000));
    let mut kiosk = kiosk(dir.path(), &clock);
    let id = Uuid::now_v7();
    {
        let outbox = kiosk.ports().courier().outbox();
        let stored = outbox
            .enqueue(id, MessageKind::Consent, "h.p.s", clock.now_ms(), None)
            .unwrap();
        outbox
            .mark_delivered(stored.seq, "{}", clock.now_ms())
            .unwrap();
    }
    let present =
        |kiosk: &mut TestKiosk| kiosk.ports().courier().outbox().get(id).unwrap().is_some();
    // Six days on (hourly looks): still kept as the delivery log.
    for _ in 0..6 * 24 {
        clock.advance(Duration::from_secs(60 * 60));
        kiosk.poll_link();
    }
    assert!(present(&mut kiosk), "kept for the keep time");
    // Past seven days: gone at the next hourly look.
    for _ in 0..25 {
        clock.advance(Duration::from_secs(60 * 60));
        kiosk.poll_link();
    }
    assert!(!present(&mut kiosk), "pruned after the keep time");
}

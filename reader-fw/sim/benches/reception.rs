//! Whole receptions in one kiosk, as fast as the machine allows: the kiosk's
//! event loop and real ports, the reader firmware on the simulated board in
//! this process (`InProcessReader`), the emulated chip, the reference
//! upstream in this process (`upstream_ref::InProcess`, every check), and
//! the outbox on disk.
//!
//! Prints (no limits: figures for the notes):
//! - stage times of unattended face receptions (models, dev faces and
//!   Japanese fonts permitting): card placed → method screen, face chosen →
//!   `Done`, and each stage's median;
//! - the same for PIN receptions;
//! - RSS and open file descriptors over `MYNA_RECEPTIONS` (default 1000)
//!   consecutive PIN receptions in one kiosk.
//!
//! `cargo bench -p reader-sim --bench reception`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use card_front_synth::Conditions;
use myna_card_front::{fonts, ocr, CardFrontReader, CardFrontSettings};
use myna_face::{FaceEngine, FaceSettings};
use myna_kiosk::{assemble, FacePath, FaceWork, Kiosk, KioskEvent, Observer, Parts};
use myna_link_host::ReaderLink;
use myna_reception::{PatientScreen, ReceptionConfig};
use myna_sim_world::{default_faces, face_pair, personality, serial_text, SharedCard};
use myna_upstream::clock::{SystemClock, SystemRng};
use myna_upstream::courier::{Backoff, Courier};
use myna_upstream::messages::Qualification;
use myna_upstream::outbox::Outbox;
use myna_upstream::signer::{init_device_key, DeviceSigner};
use reader_fw::catalogue::Lang;
use reader_fw::device::{Identity, Reader};
use reader_sim::{button_centre, card_front, CardCamera, CardFace, InProcessReader, SimBoard};
use upstream_ref::{InProcess, Patient, Reference, ReferenceConfig};

const PIN: &str = "4826";
const SERIAL: [u8; 4] = [0x30, 0, 0, 1];

type BenchKiosk = Kiosk<SharedCard, InProcessReader, InProcess<SystemClock>, SystemClock>;

/// Stage times and the moment each screen came.
#[derive(Default)]
struct Times {
    stages: HashMap<&'static str, Vec<Duration>>,
    screens: Vec<(String, Instant)>,
}

#[derive(Clone, Default)]
struct Clocked(Arc<Mutex<Times>>);

impl Observer for Clocked {
    fn screen(&mut self, screen: &PatientScreen, _seq: u16) {
        let name = screen.slug();
        self.0.lock().unwrap().screens.push((name, Instant::now()));
    }
    fn stage(&mut self, stage: &'static str, _outcome: &str, elapsed: Duration) {
        self.0
            .lock()
            .unwrap()
            .stages
            .entry(stage)
            .or_default()
            .push(elapsed);
    }
}

fn kiosk(
    dir: &std::path::Path,
    face: Option<&(
        Arc<FaceEngine>,
        Arc<CardFrontReader>,
        image::RgbImage,
        std::path::PathBuf,
    )>,
    times: Clocked,
) -> BenchKiosk {
    let signer = init_device_key(&dir.join("device.key")).unwrap();
    let mut patients = HashMap::new();
    patients.insert(
        serial_text(&SERIAL),
        Patient {
            qualification: Qualification::Valid,
            registered: true,
            name_kana: "ベンチ タロウ".into(),
            specific_health_checkup: true,
        },
    );
    let reference = Reference::new(
        ReferenceConfig {
            device_keys: vec![signer.public_key().to_vec()],
            jpki_cas: vec![myna_card_sim::pki::AUTH_CA_CERT.to_vec()],
            patients,
            nonce_ttl: Duration::from_secs(60),
        },
        Box::new(SystemRng::default()),
    );
    let courier = Courier::new(
        Outbox::open(&dir.join("kiosk.db")).unwrap(),
        InProcess::new(reference, SystemClock),
        Backoff::default(),
    );
    let (mut board, _) = SimBoard::for_tests(11);
    if let Some((_, _, card_frame, live)) = face {
        board.patient_camera = myna_hal::sim::SimCamera::from_path(live).unwrap();
        board.card_camera = myna_hal::sim::SimCamera::from_images(vec![card_frame.clone()]);
    }
    let reader = Reader::new(
        board,
        Identity {
            firmware: 1,
            slot: 0,
            boot_id: 5,
        },
        Lang::Ja,
    );
    let link = ReaderLink::open(InProcessReader::new(reader), || 77).unwrap();
    let mut kiosk = assemble(
        Parts {
            link,
            courier,
            signer: Arc::new(signer),
            reception: ReceptionConfig::default(),
            verify_deadline: Duration::from_secs(10),
            confirm_screens: false,
            face: face.map(|(engine, reader, _, _)| FacePath {
                engine: engine.clone(),
                card_front: reader.clone(),
            }),
            face_work: FaceWork::InPlace,
            staff: None,
            observer: Box::new(times),
        },
        SystemClock,
    )
    .unwrap();
    kiosk.start();
    kiosk
}

/// Everything the reader has to say, stepped.
fn pump(kiosk: &mut BenchKiosk) {
    while kiosk.poll_link() {}
}

fn press(kiosk: &mut BenchKiosk, name: &str) {
    let reader = &mut kiosk.ports().link().transport().reader;
    let (x, y) = button_centre(reader, name).unwrap_or_else(|| panic!("no {name} button"));
    reader.board().touch.press(x, y);
    pump(kiosk);
}

fn shown(kiosk: &BenchKiosk) -> String {
    format!("{:?}", kiosk.core().screen().1)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One reception; returns (placed → method screen, chosen → Done).
fn reception(kiosk: &mut BenchKiosk, card: &SharedCard, face: bool) -> (Duration, Duration) {
    let placed = Instant::now();
    kiosk.on_event(KioskEvent::CardInserted(card.clone()));
    pump(kiosk);
    // Without a face path the kiosk offers no choice: the PIN pad is the
    // method screen.
    let choice = shown(kiosk).starts_with("ChooseMethod");
    assert!(
        choice || (!face && shown(kiosk).starts_with("PinEntry")),
        "{}",
        shown(kiosk)
    );
    let method = placed.elapsed();
    let chosen = Instant::now();
    if face {
        press(kiosk, "face");
    } else {
        if choice {
            press(kiosk, "pin");
        }
        for digit in PIN.chars() {
            press(kiosk, &format!("digit {digit}"));
        }
    }
    assert!(
        shown(kiosk).starts_with("ConsentOverview"),
        "{}",
        shown(kiosk)
    );
    press(kiosk, "yes");
    assert!(shown(kiosk).starts_with("Done"), "{}", shown(kiosk));
    let done = chosen.elapsed();
    kiosk.on_event(KioskEvent::CardRemoved);
    pump(kiosk);
    (method, done)
}

fn report(
    label: &str,
    runs: usize,
    kiosk: &mut BenchKiosk,
    card: &SharedCard,
    face: bool,
    times: &Clocked,
) {
    let mut method = Vec::new();
    let mut done = Vec::new();
    for _ in 0..runs {
        let (m, d) = reception(kiosk, card, face);
        method.push(m);
        done.push(d);
    }
    println!(
        "{label}: {runs} receptions; median card placed → method screen {:.1} ms, {} chosen → Done {:.1} ms (no think time)",
        ms(median(&mut method)),
        if face { "face" } else { "PIN typed" },
        ms(median(&mut done))
    );
    let mut t = times.0.lock().unwrap();
    let mut stages: Vec<_> = t.stages.iter_mut().collect();
    stages.sort_by_key(|(k, _)| *k);
    for (stage, values) in stages {
        println!("  {stage:<16} median {:>8.1} ms", ms(median(values)));
    }
    t.stages.clear();
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn main() {
    let receptions: usize = std::env::var("MYNA_RECEPTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let card = SharedCard::new(&personality(SERIAL, PIN)).unwrap();
    // Benches run in the crate's folder: find ../shared from the workspace.
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let models = (std::env::var_os("MYNAREADER_MODELS").is_none()
        && shared.join("models/MODELS.md").exists())
    .then(|| shared.join("models"));
    let faces = default_faces().or_else(|| {
        let dir = shared.join("faces/dev-card");
        dir.join("pairs.csv").exists().then_some(dir)
    });

    // Face receptions, where the models, the dev faces and fonts are here.
    let kit = (|| {
        let (card_photo, live) = face_pair(faces.as_deref()?)?;
        let engine = FaceEngine::load(FaceSettings {
            models_dir: models.clone(),
            ..FaceSettings::default()
        })
        .ok()?;
        let font_files = fonts::find(&[]);
        let font = std::fs::read(font_files.first()?).ok()?;
        let reader = CardFrontReader::load(
            &ocr::text_models_dir(models.as_deref()),
            CardFrontSettings::default(),
            2,
        )
        .ok()?;
        let frame = card_front(&CardFace {
            birth: (1980, 2, 17),
            expiry: (2035, 2, 17),
            security_code: "2285".into(),
            camera: Some(CardCamera {
                font: Arc::new(font),
                conditions: Conditions {
                    scale: 0.6,
                    angle: 4.0,
                    ..Conditions::default()
                },
            }),
            ..CardFace::default()
        });
        Some((Arc::new(engine), Arc::new(reader), frame, live, card_photo))
    })();
    match kit {
        Some((engine, reader, frame, live, card_photo)) => {
            let mut p = personality(SERIAL, PIN);
            p.photo_jp2 = std::fs::read(card_photo).unwrap();
            let face_card = SharedCard::new(&p).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let times = Clocked::default();
            let face = (engine, reader, frame, live);
            let mut k = kiosk(dir.path(), Some(&face), times.clone());
            report("face", 10, &mut k, &face_card, true, &times);
        }
        None => println!("face: skipped (no models, ../shared/faces/dev-card or Japanese fonts)"),
    }

    let dir = tempfile::tempdir().unwrap();
    let times = Clocked::default();
    let mut k = kiosk(dir.path(), None, times.clone());
    report("pin", 20, &mut k, &card, false, &times);

    // One kiosk, many receptions: memory and descriptors stay flat.
    let start = Instant::now();
    let (rss0, fds0) = (rss_kib(), fds());
    let mut marks = Vec::new();
    for i in 1..=receptions {
        reception(&mut k, &card, false);
        times.0.lock().unwrap().screens.clear();
        if i == receptions / 10 || i == receptions / 2 || i == receptions {
            marks.push((i, rss_kib(), fds()));
        }
    }
    println!(
        "{receptions} consecutive PIN receptions in one kiosk: {:.1} s ({:.1} ms each)",
        start.elapsed().as_secs_f64(),
        ms(start.elapsed()) / receptions as f64
    );
    println!("  start              RSS {rss0:>7} KiB  fds {fds0}");
    for (i, rss, fds) in marks {
        println!("  after {i:>5}        RSS {rss:>7} KiB  fds {fds}");
    }
}

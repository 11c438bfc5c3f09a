//! `mynareader demo`: a whole simulated reception, three patients, on
//! embedded defaults and loopback only.
//!
//! The kiosk runs exactly as in a clinic — the reception core, the kiosk
//! event loop and its ports, the reader link, the card layer, the
//! card-front reader, the face models, the outbox and courier — against
//! stand-ins for the outside world: `reader-sim` (the reader, a separate
//! process over TCP), `upstream-ref` (the reference upstream, a separate
//! process over HTTP) and the card emulator's chip in this process (pcscd is
//! not used: said on screen). The patients are played through the reader's
//! touch panel, by what it shows; staff switch 目視 through the kiosk's
//! control socket. 照合番号B is never given by hand: the kiosk reads it
//! from the card camera's frame.
//!
//! Writes to `--out`: every screen as `NN-<screen>.png`, every signed
//! message as `NN-<kind>.jws`, `device-public.pem` and `summary.json`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use myna_card_sim::card::Card;
use myna_card_sim::personality::{personalise, Personality};
use mynareader::card::{ApduTransport, TransportError};
use mynareader::card_front::{fonts, CardFrontReader, CardFrontSettings, GlyphModel};
use mynareader::face::{FaceEngine, FaceSettings};
use mynareader::kiosk::control;
use mynareader::kiosk::{Kiosk, KioskEvent, KioskPorts, Observer, PortSettings};
use mynareader::link::tcp::TcpTransport;
use mynareader::link::ReaderLink;
use mynareader::reception::{Alert, PatientScreen, ReceptionConfig};
use mynareader::upstream::clock::SystemClock;
use mynareader::upstream::courier::{Backoff, Courier};
use mynareader::upstream::http::{HttpOptions, HttpUpstream};
use mynareader::upstream::messages::{DeviceInfo, MessageKind, VerifyResponse};
use mynareader::upstream::outbox::Outbox;
use mynareader::upstream::signer::{init_device_key, public_key_pem, DeviceSigner};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::hint::{Failure, Hint};

/// Options of the demo.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the screens, messages and summary go (default: a new folder
    /// `mynareader-demo-<time>` under the current directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The face models folder (default: MYNAREADER_MODELS, ../shared/models).
    #[arg(long)]
    models: Option<PathBuf>,
    /// The development faces with a card photo (default: ../shared/faces/dev-card).
    #[arg(long)]
    faces: Option<PathBuf>,
    /// Keep the kiosk's own files (outbox database, device key, control
    /// socket) in this folder instead of a temporary one removed at the end
    /// (tests scan it for secrets).
    #[arg(long)]
    work: Option<PathBuf>,
}

/// 照合番号B the emulated cards hold, and what the simulated card front
/// prints: 昭和55年2月17日生, 2035年まで有効, security code 2285.
const CARD_BIRTH: &str = "1980-02-17";
const CARD_EXPIRY: &str = "2035-02-17";
const CARD_CODE: &str = "2285";
/// The PIN patient's PIN, and the wrong one typed first.
const PIN: &str = "4826";
const WRONG_PIN: &str = "7391";

/// One patient of the script.
struct Patient {
    label: &'static str,
    method: &'static str,
    serial: [u8; 4],
    name_kana: &'static str,
    registered: bool,
    checkup: bool,
}

const PATIENTS: [Patient; 3] = [
    Patient {
        label: "face",
        method: "face",
        serial: [0x10, 0x00, 0x00, 0x01],
        name_kana: "バンゴウ ハナコ",
        registered: true,
        checkup: true,
    },
    Patient {
        label: "pin-one-wrong-try",
        method: "pin",
        serial: [0x10, 0x00, 0x00, 0x02],
        name_kana: "スズキ イチロウ",
        registered: true,
        checkup: false,
    },
    Patient {
        label: "visual-check",
        method: "visual",
        serial: [0x10, 0x00, 0x00, 0x03],
        name_kana: "タナカ ヨシコ",
        registered: false,
        checkup: true,
    },
];

fn serial_text(serial: &[u8]) -> String {
    serial
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The emulated chip, shared between placements of the same card (its
/// tries survive being taken off the reader).
#[derive(Clone)]
struct SharedCard(Arc<Mutex<Card>>);

impl ApduTransport for SharedCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let mut card = self.0.lock().map_err(|_| TransportError::CardRemoved)?;
        Ok(Zeroizing::new(card.process(apdu)))
    }
}

/// A child process killed when the demo ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Time since the demo started, for every line it prints.
#[derive(Clone, Copy)]
struct Stopwatch(Instant);

impl Stopwatch {
    fn say(&self, text: &str) {
        println!("[{:>7.3} s] {text}", self.0.elapsed().as_secs_f64());
    }
}

/// What the kiosk did for one patient.
#[derive(Debug, Default, Clone, Serialize)]
struct PatientRecord {
    patient: String,
    method: String,
    screens: Vec<String>,
    messages: Vec<String>,
    upstream_answers: Vec<serde_json::Value>,
    alerts: Vec<String>,
    stages_ms: Vec<(String, u64)>,
    ms: u64,
}

/// Shared between the kiosk's observer and the script.
#[derive(Default)]
struct Transcript {
    files: u32,
    patients: Vec<PatientRecord>,
}

impl Transcript {
    fn current(&mut self) -> Option<&mut PatientRecord> {
        self.patients.last_mut()
    }
}

/// The kiosk-side observer: prints each step, saves each screen and
/// message.
struct DemoObserver {
    clock: Stopwatch,
    out: PathBuf,
    control: SimControl,
    transcript: Arc<Mutex<Transcript>>,
}

/// The screen's kind in kebab case (`ChooseMethod { .. }` → `choose-method`).
fn screen_name(screen: &PatientScreen) -> String {
    let debug = format!("{screen:?}");
    let ident = debug.split([' ', '{', '(']).next().unwrap_or_default();
    let mut out = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl DemoObserver {
    fn next_file(&self) -> u32 {
        let mut t = self.transcript.lock().unwrap_or_else(|e| e.into_inner());
        t.files += 1;
        t.files
    }

    fn record(&self, f: impl FnOnce(&mut PatientRecord)) {
        let mut t = self.transcript.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = t.current() {
            f(p);
        }
    }
}

impl Observer for DemoObserver {
    fn screen(&mut self, screen: &PatientScreen, _seq: u16) {
        let name = screen_name(screen);
        let n = self.next_file();
        let file = self.out.join(format!("{n:02}-{name}.png"));
        self.clock.say(&format!("  screen  {name}"));
        let answer = self.control.ask(&format!("screenshot {}", file.display()));
        if !answer.as_deref().is_ok_and(|a| a.starts_with("ok")) {
            self.clock
                .say(&format!("  (no screenshot of {name}: {answer:?})"));
        }
        self.record(|p| p.screens.push(name));
    }

    fn stage(&mut self, stage: &'static str, outcome: &str, elapsed: Duration) {
        let ms = elapsed.as_millis() as u64;
        self.clock
            .say(&format!("  kiosk   {stage}: {outcome} ({ms} ms)"));
        self.record(|p| p.stages_ms.push((stage.to_string(), ms)));
    }

    fn message(&mut self, kind: MessageKind, jws: &str) {
        let n = self.next_file();
        let name = format!("{n:02}-{}.jws", kind.as_str());
        if let Err(e) = std::fs::write(self.out.join(&name), jws) {
            self.clock.say(&format!("  cannot write {name}: {e}"));
        }
        self.clock.say(&format!(
            "  signed  {} message ({} bytes) → {name}",
            kind.as_str(),
            jws.len()
        ));
        self.record(|p| p.messages.push(name));
    }

    fn verified(&mut self, answer: &VerifyResponse) {
        self.clock.say(&format!(
            "  upstream qualification {:?}, registered {}",
            answer.qualification, answer.registered
        ));
        let value = serde_json::to_value(answer).unwrap_or_default();
        self.record(|p| p.upstream_answers.push(value));
    }

    fn alert(&mut self, alert: Alert) {
        self.clock.say(&format!("  staff   alert {alert:?}"));
        self.record(|p| p.alerts.push(format!("{alert:?}")));
    }
}

/// The simulator's control socket.
struct SimControl {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl SimControl {
    fn connect(address: &str) -> std::io::Result<SimControl> {
        let stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(SimControl {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }

    fn ask(&mut self, line: &str) -> std::io::Result<String> {
        writeln!(self.writer, "{line}")?;
        let mut answer = String::new();
        self.reader.read_line(&mut answer)?;
        Ok(answer.trim_end().to_string())
    }

    /// The screen on the reader (`ChooseMethod { face_only: false }`).
    fn screen(&mut self) -> std::io::Result<String> {
        let state = self.ask("state")?;
        Ok(state
            .split_once("screen=")
            .and_then(|(_, rest)| rest.split_once(" visual_check="))
            .map(|(screen, _)| screen.to_string())
            .unwrap_or_default())
    }

    /// Waits until the reader shows a screen starting with `prefix` (the
    /// patient reads the screen before touching it).
    fn wait_for(&mut self, prefix: &str) -> Result<String, Failure> {
        let start = Instant::now();
        loop {
            let screen = self
                .screen()
                .map_err(|e| Failure::new(format!("reader-sim control: {e}")))?;
            if screen.starts_with(prefix) {
                return Ok(screen);
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Err(Failure::new(format!(
                    "the reader shows {screen:?}, not {prefix:?}, after 30 s"
                ))
                .hint(Hint::ReaderAnswers));
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    fn tap(&mut self, button: &str) -> Result<(), Failure> {
        let answer = self
            .ask(&format!("tap {button}"))
            .map_err(|e| Failure::new(format!("reader-sim control: {e}")))?;
        if answer.starts_with("ok") {
            Ok(())
        } else {
            Err(Failure::new(format!("tap {button}: {answer}")))
        }
    }
}

/// A binary built beside this one.
fn sibling(name: &str) -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::new(format!("cannot find this program: {e}")))?;
    let path = exe
        .parent()
        .map(|d| d.join(name))
        .unwrap_or_else(|| PathBuf::from(name));
    if path.exists() {
        Ok(path)
    } else {
        Err(Failure::new(format!("{} is not built", path.display())).hint(Hint::BuildWorkspace))
    }
}

/// Starts `program` and reads its stdout until each of `prefixes` was
/// printed; returns what followed each.
fn spawn_and_read(
    program: &Path,
    args: &[String],
    prefixes: &[&str],
) -> Result<(ChildGuard, Vec<String>), Failure> {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        // Their own notes (connections coming and going) are not the demo's.
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::new(format!("cannot start {}: {e}", program.display())))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Failure::new("no stdout"))?;
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut found = Vec::new();
    for prefix in prefixes {
        loop {
            let Some(Ok(line)) = lines.next() else {
                return Err(Failure::new(format!(
                    "{} stopped before saying {prefix:?}",
                    program.display()
                )));
            };
            if let Some(rest) = line.strip_prefix(prefix) {
                found.push(rest.trim().to_string());
                break;
            }
        }
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((guard, found))
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| {
        Failure::new(format!("cannot write {}: {e}", path.display())).hint(Hint::WritableFolder)
    })
}

/// The development pair the face patient uses: a card photo and a live
/// photo of the same person.
fn face_pair(faces: &Path) -> Option<(PathBuf, PathBuf)> {
    let pairs = std::fs::read_to_string(faces.join("pairs.csv")).ok()?;
    pairs.lines().skip(1).find_map(|row| {
        let mut cols = row.split(',');
        let (a, b, same) = (cols.next()?, cols.next()?, cols.next()?);
        (same.trim() == "1" && a.ends_with("_card.jp2") && !b.ends_with(".jp2"))
            .then(|| (faces.join(a), faces.join(b)))
    })
}

fn default_faces() -> PathBuf {
    ["../shared/faces/dev-card", "../../shared/faces/dev-card"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("pairs.csv").exists())
        .unwrap_or_else(|| PathBuf::from("../shared/faces/dev-card"))
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<(), Failure> {
    let clock = Stopwatch(Instant::now());
    let out = match &args.out {
        Some(out) => out.clone(),
        None => {
            let now = time::OffsetDateTime::now_utc();
            PathBuf::from(format!(
                "mynareader-demo-{:04}{:02}{:02}-{:02}{:02}{:02}",
                now.year(),
                now.month() as u8,
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            ))
        }
    };
    std::fs::create_dir_all(&out).map_err(|e| {
        Failure::new(format!("cannot create {}: {e}", out.display())).hint(Hint::WritableFolder)
    })?;
    let temporary = tempfile::tempdir()
        .map_err(|e| Failure::new(format!("cannot make a temporary folder: {e}")))?;
    let work = match &args.work {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::new(format!("cannot create {}: {e}", dir.display()))
                    .hint(Hint::WritableFolder)
            })?;
            dir.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    println!("mynareader demo — a simulated reception, three patients");
    println!("  output: {}", out.display());
    println!("  card: the emulator's chip in this process (pcscd not used)");

    // The kiosk's device key and the upstream that trusts it.
    let signer = init_device_key(&work.as_path().join("device.key"))
        .map_err(|e| Failure::new(format!("device key: {e}")))?;
    write(
        &out.join("device-public.pem"),
        public_key_pem(signer.public_key()),
    )?;
    let key_id = signer.key_id().to_string();
    let signer: Arc<dyn DeviceSigner> = Arc::new(signer);
    let ca = work.as_path().join("jpki-auth-ca.der");
    write(&ca, myna_card_sim::pki::AUTH_CA_CERT)?;
    let patients: serde_json::Map<String, serde_json::Value> = PATIENTS
        .iter()
        .map(|p| {
            (
                serial_text(&p.serial),
                serde_json::json!({
                    "qualification": "valid",
                    "registered": p.registered,
                    "name_kana": p.name_kana,
                    "specific_health_checkup": p.checkup,
                }),
            )
        })
        .collect();
    let patients_file = work.as_path().join("patients.json");
    write(
        &patients_file,
        serde_json::Value::Object(patients).to_string(),
    )?;
    let (_upstream, said) = spawn_and_read(
        &sibling("upstream-ref")?,
        &[
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--device-key".into(),
            out.join("device-public.pem").display().to_string(),
            "--jpki-ca".into(),
            ca.display().to_string(),
            "--patients".into(),
            patients_file.display().to_string(),
        ],
        &["listening on "],
    )?;
    let upstream_url = said[0].clone();
    clock.say(&format!("upstream-ref listening on {upstream_url}"));

    // The card-front reader, trained from the machine's Japanese fonts.
    let start = Instant::now();
    let font_files = fonts::find(&[]);
    let font_bytes: Vec<Vec<u8>> = fonts::load(&[]).into_iter().map(|(_, b)| b).collect();
    let card_front = if font_bytes.is_empty() {
        clock.say("no Japanese fonts: the face path is off (run scripts/setup-debian)");
        None
    } else {
        let model = GlyphModel::train(&font_bytes);
        clock.say(&format!(
            "card-front reader trained on {} fonts ({} ms)",
            font_bytes.len(),
            start.elapsed().as_millis()
        ));
        Some(Arc::new(CardFrontReader::new(
            model,
            CardFrontSettings::default(),
        )))
    };

    // The face models and a development pair.
    let start = Instant::now();
    let faces = args.faces.clone().unwrap_or_else(default_faces);
    let face = match FaceEngine::load(FaceSettings {
        models_dir: args.models.clone(),
        ..FaceSettings::default()
    }) {
        Ok(engine) => match face_pair(&faces) {
            Some(pair) => {
                clock.say(&format!(
                    "face models loaded ({}, {} ms)",
                    engine.recogniser_name(),
                    start.elapsed().as_millis()
                ));
                Some((Arc::new(engine), pair))
            }
            None => {
                clock.say(&format!(
                    "no development faces in {}: the face patient is skipped (pass --faces)",
                    faces.display()
                ));
                None
            }
        },
        Err(e) => {
            clock.say(&format!(
                "face models not available ({e}): the face patient is skipped — run models/fetch or pass --models"
            ));
            None
        }
    };
    let face = match (face, &card_front) {
        (Some(face), Some(_)) => Some(face),
        _ => None,
    };

    // The reader: reader-sim with the card front and the patient camera.
    let mut sim_args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--control",
        "127.0.0.1:0",
        "--seed",
        "7",
        "--card-birth",
        CARD_BIRTH,
        "--card-expiry",
        CARD_EXPIRY,
        "--card-code",
        CARD_CODE,
        "--card-angle",
        "4",
        "--card-at",
        "0.48,0.52",
        "--card-scale",
        "0.6",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(font) = font_files.first() {
        sim_args.extend(["--card-font".into(), font.display().to_string()]);
    }
    if let Some((_, (_, live))) = &face {
        sim_args.extend(["--patient-camera".into(), live.display().to_string()]);
    }
    let (_sim, said) = spawn_and_read(
        &sibling("reader-sim")?,
        &sim_args,
        &["link listening on ", "control listening on "],
    )?;
    let (link_address, control_address) = (said[0].clone(), said[1].clone());
    clock.say(&format!(
        "reader-sim listening on {link_address} (control {control_address})"
    ));

    // The kiosk: link, outbox, courier, ports, event loop, control socket.
    let mut transport = TcpTransport::connect(&link_address)
        .map_err(|e| Failure::new(format!("reader link: {e}")).hint(Hint::StartReaderSim))?;
    transport
        .set_read_timeout(Some(Duration::from_millis(250)))
        .map_err(|e| Failure::new(format!("reader link: {e}")))?;
    let sessions = rand::random::<u32>;
    let link = ReaderLink::open(transport, move || sessions().max(1))
        .map_err(|e| Failure::new(format!("reader link: {e}")).hint(Hint::ReaderAnswers))?;
    let info = link.info();
    clock.say(&format!(
        "reader firmware {} (slot {}), session open",
        info.firmware, info.slot
    ));
    let outbox = Outbox::open(&work.as_path().join("kiosk.db"))
        .map_err(|e| Failure::new(format!("outbox: {e}")))?;
    let upstream = HttpUpstream::new(&upstream_url, HttpOptions::default())
        .map_err(|e| Failure::new(format!("upstream client: {e}")))?;
    let courier = Courier::new(outbox, upstream, Backoff::default());
    let transcript = Arc::new(Mutex::new(Transcript::default()));
    let observer = DemoObserver {
        clock,
        out: out.clone(),
        control: SimControl::connect(&control_address)
            .map_err(|e| Failure::new(format!("reader-sim control: {e}")))?,
        transcript: transcript.clone(),
    };
    let mut ports = KioskPorts::new(
        link,
        courier,
        signer,
        PortSettings {
            verify_deadline: Duration::from_secs(10),
            device: DeviceInfo::new(&key_id, &info.firmware.to_string()),
            confirm_screens: true,
        },
    )
    .with_observer(Box::new(observer));
    if let Some(reader) = &card_front {
        ports = ports.with_card_front(reader.clone());
    }
    if let Some((engine, _)) = &face {
        ports = ports.with_face(engine.clone());
    }
    let kiosk = Kiosk::new(ReceptionConfig::default(), ports, SystemClock);
    let (events, inbox) = mpsc::channel::<KioskEvent<SharedCard>>();
    let socket = work.as_path().join("kiosk.sock");
    let control_events = events.clone();
    control::serve(&socket, move |asked| {
        control_events.send(KioskEvent::Control(asked)).is_ok()
    })
    .map_err(|e| Failure::new(format!("control socket: {e}")))?;
    let kiosk_thread = std::thread::Builder::new()
        .name("kiosk".into())
        .spawn(move || kiosk.run(inbox))
        .map_err(|e| Failure::new(format!("cannot start the kiosk: {e}")))?;

    let mut patient = SimControl::connect(&control_address)
        .map_err(|e| Failure::new(format!("reader-sim control: {e}")))?;
    patient.wait_for("Idle")?;

    let script_result = (|| -> Result<(), Failure> {
        for p in &PATIENTS {
            if p.method == "face" && face.is_none() {
                continue;
            }
            let mut personality = Personality {
                auth_cert_serial: p.serial.to_vec(),
                auth_cert_cn: format!("DEMO{}", serial_text(&p.serial).replace(':', "")),
                auth_pin: Some(PIN.into()),
                ..Personality::default()
            };
            if let Some((_, (card_photo, _))) = &face {
                if p.method == "face" {
                    personality.photo_jp2 = std::fs::read(card_photo)
                        .map_err(|e| Failure::new(format!("{}: {e}", card_photo.display())))?;
                }
            }
            let contents = personalise(&personality)
                .map_err(|e| Failure::new(format!("card emulator: {e}")))?;
            let card = SharedCard(Arc::new(Mutex::new(Card::new(contents))));
            {
                let mut t = transcript.lock().unwrap_or_else(|e| e.into_inner());
                t.patients.push(PatientRecord {
                    patient: p.label.into(),
                    method: p.method.into(),
                    ..PatientRecord::default()
                });
            }
            println!();
            clock.say(&format!("patient {} ({})", p.label, p.name_kana));
            let started = Instant::now();
            play(p, &card, &events, &mut patient, &socket, clock)?;
            let ms = started.elapsed().as_millis() as u64;
            let mut t = transcript.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(record) = t.current() {
                record.ms = ms;
            }
            drop(t);
            clock.say(&format!("patient {} done in {ms} ms", p.label));
        }
        Ok(())
    })();

    // Let the courier deliver the consent records, then stop.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut pending = u64::MAX;
    while Instant::now() < deadline {
        let status = control::ask(&socket, "status").unwrap_or_default();
        pending = serde_json::from_str::<serde_json::Value>(&status)
            .ok()
            .and_then(|v| v["outbox_pending"].as_u64())
            .unwrap_or(u64::MAX);
        if pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = events.send(KioskEvent::Stop);
    let _ = kiosk_thread.join();
    script_result?;
    println!();
    clock.say(&format!(
        "outbox: {}",
        if pending == 0 {
            "every message delivered".to_string()
        } else {
            format!("{pending} message(s) still pending")
        }
    ));

    // What the upstream says it processed (request ids and duplicates).
    let received = HttpUpstream::new(&upstream_url, HttpOptions::default())
        .ok()
        .and_then(|u| u.get_json::<serde_json::Value>("/v1/received").ok())
        .unwrap_or_default();
    let t = transcript.lock().unwrap_or_else(|e| e.into_inner());
    let summary = serde_json::json!({
        "card": "emulated chip in process (pcscd not used)",
        "face": face.is_some(),
        "patients": t.patients,
        "outbox_pending": pending,
        "upstream_received": received,
    });
    write(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary).unwrap_or_default(),
    )?;
    for p in &t.patients {
        println!(
            "  {:<20} {:<7} {:>6} ms  {}",
            p.patient,
            p.method,
            p.ms,
            p.screens.join(" → ")
        );
    }
    println!(
        "wrote {} screens, {} messages, device-public.pem and summary.json to {}",
        t.patients.iter().map(|p| p.screens.len()).sum::<usize>(),
        t.patients.iter().map(|p| p.messages.len()).sum::<usize>(),
        out.display()
    );
    if pending != 0 {
        return Err(Failure::new("the upstream did not take every message"));
    }
    Ok(())
}

/// Plays one patient (and the staff for 目視) through the reader's panel.
fn play(
    p: &Patient,
    card: &SharedCard,
    events: &mpsc::Sender<KioskEvent<SharedCard>>,
    reader: &mut SimControl,
    socket: &Path,
    clock: Stopwatch,
) -> Result<(), Failure> {
    let place = || {
        events
            .send(KioskEvent::CardInserted(card.clone()))
            .map_err(|_| Failure::new("the kiosk stopped"))
    };
    let take = || {
        events
            .send(KioskEvent::CardRemoved)
            .map_err(|_| Failure::new("the kiosk stopped"))
    };
    let staff = |line: &str| -> Result<(), Failure> {
        let answer = control::ask(socket, line)
            .map_err(|e| Failure::new(format!("kiosk control: {e}")).hint(Hint::StartKiosk))?;
        clock.say(&format!("staff   {line} → {answer}"));
        Ok(())
    };
    let press = |reader: &mut SimControl, button: &str| -> Result<(), Failure> {
        clock.say(&format!("patient taps {button}"));
        reader.tap(button)
    };
    let enter = |reader: &mut SimControl, pin: &str| -> Result<(), Failure> {
        clock.say("patient enters a PIN on the shuffled pad");
        for digit in pin.chars() {
            reader.tap(&format!("digit {digit}"))?;
        }
        Ok(())
    };
    match p.method {
        "face" => {
            clock.say("patient places the card");
            place()?;
            reader.wait_for("ChooseMethod")?;
            press(reader, "face")?;
            reader.wait_for("ConsentOverview")?;
            press(reader, "yes")?;
        }
        "pin" => {
            clock.say("patient places the card");
            place()?;
            reader.wait_for("ChooseMethod")?;
            press(reader, "pin")?;
            reader.wait_for("PinEntry")?;
            enter(reader, WRONG_PIN)?;
            let screen = reader.wait_for("PinEntry { tries_left: 2")?;
            clock.say(&format!("patient sees {screen}"));
            enter(reader, PIN)?;
            reader.wait_for("ConsentOverview")?;
            press(reader, "one-by-one")?;
            reader.wait_for("ConsentItem")?;
            press(reader, "yes")?;
            reader.wait_for("ConsentItem(Diagnosis")?;
            press(reader, "no")?;
        }
        _ => {
            staff("visual-check on staff-07 difficult-to-visit")?;
            clock.say("patient places the card");
            place()?;
            reader.wait_for("VisualCheck")?;
            press(reader, "confirm")?;
            reader.wait_for("Registration")?;
            press(reader, "yes")?;
            reader.wait_for("RegistrationDone")?;
            press(reader, "confirm")?;
            reader.wait_for("ConsentOverview")?;
            press(reader, "yes")?;
        }
    }
    reader.wait_for("Done")?;
    clock.say("patient takes the card");
    take()?;
    reader.wait_for("Idle")?;
    if p.method == "visual" {
        let status = control::ask(socket, "status").unwrap_or_default();
        let on = serde_json::from_str::<serde_json::Value>(&status)
            .ok()
            .and_then(|v| v["visual_check"].as_bool());
        if on != Some(false) {
            return Err(Failure::new(format!(
                "目視 outlived its reception: status {status}"
            )));
        }
        clock.say("staff   目視 is off again after the reception");
    }
    Ok(())
}

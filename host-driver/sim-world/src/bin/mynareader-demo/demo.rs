//! The demo's script: a whole simulated reception, three patients, on
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

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use myna_card_front::{fonts, ocr, CardFrontReader, CardFrontSettings};
use myna_face::{FaceEngine, FaceSettings};
use myna_kiosk::Observer;
use myna_reception::{Alert, PatientScreen};
use myna_sim_world::{
    default_faces, face_pair, patient_entry, personality, serial_text, Rig, RigError, RigSetup,
    SharedCard, SimControl, CARD_FRONT_ARGS,
};
use myna_upstream::messages::{MessageKind, VerifyResponse};
use serde::Serialize;

use crate::failure::{Failure, Hint};

/// Prints a line; a closed stdout (`| head`) is not an error.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

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
    /// The face patient's camera picture instead of their live photo: a
    /// printed photo or a phone screen held up (`face-attack-synth` makes
    /// them) shows the attack path: face refused, staff alerted, the PIN.
    #[arg(long)]
    patient_camera: Option<PathBuf>,
    /// Keep the kiosk's own files (outbox database, device key, control
    /// socket) in this folder instead of a temporary one removed at the end
    /// (tests scan it for secrets).
    #[arg(long)]
    work: Option<PathBuf>,
}

/// The PIN patient's PIN, and the wrong one typed first.
const PIN: &str = "4826";
const WRONG_PIN: &str = "7391";
/// The staff member who switches 目視 on, and the password of the account
/// the demo makes for them in its temporary database.
const STAFF: &str = "staff-07";
const STAFF_PASSWORD: &str = "demo-passphrase";

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

/// Time since the demo started, for every line it prints.
#[derive(Clone, Copy)]
struct Stopwatch(Instant);

impl Stopwatch {
    /// Prints one line (a closed stdout, e.g. `| head`, is not an error).
    fn say(&self, text: &str) {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stdout().lock(),
            "[{:>7.3} s] {text}",
            self.0.elapsed().as_secs_f64()
        );
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
        let name = screen.slug();
        // The kiosk's first `Idle`, drawn while the demo is still setting
        // up, belongs to no patient: it is not saved, so the files and the
        // summary list the same screens.
        let before_first = self
            .transcript
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .patients
            .is_empty();
        if before_first {
            self.clock
                .say(&format!("  screen  {name} (before the first patient)"));
            return;
        }
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

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| {
        Failure::new(format!("cannot write {}: {e}", path.display())).hint(Hint::WritableFolder)
    })
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
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| temporary.path().to_path_buf());
    out!("mynareader demo — a simulated reception, three patients");
    out!("  output: {}", out.display());
    out!("  card: the emulator's chip in this process (pcscd not used)");

    // The card-front reader: PP-OCRv5's text models, checked and optimised
    // once. The simulated card camera draws the card in a Japanese font.
    let start = Instant::now();
    let font_files = fonts::find(&[]);
    let text_models = ocr::text_models_dir(args.models.as_deref());
    let card_front = match (
        font_files.is_empty(),
        CardFrontReader::load(&text_models, CardFrontSettings::default(), 2),
    ) {
        (true, _) => {
            clock.say("no Japanese fonts to draw the card with: the face path is off (run scripts/setup-debian)");
            None
        }
        (false, Err(e)) => {
            clock.say(&format!(
                "card-front text models not available ({e}): the face path is off — run models/fetch or pass --models"
            ));
            None
        }
        (false, Ok(reader)) => {
            clock.say(&format!(
                "card-front text models loaded (PP-OCRv5 mobile, {} ms)",
                start.elapsed().as_millis()
            ));
            Some(Arc::new(reader))
        }
    };

    // The face models and a development pair.
    let start = Instant::now();
    let faces = args.faces.clone().or_else(default_faces);
    let pair = faces.as_deref().and_then(face_pair);
    let face = match (
        FaceEngine::load(FaceSettings {
            models_dir: args.models.clone(),
            ..FaceSettings::default()
        }),
        pair,
        &card_front,
    ) {
        (Ok(engine), Some(pair), Some(_)) => {
            clock.say(&format!(
                "face models loaded ({}, {} ms)",
                engine.recogniser_name(),
                start.elapsed().as_millis()
            ));
            Some((Arc::new(engine), pair))
        }
        (Err(e), _, _) => {
            clock.say(&format!(
                "face models not available ({e}): the face patient is skipped — run models/fetch or pass --models"
            ));
            None
        }
        (_, None, _) => {
            clock.say("no development faces (../shared/faces/dev-card): the face patient is skipped — pass --faces");
            None
        }
        (_, _, None) => None,
    };

    // The world: the upstream with its patients, the reader with the card
    // front and the patient camera.
    let mut setup = RigSetup::new(bin_dir()?, work.clone());
    setup.patients = PATIENTS
        .iter()
        .map(|p| {
            (
                serial_text(&p.serial),
                patient_entry("valid", p.registered, p.name_kana, p.checkup),
            )
        })
        .collect();
    setup.sim_args = [
        "--seed",
        "7",
        "--card-angle",
        "4",
        "--card-at",
        "0.48,0.52",
        "--card-scale",
        "0.6",
    ]
    .iter()
    .chain(CARD_FRONT_ARGS.iter())
    .map(|s| s.to_string())
    .collect();
    if let Some(font) = font_files.first() {
        setup
            .sim_args
            .extend(["--card-font".into(), font.display().to_string()]);
    }
    if let Some((engine, (_, live))) = &face {
        let camera = args.patient_camera.as_ref().unwrap_or(live);
        if args.patient_camera.is_some() {
            clock.say(&format!(
                "the face patient holds up {} to the camera",
                camera.display()
            ));
        }
        setup
            .sim_args
            .extend(["--patient-camera".into(), camera.display().to_string()]);
        setup.face = Some(engine.clone());
    }
    setup.card_front = card_front.clone();
    setup.staff = vec![(STAFF.into(), STAFF_PASSWORD.into())];
    setup.confirm_screens = true;
    let mut rig = Rig::start(setup).map_err(rig_failure)?;
    std::fs::write(out.join("device-public.pem"), &rig.device_public_pem).map_err(|e| {
        Failure::new(format!("cannot write device-public.pem: {e}")).hint(Hint::WritableFolder)
    })?;
    clock.say(&format!("upstream-ref listening on {}", rig.upstream_url));
    clock.say(&format!(
        "reader-sim listening on {} (control {})",
        rig.link_address, rig.control_address
    ));
    let transcript = Arc::new(Mutex::new(Transcript::default()));
    let observer = DemoObserver {
        clock,
        out: out.clone(),
        control: rig.reader_control().map_err(rig_failure)?,
        transcript: transcript.clone(),
    };
    rig.start_kiosk(Box::new(observer)).map_err(rig_failure)?;
    clock.say("kiosk started: reader session open, outbox ready");
    let mut patient = rig.reader_control().map_err(rig_failure)?;
    patient.wait_for("Idle").map_err(rig_failure)?;

    let script_result = (|| -> Result<(), Failure> {
        for p in &PATIENTS {
            if p.method == "face" && face.is_none() {
                continue;
            }
            let mut personality = personality(p.serial, PIN);
            if let Some((_, (card_photo, _))) = &face {
                if p.method == "face" {
                    personality.photo_jp2 = std::fs::read(card_photo)
                        .map_err(|e| Failure::new(format!("{}: {e}", card_photo.display())))?;
                }
            }
            let card = SharedCard::new(&personality).map_err(rig_failure)?;
            {
                let mut t = transcript.lock().unwrap_or_else(|e| e.into_inner());
                t.patients.push(PatientRecord {
                    patient: p.label.into(),
                    method: p.method.into(),
                    ..PatientRecord::default()
                });
            }
            out!("");
            clock.say(&format!("patient {} ({})", p.label, p.name_kana));
            let started = Instant::now();
            play(p, &card, &rig, &mut patient, clock).map_err(rig_failure)?;
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
    let pending = rig.wait_outbox_empty(Duration::from_secs(15));
    let received = rig.received();
    rig.stop_kiosk();
    script_result?;
    out!("");
    clock.say(&format!(
        "outbox: {}",
        if pending == 0 {
            "every message delivered".to_string()
        } else {
            format!("{pending} message(s) still pending")
        }
    ));
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
        out!(
            "  {:<20} {:<7} {:>6} ms  {}",
            p.patient,
            p.method,
            p.ms,
            p.screens.join(" → ")
        );
    }
    out!(
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

/// Where the workspace's binaries are: beside this one.
fn bin_dir() -> Result<PathBuf, Failure> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .ok_or_else(|| Failure::new("cannot find this program's folder"))
}

fn rig_failure(e: RigError) -> Failure {
    let hint = match &e {
        RigError::NotBuilt(_) => Some(Hint::BuildWorkspace),
        RigError::Screen { .. } | RigError::Tap { .. } | RigError::Link(_) => {
            Some(Hint::ReaderAnswers)
        }
        _ => None,
    };
    let failure = Failure::new(e.to_string());
    match hint {
        Some(hint) => failure.hint(hint),
        None => failure,
    }
}

/// Plays one patient (and the staff for 目視) through the reader's panel.
fn play(
    p: &Patient,
    card: &SharedCard,
    rig: &Rig,
    reader: &mut SimControl,
    clock: Stopwatch,
) -> Result<(), RigError> {
    let press = |reader: &mut SimControl, button: &str| {
        clock.say(&format!("patient taps {button}"));
        reader.tap(button)
    };
    let enter = |reader: &mut SimControl, pin: &str| {
        clock.say("patient enters a PIN on the shuffled pad");
        reader.enter_pin(pin)
    };
    let staff = |reason: &str| -> Result<(), RigError> {
        let answer = rig.visual_check_on(STAFF, STAFF_PASSWORD, reason)?;
        clock.say(&format!(
            "staff   {STAFF} switches 目視 on ({reason}) with their password → {answer}"
        ));
        Ok(())
    };
    match p.method {
        "face" => {
            clock.say("patient places the card");
            rig.place(card)?;
            reader.wait_for("ChooseMethod")?;
            press(reader, "face")?;
            let screen = reader.wait_until_any(&["ConsentOverview", "FaceFailed"])?;
            if screen.starts_with("FaceFailed") {
                // PAD refused the picture: the face path is over, staff
                // were alerted; the patient takes the PIN.
                clock.say(&format!("patient sees {screen}: uses the PIN instead"));
                press(reader, "pin")?;
                reader.wait_for("PinEntry")?;
                enter(reader, PIN)?;
                reader.wait_for("ConsentOverview")?;
            }
            press(reader, "yes")?;
        }
        "pin" => {
            clock.say("patient places the card");
            rig.place(card)?;
            // Without the face models the kiosk offers no choice: the PIN
            // pad comes at once, as in a clinic.
            if reader
                .wait_until_any(&["ChooseMethod", "PinEntry"])?
                .starts_with("ChooseMethod")
            {
                press(reader, "pin")?;
                reader.wait_for("PinEntry")?;
            }
            enter(reader, WRONG_PIN)?;
            let screen = reader.wait_for("PinEntry { tries_left: 2")?;
            clock.say(&format!("patient sees {screen}"));
            enter(reader, PIN)?;
            reader.wait_for("ConsentOverview")?;
            press(reader, "one-by-one")?;
            reader.wait_for("ConsentItem")?;
            press(reader, "yes")?;
            reader.wait_for("ConsentItem { item: Diagnosis")?;
            press(reader, "no")?;
        }
        _ => {
            staff("difficult-to-visit")?;
            clock.say("patient places the card");
            rig.place(card)?;
            reader.wait_for("VisualCheck")?;
            press(reader, "confirm")?;
            // The terms of use, page by page, then the question.
            reader.wait_for("RegistrationTerms")?;
            for page in 2..=myna_catalogue::TERMS_PAGES {
                press(reader, "next")?;
                reader.wait_for(&format!("RegistrationTerms {{ page: {page} }}"))?;
            }
            press(reader, "confirm")?;
            reader.wait_for_exactly("Registration")?;
            press(reader, "yes")?;
            reader.wait_for("RegistrationDone")?;
            press(reader, "confirm")?;
            reader.wait_for("ConsentOverview")?;
            press(reader, "yes")?;
        }
    }
    reader.wait_for("Done")?;
    clock.say("patient takes the card");
    rig.take()?;
    reader.wait_for("Idle")?;
    if p.method == "visual" {
        let status = rig.status()?;
        if status["visual_check"] != false {
            return Err(RigError::Setup(format!(
                "目視 outlived its reception: status {status}"
            )));
        }
        clock.say("staff   目視 is off again after the reception");
    }
    Ok(())
}

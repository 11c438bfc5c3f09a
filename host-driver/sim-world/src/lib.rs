//! The simulated world a kiosk runs in for `mynareader demo` and the
//! end-to-end tests, as probe-rs keeps its fake probes in tree: the reader
//! (`reader-sim`, a separate process over TCP, with its control socket for
//! the patient's fingers), the reference upstream (`upstream-ref`, a separate
//! process over HTTP), the card (the emulator's chip in this process:
//! [`SharedCard`]), and the kiosk itself — the real event loop, ports,
//! outbox and control socket — on its own thread ([`Rig::start_kiosk`]).
//!
//! Not used by a kiosk in a clinic; nothing here is on the path of a real
//! card or reader.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use myna_card_sim::card::Card;
use myna_card_sim::personality::{personalise, Personality};
use zeroize::Zeroizing;

use myna_card::{ApduTransport, TransportError};
use myna_card_front::CardFrontReader;
use myna_face::FaceEngine;
use myna_kiosk::staff::StaffDb;
use myna_kiosk::{assemble, control, FacePath, FaceWork, KioskEvent, Observer, Parts};
use myna_link_host::tcp::TcpTransport;
use myna_link_host::{ReaderLink, ReaderLinkError};
use myna_reception::{Alert, PatientScreen, ReceptionConfig};
use myna_upstream::clock::SystemClock;
use myna_upstream::courier::{Backoff, Courier};
use myna_upstream::http::{HttpOptions, HttpUpstream};
use myna_upstream::messages::{MessageKind, VerifyResponse};
use myna_upstream::outbox::Outbox;
use myna_upstream::signer::{init_device_key, public_key_pem, FileSigner};

/// Errors of the rig (each says what to do in its message).
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    /// A program the rig runs is not built.
    #[error("{0} is not built (cargo build --workspace --bins)")]
    NotBuilt(PathBuf),
    /// A program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// Which.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A program stopped before it said it was ready.
    #[error("{program} stopped before saying {waiting_for:?}")]
    Silent {
        /// Which.
        program: String,
        /// What it should have printed.
        waiting_for: String,
    },
    /// A file or socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why.
        source: std::io::Error,
    },
    /// The reader link failed.
    #[error("reader link: {0}")]
    Link(#[from] ReaderLinkError),
    /// Setting up the kiosk failed.
    #[error("{0}")]
    Setup(String),
    /// The reader did not show what the patient waited for.
    #[error("the reader shows {shown:?}, not {wanted:?}, after {secs} s")]
    Screen {
        /// On the reader.
        shown: String,
        /// Waited for.
        wanted: String,
        /// How long.
        secs: u64,
    },
    /// A tap the simulator refused.
    #[error("tap {button}: {answer}")]
    Tap {
        /// The button.
        button: String,
        /// What the simulator said.
        answer: String,
    },
    /// The kiosk's loop is gone.
    #[error("the kiosk stopped")]
    KioskStopped,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> RigError {
    let context = context.into();
    move |source| RigError::Io { context, source }
}

/// The emulated chip, shared between placements of the same card (its
/// tries survive being taken off the reader).
#[derive(Clone)]
pub struct SharedCard {
    chip: Arc<Mutex<Card>>,
    /// A transfer to fail once: the header (hex) prefix, and how many
    /// matching APDUs to let through first.
    fail_next: Arc<Mutex<Option<(String, usize)>>>,
}

impl SharedCard {
    /// A card personalised as `personality` says.
    pub fn new(personality: &Personality) -> Result<SharedCard, RigError> {
        let contents =
            personalise(personality).map_err(|e| RigError::Setup(format!("card emulator: {e}")))?;
        Ok(SharedCard {
            chip: Arc::new(Mutex::new(Card::new(contents))),
            fail_next: Arc::new(Mutex::new(None)),
        })
    }

    /// Runs `f` on the chip (tests read its counters and log).
    pub fn with_chip<R>(&self, f: impl FnOnce(&mut Card) -> R) -> R {
        let mut card = self.chip.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut card)
    }

    /// The `nth` (from 1) APDU from now whose header starts with
    /// `header_hex` (`"0020"`: a VERIFY, or the tries read) fails in
    /// transfer, as with a bad contact; the chip never sees it.
    pub fn fail_transfer(&self, header_hex: &str, nth: usize) {
        *self.fail_next.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((header_hex.to_ascii_lowercase(), nth.saturating_sub(1)));
    }
}

impl ApduTransport for SharedCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        {
            let mut fail = self
                .fail_next
                .lock()
                .map_err(|_| TransportError::CardRemoved)?;
            let header = hex::encode(&apdu[..apdu.len().min(4)]);
            if let Some((prefix, skip)) = fail.as_mut() {
                if header.starts_with(prefix.as_str()) {
                    if *skip == 0 {
                        *fail = None;
                        return Err(TransportError::Disconnected);
                    }
                    *skip -= 1;
                }
            }
        }
        let mut card = self.chip.lock().map_err(|_| TransportError::CardRemoved)?;
        Ok(Zeroizing::new(card.process(apdu)))
    }
}

/// A child process, killed when dropped.
pub struct Process(Child);

impl Process {
    /// Takes charge of a started child.
    pub fn from_child(child: Child) -> Process {
        Process(child)
    }

    /// Kills it now.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A workspace binary in `dir`.
pub fn binary(dir: &Path, name: &str) -> Result<PathBuf, RigError> {
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(RigError::NotBuilt(path))
    }
}

/// Starts `program` and reads its stdout until each of `prefixes` was
/// printed; returns what followed each. Its stderr is dropped (its notes
/// about connections are not the caller's).
pub fn spawn(
    program: &Path,
    args: &[String],
    prefixes: &[&str],
) -> Result<(Process, Vec<String>), RigError> {
    let name = program.display().to_string();
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| RigError::Spawn {
            program: name.clone(),
            source,
        })?;
    let stdout = child.stdout.take();
    let process = Process(child);
    let Some(stdout) = stdout else {
        return Err(RigError::Silent {
            program: name,
            waiting_for: prefixes.join(", "),
        });
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut found = Vec::new();
    for prefix in prefixes {
        loop {
            let Some(Ok(line)) = lines.next() else {
                return Err(RigError::Silent {
                    program: name,
                    waiting_for: (*prefix).to_string(),
                });
            };
            if let Some(rest) = line.strip_prefix(prefix) {
                found.push(rest.trim().to_string());
                break;
            }
        }
    }
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((process, found))
}

/// The simulator's control socket: the patient's eyes and fingers.
pub struct SimControl {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl SimControl {
    /// Connects to `reader-sim --control`.
    pub fn connect(address: &str) -> Result<SimControl, RigError> {
        let stream = TcpStream::connect(address).map_err(io("reader-sim control"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(io("reader-sim control"))?;
        Ok(SimControl {
            writer: stream.try_clone().map_err(io("reader-sim control"))?,
            reader: BufReader::new(stream),
        })
    }

    /// One command, its one-line answer.
    pub fn ask(&mut self, line: &str) -> Result<String, RigError> {
        writeln!(self.writer, "{line}").map_err(io("reader-sim control"))?;
        let mut answer = String::new();
        self.reader
            .read_line(&mut answer)
            .map_err(io("reader-sim control"))?;
        Ok(answer.trim_end().to_string())
    }

    /// The screen on the reader, as the simulator names its view
    /// (`ChooseMethod { face_only: false }`).
    pub fn screen(&mut self) -> Result<String, RigError> {
        let state = self.ask("state")?;
        Ok(state
            .split_once("screen=")
            .and_then(|(_, rest)| rest.split_once(" visual_check="))
            .map(|(screen, _)| screen.to_string())
            .unwrap_or_default())
    }

    /// Waits (up to 30 s) until the reader shows a screen starting with
    /// `prefix`: the patient reads the screen before touching it.
    pub fn wait_for(&mut self, prefix: &str) -> Result<String, RigError> {
        self.wait_until(prefix, |screen| screen.starts_with(prefix))
    }

    /// Waits (up to 30 s) until the reader shows exactly `screen` (a
    /// screen without parameters whose name begins another's, like
    /// `Registration` and `RegistrationTerms`).
    pub fn wait_for_exactly(&mut self, screen: &str) -> Result<String, RigError> {
        self.wait_until(screen, |shown| shown == screen)
    }

    /// Waits (up to 30 s) until the reader shows a screen starting with
    /// one of `prefixes`, and says which.
    pub fn wait_until_any(&mut self, prefixes: &[&str]) -> Result<String, RigError> {
        self.wait_until(&prefixes.join(" or "), |screen| {
            prefixes.iter().any(|p| screen.starts_with(p))
        })
    }

    fn wait_until(
        &mut self,
        prefix: &str,
        done: impl Fn(&str) -> bool,
    ) -> Result<String, RigError> {
        let start = Instant::now();
        loop {
            let screen = self.screen()?;
            if done(&screen) {
                return Ok(screen);
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Err(RigError::Screen {
                    shown: screen,
                    wanted: prefix.into(),
                    secs: 30,
                });
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    /// Taps a button by name (`face`, `pin`, `yes`, `digit 7`, …).
    pub fn tap(&mut self, button: &str) -> Result<(), RigError> {
        let answer = self.ask(&format!("tap {button}"))?;
        if answer.starts_with("ok") {
            Ok(())
        } else {
            Err(RigError::Tap {
                button: button.into(),
                answer,
            })
        }
    }

    /// Types `pin` on the shuffled pad.
    pub fn enter_pin(&mut self, pin: &str) -> Result<(), RigError> {
        for digit in pin.chars() {
            self.tap(&format!("digit {digit}"))?;
        }
        Ok(())
    }
}

/// The certificate serial as the upstream keys its patients (`01:a2:…`).
pub fn serial_text(serial: &[u8]) -> String {
    serial
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What the kiosk did, as a test reads it.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// Screens drawn, by [`PatientScreen::slug`], in order.
    pub screens: Vec<String>,
    /// Signed messages stored for the upstream, by kind, in order.
    pub messages: Vec<MessageKind>,
    /// Verify answers.
    pub answers: Vec<VerifyResponse>,
    /// Staff alerts.
    pub alerts: Vec<Alert>,
    /// Stages with their outcome.
    pub stages: Vec<(String, String)>,
}

/// An observer that keeps a [`Record`].
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Record>>);

impl Recorder {
    /// The record so far, and a fresh one from now on.
    pub fn take(&self) -> Record {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn with(&self, f: impl FnOnce(&mut Record)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl Observer for Recorder {
    fn screen(&mut self, screen: &PatientScreen, _seq: u16) {
        let name = screen.slug();
        self.with(|r| r.screens.push(name));
    }
    fn stage(&mut self, stage: &'static str, outcome: &str, _elapsed: Duration) {
        self.with(|r| r.stages.push((stage.into(), outcome.into())));
    }
    fn message(&mut self, kind: MessageKind, _jws: &str) {
        self.with(|r| r.messages.push(kind));
    }
    fn verified(&mut self, answer: &VerifyResponse) {
        let answer = answer.clone();
        self.with(|r| r.answers.push(answer));
    }
    fn alert(&mut self, alert: Alert) {
        self.with(|r| r.alerts.push(alert));
    }
}

/// How to set the world up.
pub struct RigSetup {
    /// Where `reader-sim` and `upstream-ref` are.
    pub bin_dir: PathBuf,
    /// The kiosk's files: outbox database, device key, control socket.
    pub work: PathBuf,
    /// The upstream's patients: certificate serial → patient (JSON).
    pub patients: serde_json::Map<String, serde_json::Value>,
    /// More `reader-sim` arguments (card front, patient camera, seed).
    pub sim_args: Vec<String>,
    /// The card-front reader (the face path needs it).
    pub card_front: Option<Arc<CardFrontReader>>,
    /// The face models.
    pub face: Option<Arc<FaceEngine>>,
    /// The verify request's deadline.
    pub verify_deadline: Duration,
    /// Wait for the reader to confirm each screen (screenshots).
    pub confirm_screens: bool,
    /// The reception rules.
    pub reception: ReceptionConfig,
    /// Staff accounts to create (id, password).
    pub staff: Vec<(String, String)>,
}

impl RigSetup {
    /// Defaults: binaries beside this program, no face path.
    pub fn new(bin_dir: PathBuf, work: PathBuf) -> RigSetup {
        RigSetup {
            bin_dir,
            work,
            patients: serde_json::Map::new(),
            sim_args: Vec::new(),
            card_front: None,
            face: None,
            verify_deadline: Duration::from_secs(10),
            confirm_screens: false,
            reception: ReceptionConfig::default(),
            staff: Vec::new(),
        }
    }
}

type KioskThread = JoinHandle<()>;

/// The running world.
pub struct Rig {
    setup: RigSetup,
    /// The upstream's base URL.
    pub upstream_url: String,
    /// `reader-sim`'s link address.
    pub link_address: String,
    /// `reader-sim`'s control address.
    pub control_address: String,
    /// The kiosk's control socket.
    pub socket: PathBuf,
    /// The device key's public half (PEM), as registered upstream.
    pub device_public_pem: String,
    signer: Arc<FileSigner>,
    upstream: Option<Process>,
    reader: Process,
    kiosk: Option<(mpsc::Sender<KioskEvent<SharedCard>>, KioskThread)>,
    console_events: Option<mpsc::Sender<KioskEvent<SharedCard>>>,
}

impl Rig {
    /// Makes the device key, starts `upstream-ref` and `reader-sim`.
    pub fn start(setup: RigSetup) -> Result<Rig, RigError> {
        std::fs::create_dir_all(&setup.work).map_err(io(setup.work.display().to_string()))?;
        let key = setup.work.join("device.key");
        let signer =
            init_device_key(&key).map_err(|e| RigError::Setup(format!("device key: {e}")))?;
        let pem = public_key_pem(myna_upstream::signer::DeviceSigner::public_key(&signer));
        let pem_file = setup.work.join("device-public.pem");
        std::fs::write(&pem_file, &pem).map_err(io(pem_file.display().to_string()))?;
        let ca = setup.work.join("jpki-auth-ca.der");
        std::fs::write(&ca, myna_card_sim::pki::AUTH_CA_CERT).map_err(io("CA certificate"))?;
        let patients = setup.work.join("patients.json");
        std::fs::write(
            &patients,
            serde_json::Value::Object(setup.patients.clone()).to_string(),
        )
        .map_err(io("patients"))?;
        let (upstream, said) = spawn(
            &binary(&setup.bin_dir, "upstream-ref")?,
            &[
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--device-key".into(),
                pem_file.display().to_string(),
                "--jpki-ca".into(),
                ca.display().to_string(),
                "--patients".into(),
                patients.display().to_string(),
            ],
            &["listening on "],
        )?;
        let upstream_url = said.into_iter().next().unwrap_or_default();
        let mut staff = StaffDb::open(&setup.work.join("kiosk.db"))
            .map_err(|e| RigError::Setup(e.to_string()))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for (id, password) in &setup.staff {
            staff
                .add(id, password, now, &mut rand::rngs::OsRng)
                .map_err(|e| RigError::Setup(e.to_string()))?;
        }
        let mut sim_args: Vec<String> = ["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sim_args.extend(setup.sim_args.iter().cloned());
        let (reader, said) = spawn(
            &binary(&setup.bin_dir, "reader-sim")?,
            &sim_args,
            &["link listening on ", "control listening on "],
        )?;
        let mut said = said.into_iter();
        let link_address = said.next().unwrap_or_default();
        let control_address = said.next().unwrap_or_default();
        Ok(Rig {
            socket: setup.work.join("kiosk.sock"),
            setup,
            upstream_url,
            link_address,
            control_address,
            device_public_pem: pem,
            signer: Arc::new(signer),
            upstream: Some(upstream),
            reader,
            kiosk: None,
            console_events: None,
        })
    }

    /// Starts the kiosk on its own thread (a restart when one runs: it is
    /// stopped first, as a killed process would be, and the new one opens
    /// the same outbox).
    pub fn start_kiosk(&mut self, observer: Box<dyn Observer>) -> Result<(), RigError> {
        self.stop_kiosk();
        let mut transport = TcpTransport::connect(&self.link_address).map_err(io("reader link"))?;
        transport
            .set_read_timeout(Some(Duration::from_millis(250)))
            .map_err(io("reader link"))?;
        let link = ReaderLink::open(transport, || rand::random::<u32>().max(1))?;
        let outbox = Outbox::open(&self.setup.work.join("kiosk.db"))
            .map_err(|e| RigError::Setup(format!("outbox: {e}")))?;
        let upstream = HttpUpstream::new(&self.upstream_url, HttpOptions::default())
            .map_err(|e| RigError::Setup(format!("upstream client: {e}")))?;
        let staff = StaffDb::open(&self.setup.work.join("kiosk.db"))
            .map_err(|e| RigError::Setup(e.to_string()))?;
        let face = match (&self.setup.face, &self.setup.card_front) {
            (Some(engine), Some(card_front)) => Some(FacePath {
                engine: engine.clone(),
                card_front: card_front.clone(),
            }),
            _ => None,
        };
        let (events, inbox) = mpsc::channel::<KioskEvent<SharedCard>>();
        let answers = events.clone();
        let kiosk = assemble(
            Parts {
                link,
                courier: Courier::new(outbox, upstream, Backoff::default()),
                signer: self.signer.clone(),
                reception: self.setup.reception,
                verify_deadline: self.setup.verify_deadline,
                confirm_screens: self.setup.confirm_screens,
                face,
                face_work: FaceWork::Worker(Box::new(move |done| {
                    answers.send(KioskEvent::Answer(done)).is_ok()
                })),
                staff: Some(staff),
                observer,
            },
            SystemClock,
        )
        .map_err(io("face worker"))?;
        let control_events = events.clone();
        control::serve(
            &self.socket,
            move |asked| control_events.send(KioskEvent::Control(asked)).is_ok(),
            control::password_check(self.database(), SystemClock),
        )
        .map_err(io("kiosk control socket"))?;
        self.console_events = Some(events.clone());
        let thread = std::thread::Builder::new()
            .name("kiosk".into())
            .spawn(move || {
                kiosk.run(inbox);
            })
            .map_err(io("kiosk thread"))?;
        self.kiosk = Some((events, thread));
        Ok(())
    }

    /// Serves the staff console on a free loopback port, talking to the
    /// kiosk started last; its base URL.
    pub fn start_console(&self) -> Result<String, RigError> {
        self.console_on(None)
    }

    /// The same over TLS with this PEM certificate and key (as a console
    /// reached from another PC is served); its `https://` base URL.
    pub fn start_console_tls(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<String, RigError> {
        let tls = myna_kiosk::console::ConsoleTls::from_pem(cert_pem, key_pem)
            .map_err(RigError::Setup)?;
        self.console_on(Some(tls))
    }

    fn console_on(&self, tls: Option<myna_kiosk::console::ConsoleTls>) -> Result<String, RigError> {
        let events = self.console_events.clone().ok_or(RigError::KioskStopped)?;
        let staff = StaffDb::open(&self.database()).map_err(|e| RigError::Setup(e.to_string()))?;
        let ask = control::asker(move |asked| events.send(KioskEvent::Control(asked)).is_ok());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("staff console"))?;
        let address = listener.local_addr().map_err(io("staff console"))?;
        let console = myna_kiosk::console::Console::new(staff, ask, SystemClock);
        let scheme = match tls {
            Some(tls) => {
                myna_kiosk::console::serve_tls(listener, console, tls)
                    .map_err(io("staff console"))?;
                "https"
            }
            None => {
                myna_kiosk::console::serve(listener, console).map_err(io("staff console"))?;
                "http"
            }
        };
        Ok(format!("{scheme}://{address}"))
    }

    /// Stops the kiosk's loop (what it held in memory is gone, as after a
    /// crash; the outbox stays).
    pub fn stop_kiosk(&mut self) {
        if let Some((events, thread)) = self.kiosk.take() {
            let _ = events.send(KioskEvent::Stop);
            let _ = thread.join();
        }
    }

    fn send(&self, event: KioskEvent<SharedCard>) -> Result<(), RigError> {
        let (events, _) = self.kiosk.as_ref().ok_or(RigError::KioskStopped)?;
        events.send(event).map_err(|_| RigError::KioskStopped)
    }

    /// The patient places `card` (the PC/SC thread's event in a clinic).
    pub fn place(&self, card: &SharedCard) -> Result<(), RigError> {
        self.send(KioskEvent::CardInserted(card.clone()))
    }

    /// The patient takes the card.
    pub fn take(&self) -> Result<(), RigError> {
        self.send(KioskEvent::CardRemoved)
    }

    /// A staff request on the kiosk's control socket.
    pub fn staff(&self, line: &str) -> Result<String, RigError> {
        control::ask(&self.socket, line).map_err(io("kiosk control socket"))
    }

    /// Staff switch 目視 on through the control socket, as `staff` with
    /// `password`; the kiosk's answer.
    pub fn visual_check_on(
        &self,
        staff: &str,
        password: &str,
        reason: &str,
    ) -> Result<String, RigError> {
        self.staff(&format!(
            "visual-check on {staff} {reason} {}",
            control::Password::encode(password)
        ))
    }

    /// The kiosk's status.
    pub fn status(&self) -> Result<serde_json::Value, RigError> {
        let answer = self.staff("status")?;
        serde_json::from_str(&answer)
            .map_err(|e| RigError::Setup(format!("status {answer:?}: {e}")))
    }

    /// The kiosk's database (outbox, staff accounts, audit trail).
    pub fn database(&self) -> PathBuf {
        self.setup.work.join("kiosk.db")
    }

    /// A new connection to the reader's control socket.
    pub fn reader_control(&self) -> Result<SimControl, RigError> {
        SimControl::connect(&self.control_address)
    }

    /// What the upstream processed (`verify`, `consent` request ids,
    /// `duplicates`); `Null` when it is down.
    pub fn received(&self) -> serde_json::Value {
        HttpUpstream::new(&self.upstream_url, HttpOptions::default())
            .ok()
            .and_then(|u| u.get_json::<serde_json::Value>("/v1/received").ok())
            .unwrap_or_default()
    }

    /// The upstream goes down (its process is killed).
    pub fn kill_upstream(&mut self) {
        if let Some(mut upstream) = self.upstream.take() {
            upstream.kill();
        }
    }

    /// Waits (up to `limit`) until the outbox is empty; the count left.
    pub fn wait_outbox_empty(&self, limit: Duration) -> u64 {
        let end = Instant::now() + limit;
        loop {
            let pending = self
                .status()
                .ok()
                .and_then(|s| s["outbox_pending"].as_u64())
                .unwrap_or(u64::MAX);
            if pending == 0 || Instant::now() >= end {
                return pending;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The reader process (tests restart it through its control socket).
    pub fn reader_process(&mut self) -> &mut Process {
        &mut self.reader
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop_kiosk();
    }
}

/// A personality for a test patient: its own certificate serial and PIN.
pub fn personality(serial: [u8; 4], pin: &str) -> Personality {
    Personality {
        auth_cert_serial: serial.to_vec(),
        auth_cert_cn: format!("RIG{}", serial_text(&serial).replace(':', "")),
        auth_pin: Some(pin.into()),
        ..Personality::default()
    }
}

/// The upstream's entry for a test patient.
pub fn patient_entry(
    qualification: &str,
    registered: bool,
    name_kana: &str,
    checkup: bool,
) -> serde_json::Value {
    serde_json::json!({
        "qualification": qualification,
        "registered": registered,
        "name_kana": name_kana,
        "specific_health_checkup": checkup,
    })
}

/// The first same-person card/live pair in a development face set.
pub fn face_pair(faces: &Path) -> Option<(PathBuf, PathBuf)> {
    let pairs = std::fs::read_to_string(faces.join("pairs.csv")).ok()?;
    pairs.lines().skip(1).find_map(|row| {
        let mut cols = row.split(',');
        let (a, b, same) = (cols.next()?, cols.next()?, cols.next()?);
        (same.trim() == "1" && a.ends_with("_card.jp2") && !b.ends_with(".jp2"))
            .then(|| (faces.join(a), faces.join(b)))
    })
}

/// The development faces with card photos (`../shared/faces/dev-card`).
pub fn default_faces() -> Option<PathBuf> {
    ["../shared/faces/dev-card", "../../shared/faces/dev-card"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("pairs.csv").exists())
}

/// What the simulated card front prints, matching the emulator's default
/// 照合番号B (昭和55年2月17日生, 2035年まで有効, code 2285).
pub const CARD_FRONT_ARGS: [&str; 6] = [
    "--card-birth",
    "1980-02-17",
    "--card-expiry",
    "2035-02-17",
    "--card-code",
    "2285",
];

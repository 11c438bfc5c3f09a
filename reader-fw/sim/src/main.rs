//! `reader-sim`: the reader on a socket. The host driver connects to
//! `--listen` and speaks the link protocol, exactly as over USB; a second
//! socket (`--control`) or a `--script` file presses the touch panel and
//! takes screenshots; `--screenshots DIR` saves a PNG after every redraw
//! and a WAV of every spoken prompt (`NN-<prompt>.wav`) beside them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use myna_hal::sim::{SimCamera, SimClock, SimFlash};
use reader_fw::catalogue::Lang;
use reader_fw::device::Reader;
use reader_sim::{
    button_centre, card_front, describe, screenshot, start_reader, CardFace, Control, SimBoard,
    SimRng, SimTime, SIM_FLASH_SIZE,
};

#[derive(Parser)]
#[command(
    version,
    about = "The reader firmware on a simulated board, over a socket"
)]
struct Args {
    /// Address for the host link (the vendor interface's bytes).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Address for control commands (touch X Y | tap NAME | screenshot FILE | state).
    #[arg(long)]
    control: Option<String>,
    /// Commands to run once the host is connected, one per line.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Save a PNG into this folder after every redraw, and each spoken
    /// prompt as `NN-<prompt>.wav`.
    #[arg(long)]
    screenshots: Option<PathBuf>,
    /// Patient camera pictures (a file or a folder of images).
    #[arg(long)]
    patient_camera: Option<PathBuf>,
    /// Birth date printed on the simulated card front (YYYY-MM-DD).
    #[arg(long, default_value = "1958-04-01")]
    card_birth: String,
    /// Expiry date printed on the card front (YYYY-MM-DD).
    #[arg(long, default_value = "2033-04-01")]
    card_expiry: String,
    /// Security code printed on the card front.
    #[arg(long, default_value = "4321")]
    card_code: String,
    /// Draw the card front with this font (TTF/OTF) as a 1280×720 card-camera
    /// frame; the --card-* options below then place and light it.
    #[arg(long)]
    card_font: Option<PathBuf>,
    /// Card width as a fraction of the frame width (0.3–0.8).
    #[arg(long, default_value_t = 0.55)]
    card_scale: f32,
    /// Card centre as fractions of the frame, X,Y.
    #[arg(long, default_value = "0.5,0.5")]
    card_at: String,
    /// In-plane rotation in degrees.
    #[arg(long, default_value_t = 0.0)]
    card_angle: f32,
    /// Card placed upside down.
    #[arg(long)]
    card_upside_down: bool,
    /// Defocus blur σ in pixels.
    #[arg(long, default_value_t = 0.0)]
    card_blur: f32,
    /// Exposure (0.3 = dim … 1 = full light).
    #[arg(long, default_value_t = 1.0)]
    card_exposure: f32,
    /// Glare band strength (0 = none … 255 = white).
    #[arg(long, default_value_t = 0.0)]
    card_glare: f32,
    /// JPEG quality of the card-camera frame (none when absent).
    #[arg(long)]
    card_jpeg: Option<u8>,
    /// A thumb over the card: top-left, top-right, bottom-left (corners the
    /// reader reads around), over-dates or over-code (it must refuse).
    #[arg(long)]
    card_thumb: Option<String>,
    /// Seed for the PIN pad shuffle (default: the OS RNG).
    #[arg(long)]
    seed: Option<u64>,
    /// Keep the flash (firmware slots, boot state) in this file, so an
    /// update survives a restart of the simulator.
    #[arg(long)]
    flash: Option<PathBuf>,
    /// Display language.
    #[arg(long, default_value = "ja", value_parser = ["ja", "en"])]
    lang: String,
}

fn date(s: &str) -> Result<(u16, u8, u8)> {
    let mut parts = s.split('-');
    let mut next = || parts.next().context("expected YYYY-MM-DD");
    Ok((next()?.parse()?, next()?.parse()?, next()?.parse()?))
}

/// What the main loop handles. Link events carry their connection's
/// number: bytes or a close from a connection already replaced are ignored.
enum Event {
    Connected(u64, TcpStream),
    Bytes(u64, Vec<u8>),
    Closed(u64),
    Control(Control, Option<Sender<String>>),
}

/// A boot id for each start of the firmware, from the OS RNG even when
/// `--seed` fixes the PIN pad (two starts must never share one).
fn boot_id() -> u32 {
    rand_core::RngCore::next_u32(&mut rand_core::OsRng).max(1)
}

fn thumb(name: &str) -> Result<card_front_synth::Thumb> {
    use card_front_synth::Thumb;
    Ok(match name {
        "top-left" => Thumb::TopLeft,
        "top-right" => Thumb::TopRight,
        "bottom-left" => Thumb::BottomLeft,
        "over-dates" => Thumb::OverDates,
        "over-code" => Thumb::OverCode,
        other => anyhow::bail!(
            "--card-thumb {other}: one of top-left, top-right, bottom-left, over-dates, over-code"
        ),
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let camera = match &args.card_font {
        Some(path) => {
            let font = std::fs::read(path).with_context(|| path.display().to_string())?;
            let (x, y) = args.card_at.split_once(',').context("--card-at X,Y")?;
            Some(reader_sim::CardCamera {
                font: std::sync::Arc::new(font),
                conditions: card_front_synth::Conditions {
                    scale: args.card_scale,
                    centre: (x.trim().parse()?, y.trim().parse()?),
                    angle: args.card_angle,
                    upside_down: args.card_upside_down,
                    blur: args.card_blur,
                    exposure: args.card_exposure,
                    glare: args.card_glare,
                    jpeg: args.card_jpeg.map(|q| (q, false)),
                    thumb: args.card_thumb.as_deref().map(thumb).transpose()?,
                    ..Default::default()
                },
            })
        }
        None => None,
    };
    let face = CardFace {
        birth: date(&args.card_birth)?,
        expiry: date(&args.card_expiry)?,
        security_code: args.card_code.clone(),
        camera,
        ..CardFace::default()
    };
    let patient_camera = match &args.patient_camera {
        Some(path) => {
            SimCamera::from_path(path).map_err(|e| anyhow::anyhow!("patient camera: {e:?}"))?
        }
        None => SimCamera::empty(),
    };
    let (mut board, _) = SimBoard::for_tests(0);
    board.patient_camera = patient_camera;
    board.card_camera = SimCamera::from_images(vec![card_front(&face)]);
    board.clock = SimTime::Real(SimClock::default());
    board.rng = match args.seed {
        Some(seed) => SimRng::Seeded(myna_hal::sim::SeededRng::new(seed)),
        None => SimRng::Os(rand_core::OsRng),
    };
    let lang = if args.lang == "en" {
        Lang::En
    } else {
        Lang::Ja
    };
    if let Some(dir) = &args.screenshots {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        board.display.save_on_flush(dir.clone());
        board.speaker.save_to(dir.clone());
    }
    if let Some(path) = &args.flash {
        board.flash = load_flash(path)?;
    }
    let flash_file = args.flash.clone();
    let mut saved_operations = board.flash.operations();
    let mut reader = start(board, lang);

    let listener = TcpListener::bind(&args.listen).with_context(|| args.listen.clone())?;
    println!("link listening on {}", listener.local_addr()?);
    let (events, inbox) = mpsc::channel::<Event>();
    if let Some(addr) = &args.control {
        let control = TcpListener::bind(addr).with_context(|| addr.clone())?;
        println!("control listening on {}", control.local_addr()?);
        let events = events.clone();
        std::thread::spawn(move || serve_control(control, events));
    }
    std::io::stdout().flush()?;
    let script = match &args.script {
        Some(path) => {
            Some(std::fs::read_to_string(path).with_context(|| path.display().to_string())?)
        }
        None => None,
    };
    {
        let events = events.clone();
        std::thread::spawn(move || accept_hosts(listener, events));
    }
    // The host connected now (a new connection replaces an older one, as a
    // restarted kiosk's would); the reader runs whether or not one is.
    let mut host: Option<(u64, TcpStream)> = None;
    let send_to = |host: &mut Option<(u64, TcpStream)>, frame: &[u8]| {
        if let Some((_, socket)) = host.as_mut() {
            let _ = socket.write_all(frame);
        }
    };
    loop {
        let current = host.as_ref().map(|(id, _)| *id);
        match next_event(&inbox) {
            Some(Event::Connected(id, socket)) => {
                if let Some((_, old)) = host.replace((id, socket)) {
                    let _ = old.shutdown(std::net::Shutdown::Both);
                }
                if let Some(text) = &script {
                    run_script(text.clone(), events.clone());
                }
            }
            Some(Event::Bytes(from, bytes)) if Some(from) == current => {
                reader.receive(&bytes, &mut |f: &[u8]| send_to(&mut host, f));
                let operations = reader.board().flash.operations();
                if operations != saved_operations {
                    saved_operations = operations;
                    if let Some(path) = &flash_file {
                        save_flash(path, &reader.board().flash)?;
                    }
                }
                if reader.updater().is_some_and(|u| u.restart_requested()) {
                    // A committed image runs after a restart, as on the
                    // device: the host sees the connection drop and
                    // reconnects to the new firmware.
                    reader = start(reader.into_board(), lang);
                    if let Some((_, socket)) = host.take() {
                        let _ = socket.shutdown(std::net::Shutdown::Both);
                    }
                    if let Some(path) = &flash_file {
                        save_flash(path, &reader.board().flash)?;
                    }
                    saved_operations = reader.board().flash.operations();
                    eprintln!("new firmware committed; restarted into it");
                }
            }
            Some(Event::Closed(from)) if Some(from) == current => {
                host = None;
                eprintln!("host disconnected; waiting for the next connection");
            }
            Some(Event::Bytes(..) | Event::Closed(_)) => {}
            Some(Event::Control(Control::Reboot, reply)) => {
                // A power cycle: the firmware starts again on the same
                // board, and the host loses its connection (a USB replug)
                // until it reconnects.
                reader = start(reader.into_board(), lang);
                if let Some(path) = &flash_file {
                    save_flash(path, &reader.board().flash)?;
                }
                saved_operations = reader.board().flash.operations();
                if let Some((_, socket)) = host.take() {
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                }
                if let Some(reply) = reply {
                    let _ = reply.send(format!("ok boot={}", reader.boot_id()));
                }
                eprintln!("rebooted; waiting for the host to reconnect");
            }
            Some(Event::Control(command, reply)) => {
                let answer = run_control(&mut reader, command);
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            None => {}
        }
        reader.poll(&mut |f: &[u8]| send_to(&mut host, f));
    }
}

/// Starts the firmware on `board`: the boot code picks the image on the
/// flash (confirming a new one), then the reader runs with a new boot id.
fn start(board: SimBoard, lang: Lang) -> Reader<SimBoard> {
    let (reader, firmware, slot) = start_reader(board, lang, boot_id());
    eprintln!(
        "firmware {firmware} from slot {}",
        if slot == 0 { 'A' } else { 'B' }
    );
    reader
}

/// The `--flash` file, or a blank part when there is none yet.
fn load_flash(path: &std::path::Path) -> Result<SimFlash> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() == SIM_FLASH_SIZE => Ok(SimFlash::from_bytes(bytes)),
        Ok(bytes) => anyhow::bail!(
            "{}: {} bytes, expected a {SIM_FLASH_SIZE}-byte flash image",
            path.display(),
            bytes.len()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SimFlash::new(SIM_FLASH_SIZE)),
        Err(e) => Err(e).with_context(|| path.display().to_string()),
    }
}

/// Saves the flash whole or not at all (a new file renamed over the old).
fn save_flash(path: &std::path::Path, flash: &SimFlash) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, flash.bytes()).with_context(|| path.display().to_string())?;
    std::fs::rename(&tmp, path).with_context(|| path.display().to_string())?;
    Ok(())
}

/// Accepts host connections; each one's bytes become events.
fn accept_hosts(listener: TcpListener, events: Sender<Event>) {
    for (id, stream) in (1u64..).zip(listener.incoming()) {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let Ok(mut socket) = stream.try_clone() else {
            continue;
        };
        if events.send(Event::Connected(id, stream)).is_err() {
            return;
        }
        let events = events.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match socket.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = events.send(Event::Closed(id));
                        return;
                    }
                    Ok(n) => {
                        if events.send(Event::Bytes(id, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// Runs a `--script` once a host is connected, one command at a time.
fn run_script(text: String, events: Sender<Event>) {
    std::thread::spawn(move || {
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            match Control::parse(line) {
                Ok(Control::Sleep(ms)) => std::thread::sleep(Duration::from_millis(ms)),
                Ok(c) => {
                    let (tx, rx) = mpsc::channel();
                    let _ = events.send(Event::Control(c, Some(tx)));
                    let _ = rx.recv();
                }
                Err(e) => eprintln!("script: {e}"),
            }
        }
    });
}

fn next_event(inbox: &Receiver<Event>) -> Option<Event> {
    // Poll the touch panel and the clock about every 20 ms even when idle.
    inbox.recv_timeout(Duration::from_millis(20)).ok()
}

fn run_control(reader: &mut Reader<SimBoard>, command: Control) -> String {
    match command {
        Control::Touch(x, y) => {
            reader.board().touch.press(x, y);
            "ok".into()
        }
        Control::Tap(name) => match button_centre(reader, &name) {
            Some((x, y)) => {
                reader.board().touch.press(x, y);
                format!("ok {x} {y}")
            }
            None => format!("error no button {name:?} on this screen"),
        },
        Control::Screenshot(path) => match screenshot(reader, std::path::Path::new(&path)) {
            Ok(()) => "ok".into(),
            Err(e) => format!("error {e:#}"),
        },
        Control::State => format!("ok {}", describe(reader)),
        Control::Sleep(_) | Control::Reboot => "ok".into(),
    }
}

fn serve_control(listener: TcpListener, events: Sender<Event>) {
    for stream in listener.incoming().flatten() {
        let events = events.clone();
        std::thread::spawn(move || control_session(stream, events));
    }
}

fn control_session(stream: TcpStream, events: Sender<Event>) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        let answer = match Control::parse(&line) {
            Ok(Control::Sleep(ms)) => {
                std::thread::sleep(Duration::from_millis(ms));
                "ok".to_string()
            }
            Ok(command) => {
                let (tx, rx) = mpsc::channel();
                if events.send(Event::Control(command, Some(tx))).is_err() {
                    return;
                }
                rx.recv_timeout(Duration::from_secs(5))
                    .unwrap_or_else(|_| "error busy".into())
            }
            Err(e) => format!("error {e}"),
        };
        if writeln!(out, "{answer}").is_err() {
            return;
        }
    }
}

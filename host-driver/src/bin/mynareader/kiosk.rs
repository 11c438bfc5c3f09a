//! `mynareader kiosk`: the service a clinic runs (one process for weeks),
//! and `kiosk status` on its control socket (the staff tools are in
//! `staff`).

use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use clap::Subcommand;
use myna_card::pcsc::{self, ConnectOptions, PcscCard, Presence};
use myna_card_front::{ocr, CardFrontReader, CardFrontSettings};
use myna_face::{FaceEngine, FaceSettings};
use myna_kiosk::config::KioskConfig;
use myna_kiosk::ports::LogObserver;
use myna_kiosk::staff::StaffDb;
use myna_kiosk::{assemble, control, FacePath, FaceWork, KioskEvent, Parts};
use myna_link_host::{self as link, FrameTransport, LinkAddress, ReaderLink};
use myna_upstream::clock::SystemClock;
use myna_upstream::courier::{Backoff, Courier};
use myna_upstream::http::{HttpOptions, HttpUpstream};
use myna_upstream::outbox::Outbox;
use myna_upstream::signer::FileSigner;

use crate::hint::{Failure, Hint};

/// `mynareader kiosk [--config FILE]` runs the kiosk; `kiosk status` asks a
/// running one.
#[derive(Debug, clap::Args)]
pub struct KioskArgs {
    #[command(subcommand)]
    command: Option<KioskCommand>,
    /// The settings file (TOML); without it, the defaults.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print the effective settings (TOML) and exit.
    #[arg(long)]
    print_config: bool,
}

#[derive(Debug, Subcommand)]
enum KioskCommand {
    /// The running kiosk's state: screen, reception, 目視, reader, outbox, alerts.
    Status {
        /// The control socket (default: from the settings).
        #[arg(long)]
        control: Option<PathBuf>,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `mynareader kiosk …`.
pub fn run(args: KioskArgs) -> Result<(), Failure> {
    let config = KioskConfig::load(args.config.as_deref())
        .map_err(|e| Failure::new(e.to_string()).hint(Hint::CheckPath))?;
    match args.command {
        None if args.print_config => {
            print!("{}", config.to_toml());
            Ok(())
        }
        None => serve(&config),
        Some(KioskCommand::Status { control, json }) => {
            let socket = control.unwrap_or_else(|| PathBuf::from(&config.files.control));
            crate::staff::status(&socket, json)
        }
    }
}

/// Opens the reader link, trying again every 2 s until it answers: a kiosk
/// started before its reader waits for it.
fn open_link(address: &LinkAddress) -> ReaderLink<Box<dyn FrameTransport>> {
    let mut said = false;
    loop {
        let opened = link::connect(address)
            .map_err(|e| e.to_string())
            .and_then(|mut transport| {
                transport
                    .set_read_timeout(Duration::from_millis(250))
                    .map_err(|e| e.to_string())?;
                ReaderLink::open(transport, || rand::random::<u32>().max(1))
                    .map_err(|e| e.to_string())
            });
        match opened {
            Ok(link) => return link,
            Err(e) => {
                if !said {
                    eprintln!("mynareader kiosk: waiting for the reader at {address}: {e}");
                    said = true;
                }
                tracing::warn!(event = "kiosk.reader-waiting");
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
}

fn read_optional(path: &str, what: &str) -> Result<Option<Vec<u8>>, Failure> {
    match KioskConfig::path(path) {
        None => Ok(None),
        Some(path) => std::fs::read(&path).map(Some).map_err(|e| {
            Failure::new(format!("cannot read {what} {}: {e}", path.display()))
                .hint(Hint::CheckPath)
        }),
    }
}

fn serve(config: &KioskConfig) -> Result<(), Failure> {
    let reception = config
        .reception()
        .map_err(|e| Failure::new(e.to_string()))?;
    let address = config.link().map_err(|e| Failure::new(e.to_string()))?;
    let key = PathBuf::from(&config.files.device_key);
    let signer = FileSigner::load(&key).map_err(|e| {
        Failure::new(format!("device key {}: {e}", key.display())).hint(Hint::KeepDeviceKey)
    })?;
    let database = PathBuf::from(&config.files.database);
    if let Some(dir) = database.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::new(format!("cannot create {}: {e}", dir.display())).hint(Hint::WritableFolder)
        })?;
    }
    let outbox = Outbox::open(&database)
        .map_err(|e| Failure::new(format!("outbox {}: {e}", database.display())))?;
    let upstream = HttpUpstream::new(
        &config.upstream.url,
        HttpOptions {
            timeout: None,
            ca_pem: read_optional(&config.upstream.ca, "CA certificates")?,
            client_identity_pem: read_optional(
                &config.upstream.client_identity,
                "client identity",
            )?,
        },
    )
    .map_err(|e| Failure::new(format!("upstream {}: {e}", config.upstream.url)))?;
    let courier = Courier::new(outbox, upstream, Backoff::default());
    let staff = StaffDb::open(&database)
        .map_err(|e| Failure::new(format!("staff accounts {}: {e}", database.display())))?;

    // The face path: the card-front reader and the models, or neither.
    let mut face = None;
    if config.face.enabled {
        let pad = config.pad().map_err(|e| Failure::new(e.to_string()))?;
        let quality = config.quality().map_err(|e| Failure::new(e.to_string()))?;
        let models = KioskConfig::path(&config.face.models);
        let engine = FaceEngine::load(FaceSettings {
            models_dir: models.clone(),
            pad,
            quality,
            ..FaceSettings::default()
        });
        let text = CardFrontReader::load(
            &ocr::text_models_dir(models.as_deref()),
            CardFrontSettings::default(),
            2,
        );
        match (engine, text) {
            (Ok(engine), Ok(reader)) => {
                face = Some(FacePath {
                    engine: Arc::new(engine),
                    card_front: Arc::new(reader),
                });
            }
            (Err(e), _) => {
                eprintln!("mynareader kiosk: face recognition off: {e} (run models/fetch)");
                tracing::warn!(event = "kiosk.face-off", reason = "models");
            }
            (_, Err(e)) => {
                eprintln!(
                    "mynareader kiosk: face recognition off: card-front text models: {e} (run models/fetch)"
                );
                tracing::warn!(event = "kiosk.face-off", reason = "text-models");
            }
        }
    }

    let mut link = open_link(&address);
    let language = match config.reader.language.as_str() {
        "en" => myna_link::Language::English,
        _ => myna_link::Language::Japanese,
    };
    if let Err(e) = link.set_language(language) {
        tracing::warn!(event = "kiosk.language-failed", error = %e);
    }
    // Sent again by the link after a reader restart.
    if let Err(e) = link.set_voice(config.reader.voice, config.reader.volume) {
        tracing::warn!(event = "kiosk.voice-failed", error = %e);
    }
    let info = link.info();
    let face_on = face.is_some();
    let (events, inbox) = mpsc::channel::<KioskEvent<PcscCard>>();
    let answers = events.clone();
    let kiosk = assemble(
        Parts {
            link,
            courier,
            signer: Arc::new(signer),
            reception,
            verify_deadline: config.verify_deadline(),
            confirm_screens: false,
            face,
            face_work: FaceWork::Worker(Box::new(move |done| {
                answers.send(KioskEvent::Answer(done)).is_ok()
            })),
            staff: Some(staff),
            observer: Box::new(LogObserver),
        },
        SystemClock,
    )
    .map_err(|e| Failure::new(format!("cannot start the face worker: {e}")))?
    .keep_finished(config.keep_finished());

    // The staff side's socket.
    let socket = PathBuf::from(&config.files.control);
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::new(format!("cannot create {}: {e}", dir.display())).hint(Hint::WritableFolder)
        })?;
    }
    let control_events = events.clone();
    control::serve(
        &socket,
        move |asked| control_events.send(KioskEvent::Control(asked)).is_ok(),
        control::password_check(database.clone(), SystemClock),
    )
    .map_err(|e| {
        Failure::new(format!("control socket {}: {e}", socket.display())).hint(Hint::WritableFolder)
    })?;

    // The staff console on the reception PC's browser.
    let console_at = if config.console.listen.is_empty() {
        None
    } else {
        let listener = std::net::TcpListener::bind(&config.console.listen)
            .map_err(|e| Failure::new(format!("staff console {}: {e}", config.console.listen)))?;
        let staff = StaffDb::open(&database)
            .map_err(|e| Failure::new(format!("staff accounts {}: {e}", database.display())))?;
        let console_events = events.clone();
        let ask =
            control::asker(move |asked| console_events.send(KioskEvent::Control(asked)).is_ok());
        let console = myna_kiosk::console::Console::new(staff, ask, SystemClock)
            .with_hosts(&config.console.host_names());
        if config.console.tls() {
            let cert = std::fs::read(&config.console.tls_cert).map_err(|e| {
                Failure::new(format!(
                    "console certificate {}: {e}",
                    config.console.tls_cert
                ))
                .hint(Hint::CheckPath)
            })?;
            let key = myna_upstream::signer::read_private_file(std::path::Path::new(
                &config.console.tls_key,
            ))
            .map_err(|e| {
                Failure::new(format!("console key {}: {e}", config.console.tls_key))
                    .hint(Hint::CheckPath)
            })?;
            let tls = myna_kiosk::console::ConsoleTls::from_pem(&cert, &key)
                .map_err(|e| Failure::new(format!("console TLS: {e}")))?;
            myna_kiosk::console::serve_tls(listener, console, tls)
        } else {
            myna_kiosk::console::serve(listener, console)
        }
        .map_err(|e| Failure::new(format!("staff console: {e}")))?;
        Some(config.console.listen.clone())
    };

    // The card: placements and removals from pcscd, on their own thread.
    let wanted = KioskConfig::path(&config.card.pcsc_reader).map(|p| p.display().to_string());
    let card_events = events;
    pcsc::watch(wanted, move |presence| {
        let event = match presence {
            Presence::Placed(reader) => {
                match PcscCard::connect(ConnectOptions {
                    reader: Some(reader),
                    wait: Duration::from_secs(2),
                }) {
                    Ok(card) => KioskEvent::CardInserted(card),
                    Err(e) => {
                        tracing::warn!(event = "kiosk.card-connect-failed", error = %e);
                        return true;
                    }
                }
            }
            Presence::Removed => KioskEvent::CardRemoved,
        };
        card_events.send(event).is_ok()
    })
    .map_err(|e| Failure::new(format!("cannot watch the card reader: {e}")))?;

    println!(
        "mynareader kiosk: reader {} firmware {} (slot {}), face {}, upstream {}, control {}, console {}",
        address,
        info.firmware,
        info.slot,
        if face_on { "on" } else { "off" },
        config.upstream.url,
        socket.display(),
        console_at.map_or_else(
            || "off".to_string(),
            |a| format!("{}://{a}", if config.console.tls() { "https" } else { "http" })
        )
    );
    tracing::info!(event = "kiosk.started");
    kiosk.run(inbox);
    Ok(())
}

//! `mynareader`: the host driver's command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use mynareader::card::cert::{CertificateInfo, ValidityStatus};
use mynareader::card::pcsc::{ConnectOptions, PcscCard};
use mynareader::card::{CardError, CardInfo, CardKind, MynaCard, PinStatus, TransportError};
use serde::Serialize;
use time::OffsetDateTime;

/// Host driver of the mynareader face-recognition card reader.
#[derive(Debug, Parser)]
#[command(version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read the My Number Card on the reader (never spends a PIN try).
    #[command(subcommand)]
    Card(CardCommand),
    /// The device key that signs upstream messages.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Compare faces with the on-device models.
    #[command(subcommand)]
    Face(FaceCommand),
}

#[derive(Debug, clap::Args)]
struct FaceArgs {
    /// Folder with the model weights (default: $MYNAREADER_MODELS, ../shared/models, or the fetch folder).
    #[arg(long)]
    models: Option<PathBuf>,
    /// Decision threshold (cosine similarity; default: the recogniser's own).
    #[arg(long)]
    threshold: Option<f32>,
    /// Recogniser from models/manifest.json (default: sface when fetched, else mobilefacenet-128).
    #[arg(long)]
    recogniser: Option<String>,
    /// Grey the live frame like the card photo before comparing.
    #[arg(long)]
    live_as_card: bool,
    /// Presentation-attack detection: off, report, or enforce.
    #[arg(long, default_value = "report", value_parser = ["off", "report", "enforce"])]
    pad: String,
    /// Detector input side in pixels (a multiple of 32).
    #[arg(long, default_value_t = mynareader::face::FaceSettings::default().detector_size)]
    detector_size: usize,
}

#[derive(Debug, Subcommand)]
enum FaceCommand {
    /// Compare a card photo with a live frame.
    Compare {
        #[command(flatten)]
        face: FaceArgs,
        /// The card photo (JPEG 2000 or any image).
        #[arg(long)]
        card: PathBuf,
        /// The live frame.
        #[arg(long)]
        live: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Score a pair list (img_a = card photo, img_b = live frame, same = 0/1).
    Eval {
        #[command(flatten)]
        face: FaceArgs,
        /// The CSV of pairs.
        #[arg(long)]
        pairs: PathBuf,
        /// Folder the image paths are relative to (default: the CSV's folder).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Create the device key (owner-only; never replaces one) and print its
    /// public key for registration with the upstream.
    Init {
        /// Where to keep the PKCS#8 key.
        #[arg(long)]
        key: PathBuf,
        /// Also write the public key (PEM) here.
        #[arg(long)]
        public_out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct ReaderArgs {
    /// Use the reader whose name contains this (default: the first with a card).
    #[arg(long)]
    reader: Option<String>,
    /// Seconds to wait for a card to be placed.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

#[derive(Debug, Subcommand)]
enum CardCommand {
    /// Certificate subject, serial and validity, card kind, PIN tries left.
    Info {
        #[command(flatten)]
        reader: ReaderArgs,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Write the user-authentication certificate (DER) to a file.
    ReadCert {
        #[command(flatten)]
        reader: ReaderArgs,
        /// Where to write the DER.
        #[arg(long)]
        out: PathBuf,
        /// Write the CA certificate stored on the card instead.
        #[arg(long)]
        ca: bool,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// An error for a person: what happened, and what to do about it.
struct Failure {
    message: String,
    hint: Option<&'static str>,
}

impl From<CardError> for Failure {
    fn from(e: CardError) -> Self {
        let hint = match &e {
            CardError::Transport(TransportError::NoService) => Some(
                "start the smart-card service: `systemctl start pcscd` (or `pcscd -f` by hand)",
            ),
            CardError::Transport(TransportError::NoReaders) => {
                Some("connect the card reader; `pcsc_scan` lists what pcscd sees")
            }
            CardError::Transport(TransportError::ReaderNotFound(_)) => {
                Some("check --reader against the names `pcsc_scan` shows")
            }
            CardError::Transport(TransportError::ReaderBusy) => {
                Some("close the other program using the reader (`fuser /run/pcscd/pcscd.comm` may tell which)")
            }
            CardError::Transport(TransportError::NoCard) => {
                Some("place the card on the reader, or wait longer with --wait SECONDS")
            }
            CardError::CardRemoved => Some("keep the card on the reader until reading is done"),
            CardError::NotAMyNumberCard => Some("place a My Number Card (マイナンバーカード)"),
            CardError::TruncatedFile { .. }
            | CardError::BadFileContent { .. }
            | CardError::Response { .. }
            | CardError::Certificate(_) => {
                Some("place the card again; if it keeps failing the card may be damaged")
            }
            _ => None,
        };
        Failure {
            message: e.to_string(),
            hint,
        }
    }
}

fn connect(args: &ReaderArgs) -> Result<MynaCard<PcscCard>, Failure> {
    let card = PcscCard::connect(ConnectOptions {
        reader: args.reader.clone(),
        wait: Duration::from_secs(args.wait),
    })
    .map_err(CardError::from)?;
    Ok(MynaCard::new(card))
}

#[derive(Serialize)]
struct InfoJson<'a> {
    reader: &'a str,
    kind: &'static str,
    subject: &'a str,
    serial: &'a str,
    issuer: &'a str,
    not_before: String,
    not_after: String,
    validity: &'static str,
    days: i64,
    chain_ok: bool,
    chain_error: Option<String>,
    pin: &'static str,
    pin_tries_left: Option<u8>,
}

fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn validity_text(cert: &CertificateInfo, now: OffsetDateTime) -> (&'static str, i64, String) {
    match cert.validity_at(now) {
        ValidityStatus::NotYetValid => ("not-yet-valid", 0, "NOT YET VALID".to_string()),
        ValidityStatus::Valid { days_left } => {
            ("valid", days_left, format!("valid, {days_left} days left"))
        }
        ValidityStatus::Expired { days_ago } => {
            ("expired", days_ago, format!("EXPIRED {days_ago} days ago"))
        }
    }
}

fn pin_text(pin: PinStatus, kind: CardKind) -> (&'static str, Option<u8>, String) {
    match pin {
        PinStatus::TriesLeft(n) => ("tries-left", Some(n), format!("{n} tries left")),
        PinStatus::Locked => (
            "locked",
            Some(0),
            "LOCKED (0 tries left): reset at the municipal office".into(),
        ),
        PinStatus::Unusable(_) if kind == CardKind::FaceOnly => {
            ("not-set", None, "not set (face-auth card)".into())
        }
        PinStatus::Unusable(sw) => ("unusable", None, format!("unusable ({sw})")),
        PinStatus::VerifiedCountUnknown => ("verified", None, "verified, count unknown".into()),
        PinStatus::NoLimit => ("no-limit", None, "no retry limit".into()),
    }
}

fn print_info(reader: &str, info: &CardInfo, json: bool) -> Result<(), Failure> {
    let now = OffsetDateTime::now_utc();
    let (validity, days, validity_line) = validity_text(&info.auth_cert, now);
    let (pin, pin_tries_left, pin_line) = pin_text(info.pin, info.kind);
    let kind = match info.kind {
        CardKind::Standard => "standard",
        CardKind::FaceOnly => "face-only",
    };
    let mut out = std::io::stdout().lock();
    let written = if json {
        let value = InfoJson {
            reader,
            kind,
            subject: &info.auth_cert.subject,
            serial: &info.auth_cert.serial,
            issuer: &info.auth_cert.issuer,
            not_before: date(info.auth_cert.not_before),
            not_after: date(info.auth_cert.not_after),
            validity,
            days,
            chain_ok: info.chain.is_ok(),
            chain_error: info.chain.as_ref().err().map(ToString::to_string),
            pin,
            pin_tries_left,
        };
        serde_json::to_writer_pretty(&mut out, &value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        let kind_line = match info.kind {
            CardKind::Standard => "My Number Card",
            CardKind::FaceOnly => {
                "顔認証マイナンバーカード (face-auth card: face or staff check only)"
            }
        };
        let chain_line = match &info.chain {
            Ok(()) => "issued by the CA certificate on the card".to_string(),
            Err(e) => format!("NOT VERIFIED: {e}"),
        };
        let c = &info.auth_cert;
        writeln!(
            out,
            "reader:      {reader}\ncard:        {kind_line}\n\
             certificate: 利用者証明用電子証明書\n  subject:   {}\n  serial:    {}\n  issuer:    {}\n\
             \x20 validity:  {} to {} ({validity_line})\n  chain:     {chain_line}\n\
             PIN:         {pin_line}",
            c.subject,
            c.serial,
            c.issuer,
            date(c.not_before),
            date(c.not_after),
        )
    };
    written.map_err(|e| Failure {
        message: format!("cannot write the output: {e}"),
        hint: None,
    })
}

fn read_file(path: &std::path::Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure {
        message: format!("cannot read {what} {}: {e}", path.display()),
        hint: Some("check the path and its permissions"),
    })
}

fn device_init(key: PathBuf, public_out: Option<PathBuf>) -> Result<(), Failure> {
    use mynareader::upstream::signer::{self, DeviceKeyError, DeviceSigner};
    let signer = signer::init_device_key(&key).map_err(|e| {
        let hint = match e {
            DeviceKeyError::Exists(_) => Some("a device keeps its key: register the existing public key, or remove the file on purpose"),
            _ => Some("check that the folder exists and is writable"),
        };
        Failure { message: e.to_string(), hint }
    })?;
    let pem = signer::public_key_pem(signer.public_key());
    if let Some(path) = public_out {
        std::fs::write(&path, &pem).map_err(|e| Failure {
            message: format!("cannot write {}: {e}", path.display()),
            hint: Some("check that the folder exists and is writable"),
        })?;
    }
    print!("device id: {}\n{pem}", signer.key_id());
    Ok(())
}

fn face_engine(args: &FaceArgs) -> Result<mynareader::face::FaceEngine, Failure> {
    use mynareader::face::{FaceEngine, FaceError, FaceSettings};
    FaceEngine::load(FaceSettings {
        models_dir: args.models.clone(),
        match_threshold: args.threshold,
        recogniser: args.recogniser.clone(),
        live_as_card: args.live_as_card,
        detector_size: args.detector_size,
        pad: match args.pad.as_str() {
            "off" => mynareader::face::PadMode::Off,
            "enforce" => mynareader::face::PadMode::Enforce,
            _ => mynareader::face::PadMode::Report,
        },
        ..FaceSettings::default()
    })
    .map_err(|e| {
        let hint = match &e {
            FaceError::Model(_) => {
                Some("run models/fetch, or point --models at the folder with the weights")
            }
            _ => None,
        };
        Failure {
            message: e.to_string(),
            hint,
        }
    })
}

fn face_failure(e: mynareader::face::FaceError) -> Failure {
    use mynareader::face::FaceError;
    let hint = match &e {
        FaceError::NoFace => Some("use an image where one face is clearly visible"),
        FaceError::Image(_) => Some("check that the file is an image (JPEG 2000, JPEG, PNG)"),
        _ => None,
    };
    Failure {
        message: e.to_string(),
        hint,
    }
}

fn read_image(path: &std::path::Path) -> Result<mynareader::face::image::RgbFrame, Failure> {
    let bytes = zeroize::Zeroizing::new(read_file(path, "image")?);
    mynareader::face::image::decode(&bytes).map_err(|e| face_failure(e.into()))
}

#[derive(Serialize)]
struct CompareJson {
    similarity: Option<f32>,
    threshold: f32,
    band: Option<mynareader::face::Band>,
    decision: &'static str,
    pad: Option<mynareader::face::pad::PadOutcome>,
    hint: Option<mynareader::face::quality::Hint>,
    hint_text: Option<String>,
}

fn face_compare(face: FaceArgs, card: PathBuf, live: PathBuf, json: bool) -> Result<(), Failure> {
    use mynareader::face::Capture;
    let engine = face_engine(&face)?;
    let card_face = engine
        .encode_card(&read_image(&card)?)
        .map_err(face_failure)?;
    let capture = engine
        .capture(&card_face, &read_image(&live)?, 0)
        .map_err(face_failure)?;
    let value = match capture {
        Capture::Retry { hint } => CompareJson {
            similarity: None,
            threshold: engine.threshold(),
            band: None,
            decision: "retry",
            pad: None,
            hint: Some(hint),
            hint_text: mynareader::face::quality::hint_text_ja(hint),
        },
        Capture::Compared {
            similarity,
            band,
            matched,
            pad,
            hint,
        } => CompareJson {
            similarity: Some(similarity),
            threshold: engine.threshold(),
            band: Some(band),
            decision: if matched { "match" } else { "no-match" },
            pad: Some(pad),
            hint,
            hint_text: hint.and_then(mynareader::face::quality::hint_text_ja),
        },
    };
    if json {
        println!("{}", serde_json::to_string(&value).unwrap_or_default());
        return Ok(());
    }
    match value.similarity {
        Some(similarity) => println!(
            "similarity: {similarity:.3} (threshold {:.3}, band {:?})",
            value.threshold,
            value.band.unwrap_or(mynareader::face::Band::Low)
        ),
        None => println!("similarity: not compared (capture not usable)"),
    }
    println!("decision:   {}", value.decision);
    if let Some(pad) = value.pad {
        println!("PAD:        {pad:?}");
    }
    if let Some(text) = value.hint_text {
        println!("hint:       {text}");
    }
    Ok(())
}

fn face_eval(
    face: FaceArgs,
    pairs: PathBuf,
    root: Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    use mynareader::face::eval;
    let text = String::from_utf8_lossy(&read_file(&pairs, "pair list")?).into_owned();
    let list = eval::parse_pairs(&text).map_err(|e| Failure {
        message: format!("{}: {e}", pairs.display()),
        hint: Some("each row is img_a,img_b,same with same 0 or 1"),
    })?;
    let root = root.unwrap_or_else(|| pairs.parent().map(PathBuf::from).unwrap_or_default());
    let engine = face_engine(&face)?;
    let report = eval::evaluate(&engine, &list, &root).map_err(face_failure)?;
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return Ok(());
    }
    let show = |v: Option<f64>| {
        v.map(|x| format!("{:.4}", x))
            .unwrap_or_else(|| "n/a (too few impostors)".into())
    };
    println!(
        "pairs:            {} ({} genuine, {} impostor)",
        report.pairs, report.genuine, report.impostor
    );
    println!("AUC:              {}", show(report.auc));
    for (far, tar) in &report.tar_at_far {
        println!("TAR at FAR {far:<6}{}", show(*tar));
    }
    if let Some(zero) = report.tar_at_zero_false_accepts {
        println!("TAR at 0 FA:      {zero:.4}");
    }
    println!(
        "threshold:        {:.3}: accepts {} of genuine, {} impostor(s) (max impostor {:?}, min genuine {:?})",
        report.threshold,
        show(report.tar_at_threshold),
        report.false_accepts_at_threshold,
        report.max_impostor,
        report.min_genuine
    );
    println!("no face:          {:?}", report.no_face);
    println!(
        "ms per image:     {:.1} (median, detect+align+embed)",
        report.ms_per_image_median
    );
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Face(FaceCommand::Compare {
            face,
            card,
            live,
            json,
        }) => face_compare(face, card, live, json),
        Command::Face(FaceCommand::Eval {
            face,
            pairs,
            root,
            json,
        }) => face_eval(face, pairs, root, json),
        Command::Device(DeviceCommand::Init { key, public_out }) => device_init(key, public_out),
        Command::Card(CardCommand::Info { reader, json }) => {
            let mut card = connect(&reader)?;
            let info = card.info()?;
            let name = card.into_transport().reader().to_string();
            print_info(&name, &info, json)
        }
        Command::Card(CardCommand::ReadCert {
            reader,
            out,
            ca,
            force,
        }) => {
            if out.exists() && !force {
                return Err(Failure {
                    message: format!("{} already exists", out.display()),
                    hint: Some("choose another --out, or pass --force to replace it"),
                });
            }
            let mut card = connect(&reader)?;
            let der = if ca {
                card.read_auth_ca_certificate()?
            } else {
                card.read_auth_certificate()?
            };
            std::fs::write(&out, &der).map_err(|e| Failure {
                message: format!("cannot write {}: {e}", out.display()),
                hint: Some("check that the folder exists and is writable"),
            })?;
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MYNAREADER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mynareader: {}", failure.message);
            if let Some(hint) = failure.hint {
                eprintln!("  hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

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

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
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

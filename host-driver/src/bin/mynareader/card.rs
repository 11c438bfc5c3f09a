//! `mynareader card …`: read the My Number Card on a PC/SC reader. Never
//! spends a PIN try. Owns the card commands' arguments and their output (text
//! and `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use myna_card::cert::{CertificateInfo, ValidityStatus};
use myna_card::pcsc::{ConnectOptions, PcscCard};
use myna_card::{CardError, CardInfo, CardKind, MynaCard, PinStatus};
use serde::Serialize;
use time::OffsetDateTime;

use crate::hint::{Failure, Hint};

/// Which reader, and how long to wait for a card.
#[derive(Debug, clap::Args)]
pub struct ReaderArgs {
    /// Use the reader whose name contains this (default: the first with a card).
    #[arg(long)]
    reader: Option<String>,
    /// Seconds to wait for a card to be placed.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

/// The `card` command group.
#[derive(Debug, Subcommand)]
pub enum CardCommand {
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

/// Runs a `card` command.
pub fn run(command: CardCommand) -> Result<(), Failure> {
    match command {
        CardCommand::Info { reader, json } => {
            let mut card = connect(&reader)?;
            let info = card.info()?;
            let name = card.into_transport().reader().to_string();
            print_info(&name, &info, json)
        }
        CardCommand::ReadCert {
            reader,
            out,
            ca,
            force,
        } => read_cert(&reader, out, ca, force),
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

fn read_cert(reader: &ReaderArgs, out: PathBuf, ca: bool, force: bool) -> Result<(), Failure> {
    if out.exists() && !force {
        return Err(
            Failure::new(format!("{} already exists", out.display())).hint(Hint::ChooseAnotherOut)
        );
    }
    let mut card = connect(reader)?;
    let der = if ca {
        card.read_auth_ca_certificate()?
    } else {
        card.read_auth_certificate()?
    };
    std::fs::write(&out, &der).map_err(|e| {
        Failure::new(format!("cannot write {}: {e}", out.display())).hint(Hint::WritableFolder)
    })
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
    written.map_err(|e| Failure::new(format!("cannot write the output: {e}")))
}

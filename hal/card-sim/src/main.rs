//! `myna-card-sim`: presents an emulated My Number Card to pcscd through vpcd.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use myna_card_sim::card::{Broken, Card};
use myna_card_sim::personality::{
    self, Personality, Validity, ATR_CONTACTLESS, ATR_JPKI, ATR_OTHER_CONTACT,
};
use myna_card_sim::pki::CaKind;
use myna_card_sim::{photo, vpcd};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum IssuerChoice {
    /// The test JPKI CA (the card is genuine).
    Jpki,
    /// A CA outside JPKI (the upstream must refuse the card).
    Other,
}

/// Emulates a My Number Card in a vpcd virtual reader.
///
/// Connects to vpcd (pcscd's virtual reader driver), which sees a card inserted
/// as soon as the connection stands and removed when it closes.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// vpcd address (pcscd's Debian package listens on 35963 and 35964).
    #[arg(long, default_value = "127.0.0.1:35963")]
    vpcd: String,
    /// Seconds to keep retrying while vpcd is not listening yet.
    #[arg(long, default_value_t = 30)]
    connect_timeout: u64,
    /// User-authentication PIN (4 digits).
    #[arg(long, default_value = "1234")]
    pin: String,
    /// Tries left on the user-authentication PIN (0 = locked).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=3))]
    pin_tries: u8,
    /// Signature password (6–16 of A–Z, 0–9).
    #[arg(long, default_value = "ABC123")]
    sign_password: String,
    /// Tries left on the signature password (0 = locked).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..=5))]
    sign_password_tries: u8,
    /// A 顔認証マイナンバーカード: no PINs, no signature certificate.
    #[arg(long)]
    face_only: bool,
    /// Face photo: a JP2 file is stored as is, any other image is converted to
    /// grayscale JPEG 2000 at card size. Default: a synthetic portrait.
    #[arg(long)]
    photo: Option<PathBuf>,
    /// 照合番号B (14 digits: era birth date, expiry year, security code).
    #[arg(long, default_value = "55021720352285")]
    collation_b: String,
    /// Tries left on 照合番号B (of 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=10))]
    collation_b_tries: u8,
    /// The user-authentication certificate expired this many days ago.
    #[arg(long, conflicts_with = "cert_expires_in_days")]
    cert_expired_days: Option<u32>,
    /// The user-authentication certificate expires in this many days.
    #[arg(long)]
    cert_expires_in_days: Option<u32>,
    /// Who issued the user-authentication certificate.
    #[arg(long, value_enum, default_value = "jpki")]
    cert_issuer: IssuerChoice,
    /// Serial number of the user-authentication certificate (hex).
    #[arg(long, default_value = "01A2B3C4D5E6")]
    cert_serial: String,
    /// Break the card on purpose.
    #[arg(long, value_enum)]
    broken: Option<Broken>,
    /// ATR: `jpki` (in OpenSC's table), `contact` (another contact ATR),
    /// `contactless`, or hex bytes.
    #[arg(long, default_value = "jpki")]
    atr: String,
    /// Append every APDU (credentials redacted) as a JSON line to this file.
    #[arg(long)]
    apdu_log: Option<PathBuf>,
    /// Pull the card out (close the socket unanswered) after this many APDUs.
    #[arg(long)]
    pull_after_apdus: Option<u64>,
    /// After pulling the card, insert it again after this many milliseconds
    /// (retry counters are kept, as on a real card).
    #[arg(long)]
    reinsert_after_ms: Option<u64>,
}

fn parse_atr(text: &str) -> anyhow::Result<Vec<u8>> {
    Ok(match text {
        "jpki" => ATR_JPKI.to_vec(),
        "contact" => ATR_OTHER_CONTACT.to_vec(),
        "contactless" => ATR_CONTACTLESS.to_vec(),
        hex_text => {
            let bytes = hex::decode(hex_text.replace([' ', ':'], ""))
                .context("--atr takes jpki, contact, contactless or hex bytes")?;
            if bytes.first() != Some(&0x3B) && bytes.first() != Some(&0x3F) {
                bail!("an ATR starts with 3B or 3F");
            }
            bytes
        }
    })
}

fn personality(args: &Args) -> anyhow::Result<Personality> {
    let mut p = Personality {
        auth_pin: Some(args.pin.clone()),
        auth_pin_tries: args.pin_tries,
        sign_password: Some(args.sign_password.to_uppercase()),
        sign_password_tries: args.sign_password_tries,
        collation_b: args.collation_b.clone(),
        collation_b_tries: args.collation_b_tries,
        auth_cert_serial: hex::decode(&args.cert_serial).context("--cert-serial is hex")?,
        auth_cert_validity: match (args.cert_expired_days, args.cert_expires_in_days) {
            (Some(days), _) => Validity::ExpiredDaysAgo(days),
            (None, Some(days)) => Validity::ExpiresInDays(days),
            (None, None) => Validity::Normal,
        },
        auth_cert_issuer: match args.cert_issuer {
            IssuerChoice::Jpki => CaKind::Auth,
            IssuerChoice::Other => CaKind::Other,
        },
        photo_jp2: match &args.photo {
            Some(path) => photo::load(path)?,
            None => photo::synthetic()?,
        },
        broken: args.broken,
        atr: parse_atr(&args.atr)?,
        ..Personality::default()
    };
    if args.face_only {
        p = p.face_only();
    }
    Ok(p)
}

fn run(args: Args) -> anyhow::Result<()> {
    let contents = personality::personalise(&personality(&args)?)?;
    let mut card = Card::new(contents);
    let mut log = match &args.apdu_log {
        Some(path) => Some(BufWriter::new(
            File::options()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open APDU log {}", path.display()))?,
        )),
        None => None,
    };
    let mut pull_after = args.pull_after_apdus;
    loop {
        let mut stream = vpcd::connect(&args.vpcd, Duration::from_secs(args.connect_timeout))
            .with_context(|| format!("cannot reach vpcd at {} (is pcscd running?)", args.vpcd))?;
        eprintln!("myna-card-sim: card inserted at {}", args.vpcd);
        card.reset();
        let mut log_error = None;
        let end = vpcd::serve(&mut stream, &mut card, pull_after, |card| {
            if let Some(writer) = log.as_mut() {
                for entry in card.drain_log() {
                    let written = serde_json::to_writer(&mut *writer, &entry)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writer.write_all(b"\n"))
                        .and_then(|()| writer.flush());
                    if let Err(e) = written {
                        log_error.get_or_insert(e);
                    }
                }
            } else {
                card.drain_log();
            }
        })?;
        if let Some(e) = log_error {
            return Err(e).context("cannot write the APDU log");
        }
        drop(stream);
        match (end, args.reinsert_after_ms) {
            (vpcd::SessionEnd::CardPulled, Some(ms)) => {
                eprintln!("myna-card-sim: card pulled; reinserting in {ms} ms");
                std::thread::sleep(Duration::from_millis(ms));
                pull_after = None;
            }
            (vpcd::SessionEnd::CardPulled, None) => {
                eprintln!("myna-card-sim: card pulled");
                return Ok(());
            }
            (vpcd::SessionEnd::ReaderClosed, _) => {
                eprintln!("myna-card-sim: vpcd closed the connection");
                return Ok(());
            }
        }
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("myna-card-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

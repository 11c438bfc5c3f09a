//! `mynareader flash IMAGE --link ADDR`: puts a signed image on a reader.
//! Owns the checks before sending (the image whole and, with `--pubkey`,
//! its signature; no downgrade unless asked), the progress display, and
//! waiting for the reader to come back with the new version. The protocol
//! is `ReaderLink::update_firmware`; the reader checks everything again.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use myna_image::{Image, SIGNATURE_LEN};
use myna_kiosk::fw::{self, FwError};
use myna_link::{DeviceError, FirmwareRefusal};
use myna_link_host::{LinkAddress, ReaderLinkError};

use crate::hint::{Failure, Hint};
use crate::reader::{link_failure, open};

/// Arguments of `flash`.
#[derive(Debug, Args)]
pub struct FlashArgs {
    /// The signed image (`mynareader fw sign`).
    image: PathBuf,
    /// tcp:HOST:PORT (reader-sim) or usb[:SERIAL].
    #[arg(long)]
    link: LinkAddress,
    /// Check the signature here first with this public key (`K.pub`);
    /// without it only the reader checks it.
    #[arg(long)]
    pubkey: Option<PathBuf>,
    /// Allow an image older than the running firmware.
    #[arg(long)]
    allow_downgrade: bool,
}

/// Runs `flash`.
pub fn run(args: FlashArgs) -> Result<(), Failure> {
    let bytes = std::fs::read(&args.image).map_err(|e| {
        Failure::new(format!("cannot read {}: {e}", args.image.display())).hint(Hint::CheckPath)
    })?;
    let image = Image::parse(&bytes)
        .map_err(|e| Failure::context(args.image.display(), FwError::Image(e)))?;
    if let Some(path) = &args.pubkey {
        let public = fw::load_public(path)?;
        image
            .verify(&public)
            .map_err(|e| Failure::context(args.image.display(), FwError::Image(e)))?;
    }
    let header = *image.header();
    let mut link = open(&args.link)?;
    let before = link.info();
    println!(
        "reader runs firmware {} (slot {}); image is version {}",
        before.firmware,
        slot_name(before.slot),
        header.version
    );
    if header.version < before.firmware && !args.allow_downgrade {
        return Err(Failure::new(format!(
            "version {} is older than the running {}",
            header.version, before.firmware
        ))
        .hint(Hint::AllowDowngrade));
    }
    let signed = &bytes[..bytes.len() - SIGNATURE_LEN];
    let mut display = Progress::new(std::io::stderr().is_terminal());
    link.update_firmware(
        header.version,
        signed,
        image.signature(),
        &mut |done, total| display.show(done, total),
    )
    .map_err(|e| match e {
        ReaderLinkError::Device(DeviceError::FirmwareRejected(reason)) => {
            let (why, hint) = refusal(reason);
            Failure::new(format!(
                "{}: the reader refused the image ({why}); it keeps running firmware {}",
                args.link, before.firmware
            ))
            .hint(hint)
        }
        ReaderLinkError::CommitUnanswered => Failure::new(format!(
            "{}: the image was sent and committed, but the reader did not come back to say which firmware runs",
            args.link
        ))
        .hint(Hint::ReaderCheckVersion),
        e => link_failure(&args.link, &e),
    })?;
    display.finish();
    // The reader restarts into the image; the link reconnects to it.
    let mut after = link.info();
    for _ in 0..RESTART_POLLS {
        if after.boot_id != before.boot_id {
            break;
        }
        match link.sync() {
            Ok(()) | Err(ReaderLinkError::Interrupted) => {}
            Err(e) => return Err(link_failure(&args.link, &e)),
        }
        after = link.info();
    }
    if after.boot_id == before.boot_id {
        return Err(Failure::new(format!(
            "{}: the image was accepted but the reader did not restart",
            args.link
        ))
        .hint(Hint::ReaderAnswers));
    }
    println!(
        "reader now runs firmware {} (slot {})",
        after.firmware,
        slot_name(after.slot)
    );
    if after.firmware != header.version {
        return Err(Failure::new(format!(
            "{}: the reader went back to firmware {} (the new image did not start)",
            args.link, after.firmware
        ))
        .hint(Hint::ReaderAnswers));
    }
    Ok(())
}

/// What the reader's refusal means, and what the technician can do.
fn refusal(reason: FirmwareRefusal) -> (&'static str, Hint) {
    match reason {
        FirmwareRefusal::Truncated => ("the image is incomplete", Hint::ImageTruncated),
        FirmwareRefusal::Malformed => ("not a firmware image it knows", Hint::ImageNotTrusted),
        FirmwareRefusal::UnknownKey => (
            "signed with a key this reader does not trust",
            Hint::ImageNotTrusted,
        ),
        FirmwareRefusal::BodyHash => ("the image is damaged or altered", Hint::ImageNotTrusted),
        FirmwareRefusal::Signature => ("the signature does not verify", Hint::ImageNotTrusted),
        FirmwareRefusal::WrongHardware => ("built for another board", Hint::ImageForThisBoard),
        FirmwareRefusal::Downgrade => (
            "older than the reader's security counter allows",
            Hint::NewerRelease,
        ),
        FirmwareRefusal::TooLarge => ("too large for a slot", Hint::ImageForThisBoard),
        FirmwareRefusal::Unconfirmed => (
            "its running firmware is still on trial",
            Hint::LetReaderConfirm,
        ),
        FirmwareRefusal::Flash => ("its flash failed", Hint::RepairReader),
        FirmwareRefusal::Mismatch
        | FirmwareRefusal::NotStarted
        | FirmwareRefusal::OutOfOrder
        | FirmwareRefusal::Other(_) => ("the update went out of step", Hint::FlashAgain),
    }
}

/// `sync` calls to wait for the restart after the commit (each one waits
/// for the link's own reconnect).
const RESTART_POLLS: u32 = 5;

fn slot_name(slot: u8) -> char {
    if slot == 0 {
        'A'
    } else {
        'B'
    }
}

/// Bytes, rate and time left: one line redrawn on a terminal, otherwise a
/// plain line every tenth of the image.
struct Progress {
    terminal: bool,
    started: Instant,
    last_tenth: u64,
}

impl Progress {
    fn new(terminal: bool) -> Progress {
        Progress {
            terminal,
            started: Instant::now(),
            last_tenth: u64::MAX,
        }
    }

    fn show(&mut self, done: u64, total: u64) {
        let line = progress_line(done, total, self.started.elapsed());
        let mut err = std::io::stderr();
        if self.terminal {
            let _ = write!(err, "\r{line}\x1b[K");
            let _ = err.flush();
        } else {
            let tenth = (done * 10).checked_div(total).unwrap_or(10);
            if tenth != self.last_tenth {
                self.last_tenth = tenth;
                let _ = writeln!(err, "{line}");
            }
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

/// `12.0 KiB / 100.0 KiB (12%)  40.0 KiB/s  2 s left`.
fn progress_line(done: u64, total: u64, elapsed: Duration) -> String {
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let left = if rate > 0.0 {
        format!("{:.0} s left", (total.saturating_sub(done)) as f64 / rate)
    } else {
        "time left unknown".to_string()
    };
    format!(
        "{:.1} KiB / {:.1} KiB ({percent}%)  {:.1} KiB/s  {left}",
        done as f64 / 1024.0,
        total as f64 / 1024.0,
        rate / 1024.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_bytes_rate_and_time_left() {
        let line = progress_line(25 * 1024, 100 * 1024, Duration::from_secs(1));
        assert_eq!(line, "25.0 KiB / 100.0 KiB (25%)  25.0 KiB/s  3 s left");
        let line = progress_line(0, 100, Duration::ZERO);
        assert!(line.ends_with("time left unknown"), "{line}");
        assert!(progress_line(0, 0, Duration::ZERO).contains("(100%)"));
    }
}

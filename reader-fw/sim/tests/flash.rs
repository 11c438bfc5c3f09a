//! Flashing `reader-sim` end to end over its socket: the host's
//! `ReaderLink::update_firmware` and the `mynareader flash` command, a
//! disconnect and a reader restart in the middle, and `--flash FILE`
//! keeping the new firmware across a simulator restart.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

mod common;
use common::{mynareader_cli, run_cli, Sim};

use myna_image::{sign, Release, DEV_SECRET_KEY};
use myna_link_host::tcp::TcpTransport;
use myna_link_host::{FrameTransport, ReaderLink, ReaderLinkError};
use reader_fw::catalogue::Lang;
use reader_fw::update::HW_ID;
use reader_sim::{start_reader, InProcessReader, SimBoard};

fn start(flash: &Path) -> Sim {
    common::start(&[std::ffi::OsStr::new("--flash"), flash.as_os_str()])
}

fn open(sim: &Sim) -> ReaderLink<TcpTransport> {
    let mut ids = 100u32..;
    ReaderLink::open(TcpTransport::connect(&sim.link).unwrap(), move || {
        ids.next().unwrap_or(1)
    })
    .unwrap()
}

fn control(sim: &Sim, command: &str) -> String {
    let mut line = BufReader::new(TcpStream::connect(&sim.control).unwrap());
    writeln!(line.get_mut(), "{command}").unwrap();
    let mut answer = String::new();
    line.read_line(&mut answer).unwrap();
    answer.trim().to_string()
}

fn image(version: u32, counter: u32, len: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
    let release = Release {
        hw_id: HW_ID,
        version,
        security_counter: counter,
    };
    let (header, signature) = sign(&DEV_SECRET_KEY, release, &body).unwrap();
    [&header[..], &body[..], &signature[..]].concat()
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reader-sim-flash-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits (by the link's own reconnect) until the reader restarted into
/// `version`.
fn restarted(link: &mut ReaderLink<TcpTransport>, boot: u32, version: u32) -> (u32, u8) {
    for _ in 0..5 {
        if link.info().boot_id != boot && link.info().firmware == version {
            break;
        }
        match link.sync() {
            Ok(()) | Err(ReaderLinkError::Interrupted) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_ne!(link.info().boot_id, boot, "the reader did not restart");
    (link.info().firmware, link.info().slot)
}

#[test]
fn an_update_survives_a_disconnect_a_restart_and_the_simulator_restarting() {
    let dir = tempdir("link");
    let flash = dir.join("flash.bin");
    let sim = start(&flash);
    let mut link = open(&sim);
    assert_eq!(link.info().firmware, 1);
    let bytes = image(2, 1, 200_000);
    let (signed, signature) = bytes.split_at(bytes.len() - 64);

    // Half way, another connection takes the socket (a replug): the link
    // reconnects and goes on where the reader is.
    let boot = link.info().boot_id;
    let mut seen = Vec::new();
    let mut cut = false;
    let address = sim.link.clone();
    link.update_firmware(2, signed, signature, &mut |done, total| {
        seen.push(done);
        if !cut && done * 2 >= total {
            cut = true;
            drop(TcpStream::connect(&address).unwrap());
        }
    })
    .unwrap();
    assert!(cut);
    // Resumed, not started over: progress never went back to 0.
    assert_eq!(seen.iter().filter(|d| **d == 0).count(), 1, "{seen:?}");
    assert_eq!(*seen.last().unwrap(), signed.len() as u64);
    assert_eq!(restarted(&mut link, boot, 2), (2, 1));

    // A reader restart in the middle: the image is sent again from the start.
    let bytes = image(3, 1, 100_000);
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let boot = link.info().boot_id;
    let mut zeros = 0;
    let mut rebooted = false;
    let control_address = sim.control.clone();
    link.update_firmware(3, signed, signature, &mut |done, total| {
        if done == 0 {
            zeros += 1;
        }
        if !rebooted && done * 2 >= total {
            rebooted = true;
            let mut line = BufReader::new(TcpStream::connect(&control_address).unwrap());
            writeln!(line.get_mut(), "reboot").unwrap();
            let mut answer = String::new();
            line.read_line(&mut answer).unwrap();
        }
    })
    .unwrap();
    assert_eq!(zeros, 2, "started over once");
    let booted = restarted(&mut link, boot, 3);
    assert_eq!(booted, (3, 0));
    drop(link);

    // The simulator itself restarts: its flash file keeps firmware 3.
    drop(sim);
    let sim = start(&flash);
    let link = open(&sim);
    assert_eq!((link.info().firmware, link.info().slot), (3, 0));
    assert!(control(&sim, "state").starts_with("ok"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mynareader_flash_checks_sends_and_reports_the_new_version() {
    let Some(cli) = mynareader_cli() else { return };
    let dir = tempdir("cli");
    let sim = start(&dir.join("flash.bin"));
    let link = format!("tcp:{}", sim.link);
    let pubkey = dir.join("dev.pub");
    std::fs::write(&pubkey, hex(&myna_image::DEV_PUBLIC_KEY)).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let v5 = write("v5.signed", &image(5, 2, 50_000));
    let (code, out, err) = run_cli(
        &cli,
        &[
            "flash",
            &v5,
            "--link",
            &link,
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("reader now runs firmware 5 (slot B)"), "{out}");
    // Not a terminal: plain progress lines with rate and time left.
    assert!(err.contains("KiB/s"), "{err}");
    assert!(err.contains("(100%)"), "{err}");

    // An older version: refused before sending, unless allowed.
    let v4 = write("v4.signed", &image(4, 2, 1000));
    let (code, _, err) = run_cli(&cli, &["flash", &v4, "--link", &link]);
    assert_eq!(code, Some(1));
    assert!(err.contains("older than the running 5"), "{err}");
    assert!(err.contains("--allow-downgrade"), "{err}");
    let (code, out, err) = run_cli(&cli, &["flash", &v4, "--link", &link, "--allow-downgrade"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("reader now runs firmware 4 (slot A)"), "{out}");

    // Below the reader's security counter (2 once v5 confirmed): the reader
    // refuses even with --allow-downgrade, and keeps running 4.
    let old = write("old.signed", &image(3, 1, 1000));
    let (code, _, err) = run_cli(&cli, &["flash", &old, "--link", &link, "--allow-downgrade"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "refused the image (older than the reader's security counter allows); \
             it keeps running firmware 4"
        ),
        "{err}"
    );
    assert!(err.contains("flash the current release"), "{err}");

    // A tampered image never leaves the host when a key is given.
    let mut bad = image(6, 2, 1000);
    bad[100] ^= 1;
    let bad = write("bad.signed", &bad);
    let (code, _, err) = run_cli(
        &cli,
        &[
            "flash",
            &bad,
            "--link",
            &link,
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("does not match the hash"), "{err}");
    let (code, _, err) = run_cli(&cli, &["flash", &bad[..bad.len() - 3], "--link", &link]);
    assert_eq!(code, Some(1), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A reader in process whose commit answer is lost: the board restarts
/// into the committed image at once and stays unreachable for `down`
/// reconnects (a USB reader re-enumerating slowly, a replug).
struct SlowRestart {
    board: Option<InProcessReader>,
    down_after_commit: u32,
    down: u32,
    boots: u32,
}

impl SlowRestart {
    fn new(down_after_commit: u32) -> SlowRestart {
        let (board, _) = SimBoard::for_tests(3);
        SlowRestart {
            board: Some(InProcessReader::new(start_reader(board, Lang::Ja, 1).0)),
            down_after_commit,
            down: 0,
            boots: 1,
        }
    }

    fn broken() -> std::io::Error {
        std::io::ErrorKind::ConnectionReset.into()
    }
}

impl FrameTransport for SlowRestart {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.down > 0 {
            return Err(Self::broken());
        }
        let mut board = self.board.take().ok_or_else(Self::broken)?;
        board.send(bytes)?;
        if board
            .reader
            .updater()
            .is_some_and(|u| u.restart_requested())
        {
            // The answer never leaves the board: it restarts first.
            let InProcessReader { reader, .. } = board;
            self.boots += 1;
            board = InProcessReader::new(start_reader(reader.into_board(), Lang::Ja, self.boots).0);
            self.down = self.down_after_commit;
        }
        self.board = Some(board);
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.down > 0 {
            return Err(Self::broken());
        }
        self.board.as_mut().ok_or_else(Self::broken)?.recv(buf)
    }

    fn reconnect(&mut self) -> std::io::Result<()> {
        if self.down > 0 {
            self.down -= 1;
            return Err(std::io::ErrorKind::ConnectionRefused.into());
        }
        Ok(())
    }
}

fn update_slowly(down: u32) -> (Result<(), ReaderLinkError>, ReaderLink<SlowRestart>, u32) {
    let mut ids = 100u32..;
    let mut link =
        ReaderLink::open(SlowRestart::new(down), move || ids.next().unwrap_or(1)).unwrap();
    assert_eq!(link.info().firmware, 1);
    let bytes = image(2, 1, 20_000);
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let mut starts = 0;
    let result = link.update_firmware(2, signed, signature, &mut |done, _| {
        if done == 0 {
            starts += 1;
        }
    });
    (result, link, starts)
}

#[test]
fn a_lost_commit_answer_is_settled_by_asking_the_running_version_not_by_starting_over() {
    // Down for two reconnects after the commit: longer than the link's own
    // recovery inside the request.
    let (result, mut link, starts) = update_slowly(2);
    result.unwrap();
    assert_eq!(starts, 1, "the image was sent once");
    assert_eq!((link.info().firmware, link.info().slot), (2, 1));
    assert_eq!(link.transport().boots, 2, "one restart, into the new image");
}

#[test]
fn a_reader_that_never_comes_back_after_the_commit_is_reported_not_flashed_again() {
    let (result, mut link, starts) = update_slowly(1_000);
    assert!(
        matches!(result, Err(ReaderLinkError::CommitUnanswered)),
        "{result:?}"
    );
    assert_eq!(starts, 1, "nothing sent again while the outcome is unknown");
    assert_eq!(link.transport().boots, 2);
}

//! `reader-sim` as a process: the host driver's `ReaderLink` on the link
//! socket, touches through the control socket, exactly as a kiosk and a
//! test script would use it; kiosk and reader restarts included.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

mod common;
use common::{mynareader_cli, run_cli, start, Sim};

use myna_link::{Button, Camera, DeviceError, Screen};
use myna_link_host::tcp::TcpTransport;
use myna_link_host::{LinkEvent, ReaderLink, ReaderLinkError};

/// Opens a link to the simulator in a new session (a kiosk start).
fn open(sim: &Sim, session: u32) -> ReaderLink<TcpTransport> {
    let mut ids = session..;
    ReaderLink::open(TcpTransport::connect(&sim.link).unwrap(), move || {
        ids.next().unwrap_or(1)
    })
    .unwrap()
}

fn control(sim: &Sim) -> ControlLine {
    ControlLine(BufReader::new(TcpStream::connect(&sim.control).unwrap()))
}

struct ControlLine(BufReader<TcpStream>);

impl ControlLine {
    fn ask(&mut self, command: &str) -> String {
        writeln!(self.0.get_mut(), "{command}").unwrap();
        let mut answer = String::new();
        self.0.read_line(&mut answer).unwrap();
        answer.trim().to_string()
    }
}

#[test]
fn a_host_drives_the_simulator_over_the_socket() {
    let sim = start(&["--seed", "5"]);
    let mut link = open(&sim, 10);
    let mut control = control(&sim);
    let info = link.info();
    assert_eq!((info.width, info.height, info.session), (800, 480, 10));

    let shown = link
        .show(
            Screen::PinEntry {
                tries_left: 3,
                wrong_before: false,
            },
            false,
        )
        .unwrap();
    // Wait until the screen is up before touching it.
    while !control.ask("state").contains("PinEntry") {}
    for digit in [3, 1, 4, 1] {
        assert!(control.ask(&format!("tap digit {digit}")).starts_with("ok"));
    }
    for count in 1..=4u8 {
        assert_eq!(
            link.next_event().unwrap(),
            Some(LinkEvent::Touch {
                screen_seq: shown,
                button: Button::PinDigitEntered { count }
            })
        );
    }
    assert!(control.ask("state").contains("entered=4"));
    let pin = link.take_pin().unwrap();
    drop(pin); // its digits are checked by the device tests; no way to print it here
    assert!(control.ask("state").contains("entered=0"));

    // The card camera sees a generated card front.
    let card = link.capture(Camera::CardFront).unwrap();
    assert_eq!((card.width, card.height, card.channels), (856, 540, 3));
    // No patient camera configured: a typed refusal, and the link goes on.
    assert!(matches!(
        link.capture(Camera::Patient),
        Err(ReaderLinkError::Device(DeviceError::Camera))
    ));

    let shot = std::env::temp_dir().join(format!("reader-sim-{}.png", std::process::id()));
    assert_eq!(control.ask(&format!("screenshot {}", shot.display())), "ok");
    let img = image::open(&shot).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 480));
    let _ = std::fs::remove_file(&shot);
    assert!(
        control.ask("tap yes").starts_with("error"),
        "no such button on the PIN pad"
    );
    assert!(control.ask("wiggle").starts_with("error"));
}

#[test]
fn the_patient_camera_serves_image_files_and_screenshots_follow_redraws() {
    let dir = tempdir();
    let photo = dir.join("face.png");
    image::RgbImage::from_fn(120, 90, |x, y| image::Rgb([x as u8, y as u8, 99]))
        .save(&photo)
        .unwrap();
    let shots = dir.join("shots");
    let sim = start(&[
        "--seed",
        "5",
        "--patient-camera",
        photo.to_str().unwrap(),
        "--screenshots",
        shots.to_str().unwrap(),
    ]);
    let mut link = open(&sim, 20);
    let frame = link.capture(Camera::Patient).unwrap();
    assert_eq!((frame.width, frame.height, frame.channels), (120, 90, 3));
    assert_eq!(&frame.pixels[..3], &[0, 0, 99]);
    for screen in [Screen::Reading, Screen::ChooseMethod { face_only: false }] {
        link.show(screen, false).unwrap();
    }
    // Both screens were drawn (and saved) before the control answers this.
    let mut control = control(&sim);
    while !control.ask("state").contains("ChooseMethod") {}
    let mut names: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // Idle at start, then Reading and ChooseMethod: each drawn, and each
    // prompt said, beside the pictures.
    assert_eq!(
        names,
        [
            "0001.png",
            "0002.png",
            "0003.png",
            "01-idle.wav",
            "02-reading.wav",
            "03-choose-method.wav"
        ]
    );
    let wav = std::fs::read(shots.join("02-reading.wav")).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(wav[24..28].try_into().unwrap()),
        myna_voice::SAMPLE_RATE
    );
    // Over a second of speech.
    assert!(wav.len() > 44 + 2 * myna_voice::SAMPLE_RATE as usize);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "reader-sim-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_restarted_kiosk_is_drawn_at_once() {
    let sim = start(&["--seed", "5"]);
    let mut control = control(&sim);
    {
        // The first run of the kiosk shows 40 screens, then stops.
        let mut link = open(&sim, 100);
        for _ in 0..20 {
            link.show(Screen::Reading, false).unwrap();
            link.show(Screen::ChooseMethod { face_only: false }, false)
                .unwrap();
        }
        while !control.ask("state").contains("session=100") {}
    }
    // The restarted kiosk's numbers begin at 0 again: its first screen is
    // drawn (before sessions it was taken for a repeat and dropped).
    let mut link = open(&sim, 200);
    link.show(
        Screen::PinLocked {
            face_available: true,
        },
        false,
    )
    .unwrap();
    while !control.ask("state").contains("session=200") {}
    while !control.ask("state").contains("screen=PinLocked") {}
    assert_eq!(link.info().session, 200);
}

#[test]
fn a_rebooted_reader_is_noticed_and_the_screen_drawn_again() {
    let sim = start(&["--seed", "5"]);
    let mut control = control(&sim);
    let mut link = open(&sim, 300);
    let boot = link.info().boot_id;
    assert!(control.ask("state").contains("voice=on:70"));
    link.set_voice(false, 10).unwrap();
    link.show(Screen::ConsentOverview { checkup: true }, false)
        .unwrap();
    while !control.ask("state").contains("ConsentOverview") {}
    assert!(control.ask("state").contains("voice=off:10"));
    let answer = control.ask("reboot");
    assert!(answer.starts_with("ok boot="), "{answer}");
    // The host hears of it at its next read, reconnects, opens a new
    // session and draws what it showed.
    let event = loop {
        if let Some(event) = link.next_event().unwrap() {
            break event;
        }
    };
    let info = link.info();
    assert_ne!(info.boot_id, boot);
    assert_eq!(
        event,
        LinkEvent::ReaderRestarted {
            boot_id: info.boot_id
        }
    );
    assert_eq!(info.session, 301);
    while !control.ask("state").contains("screen=ConsentOverview") {}
    // The voice setting came back with the screen (a restarted reader
    // starts with voice on).
    assert!(control.ask("state").contains("voice=off:10"));
}

#[test]
fn stop_pressed_while_a_frame_streams_is_not_lost() {
    let dir = tempdir();
    let photo = dir.join("face.png");
    image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([x as u8, y as u8, 7]))
        .save(&photo)
        .unwrap();
    let sim = start(&["--seed", "5", "--patient-camera", photo.to_str().unwrap()]);
    let mut control = control(&sim);
    let mut link = open(&sim, 400);
    let shown = link
        .show(
            Screen::FaceCapture {
                hint: None,
                placed: false,
            },
            false,
        )
        .unwrap();
    while !control.ask("state").contains("FaceCapture") {}
    // The patient presses やめる; the host asks for a frame before it has
    // read the touch, so the touch arrives ahead of the frame's parts.
    assert!(control.ask("tap cancel").starts_with("ok"));
    let frame = link.capture(Camera::Patient).unwrap();
    assert_eq!((frame.width, frame.height), (640, 480));
    assert_eq!(
        link.next_event().unwrap(),
        Some(LinkEvent::Touch {
            screen_seq: shown,
            button: Button::Cancel
        })
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reader_commands_talk_to_the_simulator_one_session_per_run() {
    let Some(cli) = mynareader_cli() else { return };
    let sim = start(&["--seed", "5"]);
    let link = format!("tcp:{}", sim.link);
    let mut control = control(&sim);

    let (code, list, _) = run_cli(&cli, &["reader", "show", "--list"]);
    assert_eq!(code, Some(0));
    let names: Vec<&str> = list.lines().collect();
    for name in [
        "idle",
        "reading",
        "choose-method",
        "pin-entry",
        "consent-overview",
        "done",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }

    let (code, out, err) = run_cli(&cli, &["reader", "info", "--link", &link, "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["firmware"], 1);
    assert_eq!(info["display"]["width"], 800);
    let boot = info["boot_id"].as_str().unwrap().to_string();
    assert!(control
        .ask("state")
        .contains(&format!("boot={}", u32::from_str_radix(&boot, 16).unwrap())));

    // Three runs in a row, each a new session: three screens drawn.
    let mut sessions = Vec::new();
    for (name, state) in [
        ("choose-method", "ChooseMethod"),
        (
            "pin-entry",
            "PinEntry { tries_left: 3, wrong_before: false }",
        ),
        ("consent-overview", "ConsentOverview"),
    ] {
        let (code, out, err) = run_cli(&cli, &["reader", "show", name, "--link", &link]);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains(name));
        let now = control.ask("state");
        assert!(now.contains(&format!("screen={state}")), "{name}: {now}");
        sessions.push(now.rsplit("session=").next().unwrap().to_string());
    }
    sessions.dedup();
    assert_eq!(sessions.len(), 3, "each run opens its own session");

    // English, with the banner.
    let (code, _, err) = run_cli(
        &cli,
        &[
            "reader",
            "show",
            "done",
            "--link",
            &link,
            "--lang",
            "en",
            "--visual-check",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let now = control.ask("state");
    assert!(
        now.contains("screen=Done visual_check=true") && now.contains("lang=en"),
        "{now}"
    );

    // Mistakes get one line and a hint.
    let (code, _, err) = run_cli(&cli, &["reader", "show", "nowhere", "--link", &link]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("no screen called") && err.contains("hint: "),
        "{err}"
    );
    let (code, _, err) = run_cli(&cli, &["reader", "info", "--link", "serial:/dev/ttyS0"]);
    assert_eq!(code, Some(2), "{err}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("tcp:{}", closed.local_addr().unwrap());
    drop(closed);
    let (code, _, err) = run_cli(&cli, &["reader", "info", "--link", &nobody]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("cannot connect") && err.contains("reader-sim"),
        "{err}"
    );
}

#[test]
fn staff_switch_large_text_through_the_host_link() {
    let sim = start(&["--seed", "5"]);
    let mut control = control(&sim);
    let mut link = open(&sim, 500);
    assert!(control.ask("state").contains("large=false"));
    link.set_large_text(true).unwrap();
    link.sync().unwrap();
    assert!(control.ask("state").contains("large=true"));
    // The reception ends (Idle after another screen): off by itself.
    link.show(Screen::Processing, false).unwrap();
    link.show(Screen::Idle, false).unwrap();
    link.sync().unwrap();
    assert!(control.ask("state").contains("large=false"));
}

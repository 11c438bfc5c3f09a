//! `reader-sim` as a process: the host driver's `DeviceLink` on the link
//! socket, touches through the control socket, exactly as a kiosk and a
//! test script would use it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use myna_link::{Button, Camera, DeviceToHost, HostToDevice, Screen};
use mynareader::device::DeviceLink;

struct Sim {
    child: Child,
    link: String,
    control: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reader-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
            "--seed",
            "5",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // `link listening on ADDR`, then `control listening on ADDR`.
    let mut address = || {
        lines
            .next()
            .unwrap()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let link = address();
    let control = address();
    Sim {
        child,
        link,
        control,
    }
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
    let sim = start(&[]);
    let mut link = DeviceLink::new(TcpStream::connect(&sim.link).unwrap());
    let mut control = ControlLine(BufReader::new(TcpStream::connect(&sim.control).unwrap()));

    link.send(&HostToDevice::GetInfo).unwrap();
    let info = link.recv().unwrap();
    assert!(
        matches!(
            info.message,
            DeviceToHost::Info {
                width: 800,
                height: 480,
                ..
            }
        ),
        "{info:?}"
    );

    let shown = link
        .send(&HostToDevice::ShowScreen {
            screen: Screen::PinEntry { tries_left: 3 },
            visual_check: false,
        })
        .unwrap();
    // Wait until the screen is up before touching it.
    while !control.ask("state").contains("PinEntry") {}
    for digit in [3, 1, 4, 1] {
        assert!(control.ask(&format!("tap digit {digit}")).starts_with("ok"));
    }
    for count in 1..=4u8 {
        let got = link.recv().unwrap();
        match got.message {
            DeviceToHost::Touch { screen_seq, button } => {
                assert_eq!(screen_seq, shown);
                assert_eq!(button, Button::PinDigitEntered { count });
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(control.ask("state").contains("entered=4"));
    link.send(&HostToDevice::TakePin).unwrap();
    match link.recv().unwrap().message {
        DeviceToHost::Pin { digits } => assert_eq!(digits, b"3141"),
        other => panic!("{other:?}"),
    }
    assert!(control.ask("state").contains("entered=0"));

    // The card camera sees a generated card front.
    let card = link.capture(Camera::CardFront).unwrap();
    assert_eq!((card.width, card.height, card.channels), (856, 540, 3));
    // No patient camera configured: a typed refusal, and the link goes on.
    assert!(matches!(
        link.capture(Camera::Patient),
        Err(mynareader::device::CaptureError::Device(_))
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
        "--patient-camera",
        photo.to_str().unwrap(),
        "--screenshots",
        shots.to_str().unwrap(),
    ]);
    let mut link = DeviceLink::new(TcpStream::connect(&sim.link).unwrap());
    let frame = link.capture(Camera::Patient).unwrap();
    assert_eq!((frame.width, frame.height, frame.channels), (120, 90, 3));
    assert_eq!(&frame.pixels[..3], &[0, 0, 99]);
    for screen in [Screen::Reading, Screen::ChooseMethod { face_only: false }] {
        link.send(&HostToDevice::ShowScreen {
            screen,
            visual_check: false,
        })
        .unwrap();
    }
    link.send(&HostToDevice::GetInfo).unwrap();
    let _ = link.recv().unwrap(); // both screens were drawn (and saved) before this answer
    let mut names: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // Idle at start, then Reading and ChooseMethod.
    assert_eq!(names, ["0001.png", "0002.png", "0003.png"]);
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

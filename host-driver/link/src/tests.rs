//! The adapter against a fake reader in memory: the link's own
//! `DeviceEndpoint` with a scripted answer to each request, so restarts,
//! interleaved touches and broken captures are exact and need no socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::io;

use myna_link::{
    Button, Camera, DeviceEndpoint, DeviceError, DeviceInput, DeviceToHost, HostToDevice, Screen,
    MAX_FRAME,
};

use super::*;

/// What the fake reader answers to a `Capture`: the messages it sends.
type Script = Vec<DeviceToHost<'static>>;

struct FakeReader {
    device: DeviceEndpoint,
    boot: u32,
    to_host: VecDeque<u8>,
    /// Screens drawn, as Debug text.
    drawn: Vec<String>,
    capture: Script,
    /// After this many more host frames, the reader "reboots" and the
    /// transport breaks (EOF).
    reboot_after: Option<usize>,
    broken: bool,
    /// Reboot without the transport breaking (the device just forgets).
    forget_after: Option<usize>,
    reconnects: usize,
}

impl FakeReader {
    fn new(capture: Script) -> FakeReader {
        FakeReader {
            device: DeviceEndpoint::new(100),
            boot: 100,
            to_host: VecDeque::new(),
            drawn: Vec::new(),
            capture,
            reboot_after: None,
            broken: false,
            forget_after: None,
            reconnects: 0,
        }
    }

    fn emit(&mut self, message: &DeviceToHost<'_>) {
        let frame = self.device.send(message).unwrap().to_vec();
        self.to_host.extend(frame);
    }

    fn reboot(&mut self) {
        self.boot += 1;
        self.device = DeviceEndpoint::new(self.boot);
        self.drawn.push("Idle (reboot)".into());
    }
}

impl FrameTransport for FakeReader {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.broken {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let mut buf = [0u8; MAX_FRAME];
        let mut rest = bytes;
        while !rest.is_empty() {
            let (used, input) = self.device.read(rest, &mut buf);
            rest = &rest[used..];
            let Some(input) = input else { continue };
            if let Some(n) = self.forget_after.as_mut() {
                if *n == 0 {
                    self.forget_after = None;
                    self.reboot();
                    // Read the frame again as the new device would.
                    return self.send(bytes);
                }
                *n -= 1;
            }
            if let Some(n) = self.reboot_after.as_mut() {
                if *n == 0 {
                    self.reboot_after = None;
                    self.reboot();
                    self.broken = true;
                    return Ok(()); // the frame is lost with the reboot
                }
                *n -= 1;
            }
            match input {
                DeviceInput::Hello => {
                    let boot_id = self.device.boot_id();
                    self.emit(&DeviceToHost::Welcome {
                        boot_id,
                        firmware: 3,
                        slot: 1,
                        width: 800,
                        height: 480,
                    });
                }
                DeviceInput::Stale { session } => {
                    let frame = self.device.refuse_stale(session).unwrap().to_vec();
                    self.to_host.extend(frame);
                }
                DeviceInput::Message { message, .. } => match message {
                    HostToDevice::ShowScreen { screen, .. } => {
                        self.drawn.push(format!("{screen:?}"));
                    }
                    HostToDevice::Capture { .. } => {
                        for m in self.capture.clone() {
                            self.emit(&m);
                        }
                    }
                    HostToDevice::TakePin => {
                        self.emit(&DeviceToHost::Touch {
                            screen_seq: 1,
                            button: Button::CallStaff,
                        });
                        self.emit(&DeviceToHost::Pin { digits: b"2468" });
                    }
                    _ => {}
                },
                DeviceInput::BadFrame(_) => self.emit(&DeviceToHost::Error(DeviceError::Frame)),
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.broken {
            return Ok(0);
        }
        if self.to_host.is_empty() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        // A few bytes at a time, so frames straddle reads.
        let n = buf.len().min(self.to_host.len()).min(700);
        for slot in buf.iter_mut().take(n) {
            *slot = self.to_host.pop_front().unwrap();
        }
        Ok(n)
    }

    fn reconnect(&mut self) -> io::Result<()> {
        self.broken = false;
        self.to_host.clear();
        self.reconnects += 1;
        Ok(())
    }
}

fn counter() -> impl FnMut() -> u32 + Send {
    let mut next = 40;
    move || {
        next += 1;
        next
    }
}

fn part(offset: u32, data: &'static [u8]) -> DeviceToHost<'static> {
    DeviceToHost::FramePart {
        camera: Camera::Patient,
        width: 2,
        height: 2,
        channels: 1,
        offset,
        data,
    }
}

#[test]
fn opening_a_link_says_hello_and_reads_the_welcome() {
    let link = ReaderLink::open(FakeReader::new(vec![]), counter()).unwrap();
    let info = link.info();
    assert_eq!(
        (info.firmware, info.slot, info.width, info.height),
        (3, 1, 800, 480)
    );
    assert_eq!((info.boot_id, info.session), (100, 41));
}

#[test]
fn a_touch_during_a_capture_is_queued_and_delivered_after_it() {
    let script = vec![
        part(0, &[1, 2]),
        DeviceToHost::Touch {
            screen_seq: 0,
            button: Button::Cancel,
        },
        DeviceToHost::IdleTimeout { screen_seq: 0 },
        part(2, &[3, 4]),
    ];
    let mut link = ReaderLink::open(FakeReader::new(script), counter()).unwrap();
    link.show(
        Screen::FaceCapture {
            hint: None,
            placed: false,
        },
        false,
    )
    .unwrap();
    let frame = link.capture(Camera::Patient).unwrap();
    assert_eq!(&frame.pixels[..], &[1, 2, 3, 4]);
    // やめる, then the timeout, in the order they happened.
    assert_eq!(
        link.next_event().unwrap(),
        Some(LinkEvent::Touch {
            screen_seq: 0,
            button: Button::Cancel
        })
    );
    assert_eq!(
        link.next_event().unwrap(),
        Some(LinkEvent::IdleTimeout { screen_seq: 0 })
    );
    assert_eq!(link.next_event().unwrap(), None);
}

#[test]
fn a_touch_while_the_pin_is_handed_over_is_kept_too() {
    let mut link = ReaderLink::open(FakeReader::new(vec![]), counter()).unwrap();
    link.show(
        Screen::PinEntry {
            tries_left: 3,
            wrong_before: false,
        },
        false,
    )
    .unwrap();
    let pin = link.take_pin().unwrap();
    assert!(pin.is("2468"));
    assert_eq!(
        link.next_event().unwrap(),
        Some(LinkEvent::Touch {
            screen_seq: 1,
            button: Button::CallStaff
        })
    );
}

#[test]
fn inconsistent_captures_are_refused_with_the_fault() {
    for (script, fault) in [
        (
            vec![part(0, &[1, 2]), part(3, &[3])],
            CaptureFault::OutOfOrder,
        ),
        (
            vec![DeviceToHost::FramePart {
                camera: Camera::Patient,
                width: u16::MAX,
                height: u16::MAX,
                channels: 3,
                offset: 0,
                data: &[1],
            }],
            CaptureFault::BadShape,
        ),
        (vec![part(0, &[1, 2, 3, 4, 5])], CaptureFault::Overrun),
        (
            vec![DeviceToHost::FramePart {
                camera: Camera::CardFront,
                width: 2,
                height: 2,
                channels: 1,
                offset: 0,
                data: &[1],
            }],
            CaptureFault::OtherCamera,
        ),
    ] {
        let mut link = ReaderLink::open(FakeReader::new(script), counter()).unwrap();
        match link.capture(Camera::Patient) {
            Err(ReaderLinkError::Capture(got)) => assert_eq!(got, fault),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
    }
    let mut link = ReaderLink::open(
        FakeReader::new(vec![DeviceToHost::Error(DeviceError::Camera)]),
        counter(),
    )
    .unwrap();
    assert!(matches!(
        link.capture(Camera::Patient),
        Err(ReaderLinkError::Device(DeviceError::Camera))
    ));
}

#[test]
fn a_reader_that_reboots_is_noticed_and_the_screen_drawn_again() {
    let mut fake = FakeReader::new(vec![]);
    // The Hello and the first screen go through; the reader reboots on the
    // next frame and the transport breaks.
    fake.reboot_after = Some(2);
    let mut link = ReaderLink::open(fake, counter()).unwrap();
    link.show(
        Screen::PinEntry {
            tries_left: 2,
            wrong_before: false,
        },
        false,
    )
    .unwrap();
    link.show(Screen::ConsentOverview { checkup: true }, false)
        .unwrap(); // lost with the reboot
                   // The host notices at its next read, reconnects, opens a new session
                   // and draws the last screen again.
    assert_eq!(
        link.next_event().unwrap(),
        Some(LinkEvent::ReaderRestarted { boot_id: 101 })
    );
    assert_eq!(link.info().session, 42);
    let fake = link.transport();
    assert_eq!(fake.reconnects, 1);
    assert_eq!(
        fake.drawn,
        [
            "PinEntry { tries_left: 2, wrong_before: false }",
            "Idle (reboot)",
            "ConsentOverview { checkup: true }"
        ]
    );
}

#[test]
fn a_reader_that_forgot_the_session_is_welcomed_again_and_redrawn() {
    let mut fake = FakeReader::new(vec![]);
    fake.forget_after = Some(2);
    let mut link = ReaderLink::open(fake, counter()).unwrap();
    link.show(Screen::Reading, false).unwrap();
    link.show(Screen::ChooseMethod { face_only: false }, false)
        .unwrap();
    // The reader answers Error(Session); the host recovers without any
    // transport break, and the screen's number moves to the redraw.
    assert_eq!(
        link.next_event().unwrap(),
        Some(LinkEvent::ReaderRestarted { boot_id: 101 })
    );
    // A new session, where the redraw is the first frame after the Hello.
    assert_eq!(link.info().session, 42);
    assert_eq!(link.screen_seq(), Some(1));
    let fake = link.transport();
    assert_eq!(fake.reconnects, 0);
    assert_eq!(
        fake.drawn,
        [
            "Reading",
            "Idle (reboot)",
            "ChooseMethod { face_only: false }"
        ]
    );
}

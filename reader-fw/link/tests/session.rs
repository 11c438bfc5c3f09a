//! The endpoints of both ends talking in memory: sessions opened, restarts
//! on either side seen at once, old-session frames refused, repeats dropped,
//! and no `Debug` of a message that shows a PIN.

#![allow(clippy::unwrap_used)]

use myna_link::*;

/// Feeds `bytes` to the device endpoint; returns what it read, owned as text.
fn device_reads(device: &mut DeviceEndpoint, bytes: &[u8]) -> Vec<String> {
    let mut buf = [0u8; MAX_FRAME];
    let mut rest = bytes;
    let mut got = Vec::new();
    while !rest.is_empty() {
        let (used, input) = device.read(rest, &mut buf);
        assert!(used > 0, "every call uses a byte");
        rest = &rest[used..];
        if let Some(input) = input {
            got.push(format!("{input:?}"));
        }
    }
    got
}

fn host_reads(host: &mut HostEndpoint, bytes: &[u8]) -> Vec<Result<String, LinkError>> {
    let mut buf = [0u8; MAX_FRAME];
    let mut rest = bytes;
    let mut got = Vec::new();
    while !rest.is_empty() {
        let (used, event) = host.read(rest, &mut buf);
        rest = &rest[used..];
        if let Some(event) = event {
            got.push(event.map(|e| format!("{e:?}")));
        }
    }
    got
}

fn welcome(device: &mut DeviceEndpoint) -> Vec<u8> {
    let boot_id = device.boot_id();
    device
        .send(&DeviceToHost::Welcome {
            boot_id,
            firmware: 1,
            slot: 0,
            width: 800,
            height: 480,
        })
        .unwrap()
        .to_vec()
}

fn show(host: &mut HostEndpoint, tries_left: u8) -> Vec<u8> {
    host.send(&HostToDevice::ShowScreen {
        screen: Screen::PinEntry {
            tries_left,
            wrong_before: false,
        },
        visual_check: false,
    })
    .unwrap()
    .1
    .to_vec()
}

#[test]
fn a_restarted_host_opens_a_new_session_and_is_heard_at_once() {
    let mut device = DeviceEndpoint::new(0xB00);
    let mut host = HostEndpoint::new();
    let hello = host.hello(11).unwrap().to_vec();
    assert_eq!(device_reads(&mut device, &hello), ["Hello"]);
    // The first run gets far: 40 frames.
    for _ in 0..40 {
        let frame = show(&mut host, 3);
        assert_eq!(device_reads(&mut device, &frame).len(), 1);
    }
    // The kiosk restarts: its numbers start at 0 again. Without sessions the
    // device took those for repeats of the old run's frames and drew nothing.
    let mut host = HostEndpoint::new();
    let hello = host.hello(12).unwrap().to_vec();
    assert_eq!(device_reads(&mut device, &hello), ["Hello"]);
    let frame = show(&mut host, 2);
    let got = device_reads(&mut device, &frame);
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("Message { seq: 1, lost: 0"), "{got:?}");
    assert!(got[0].contains("tries_left: 2"), "{got:?}");
}

#[test]
fn a_frame_of_an_old_session_is_refused_not_taken_for_a_repeat() {
    let mut device = DeviceEndpoint::new(1);
    let mut old = HostEndpoint::new();
    let hello = old.hello(5).unwrap().to_vec();
    device_reads(&mut device, &hello);
    let mut new = HostEndpoint::new();
    let hello = new.hello(6).unwrap().to_vec();
    device_reads(&mut device, &hello);
    // A late frame of the old run.
    let late = show(&mut old, 3);
    assert_eq!(device_reads(&mut device, &late), ["Stale { session: 5 }"]);
    // The refusal goes back in the old session, outside the new count.
    let refusal = device.refuse_stale(5).unwrap().to_vec();
    let got = host_reads(&mut new, &refusal);
    assert_eq!(got, [Err(LinkError::StaleSession { got: 5 })]);
    assert_eq!(host_reads(&mut old, &refusal), [Ok("SessionLost".into())]);
    // The new session's numbers are untouched by it.
    let frame = show(&mut new, 3);
    assert!(device_reads(&mut device, &frame)[0].starts_with("Message { seq: 1, lost: 0"));
    // A frame before any session, and one with session 0, are stale too.
    let mut fresh = DeviceEndpoint::new(2);
    assert_eq!(device_reads(&mut fresh, &frame), ["Stale { session: 6 }"]);
}

#[test]
fn a_restarted_device_is_noticed_by_the_host() {
    let mut device = DeviceEndpoint::new(0xAAAA);
    let mut host = HostEndpoint::new();
    let hello = host.hello(7).unwrap().to_vec();
    device_reads(&mut device, &hello);
    let w = welcome(&mut device);
    let got = host_reads(&mut host, &w);
    assert!(got[0].as_ref().unwrap().contains("restarted: false"));
    assert!(host.is_open());
    for _ in 0..3 {
        let touch = device
            .send(&DeviceToHost::Touch {
                screen_seq: 1,
                button: Button::Face,
            })
            .unwrap()
            .to_vec();
        assert_eq!(host_reads(&mut host, &touch).len(), 1);
    }
    // The reader reboots (a new endpoint with a new boot id); the host's
    // next frame is refused as stale, and the host hears that it was lost.
    let mut device = DeviceEndpoint::new(0xBBBB);
    let frame = show(&mut host, 3);
    assert_eq!(device_reads(&mut device, &frame), ["Stale { session: 7 }"]);
    let refusal = device.refuse_stale(7).unwrap().to_vec();
    assert_eq!(host_reads(&mut host, &refusal), [Ok("SessionLost".into())]);
    assert!(!host.is_open());
    let hello = host.hello(8).unwrap().to_vec();
    device_reads(&mut device, &hello);
    let w = welcome(&mut device);
    let got = host_reads(&mut host, &w);
    assert!(
        got[0].as_ref().unwrap().contains("restarted: true"),
        "{got:?}"
    );
    // Its first frame, numbered 1 after the Welcome's 0, is in order.
    let touch = device
        .send(&DeviceToHost::IdleTimeout { screen_seq: 1 })
        .unwrap()
        .to_vec();
    let got = host_reads(&mut host, &touch);
    assert!(got[0]
        .as_ref()
        .unwrap()
        .starts_with("Message { seq: 1, lost: 0"));
}

#[test]
fn repeats_are_dropped_and_gaps_counted_within_a_session() {
    let mut device = DeviceEndpoint::new(3);
    let mut host = HostEndpoint::new();
    let hello = host.hello(9).unwrap().to_vec();
    device_reads(&mut device, &hello);
    let first = show(&mut host, 3);
    assert_eq!(device_reads(&mut device, &first).len(), 1);
    assert!(device_reads(&mut device, &first).is_empty(), "a repeat");
    show(&mut host, 3); // lost on the way
    let third = show(&mut host, 3);
    assert!(device_reads(&mut device, &third)[0].contains("lost: 1"));
    // Junk and an overlong frame are typed, and the stream goes on.
    let mut junk = vec![0x55u8; MAX_FRAME + 10];
    junk.push(0);
    junk.extend_from_slice(&[1, 2, 3, 0]);
    assert_eq!(
        device_reads(&mut device, &junk),
        ["BadFrame(Oversized)", "BadFrame(TooShort)"]
    );
    let fourth = show(&mut host, 3);
    assert!(device_reads(&mut device, &fourth)[0].contains("lost: 0"));
    // A message before any hello is refused by the host endpoint itself.
    let mut unopened = HostEndpoint::new();
    assert_eq!(
        unopened.send(&HostToDevice::GetInfo).err(),
        Some(LinkError::NoSession)
    );
}

#[test]
fn no_debug_of_any_message_shows_a_pin_or_camera_bytes() {
    let pin = b"9876";
    let pixels = [0x39u8; 5]; // b'9' again: a frame's bytes are not shown either
    let messages = [
        DeviceToHost::Info {
            firmware: 1,
            slot: 0,
            width: 320,
            height: 240,
        },
        DeviceToHost::Touch {
            screen_seq: 1,
            button: Button::PinDigitEntered { count: 4 },
        },
        DeviceToHost::Pin { digits: pin },
        DeviceToHost::FramePart {
            camera: Camera::Patient,
            width: 2,
            height: 4,
            channels: 1,
            offset: 0,
            data: &pixels,
        },
        DeviceToHost::Error(DeviceError::PinNotReady),
        DeviceToHost::FirmwareProgress(10),
        DeviceToHost::IdleTimeout { screen_seq: 2 },
        DeviceToHost::Welcome {
            boot_id: 3,
            firmware: 1,
            slot: 0,
            width: 320,
            height: 240,
        },
    ];
    // The digits as characters, and as the numbers a derived Debug of the
    // bytes would print (57, 56, 55, 54).
    let forbidden = ['9', '8', '7', '6'];
    for message in &messages {
        for text in [
            format!("{message:?}"),
            format!("{message:#?}"),
            format!(
                "{:?}",
                Envelope {
                    version: PROTOCOL_VERSION,
                    session: 1,
                    seq: 1,
                    body: message.clone(),
                }
            ),
            format!(
                "{:?}",
                HostEvent::Message {
                    seq: 1,
                    lost: 0,
                    message: message.clone()
                }
            ),
        ] {
            assert!(
                !text.contains(forbidden),
                "a digit of the PIN or a frame byte in {text}"
            );
        }
    }
    assert!(format!("{:?}", messages[2]).contains("redacted"));
}

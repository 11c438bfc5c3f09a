//! Firmware updates through the device's link, on the simulated board: a
//! signed image sent in chunks runs after the restart the commit asks for;
//! a tampered one is refused and changes nothing.

// Test code: a failed encode or decode is a failed test.
#![allow(clippy::unwrap_used)]

use myna_image::{sign, Release, DEV_SECRET_KEY};
use myna_link::{
    DeviceError, DeviceToHost, FirmwareRefusal, HostEndpoint, HostEvent, HostToDevice, MAX_FRAME,
};
use reader_fw::catalogue::Lang;
use reader_fw::device::Reader;
use reader_fw::update::{ImageError, UpdateError, HW_ID};
use reader_sim::{boot_firmware, start_reader, SimBoard, FACTORY_FIRMWARE};

fn start(board: SimBoard) -> Reader<SimBoard> {
    start_reader(board, Lang::Ja, 9).0
}

/// What the device answered `message` with.
fn ask(
    reader: &mut Reader<SimBoard>,
    host: &mut HostEndpoint,
    message: &HostToDevice<'_>,
) -> String {
    let frame = host.send(message).unwrap().1.to_vec();
    let mut out = Vec::new();
    reader.receive(&frame, &mut |f: &[u8]| out.extend_from_slice(f));
    let mut buf = [0u8; MAX_FRAME];
    let (_, event) = host.read(&out, &mut buf);
    match event {
        Some(Ok(HostEvent::Message { message, .. })) => format!("{message:?}"),
        other => panic!("{other:?}"),
    }
}

fn opened(reader: &mut Reader<SimBoard>) -> HostEndpoint {
    let mut host = HostEndpoint::new();
    let hello = host.hello(5).unwrap().to_vec();
    let mut out = Vec::new();
    reader.receive(&hello, &mut |f: &[u8]| out.extend_from_slice(f));
    let mut buf = [0u8; MAX_FRAME];
    assert!(matches!(
        host.read(&out, &mut buf).1,
        Some(Ok(HostEvent::Welcome { .. }))
    ));
    host
}

fn image(version: u32, body_len: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..body_len).map(|i| (i % 251) as u8).collect();
    let release = Release {
        hw_id: HW_ID,
        version,
        security_counter: 1,
    };
    let (header, signature) = sign(&DEV_SECRET_KEY, release, &body).unwrap();
    [&header[..], &body[..], &signature[..]].concat()
}

/// Sends the image; the answer to the commit.
fn flash(reader: &mut Reader<SimBoard>, bytes: &[u8]) -> String {
    let mut host = opened(reader);
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let version = u32::from_le_bytes(signed[12..16].try_into().unwrap());
    let begin = HostToDevice::FirmwareBegin {
        size: signed.len() as u32,
        version,
    };
    assert_eq!(ask(reader, &mut host, &begin), "FirmwareProgress(0)");
    for (i, data) in signed.chunks(3000).enumerate() {
        let offset = (i * 3000) as u32;
        let got = ask(
            reader,
            &mut host,
            &HostToDevice::FirmwareChunk { offset, data },
        );
        let expected = DeviceToHost::FirmwareProgress(offset + data.len() as u32);
        assert_eq!(got, format!("{expected:?}"));
    }
    ask(
        reader,
        &mut host,
        &HostToDevice::FirmwareCommit { signature },
    )
}

#[test]
fn a_signed_image_runs_after_the_restart_and_survives_more() {
    let (board, _) = SimBoard::for_tests(1);
    let mut reader = start(board);
    let bytes = image(2, 10_000);
    assert_eq!(
        flash(&mut reader, &bytes),
        format!("FirmwareProgress({})", bytes.len())
    );
    assert!(reader.updater().unwrap().restart_requested());
    let mut board = reader.into_board();
    let started = boot_firmware(&mut board.flash);
    assert_eq!((started.firmware, started.slot), (2, 1));
    // The next start keeps it (confirmed), and the next image goes to A.
    let mut reader = start(board);
    let bytes = image(3, 5_000);
    assert_eq!(
        flash(&mut reader, &bytes),
        format!("FirmwareProgress({})", bytes.len())
    );
    let mut board = reader.into_board();
    let started = boot_firmware(&mut board.flash);
    assert_eq!((started.firmware, started.slot), (3, 0));
}

#[test]
fn a_tampered_image_is_refused_and_the_reader_keeps_its_firmware() {
    let (board, _) = SimBoard::for_tests(1);
    let mut reader = start(board);
    let mut bytes = image(2, 10_000);
    bytes[64 + 5000] ^= 0x10;
    assert_eq!(
        flash(&mut reader, &bytes),
        format!(
            "{:?}",
            DeviceToHost::Error(DeviceError::FirmwareRejected(FirmwareRefusal::BodyHash))
        )
    );
    let updater = reader.updater().unwrap();
    assert_eq!(
        updater.last_error(),
        Some(UpdateError::Image(ImageError::BodyHash))
    );
    assert!(!updater.restart_requested());
    let mut board = reader.into_board();
    let started = boot_firmware(&mut board.flash);
    assert_eq!((started.firmware, started.slot), (FACTORY_FIRMWARE, 0));
}

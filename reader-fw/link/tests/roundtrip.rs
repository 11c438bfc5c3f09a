//! Round trips of every message shape (property tests), corruption detection,
//! sequence tracking and stream framing.

// Test code: a failed encode or decode is a failed test.
#![allow(clippy::unwrap_used)]

use myna_link::*;
use proptest::prelude::*;

fn round_trip_host(msg: &HostToDevice<'_>, seq: u16) -> (u16, String) {
    let mut scratch = [0u8; MAX_PAYLOAD];
    let mut out = [0u8; MAX_FRAME];
    let n = encode(1, seq, msg, &mut scratch, &mut out).unwrap();
    assert_eq!(out[n - 1], 0, "frames end with the delimiter");
    assert!(!out[..n - 1].contains(&0), "COBS leaves no zero inside");
    let mut frame = out[..n - 1].to_vec();
    let got: Envelope<HostToDevice<'_>> = decode(&mut frame).unwrap();
    (got.seq, format!("{:?}", got.body))
}

fn screen() -> impl Strategy<Value = (u8, u16, u8, u8, bool)> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<bool>(),
    )
}

proptest! {
    #[test]
    fn host_messages_round_trip((a, year, month, day, flag) in screen(), seq in any::<u16>(),
                                data in proptest::collection::vec(any::<u8>(), 0..600),
                                name in "\\PC{0,20}") {
        let screens = [
            Screen::ReadError { misreads: a },
            Screen::ExpiryNotice { year, month, day, in_grace: flag },
            Screen::ChooseMethod { face_only: flag },
            Screen::FaceCapture { hint: flag.then_some(FaceHint::Other(a)), placed: !flag },
            Screen::FaceCapture { hint: Some(FaceHint::RemoveGlasses), placed: flag },
            Screen::ConsentOverview { checkup: flag },
            Screen::RegistrationTerms,
            Screen::PinEntry { tries_left: a, wrong_before: flag },
            Screen::PinLocked { face_available: flag },
            Screen::ConsentItem { item: ConsentItem::SpecificHealthCheckup, step: a, of: month },
            Screen::NotMyNumberCard,
            Screen::Done { name_kana: &name },
        ];
        for s in screens {
            let msg = HostToDevice::ShowScreen { screen: s, visual_check: flag };
            prop_assert_eq!(round_trip_host(&msg, seq), (seq, format!("{msg:?}")));
        }
        for msg in [HostToDevice::Hello, HostToDevice::SetLanguage(Language::English), HostToDevice::SetLanguage(Language::Other(a)), HostToDevice::SetLargeText(flag), HostToDevice::SetVoice { on: a % 2 == 0, volume: a }] {
            prop_assert_eq!(round_trip_host(&msg, seq), (seq, format!("{msg:?}")));
        }
        let chunk = HostToDevice::FirmwareChunk { offset: u32::from(year), data: &data };
        prop_assert_eq!(round_trip_host(&chunk, seq), (seq, format!("{chunk:?}")));
    }

    #[test]
    fn device_messages_round_trip(seq in any::<u16>(), count in 0u8..5,
                                  data in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let msgs = [
            DeviceToHost::Touch { screen_seq: seq, button: Button::PinDigitEntered { count } },
            DeviceToHost::FramePart { camera: Camera::Patient, width: 640, height: 480, channels: 3, offset: 7, data: &data },
            DeviceToHost::Error(DeviceError::Other(count)),
            DeviceToHost::IdleTimeout { screen_seq: seq },
            DeviceToHost::Welcome { boot_id: u32::from(seq) << 3, firmware: 9, slot: 1, width: 800, height: 480 },
            DeviceToHost::Error(DeviceError::Session),
            DeviceToHost::Error(DeviceError::PinInVisualCheck),
        ];
        for msg in msgs {
            let mut scratch = [0u8; MAX_PAYLOAD];
            let mut out = [0u8; MAX_FRAME];
            let n = encode(1, seq, &msg, &mut scratch, &mut out).unwrap();
            let mut frame = out[..n - 1].to_vec();
            let got: Envelope<DeviceToHost<'_>> = decode(&mut frame).unwrap();
            prop_assert_eq!(got.body, msg);
            prop_assert_eq!(got.seq, seq);
        }
    }

    #[test]
    fn any_flipped_bit_is_caught(bit in 0usize..200, seq in any::<u16>()) {
        let msg = HostToDevice::ShowScreen { screen: Screen::PinEntry { tries_left: 2, wrong_before: true }, visual_check: true };
        let mut scratch = [0u8; MAX_PAYLOAD];
        let mut out = [0u8; MAX_FRAME];
        let n = encode(1, seq, &msg, &mut scratch, &mut out).unwrap();
        let mut frame = out[..n - 1].to_vec();
        let bit = bit % (frame.len() * 8);
        frame[bit / 8] ^= 1 << (bit % 8);
        let got = decode::<HostToDevice<'_>>(&mut frame);
        // A corrupted frame never decodes to a different message.
        if let Ok(env) = got {
            prop_assert_eq!(env.body, msg);
        }
    }
}

#[test]
fn corruption_and_versions_are_typed() {
    let mut scratch = [0u8; MAX_PAYLOAD];
    let mut out = [0u8; MAX_FRAME];
    let n = encode(1, 7, &HostToDevice::GetInfo, &mut scratch, &mut out).unwrap();
    let mut frame = out[..n - 1].to_vec();
    let last = frame.len() - 1;
    frame[last] ^= 0x01;
    assert_eq!(decode::<HostToDevice<'_>>(&mut frame), Err(LinkError::Crc));
    assert_eq!(
        decode::<HostToDevice<'_>>(&mut [0x03, 0xAA, 0xBB]),
        Err(LinkError::TooShort)
    );
    assert_eq!(
        decode::<HostToDevice<'_>>(&mut [0x05, 0x01]),
        Err(LinkError::Cobs)
    );
    assert_eq!(
        decode::<HostToDevice<'_>>(&mut []),
        Err(LinkError::TooShort)
    );
    // A frame from a newer protocol says so.
    let payload = [9u8, 1, 7, 0];
    let mut raw = payload.to_vec();
    raw.extend_from_slice(
        &crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC)
            .checksum(&payload)
            .to_le_bytes(),
    );
    let mut stuffed = [0u8; 16];
    let k = cobs::encode(&raw, &mut stuffed);
    assert_eq!(
        decode::<HostToDevice<'_>>(&mut stuffed[..k]),
        Err(LinkError::Version(9))
    );
    // Too small a buffer is an error, not a panic.
    let mut tiny = [0u8; 4];
    let data = [1u8; 100];
    let msg = HostToDevice::FirmwareChunk {
        offset: 0,
        data: &data,
    };
    assert_eq!(
        encode(1, 1, &msg, &mut scratch, &mut tiny),
        Err(LinkError::BufferTooSmall)
    );
}

#[test]
fn sequence_numbers_reveal_lost_and_repeated_frames() {
    let mut check = SeqCheck::default();
    assert_eq!(check.check(10), SeqStatus::InOrder);
    assert_eq!(check.check(11), SeqStatus::InOrder);
    assert_eq!(check.check(11), SeqStatus::Repeated);
    assert_eq!(check.check(14), SeqStatus::Gap { lost: 2 });
    assert_eq!(check.check(12), SeqStatus::Repeated, "an old frame again");
    let mut wrap = SeqCheck::default();
    wrap.check(u16::MAX);
    assert_eq!(wrap.check(0), SeqStatus::InOrder);
}

#[test]
fn a_byte_stream_splits_into_frames() {
    let mut scratch = [0u8; MAX_PAYLOAD];
    let mut stream = Vec::new();
    for seq in 0..3u16 {
        let mut out = [0u8; MAX_FRAME];
        let n = encode(
            1,
            seq,
            &HostToDevice::Signal(Signal::Light(seq % 2 == 0)),
            &mut scratch,
            &mut out,
        )
        .unwrap();
        stream.extend_from_slice(&out[..n]);
    }
    let mut reader = FrameReader::<256>::default();
    let mut seqs = Vec::new();
    for byte in stream {
        if let Feed::Frame(frame) = reader.push(byte) {
            let env: Envelope<HostToDevice<'_>> = decode(frame).unwrap();
            seqs.push(env.seq);
        }
    }
    assert_eq!(seqs, [0, 1, 2]);
    let mut small = FrameReader::<4>::default();
    for b in [1, 2, 3, 4, 5] {
        assert_eq!(small.push(b), Feed::Pending);
    }
    assert_eq!(small.push(0), Feed::Overflow);
}

#[test]
fn the_fuzz_entry_point_survives_odd_inputs() {
    for input in [&[][..], &[0], &[1, 2, 3, 4, 5], &[0xFF; 64]] {
        fuzz_decode(input);
    }
}

#[test]
fn the_seed_corpus_holds_valid_frames() {
    // Regenerate with MYNA_LINK_WRITE_SEEDS=1; the fuzz target starts from these.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/link_frames");
    let mut scratch = [0u8; MAX_PAYLOAD];
    let data = [7u8; 40];
    let seeds: [(&str, HostToDevice<'_>); 7] = [
        ("hello", HostToDevice::Hello),
        ("get-info", HostToDevice::GetInfo),
        (
            "pin-entry",
            HostToDevice::ShowScreen {
                screen: Screen::PinEntry {
                    tries_left: 1,
                    wrong_before: true,
                },
                visual_check: false,
            },
        ),
        (
            "done",
            HostToDevice::ShowScreen {
                screen: Screen::Done {
                    name_kana: "バンゴウ ハナコ",
                },
                visual_check: true,
            },
        ),
        ("set-large-text", HostToDevice::SetLargeText(true)),
        (
            "face-capture-placed",
            HostToDevice::ShowScreen {
                screen: Screen::FaceCapture {
                    hint: None,
                    placed: true,
                },
                visual_check: false,
            },
        ),
        (
            "firmware-chunk",
            HostToDevice::FirmwareChunk {
                offset: 4096,
                data: &data,
            },
        ),
    ];
    for (name, msg) in seeds {
        let mut out = [0u8; MAX_FRAME];
        let n = encode(1, 3, &msg, &mut scratch, &mut out).unwrap();
        let path = dir.join(name);
        if std::env::var_os("MYNA_LINK_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out[..n - 1]).unwrap();
        }
        let mut stored = std::fs::read(&path).unwrap();
        let env: Envelope<HostToDevice<'_>> = decode(&mut stored).unwrap();
        assert_eq!(env.body, msg, "{name}");
    }
}

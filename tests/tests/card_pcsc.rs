//! The host driver's card layer against the emulator through a real pcscd and
//! vpcd, each test in its own namespaces.

use std::time::Duration;

use myna_card::apdu::CommandError;
use myna_card::cert;
use myna_card::pcsc::{ConnectOptions, PcscCard};
use myna_card::secret::{CollationNumberB, Pin};
use myna_card::{ApduTransport, CardError, CardKind, MynaCard, PinStatus, StatusWord};
use mynareader_tests::{testbed_test, Bed};
use sha2::{Digest, Sha256};

fn connect() -> MynaCard<PcscCard> {
    match PcscCard::connect(ConnectOptions {
        reader: None,
        wait: Duration::from_secs(5),
    }) {
        Ok(card) => MynaCard::new(card),
        Err(e) => panic!("cannot connect to the card: {e}"),
    }
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn info_json(bed: &Bed) -> serde_json::Value {
    let text = stdout(&bed.mynareader(&["card", "info", "--json", "--wait", "5"]));
    match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("card info --json is not JSON ({e}): {text}"),
    }
}

testbed_test! {
    fn card_info_and_certificate_read(bed) {
        let sim = bed.insert_card(&[]);
        let info = info_json(bed);
        assert_eq!(info["kind"], "standard");
        assert_eq!(info["serial"], "01:a2:b3:c4:d5:e6");
        assert_eq!(info["subject"], "C=JP, CN=TESTJPKIAUTH000000000001");
        assert_eq!(info["validity"], "valid");
        assert_eq!(info["chain_ok"], true);
        assert_eq!(info["pin"], "tries-left");
        assert_eq!(info["pin_tries_left"], 3);

        let out = bed.dir().join("auth.der");
        let out_text = out.to_string_lossy().into_owned();
        stdout(&bed.mynareader(&["card", "read-cert", "--out", &out_text]));
        let der = std::fs::read(&out).unwrap_or_default();
        let parsed = cert::certificate_info(&der).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.serial, "01:a2:b3:c4:d5:e6");
        let ca_out = bed.dir().join("ca.der");
        let ca_text = ca_out.to_string_lossy().into_owned();
        stdout(&bed.mynareader(&["card", "read-cert", "--ca", "--out", &ca_text]));
        let ca = std::fs::read(&ca_out).unwrap_or_default();
        assert_eq!(cert::verify_issued_by(&der, &ca), Ok(()));

        // An existing file is not replaced without --force.
        let again = bed.mynareader(&["card", "read-cert", "--out", &out_text]);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

        // card info spent no try and sent no VERIFY with data.
        assert!(sim.apdus().iter().all(|a| !a.is_verify_with_data()));
    }
}

testbed_test! {
    fn tries_query_spends_nothing(bed) {
        let sim = bed.insert_card(&["--pin-tries", "2"]);
        let mut card = connect();
        for _ in 0..4 {
            assert_eq!(card.auth_pin_status().ok(), Some(PinStatus::TriesLeft(2)));
        }
        drop(card);
        assert!(sim.apdus().iter().all(|a| !a.is_verify_with_data()));
        assert_eq!(info_json(bed)["pin_tries_left"], 2);
    }
}

testbed_test! {
    fn wrong_pins_count_down_to_locked_and_a_locked_pin_is_never_sent(bed) {
        let sim = bed.insert_card(&["--pin", "4321"]);
        let wrong = Pin::new("1111").unwrap_or_else(|e| panic!("{e}"));
        let mut card = connect();
        assert!(matches!(card.verify_auth_pin(&wrong), Err(CardError::WrongPin { tries_left: 2 })));
        assert!(matches!(card.verify_auth_pin(&wrong), Err(CardError::WrongPin { tries_left: 1 })));
        assert!(matches!(card.verify_auth_pin(&wrong), Err(CardError::PinLocked)));
        drop(card);
        // A new connection resets the card: the counter survives it.
        let mut card = connect();
        assert_eq!(card.auth_pin_status().ok(), Some(PinStatus::Locked));
        let right = Pin::new("4321").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(card.verify_auth_pin(&right), Err(CardError::PinLocked)));
        assert!(matches!(card.sign_sha256(&right, &[0; 32]), Err(CardError::PinLocked)));
        drop(card);
        let verifies = sim.apdus().into_iter().filter(|a| a.is_verify_with_data()).count();
        assert_eq!(verifies, 3, "exactly the three wrong tries reached the card");
        let info = info_json(bed);
        assert_eq!(info["pin"], "locked");
    }
}

testbed_test! {
    fn a_card_locked_from_the_start_gets_no_verify(bed) {
        let sim = bed.insert_card(&["--pin-tries", "0"]);
        let mut card = connect();
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(card.verify_auth_pin(&pin), Err(CardError::PinLocked)));
        drop(card);
        let log = sim.apdus();
        assert!(log.iter().any(|a| a.header == "00200080" && a.lc == 0 && a.sw == "63C0"));
        assert!(log.iter().all(|a| !a.is_verify_with_data()));
        assert!(log.iter().all(|a| !a.events.iter().any(|e| e == "verify-refused-blocked")));
    }
}

testbed_test! {
    fn signature_verifies_with_the_certificate_key(bed) {
        let _card = bed.insert_card(&[]);
        let mut card = connect();
        let message = b"mynareader challenge 0001";
        let hash: [u8; 32] = Sha256::digest(message).into();
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        let signature = card.sign_sha256(&pin, &hash).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signature.len(), 256);
        let der = card.read_auth_certificate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cert::verify_rsa_sha256(&der, message, &signature), Ok(()));
        assert!(cert::verify_rsa_sha256(&der, b"another message", &signature).is_err());
        drop(card);
        // Signing without a verified PIN is refused by the card.
        let mut raw = connect().into_transport();
        let select = [0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
        assert_eq!(raw.transmit(&select).map(|r| r.to_vec()).ok(), Some(vec![0x90, 0x00]));
        let key = [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17];
        assert_eq!(raw.transmit(&key).map(|r| r.to_vec()).ok(), Some(vec![0x90, 0x00]));
        let mut sign = vec![0x80, 0x2A, 0x00, 0x80, 51];
        sign.extend_from_slice(&myna_card::apdu::sha256_digest_info(&hash));
        sign.push(0);
        assert_eq!(raw.transmit(&sign).map(|r| r.to_vec()).ok(), Some(vec![0x69, 0x82]));
    }
}

fn synthetic_portrait(path: &std::path::Path) {
    // Not a face: a gradient with a bright oval, enough to exercise encoding.
    let img = image::RgbImage::from_fn(480, 600, |x, y| {
        let dx = (x as f32 - 240.0) / 150.0;
        let dy = (y as f32 - 260.0) / 200.0;
        if dx * dx + dy * dy <= 1.0 {
            image::Rgb([230, 190, 160])
        } else {
            image::Rgb([40, (y / 4) as u8, 120])
        }
    });
    img.save(path).unwrap_or_else(|e| panic!("{e}"));
}

testbed_test! {
    fn face_photo_needs_the_right_collation_number(bed) {
        let png = bed.dir().join("portrait.png");
        synthetic_portrait(&png);
        let png_text = png.to_string_lossy().into_owned();
        let sim = bed.insert_card(&["--photo", &png_text, "--collation-b", "55021720352285"]);
        let mut card = connect();
        let wrong = CollationNumberB::new("55021720359999").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            card.read_face_photo(&wrong),
            Err(CardError::WrongCollationNumber { tries_left: 9 })
        ));
        let right = CollationNumberB::new("55021720352285").unwrap_or_else(|e| panic!("{e}"));
        let photo = card.read_face_photo(&right).unwrap_or_else(|e| panic!("{e}"));
        let decoded = justjp2::decode(photo.jp2_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded.components.len(), 1, "the card photo is grayscale");
        assert_eq!((decoded.width, decoded.height), (200, 250));
        drop(card);
        assert!(sim.apdus().iter().all(|a| !a.events.iter().any(|e| e == "collation-a-verify")));
    }
}

testbed_test! {
    fn a_chip_photo_from_the_dev_set_arrives_byte_for_byte(bed) {
        let Some(jp2) = std::fs::read_dir("../../shared/faces/dev-card")
            .or_else(|_| std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/faces/dev-card")))
            .ok()
            .and_then(|mut dirs| dirs.find_map(|d| {
                let dir = d.ok()?.path();
                std::fs::read_dir(dir).ok()?.find_map(|f| {
                    let f = f.ok()?.path();
                    (f.extension()? == "jp2").then_some(f)
                })
            }))
        else {
            eprintln!("SKIPPED: ../shared/faces/dev-card is absent (development faces are not in git)");
            return;
        };
        let expected = std::fs::read(&jp2).unwrap_or_default();
        let jp2_text = jp2.to_string_lossy().into_owned();
        let _card = bed.insert_card(&["--photo", &jp2_text]);
        let mut card = connect();
        let b = CollationNumberB::new("55021720352285").unwrap_or_else(|e| panic!("{e}"));
        let photo = card.read_face_photo(&b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(photo.jp2_bytes(), &expected[..]);
    }
}

testbed_test! {
    fn a_face_only_card_is_recognised_and_its_pin_is_never_tried(bed) {
        let sim = bed.insert_card(&["--face-only"]);
        let mut card = connect();
        assert_eq!(card.card_kind().ok(), Some(CardKind::FaceOnly));
        assert!(matches!(card.auth_pin_status(), Ok(PinStatus::Unusable(StatusWord::ReferenceNotUsable))));
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(card.verify_auth_pin(&pin), Err(CardError::PinUnusable { .. })));
        // The face path still works on a face-only card.
        let b = CollationNumberB::new("55021720352285").unwrap_or_else(|e| panic!("{e}"));
        assert!(card.read_face_photo(&b).is_ok());
        drop(card);
        let info = info_json(bed);
        assert_eq!(info["kind"], "face-only");
        assert_eq!(info["pin"], "not-set");
        assert!(sim.apdus().iter().all(|a| !a.is_verify_with_data() || a.app.as_deref() == Some("card-face")));
    }
}

testbed_test! {
    fn a_card_pulled_mid_read_is_card_removed(bed) {
        // SELECT AP, SELECT EF, two reads, then the card is gone.
        let mut sim = bed.insert_card(&["--pull-after-apdus", "4"]);
        let mut card = connect();
        let result = card.read_auth_certificate();
        assert!(matches!(result, Err(CardError::CardRemoved)), "{result:?}");
        drop(card);
        assert!(sim.wait_exit(Duration::from_secs(5)));
        // And the CLI says so, with a hint, and fails.
        let mut again = bed.insert_card(&["--pull-after-apdus", "3"]);
        let out = bed.mynareader(&["card", "info", "--wait", "5"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("the card was removed"), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(again.wait_exit(Duration::from_secs(5)));
    }
}

testbed_test! {
    fn a_card_pulled_and_reinserted_keeps_its_counter(bed) {
        // Back after more than pcscd's 400 ms presence poll: a gap shorter
        // than that is invisible to PC/SC and surfaces as a malformed answer.
        let _card = bed.insert_card(&["--pull-after-apdus", "4", "--reinsert-after-ms", "1000"]);
        let mut card = connect();
        let wrong = Pin::new("0000").unwrap_or_else(|e| panic!("{e}"));
        // SELECT AP, SELECT PIN, query, VERIFY: the wrong try is answered, then pulled.
        let result = card.verify_auth_pin(&wrong);
        assert!(matches!(result, Err(CardError::WrongPin { tries_left: 2 })), "{result:?}");
        let result = card.auth_pin_status();
        assert!(matches!(result, Err(CardError::CardRemoved)), "{result:?}");
        drop(card);
        mynareader_tests::wait_for_reader_state(true, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        let mut card = connect();
        assert_eq!(card.auth_pin_status().ok(), Some(PinStatus::TriesLeft(2)));
    }
}

testbed_test! {
    fn broken_cards_give_typed_errors(bed) {
        type Expected = fn(&CardError) -> bool;
        let cases: [(&str, Expected); 4] = [
            ("truncated-cert", |e| matches!(e, CardError::TruncatedFile { fid: 0x000A, .. })),
            ("garbage-cert", |e| matches!(e, CardError::BadFileContent { fid: 0x000A, .. } | CardError::TruncatedFile { fid: 0x000A, .. } | CardError::FileTooLarge { .. })),
            ("short-responses", |e| matches!(e, CardError::Response { .. })),
            ("unknown-status", |e| matches!(e, CardError::Command(CommandError::Status { sw: StatusWord::Other(0x6F00), .. }))),
        ];
        for (mode, expected) in cases {
            let sim = bed.insert_card(&["--broken", mode]);
            let mut card = connect();
            match card.read_auth_certificate() {
                Err(e) => assert!(expected(&e), "{mode}: unexpected error {e:?}"),
                Ok(_) => panic!("{mode}: a broken card was read as fine"),
            }
            drop(card);
            let out = bed.mynareader(&["card", "info", "--wait", "5"]);
            assert!(!out.status.success(), "{mode}: card info succeeded");
            assert_eq!(String::from_utf8_lossy(&out.stderr).lines().next().map(|l| l.starts_with("mynareader: ")), Some(true));
            sim.remove();
        }
    }
}

testbed_test! {
    fn detection_does_not_depend_on_the_atr(bed) {
        for atr in ["contact", "contactless", "jpki"] {
            let sim = bed.insert_card(&["--atr", atr]);
            assert_eq!(info_json(bed)["kind"], "standard", "ATR {atr}");
            sim.remove();
        }
    }
}

testbed_test! {
    fn expired_and_expiring_certificates_are_reported(bed) {
        let sim = bed.insert_card(&["--cert-expired-days", "10"]);
        let info = info_json(bed);
        assert_eq!((info["validity"].as_str(), info["days"].as_i64()), (Some("expired"), Some(10)));
        sim.remove();
        let sim = bed.insert_card(&["--cert-expires-in-days", "30"]);
        let info = info_json(bed);
        assert_eq!(info["validity"], "valid");
        assert!(matches!(info["days"].as_i64(), Some(29..=30)));
        sim.remove();
        let _card = bed.insert_card(&["--cert-issuer", "other"]);
        let info = info_json(bed);
        assert_eq!(info["chain_ok"], true, "the card's own CA file matches its issuer");
        assert!(info["issuer"].as_str().is_some_and(|i| i.contains("Not JPKI")));
    }
}

testbed_test! {
    fn no_session_ever_touches_the_my_number_file(bed) {
        let sim = bed.insert_card(&[]);
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        let b = CollationNumberB::new("55021720352285").unwrap_or_else(|e| panic!("{e}"));
        let mut card = connect();
        card.info().unwrap_or_else(|e| panic!("{e}"));
        card.read_auth_certificate().unwrap_or_else(|e| panic!("{e}"));
        card.auth_pin_status().unwrap_or_else(|e| panic!("{e}"));
        card.sign_sha256(&pin, &[7; 32]).unwrap_or_else(|e| panic!("{e}"));
        card.read_face_photo(&b).unwrap_or_else(|e| panic!("{e}"));
        card.card_kind().unwrap_or_else(|e| panic!("{e}"));
        drop(card);
        let out = bed.dir().join("c.der").to_string_lossy().into_owned();
        stdout(&bed.mynareader(&["card", "read-cert", "--out", &out]));
        info_json(bed);
        let log = sim.apdus();
        assert!(log.len() > 20);
        let input_support_aid = "D3921000310001010408";
        for apdu in &log {
            assert_ne!(apdu.app.as_deref(), Some("input-support"), "a command ran in the 個人番号 AP: {apdu:?}");
            assert_ne!(apdu.data.as_deref(), Some(input_support_aid), "the 個人番号 AP was selected: {apdu:?}");
            assert!(!apdu.events.iter().any(|e| e == "my-number-file-selected" || e == "collation-a-verify"), "{apdu:?}");
        }

        // The detector itself works: a raw SELECT of the 個人番号 file is seen.
        let mut raw = connect().into_transport();
        let select_ap = [0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
        assert_eq!(raw.transmit(&select_ap).map(|r| r.to_vec()).ok(), Some(vec![0x90, 0x00]));
        assert_eq!(raw.transmit(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01]).map(|r| r.to_vec()).ok(), Some(vec![0x90, 0x00]));
        // Without the PIN or 照合番号A it stays closed.
        assert_eq!(raw.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x00]).map(|r| r.to_vec()).ok(), Some(vec![0x69, 0x82]));
        drop(raw);
        assert!(sim.apdus().iter().any(|a| a.events.iter().any(|e| e == "my-number-file-selected")));
    }
}

testbed_test! {
    fn unknown_applications_are_refused_so_other_drivers_do_not_claim_the_card(bed) {
        let _card = bed.insert_card(&[]);
        let mut raw = connect().into_transport();
        for aid in [&[0xA0, 0x00, 0x00, 0x00, 0x01, 0x01][..], &[0xD2, 0x76, 0x00, 0x01, 0x24, 0x01], &[0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00]] {
            let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
            apdu.extend_from_slice(aid);
            assert_eq!(raw.transmit(&apdu).map(|r| r.to_vec()).ok(), Some(vec![0x6A, 0x82]), "{aid:02X?}");
        }
        assert_eq!(raw.transmit(&[0x00, 0xCA, 0xDF, 0x30, 0x05]).map(|r| r.to_vec()).ok(), Some(vec![0x6A, 0x88]));
    }
}

testbed_test! {
    fn the_driver_notices_when_the_card_is_taken(bed) {
        let sim = bed.insert_card(&[]);
        let card = match PcscCard::connect(ConnectOptions { reader: None, wait: Duration::from_secs(5) }) {
            Ok(card) => card,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(card.wait_removed(Duration::from_millis(300)).ok(), Some(false), "the card is still there");
        let remover = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            sim.remove();
        });
        assert_eq!(card.wait_removed(Duration::from_secs(10)).ok(), Some(true));
        remover.join().unwrap_or_else(|_| panic!("remover thread"));
        // A second program asking for the reader meanwhile gets "no card".
        let later = PcscCard::connect(ConnectOptions { reader: None, wait: Duration::from_millis(300) });
        assert!(matches!(later.err(), Some(myna_card::TransportError::NoCard)));
    }
}

testbed_test! {
    fn a_reader_held_by_another_program_is_reported_busy(bed) {
        let _card = bed.insert_card(&[]);
        let holder = match PcscCard::connect(ConnectOptions { reader: None, wait: Duration::from_secs(5) }) {
            Ok(card) => card,
            Err(e) => panic!("{e}"),
        };
        let out = bed.mynareader(&["card", "info", "--wait", "2"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("another program is using the card reader"), "{err}");
        drop(holder);
        assert!(bed.mynareader(&["card", "info", "--wait", "2"]).status.success());
    }
}

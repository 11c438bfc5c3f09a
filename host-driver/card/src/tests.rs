//! Operation tests against a scripted card (no daemon, no emulator): exact
//! APDU sequences, every status-word path, the PIN guard.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::apdu::SHA256_DIGEST_INFO_PREFIX;
use super::myna::JP2_SIGNATURE;
use super::*;
use crate::secret::{CollationNumberB, Pin};

const JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
const FACE_AP: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02];

/// A minimal scripted card: files per application, one PIN per reference.
struct FakeCard {
    apps: Vec<[u8; 10]>,
    files: HashMap<([u8; 10], u16), Vec<u8>>,
    pins: HashMap<([u8; 10], u16), (Vec<u8>, u8)>,
    app: Option<[u8; 10]>,
    ef: Option<u16>,
    verified: bool,
    sent: Vec<Vec<u8>>,
    removed_after: Option<usize>,
    answer_override: Option<Vec<u8>>,
}

impl FakeCard {
    fn new() -> FakeCard {
        FakeCard {
            apps: vec![JPKI, FACE_AP],
            files: HashMap::new(),
            pins: HashMap::from([
                ((JPKI, 0x0018), (b"1234".to_vec(), 3)),
                ((FACE_AP, 0x0012), (b"55021720352285".to_vec(), 10)),
            ]),
            app: None,
            ef: None,
            verified: false,
            sent: Vec::new(),
            removed_after: None,
            answer_override: None,
        }
    }

    fn with_file(mut self, app: [u8; 10], fid: u16, bytes: Vec<u8>) -> Self {
        self.files.insert((app, fid), bytes);
        self
    }

    fn verifies_sent(&self) -> usize {
        self.sent
            .iter()
            .filter(|a| a[1] == 0x20 && a.len() > 4)
            .count()
    }

    fn answer(&mut self, a: &[u8]) -> Vec<u8> {
        let sw = |s: u16| s.to_be_bytes().to_vec();
        match (a[0], a[1], a[2]) {
            (0x00, 0xA4, 0x04) => match <[u8; 10]>::try_from(&a[5..]) {
                Ok(aid) if self.apps.contains(&aid) => {
                    self.app = Some(aid);
                    self.ef = None;
                    self.verified = false;
                    sw(0x9000)
                }
                _ => sw(0x6A82),
            },
            (0x00, 0xA4, 0x02) => {
                let fid = u16::from_be_bytes([a[5], a[6]]);
                let Some(app) = self.app else {
                    return sw(0x6A82);
                };
                if self.files.contains_key(&(app, fid))
                    || self.pins.contains_key(&(app, fid))
                    || fid == 0x0017
                {
                    self.ef = Some(fid);
                    sw(0x9000)
                } else {
                    sw(0x6A82)
                }
            }
            (0x00, 0xB0, _) => {
                let (Some(app), Some(ef)) = (self.app, self.ef) else {
                    return sw(0x6986);
                };
                let Some(file) = self.files.get(&(app, ef)) else {
                    return sw(0x6981);
                };
                let offset = usize::from(u16::from_be_bytes([a[2], a[3]]));
                let le = if a[4] == 0 { 256 } else { usize::from(a[4]) };
                if offset >= file.len() {
                    return sw(0x6B00);
                }
                let mut out = file[offset..(offset + le).min(file.len())].to_vec();
                out.extend(sw(0x9000));
                out
            }
            (0x00, 0x20, _) => {
                let (Some(app), Some(ef)) = (self.app, self.ef) else {
                    return sw(0x6986);
                };
                let Some((secret, tries)) = self.pins.get_mut(&(app, ef)) else {
                    return sw(0x6A82);
                };
                if a.len() == 4 {
                    return sw(0x63C0 | u16::from(*tries));
                }
                if *tries == 0 {
                    return sw(0x6984);
                }
                if a[5..] == secret[..] {
                    *tries = if ef == 0x0018 { 3 } else { 10 };
                    self.verified = true;
                    sw(0x9000)
                } else {
                    *tries -= 1;
                    sw(0x63C0 | u16::from(*tries))
                }
            }
            (0x80, 0x2A, _) if self.verified && self.ef == Some(0x0017) => {
                let mut out = vec![0x5A; 256];
                out.extend(sw(0x9000));
                out
            }
            (0x80, 0x2A, _) => sw(0x6982),
            _ => sw(0x6D00),
        }
    }
}

impl ApduTransport for FakeCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        if self.removed_after.is_some_and(|n| self.sent.len() >= n) {
            return Err(TransportError::CardRemoved);
        }
        self.sent.push(apdu.to_vec());
        if let Some(answer) = &self.answer_override {
            return Ok(Zeroizing::new(answer.clone()));
        }
        Ok(Zeroizing::new(self.answer(apdu)))
    }
}

/// A DER-like object of `len` content bytes with a `30 82` header, padded
/// with filler as EFs are.
fn der_object(len: usize) -> Vec<u8> {
    let mut out = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
    out.extend((0..len).map(|i| i as u8));
    out.resize(out.len() + 300, 0xFF);
    out
}

fn card_with_cert(len: usize) -> MynaCard<FakeCard> {
    MynaCard::new(FakeCard::new().with_file(JPKI, 0x000A, der_object(len)))
}

#[test]
fn certificate_read_uses_the_ber_length_and_full_chunks() {
    let mut card = card_with_cert(0x370);
    let der = card.read_auth_certificate().unwrap();
    assert_eq!(der.len(), 0x374);
    assert_eq!(der[..4], [0x30, 0x82, 0x03, 0x70]);
    let fake = card.into_transport();
    let reads: Vec<_> = fake
        .sent
        .iter()
        .filter(|a| a[1] == 0xB0)
        .map(|a| a[2..5].to_vec())
        .collect();
    assert_eq!(
        reads,
        vec![
            vec![0x00, 0x00, 0x00],
            vec![0x01, 0x00, 0x00],
            vec![0x02, 0x00, 0x00],
            vec![0x03, 0x00, 0x74]
        ]
    );
    assert_eq!(fake.sent.len(), 2 + 4, "SELECT AP, SELECT EF, four reads");
}

#[test]
fn any_definite_length_form_is_read_exactly() {
    for (header, total) in [
        (vec![0x30, 0x20], 0x22),
        (vec![0x30, 0x81, 0xF0], 0xF3),
        (vec![0x30, 0x83, 0x00, 0x04, 0x00], 0x405),
    ] {
        let mut file = header.clone();
        file.resize(total, 0x11);
        file.resize(total + 500, 0xFF);
        let mut card = MynaCard::new(FakeCard::new().with_file(JPKI, 0x000A, file));
        assert_eq!(
            card.read_auth_certificate().unwrap().len(),
            total,
            "header {header:02X?}"
        );
    }
}

#[test]
fn a_file_shorter_than_its_header_is_truncated() {
    let mut file = der_object(0x370);
    file.truncate(600);
    let mut card = MynaCard::new(FakeCard::new().with_file(JPKI, 0x000A, file));
    assert!(matches!(
        card.read_auth_certificate(),
        Err(CardError::TruncatedFile {
            fid: 0x000A,
            expected: 0x374,
            read: 600
        })
    ));
}

#[test]
fn garbage_in_a_file_is_a_typed_error() {
    let mut card = MynaCard::new(FakeCard::new().with_file(JPKI, 0x000A, vec![0x30, 0x80, 0, 0]));
    assert!(matches!(
        card.read_auth_certificate(),
        Err(CardError::BadFileContent {
            fid: 0x000A,
            source: ber::BerError::IndefiniteLength
        })
    ));
    let mut card =
        MynaCard::new(FakeCard::new().with_file(JPKI, 0x000A, vec![0x30, 0x05, 1, 2, 3, 4, 5]));
    let der = card.read_auth_certificate().unwrap();
    assert!(matches!(
        cert::certificate_info(&der),
        Err(cert::CertError::Parse(_))
    ));
}

#[test]
fn answers_without_a_status_word_are_typed() {
    let mut fake = FakeCard::new();
    fake.answer_override = Some(vec![0x90]);
    let mut card = MynaCard::new(fake);
    assert!(matches!(
        card.read_auth_certificate(),
        Err(CardError::Response {
            source: apdu::ResponseError::TooShort { len: 1 },
            ..
        })
    ));
    let mut fake = FakeCard::new();
    fake.answer_override = Some(vec![0x6F, 0x00]);
    let mut card = MynaCard::new(fake);
    assert!(matches!(
        card.auth_pin_status(),
        Err(CardError::Command(apdu::CommandError::Status {
            sw: StatusWord::Other(0x6F00),
            ..
        }))
    ));
}

#[test]
fn a_card_without_jpki_is_not_a_my_number_card() {
    let mut fake = FakeCard::new();
    fake.apps.clear();
    let mut card = MynaCard::new(fake);
    assert!(matches!(
        card.read_auth_certificate(),
        Err(CardError::NotAMyNumberCard)
    ));
}

#[test]
fn removal_is_reported_as_such() {
    let mut fake = FakeCard::new().with_file(JPKI, 0x000A, der_object(0x370));
    fake.removed_after = Some(3);
    let mut card = MynaCard::new(fake);
    assert!(matches!(
        card.read_auth_certificate(),
        Err(CardError::CardRemoved)
    ));
}

#[test]
fn pin_query_spends_nothing() {
    let mut card = card_with_cert(0x20);
    for _ in 0..5 {
        assert_eq!(card.auth_pin_status().unwrap(), PinStatus::TriesLeft(3));
    }
    assert_eq!(card.into_transport().verifies_sent(), 0);
}

#[test]
fn wrong_pins_count_down_and_a_locked_pin_is_never_sent() {
    let mut card = card_with_cert(0x20);
    let wrong = Pin::new("9999").unwrap();
    assert!(matches!(
        card.verify_auth_pin(&wrong),
        Err(CardError::WrongPin { tries_left: 2 })
    ));
    assert!(matches!(
        card.verify_auth_pin(&wrong),
        Err(CardError::WrongPin { tries_left: 1 })
    ));
    assert!(matches!(
        card.verify_auth_pin(&wrong),
        Err(CardError::PinLocked)
    ));
    assert_eq!(card.auth_pin_status().unwrap(), PinStatus::Locked);
    let right = Pin::new("1234").unwrap();
    assert!(matches!(
        card.verify_auth_pin(&right),
        Err(CardError::PinLocked)
    ));
    assert_eq!(
        card.into_transport().verifies_sent(),
        3,
        "no VERIFY after the lock"
    );
}

#[test]
fn a_right_pin_resets_the_counter_and_unlocks_signing() {
    let mut card = card_with_cert(0x20);
    assert!(card.verify_auth_pin(&Pin::new("0000").unwrap()).is_err());
    let signature = card
        .sign_sha256(&Pin::new("1234").unwrap(), &[0xAB; 32])
        .unwrap();
    assert_eq!(signature.len(), 256);
    assert_eq!(card.auth_pin_status().unwrap(), PinStatus::TriesLeft(3));
    let fake = card.into_transport();
    let sign = fake.sent.iter().find(|a| a[..2] == [0x80, 0x2A]).unwrap();
    assert_eq!(sign[..5], [0x80, 0x2A, 0x00, 0x80, 51]);
    assert_eq!(sign[5..24], SHA256_DIGEST_INFO_PREFIX);
    assert_eq!(sign[24..56], [0xAB; 32]);
}

fn card_face_file(photo: &[u8]) -> Vec<u8> {
    let tlv = |tag: [u8; 2], v: &[u8]| {
        let mut out = tag.to_vec();
        out.extend_from_slice(&[0x82, (v.len() >> 8) as u8, v.len() as u8]);
        out.extend_from_slice(v);
        out
    };
    let inner = [
        tlv([0xDF, 0x21], &[0; 4]),
        tlv([0xDF, 0x22], b"19800217"),
        tlv([0xDF, 0x27], photo),
    ]
    .concat();
    let mut file = tlv([0xFF, 0x20], &inner);
    file.resize(file.len() + 200, 0xFF);
    file
}

#[test]
fn face_photo_needs_the_right_collation_number() {
    let mut photo = JP2_SIGNATURE.to_vec();
    photo.extend((0..700).map(|i| (i % 251) as u8));
    let fake = FakeCard::new().with_file(FACE_AP, 0x0002, card_face_file(&photo));
    let mut card = MynaCard::new(fake);
    let wrong = CollationNumberB::new("55021720350000").unwrap();
    assert!(matches!(
        card.read_face_photo(&wrong),
        Err(CardError::WrongCollationNumber { tries_left: 9 })
    ));
    let right = CollationNumberB::new("55021720352285").unwrap();
    assert_eq!(
        card.read_face_photo(&right).unwrap().jp2_bytes(),
        &photo[..]
    );
}

#[test]
fn a_locked_collation_number_is_never_sent() {
    let mut fake = FakeCard::new().with_file(FACE_AP, 0x0002, card_face_file(&JP2_SIGNATURE));
    fake.pins
        .insert((FACE_AP, 0x0012), (b"55021720352285".to_vec(), 0));
    let mut card = MynaCard::new(fake);
    let right = CollationNumberB::new("55021720352285").unwrap();
    assert!(matches!(
        card.read_face_photo(&right),
        Err(CardError::CollationNumberLocked)
    ));
    assert_eq!(card.into_transport().verifies_sent(), 0);
}

#[test]
fn a_photo_that_is_not_jpeg_2000_is_refused() {
    let fake =
        FakeCard::new().with_file(FACE_AP, 0x0002, card_face_file(b"\xFF\xD8\xFF\xE0 a JPEG"));
    let mut card = MynaCard::new(fake);
    let right = CollationNumberB::new("55021720352285").unwrap();
    assert!(matches!(
        card.read_face_photo(&right),
        Err(CardError::PhotoMissing)
    ));
}

#[test]
fn face_only_cards_are_told_by_the_certificate_presence_file() {
    for (presence, kind) in [
        ([0x8F, 0x8F, 0x00], CardKind::Standard),
        ([0x00, 0x8F, 0x00], CardKind::FaceOnly),
    ] {
        let mut card = MynaCard::new(FakeCard::new().with_file(JPKI, 0x0008, presence.to_vec()));
        assert_eq!(card.card_kind().unwrap(), kind);
    }
}

#[test]
fn the_driver_cannot_name_the_my_number_application() {
    // The 券面事項入力補助AP's AID must not appear anywhere in the profile.
    let input_support = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
    let p = profile::MYNA_2016;
    assert_ne!(p.jpki_aid, input_support);
    assert_ne!(p.card_face_aid, input_support);
}

#[test]
fn the_fuzz_entry_point_survives_odd_inputs() {
    for input in [
        &[][..],
        &[0x90],
        &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0xFF, 0x20, 0x03, 0xDF, 0x27, 0x05],
    ] {
        fuzz_card_responses(input);
    }
}

#[test]
fn certificate_errors_keep_the_parser_error_as_their_source() {
    use std::error::Error;
    let err = cert::certificate_info(&[0x30, 0x03, 1, 2, 3]).unwrap_err();
    assert!(matches!(err, cert::CertError::Parse(_)));
    assert!(err.source().is_some(), "{err:?}");
    // Through the card layer too: the chain is card → certificate → x509.
    let card_err = CardError::from(err);
    let source = card_err.source().unwrap();
    assert!(source.source().is_some(), "{card_err:?}");
}

#[test]
fn a_signature_that_does_not_verify_keeps_ring_s_error() {
    use std::error::Error;
    // An ECDSA certificate cannot verify an RSA signature: ring refuses.
    let certified = rcgen::generate_simple_self_signed(vec!["card.test".into()]).unwrap();
    let der = certified.cert.der().to_vec();
    let err = cert::verify_rsa_sha256(&der, b"message", &[0; 256]).unwrap_err();
    assert!(matches!(err, cert::CertError::BadMessageSignature(_)));
    assert!(err.source().is_some());
    // Self-signed, but not a CA: refused before any signature check.
    assert_eq!(
        cert::verify_issued_by(&der, &der),
        Err(cert::CertError::NotACa)
    );
}

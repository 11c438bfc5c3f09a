//! Personalities: what is written into the emulated card (credentials,
//! certificates, card-face data, photo) and how it is laid out in its EFs.

use std::collections::BTreeMap;

use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime, Time};

use crate::card::{Access, App, Broken, CardContents, Credential, DataFile, ObjectId, SigningKey};
use crate::pki::{self, CaKind, CardCertSpec, PkiError};

/// The contact ATR in OpenSC's JPKI table (T=1).
pub const ATR_JPKI: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];
/// Another published contact ATR (T=1), not in OpenSC's table: detection must
/// then go by SELECT.
pub const ATR_OTHER_CONTACT: [u8; 19] = [
    0x3B, 0xDA, 0x13, 0xFF, 0x81, 0x31, 0xFB, 0x46, 0x80, 0x12, 0x39, 0x2F, 0x31, 0xC1, 0x73, 0xC6,
    0x01, 0xC0, 0x3B,
];
/// A contactless-style ATR synthesised by a PC/SC reader from the Type B ATQB.
pub const ATR_CONTACTLESS: [u8; 13] = [
    0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x05, 0xE0, 0xB3, 0x81, 0xA1, 0x00, 0x7F,
];

/// Validity of the user-authentication certificate, relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Issued a year ago, valid for four more years.
    Normal,
    /// Expired this many days ago.
    ExpiredDaysAgo(u32),
    /// Expires in this many days.
    ExpiresInDays(u32),
}

/// Everything that makes one card different from another.
#[derive(Debug, Clone)]
pub struct Personality {
    /// 利用者証明用電子証明書 暗証番号 (4 digits); `None` on a face-auth card.
    pub auth_pin: Option<String>,
    /// Tries left on the auth PIN (of 3).
    pub auth_pin_tries: u8,
    /// 署名用電子証明書 暗証番号 (6–16); `None` on a face-auth card.
    pub sign_password: Option<String>,
    /// Tries left on the signature password (of 5).
    pub sign_password_tries: u8,
    /// 照合番号B (14 digits) as the card's fixture defines it.
    pub collation_b: String,
    /// Tries left on 照合番号B (of 10).
    pub collation_b_tries: u8,
    /// The 12-digit 個人番号 (a test value; the driver must never read it).
    pub my_number: String,
    /// Date of birth `YYYYMMDD`.
    pub birth_date: String,
    /// Date of birth in the Japanese era, `YYMMDD` (opens the age record).
    pub birth_date_era: String,
    /// Sex: "1", "2" or "9".
    pub sex: String,
    /// Name (UTF-8, U+3000 between family and given name).
    pub name: String,
    /// Address (UTF-8).
    pub address: String,
    /// Card expiry `YYYYMMDD`.
    pub card_expiry: String,
    /// Municipality code (5 digits).
    pub municipality: String,
    /// Serial number of the user-authentication certificate.
    pub auth_cert_serial: Vec<u8>,
    /// Subject CN of the user-authentication certificate.
    pub auth_cert_cn: String,
    /// Validity of the user-authentication certificate.
    pub auth_cert_validity: Validity,
    /// Which CA issued the user-authentication certificate.
    pub auth_cert_issuer: CaKind,
    /// The face photo as JPEG 2000 (JP2 container).
    pub photo_jp2: Vec<u8>,
    /// A deliberate fault.
    pub broken: Option<Broken>,
    /// The answer-to-reset.
    pub atr: Vec<u8>,
}

impl Default for Personality {
    fn default() -> Self {
        Personality {
            auth_pin: Some("1234".into()),
            auth_pin_tries: 3,
            sign_password: Some("ABC123".into()),
            sign_password_tries: 5,
            // Era birth date (昭和55年2月17日) + card expiry year + security code.
            collation_b: "55021720352285".into(),
            collation_b_tries: 10,
            my_number: "123456789018".into(),
            birth_date: "19800217".into(),
            birth_date_era: "550217".into(),
            sex: "2".into(),
            name: "番号\u{3000}花子".into(),
            address: "東京都千代田区霞が関２丁目１番２号".into(),
            card_expiry: "20350217".into(),
            municipality: "13101".into(),
            auth_cert_serial: vec![0x01, 0xA2, 0xB3, 0xC4, 0xD5, 0xE6],
            auth_cert_cn: "TESTJPKIAUTH000000000001".into(),
            auth_cert_validity: Validity::Normal,
            auth_cert_issuer: CaKind::Auth,
            photo_jp2: Vec::new(),
            broken: None,
            atr: ATR_JPKI.to_vec(),
        }
    }
}

impl Personality {
    /// A 顔認証マイナンバーカード: no PINs set and no signature certificate.
    pub fn face_only(mut self) -> Self {
        self.auth_pin = None;
        self.sign_password = None;
        self
    }

    /// Whether this is a face-auth card.
    pub fn is_face_only(&self) -> bool {
        self.auth_pin.is_none()
    }
}

/// Errors while personalising a card.
#[derive(Debug, thiserror::Error)]
pub enum PersonaliseError {
    /// The test PKI failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// Signing card-face data failed.
    #[error("card-face signature failed: {0}")]
    Sign(#[from] rsa::Error),
    /// A value does not fit its field.
    #[error("{0}")]
    Field(String),
}

/// Appends a BER definite length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        _ => {
            let [hi, lo] = (len as u16).to_be_bytes();
            out.extend_from_slice(&[0x82, hi, lo]);
        }
    }
}

/// A BER-TLV with the tag bytes as given.
pub fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    push_len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// Pads a file's content with filler to a physical EF size, as real EFs are
/// larger than what they hold.
fn ef(content: Vec<u8>, access: Access) -> DataFile {
    let physical = content.len().div_ceil(256) * 256 + 128;
    let mut bytes = content;
    bytes.resize(physical, 0xFF);
    DataFile { bytes, access }
}

/// An EF with exactly `content` and no filler.
fn exact(content: Vec<u8>, access: Access) -> DataFile {
    DataFile {
        bytes: content,
        access,
    }
}

fn token_info(label: &str) -> Vec<u8> {
    // CK_TOKEN_INFO serialised with 32-bit big-endian integers (160 bytes).
    let mut out = Vec::with_capacity(160);
    let mut padded = |text: &str, width: usize| {
        let mut field = text.as_bytes().to_vec();
        field.resize(width, b' ');
        out.extend_from_slice(&field);
    };
    padded(label, 32);
    padded("JPKI", 32);
    padded("MYNA-CARD-SIM", 16);
    padded("0000000000000001", 16);
    for value in [0x0000_040Du32, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0] {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(&[1, 0, 1, 0]);
    out.extend_from_slice(&[b'0'; 16]);
    out
}

fn public_key_object(key: &RsaPrivateKey) -> Vec<u8> {
    // 90 <exponent> 91 <modulus>, as in DF24 of the card face.
    let mut out = tlv(&[0x90], &key.e().to_bytes_be());
    out.extend(tlv(&[0x91], &key.n().to_bytes_be()));
    out
}

fn sign_sha256(key: &RsaPrivateKey, data: &[u8]) -> Result<Vec<u8>, rsa::Error> {
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(data))
}

/// A small valid PNG standing in for the card's rendered text images.
fn text_image_png(seed: u8) -> Vec<u8> {
    let mut pixels = image::GrayImage::from_pixel(64, 16, image::Luma([255]));
    for x in 0..64u32 {
        if (x as u8).wrapping_mul(seed).is_multiple_of(3) {
            pixels.put_pixel(x, 8, image::Luma([0]));
        }
    }
    let mut png = std::io::Cursor::new(Vec::new());
    // Encoding a 64×16 image into memory cannot fail; an empty PNG would still
    // be an opaque blob to the driver.
    let _ = pixels.write_to(&mut png, image::ImageFormat::Png);
    png.into_inner()
}

/// A structure of offsets + objects: `outer` { `DFx1` offsets; objects… }.
fn offset_table_structure(outer: [u8; 2], objects: &[Vec<u8>], offset_tag: u8) -> Vec<u8> {
    let body_len: usize = objects.iter().map(Vec::len).sum();
    let table_len = objects.len() * 2;
    let table_tlv_len = 3 + table_len;
    let inner_len = table_tlv_len + body_len;
    let mut header = outer.to_vec();
    push_len(&mut header, inner_len);
    let mut offset = header.len() + table_tlv_len;
    let mut table = Vec::with_capacity(table_len);
    for object in objects {
        table.extend_from_slice(&(offset as u16).to_be_bytes());
        offset += object.len();
    }
    let mut out = header;
    out.extend(tlv(&[0xDF, offset_tag], &table));
    for object in objects {
        out.extend_from_slice(object);
    }
    out
}

fn now_day() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_time(Time::MIDNIGHT)
}

/// The user-authentication certificate for a personality.
pub fn auth_certificate(p: &Personality) -> Result<Vec<u8>, PersonaliseError> {
    let today = now_day();
    let (not_before, not_after) = match p.auth_cert_validity {
        Validity::Normal => (today - Duration::days(365), today + Duration::days(4 * 365)),
        Validity::ExpiredDaysAgo(days) => {
            let end = today - Duration::days(i64::from(days));
            (end - Duration::days(5 * 365), end)
        }
        Validity::ExpiresInDays(days) => {
            let end = today + Duration::days(i64::from(days));
            (end - Duration::days(5 * 365), end)
        }
    };
    Ok(pki::issue_card_certificate(&CardCertSpec {
        issuer: p.auth_cert_issuer,
        serial: p.auth_cert_serial.clone(),
        common_name: p.auth_cert_cn.clone(),
        not_before,
        not_after,
        subject_key: pki::CARD_AUTH_KEY,
        non_repudiation: false,
    })?)
}

fn sign_certificate() -> Result<Vec<u8>, PersonaliseError> {
    let today = now_day();
    Ok(pki::issue_card_certificate(&CardCertSpec {
        issuer: CaKind::Sign,
        serial: vec![0x02, 0x11, 0x22, 0x33],
        common_name: "TESTJPKISIGN000000000001".into(),
        not_before: today - Duration::days(365),
        not_after: today + Duration::days(4 * 365),
        subject_key: pki::CARD_SIGN_KEY,
        non_repudiation: true,
    })?)
}

fn ascii_digits(field: &str, value: &str, len: usize) -> Result<(), PersonaliseError> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PersonaliseError::Field(format!(
            "{field} must be {len} ASCII digits"
        )))
    }
}

fn credential(secret: Option<&str>, max: u8, left: u8) -> Credential {
    Credential {
        secret: secret.map(|s| s.as_bytes().to_vec()),
        max_tries: Some(max),
        tries_left: left.min(max),
    }
}

/// Writes a personality into the card's applications and files.
pub fn personalise(p: &Personality) -> Result<CardContents, PersonaliseError> {
    ascii_digits("照合番号B", &p.collation_b, 14)?;
    ascii_digits("個人番号", &p.my_number, 12)?;
    ascii_digits("birth date", &p.birth_date, 8)?;
    ascii_digits("era birth date", &p.birth_date_era, 6)?;
    ascii_digits("card expiry", &p.card_expiry, 8)?;
    if let Some(pin) = &p.auth_pin {
        ascii_digits("auth PIN", pin, 4)?;
    }

    let auth_key = pki::rsa_key(pki::CARD_AUTH_KEY)?;
    let sign_key = pki::rsa_key(pki::CARD_SIGN_KEY)?;
    let face_key = pki::rsa_key(pki::CARD_FACE_KEY)?;
    let face_only = p.is_face_only();

    let mut files: BTreeMap<ObjectId, DataFile> = BTreeMap::new();
    let mut credentials: BTreeMap<ObjectId, Credential> = BTreeMap::new();
    let mut keys: BTreeMap<ObjectId, SigningKey> = BTreeMap::new();

    // 公的個人認証AP.
    let auth_cert = auth_certificate(p)?;
    let auth_cert_file = match p.broken {
        Some(Broken::GarbageCert) => {
            let mut junk: Vec<u8> = (0..auth_cert.len())
                .map(|i| (i as u8).wrapping_mul(151).wrapping_add(7))
                .collect();
            junk[0] = 0x5A;
            ef(junk, Access::Always)
        }
        Some(Broken::TruncatedCert) => exact(
            auth_cert[..auth_cert.len() * 2 / 3].to_vec(),
            Access::Always,
        ),
        _ => ef(auth_cert, Access::Always),
    };
    files.insert((App::Jpki, 0x000A), auth_cert_file);
    files.insert(
        (App::Jpki, 0x000B),
        ef(
            pki::committed_ca_certificate(p.auth_cert_issuer).to_vec(),
            Access::Always,
        ),
    );
    files.insert(
        (App::Jpki, 0x0002),
        ef(pki::SIGN_CA_CERT.to_vec(), Access::Always),
    );
    files.insert(
        (App::Jpki, 0x0006),
        exact(token_info("JPKIAPICCTOKEN2"), Access::Always),
    );
    let which_certs = if face_only {
        vec![0x00, 0x8F, 0x00]
    } else {
        vec![0x8F, 0x8F, 0x00]
    };
    files.insert((App::Jpki, 0x0008), exact(which_certs, Access::Always));
    credentials.insert(
        (App::Jpki, 0x0018),
        credential(p.auth_pin.as_deref(), 3, p.auth_pin_tries),
    );
    keys.insert(
        (App::Jpki, 0x0017),
        SigningKey {
            key: auth_key,
            unlocked_by: (App::Jpki, 0x0018),
        },
    );
    if !face_only {
        files.insert(
            (App::Jpki, 0x0001),
            ef(
                sign_certificate()?,
                Access::AnyOf(vec![(App::Jpki, 0x001B)]),
            ),
        );
        credentials.insert(
            (App::Jpki, 0x001B),
            credential(p.sign_password.as_deref(), 5, p.sign_password_tries),
        );
        keys.insert(
            (App::Jpki, 0x001A),
            SigningKey {
                key: sign_key,
                unlocked_by: (App::Jpki, 0x001B),
            },
        );
    }

    // 券面事項入力補助AP: present so that tests can prove it is never touched.
    let is = App::InputSupport;
    let is_pin = (is, 0x0011);
    let is_a = (is, 0x0014);
    let is_b = (is, 0x0015);
    credentials.insert(is_pin, credential(p.auth_pin.as_deref(), 3, 3));
    credentials.insert(is_a, credential(Some(&p.my_number), 10, 10));
    credentials.insert(is_b, credential(Some(&p.collation_b), 10, 10));
    credentials.insert((is, 0x0012), credential(Some("0000"), 3, 0));
    let mut my_number_file = tlv(&[0xFF, 0x10], &tlv(&[0x0C], p.my_number.as_bytes()));
    my_number_file.extend_from_slice(&[0xFF, 0xFF]);
    files.insert(
        (is, 0x0001),
        exact(my_number_file, Access::AnyOf(vec![is_pin, is_a])),
    );
    let attributes = offset_table_structure(
        [0xFF, 0x20],
        &[
            tlv(&[0xDF, 0x22], p.name.as_bytes()),
            tlv(&[0xDF, 0x23], p.address.as_bytes()),
            tlv(&[0xDF, 0x24], p.birth_date.as_bytes()),
            tlv(&[0xDF, 0x25], p.sex.as_bytes()),
        ],
        0x21,
    );
    files.insert(
        (is, 0x0002),
        ef(attributes, Access::AnyOf(vec![is_pin, is_b])),
    );
    files.insert(
        (is, 0x0003),
        ef(
            tlv(&[0xFF, 0x30], &[0x11; 64]),
            Access::AnyOf(vec![is_pin, is_a, is_b]),
        ),
    );
    files.insert(
        (is, 0x0004),
        ef(tlv(&[0x7F, 0x21], &[0x5A; 96]), Access::Always),
    );

    // 券面事項確認AP.
    let cf = App::CardFace;
    let cf_a = (cf, 0x0013);
    let cf_b = (cf, 0x0012);
    let cf_dob = (cf, 0x0011);
    credentials.insert(cf_a, credential(Some(&p.my_number), 10, 10));
    credentials.insert(
        cf_b,
        credential(Some(&p.collation_b), 10, p.collation_b_tries),
    );
    credentials.insert(cf_dob, credential(Some(&p.birth_date_era), 10, 10));
    let public_key = public_key_object(&face_key);
    let dob = tlv(&[0xDF, 0x11], p.birth_date.as_bytes());
    let age_record = tlv(
        &[0xFF, 0x10],
        &[
            dob.clone(),
            tlv(&[0xDF, 0x12], &public_key),
            tlv(&[0xDF, 0x13], &sign_sha256(&face_key, &dob)?),
        ]
        .concat(),
    );
    files.insert((cf, 0x0001), ef(age_record, Access::AnyOf(vec![cf_dob])));
    let signed_objects = vec![
        tlv(&[0xDF, 0x22], p.birth_date.as_bytes()),
        tlv(&[0xDF, 0x23], p.sex.as_bytes()),
        tlv(&[0xDF, 0x24], &public_key),
        tlv(&[0xDF, 0x25], &text_image_png(3)),
        tlv(&[0xDF, 0x26], &text_image_png(5)),
        tlv(&[0xDF, 0x27], &p.photo_jp2),
    ];
    let signature = sign_sha256(&face_key, &signed_objects.concat())?;
    let mut face_objects = signed_objects;
    face_objects.push(tlv(&[0xDF, 0x28], &signature));
    face_objects.push(tlv(&[0xDF, 0x29], p.card_expiry.as_bytes()));
    face_objects.push(tlv(&[0xDF, 0x2A], &text_image_png(7)));
    let card_face = offset_table_structure([0xFF, 0x20], &face_objects, 0x21);
    files.insert((cf, 0x0002), ef(card_face, Access::AnyOf(vec![cf_a, cf_b])));
    let basic_data = tlv(
        &[0xFF, 0x30],
        &[
            tlv(&[0xDF, 0x31], &[0, 0, 0, 1]),
            tlv(&[0xDF, 0x32], &[0x42; 16]),
            tlv(&[0xDF, 0x33], &[1]),
            tlv(&[0xDF, 0x34], p.municipality.as_bytes()),
            tlv(&[0xDF, 0x35], &[0x24; 16 + 256]),
        ]
        .concat(),
    );
    files.insert((cf, 0x0003), ef(basic_data, Access::Always));
    files.insert(
        (cf, 0x0004),
        ef(tlv(&[0x7F, 0x21], &[0x5B; 96]), Access::Always),
    );
    files.insert(
        (cf, 0x0005),
        ef(
            tlv(&[0xFF, 0x40], &tlv(&[0xDF, 0x41], &text_image_png(11))),
            Access::AnyOf(vec![cf_a]),
        ),
    );

    let mut mf_data = BTreeMap::new();
    mf_data.insert(0x0045, b"TESTCARD00000001".to_vec());
    mf_data.insert(0x00F0, p.municipality.as_bytes().to_vec());
    mf_data.insert(0x00F2, p.card_expiry.as_bytes().to_vec());

    Ok(CardContents {
        atr: p.atr.clone(),
        files,
        credentials,
        keys,
        mf_data,
        broken: p.broken,
    })
}

//! Round trips, each refusal with its own error, and the fuzz seed corpus.
#![allow(clippy::unwrap_used)]

use myna_image::{
    fuzz_parse, public_key, sign, Header, Image, ImageError, Release, Verifier, HEADER_LEN,
};

const SECRET: [u8; 32] = [7; 32];
const OTHER: [u8; 32] = [8; 32];
const RELEASE: Release = Release {
    hw_id: 0x4d59_0001,
    version: 5,
    security_counter: 2,
};

fn signed(body: &[u8]) -> Vec<u8> {
    let (header, signature) = sign(&SECRET, RELEASE, body).unwrap();
    [&header[..], body, &signature[..]].concat()
}

#[test]
fn a_signed_image_parses_and_verifies() {
    let bytes = signed(b"firmware body");
    let image = Image::parse(&bytes).unwrap();
    let header = image.verify(&public_key(&SECRET)).unwrap();
    assert_eq!(header.version, 5);
    assert_eq!(header.security_counter, 2);
    assert_eq!(header.hw_id, 0x4d59_0001);
    assert_eq!(image.body(), b"firmware body");
    assert_eq!(Header::parse(&header.to_bytes()).unwrap(), header);
}

#[test]
fn streaming_in_pieces_verifies_the_same() {
    let body: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let bytes = signed(&body);
    let mut v = Verifier::new(&bytes[..HEADER_LEN]).unwrap();
    for piece in body.chunks(333) {
        v.update(piece);
    }
    let sig: [u8; 64] = bytes[bytes.len() - 64..].try_into().unwrap();
    assert!(v.finish(&public_key(&SECRET), &sig).is_ok());
}

#[test]
fn each_fault_has_its_own_error() {
    let bytes = signed(b"firmware body");
    let key = public_key(&SECRET);
    let verify = |b: &[u8]| Image::parse(b).and_then(|i| i.verify(&key));

    let mut body = bytes.clone();
    body[HEADER_LEN + 1] ^= 1;
    assert_eq!(verify(&body), Err(ImageError::BodyHash));

    let mut header = bytes.clone();
    header[12] ^= 1; // the version
    assert_eq!(verify(&header), Err(ImageError::Signature));

    let mut sig = bytes.clone();
    *sig.last_mut().unwrap() ^= 1;
    assert_eq!(verify(&sig), Err(ImageError::Signature));

    assert_eq!(
        Image::parse(&bytes).unwrap().verify(&public_key(&OTHER)),
        Err(ImageError::UnknownKey)
    );
    // Re-signed with another key but claiming ours: a bad signature.
    let (h2, s2) = sign(&OTHER, RELEASE, b"firmware body").unwrap();
    let mut claimed = [&h2[..], b"firmware body", &s2[..]].concat();
    claimed[56..64].copy_from_slice(&bytes[56..64]);
    assert_eq!(verify(&claimed), Err(ImageError::Signature));
    assert_eq!(
        verify(&bytes[..bytes.len() - 1]),
        Err(ImageError::Truncated)
    );
    assert_eq!(verify(&bytes[..10]), Err(ImageError::Truncated));
    assert_eq!(
        verify(&[&bytes[..], &[0]].concat()),
        Err(ImageError::TrailingBytes)
    );

    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(verify(&magic), Err(ImageError::BadMagic));
    let mut version = bytes.clone();
    version[4] = 2;
    assert_eq!(verify(&version), Err(ImageError::HeaderVersion));
    let mut len = bytes.clone();
    len[6] = 63;
    assert_eq!(verify(&len), Err(ImageError::BadHeader));
}

#[test]
fn a_signature_from_another_context_is_refused() {
    // Plain Ed25519 over the same bytes must not pass as an image signature.
    use ed25519_dalek::Signer;
    let bytes = signed(b"abc");
    let plain = ed25519_dalek::SigningKey::from_bytes(&SECRET).sign(&bytes[..bytes.len() - 64]);
    let mut forged = bytes.clone();
    let n = forged.len();
    forged[n - 64..].copy_from_slice(&plain.to_bytes());
    let image = Image::parse(&forged).unwrap();
    assert_eq!(
        image.verify(&public_key(&SECRET)),
        Err(ImageError::Signature)
    );
}

#[test]
fn the_fuzz_entry_point_survives_odd_inputs() {
    let bytes = signed(b"x");
    let mut huge = bytes.clone();
    huge[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    for input in [
        &[][..],
        &[0xFF; 63][..],
        &bytes[..],
        &huge[..],
        &bytes[..70],
    ] {
        fuzz_parse(input);
    }
}

#[test]
fn the_seed_corpus_holds_images() {
    // Regenerate with MYNA_IMAGE_WRITE_SEEDS=1; the fuzz target starts from these.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/image_parse");
    let seeds = [
        ("signed", signed(b"firmware body")),
        ("empty-body", signed(b"")),
        ("truncated", signed(b"firmware body")[..70].to_vec()),
    ];
    if std::env::var_os("MYNA_IMAGE_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &seeds {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        fuzz_parse(&bytes);
        count += 1;
    }
    assert!(count >= seeds.len());
    let signed_seed = std::fs::read(dir.join("signed")).unwrap();
    assert!(Image::parse(&signed_seed)
        .unwrap()
        .verify(&public_key(&SECRET))
        .is_ok());
}

#[test]
fn the_dev_public_key_matches_the_dev_secret() {
    assert_eq!(
        public_key(&myna_image::DEV_SECRET_KEY),
        myna_image::DEV_PUBLIC_KEY,
        "{:?}",
        public_key(&myna_image::DEV_SECRET_KEY)
    );
}

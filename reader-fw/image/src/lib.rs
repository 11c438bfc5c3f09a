//! The signed firmware image: what `mynareader fw sign` writes, `fw info`
//! and `flash` check, and the reader verifies before it boots anything.
//! `no_std`, no allocator, so the host tools and the firmware core share
//! one parser (a separate crate rather than part of `myna-link`: the link
//! is the wire, this is a file format, and the link's fuzz target and
//! footprint stay free of the elliptic-curve code).
//!
//! Layout (little-endian):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0  | 4  | magic `MYFW` |
//! | 4  | 2  | header version (1) |
//! | 6  | 2  | header length (64) |
//! | 8  | 4  | hardware id |
//! | 12 | 4  | firmware version |
//! | 16 | 4  | security counter |
//! | 20 | 4  | body length |
//! | 24 | 32 | SHA-256 of the body |
//! | 56 | 8  | key id: the first 8 bytes of SHA-256 of the public key |
//! | 64 | body length | body |
//! | 64 + body | 64 | Ed25519ph signature |
//!
//! The signature is Ed25519ph (RFC 8032, pre-hashed with SHA-512, context
//! [`CONTEXT`]) over header and body: the reader has no heap to hold a body
//! for plain Ed25519, and pre-hashing lets it verify from flash in pieces
//! while still signing every byte, not just a header holding a hash.
#![no_std]

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256, Sha512};

/// The first four bytes of every image.
pub const MAGIC: [u8; 4] = *b"MYFW";
/// The header layout this crate reads and writes.
pub const HEADER_VERSION: u16 = 1;
/// Bytes in the header.
pub const HEADER_LEN: usize = 64;
/// Bytes in the signature at the end.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes in a public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Ed25519ph context: a signature over anything else never verifies here.
pub const CONTEXT: &[u8] = b"mynareader firmware image v1";

/// Why an image is refused. Each cause has its own value so the reader,
/// the CLI and the tests can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    /// Shorter than its header says (or than a header).
    Truncated,
    /// Longer than its header says.
    TrailingBytes,
    /// Not an image (wrong magic).
    BadMagic,
    /// A header layout this build does not know.
    HeaderVersion,
    /// The header length is not what version 1 says.
    BadHeader,
    /// Signed with a key other than the one it is checked against (the
    /// header's key id differs), told apart from a tampered image.
    UnknownKey,
    /// The body does not fit where it has to go.
    TooLarge,
    /// The body's SHA-256 differs from the header's.
    BodyHash,
    /// The signature does not verify with the key.
    Signature,
    /// The public key is not a valid Ed25519 point.
    BadKey,
}

impl core::fmt::Display for ImageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ImageError::Truncated => "the image is truncated",
            ImageError::TrailingBytes => "the image has bytes after its signature",
            ImageError::BadMagic => "not a firmware image (bad magic)",
            ImageError::HeaderVersion => "unknown image header version",
            ImageError::BadHeader => "malformed image header",
            ImageError::UnknownKey => "signed with another key",
            ImageError::TooLarge => "the image is too large",
            ImageError::BodyHash => "the body does not match the hash in the header",
            ImageError::Signature => "the signature does not verify",
            ImageError::BadKey => "the public key is not valid",
        })
    }
}

impl core::error::Error for ImageError {}

/// The header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The board this image is built for.
    pub hw_id: u32,
    /// Firmware version (shown, compared for downgrades).
    pub version: u32,
    /// Anti-rollback counter: the reader refuses images below its own.
    pub security_counter: u32,
    /// Bytes of the body.
    pub body_len: u32,
    /// SHA-256 of the body.
    pub body_sha256: [u8; 32],
    /// Which key signed it ([`key_id`]).
    pub key_id: [u8; 8],
}

/// The first 8 bytes of SHA-256 of a public key: names the key in the
/// header so a wrong key is reported as such, not as a bad signature.
pub fn key_id(public_key: &[u8; PUBLIC_KEY_LEN]) -> [u8; 8] {
    let digest = Sha256::digest(public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

fn le32(b: &[u8], at: usize) -> Result<u32, ImageError> {
    let bytes = b.get(at..at + 4).ok_or(ImageError::Truncated)?;
    let mut word = [0u8; 4];
    word.copy_from_slice(bytes);
    Ok(u32::from_le_bytes(word))
}

impl Header {
    /// Reads the header at the start of `bytes` (the rest is ignored).
    pub fn parse(bytes: &[u8]) -> Result<Header, ImageError> {
        let h = bytes.get(..HEADER_LEN).ok_or(ImageError::Truncated)?;
        if h[0..4] != MAGIC {
            return Err(ImageError::BadMagic);
        }
        if u16::from_le_bytes([h[4], h[5]]) != HEADER_VERSION {
            return Err(ImageError::HeaderVersion);
        }
        if usize::from(u16::from_le_bytes([h[6], h[7]])) != HEADER_LEN {
            return Err(ImageError::BadHeader);
        }
        let mut body_sha256 = [0u8; 32];
        body_sha256.copy_from_slice(&h[24..56]);
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&h[56..64]);
        Ok(Header {
            key_id,
            hw_id: le32(h, 8)?,
            version: le32(h, 12)?,
            security_counter: le32(h, 16)?,
            body_len: le32(h, 20)?,
            body_sha256,
        })
    }

    /// The header as stored.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&MAGIC);
        h[4..6].copy_from_slice(&HEADER_VERSION.to_le_bytes());
        h[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        h[8..12].copy_from_slice(&self.hw_id.to_le_bytes());
        h[12..16].copy_from_slice(&self.version.to_le_bytes());
        h[16..20].copy_from_slice(&self.security_counter.to_le_bytes());
        h[20..24].copy_from_slice(&self.body_len.to_le_bytes());
        h[24..56].copy_from_slice(&self.body_sha256);
        h[56..64].copy_from_slice(&self.key_id);
        h
    }

    /// Bytes of the whole image: header, body, signature (`None` if that
    /// does not fit a `usize`).
    pub fn image_len(&self) -> Option<usize> {
        usize::try_from(self.body_len)
            .ok()?
            .checked_add(HEADER_LEN + SIGNATURE_LEN)
    }
}

/// Hashes an image as it streams past, for a reader that cannot hold it:
/// feed the header's bytes and then the body in any pieces, then
/// [`Verifier::finish`] with the signature.
#[derive(Clone)]
pub struct Verifier {
    header: Header,
    signed: Sha512,
    body: Sha256,
    seen: u64,
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field("header", &self.header)
            .field("seen", &self.seen)
            .finish()
    }
}

impl Verifier {
    /// Starts with the header's bytes.
    pub fn new(header_bytes: &[u8]) -> Result<Verifier, ImageError> {
        let header = Header::parse(header_bytes)?;
        let mut signed = Sha512::new();
        signed.update(&header_bytes[..HEADER_LEN]);
        Ok(Verifier {
            header,
            signed,
            body: Sha256::new(),
            seen: 0,
        })
    }

    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// More of the body.
    pub fn update(&mut self, body: &[u8]) {
        self.signed.update(body);
        self.body.update(body);
        self.seen = self.seen.saturating_add(body.len() as u64);
    }

    /// Checks length, key id, hash and then signature, in that order (the
    /// cheap checks name the more useful error).
    pub fn finish(
        self,
        public_key: &[u8; PUBLIC_KEY_LEN],
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<Header, ImageError> {
        let expected = u64::from(self.header.body_len);
        if self.seen < expected {
            return Err(ImageError::Truncated);
        }
        if self.seen > expected {
            return Err(ImageError::TrailingBytes);
        }
        if self.header.key_id != key_id(public_key) {
            return Err(ImageError::UnknownKey);
        }
        if self.body.finalize().as_slice() != self.header.body_sha256 {
            return Err(ImageError::BodyHash);
        }
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| ImageError::BadKey)?;
        let signature = Signature::from_bytes(signature);
        key.verify_prehashed_strict(self.signed, Some(CONTEXT), &signature)
            .map_err(|_| ImageError::Signature)?;
        Ok(self.header)
    }
}

/// A whole image in memory, structure checked: header, body and signature
/// are where the header says, with nothing after.
#[derive(Debug, Clone, Copy)]
pub struct Image<'a> {
    header: Header,
    header_bytes: &'a [u8],
    body: &'a [u8],
    signature: [u8; SIGNATURE_LEN],
}

impl<'a> Image<'a> {
    /// Checks the structure (not the hash or signature: [`Image::verify`]).
    pub fn parse(bytes: &'a [u8]) -> Result<Image<'a>, ImageError> {
        let header = Header::parse(bytes)?;
        let total = header.image_len().ok_or(ImageError::TooLarge)?;
        if bytes.len() < total {
            return Err(ImageError::Truncated);
        }
        if bytes.len() > total {
            return Err(ImageError::TrailingBytes);
        }
        let body_end = total - SIGNATURE_LEN;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[body_end..total]);
        Ok(Image {
            header,
            header_bytes: &bytes[..HEADER_LEN],
            body: &bytes[HEADER_LEN..body_end],
            signature,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Header and body: what the reader is sent before the signature.
    pub fn signed_len(&self) -> usize {
        HEADER_LEN + self.body.len()
    }

    /// The body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The signature.
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// Checks the body's hash and the signature with `public_key`.
    pub fn verify(&self, public_key: &[u8; PUBLIC_KEY_LEN]) -> Result<Header, ImageError> {
        let mut v = Verifier::new(self.header_bytes)?;
        v.update(self.body);
        v.finish(public_key, &self.signature)
    }
}

/// The public key of a 32-byte Ed25519 secret key.
#[cfg(feature = "sign")]
pub fn public_key(secret: &[u8; 32]) -> [u8; PUBLIC_KEY_LEN] {
    ed25519_dalek::SigningKey::from_bytes(secret)
        .verifying_key()
        .to_bytes()
}

/// What [`sign`] needs besides the body.
#[cfg(feature = "sign")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// Board.
    pub hw_id: u32,
    /// Firmware version.
    pub version: u32,
    /// Anti-rollback counter.
    pub security_counter: u32,
}

/// Signs `body`: the header and signature to put around it (the caller
/// writes `header ‖ body ‖ signature`, so nothing here allocates).
#[cfg(feature = "sign")]
pub fn sign(
    secret: &[u8; 32],
    release: Release,
    body: &[u8],
) -> Result<([u8; HEADER_LEN], [u8; SIGNATURE_LEN]), ImageError> {
    let header = Header {
        hw_id: release.hw_id,
        version: release.version,
        security_counter: release.security_counter,
        body_len: u32::try_from(body.len()).map_err(|_| ImageError::TooLarge)?,
        body_sha256: Sha256::digest(body).into(),
        key_id: key_id(&public_key(secret)),
    };
    let header_bytes = header.to_bytes();
    let mut signed = Sha512::new();
    signed.update(header_bytes);
    signed.update(body);
    let key = ed25519_dalek::SigningKey::from_bytes(secret);
    let signature = key
        .sign_prehashed(signed, Some(CONTEXT))
        .map_err(|_| ImageError::Signature)?;
    Ok((header_bytes, signature.to_bytes()))
}

/// Parses and verifies arbitrary bytes; the fuzz target's entry point.
#[cfg(feature = "fuzz")]
pub fn fuzz_parse(bytes: &[u8]) {
    if let Ok(image) = Image::parse(bytes) {
        let _ = image.verify(&[0x11; PUBLIC_KEY_LEN]);
    }
    if let Ok(mut v) = Verifier::new(bytes) {
        v.update(bytes.get(HEADER_LEN..).unwrap_or_default());
        let _ = v.finish(&[0x11; PUBLIC_KEY_LEN], &[0; SIGNATURE_LEN]);
    }
}

/// The development key's secret: public on purpose, so anyone can sign an
/// image for a development reader or `reader-sim`. Never baked into a
/// production build (those carry the release key's public half only).
#[cfg(feature = "sign")]
pub const DEV_SECRET_KEY: [u8; 32] = *b"mynareader DEVELOPMENT key only!";

/// The public half of [`DEV_SECRET_KEY`] (a test checks they match).
pub const DEV_PUBLIC_KEY: [u8; PUBLIC_KEY_LEN] = [
    0xb2, 0x3c, 0x24, 0xb8, 0x5a, 0xcf, 0xc3, 0x57, 0x64, 0x4f, 0x00, 0x4b, 0xd5, 0x02, 0xdc, 0xd6,
    0xba, 0xbd, 0x56, 0xe5, 0xe4, 0xbb, 0x8a, 0xf4, 0x00, 0x55, 0xd0, 0xf4, 0x82, 0xaa, 0x7f, 0xa0,
];

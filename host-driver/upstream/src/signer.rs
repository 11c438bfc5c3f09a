//! The device key: an ECDSA P-256 key that signs every upstream message.
//!
//! [`DeviceSigner`] is the seam where a TPM or secure-element signer replaces
//! the file key; [`FileSigner`] keeps a PKCS#8 file with owner-only access.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// DER prefix of a P-256 SubjectPublicKeyInfo (the 65-byte point follows).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
    0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Signing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The signer refused or failed.
    #[error("the device key could not sign")]
    Signer,
    /// The message could not be encoded.
    #[error("the message could not be encoded")]
    Encoding,
}

/// Errors with the device key file.
#[derive(Debug, thiserror::Error)]
pub enum DeviceKeyError {
    /// `device init` would replace an existing key.
    #[error("a device key already exists at {0}")]
    Exists(String),
    /// The key file cannot be read or written.
    #[error("device key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a P-256 PKCS#8 key.
    #[error("device key file {0} is not an ECDSA P-256 PKCS#8 key")]
    Invalid(String),
    /// Others may read the key file.
    #[error("device key file {0} is readable by others (chmod 600 it)")]
    Permissions(String),
    /// No randomness.
    #[error("the system random generator failed")]
    Random,
    /// A public key that is not a P-256 SubjectPublicKeyInfo.
    #[error("not a P-256 public key")]
    PublicKey,
}

/// What signs upstream messages.
pub trait DeviceSigner: Send + Sync {
    /// The device id, also the JWS `kid`.
    fn key_id(&self) -> &str;
    /// The uncompressed P-256 public key (65 bytes).
    fn public_key(&self) -> &[u8];
    /// An ES256 signature (r‖s, 64 bytes) over `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// The device id of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&ring::digest::digest(&ring::digest::SHA256, public_key).as_ref()[..8])
}

/// Why a private file (a key) was not read.
#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    /// Cannot be opened or read (a symbolic link is refused here too).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Group or others may read it (the mode, e.g. 0o644).
    #[error("readable by group or others (mode {0:o}): chmod 600 it")]
    Readable(u32),
    /// Not a regular file.
    #[error("not a regular file")]
    NotAFile,
}

/// Reads a private file (a key): opened without following a symbolic link,
/// then checked and read through the same open descriptor, so the file
/// checked is the file read (no swap between the two).
pub fn read_private_file(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, PrivateFileError> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No link followed at the last step; a FIFO put there does not
        // block the open (it is then refused as not a regular file).
        options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(PrivateFileError::NotAFile);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(PrivateFileError::Readable(mode));
        }
    }
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(meta.len().min(1 << 20) as usize));
    file.take(1 << 20).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A device key kept in a PKCS#8 file.
pub struct FileSigner {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    kid: String,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DeviceKeyError + '_ {
    move |source| DeviceKeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl FileSigner {
    /// Loads a key written by [`init_device_key`]; refuses a key file others
    /// can read.
    pub fn load(path: &Path) -> Result<FileSigner, DeviceKeyError> {
        let pkcs8 = read_private_file(path).map_err(|e| match e {
            PrivateFileError::Io(source) => io_error(path)(source),
            PrivateFileError::Readable(_) => {
                DeviceKeyError::Permissions(path.display().to_string())
            }
            PrivateFileError::NotAFile => DeviceKeyError::Invalid(path.display().to_string()),
        })?;
        FileSigner::from_pkcs8(&pkcs8)
            .map_err(|_| DeviceKeyError::Invalid(path.display().to_string()))
    }

    /// A signer from PKCS#8 bytes.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<FileSigner, DeviceKeyError> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| DeviceKeyError::Invalid("(memory)".into()))?;
        let kid = key_id(key.public_key().as_ref());
        Ok(FileSigner { key, rng, kid })
    }
}

impl DeviceSigner for FileSigner {
    fn key_id(&self) -> &str {
        &self.kid
    }

    fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignError::Signer)
    }
}

/// Creates a new device key at `path` (owner-only, never replacing a key) and
/// returns the signer.
pub fn init_device_key(path: &Path) -> Result<FileSigner, DeviceKeyError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| DeviceKeyError::Random)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            DeviceKeyError::Exists(path.display().to_string())
        } else {
            io_error(path)(e)
        }
    })?;
    file.write_all(pkcs8.as_ref()).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))?;
    FileSigner::from_pkcs8(pkcs8.as_ref())
}

/// The public key as a PEM SubjectPublicKeyInfo (what `openssl` reads).
pub fn public_key_pem(public_key: &[u8]) -> String {
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(public_key);
    let body = B64.encode(der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// Reads a PEM public key written by [`public_key_pem`] (or by openssl).
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, DeviceKeyError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = B64.decode(body).map_err(|_| DeviceKeyError::PublicKey)?;
    match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
        Some(point) if point.len() == 65 && point[0] == 0x04 => Ok(point.to_vec()),
        _ => Err(DeviceKeyError::PublicKey),
    }
}

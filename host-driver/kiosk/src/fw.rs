//! Firmware images on the host: the release key (making it owner-only,
//! refusing one others can read), signing a raw image into the format of
//! `myna-image`, and reading a signed image back (header, verdict). The
//! format and the verification are `myna-image`'s, the same code the
//! reader runs; this module owns only files and keys. Sending an image to
//! a reader is `link`'s.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use myna_image::{Header, ImageError, Release, HEADER_LEN, SIGNATURE_LEN};
use zeroize::Zeroizing;

/// The reader model's hardware id (`reader_fw::update::HW_ID`).
pub const HW_ID: u32 = 0x4d59_0001;

/// Why a firmware-image operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FwError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `keygen` would replace a key.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// A secret key that group or others may read.
    #[error("{} is readable by others (mode {mode:o})", path.display())]
    KeyReadable {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a key file of ours.
    #[error("{} is not a key file (expected 64 hex digits)", .0.display())]
    BadKey(PathBuf),
    /// The image is refused.
    #[error("{0}")]
    Image(#[from] ImageError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FwError + '_ {
    move |source| FwError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `K.pub` for a key file `K`.
pub fn public_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Creates a new release key at `out` from `rng` (the OS's in the CLI;
/// owner-only, never replacing a file) and its public half at `out.pub`;
/// returns the public key.
pub fn keygen(out: &Path, rng: &mut dyn rand::RngCore) -> Result<[u8; 32], FwError> {
    let mut secret = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(secret.as_mut());
    let public = myna_image::public_key(&secret);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            FwError::Exists(out.to_owned())
        } else {
            FwError::Io {
                path: out.to_owned(),
                source: e,
            }
        }
    })?;
    let text = Zeroizing::new(format!("{}\n", hex::encode(secret.as_ref())));
    file.write_all(text.as_bytes()).map_err(io(out))?;
    let pub_path = public_path(out);
    fs::write(&pub_path, format!("{}\n", hex::encode(public))).map_err(io(&pub_path))?;
    Ok(public)
}

fn read_hex32(path: &Path) -> Result<Zeroizing<[u8; 32]>, FwError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    hex32(path, &text)
}

fn hex32(path: &Path, text: &str) -> Result<Zeroizing<[u8; 32]>, FwError> {
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), key.as_mut())
        .map_err(|_| FwError::BadKey(path.to_owned()))?;
    Ok(key)
}

/// Reads a secret key, refusing one that group or others may read.
/// Opened without following a link and checked on the descriptor it is
/// read from ([`myna_upstream::signer::read_private_file`]).
pub fn load_secret(path: &Path) -> Result<Zeroizing<[u8; 32]>, FwError> {
    use myna_upstream::signer::{read_private_file, PrivateFileError};
    let bytes = read_private_file(path).map_err(|e| match e {
        PrivateFileError::Io(source) => io(path)(source),
        PrivateFileError::Readable(mode) => FwError::KeyReadable {
            path: path.to_owned(),
            mode,
        },
        PrivateFileError::NotAFile => FwError::BadKey(path.to_owned()),
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| FwError::BadKey(path.to_owned()))?;
    hex32(path, text)
}

/// Reads a public key (`K.pub`).
pub fn load_public(path: &Path) -> Result<[u8; 32], FwError> {
    Ok(*read_hex32(path)?)
}

/// Signs `body`: the whole image, `header ‖ body ‖ signature`.
pub fn sign(secret: &[u8; 32], release: Release, body: &[u8]) -> Result<Vec<u8>, FwError> {
    let (header, signature) = myna_image::sign(secret, release, body)?;
    let mut image = Vec::with_capacity(HEADER_LEN + body.len() + SIGNATURE_LEN);
    image.extend_from_slice(&header);
    image.extend_from_slice(body);
    image.extend_from_slice(&signature);
    Ok(image)
}

/// What `fw info` reports: the header (when there is one) and the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The header, if the file has a readable one.
    pub header: Option<Header>,
    /// `Ok` when the image is whole and its signature verifies.
    pub verdict: Result<(), ImageError>,
}

/// Reads a signed image and checks it against `public_key`.
pub fn inspect(bytes: &[u8], public_key: &[u8; 32]) -> Info {
    let header = Header::parse(bytes).ok();
    let verdict = myna_image::Image::parse(bytes)
        .and_then(|image| image.verify(public_key))
        .map(|_| ());
    Info { header, verdict }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_sign_inspect_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("release.key");
        let public = keygen(&key, &mut rand::rngs::OsRng).unwrap();
        assert_eq!(load_public(&public_path(&key)).unwrap(), public);
        assert!(matches!(
            keygen(&key, &mut rand::rngs::OsRng),
            Err(FwError::Exists(_))
        ));
        let secret = load_secret(&key).unwrap();
        let release = Release {
            hw_id: HW_ID,
            version: 7,
            security_counter: 1,
        };
        let image = sign(&secret, release, b"body").unwrap();
        let info = inspect(&image, &public);
        assert_eq!(info.verdict, Ok(()));
        assert_eq!(info.header.unwrap().version, 7);
        let info = inspect(&image[..image.len() - 1], &public);
        assert_eq!(info.verdict, Err(ImageError::Truncated));
        assert!(info.header.is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("release.key");
        keygen(&key, &mut rand::rngs::OsRng).unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            load_secret(&key),
            Err(FwError::KeyReadable { mode: 0o640, .. })
        ));
    }
}

//! Errors of the card layer: what went wrong in terms a caller can act on.

use super::apdu::{CommandError, ResponseError};
use super::ber::BerError;
use super::cert::CertError;
use super::status::StatusWord;
use super::transport::TransportError;

/// Errors of card operations.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The card left the reader during the operation.
    #[error("the card was removed")]
    CardRemoved,
    /// The card has no JPKI application: not a My Number Card.
    #[error("not a My Number Card (the JPKI application is missing)")]
    NotAMyNumberCard,
    /// Wrong PIN; the card now has `tries_left` tries.
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin {
        /// Tries left on the card.
        tries_left: u8,
    },
    /// The PIN counter is at 0: no VERIFY was (or will be) sent.
    #[error("the PIN is locked (no tries left)")]
    PinLocked,
    /// The PIN reference is unusable: blocked, or never set (face-auth card).
    #[error("the PIN cannot be used on this card ({sw}): blocked or never set")]
    PinUnusable {
        /// The status word the card used.
        sw: StatusWord,
    },
    /// Wrong 照合番号B.
    #[error("wrong 照合番号B: {tries_left} tries left")]
    WrongCollationNumber {
        /// Tries left on the card.
        tries_left: u8,
    },
    /// 照合番号B is locked; no VERIFY was sent.
    #[error("照合番号B is locked (no tries left)")]
    CollationNumberLocked,
    /// An operation needed a credential that was not verified.
    #[error("the card refused: credential not verified")]
    NotVerified,
    /// A file the operation needs is not on the card.
    #[error("file {fid:04X} is not on the card")]
    FileNotFound {
        /// File identifier.
        fid: u16,
    },
    /// A file whose header declares more than a short READ BINARY can reach.
    #[error("file {fid:04X} declares {len} bytes, more than can be read")]
    FileTooLarge {
        /// File identifier.
        fid: u16,
        /// Declared length.
        len: usize,
    },
    /// The file ended before its declared length.
    #[error("file {fid:04X} is truncated: {read} of {expected} bytes")]
    TruncatedFile {
        /// File identifier.
        fid: u16,
        /// Declared length.
        expected: usize,
        /// Bytes there.
        read: usize,
    },
    /// A file's content is not the BER structure it must be.
    #[error("file {fid:04X} is malformed: {source}")]
    BadFileContent {
        /// File identifier.
        fid: u16,
        /// What was wrong.
        source: BerError,
    },
    /// The card-face file has no JPEG 2000 photo.
    #[error("the card holds no JPEG 2000 face photo")]
    PhotoMissing,
    /// A certificate from the card is unusable.
    #[error("certificate on the card: {0}")]
    Certificate(#[from] CertError),
    /// A command failed with a status word the operation did not expect.
    #[error("card error: {0}")]
    Command(#[from] CommandError),
    /// The card answered bytes that are not an R-APDU.
    #[error("malformed answer to {command}: {source}")]
    Response {
        /// The command.
        command: &'static str,
        /// What was wrong.
        source: ResponseError,
    },
    /// The reader failed.
    #[error(transparent)]
    Transport(TransportError),
}

impl From<TransportError> for CardError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::CardRemoved => CardError::CardRemoved,
            other => CardError::Transport(other),
        }
    }
}

//! The one thing the card layer needs from a reader: exchange an APDU. PC/SC
//! implements it in [`super::pcsc`]; tests implement it with scripted cards.

use zeroize::Zeroizing;

/// Errors of the reader, below the card protocol.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The card left the reader (or was reset by someone else).
    #[error("the card was removed from the reader")]
    CardRemoved,
    /// The smart-card service (pcscd) is not running.
    #[error("the smart-card service is not running")]
    NoService,
    /// No reader is connected.
    #[error("no card reader is connected")]
    NoReaders,
    /// The named reader does not exist.
    #[error("no reader matches {0:?}")]
    ReaderNotFound(String),
    /// Another program holds the reader.
    #[error("another program is using the card reader")]
    ReaderBusy,
    /// No card arrived in time.
    #[error("no card was placed on the reader in time")]
    NoCard,
    /// The card or reader refused to talk (mute card, protocol mismatch).
    #[error("the card does not answer: {0}")]
    Unresponsive(#[source] pcsc::Error),
    /// Another PC/SC failure.
    #[error("PC/SC {operation} failed: {source}")]
    Pcsc {
        /// The PC/SC call.
        operation: &'static str,
        /// Its error.
        source: pcsc::Error,
    },
    /// The adapter's thread could not be started.
    #[error("cannot start the card reader thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The adapter's thread is gone.
    #[error("the card reader thread stopped")]
    Disconnected,
}

/// Exchanges APDUs with a card.
pub trait ApduTransport {
    /// Sends a C-APDU and returns the R-APDU (data and status word). The
    /// response may carry secrets (the face photo), hence zeroizing.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError>;
}

impl<T: ApduTransport + ?Sized> ApduTransport for &mut T {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        (**self).transmit(apdu)
    }
}

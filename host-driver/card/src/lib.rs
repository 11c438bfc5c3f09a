//! The card: sans-IO APDU commands ([`apdu`]), typed status words ([`status`]),
//! checked BER views ([`ber`]), the operations on a My Number Card ([`myna`])
//! over any [`ApduTransport`], the PC/SC adapter ([`pcsc`]) that runs them on
//! a real reader, and the secrets a card is opened with or gives
//! ([`secret`]: the PIN, 照合番号B, the face photo), whose bytes only this
//! crate can see. With the `fuzz` feature, also the fuzz targets' entry point
//! (`fuzz_card_responses`); it is not API.

pub mod apdu;
pub mod ber;
pub mod cert;
pub mod error;
pub mod myna;
pub mod pcsc;
pub mod profile;
pub mod secret;
pub mod status;
pub mod transport;

pub use error::CardError;
pub use myna::{CardInfo, CardKind, MynaCard, PinStatus};
pub use status::StatusWord;
pub use transport::{ApduTransport, TransportError};

/// Entry point for fuzzing every parser of card bytes: response APDUs, BER
/// headers and templates, certificates. Never panics on any input.
///
/// Only with the `fuzz` feature (the fuzz crate and the seed-corpus test
/// enable it): not part of the library's API.
#[cfg(any(test, feature = "fuzz"))]
pub fn fuzz_card_responses(data: &[u8]) {
    use apdu::Command;
    if let Ok(response) = apdu::Response::parse(data) {
        let _ = apdu::QueryRetries.decode(response);
        let _ = apdu::Verify { secret: b"0000" }.decode(response);
        let _ = apdu::ReadBinary {
            offset: 0,
            len: 256,
        }
        .decode(response);
        let _ = apdu::ComputeDigitalSignature { digest_info: &[0] }.decode(response);
    }
    if let Ok(value) = ber::template(data, 0xFF20) {
        let _ = ber::find(value, 0xDF27);
    }
    let _ = ber::parse_header(data);
    if cert::certificate_info(data).is_ok() {
        let _ = cert::verify_issued_by(data, data);
    }
}

#[cfg(test)]
mod tests;

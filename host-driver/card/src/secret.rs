//! Secrets in memory: the PIN, 照合番号B and the card's face photo. Each is a
//! zeroizing type without `Debug` or `Display`, so it is wiped when dropped and
//! cannot reach a log by accident.

use zeroize::{Zeroize, Zeroizing};

/// Why a typed-in credential is refused before it reaches the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    /// Not exactly the expected number of ASCII digits.
    #[error("must be exactly {expected} digits")]
    Digits {
        /// How many digits are required.
        expected: usize,
    },
}

fn digits<const N: usize>(text: &str) -> Result<Zeroizing<[u8; N]>, SecretFormatError> {
    let bytes = text.as_bytes();
    if bytes.len() != N || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(SecretFormatError::Digits { expected: N });
    }
    let mut out = Zeroizing::new([0u8; N]);
    out.copy_from_slice(bytes);
    Ok(out)
}

/// The 4-digit 利用者証明用電子証明書 暗証番号.
pub struct Pin(Zeroizing<[u8; 4]>);

impl Pin {
    /// Parses 4 ASCII digits.
    pub fn new(text: &str) -> Result<Pin, SecretFormatError> {
        digits::<4>(text).map(Pin)
    }

    /// The ASCII bytes the card compares.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// Whether this is the PIN `digits`, compared in constant time: what
    /// crosses the link can be checked without the bytes leaving this
    /// crate.
    pub fn is(&self, digits: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0[..].ct_eq(digits.as_bytes()).into()
    }
}

/// 照合番号B: 14 digits (birth date, card expiry year, security code) printed
/// on the card front; it opens the face photo.
pub struct CollationNumberB(Zeroizing<[u8; 14]>);

impl CollationNumberB {
    /// Parses 14 ASCII digits.
    pub fn new(text: &str) -> Result<CollationNumberB, SecretFormatError> {
        digits::<14>(text).map(CollationNumberB)
    }

    /// The ASCII bytes the card compares.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }
}

/// The face photo read from the card: JPEG 2000 bytes, wiped on drop.
pub struct FacePhoto(Zeroizing<Vec<u8>>);

impl FacePhoto {
    pub(crate) fn new(jp2: Zeroizing<Vec<u8>>) -> FacePhoto {
        FacePhoto(jp2)
    }

    /// The encoded photo (JP2 container).
    pub fn jp2_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Wipes the photo now rather than at drop.
    pub fn wipe(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_must_be_digits_of_the_right_length() {
        assert!(Pin::new("1234").is_ok());
        for bad in ["123", "12345", "12a4", "１２３４", ""] {
            assert_eq!(
                Pin::new(bad).err(),
                Some(SecretFormatError::Digits { expected: 4 })
            );
        }
        assert!(CollationNumberB::new("55021720352285").is_ok());
        assert!(CollationNumberB::new("5502172035228").is_err());
    }

    #[test]
    fn a_pin_is_compared_without_its_bytes() {
        let pin = Pin::new("2468").unwrap();
        assert!(pin.is("2468"));
        assert!(!pin.is("2469"));
        assert!(!pin.is("24680"));
        assert!(!pin.is(""));
    }

    #[test]
    fn photo_can_be_wiped_early() {
        let mut photo = FacePhoto::new(Zeroizing::new(vec![1, 2, 3]));
        photo.wipe();
        assert!(photo.jp2_bytes().iter().all(|b| *b == 0));
    }
}

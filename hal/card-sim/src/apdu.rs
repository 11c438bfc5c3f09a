//! The card's side of ISO 7816-4 command APDUs: parsing a C-APDU as a chip
//! would, and the status words it answers with.
//!
//! Deliberately written apart from the host driver's command builders (the
//! emulator shares no APDU code with the driver), so a misunderstanding of the
//! encoding in one cannot be cancelled out by the same mistake in the other.

/// A parsed short command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: &'a [u8],
    /// Expected length; `Some(256)` for an Le byte of `00`, `None` when absent.
    pub le: Option<usize>,
}

/// Why the bytes are not a short C-APDU the card accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer than four header bytes.
    TooShort,
    /// Lc disagrees with the number of bytes, or an extended-length form.
    BadLength,
}

/// Parses a short C-APDU (cases 1 to 4). Extended lengths are refused: no
/// known client of the My Number Card uses them.
pub fn parse(bytes: &[u8]) -> Result<Command<'_>, ParseError> {
    let (header, body) = match bytes.split_first_chunk::<4>() {
        Some(split) => split,
        None => return Err(ParseError::TooShort),
    };
    let [cla, ins, p1, p2] = *header;
    let (data, le) = match body.len() {
        0 => (&body[..0], None),
        1 => (&body[..0], Some(le_value(body[0]))),
        _ => {
            let lc = usize::from(body[0]);
            if lc == 0 {
                return Err(ParseError::BadLength);
            }
            match body.len() - 1 {
                n if n == lc => (&body[1..], None),
                n if n == lc + 1 => (&body[1..=lc], Some(le_value(body[lc + 1]))),
                _ => return Err(ParseError::BadLength),
            }
        }
    };
    Ok(Command {
        cla,
        ins,
        p1,
        p2,
        data,
        le,
    })
}

fn le_value(byte: u8) -> usize {
    if byte == 0 {
        256
    } else {
        usize::from(byte)
    }
}

/// Status words the emulated card answers with.
pub mod sw {
    /// Success.
    pub const OK: u16 = 0x9000;
    /// Retry query on a reference without a retry limit.
    pub const NO_RETRY_LIMIT: u16 = 0x6300;
    /// Wrong length.
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Security status not satisfied.
    pub const SECURITY_NOT_SATISFIED: u16 = 0x6982;
    /// Reference data not usable (blocked, or never set).
    pub const REFERENCE_NOT_USABLE: u16 = 0x6984;
    /// Conditions of use not satisfied.
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    /// Command not allowed (no current EF).
    pub const NO_CURRENT_EF: u16 = 0x6986;
    /// File or application not found.
    pub const NOT_FOUND: u16 = 0x6A82;
    /// Wrong P1/P2.
    pub const WRONG_P1P2: u16 = 0x6A86;
    /// Referenced data (GET DATA tag) not found.
    pub const DATA_NOT_FOUND: u16 = 0x6A88;
    /// Offset beyond the end of the file.
    pub const OFFSET_BEYOND_END: u16 = 0x6B00;
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;

    /// `63Cx`: a wrong credential or a retry query, `x` tries left.
    pub fn tries_left(x: u8) -> u16 {
        0x63C0 | u16::from(x.min(15))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_cases() {
        let c = parse(&[0x00, 0x20, 0x00, 0x80]).unwrap();
        assert_eq!((c.data.len(), c.le), (0, None));
        let c = parse(&[0x00, 0xB0, 0x01, 0x00, 0x00]).unwrap();
        assert_eq!((c.p1, c.le), (0x01, Some(256)));
        let c = parse(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]).unwrap();
        assert_eq!((c.data, c.le), (&[0x00, 0x0A][..], None));
        let c = parse(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00]).unwrap();
        assert_eq!((c.data, c.le), (&[0xAA][..], Some(256)));
    }

    #[test]
    fn refuses_inconsistent_lengths() {
        assert_eq!(parse(&[0x00, 0xA4]), Err(ParseError::TooShort));
        assert_eq!(
            parse(&[0x00, 0xA4, 0x02, 0x0C, 0x03, 0x00, 0x0A]),
            Err(ParseError::BadLength)
        );
        assert_eq!(
            parse(&[0x00, 0xA4, 0x02, 0x0C, 0x00, 0x00, 0x0A]),
            Err(ParseError::BadLength)
        );
    }
}

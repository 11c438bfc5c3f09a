//! Checked views of BER-TLV data as the card stores it: the header of a file
//! (to know how much to read) and the objects inside a template.

/// Why bytes are not the BER the caller expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    /// The data ends inside a tag, a length or a value.
    #[error("BER data ends early (need {needed} bytes, have {available})")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes there.
        available: usize,
    },
    /// Indefinite length (`80`): not used by this card.
    #[error("indefinite BER length")]
    IndefiniteLength,
    /// A length of more than four bytes, or one that overflows.
    #[error("BER length too large")]
    LengthTooLarge,
    /// A tag of more than three bytes.
    #[error("BER tag too long")]
    TagTooLong,
    /// The expected template tag is not there.
    #[error("expected tag {expected:X}, found {found:X}")]
    UnexpectedTag {
        /// The tag wanted.
        expected: u32,
        /// The tag found.
        found: u32,
    },
}

/// A TLV header: the tag, the value length and the header length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Tag bytes as a big-endian number (`0x30`, `0xFF20`, `0xDF27`).
    pub tag: u32,
    /// Length of the value.
    pub value_len: usize,
    /// Length of tag plus length bytes.
    pub header_len: usize,
}

impl Header {
    /// Header plus value: the length of the whole TLV.
    pub fn total_len(&self) -> usize {
        self.header_len + self.value_len
    }
}

fn need(bytes: &[u8], n: usize) -> Result<(), BerError> {
    if bytes.len() < n {
        Err(BerError::Truncated {
            needed: n,
            available: bytes.len(),
        })
    } else {
        Ok(())
    }
}

/// Parses a TLV header (any definite length form).
pub fn parse_header(bytes: &[u8]) -> Result<Header, BerError> {
    need(bytes, 1)?;
    let mut pos = 1;
    let mut tag = u32::from(bytes[0]);
    if bytes[0] & 0x1F == 0x1F {
        // Multi-byte tag: continue while bit 8 is set.
        loop {
            need(bytes, pos + 1)?;
            if pos >= 3 {
                return Err(BerError::TagTooLong);
            }
            let b = bytes[pos];
            tag = (tag << 8) | u32::from(b);
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    need(bytes, pos + 1)?;
    let first = bytes[pos];
    pos += 1;
    let value_len = match first {
        0x00..=0x7F => usize::from(first),
        0x80 => return Err(BerError::IndefiniteLength),
        _ => {
            let n = usize::from(first & 0x7F);
            if n > 4 {
                return Err(BerError::LengthTooLarge);
            }
            need(bytes, pos + n)?;
            let len = bytes[pos..pos + n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            pos += n;
            len
        }
    };
    Ok(Header {
        tag,
        value_len,
        header_len: pos,
    })
}

/// One TLV: its tag and a borrowed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Tag bytes as a number.
    pub tag: u32,
    /// The value.
    pub value: &'a [u8],
}

/// Parses one complete TLV at the start of `bytes`, returning it and the rest.
pub fn parse_tlv(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), BerError> {
    let header = parse_header(bytes)?;
    let end = header
        .header_len
        .checked_add(header.value_len)
        .ok_or(BerError::LengthTooLarge)?;
    need(bytes, end)?;
    Ok((
        Tlv {
            tag: header.tag,
            value: &bytes[header.header_len..end],
        },
        &bytes[end..],
    ))
}

/// The value of template `outer`, checking its tag.
pub fn template(bytes: &[u8], outer: u32) -> Result<&[u8], BerError> {
    let (tlv, _) = parse_tlv(bytes)?;
    if tlv.tag != outer {
        return Err(BerError::UnexpectedTag {
            expected: outer,
            found: tlv.tag,
        });
    }
    Ok(tlv.value)
}

/// Finds the first object with `tag` among the TLVs of `value`.
pub fn find(mut value: &[u8], tag: u32) -> Result<Option<&[u8]>, BerError> {
    while !value.is_empty() {
        // Filler after the last object ends the list.
        if value[0] == 0xFF && value.iter().all(|b| *b == 0xFF) || value[0] == 0x00 {
            break;
        }
        let (tlv, rest) = parse_tlv(value)?;
        if tlv.tag == tag {
            return Ok(Some(tlv.value));
        }
        value = rest;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_definite_length_form() {
        assert_eq!(
            parse_header(&[0x30, 0x05]).unwrap(),
            Header {
                tag: 0x30,
                value_len: 5,
                header_len: 2
            }
        );
        assert_eq!(parse_header(&[0x30, 0x81, 0xC8]).unwrap().value_len, 200);
        let h = parse_header(&[0x30, 0x82, 0x03, 0x70]).unwrap();
        assert_eq!((h.value_len, h.total_len()), (0x370, 0x374));
        assert_eq!(
            parse_header(&[0x30, 0x83, 0x01, 0x00, 0x00])
                .unwrap()
                .value_len,
            0x10000
        );
        assert_eq!(
            parse_header(&[0xFF, 0x20, 0x82, 0x01, 0x00]).unwrap().tag,
            0xFF20
        );
        assert_eq!(parse_header(&[0xDF, 0x27, 0x10]).unwrap().tag, 0xDF27);
    }

    #[test]
    fn rejects_what_is_not_definite_ber() {
        assert_eq!(parse_header(&[0x30, 0x80]), Err(BerError::IndefiniteLength));
        assert_eq!(
            parse_header(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            Err(BerError::LengthTooLarge)
        );
        assert!(matches!(
            parse_header(&[0x30, 0x82, 0x01]),
            Err(BerError::Truncated { .. })
        ));
        assert!(matches!(parse_header(&[]), Err(BerError::Truncated { .. })));
        assert_eq!(
            parse_header(&[0xDF, 0xFF, 0xFF, 0x01, 0x00]),
            Err(BerError::TagTooLong)
        );
    }

    #[test]
    fn finds_objects_in_a_template() {
        let data = [
            0xFF, 0x20, 0x08, 0xDF, 0x21, 0x01, 0xAA, 0xDF, 0x27, 0x01, 0xBB, 0xFF, 0xFF,
        ];
        let value = template(&data, 0xFF20).unwrap();
        assert_eq!(find(value, 0xDF27).unwrap(), Some(&[0xBB][..]));
        assert_eq!(find(value, 0xDF28).unwrap(), None);
        assert!(matches!(
            template(&data, 0xFF10),
            Err(BerError::UnexpectedTag { .. })
        ));
    }
}

//! Status words as the My Number Card uses them, typed (see the card protocol
//! reference, §2.2). Unknown values are kept, not refused.

use std::fmt;

/// A status word (SW1 SW2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `9000`.
    Success,
    /// `63Cx`: wrong credential or retry query, `x` tries left.
    TriesLeft(u8),
    /// `6300`: retry query on a reference without a retry limit.
    NoRetryLimit,
    /// `6282`: end of file reached before Le bytes (some cards, instead of `6B00`).
    EndOfFile,
    /// `6700`: wrong length.
    WrongLength,
    /// `6981`: command incompatible with the file structure.
    IncompatibleFile,
    /// `6982`: security status not satisfied (credential not verified).
    SecurityNotSatisfied,
    /// `6983`: authentication method blocked.
    AuthMethodBlocked,
    /// `6984`: reference data not usable (blocked, or never set).
    ReferenceNotUsable,
    /// `6985`: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// `6986`: command not allowed (no current EF).
    NoCurrentEf,
    /// `6A82`: file or application not found.
    NotFound,
    /// `6A86`: wrong P1/P2.
    WrongP1P2,
    /// `6A88`: referenced data not found.
    DataNotFound,
    /// `6B00`: offset beyond the end of the file.
    OffsetBeyondEnd,
    /// `6D00`: instruction not supported.
    InsNotSupported,
    /// `6E00`: class not supported.
    ClaNotSupported,
    /// Anything else, kept as it came.
    Other(u16),
}

impl StatusWord {
    /// Types the two status bytes.
    pub fn from_u16(sw: u16) -> StatusWord {
        match sw {
            0x9000 => StatusWord::Success,
            0x63C0..=0x63CF => StatusWord::TriesLeft((sw & 0x0F) as u8),
            0x6300 => StatusWord::NoRetryLimit,
            0x6282 => StatusWord::EndOfFile,
            0x6700 => StatusWord::WrongLength,
            0x6981 => StatusWord::IncompatibleFile,
            0x6982 => StatusWord::SecurityNotSatisfied,
            0x6983 => StatusWord::AuthMethodBlocked,
            0x6984 => StatusWord::ReferenceNotUsable,
            0x6985 => StatusWord::ConditionsNotSatisfied,
            0x6986 => StatusWord::NoCurrentEf,
            0x6A82 => StatusWord::NotFound,
            0x6A86 => StatusWord::WrongP1P2,
            0x6A88 => StatusWord::DataNotFound,
            0x6B00 => StatusWord::OffsetBeyondEnd,
            0x6D00 => StatusWord::InsNotSupported,
            0x6E00 => StatusWord::ClaNotSupported,
            other => StatusWord::Other(other),
        }
    }

    /// The two bytes again.
    pub fn to_u16(self) -> u16 {
        match self {
            StatusWord::Success => 0x9000,
            StatusWord::TriesLeft(x) => 0x63C0 | u16::from(x & 0x0F),
            StatusWord::NoRetryLimit => 0x6300,
            StatusWord::EndOfFile => 0x6282,
            StatusWord::WrongLength => 0x6700,
            StatusWord::IncompatibleFile => 0x6981,
            StatusWord::SecurityNotSatisfied => 0x6982,
            StatusWord::AuthMethodBlocked => 0x6983,
            StatusWord::ReferenceNotUsable => 0x6984,
            StatusWord::ConditionsNotSatisfied => 0x6985,
            StatusWord::NoCurrentEf => 0x6986,
            StatusWord::NotFound => 0x6A82,
            StatusWord::WrongP1P2 => 0x6A86,
            StatusWord::DataNotFound => 0x6A88,
            StatusWord::OffsetBeyondEnd => 0x6B00,
            StatusWord::InsNotSupported => 0x6D00,
            StatusWord::ClaNotSupported => 0x6E00,
            StatusWord::Other(sw) => sw,
        }
    }

    /// Whether a credential is unusable: `63C0`, `6983` and `6984` all mean
    /// "do not try" on this card, whichever a given chip uses.
    pub fn is_credential_blocked(self) -> bool {
        matches!(
            self,
            StatusWord::TriesLeft(0)
                | StatusWord::AuthMethodBlocked
                | StatusWord::ReferenceNotUsable
        )
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.to_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_word_round_trips() {
        for sw in 0u16..=0xFFFF {
            assert_eq!(StatusWord::from_u16(sw).to_u16(), sw);
        }
    }

    #[test]
    fn types_the_card_specific_words() {
        assert_eq!(StatusWord::from_u16(0x63C2), StatusWord::TriesLeft(2));
        assert_eq!(StatusWord::from_u16(0x6984), StatusWord::ReferenceNotUsable);
        assert_eq!(StatusWord::from_u16(0x6F00), StatusWord::Other(0x6F00));
        assert!(StatusWord::from_u16(0x63C0).is_credential_blocked());
        assert!(StatusWord::from_u16(0x6983).is_credential_blocked());
        assert!(!StatusWord::from_u16(0x63C1).is_credential_blocked());
        assert_eq!(StatusWord::TriesLeft(3).to_string(), "63C3");
    }
}

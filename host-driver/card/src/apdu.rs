//! Command and response APDUs: one struct per command with its encoding and
//! its typed response (sans-IO: nothing here talks to a reader).

use zeroize::Zeroizing;

use super::status::StatusWord;

/// Encoded command bytes. Zeroizing, because a VERIFY carries a credential.
pub type CommandBytes = Zeroizing<Vec<u8>>;

/// Why response bytes are not an R-APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Fewer than the two status bytes.
    #[error("response of {len} byte(s) has no complete status word")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
}

/// A checked view of an R-APDU: data and status word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// Response data.
    pub data: &'a [u8],
    /// Status word.
    pub sw: StatusWord,
}

impl std::fmt::Debug for Response<'_> {
    // Response data can be a face photo: show its size, never its bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("data_len", &self.data.len())
            .field("sw", &self.sw)
            .finish()
    }
}

impl<'a> Response<'a> {
    /// Splits response bytes into data and status word.
    pub fn parse(bytes: &'a [u8]) -> Result<Response<'a>, ResponseError> {
        match bytes.split_last_chunk::<2>() {
            Some((data, sw)) => Ok(Response {
                data,
                sw: StatusWord::from_u16(u16::from_be_bytes(*sw)),
            }),
            None => Err(ResponseError::TooShort { len: bytes.len() }),
        }
    }
}

/// What a command's status word means, typed for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A wrong credential: `tries_left` remain (`63Cx`).
    #[error("wrong credential, {tries_left} tries left")]
    WrongCredential {
        /// Tries left after this one.
        tries_left: u8,
    },
    /// The credential is blocked or not set (`63C0`, `6983`, `6984`).
    #[error("credential blocked or not set ({sw})")]
    CredentialBlocked {
        /// The status word the card used.
        sw: StatusWord,
    },
    /// A credential must be verified first (`6982`).
    #[error("security status not satisfied")]
    SecurityNotSatisfied,
    /// File, application or data object not found (`6A82`, `6A88`).
    #[error("not found ({sw})")]
    NotFound {
        /// The status word the card used.
        sw: StatusWord,
    },
    /// Read at or beyond the end of the file (`6B00`, `6282`).
    #[error("offset beyond the end of the file")]
    OffsetBeyondEnd,
    /// Any other status word for this command.
    #[error("{command} answered {sw}")]
    Status {
        /// The command.
        command: &'static str,
        /// The status word.
        sw: StatusWord,
    },
    /// A success whose data has the wrong shape.
    #[error("{command}: {reason}")]
    Malformed {
        /// The command.
        command: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
}

/// A command: its bytes and how to read its answer.
pub trait Command {
    /// Name used in errors and logs.
    const NAME: &'static str;
    /// The typed answer.
    type Output;
    /// The C-APDU.
    fn encode(&self) -> CommandBytes;
    /// Types the R-APDU.
    fn decode(&self, response: Response<'_>) -> Result<Self::Output, CommandError>;
}

fn unexpected<T>(command: &'static str, sw: StatusWord) -> Result<T, CommandError> {
    Err(match sw {
        StatusWord::SecurityNotSatisfied => CommandError::SecurityNotSatisfied,
        StatusWord::NotFound | StatusWord::DataNotFound => CommandError::NotFound { sw },
        sw => CommandError::Status { command, sw },
    })
}

/// `SELECT` of an application by its AID, without FCI (`00 A4 04 0C`).
#[derive(Debug, Clone, Copy)]
pub struct SelectApplication<'a> {
    /// The DF name.
    pub aid: &'a [u8],
}

impl Command for SelectApplication<'_> {
    const NAME: &'static str = "SELECT application";
    type Output = ();

    fn encode(&self) -> CommandBytes {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, self.aid.len() as u8];
        apdu.extend_from_slice(self.aid);
        Zeroizing::new(apdu)
    }

    fn decode(&self, r: Response<'_>) -> Result<(), CommandError> {
        match r.sw {
            StatusWord::Success => Ok(()),
            sw => unexpected(Self::NAME, sw),
        }
    }
}

/// `SELECT` of an EF (or key/PIN reference) under the current application.
#[derive(Debug, Clone, Copy)]
pub struct SelectFile {
    /// File identifier.
    pub fid: u16,
}

impl Command for SelectFile {
    const NAME: &'static str = "SELECT file";
    type Output = ();

    fn encode(&self) -> CommandBytes {
        let [hi, lo] = self.fid.to_be_bytes();
        Zeroizing::new(vec![0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo])
    }

    fn decode(&self, r: Response<'_>) -> Result<(), CommandError> {
        match r.sw {
            StatusWord::Success => Ok(()),
            sw => unexpected(Self::NAME, sw),
        }
    }
}

/// Largest offset a `READ BINARY` with a 15-bit offset can name.
pub const MAX_READ_OFFSET: usize = 0x7FFF;

/// `READ BINARY` of the current EF: up to 256 bytes at a 15-bit offset.
#[derive(Debug, Clone, Copy)]
pub struct ReadBinary {
    /// Offset in the EF (at most [`MAX_READ_OFFSET`]).
    pub offset: u16,
    /// Bytes wanted, 1 to 256 (256 is sent as Le = `00`).
    pub len: u16,
}

impl Command for ReadBinary {
    const NAME: &'static str = "READ BINARY";
    type Output = Zeroizing<Vec<u8>>;

    fn encode(&self) -> CommandBytes {
        let [hi, lo] = (self.offset & 0x7FFF).to_be_bytes();
        let le = if self.len >= 256 { 0 } else { self.len as u8 };
        Zeroizing::new(vec![0x00, 0xB0, hi, lo, le])
    }

    fn decode(&self, r: Response<'_>) -> Result<Self::Output, CommandError> {
        match r.sw {
            StatusWord::Success if r.data.len() <= usize::from(self.len) => {
                Ok(Zeroizing::new(r.data.to_vec()))
            }
            StatusWord::Success => Err(CommandError::Malformed {
                command: Self::NAME,
                reason: "more bytes than asked for",
            }),
            StatusWord::OffsetBeyondEnd | StatusWord::EndOfFile => {
                Err(CommandError::OffsetBeyondEnd)
            }
            sw => unexpected(Self::NAME, sw),
        }
    }
}

/// What the retry query says about a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStatus {
    /// This many tries left (0: locked).
    TriesLeft(u8),
    /// A reference without a retry limit.
    NoLimit,
    /// Some cards answer `9000` when already verified in this session.
    AlreadyVerified,
    /// Blocked or never set (`6983`/`6984`), as the card said.
    Unusable(StatusWord),
}

/// `VERIFY` without data on the selected reference: the retry query. It never
/// spends a try.
#[derive(Debug, Clone, Copy)]
pub struct QueryRetries;

impl Command for QueryRetries {
    const NAME: &'static str = "VERIFY (retry query)";
    type Output = RetryStatus;

    fn encode(&self) -> CommandBytes {
        Zeroizing::new(vec![0x00, 0x20, 0x00, 0x80])
    }

    fn decode(&self, r: Response<'_>) -> Result<RetryStatus, CommandError> {
        match r.sw {
            StatusWord::TriesLeft(n) => Ok(RetryStatus::TriesLeft(n)),
            StatusWord::NoRetryLimit => Ok(RetryStatus::NoLimit),
            StatusWord::Success => Ok(RetryStatus::AlreadyVerified),
            sw @ (StatusWord::AuthMethodBlocked | StatusWord::ReferenceNotUsable) => {
                Ok(RetryStatus::Unusable(sw))
            }
            sw => unexpected(Self::NAME, sw),
        }
    }
}

/// `VERIFY` of the selected reference with a credential (PIN, 照合番号B).
pub struct Verify<'a> {
    /// The credential bytes, as ASCII.
    pub secret: &'a [u8],
}

impl Command for Verify<'_> {
    const NAME: &'static str = "VERIFY";
    type Output = ();

    fn encode(&self) -> CommandBytes {
        let mut apdu = Zeroizing::new(Vec::with_capacity(5 + self.secret.len()));
        apdu.extend_from_slice(&[0x00, 0x20, 0x00, 0x80, self.secret.len() as u8]);
        apdu.extend_from_slice(self.secret);
        apdu
    }

    fn decode(&self, r: Response<'_>) -> Result<(), CommandError> {
        match r.sw {
            StatusWord::Success => Ok(()),
            sw if sw.is_credential_blocked() => Err(CommandError::CredentialBlocked { sw }),
            StatusWord::TriesLeft(n) => Err(CommandError::WrongCredential { tries_left: n }),
            sw => unexpected(Self::NAME, sw),
        }
    }
}

/// DER prefix of a SHA-256 `DigestInfo` (the hash follows).
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The `DigestInfo` for a SHA-256 hash.
pub fn sha256_digest_info(hash: &[u8; 32]) -> [u8; 51] {
    let mut out = [0u8; 51];
    out[..19].copy_from_slice(&SHA256_DIGEST_INFO_PREFIX);
    out[19..].copy_from_slice(hash);
    out
}

/// Size of an RSA-2048 signature.
pub const RSA2048_SIGNATURE_LEN: usize = 256;

/// `COMPUTE DIGITAL SIGNATURE` (proprietary, `80 2A 00 80`) with the selected
/// key: the card pads the `DigestInfo` with PKCS#1 v1.5 and does not hash.
#[derive(Debug, Clone, Copy)]
pub struct ComputeDigitalSignature<'a> {
    /// A DER `DigestInfo` (1 to 245 bytes).
    pub digest_info: &'a [u8],
}

impl Command for ComputeDigitalSignature<'_> {
    const NAME: &'static str = "COMPUTE DIGITAL SIGNATURE";
    type Output = Vec<u8>;

    fn encode(&self) -> CommandBytes {
        let mut apdu = vec![0x80, 0x2A, 0x00, 0x80, self.digest_info.len() as u8];
        apdu.extend_from_slice(self.digest_info);
        apdu.push(0x00);
        Zeroizing::new(apdu)
    }

    fn decode(&self, r: Response<'_>) -> Result<Vec<u8>, CommandError> {
        match r.sw {
            StatusWord::Success if r.data.len() == RSA2048_SIGNATURE_LEN => Ok(r.data.to_vec()),
            StatusWord::Success => Err(CommandError::Malformed {
                command: Self::NAME,
                reason: "signature is not 256 bytes",
            }),
            sw => unexpected(Self::NAME, sw),
        }
    }
}

/// `GET DATA` of a data object (`00 CA P1 P2 00`).
#[derive(Debug, Clone, Copy)]
pub struct GetData {
    /// The tag (P1 P2).
    pub tag: u16,
}

impl Command for GetData {
    const NAME: &'static str = "GET DATA";
    type Output = Vec<u8>;

    fn encode(&self) -> CommandBytes {
        let [p1, p2] = self.tag.to_be_bytes();
        Zeroizing::new(vec![0x00, 0xCA, p1, p2, 0x00])
    }

    fn decode(&self, r: Response<'_>) -> Result<Vec<u8>, CommandError> {
        match r.sw {
            StatusWord::Success => Ok(r.data.to_vec()),
            sw => unexpected(Self::NAME, sw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode<C: Command>(cmd: &C, bytes: &[u8]) -> Result<C::Output, CommandError> {
        cmd.decode(Response::parse(bytes).unwrap())
    }

    #[test]
    fn responses_need_a_status_word() {
        assert_eq!(
            Response::parse(&[0x90]),
            Err(ResponseError::TooShort { len: 1 })
        );
        assert_eq!(
            Response::parse(&[]),
            Err(ResponseError::TooShort { len: 0 })
        );
        let r = Response::parse(&[0xAA, 0x90, 0x00]).unwrap();
        assert_eq!((r.data, r.sw), (&[0xAA][..], StatusWord::Success));
    }

    #[test]
    fn select_commands_encode_as_the_card_expects() {
        let jpki = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
        assert_eq!(
            *SelectApplication { aid: &jpki }.encode(),
            [
                0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00,
                0x01
            ]
        );
        assert_eq!(
            *SelectFile { fid: 0x000A }.encode(),
            [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]
        );
        assert_eq!(
            decode(&SelectFile { fid: 1 }, &[0x6A, 0x82]),
            Err(CommandError::NotFound {
                sw: StatusWord::NotFound
            })
        );
        assert_eq!(decode(&SelectFile { fid: 1 }, &[0x90, 0x00]), Ok(()));
    }

    #[test]
    fn read_binary_encodes_offsets_and_le() {
        assert_eq!(
            *ReadBinary {
                offset: 0,
                len: 256
            }
            .encode(),
            [0x00, 0xB0, 0x00, 0x00, 0x00]
        );
        assert_eq!(
            *ReadBinary {
                offset: 0x0100,
                len: 0x74
            }
            .encode(),
            [0x00, 0xB0, 0x01, 0x00, 0x74]
        );
        let read = ReadBinary { offset: 0, len: 2 };
        assert_eq!(*decode(&read, &[1, 2, 0x90, 0x00]).unwrap(), [1, 2]);
        assert!(matches!(
            decode(&read, &[1, 2, 3, 0x90, 0x00]),
            Err(CommandError::Malformed { .. })
        ));
        assert_eq!(
            decode(&read, &[0x6B, 0x00]),
            Err(CommandError::OffsetBeyondEnd)
        );
        assert_eq!(
            decode(&read, &[0x62, 0x82]),
            Err(CommandError::OffsetBeyondEnd)
        );
        assert_eq!(
            decode(&read, &[0x69, 0x82]),
            Err(CommandError::SecurityNotSatisfied)
        );
    }

    #[test]
    fn retry_query_never_carries_data() {
        assert_eq!(*QueryRetries.encode(), [0x00, 0x20, 0x00, 0x80]);
        assert_eq!(
            decode(&QueryRetries, &[0x63, 0xC3]),
            Ok(RetryStatus::TriesLeft(3))
        );
        assert_eq!(
            decode(&QueryRetries, &[0x63, 0xC0]),
            Ok(RetryStatus::TriesLeft(0))
        );
        assert_eq!(
            decode(&QueryRetries, &[0x63, 0x00]),
            Ok(RetryStatus::NoLimit)
        );
        assert_eq!(
            decode(&QueryRetries, &[0x90, 0x00]),
            Ok(RetryStatus::AlreadyVerified)
        );
        assert_eq!(
            decode(&QueryRetries, &[0x69, 0x84]),
            Ok(RetryStatus::Unusable(StatusWord::ReferenceNotUsable))
        );
        assert!(matches!(
            decode(&QueryRetries, &[0x6F, 0x00]),
            Err(CommandError::Status { .. })
        ));
    }

    #[test]
    fn verify_types_wrong_and_blocked() {
        let v = Verify { secret: b"1234" };
        assert_eq!(
            *v.encode(),
            [0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34]
        );
        assert_eq!(decode(&v, &[0x90, 0x00]), Ok(()));
        assert_eq!(
            decode(&v, &[0x63, 0xC2]),
            Err(CommandError::WrongCredential { tries_left: 2 })
        );
        for sw in [[0x63, 0xC0], [0x69, 0x83], [0x69, 0x84]] {
            assert!(matches!(
                decode(&v, &sw),
                Err(CommandError::CredentialBlocked { .. })
            ));
        }
    }

    #[test]
    fn signature_command_wraps_the_digest_info() {
        let info = sha256_digest_info(&[0xAB; 32]);
        let apdu = ComputeDigitalSignature { digest_info: &info }.encode();
        assert_eq!(&apdu[..5], [0x80, 0x2A, 0x00, 0x80, 0x33]);
        assert_eq!(&apdu[5..24], SHA256_DIGEST_INFO_PREFIX);
        assert_eq!(apdu.last(), Some(&0x00));
        assert_eq!(apdu.len(), 5 + 51 + 1);
        let cmd = ComputeDigitalSignature { digest_info: &info };
        let mut ok = vec![0x11; 256];
        ok.extend_from_slice(&[0x90, 0x00]);
        assert_eq!(decode(&cmd, &ok).unwrap().len(), 256);
        assert!(matches!(
            decode(&cmd, &[1, 0x90, 0x00]),
            Err(CommandError::Malformed { .. })
        ));
        assert_eq!(
            decode(&cmd, &[0x69, 0x82]),
            Err(CommandError::SecurityNotSatisfied)
        );
    }

    #[test]
    fn get_data_names_the_tag() {
        assert_eq!(
            *GetData { tag: 0x5F51 }.encode(),
            [0x00, 0xCA, 0x5F, 0x51, 0x00]
        );
        assert_eq!(
            decode(&GetData { tag: 0x0045 }, &[0x6A, 0x88]),
            Err(CommandError::NotFound {
                sw: StatusWord::DataNotFound
            })
        );
    }
}

//! Operations on a My Number Card over any [`ApduTransport`]: read the
//! user-authentication certificate, query and verify the PIN, sign, read the
//! face photo with 照合番号B, tell a face-auth card.
//!
//! Rules kept here, not by the callers:
//! - the 券面事項入力補助AP (個人番号) cannot be named: the profile has no AID for
//!   it, and 照合番号A is never used;
//! - a VERIFY is sent only after the retry query said tries are left, and it is
//!   never repeated by this code;
//! - everything read that may hold personal data is zeroizing.

use zeroize::Zeroizing;

use super::apdu::{
    sha256_digest_info, Command, CommandError, ComputeDigitalSignature, QueryRetries, ReadBinary,
    Response, RetryStatus, SelectApplication, SelectFile, Verify, MAX_READ_OFFSET,
};
use super::ber;
use super::cert::{self, CertificateInfo};
use super::error::CardError;
use super::profile::{CardProfile, MYNA_2016};
use super::status::StatusWord;
use super::transport::ApduTransport;
use crate::secret::{CollationNumberB, FacePhoto, Pin};

/// Largest chunk of one short READ BINARY.
const CHUNK: usize = 256;

/// The JP2 signature box a card photo starts with.
pub const JP2_SIGNATURE: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];

/// State of the user-authentication PIN, from the retry query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// 1 to 3 tries left.
    TriesLeft(u8),
    /// 0 tries left: the municipal office must reset it.
    Locked,
    /// Blocked or never set (a face-auth card has no PIN).
    Unusable(StatusWord),
    /// Already verified in this card session; count unknown.
    VerifiedCountUnknown,
    /// No retry limit (not expected on this card).
    NoLimit,
}

impl From<RetryStatus> for PinStatus {
    fn from(status: RetryStatus) -> Self {
        match status {
            RetryStatus::TriesLeft(0) => PinStatus::Locked,
            RetryStatus::TriesLeft(n) => PinStatus::TriesLeft(n),
            RetryStatus::NoLimit => PinStatus::NoLimit,
            RetryStatus::AlreadyVerified => PinStatus::VerifiedCountUnknown,
            RetryStatus::Unusable(sw) => PinStatus::Unusable(sw),
        }
    }
}

/// Which kind of My Number Card this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// A card with both certificates and PINs.
    Standard,
    /// A 顔認証マイナンバーカード: no signature certificate and no PINs; identity
    /// is confirmed by face or by staff only.
    ///
    /// Detected from EF `0008` (no signature certificate). How a real
    /// face-auth card shows itself is unconfirmed; see the card protocol
    /// reference, §8.
    FaceOnly,
}

/// What `card info` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CardInfo {
    /// The kind of card.
    pub kind: CardKind,
    /// The user-authentication certificate.
    pub auth_cert: CertificateInfo,
    /// Whether the CA certificate on the card issued it.
    pub chain: Result<(), cert::CertError>,
    /// PIN state (the query spends no try).
    pub pin: PinStatus,
}

/// A My Number Card behind a transport.
pub struct MynaCard<T> {
    transport: T,
    profile: CardProfile,
    apdus: u64,
}

impl<T: ApduTransport> MynaCard<T> {
    /// The card of the current generation behind `transport`.
    pub fn new(transport: T) -> Self {
        MynaCard {
            transport,
            profile: MYNA_2016,
            apdus: 0,
        }
    }

    /// APDUs exchanged so far.
    pub fn apdu_count(&self) -> u64 {
        self.apdus
    }

    /// The transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// Sends one command; transport failures and malformed answers become
    /// [`CardError`], status words stay typed for the operation to read.
    fn run<C: Command>(
        &mut self,
        command: &C,
    ) -> Result<Result<C::Output, CommandError>, CardError> {
        let apdu = command.encode();
        self.apdus += 1;
        let bytes = self.transport.transmit(&apdu)?;
        let response = Response::parse(&bytes).map_err(|source| CardError::Response {
            command: C::NAME,
            source,
        })?;
        Ok(command.decode(response))
    }

    fn select_application(&mut self, aid: &[u8]) -> Result<(), CardError> {
        match self.run(&SelectApplication { aid })? {
            Ok(()) => Ok(()),
            Err(CommandError::NotFound { .. }) => Err(CardError::NotAMyNumberCard),
            Err(e) => Err(e.into()),
        }
    }

    fn select_jpki(&mut self) -> Result<(), CardError> {
        self.select_application(self.profile.jpki_aid)
    }

    fn select_file(&mut self, fid: u16) -> Result<(), CardError> {
        match self.run(&SelectFile { fid })? {
            Ok(()) => Ok(()),
            Err(CommandError::NotFound { .. }) => Err(CardError::FileNotFound { fid }),
            Err(e) => Err(e.into()),
        }
    }

    fn read_chunk(
        &mut self,
        fid: u16,
        offset: usize,
        len: usize,
    ) -> Result<Zeroizing<Vec<u8>>, CardError> {
        let offset = u16::try_from(offset)
            .ok()
            .filter(|o| usize::from(*o) <= MAX_READ_OFFSET)
            .ok_or(CardError::FileTooLarge { fid, len: offset })?;
        let len = len.min(CHUNK) as u16;
        match self.run(&ReadBinary { offset, len })? {
            Ok(data) => Ok(data),
            Err(CommandError::SecurityNotSatisfied) => Err(CardError::NotVerified),
            Err(e) => Err(e.into()),
        }
    }

    /// Selects an EF and reads exactly the BER object at its start: the length
    /// comes from the header (any definite form), not from the file size,
    /// because EFs are larger than their content.
    fn read_ber_file(&mut self, fid: u16) -> Result<Zeroizing<Vec<u8>>, CardError> {
        self.select_file(fid)?;
        let mut content = match self.read_chunk(fid, 0, CHUNK) {
            Ok(first) => first,
            Err(CardError::Command(CommandError::OffsetBeyondEnd)) => Zeroizing::new(Vec::new()),
            Err(e) => return Err(e),
        };
        let header = ber::parse_header(&content).map_err(|source| match source {
            ber::BerError::Truncated { needed, available } if content.len() < CHUNK => {
                CardError::TruncatedFile {
                    fid,
                    expected: needed,
                    read: available,
                }
            }
            source => CardError::BadFileContent { fid, source },
        })?;
        let total = header.total_len();
        if total > MAX_READ_OFFSET + CHUNK {
            return Err(CardError::FileTooLarge { fid, len: total });
        }
        content.truncate(total);
        while content.len() < total {
            let chunk = match self.read_chunk(fid, content.len(), total - content.len()) {
                Ok(chunk) if !chunk.is_empty() => chunk,
                Ok(_) | Err(CardError::Command(CommandError::OffsetBeyondEnd)) => {
                    return Err(CardError::TruncatedFile {
                        fid,
                        expected: total,
                        read: content.len(),
                    })
                }
                Err(e) => return Err(e),
            };
            content.extend_from_slice(&chunk);
        }
        Ok(content)
    }

    /// Reads the 利用者証明用電子証明書 (DER). Needs no PIN.
    pub fn read_auth_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        self.select_jpki()?;
        Ok(self.read_ber_file(self.profile.auth_cert)?.to_vec())
    }

    /// Reads the CA certificate of the user-authentication certificate (DER).
    pub fn read_auth_ca_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        self.select_jpki()?;
        Ok(self.read_ber_file(self.profile.auth_ca_cert)?.to_vec())
    }

    fn query_auth_pin(&mut self) -> Result<PinStatus, CardError> {
        self.select_file(self.profile.auth_pin)?;
        Ok(PinStatus::from(self.run(&QueryRetries)??))
    }

    /// The state of the user-authentication PIN. Never spends a try.
    pub fn auth_pin_status(&mut self) -> Result<PinStatus, CardError> {
        self.select_jpki()?;
        self.query_auth_pin()
    }

    /// Verifies the user-authentication PIN once. Refuses without sending a
    /// VERIFY when the card says no tries are left.
    pub fn verify_auth_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        self.select_jpki()?;
        match self.query_auth_pin()? {
            PinStatus::Locked => {
                tracing::warn!(event = "card.pin.refused_locked");
                return Err(CardError::PinLocked);
            }
            PinStatus::Unusable(sw) => return Err(CardError::PinUnusable { sw }),
            PinStatus::TriesLeft(_) | PinStatus::VerifiedCountUnknown | PinStatus::NoLimit => {}
        }
        match self.run(&Verify {
            secret: pin.as_bytes(),
        })? {
            Ok(()) => {
                tracing::info!(event = "card.pin.verified");
                Ok(())
            }
            Err(CommandError::WrongCredential { tries_left }) => {
                tracing::warn!(event = "card.pin.wrong", tries_left);
                Err(CardError::WrongPin { tries_left })
            }
            Err(CommandError::CredentialBlocked {
                sw: StatusWord::TriesLeft(0),
            }) => {
                tracing::warn!(event = "card.pin.locked_now");
                Err(CardError::PinLocked)
            }
            Err(CommandError::CredentialBlocked { sw }) => Err(CardError::PinUnusable { sw }),
            Err(e) => Err(e.into()),
        }
    }

    /// Signs a SHA-256 hash with the user-authentication key after verifying
    /// the PIN: RSA-2048 PKCS#1 v1.5, verifiable with the certificate's key.
    pub fn sign_sha256(&mut self, pin: &Pin, hash: &[u8; 32]) -> Result<Vec<u8>, CardError> {
        self.verify_auth_pin(pin)?;
        self.select_file(self.profile.auth_key)?;
        let digest_info = sha256_digest_info(hash);
        match self.run(&ComputeDigitalSignature {
            digest_info: &digest_info,
        })? {
            Ok(signature) => Ok(signature),
            Err(CommandError::SecurityNotSatisfied) => Err(CardError::NotVerified),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the face photo (JPEG 2000) from the 券面事項確認AP with 照合番号B.
    /// Refuses without sending a VERIFY when 照合番号B is locked.
    pub fn read_face_photo(
        &mut self,
        collation: &CollationNumberB,
    ) -> Result<FacePhoto, CardError> {
        self.select_application(self.profile.card_face_aid)?;
        self.select_file(self.profile.collation_b)?;
        match self.run(&QueryRetries)?? {
            RetryStatus::TriesLeft(0) | RetryStatus::Unusable(_) => {
                return Err(CardError::CollationNumberLocked)
            }
            RetryStatus::TriesLeft(_) | RetryStatus::NoLimit | RetryStatus::AlreadyVerified => {}
        }
        match self.run(&Verify {
            secret: collation.as_bytes(),
        })? {
            Ok(()) => {}
            Err(CommandError::WrongCredential { tries_left }) => {
                return Err(CardError::WrongCollationNumber { tries_left })
            }
            Err(CommandError::CredentialBlocked { .. }) => {
                return Err(CardError::CollationNumberLocked)
            }
            Err(e) => return Err(e.into()),
        }
        let fid = self.profile.card_face;
        let file = self.read_ber_file(fid)?;
        let bad = |source| CardError::BadFileContent { fid, source };
        let face = ber::template(&file, self.profile.card_face_template).map_err(bad)?;
        let photo = ber::find(face, self.profile.photo_tag)
            .map_err(bad)?
            .ok_or(CardError::PhotoMissing)?;
        if !photo.starts_with(&JP2_SIGNATURE) {
            return Err(CardError::PhotoMissing);
        }
        Ok(FacePhoto::new(Zeroizing::new(photo.to_vec())))
    }

    fn read_kind(&mut self) -> Result<CardKind, CardError> {
        let fid = self.profile.cert_presence;
        self.select_file(fid)?;
        let presence = self.read_chunk(fid, 0, 3)?;
        match presence.first() {
            Some(0x8F) => Ok(CardKind::Standard),
            Some(_) => Ok(CardKind::FaceOnly),
            None => Err(CardError::TruncatedFile {
                fid,
                expected: 3,
                read: 0,
            }),
        }
    }

    /// Tells a face-auth card from a standard one.
    pub fn card_kind(&mut self) -> Result<CardKind, CardError> {
        self.select_jpki()?;
        self.read_kind()
    }

    /// Everything `card info` shows, in one pass over the JPKI application
    /// and without spending a PIN try.
    pub fn info(&mut self) -> Result<CardInfo, CardError> {
        self.select_jpki()?;
        let cert_der = self.read_ber_file(self.profile.auth_cert)?;
        let auth_cert = cert::certificate_info(&cert_der)?;
        let ca_der = self.read_ber_file(self.profile.auth_ca_cert)?;
        let chain = cert::verify_issued_by(&cert_der, &ca_der);
        let kind = self.read_kind()?;
        let pin = self.query_auth_pin()?;
        Ok(CardInfo {
            kind,
            auth_cert,
            chain,
            pin,
        })
    }
}

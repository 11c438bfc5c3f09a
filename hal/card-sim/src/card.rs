//! The emulated chip: applications, files, credentials with their retry
//! counters, and the answer to every command APDU.
//!
//! Pure state machine (no I/O): `power_on`/`reset` and `process` are all the
//! vpcd adapter calls. Persistent state (retry counters) survives both; the
//! volatile state (selected application and EF, verified credentials) does not.

use std::collections::{BTreeMap, BTreeSet};

use rand::RngCore;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde::Serialize;

use crate::apdu::{self, sw, Command};

/// AID of the 公的個人認証AP (JPKI).
pub const AID_JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// AID of the 券面事項入力補助AP (holds the 個人番号).
pub const AID_INPUT_SUPPORT: [u8; 10] =
    [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
/// AID of the 券面事項確認AP (card face and photo).
pub const AID_CARD_FACE: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02];
/// GlobalPlatform ISD: selecting it returns the card to its power-on state.
pub const AID_ISD: [u8; 7] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00];

/// The applications of the card this emulator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum App {
    /// 公的個人認証AP.
    Jpki,
    /// 券面事項入力補助AP.
    InputSupport,
    /// 券面事項確認AP.
    CardFace,
}

impl App {
    fn from_aid(aid: &[u8]) -> Option<App> {
        match aid {
            a if a == AID_JPKI => Some(App::Jpki),
            a if a == AID_INPUT_SUPPORT => Some(App::InputSupport),
            a if a == AID_CARD_FACE => Some(App::CardFace),
            _ => None,
        }
    }
}

/// A file or credential: the application it lives in and its FID.
pub type ObjectId = (App, u16);

/// Who may read a transparent EF.
#[derive(Debug, Clone)]
pub enum Access {
    /// Anyone.
    Always,
    /// Anyone who verified one of these credentials in this session.
    AnyOf(Vec<ObjectId>),
}

/// A transparent EF: physical bytes (content plus filler) and its access rule.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// The whole EF, filler included.
    pub bytes: Vec<u8>,
    /// Read access.
    pub access: Access,
}

/// A credential (PIN, password, 照合番号) and its retry counter.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The reference value; `None` when never set (face-auth cards).
    pub secret: Option<Vec<u8>>,
    /// Retry limit; `None` for a reference without one.
    pub max_tries: Option<u8>,
    /// Tries left (persistent).
    pub tries_left: u8,
}

/// A private key the card signs with, and the credential that unlocks it.
#[derive(Clone)]
pub struct SigningKey {
    /// The RSA-2048 key.
    pub key: RsaPrivateKey,
    /// The credential that must be verified first.
    pub unlocked_by: ObjectId,
}

/// Ways a card can be broken on purpose, to test the driver's error paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Broken {
    /// The user-authentication certificate EF holds random bytes, not DER.
    GarbageCert,
    /// The certificate header promises more bytes than the EF physically has.
    TruncatedCert,
    /// Every answer is a single byte (no complete status word).
    ShortResponses,
    /// Every answer is the unknown status word `6F00`.
    UnknownStatus,
}

/// One line of the APDU log: what the card saw and answered. VERIFY data is
/// never logged, only its length.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Sequence number since the emulator started.
    pub seq: u64,
    /// The application selected when the command arrived.
    pub app: Option<App>,
    /// Header bytes, hex.
    pub header: String,
    /// Lc (0 when absent).
    pub lc: usize,
    /// Command data, hex; `null` for VERIFY (credentials are not logged).
    pub data: Option<String>,
    /// Status word answered, hex.
    pub sw: String,
    /// Events worth asserting on: `my-number-file-selected`,
    /// `collation-a-verify`, `verify`, `verify-refused-blocked`, `sign`.
    pub events: Vec<&'static str>,
}

/// The emulated card.
pub struct Card {
    atr: Vec<u8>,
    files: BTreeMap<ObjectId, DataFile>,
    credentials: BTreeMap<ObjectId, Credential>,
    keys: BTreeMap<ObjectId, SigningKey>,
    mf_data: BTreeMap<u16, Vec<u8>>,
    broken: Option<Broken>,
    // Volatile: cleared by power-on, reset and any SELECT by AID.
    current_app: Option<App>,
    current_ef: Option<u16>,
    verified: BTreeSet<ObjectId>,
    // Audit.
    seq: u64,
    log: Vec<LogEntry>,
}

/// Everything the card holds, as built by [`crate::personality`].
pub struct CardContents {
    /// Answer-to-reset.
    pub atr: Vec<u8>,
    /// Transparent EFs.
    pub files: BTreeMap<ObjectId, DataFile>,
    /// Credentials.
    pub credentials: BTreeMap<ObjectId, Credential>,
    /// Signing keys.
    pub keys: BTreeMap<ObjectId, SigningKey>,
    /// GET DATA objects answered at MF level.
    pub mf_data: BTreeMap<u16, Vec<u8>>,
    /// A deliberate fault.
    pub broken: Option<Broken>,
}

fn respond(mut data: Vec<u8>, status: u16) -> Vec<u8> {
    data.extend_from_slice(&status.to_be_bytes());
    data
}

impl Card {
    /// A card holding `contents`, powered off.
    pub fn new(contents: CardContents) -> Card {
        Card {
            atr: contents.atr,
            files: contents.files,
            credentials: contents.credentials,
            keys: contents.keys,
            mf_data: contents.mf_data,
            broken: contents.broken,
            current_app: None,
            current_ef: None,
            verified: BTreeSet::new(),
            seq: 0,
            log: Vec::new(),
        }
    }

    /// The answer-to-reset.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// Power-on or reset: volatile state goes, retry counters stay.
    pub fn reset(&mut self) {
        self.current_app = None;
        self.current_ef = None;
        self.verified.clear();
    }

    /// Tries left of a credential (for tests and the status line).
    pub fn tries_left(&self, id: ObjectId) -> Option<u8> {
        self.credentials.get(&id).map(|c| c.tries_left)
    }

    /// Takes the log entries written since the last call.
    pub fn drain_log(&mut self) -> Vec<LogEntry> {
        std::mem::take(&mut self.log)
    }

    /// Answers one C-APDU with an R-APDU (data followed by SW1 SW2).
    pub fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.seq += 1;
        let mut events = Vec::new();
        let app = self.current_app;
        let (response, logged_data, lc) = match apdu::parse(bytes) {
            Err(_) => (respond(Vec::new(), sw::WRONG_LENGTH), None, 0),
            Ok(cmd) => {
                let logged = if cmd.ins == 0x20 {
                    None
                } else {
                    Some(hex::encode_upper(cmd.data))
                };
                let lc = cmd.data.len();
                (self.dispatch(&cmd, &mut events), logged, lc)
            }
        };
        let response = match self.broken {
            Some(Broken::ShortResponses) => vec![0x90],
            Some(Broken::UnknownStatus) => vec![0x6F, 0x00],
            _ => response,
        };
        let sw_text = match response.len() {
            n if n >= 2 => hex::encode_upper(&response[n - 2..]),
            _ => hex::encode_upper(&response),
        };
        self.log.push(LogEntry {
            seq: self.seq,
            app,
            header: hex::encode_upper(&bytes[..bytes.len().min(4)]),
            lc,
            data: logged_data,
            sw: sw_text,
            events,
        });
        response
    }

    fn dispatch(&mut self, cmd: &Command<'_>, events: &mut Vec<&'static str>) -> Vec<u8> {
        match (cmd.cla, cmd.ins) {
            (0x00, 0xA4) => respond(Vec::new(), self.select(cmd, events)),
            (0x00, 0xB0) => self.read_binary(cmd),
            (0x00, 0x20) => respond(Vec::new(), self.verify(cmd, events)),
            (0x80, 0x2A) => self.sign(cmd, events),
            (0x00, 0xCA) => self.get_data(cmd),
            (0x00, 0x84) => {
                let mut challenge = vec![0u8; cmd.le.unwrap_or(8)];
                rand::thread_rng().fill_bytes(&mut challenge);
                respond(challenge, sw::OK)
            }
            (0x00 | 0x80, _) => respond(Vec::new(), sw::INS_NOT_SUPPORTED),
            _ => respond(Vec::new(), sw::CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, cmd: &Command<'_>, events: &mut Vec<&'static str>) -> u16 {
        match cmd.p1 {
            0x04 => {
                if cmd.data == AID_ISD {
                    self.reset();
                    return sw::OK;
                }
                match App::from_aid(cmd.data) {
                    Some(app) => {
                        self.current_app = Some(app);
                        self.current_ef = None;
                        // Selecting an application drops every verified state
                        // (OpenSC's logout relies on it).
                        self.verified.clear();
                        sw::OK
                    }
                    None => sw::NOT_FOUND,
                }
            }
            0x00 => match self.current_app {
                None => sw::WRONG_P1P2,
                Some(_) => sw::OK,
            },
            0x02 => {
                let (Some(app), [hi, lo]) = (self.current_app, cmd.data) else {
                    return sw::NOT_FOUND;
                };
                let fid = u16::from_be_bytes([*hi, *lo]);
                let id = (app, fid);
                if !(self.files.contains_key(&id)
                    || self.credentials.contains_key(&id)
                    || self.keys.contains_key(&id))
                {
                    return sw::NOT_FOUND;
                }
                if id == (App::InputSupport, 0x0001) {
                    events.push("my-number-file-selected");
                }
                self.current_ef = Some(fid);
                sw::OK
            }
            _ => sw::WRONG_P1P2,
        }
    }

    fn may_read(&self, access: &Access) -> bool {
        match access {
            Access::Always => true,
            Access::AnyOf(ids) => ids.iter().any(|id| self.verified.contains(id)),
        }
    }

    fn read_binary(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        let Some(app) = self.current_app else {
            return respond(Vec::new(), sw::NO_CURRENT_EF);
        };
        let (fid, offset) = if cmd.p1 & 0x80 != 0 {
            // Short EF identifier: selects the EF as a side effect.
            let fid = u16::from(cmd.p1 & 0x1F);
            if !self.files.contains_key(&(app, fid)) {
                return respond(Vec::new(), sw::NOT_FOUND);
            }
            self.current_ef = Some(fid);
            (fid, usize::from(cmd.p2))
        } else {
            let Some(fid) = self.current_ef else {
                return respond(Vec::new(), sw::NO_CURRENT_EF);
            };
            (fid, usize::from(u16::from_be_bytes([cmd.p1, cmd.p2])))
        };
        let Some(file) = self.files.get(&(app, fid)) else {
            // A credential or key EF is selected: not a transparent file.
            return respond(Vec::new(), 0x6981);
        };
        if !self.may_read(&file.access) {
            return respond(Vec::new(), sw::SECURITY_NOT_SATISFIED);
        }
        let Some(le) = cmd.le else {
            return respond(Vec::new(), sw::WRONG_LENGTH);
        };
        if offset >= file.bytes.len() {
            return respond(Vec::new(), sw::OFFSET_BEYOND_END);
        }
        let end = (offset + le).min(file.bytes.len());
        respond(file.bytes[offset..end].to_vec(), sw::OK)
    }

    fn referenced_object(&self, p2: u8) -> Result<u16, u16> {
        match p2 {
            0x80 => self.current_ef.ok_or(sw::NO_CURRENT_EF),
            p if p & 0x80 != 0 && p & 0x1F != 0 && p & 0x60 == 0 => Ok(u16::from(p & 0x1F)),
            _ => Err(sw::WRONG_P1P2),
        }
    }

    fn verify(&mut self, cmd: &Command<'_>, events: &mut Vec<&'static str>) -> u16 {
        if cmd.p1 != 0x00 {
            return sw::WRONG_P1P2;
        }
        let Some(app) = self.current_app else {
            return sw::NO_CURRENT_EF;
        };
        let fid = match self.referenced_object(cmd.p2) {
            Ok(fid) => fid,
            Err(status) => return status,
        };
        let id = (app, fid);
        if matches!(id, (App::InputSupport, 0x0014) | (App::CardFace, 0x0013)) {
            events.push("collation-a-verify");
        }
        let Some(credential) = self.credentials.get_mut(&id) else {
            return sw::NOT_FOUND;
        };
        let Some(secret) = credential.secret.as_ref() else {
            return sw::REFERENCE_NOT_USABLE;
        };
        if cmd.data.is_empty() {
            // The retry query: never spends a try.
            return match credential.max_tries {
                None => sw::NO_RETRY_LIMIT,
                Some(_) => sw::tries_left(credential.tries_left),
            };
        }
        events.push("verify");
        if credential.max_tries.is_some() && credential.tries_left == 0 {
            events.push("verify-refused-blocked");
            return sw::REFERENCE_NOT_USABLE;
        }
        if cmd.data == secret.as_slice() {
            if let Some(max) = credential.max_tries {
                credential.tries_left = max;
            }
            self.verified.insert(id);
            sw::OK
        } else {
            self.verified.remove(&id);
            match credential.max_tries {
                None => sw::tries_left(0),
                Some(_) => {
                    credential.tries_left = credential.tries_left.saturating_sub(1);
                    sw::tries_left(credential.tries_left)
                }
            }
        }
    }

    fn sign(&mut self, cmd: &Command<'_>, events: &mut Vec<&'static str>) -> Vec<u8> {
        if cmd.p1 != 0x00 {
            return respond(Vec::new(), sw::WRONG_P1P2);
        }
        let Some(app) = self.current_app else {
            return respond(Vec::new(), sw::NO_CURRENT_EF);
        };
        let fid = match self.referenced_object(cmd.p2) {
            Ok(fid) => fid,
            Err(status) => return respond(Vec::new(), status),
        };
        let Some(key) = self.keys.get(&(app, fid)) else {
            return respond(Vec::new(), sw::NOT_FOUND);
        };
        if !self.verified.contains(&key.unlocked_by) {
            return respond(Vec::new(), sw::SECURITY_NOT_SATISFIED);
        }
        if cmd.data.is_empty() || cmd.data.len() > 245 {
            return respond(Vec::new(), sw::CONDITIONS_NOT_SATISFIED);
        }
        events.push("sign");
        // P1=00: PKCS#1 v1.5 type-1 padding over the data exactly as given (the
        // caller supplies the DigestInfo); the card does not hash.
        match key.key.sign(Pkcs1v15Sign::new_unprefixed(), cmd.data) {
            Ok(signature) => respond(signature, sw::OK),
            Err(_) => respond(Vec::new(), sw::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn get_data(&mut self, cmd: &Command<'_>) -> Vec<u8> {
        let tag = u16::from_be_bytes([cmd.p1, cmd.p2]);
        if tag == 0x5F51 {
            // The contact ATR without TS.
            return respond(self.atr.get(1..).unwrap_or_default().to_vec(), sw::OK);
        }
        match (self.current_app, self.mf_data.get(&tag)) {
            (None, Some(value)) => respond(value.clone(), sw::OK),
            _ => respond(Vec::new(), sw::DATA_NOT_FOUND),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personality::{personalise, Personality};

    fn card(p: Personality) -> Card {
        let mut card = Card::new(personalise(&p).unwrap());
        card.reset();
        card
    }

    fn sw(response: &[u8]) -> u16 {
        u16::from_be_bytes([response[response.len() - 2], response[response.len() - 1]])
    }

    fn select_aid(aid: &[u8]) -> Vec<u8> {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, aid.len() as u8];
        apdu.extend_from_slice(aid);
        apdu
    }

    fn select_ef(fid: u16) -> Vec<u8> {
        let [hi, lo] = fid.to_be_bytes();
        vec![0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo]
    }

    fn verify(pin: &[u8]) -> Vec<u8> {
        let mut apdu = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
        apdu.extend_from_slice(pin);
        apdu
    }

    const QUERY: [u8; 4] = [0x00, 0x20, 0x00, 0x80];

    #[test]
    fn auth_pin_counts_down_locks_and_survives_reset() {
        let mut c = card(Personality::default());
        assert_eq!(sw(&c.process(&select_aid(&AID_JPKI))), 0x9000);
        assert_eq!(sw(&c.process(&select_ef(0x0018))), 0x9000);
        assert_eq!(sw(&c.process(&QUERY)), 0x63C3);
        assert_eq!(sw(&c.process(&verify(b"0000"))), 0x63C2);
        assert_eq!(sw(&c.process(&QUERY)), 0x63C2, "the query spends nothing");
        assert_eq!(sw(&c.process(&verify(b"0000"))), 0x63C1);
        c.reset();
        assert_eq!(c.tries_left((App::Jpki, 0x0018)), Some(1));
        c.process(&select_aid(&AID_JPKI));
        c.process(&select_ef(0x0018));
        assert_eq!(sw(&c.process(&verify(b"0000"))), 0x63C0);
        assert_eq!(sw(&c.process(&QUERY)), 0x63C0);
        assert_eq!(
            sw(&c.process(&verify(b"1234"))),
            0x6984,
            "a blocked PIN stays blocked"
        );
        let log = c.drain_log();
        assert!(log
            .iter()
            .any(|e| e.events.contains(&"verify-refused-blocked")));
        assert!(log
            .iter()
            .all(|e| e.data.is_none() || !e.header.starts_with("0020")));
    }

    #[test]
    fn verified_state_goes_with_reset_and_reselect() {
        let mut c = card(Personality::default());
        let mut sign = vec![0x80, 0x2A, 0x00, 0x80, 0x03, 1, 2, 3, 0x00];
        c.process(&select_aid(&AID_JPKI));
        c.process(&select_ef(0x0018));
        assert_eq!(sw(&c.process(&verify(b"1234"))), 0x9000);
        c.process(&select_ef(0x0017));
        let signed = c.process(&sign);
        assert_eq!((signed.len(), sw(&signed)), (258, 0x9000));
        c.process(&select_aid(&AID_JPKI));
        c.process(&select_ef(0x0017));
        assert_eq!(
            sw(&c.process(&sign)),
            0x6982,
            "re-selecting the AP logs out"
        );
        c.process(&select_ef(0x0018));
        c.process(&verify(b"1234"));
        c.reset();
        c.process(&select_aid(&AID_JPKI));
        c.process(&select_ef(0x0017));
        sign[4] = 0x03;
        assert_eq!(sw(&c.process(&sign)), 0x6982, "a reset logs out");
    }

    #[test]
    fn unknown_things_answer_not_found() {
        let mut c = card(Personality::default());
        assert_eq!(
            sw(&c.process(&select_aid(&[0xA0, 0, 0, 0, 0x01, 0x01]))),
            0x6A82
        );
        assert_eq!(
            sw(&c.process(&[0x00, 0xA4, 0x00, 0x00])),
            0x6A86,
            "MF select after reset"
        );
        assert_eq!(sw(&c.process(&select_ef(0x3F00))), 0x6A82);
        assert_eq!(sw(&c.process(&[0x00, 0xCA, 0xDF, 0x30, 0x05])), 0x6A88);
        assert_eq!(sw(&c.process(&[0x00, 0xCB, 0x3F, 0xFF, 0x00])), 0x6D00);
        c.process(&select_aid(&AID_JPKI));
        assert_eq!(sw(&c.process(&select_ef(0x1234))), 0x6A82);
    }

    #[test]
    fn certificates_read_in_chunks_and_past_the_end_is_6b00() {
        let mut c = card(Personality::default());
        c.process(&select_aid(&AID_JPKI));
        c.process(&select_ef(0x000A));
        let head = c.process(&[0x00, 0xB0, 0x00, 0x00, 0x04]);
        assert_eq!((head[0], head[1], sw(&head)), (0x30, 0x82, 0x9000));
        let far = c.process(&[0x00, 0xB0, 0x7F, 0x00, 0x10]);
        assert_eq!(sw(&far), 0x6B00);
        c.process(&select_ef(0x0001));
        assert_eq!(
            sw(&c.process(&[0x00, 0xB0, 0x00, 0x00, 0x04])),
            0x6982,
            "signature cert needs the password"
        );
    }

    #[test]
    fn the_photo_is_behind_collation_number_b() {
        let mut c = card(Personality::default());
        c.process(&select_aid(&AID_CARD_FACE));
        c.process(&select_ef(0x0002));
        assert_eq!(sw(&c.process(&[0x00, 0xB0, 0x00, 0x00, 0x00])), 0x6982);
        c.process(&select_ef(0x0012));
        assert_eq!(sw(&c.process(&verify(b"55021720350000"))), 0x63C9);
        assert_eq!(sw(&c.process(&verify(b"55021720352285"))), 0x9000);
        c.process(&select_ef(0x0002));
        let first = c.process(&[0x00, 0xB0, 0x00, 0x00, 0x00]);
        assert_eq!((first[0], first[1], sw(&first)), (0xFF, 0x20, 0x9000));
    }

    #[test]
    fn the_my_number_file_is_flagged_when_selected() {
        let mut c = card(Personality::default());
        c.process(&select_aid(&AID_INPUT_SUPPORT));
        c.process(&select_ef(0x0014));
        c.process(&verify(b"123456789018"));
        c.process(&select_ef(0x0001));
        let log = c.drain_log();
        assert!(log.iter().any(|e| e.events.contains(&"collation-a-verify")));
        assert!(log
            .iter()
            .any(|e| e.events.contains(&"my-number-file-selected")));
    }

    #[test]
    fn a_face_only_card_has_no_pin_and_no_signature_certificate() {
        let mut c = card(Personality::default().face_only());
        c.process(&select_aid(&AID_JPKI));
        assert_eq!(sw(&c.process(&select_ef(0x0001))), 0x6A82);
        c.process(&select_ef(0x0008));
        assert_eq!(
            c.process(&[0x00, 0xB0, 0x00, 0x00, 0x03])[..3],
            [0x00, 0x8F, 0x00]
        );
        c.process(&select_ef(0x0018));
        assert_eq!(sw(&c.process(&QUERY)), 0x6984);
    }
}

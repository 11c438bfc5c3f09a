//! What goes into the reception core and what comes out: inputs from the
//! card, the reader, the face pipeline, the upstream and staff; effects for
//! the adapter to carry out. No secret crosses this boundary: the adapter
//! keeps the PIN, 照合番号B and every image, and passes back outcomes only.

use myna_link::{Button, ConsentItem, FaceHint, Screen};
use time::Date;

pub use myna_upstream::messages::FlagSource;
use myna_upstream::messages::{
    ConsentFlag, Consents, PadResult, Qualification, ScoreBand, VisualReason,
};

/// The kind of card, as the card layer tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// A standard My Number Card (face or PIN).
    Standard,
    /// A 顔認証マイナンバーカード: no PIN, face (or 目視) only.
    FaceOnly,
}

/// What the card layer read without any secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardFacts {
    /// The 利用者証明用電子証明書's `notAfter` (as a date in Japan).
    pub not_after: Date,
    /// Standard or face-only.
    pub kind: CardKind,
}

/// A screen's number, given by the core; touches name the screen they were
/// made on, so a late touch on an older screen is ignored.
pub type ScreenId = u32;

/// One consent category asked one by one (since 2024-10-07).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentTopic {
    /// 手術の情報.
    Operation,
    /// 手術以外の診療・お薬の情報 (one answer sets 診療 and 薬剤).
    DiagnosisAndMedication,
    /// 特定健診等の情報 (only when the upstream says it applies).
    SpecificHealthCheckup,
}

/// A patient screen with its parameters, as the core decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientScreen {
    /// No card.
    Idle,
    /// Reading the card.
    Reading,
    /// Unreadable card; after 3 the staff line.
    ReadError {
        /// Misreads in a row.
        misreads: u8,
    },
    /// The certificate expires soon or is in its grace period.
    ExpiryNotice {
        /// The `notAfter` date.
        not_after: Date,
        /// Already expired (in the grace).
        in_grace: bool,
    },
    /// Expired beyond the grace.
    ExpiredRefused,
    /// Face or PIN.
    ChooseMethod {
        /// Face only.
        face_only: bool,
    },
    /// The live guide frame, with at most one hint.
    FaceCapture {
        /// The hint after a refused capture.
        hint: Option<FaceHint>,
        /// The quality gate found the face placed (the last capture passed
        /// it): the reader draws the guide green.
        placed: bool,
    },
    /// Three compared captures failed (or the card front could not be read).
    FaceFailed {
        /// Offer the PIN (never on a face-only card).
        pin_available: bool,
    },
    /// The shuffled pad.
    PinEntry {
        /// Tries left, as just read from the card.
        tries_left: u8,
        /// The last attempt was wrong: 「暗証番号が違います」 first.
        wrong_before: bool,
    },
    /// Before the last try.
    PinLastTry,
    /// The PIN is locked: face or staff.
    PinLocked {
        /// Face is offered (the card has a face path).
        face_available: bool,
    },
    /// Staff confirmed identity (目視).
    VisualCheck,
    /// Waiting for the upstream.
    Processing,
    /// Apply for health-insurance use?
    Registration,
    /// The application was accepted.
    RegistrationDone,
    /// The registration's terms of use, in pages (the reader turns them).
    RegistrationTerms,
    /// Consent: all or one by one.
    ConsentOverview {
        /// 健診 is listed: the 特定健診 item applies.
        checkup: bool,
    },
    /// One consent topic, with the step count.
    ConsentItem {
        /// Which.
        topic: ConsentTopic,
        /// 1-based step.
        step: u8,
        /// Steps in all.
        of: u8,
    },
    /// Reception complete.
    Done {
        /// The name in kana, when the upstream gave one.
        name_kana: Option<String>,
    },
    /// Staff are on their way.
    StaffComing,
    /// Ask the staff.
    SeeStaff,
    /// Reader fault.
    OutOfService,
    /// Not a My Number Card: hand it to staff.
    NotMyNumberCard,
}

impl PatientScreen {
    /// The screen's name (`PinEntry`): what status, the staff side and the
    /// transcripts call it. A match the compiler checks, not `Debug` text.
    pub fn name(&self) -> &'static str {
        match self {
            PatientScreen::Idle => "Idle",
            PatientScreen::Reading => "Reading",
            PatientScreen::ReadError { .. } => "ReadError",
            PatientScreen::ExpiryNotice { .. } => "ExpiryNotice",
            PatientScreen::ExpiredRefused => "ExpiredRefused",
            PatientScreen::ChooseMethod { .. } => "ChooseMethod",
            PatientScreen::FaceCapture { .. } => "FaceCapture",
            PatientScreen::FaceFailed { .. } => "FaceFailed",
            PatientScreen::PinEntry { .. } => "PinEntry",
            PatientScreen::PinLastTry => "PinLastTry",
            PatientScreen::PinLocked { .. } => "PinLocked",
            PatientScreen::VisualCheck => "VisualCheck",
            PatientScreen::Processing => "Processing",
            PatientScreen::Registration => "Registration",
            PatientScreen::RegistrationDone => "RegistrationDone",
            PatientScreen::RegistrationTerms => "RegistrationTerms",
            PatientScreen::ConsentOverview { .. } => "ConsentOverview",
            PatientScreen::ConsentItem { .. } => "ConsentItem",
            PatientScreen::Done { .. } => "Done",
            PatientScreen::StaffComing => "StaffComing",
            PatientScreen::SeeStaff => "SeeStaff",
            PatientScreen::OutOfService => "OutOfService",
            PatientScreen::NotMyNumberCard => "NotMyNumberCard",
        }
    }

    /// The name in kebab case (`pin-entry`): the demo's screenshot files
    /// and summaries.
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.name().chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Screens that wait for the patient (and so time out after 60 s).
    pub fn waits_for_input(&self) -> bool {
        matches!(
            self,
            PatientScreen::ExpiryNotice { .. }
                | PatientScreen::ChooseMethod { .. }
                | PatientScreen::FaceCapture { .. }
                | PatientScreen::FaceFailed { .. }
                | PatientScreen::PinEntry { .. }
                | PatientScreen::PinLastTry
                | PatientScreen::PinLocked { .. }
                | PatientScreen::VisualCheck
                | PatientScreen::Registration
                | PatientScreen::RegistrationDone
                | PatientScreen::RegistrationTerms
                | PatientScreen::ConsentOverview { .. }
                | PatientScreen::ConsentItem { .. }
        )
    }
}

impl PatientScreen {
    /// The screen as the reader's link protocol carries it; an absent name
    /// shows `Done` without one.
    pub fn to_link(&self) -> Screen<'_> {
        match self {
            PatientScreen::Idle => Screen::Idle,
            PatientScreen::Reading => Screen::Reading,
            PatientScreen::ReadError { misreads } => Screen::ReadError {
                misreads: *misreads,
            },
            PatientScreen::ExpiryNotice {
                not_after,
                in_grace,
            } => Screen::ExpiryNotice {
                year: u16::try_from(not_after.year()).unwrap_or(0),
                month: not_after.month() as u8,
                day: not_after.day(),
                in_grace: *in_grace,
            },
            PatientScreen::ExpiredRefused => Screen::ExpiredRefused,
            PatientScreen::ChooseMethod { face_only } => Screen::ChooseMethod {
                face_only: *face_only,
            },
            PatientScreen::FaceCapture { hint, placed } => Screen::FaceCapture {
                hint: *hint,
                placed: *placed,
            },
            PatientScreen::FaceFailed { pin_available } => Screen::FaceFailed {
                pin_available: *pin_available,
            },
            PatientScreen::PinEntry {
                tries_left,
                wrong_before,
            } => Screen::PinEntry {
                tries_left: *tries_left,
                wrong_before: *wrong_before,
            },
            PatientScreen::PinLastTry => Screen::PinLastTry,
            PatientScreen::PinLocked { face_available } => Screen::PinLocked {
                face_available: *face_available,
            },
            PatientScreen::VisualCheck => Screen::VisualCheck,
            PatientScreen::Processing => Screen::Processing,
            PatientScreen::Registration => Screen::Registration,
            PatientScreen::RegistrationDone => Screen::RegistrationDone,
            PatientScreen::RegistrationTerms => Screen::RegistrationTerms,
            PatientScreen::ConsentOverview { checkup } => {
                Screen::ConsentOverview { checkup: *checkup }
            }
            PatientScreen::ConsentItem { topic, step, of } => Screen::ConsentItem {
                item: match topic {
                    ConsentTopic::Operation => ConsentItem::Operation,
                    ConsentTopic::DiagnosisAndMedication => ConsentItem::Diagnosis,
                    ConsentTopic::SpecificHealthCheckup => ConsentItem::SpecificHealthCheckup,
                },
                step: *step,
                of: *of,
            },
            PatientScreen::Done { name_kana } => Screen::Done {
                name_kana: name_kana.as_deref().unwrap_or(""),
            },
            PatientScreen::StaffComing => Screen::StaffComing,
            PatientScreen::SeeStaff => Screen::SeeStaff,
            PatientScreen::OutOfService => Screen::OutOfService,
            PatientScreen::NotMyNumberCard => Screen::NotMyNumberCard,
        }
    }
}

/// Why the card front gave no 照合番号B (the adapter's card-front reader
/// refused: nothing was sent to the card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardFrontRefusal {
    /// Unsure of a field: place the card again.
    Unsure,
    /// No card, or upside down.
    NotFound,
}

/// What reading the card photo with 照合番号B gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoOutcome {
    /// The photo is in the adapter's memory.
    Read,
    /// The card refused 照合番号B (one of its tries spent).
    Refused,
    /// 照合番号B is locked on the card.
    Locked,
}

/// The face pipeline's verdict on one capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceVerdict {
    /// The same person.
    Match {
        /// Coarse band, for the upstream.
        band: ScoreBand,
        /// PAD outcome.
        pad: PadResult,
    },
    /// Compared, not the same person: one attempt spent.
    NoMatch,
    /// PAD judged the face a photo or a screen: the face path ends for this
    /// reception (no retake is invited).
    Attack,
    /// Not compared: the quality gate asks for this (no attempt spent).
    Retake(FaceHint),
}

/// What VERIFY (and the signature after it) gave; the PIN never comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// Verified, and the card signed the challenge.
    Signed,
    /// Wrong PIN.
    Wrong {
        /// Tries left, as the card said.
        tries_left: u8,
    },
    /// Locked now.
    Locked,
}

/// The upstream's answer to the verify request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyAnswer {
    /// 資格有効性.
    pub qualification: Qualification,
    /// Registered for health-insurance use.
    pub registered: bool,
    /// For `Done`.
    pub name_kana: Option<String>,
    /// The 特定健診 item applies.
    pub specific_health_checkup: bool,
}

/// Why the upstream gave no answer a patient can go on with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// The deadline passed (network down, upstream slow).
    Deadline,
    /// The upstream refused the request.
    Refused,
}

/// A failure that is not the patient's doing. Typed, so that no adapter
/// dresses one up as an answer of the patient's (a card that stopped
/// answering is not a locked PIN; a PIN the reader lost is not a wrong one;
/// a model that failed is not a face turned away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The card stopped answering mid-reception (a transfer failed; no
    /// status the card chose).
    Card,
    /// The reader did not hand over what it should have (the PIN entered,
    /// a camera frame).
    Reader,
    /// The face engine or one of its models failed.
    FaceEngine,
}

/// Staff's 目視 switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisualCheckOn {
    /// Staff member.
    pub staff_id: String,
    /// Reason code.
    pub reason: VisualReason,
}

/// Everything the core is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A card was placed.
    CardInserted,
    /// The card left the reader.
    CardRemoved,
    /// The card was read (certificate and kind; no secret).
    CardRead(CardFacts),
    /// The card could not be read.
    CardUnreadable,
    /// The card answers but is not a My Number Card (a 資格確認書, a
    /// bank card): its own message, not a misread.
    NotMyNumberCard,
    /// The patient pressed a button.
    Touch {
        /// The screen it was pressed on.
        screen: ScreenId,
        /// Which.
        button: Button,
    },
    /// The reader's 60 s timer ran out on a screen.
    IdleTimeout,
    /// The card front was read: 照合番号B is in the adapter's memory.
    CardFrontRead,
    /// The card front reader refused (nothing sent to the card).
    CardFrontRefused(CardFrontRefusal),
    /// The photo read with 照合番号B.
    Photo(PhotoOutcome),
    /// One compared capture.
    Face(FaceVerdict),
    /// The PIN tries the card reports now (read before every attempt).
    PinTries(u8),
    /// VERIFY's outcome.
    Pin(PinOutcome),
    /// The upstream answered the verify request.
    Verified(VerifyAnswer),
    /// The upstream failed the verify or registration request.
    UpstreamFailed(UpstreamFailure),
    /// The registration was accepted.
    Registered,
    /// Staff switched 目視 on (for one reception).
    VisualCheckOn(VisualCheckOn),
    /// Staff switched it off.
    VisualCheckOff,
    /// A patient who cannot reach the reader answered the consent questions
    /// aloud; a staff member entered the answers (only while the consent
    /// screens are up; topics not answered are declined).
    ConsentRelayed {
        /// Who entered them.
        staff_id: String,
        /// The answers, by topic.
        answers: Vec<(ConsentTopic, bool)>,
    },
    /// The reader failed.
    ReaderFault,
    /// A step failed for a reason that is not the patient's
    /// ([`Fault`]): nothing is counted against them.
    Fault(Fault),
    /// The reader works again (reconnected, restarted).
    ReaderRecovered,
    /// Time passes (reminders, timeouts).
    Tick,
}

/// How identity was confirmed, for the verify request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The card signed the challenge after VERIFY.
    Pin,
    /// Face matched.
    Face {
        /// Compared captures used (1–3).
        attempts: u8,
        /// Band.
        band: ScoreBand,
        /// PAD.
        pad: PadResult,
    },
    /// 目視 by staff.
    Visual(VisualCheckOn),
}

/// One consent decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Agreed.
    pub agree: bool,
    /// When (Unix seconds).
    pub decided_at: i64,
    /// Who set it.
    pub source: FlagSource,
}

/// The decisions of one reception, named as the national system names the
/// flags (UPSTREAM.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_snake_case)]
pub struct ConsentDecisions {
    /// 診療.
    pub DiagnosisInfoConsFlg: Option<Decision>,
    /// 薬剤.
    pub PharmacistsInfoConsFlg: Option<Decision>,
    /// 手術.
    pub OperationInfoConsFlg: Option<Decision>,
    /// 特定健診.
    pub SpecificHealthCheckupsInfoConsFlg: Option<Decision>,
    /// 限度額 (by the flow).
    pub LimitApplicationCertificateRelatedConsFlg: Option<Decision>,
    /// 特定疾病 (by the flow, behind a setting).
    pub SpecificDiseasesCertificateRelatedConsFlg: Option<Decision>,
}

impl ConsentDecisions {
    /// The flags as the consent record carries them (UPSTREAM.md): 1 agree,
    /// 0 decline, with the time, and `"source": "flow"` where the flow set it.
    pub fn to_wire(&self) -> Consents {
        let flag = |d: &Option<Decision>| {
            d.map(|d| ConsentFlag {
                value: u8::from(d.agree),
                decided_at: d.decided_at,
                source: Some(d.source),
            })
        };
        Consents {
            DiagnosisInfoConsFlg: flag(&self.DiagnosisInfoConsFlg),
            PharmacistsInfoConsFlg: flag(&self.PharmacistsInfoConsFlg),
            OperationInfoConsFlg: flag(&self.OperationInfoConsFlg),
            SpecificHealthCheckupsInfoConsFlg: flag(&self.SpecificHealthCheckupsInfoConsFlg),
            LimitApplicationCertificateRelatedConsFlg: flag(
                &self.LimitApplicationCertificateRelatedConsFlg,
            ),
            SpecificDiseasesCertificateRelatedConsFlg: flag(
                &self.SpecificDiseasesCertificateRelatedConsFlg,
            ),
        }
    }
}

/// Why staff are alerted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// The patient pressed 職員を呼ぶ.
    PatientCalled,
    /// Three misreads in a row.
    CardUnreadable,
    /// The certificate expired beyond the grace.
    CertificateExpired,
    /// The PIN is locked.
    PinLocked,
    /// Face and PIN exhausted.
    IdentityFailed,
    /// PAD refused the face: possibly a photo or a screen held up.
    FaceRefused,
    /// The face path cannot run on this kiosk (models missing) and the
    /// patient could not use the PIN.
    FaceUnavailable,
    /// The upstream's answer, for `SeeStaff` (the patient sees none of it).
    Qualification(Qualification),
    /// The upstream did not answer in time or refused.
    Upstream(UpstreamFailure),
    /// The patient declined registration: 資格確認書 or staff.
    NotRegistered,
    /// The card is still on the reader after `Done`.
    CardLeft,
    /// The reader failed.
    ReaderFault,
    /// A step failed that was not the patient's doing.
    Fault(Fault),
}

/// Audit events (staff side): no patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditEvent {
    /// 目視 was used for a reception, with its outcome.
    VisualCheckUsed {
        /// Who switched it on.
        staff_id: String,
        /// Why.
        reason: VisualReason,
        /// The reception reached `Done`.
        completed: bool,
    },
    /// 目視 was switched on and no card came before it expired: withdrawn.
    VisualCheckExpired {
        /// Who switched it on.
        staff_id: String,
        /// Why.
        reason: VisualReason,
    },
}

/// A sound or light.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Error tone.
    Error,
    /// Take your card.
    TakeCard,
}

/// What the adapter must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Draw this screen (touches will name `id`); `visual_check` keeps the
    /// 目視 banner up.
    Show {
        /// The screen's number.
        id: ScreenId,
        /// The screen.
        screen: PatientScreen,
        /// The 目視 banner.
        visual_check: bool,
    },
    /// A sound.
    Signal(Signal),
    /// Read the certificate and kind (answer: `CardRead`/`CardUnreadable`).
    ReadCard,
    /// Capture the card front and read 照合番号B (answer: `CardFrontRead`
    /// or `CardFrontRefused`; a refused read is never sent to the card).
    ReadCardFront,
    /// Read the card photo with the 照合番号B just read (answer: `Photo`).
    ReadCardPhoto,
    /// Capture and compare one face (answer: `Face`).
    CaptureFace {
        /// Compared captures already spent (0–2).
        attempts_used: u8,
    },
    /// Ask the card its PIN tries (answer: `PinTries`).
    ReadPinTries,
    /// Take the PIN from the reader, VERIFY once, sign the challenge on
    /// success (answer: `Pin`). Only after tries were read and were > 0.
    VerifyPinAndSign,
    /// Send the verify request (answer: `Verified` or `UpstreamFailed`).
    SendVerify(Identity),
    /// Send the registration request (answer: `Registered`/`UpstreamFailed`).
    SendRegistration,
    /// Queue the consent record (delivered by the courier).
    SendConsent {
        /// The decisions.
        decisions: ConsentDecisions,
        /// The patient applied for health-insurance use at this visit.
        registration_request: bool,
        /// The staff member who entered answers given aloud.
        relayed_by: Option<String>,
    },
    /// Record for the staff audit trail.
    Audit(AuditEvent),
    /// Tell the staff side.
    AlertStaff(Alert),
    /// Forget everything of this reception (PIN pad, 照合番号B, photos,
    /// embeddings, certificate).
    Wipe,
}

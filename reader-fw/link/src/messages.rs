//! The messages of the protocol. Screens follow `SCREENS.md`; unknown
//! codes from a newer peer are kept (`Other`) rather than refused.
//!
//! `DeviceToHost` writes its `Debug` by hand: a `Pin` shows no digit and a
//! `FramePart` no pixel, so a `?message` in a log can never leak either.

use serde::{Deserialize, Serialize};

/// Which camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Camera {
    /// Facing the patient.
    Patient,
    /// Looking at the card front (for 照合番号B).
    CardFront,
}

/// A consent category shown one at a time. There is no 限度額 (nor
/// 特定疾病) item: since 2024-10-07 that information is provided as part of
/// 資格確認 without asking the patient (`SCREENS.md`, `UPSTREAM.md`), so
/// the reader never shows a screen for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentItem {
    /// 手術以外の診療・お薬の情報.
    Diagnosis,
    /// 手術の情報.
    Operation,
    /// 特定健診等の情報.
    SpecificHealthCheckup,
}

/// What the patient is asked to do after a failed face capture (one at a
/// time; the host's quality gate picks it). Names are kebab-case in JSON
/// (the CLI); postcard encodes variants by index, so the wire is unaffected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaceHint {
    /// No face in the frame.
    FaceTheFrame,
    /// Several faces.
    OneFaceOnly,
    /// 近づく.
    MoveCloser,
    /// 離れる.
    MoveBack,
    /// Look straight at the camera.
    FaceForward,
    /// 明るい方を向く.
    FaceTheLight,
    /// Glare.
    AvoidGlare,
    /// Blurred: hold still.
    HoldStill,
    /// マスクを外す/少し下げる.
    RemoveMask,
    /// 帽子を取る.
    RemoveHat,
    /// メガネを外す.
    RemoveGlasses,
    /// A hint from a newer host (the device cannot show it).
    Other(u8),
}

/// A patient-side screen with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Screen<'a> {
    /// No card.
    Idle,
    /// Card present, reading.
    Reading,
    /// Unreadable card; after 3 misreads the staff message.
    ReadError {
        /// Misreads so far.
        misreads: u8,
    },
    /// Certificate expires soon, or expired within the grace period.
    ExpiryNotice {
        /// Expiry year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
        /// Already expired (inside the grace period).
        in_grace: bool,
    },
    /// Expired beyond the grace period.
    ExpiredRefused,
    /// Face or PIN.
    ChooseMethod {
        /// A face-auth card: face only.
        face_only: bool,
    },
    /// Live guide frame with one hint. The reader paints the patient
    /// camera's picture inside the guide itself (no frame crosses the link
    /// for it).
    FaceCapture {
        /// The one hint to show after a failed capture, if any.
        hint: Option<FaceHint>,
        /// The host's quality gate found the face placed: the guide is
        /// drawn green.
        placed: bool,
    },
    /// Three failed captures.
    FaceFailed {
        /// Offer the PIN (not on a face-auth card).
        pin_available: bool,
    },
    /// The shuffled PIN pad. Never shown while 目視確認モード is on: the
    /// device refuses it ([`DeviceError::PinInVisualCheck`]).
    PinEntry {
        /// Tries left on the card (1–3).
        tries_left: u8,
        /// The previous try was wrong: 「暗証番号が違います」 first.
        wrong_before: bool,
    },
    /// Blocking warning before the last try (refused with the 目視 banner,
    /// like the pad).
    PinLastTry,
    /// PIN locked: undone at the city office; face (when the card has a
    /// face path) or staff.
    PinLocked {
        /// Offer 顔認証 (it still works with a locked PIN).
        face_available: bool,
    },
    /// Staff confirmed identity visually.
    VisualCheck,
    /// Apply for health-insurance use?
    Registration,
    /// Consent: all or one by one.
    ConsentOverview {
        /// 健診 is among what 「全て同意する」 covers: only when the
        /// upstream says the 特定健診 item applies (`UPSTREAM.md`, verify
        /// response).
        checkup: bool,
    },
    /// One consent category, with the step count (`step` of `of`).
    ConsentItem {
        /// Which.
        item: ConsentItem,
        /// 1-based step (1..=`of`).
        step: u8,
        /// Items asked in all (1–3).
        of: u8,
    },
    /// Reception complete, with the name in kana.
    Done {
        /// Name from the upstream, kana.
        #[serde(borrow)]
        name_kana: &'a str,
    },
    /// Ask the staff.
    SeeStaff,
    /// Device fault.
    OutOfService,
    /// Waiting for the upstream (verify or registration).
    Processing,
    /// The patient pressed 職員を呼ぶ: staff are coming.
    StaffComing,
    /// The registration for health-insurance use was accepted.
    RegistrationDone,
    /// The card is not a My Number Card (e.g. a 資格確認書): hand it to
    /// the staff.
    NotMyNumberCard,
    /// The terms of use of the health-insurance registration, in full,
    /// one page at a time (no scrolling). The device turns the pages
    /// itself (前へ / 次へ); 確認 on the last page is reported as
    /// [`Button::Confirm`].
    RegistrationTerms,
}

/// A sound or light signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// Short confirmation beep.
    Beep,
    /// "Take your card" chime.
    TakeCard,
    /// Error tone.
    Error,
    /// Indicator light on/off.
    Light(bool),
}

/// The language of the patient screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    /// 日本語.
    Japanese,
    /// English.
    English,
    /// A language from a newer host (the device keeps its own).
    Other(u8),
}

/// Host → device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostToDevice<'a> {
    /// Ask for [`DeviceToHost::Info`].
    GetInfo,
    /// Show a screen; `visual_check` keeps the 目視 banner on.
    ShowScreen {
        /// The screen.
        #[serde(borrow)]
        screen: Screen<'a>,
        /// 目視確認モード is on.
        visual_check: bool,
    },
    /// Capture one frame.
    Capture {
        /// From which camera.
        camera: Camera,
    },
    /// Sound or light.
    Signal(Signal),
    /// Hand over the entered PIN for the VERIFY now (then the device wipes it).
    TakePin,
    /// Start a firmware update into the inactive slot.
    FirmwareBegin {
        /// Image size.
        size: u32,
        /// Image version (anti-rollback).
        version: u32,
    },
    /// A piece of the image.
    FirmwareChunk {
        /// Offset in the image.
        offset: u32,
        /// The bytes.
        #[serde(borrow)]
        data: &'a [u8],
    },
    /// Check the signature and mark the slot for the next boot.
    FirmwareCommit {
        /// Signature over the image.
        #[serde(borrow)]
        signature: &'a [u8],
    },
    /// Opens a session (the envelope's `session`, chosen at random by the
    /// host): both ends start their sequence numbers again, and frames of
    /// any other session are refused from now on. Answered by
    /// [`DeviceToHost::Welcome`].
    Hello,
    /// Draw the patient screens in this language from now on (this session).
    SetLanguage(Language),
    /// Large-text mode on or off (staff switched it, for the reception at
    /// hand). The patient can switch it on `Idle` too; either way it ends
    /// with the reception: the device turns it off when `Idle` is shown
    /// after another screen, or after the idle timeout.
    SetLargeText(bool),
    /// Voice guidance: spoken prompts on or off, and their volume (the
    /// clinic's setting; the reader starts with it on).
    SetVoice {
        /// Speak each screen's prompt.
        on: bool,
        /// 0–100 (% of full scale; more is taken as 100).
        volume: u8,
    },
}

/// A touch on a button of a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Button {
    /// 顔認証.
    Face,
    /// 暗証番号.
    Pin,
    /// 職員を呼ぶ / やめて職員を呼ぶ.
    CallStaff,
    /// 確認 / 次へ / 入力する.
    Confirm,
    /// 申込む / 同意する / すべて同意する.
    Yes,
    /// 申込まずに終了 / 同意しない.
    No,
    /// 一つずつ選ぶ.
    OneByOne,
    /// 取消 (cancel).
    Cancel,
    /// A digit was entered (the digit itself stays on the device).
    PinDigitEntered {
        /// Digits entered so far (for ●○○○).
        count: u8,
    },
    /// 訂正 (delete the last digit).
    PinCorrect,
    /// A button code from a newer firmware.
    Other(u8),
}

/// Why the reader refused a firmware image or an update step, so the
/// technician's tool can say what to do without reading the reader's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FirmwareRefusal {
    /// Shorter or longer than its header says.
    Truncated,
    /// Not an image, or a header layout this firmware does not know.
    Malformed,
    /// Signed with a key other than the one this reader trusts.
    UnknownKey,
    /// The body does not match the hash in the header (damaged or altered).
    BodyHash,
    /// The signature does not verify.
    Signature,
    /// Built for another board.
    WrongHardware,
    /// Its security counter is below the reader's: an older, possibly
    /// vulnerable image, refused even when the host allows a downgrade.
    Downgrade,
    /// Does not fit a slot.
    TooLarge,
    /// `FirmwareBegin`'s size or version disagrees with the image's header.
    Mismatch,
    /// A chunk or commit without a begun update (the reader restarted).
    NotStarted,
    /// A chunk at an offset other than the next byte expected.
    OutOfOrder,
    /// The running image is still on trial: it must confirm (start once
    /// fully) before another update may overwrite the other slot.
    Unconfirmed,
    /// Writing or reading the flash failed.
    Flash,
    /// A reason from a newer firmware.
    Other(u8),
}

/// Why the device reports an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceError {
    /// A screen parameter out of range (the device shows OutOfService).
    BadParameter,
    /// A frame with a lost or repeated sequence number.
    Sequence,
    /// Camera failure.
    Camera,
    /// Firmware image or update step refused, with the reason; the running
    /// image is untouched.
    FirmwareRejected(FirmwareRefusal),
    /// A frame that did not decode (corrupted, other version, not a message).
    Frame,
    /// `TakePin` before four digits were entered on a shown PIN pad.
    PinNotReady,
    /// A request this firmware does not carry out.
    Unsupported,
    /// A PIN screen (`PinEntry`, `PinLastTry`) asked for while 目視確認モード
    /// is on: no PIN pad is shown with the banner; the device shows
    /// `OutOfService` instead.
    PinInVisualCheck,
    /// A frame of a session the device does not have (it restarted, or the
    /// frame is from an older host run): the host must say `Hello` again.
    /// Sent in the refused frame's session, outside the sequence numbers.
    Session,
    /// A code from a newer firmware.
    Other(u8),
}

/// Device → host.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceToHost<'a> {
    /// Identity and versions.
    Info {
        /// Firmware version.
        firmware: u32,
        /// Active boot slot (0 = A, 1 = B).
        slot: u8,
        /// Display width.
        width: u16,
        /// Display height.
        height: u16,
    },
    /// A touch on a screen's button.
    Touch {
        /// The screen it belongs to (its sequence number when shown).
        screen_seq: u16,
        /// The button.
        button: Button,
    },
    /// The PIN, only in answer to [`HostToDevice::TakePin`].
    Pin {
        /// ASCII digits.
        #[serde(borrow)]
        digits: &'a [u8],
    },
    /// A piece of a captured frame (grey or RGB rows).
    FramePart {
        /// Which camera.
        camera: Camera,
        /// Frame width.
        width: u16,
        /// Frame height.
        height: u16,
        /// Bytes per pixel: 1 grey, 3 RGB.
        channels: u8,
        /// Byte offset of this part.
        offset: u32,
        /// The bytes.
        #[serde(borrow)]
        data: &'a [u8],
    },
    /// Something went wrong.
    Error(DeviceError),
    /// Firmware update progress: bytes accepted so far.
    FirmwareProgress(u32),
    /// A screen waiting for the patient got no touch for 60 s: the device
    /// wiped what was entered and shows `Idle`; the host ends the reception.
    IdleTimeout {
        /// The screen that timed out.
        screen_seq: u16,
    },
    /// The answer to [`HostToDevice::Hello`]: the session is open.
    Welcome {
        /// Chosen at random at every start of the firmware: a different one
        /// tells the host the reader restarted (and shows `Idle` again).
        boot_id: u32,
        /// Firmware version.
        firmware: u32,
        /// Active boot slot (0 = A, 1 = B).
        slot: u8,
        /// Display width.
        width: u16,
        /// Display height.
        height: u16,
    },
}

impl core::fmt::Debug for DeviceToHost<'_> {
    /// Field by field like a derived `Debug`, except that a PIN shows only
    /// that it was there and a camera part only its length.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DeviceToHost::Info {
                firmware,
                slot,
                width,
                height,
            } => f
                .debug_struct("Info")
                .field("firmware", firmware)
                .field("slot", slot)
                .field("width", width)
                .field("height", height)
                .finish(),
            DeviceToHost::Touch { screen_seq, button } => f
                .debug_struct("Touch")
                .field("screen_seq", screen_seq)
                .field("button", button)
                .finish(),
            DeviceToHost::Pin { .. } => f.write_str("Pin { digits: <redacted> }"),
            DeviceToHost::FramePart {
                camera,
                width,
                height,
                channels,
                offset,
                data,
            } => f
                .debug_struct("FramePart")
                .field("camera", camera)
                .field("width", width)
                .field("height", height)
                .field("channels", channels)
                .field("offset", offset)
                .field("bytes", &data.len())
                .finish(),
            DeviceToHost::Error(e) => f.debug_tuple("Error").field(e).finish(),
            DeviceToHost::FirmwareProgress(n) => {
                f.debug_tuple("FirmwareProgress").field(n).finish()
            }
            DeviceToHost::IdleTimeout { screen_seq } => f
                .debug_struct("IdleTimeout")
                .field("screen_seq", screen_seq)
                .finish(),
            DeviceToHost::Welcome {
                boot_id,
                firmware,
                slot,
                width,
                height,
            } => f
                .debug_struct("Welcome")
                .field("boot_id", boot_id)
                .field("firmware", firmware)
                .field("slot", slot)
                .field("width", width)
                .field("height", height)
                .finish(),
        }
    }
}

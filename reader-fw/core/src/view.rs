//! A screen as the firmware holds it: the host's [`Screen`] checked and
//! copied (parse, don't validate). A parameter out of range is refused
//! here, so drawing code never sees one.

use myna_link::{ConsentItem, FaceHint, Screen};

use crate::catalogue::{self, is_name_char, Text};
use crate::font;
use crate::panel::CONTENT_WIDTH;

/// Why a screen's parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadParameter {
    /// A date that does not exist or is out of the card's range.
    Date,
    /// Tries left outside 1–3 on the PIN pad.
    TriesLeft,
    /// A face hint this firmware does not know.
    Hint,
    /// An empty, too long or non-kana name.
    Name,
    /// A consent step outside 1..=`of`, or more than [`CONSENT_ITEMS_MAX`]
    /// items.
    Step,
}

/// The most consent items one reception asks (手術, 手術以外の診療・お薬,
/// 特定健診等; no 限度額 item).
pub const CONSENT_ITEMS_MAX: u8 = 3;

/// A calendar date (checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// 2000–2099.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31, valid for the month.
    pub day: u8,
}

impl Date {
    /// A real date within the certificates' range.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, BadParameter> {
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(BadParameter::Date),
        };
        if !(2000..=2099).contains(&year) || day == 0 || day > days {
            return Err(BadParameter::Date);
        }
        Ok(Date { year, month, day })
    }
}

/// The longest name, in characters.
pub const NAME_MAX_CHARS: usize = 24;
const NAME_BYTES: usize = NAME_MAX_CHARS * 3;

/// A patient's name in kana, as the upstream returned it (checked: kana
/// and spaces only, so every character has a glyph).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KanaName {
    bytes: [u8; NAME_BYTES],
    len: usize,
}

impl core::fmt::Debug for KanaName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // A name is personal data: never in a log.
        f.write_str("KanaName(..)")
    }
}

impl KanaName {
    /// Checks and copies `name`.
    pub fn new(name: &str) -> Result<KanaName, BadParameter> {
        let trimmed = name.trim_matches(|c| c == ' ' || c == '　');
        let chars = trimmed.chars().count();
        if chars == 0 || chars > NAME_MAX_CHARS || !trimmed.chars().all(is_name_char) {
            return Err(BadParameter::Name);
        }
        if font::TITLE.width(trimmed) + font::TITLE.width("　様") > CONTENT_WIDTH {
            return Err(BadParameter::Name);
        }
        let mut bytes = [0u8; NAME_BYTES];
        bytes[..trimmed.len()].copy_from_slice(trimmed.as_bytes());
        Ok(KanaName {
            bytes,
            len: trimmed.len(),
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Copied from a &str, so always UTF-8; an empty name cannot happen.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// A screen with checked parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// No card.
    Idle,
    /// Reading the card.
    Reading,
    /// Unreadable card; `staff` after 3 misreads.
    ReadError {
        /// Ask the staff.
        staff: bool,
    },
    /// Certificate expiring or in grace.
    ExpiryNotice {
        /// Expiry.
        date: Date,
        /// Already expired, inside the grace period.
        in_grace: bool,
    },
    /// Expired beyond grace.
    ExpiredRefused,
    /// Face or PIN (face only for a face-auth card).
    ChooseMethod {
        /// Face-auth card.
        face_only: bool,
    },
    /// Guide frame with one hint; the device paints the camera's picture
    /// into it ([`crate::ui::preview`]).
    FaceCapture {
        /// The hint's words.
        hint: Option<Text>,
        /// The host's gate says the face is placed: a green guide.
        placed: bool,
    },
    /// Face failed three times.
    FaceFailed {
        /// Offer the PIN.
        pin_available: bool,
    },
    /// The PIN pad (never with the 目視 banner: the device refuses it).
    PinEntry {
        /// 1–3.
        tries_left: u8,
        /// 「暗証番号が違います」 above the title.
        wrong_before: bool,
    },
    /// Blocking warning before the last try.
    PinLastTry,
    /// Locked: undone at the city office; face or staff.
    PinLocked {
        /// Offer 顔認証; without it the session ends (take the card).
        face_available: bool,
    },
    /// Staff checked visually.
    VisualCheck,
    /// Registration offer.
    Registration,
    /// Consent: all or one by one.
    ConsentOverview {
        /// 健診 is listed among what 「全て同意する」 covers.
        checkup: bool,
    },
    /// One consent category, `step` of `of` (checked: 1 ≤ step ≤ of ≤ 3).
    ConsentItem {
        /// Which.
        item: ConsentItem,
        /// 1-based.
        step: u8,
        /// In all.
        of: u8,
    },
    /// Done, with the name; `reminder` after the take-card chime.
    Done {
        /// Kana name, when one can be drawn.
        name: Option<KanaName>,
        /// The card is still there: remind.
        reminder: bool,
    },
    /// Ask the staff.
    SeeStaff,
    /// Device fault.
    OutOfService,
    /// Waiting for the upstream.
    Processing,
    /// Staff are coming.
    StaffComing,
    /// Registration accepted.
    RegistrationDone,
    /// Not a My Number Card: hand it to the staff.
    NotMyNumberCard,
    /// The registration's terms of use, page `page` of
    /// [`catalogue::TERMS_PAGES`] (1-based; the device turns the pages).
    RegistrationTerms {
        /// 1..=`TERMS_PAGES`.
        page: u8,
    },
}

/// The catalogue words for a face hint; `Other` is not one of ours.
pub fn hint_text(hint: FaceHint) -> Result<Text, BadParameter> {
    catalogue::hint_text(hint).ok_or(BadParameter::Hint)
}

impl View {
    /// Checks a screen from the host.
    pub fn from_screen(screen: &Screen<'_>) -> Result<View, BadParameter> {
        Ok(match *screen {
            Screen::Idle => View::Idle,
            Screen::Reading => View::Reading,
            Screen::ReadError { misreads } => View::ReadError {
                staff: misreads >= 3,
            },
            Screen::ExpiryNotice {
                year,
                month,
                day,
                in_grace,
            } => View::ExpiryNotice {
                date: Date::new(year, month, day)?,
                in_grace,
            },
            Screen::ExpiredRefused => View::ExpiredRefused,
            Screen::ChooseMethod { face_only } => View::ChooseMethod { face_only },
            Screen::FaceCapture { hint, placed } => View::FaceCapture {
                hint: hint.map(hint_text).transpose()?,
                placed,
            },
            Screen::FaceFailed { pin_available } => View::FaceFailed { pin_available },
            Screen::PinEntry {
                tries_left,
                wrong_before,
            } => {
                if !(1..=3).contains(&tries_left) {
                    return Err(BadParameter::TriesLeft);
                }
                View::PinEntry {
                    tries_left,
                    wrong_before,
                }
            }
            Screen::PinLastTry => View::PinLastTry,
            Screen::PinLocked { face_available } => View::PinLocked { face_available },
            Screen::VisualCheck => View::VisualCheck,
            Screen::Registration => View::Registration,
            Screen::ConsentOverview { checkup } => View::ConsentOverview { checkup },
            Screen::ConsentItem { item, step, of } => {
                if step == 0 || step > of || of > CONSENT_ITEMS_MAX {
                    return Err(BadParameter::Step);
                }
                View::ConsentItem { item, step, of }
            }
            // A name that cannot be drawn (none, not kana, too long) is
            // left out: `Done` is never an error screen (SCREENS.md).
            Screen::Done { name_kana } => View::Done {
                name: KanaName::new(name_kana).ok(),
                reminder: false,
            },
            Screen::SeeStaff => View::SeeStaff,
            Screen::Processing => View::Processing,
            Screen::StaffComing => View::StaffComing,
            Screen::RegistrationDone => View::RegistrationDone,
            Screen::OutOfService => View::OutOfService,
            Screen::NotMyNumberCard => View::NotMyNumberCard,
            Screen::RegistrationTerms => View::RegistrationTerms { page: 1 },
        })
    }

    /// A PIN screen: never shown while 目視確認モード is on.
    pub fn asks_for_pin(&self) -> bool {
        matches!(self, View::PinEntry { .. } | View::PinLastTry)
    }

    /// Whether the screen ends the session, and so tells the patient to
    /// take the card (the clinic never keeps it). `PinLocked` ends it only
    /// without a face path: with one, the face check still needs the card.
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            View::ReadError { staff: true }
                | View::ExpiredRefused
                | View::PinLocked {
                    face_available: false
                }
                | View::Done { .. }
                | View::SeeStaff
                | View::OutOfService
                | View::NotMyNumberCard
        )
    }

    /// Whether the screen waits for the patient (and so times out).
    pub fn waits_for_input(&self) -> bool {
        matches!(
            self,
            View::ExpiryNotice { .. }
                | View::ChooseMethod { .. }
                | View::FaceFailed { .. }
                | View::PinEntry { .. }
                | View::PinLastTry
                | View::PinLocked { .. }
                | View::VisualCheck
                | View::Registration
                | View::RegistrationDone
                | View::ConsentOverview { .. }
                | View::ConsentItem { .. }
                | View::RegistrationTerms { .. }
        )
    }
}

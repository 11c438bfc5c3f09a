//! Every patient screen with sample parameters, named in kebab-case as the
//! golden screenshots are: one list for the goldens, `mynareader reader
//! show` and anyone who wants to see a screen on a reader.

use crate::{ConsentItem, FaceHint, Screen};

/// `(name, screen)`, in the order the golden test draws them (the PIN
/// pad's shuffles follow that order).
pub const SCREENS: &[(&str, Screen<'static>)] = &[
    ("idle", Screen::Idle),
    ("reading", Screen::Reading),
    ("read-error", Screen::ReadError { misreads: 1 }),
    ("read-error-staff", Screen::ReadError { misreads: 3 }),
    (
        "expiry-notice",
        Screen::ExpiryNotice {
            year: 2027,
            month: 2,
            day: 28,
            in_grace: false,
        },
    ),
    (
        "expiry-notice-grace",
        Screen::ExpiryNotice {
            year: 2026,
            month: 10,
            day: 31,
            in_grace: true,
        },
    ),
    ("expired-refused", Screen::ExpiredRefused),
    ("choose-method", Screen::ChooseMethod { face_only: false }),
    (
        "choose-method-face-only",
        Screen::ChooseMethod { face_only: true },
    ),
    ("face-capture", Screen::FaceCapture { hint: None }),
    (
        "face-capture-hint-mask",
        Screen::FaceCapture {
            hint: Some(FaceHint::RemoveMask),
        },
    ),
    (
        "face-capture-hint-closer",
        Screen::FaceCapture {
            hint: Some(FaceHint::MoveCloser),
        },
    ),
    (
        "face-failed",
        Screen::FaceFailed {
            pin_available: true,
        },
    ),
    (
        "face-failed-face-only",
        Screen::FaceFailed {
            pin_available: false,
        },
    ),
    ("pin-entry", Screen::PinEntry { tries_left: 3 }),
    ("pin-entry-2", Screen::PinEntry { tries_left: 2 }),
    ("pin-last-try", Screen::PinLastTry),
    ("pin-entry-1", Screen::PinEntry { tries_left: 1 }),
    ("pin-locked", Screen::PinLocked),
    ("visual-check", Screen::VisualCheck),
    ("registration", Screen::Registration),
    ("consent-overview", Screen::ConsentOverview),
    (
        "consent-diagnosis",
        Screen::ConsentItem {
            item: ConsentItem::Diagnosis,
        },
    ),
    (
        "consent-operation",
        Screen::ConsentItem {
            item: ConsentItem::Operation,
        },
    ),
    (
        "consent-checkup",
        Screen::ConsentItem {
            item: ConsentItem::SpecificHealthCheckup,
        },
    ),
    (
        "consent-limit",
        Screen::ConsentItem {
            item: ConsentItem::LimitCertificate,
        },
    ),
    (
        "done",
        Screen::Done {
            name_kana: "ヤマダ タロウ",
        },
    ),
    ("see-staff", Screen::SeeStaff),
    ("out-of-service", Screen::OutOfService),
    ("processing", Screen::Processing),
    ("staff-coming", Screen::StaffComing),
    ("registration-done", Screen::RegistrationDone),
    // A name that cannot be drawn is left out, never an error screen.
    ("done-no-name", Screen::Done { name_kana: "" }),
];

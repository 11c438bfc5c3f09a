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
    (
        "face-capture",
        Screen::FaceCapture {
            hint: None,
            placed: false,
        },
    ),
    (
        "face-capture-hint-mask",
        Screen::FaceCapture {
            hint: Some(FaceHint::RemoveMask),
            placed: false,
        },
    ),
    (
        "face-capture-hint-closer",
        Screen::FaceCapture {
            hint: Some(FaceHint::MoveCloser),
            placed: false,
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
    (
        "pin-entry",
        Screen::PinEntry {
            tries_left: 3,
            wrong_before: false,
        },
    ),
    (
        "pin-entry-2",
        Screen::PinEntry {
            tries_left: 2,
            wrong_before: true,
        },
    ),
    ("pin-last-try", Screen::PinLastTry),
    (
        "pin-entry-1",
        Screen::PinEntry {
            tries_left: 1,
            wrong_before: true,
        },
    ),
    (
        "pin-locked",
        Screen::PinLocked {
            face_available: true,
        },
    ),
    (
        "pin-locked-no-face",
        Screen::PinLocked {
            face_available: false,
        },
    ),
    ("visual-check", Screen::VisualCheck),
    ("registration", Screen::Registration),
    (
        "consent-overview",
        Screen::ConsentOverview { checkup: true },
    ),
    // In the host's order: 手術, then 手術以外の診療・お薬, then 特定健診等.
    (
        "consent-operation",
        Screen::ConsentItem {
            item: ConsentItem::Operation,
            step: 1,
            of: 3,
        },
    ),
    (
        "consent-diagnosis",
        Screen::ConsentItem {
            item: ConsentItem::Diagnosis,
            step: 2,
            of: 3,
        },
    ),
    (
        "consent-checkup",
        Screen::ConsentItem {
            item: ConsentItem::SpecificHealthCheckup,
            step: 3,
            of: 3,
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
    ("not-my-number-card", Screen::NotMyNumberCard),
    // A name that cannot be drawn is left out, never an error screen.
    ("done-no-name", Screen::Done { name_kana: "" }),
    // Issue 12 (protocol 4), appended so the PIN pad's shuffles above keep
    // their order.
    (
        "face-capture-placed",
        Screen::FaceCapture {
            hint: None,
            placed: true,
        },
    ),
    // No 特定健診 item (e.g. under 40): 健診 is not listed.
    (
        "consent-overview-no-checkup",
        Screen::ConsentOverview { checkup: false },
    ),
    ("registration-terms", Screen::RegistrationTerms),
];

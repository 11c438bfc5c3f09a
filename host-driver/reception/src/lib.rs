//! The reception: one patient from card placed to card taken, as a sans-IO
//! state machine (rustls style). [`Reception::step`] takes one [`Input`] and
//! the time, and returns the [`Effect`]s for the adapter to carry out, in
//! order. No I/O, no clock, no randomness and no secret: the adapter keeps
//! the PIN, 照合番号B and every image, and tells the core outcomes only.
//!
//! Rules it keeps (each has a test in `tests.rs`):
//! - expiry ([`expiry`]): a notice from 3 months before to the end of the
//!   grace after `notAfter`; refused beyond it; in the grace only the
//!   qualification is confirmed (no consent, no registration); registration
//!   is not offered within 5 days of expiry;
//! - method: face or PIN, face only for a face-only card; 目視 (switched on
//!   by staff) replaces both, for exactly one reception;
//! - face: 照合番号B only from a confident card-front read, then the photo,
//!   then at most 3 compared captures per reception with one hint at a time
//!   (a retake asked by the quality gate spends none), then PIN or staff;
//! - PIN: tries read before every attempt, `PinLastTry` before the last,
//!   wrong shown on the next entry, no VERIFY at 0 tries, never retried by
//!   itself, locked → face or staff;
//! - after identity: `Processing`, then registration when not registered,
//!   the consent screens (all or one by one), `Done` with the kana name; any
//!   qualification other than 有効, or no answer in time → `SeeStaff`;
//! - 職員を呼ぶ anywhere → `StaffComing`; a removed card ends the reception
//!   at once (nothing more is sent); 60 s without input → `Idle`; every end
//!   wipes the session; a card left after `Done` is reminded.

pub mod expiry;
mod io;
#[cfg(test)]
mod tests;

pub use expiry::{ExpiryStatus, GraceRule};
pub use io::*;

use myna_link::Button;
use time::{Duration, OffsetDateTime};

use myna_upstream::messages::Qualification;

/// Settings of the reception rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceptionConfig {
    /// How the grace after expiry is counted.
    pub grace: GraceRule,
    /// Mark 特定疾病 as provided by the flow (unconfirmed: off by default).
    pub specific_disease_by_flow: bool,
    /// A screen waiting for input returns to `Idle` after this long (the
    /// reader times out too; this covers a reader that did not say so).
    pub idle_after: Duration,
    /// A card still on the reader this long after `Done` gets the reminder.
    pub reminder_after: Duration,
    /// ... and the staff an alert after this long.
    pub card_left_alert_after: Duration,
    /// Retakes the quality gate may ask for in one reception before the
    /// face path gives up (no compared attempt is spent by them).
    pub max_retakes: u8,
    /// Card-front reads refused in a row before the face path gives up.
    pub max_card_front_refusals: u8,
    /// The face path can run (its models, PAD's included, are loaded);
    /// without it a patient is taken to the PIN pad, or to staff when the
    /// card has no PIN.
    pub face_available: bool,
    /// 目視 switched on while no card is placed is withdrawn after this long
    /// (a switch left armed must not serve whoever comes next).
    pub visual_check_expiry: Duration,
}

impl Default for ReceptionConfig {
    fn default() -> Self {
        ReceptionConfig {
            grace: GraceRule::default(),
            specific_disease_by_flow: false,
            idle_after: Duration::seconds(60),
            reminder_after: Duration::seconds(10),
            card_left_alert_after: Duration::seconds(60),
            max_retakes: 8,
            max_card_front_refusals: 2,
            face_available: true,
            visual_check_expiry: Duration::minutes(5),
        }
    }
}

/// Compared face captures allowed per reception.
pub const MAX_FACE_ATTEMPTS: u8 = 3;

/// Where the reception is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Reading,
    /// A screen that ends the reception; waits for the card to go.
    Ended,
    Expiry,
    Choose,
    CardFront,
    Photo,
    Capture,
    FaceFailed,
    PinTries,
    PinLastTry,
    PinEntry,
    PinVerifying,
    PinLocked,
    Visual,
    Verifying,
    RegistrationTerms,
    Registration,
    Registering,
    RegistrationDone,
    ConsentOverview,
    ConsentItem(usize),
    Done {
        reminded: bool,
        alerted: bool,
    },
    StaffComing,
}

/// What one reception knows (no secret).
#[derive(Debug, Clone)]
struct Session {
    card: CardFacts,
    in_grace: bool,
    face_attempts: u8,
    retakes: u8,
    front_refusals: u8,
    pin_tries: Option<u8>,
    pin_wrong: bool,
    last_try_confirmed: bool,
    answer: Option<VerifyAnswer>,
    registration_request: bool,
    topics: Vec<ConsentTopic>,
    answers: Vec<(ConsentTopic, bool, i64)>,
    relayed_by: Option<String>,
}

/// The reception core of one kiosk.
pub struct Reception {
    config: ReceptionConfig,
    phase: Phase,
    session: Option<Session>,
    card_present: bool,
    misreads: u8,
    visual: Option<VisualCheckOn>,
    /// When 目視 was switched on (its expiry counts from here while no
    /// reception holds it).
    visual_since: OffsetDateTime,
    /// 目視 belongs to the reception under way (it ends with it).
    visual_bound: bool,
    screen_id: ScreenId,
    screen: PatientScreen,
    since: OffsetDateTime,
}

impl Reception {
    /// A kiosk with no card, showing nothing yet (the first step shows
    /// `Idle`).
    pub fn new(config: ReceptionConfig, now: OffsetDateTime) -> Reception {
        Reception {
            config,
            phase: Phase::Idle,
            session: None,
            card_present: false,
            misreads: 0,
            visual: None,
            visual_since: now,
            visual_bound: false,
            screen_id: 0,
            screen: PatientScreen::Idle,
            since: now,
        }
    }

    /// The screen shown now and its number.
    pub fn screen(&self) -> (ScreenId, &PatientScreen) {
        (self.screen_id, &self.screen)
    }

    /// Whether 目視 is on (pending or for the reception under way).
    pub fn visual_check(&self) -> bool {
        self.visual.is_some()
    }

    /// How long an armed 目視 has left before it is withdrawn; `None` when
    /// it is off or already serves the reception under way.
    pub fn visual_check_left(&self, now: OffsetDateTime) -> Option<Duration> {
        if self.visual.is_none() || self.visual_bound {
            return None;
        }
        let left = self.config.visual_check_expiry - (now - self.visual_since);
        Some(left.max(Duration::ZERO))
    }

    /// The consent topics being asked, while the consent screens are up
    /// (for staff relaying a patient's spoken answers).
    pub fn consent_topics(&self) -> Option<&[ConsentTopic]> {
        match self.phase {
            Phase::ConsentOverview | Phase::ConsentItem(_) => {
                self.session.as_ref().map(|s| s.topics.as_slice())
            }
            _ => None,
        }
    }

    /// Whether a reception is under way (a card was placed and not taken).
    pub fn in_reception(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// Carries out one input at `now`.
    pub fn step(&mut self, input: Input, now: OffsetDateTime) -> Vec<Effect> {
        let mut out = Vec::new();
        self.on_input(input, now, &mut out);
        out
    }

    fn show(&mut self, screen: PatientScreen, now: OffsetDateTime, out: &mut Vec<Effect>) {
        self.screen_id = self.screen_id.wrapping_add(1);
        self.screen = screen.clone();
        self.since = now;
        out.push(Effect::Show {
            id: self.screen_id,
            screen,
            visual_check: self.visual.is_some(),
        });
    }

    fn on_input(&mut self, input: Input, now: OffsetDateTime, out: &mut Vec<Effect>) {
        match input {
            Input::CardInserted => {
                self.card_present = true;
                if self.phase == Phase::Idle {
                    self.visual_bound = self.visual.is_some();
                    self.phase = Phase::Reading;
                    self.show(PatientScreen::Reading, now, out);
                    out.push(Effect::ReadCard);
                }
                return;
            }
            Input::CardRemoved => {
                self.card_present = false;
                if self.phase != Phase::Idle {
                    self.end(now, out);
                }
                return;
            }
            Input::VisualCheckOn(on) => {
                self.visual = Some(on);
                self.visual_since = now;
                if self.phase == Phase::Idle {
                    self.show(PatientScreen::Idle, now, out);
                } else {
                    self.visual_bound = true;
                    self.on_visual_switched(now, out);
                }
                return;
            }
            Input::VisualCheckOff => {
                if self.visual.take().is_some() {
                    self.visual_bound = false;
                    if self.phase == Phase::Visual {
                        self.choose_method(now, out);
                    } else {
                        let screen = self.screen.clone();
                        self.show(screen, now, out);
                    }
                }
                return;
            }
            Input::ReaderFault => {
                if self.phase != Phase::Idle {
                    self.finish_session(false, out);
                    // The reception under way ends when its card is taken.
                    if self.card_present {
                        self.phase = Phase::Ended;
                    } else {
                        self.phase = Phase::Idle;
                    }
                }
                self.show(PatientScreen::OutOfService, now, out);
                out.push(Effect::AlertStaff(Alert::ReaderFault));
                return;
            }
            Input::ReaderRecovered => {
                if self.screen == PatientScreen::OutOfService && self.phase == Phase::Idle {
                    self.show(PatientScreen::Idle, now, out);
                }
                return;
            }
            Input::IdleTimeout => {
                if self.screen.waits_for_input() {
                    self.end(now, out);
                }
                return;
            }
            Input::Tick => {
                self.on_tick(now, out);
                return;
            }
            Input::ConsentRelayed { staff_id, answers } => {
                if matches!(self.phase, Phase::ConsentOverview | Phase::ConsentItem(_)) {
                    let at = now.unix_timestamp();
                    if let Some(s) = self.session.as_mut() {
                        s.answers = s
                            .topics
                            .iter()
                            .map(|t| {
                                let agree = answers.iter().any(|(topic, yes)| topic == t && *yes);
                                (*t, agree, at)
                            })
                            .collect();
                        s.relayed_by = Some(staff_id);
                    }
                    self.finish_consent(now, out);
                }
                return;
            }
            Input::Touch { screen, button } => {
                if screen != self.screen_id {
                    return; // a late touch on an older screen
                }
                if button == Button::CallStaff && self.offers(Button::CallStaff) {
                    self.phase = Phase::StaffComing;
                    self.show(PatientScreen::StaffComing, now, out);
                    out.push(Effect::AlertStaff(Alert::PatientCalled));
                    return;
                }
                self.on_touch(button, now, out);
                return;
            }
            _ => {}
        }
        self.on_answer(input, now, out);
    }

    /// Whether the screen shown has this button.
    fn offers(&self, button: Button) -> bool {
        matches!(
            (&self.screen, button),
            (
                PatientScreen::FaceFailed { .. }
                    | PatientScreen::PinLastTry
                    | PatientScreen::PinLocked { .. },
                Button::CallStaff
            ) | (PatientScreen::FaceCapture { .. }, Button::Cancel)
                | (
                    PatientScreen::PinEntry { .. },
                    Button::Cancel | Button::PinDigitEntered { .. }
                )
        )
    }

    fn on_touch(&mut self, button: Button, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let face_only = self
            .session
            .as_ref()
            .is_some_and(|s| s.card.kind == CardKind::FaceOnly);
        match (self.phase, button) {
            (Phase::Expiry, Button::Confirm) => self.choose_method(now, out),
            (Phase::Choose, Button::Face) => self.start_face(now, out),
            (Phase::Choose, Button::Pin) if !face_only => self.start_pin(out),
            (Phase::CardFront | Phase::Photo | Phase::Capture, Button::Cancel) => {
                if face_only {
                    self.face_failed(now, out);
                } else {
                    self.choose_method(now, out);
                }
            }
            (Phase::FaceFailed, Button::Pin) if !face_only => self.start_pin(out),
            (Phase::PinLastTry, Button::Confirm) => {
                if let Some(s) = self.session.as_mut() {
                    s.last_try_confirmed = true;
                }
                self.pin_entry(1, now, out);
            }
            (Phase::PinEntry, Button::PinDigitEntered { count: 4 }) => {
                // Only with a count just read and above 0.
                let tries = self.session.as_ref().and_then(|s| s.pin_tries);
                if tries.is_some_and(|t| t > 0) {
                    if let Some(s) = self.session.as_mut() {
                        s.pin_tries = None;
                    }
                    self.phase = Phase::PinVerifying;
                    out.push(Effect::VerifyPinAndSign);
                }
            }
            (Phase::PinEntry, Button::Cancel) if !self.config.face_available => {
                // Nothing else to choose: staff take over.
                self.see_staff(Alert::FaceUnavailable, now, out)
            }
            (Phase::PinEntry, Button::Cancel) => self.choose_method(now, out),
            (Phase::PinLocked, Button::Face) => {
                let attempts = self.session.as_ref().map_or(0, |s| s.face_attempts);
                if attempts < MAX_FACE_ATTEMPTS {
                    self.start_face(now, out);
                }
            }
            (Phase::Visual, Button::Confirm) => {
                if let Some(on) = self.visual.clone() {
                    self.verify(Identity::Visual(on), now, out);
                }
            }
            // The terms read to the end: the question.
            (Phase::RegistrationTerms, Button::Confirm) => {
                self.phase = Phase::Registration;
                self.show(PatientScreen::Registration, now, out);
            }
            (Phase::Registration, Button::Yes) => {
                self.phase = Phase::Registering;
                self.show(PatientScreen::Processing, now, out);
                out.push(Effect::SendRegistration);
            }
            (Phase::Registration, Button::No) => self.see_staff(Alert::NotRegistered, now, out),
            (Phase::RegistrationDone, Button::Confirm) => self.consent_overview(now, out),
            (Phase::ConsentOverview, Button::Yes) => {
                let at = now.unix_timestamp();
                if let Some(s) = self.session.as_mut() {
                    s.answers = s.topics.iter().map(|t| (*t, true, at)).collect();
                }
                self.finish_consent(now, out);
            }
            (Phase::ConsentOverview, Button::OneByOne) => self.consent_item(0, now, out),
            (Phase::ConsentItem(i), Button::Yes | Button::No) => {
                let agree = button == Button::Yes;
                let at = now.unix_timestamp();
                let more = self.session.as_mut().is_some_and(|s| {
                    if let Some(topic) = s.topics.get(i) {
                        s.answers.push((*topic, agree, at));
                    }
                    i + 1 < s.topics.len()
                });
                if more {
                    self.consent_item(i + 1, now, out);
                } else {
                    self.finish_consent(now, out);
                }
            }
            _ => {}
        }
    }

    fn on_answer(&mut self, input: Input, now: OffsetDateTime, out: &mut Vec<Effect>) {
        match (self.phase, input) {
            (Phase::Reading, Input::CardRead(card)) => {
                self.misreads = 0;
                let today = now.date();
                let status = expiry::status(card.not_after, today, self.config.grace);
                self.session = Some(Session {
                    card,
                    in_grace: status == ExpiryStatus::InGrace,
                    face_attempts: 0,
                    retakes: 0,
                    front_refusals: 0,
                    pin_tries: None,
                    pin_wrong: false,
                    last_try_confirmed: false,
                    answer: None,
                    registration_request: false,
                    topics: Vec::new(),
                    answers: Vec::new(),
                    relayed_by: None,
                });
                match status {
                    ExpiryStatus::Refused => {
                        self.finish_session(false, out);
                        self.phase = Phase::Ended;
                        self.show(PatientScreen::ExpiredRefused, now, out);
                        out.push(Effect::AlertStaff(Alert::CertificateExpired));
                    }
                    ExpiryStatus::ExpiresSoon | ExpiryStatus::InGrace => {
                        self.phase = Phase::Expiry;
                        self.show(
                            PatientScreen::ExpiryNotice {
                                not_after: card.not_after,
                                in_grace: status == ExpiryStatus::InGrace,
                            },
                            now,
                            out,
                        );
                    }
                    ExpiryStatus::Valid => self.choose_method(now, out),
                }
            }
            (Phase::Reading, Input::NotMyNumberCard) => {
                // Read fine, just the wrong card: not counted as a misread.
                self.misreads = 0;
                self.finish_session(false, out);
                self.phase = Phase::Ended;
                self.show(PatientScreen::NotMyNumberCard, now, out);
            }
            (Phase::Reading, Input::CardUnreadable) => {
                self.misreads = self.misreads.saturating_add(1);
                self.finish_session(false, out);
                self.phase = Phase::Ended;
                self.show(
                    PatientScreen::ReadError {
                        misreads: self.misreads,
                    },
                    now,
                    out,
                );
                if self.misreads >= 3 {
                    out.push(Effect::AlertStaff(Alert::CardUnreadable));
                }
            }
            (Phase::CardFront, Input::CardFrontRead) => {
                self.phase = Phase::Photo;
                out.push(Effect::ReadCardPhoto);
            }
            (Phase::CardFront, Input::CardFrontRefused(_)) => {
                let refusals = self.session.as_mut().map_or(u8::MAX, |s| {
                    s.front_refusals = s.front_refusals.saturating_add(1);
                    s.front_refusals
                });
                if refusals < self.config.max_card_front_refusals {
                    out.push(Effect::ReadCardFront);
                } else {
                    self.face_failed(now, out);
                }
            }
            (Phase::Photo, Input::Photo(PhotoOutcome::Read)) => self.capture(out),
            // A refused 照合番号B is never tried again by itself.
            (Phase::Photo, Input::Photo(_)) => self.face_failed(now, out),
            (Phase::Capture, Input::Face(verdict)) => self.on_face(verdict, now, out),
            (Phase::PinTries, Input::PinTries(tries)) => {
                if let Some(s) = self.session.as_mut() {
                    s.pin_tries = Some(tries);
                }
                let confirmed = self.session.as_ref().is_some_and(|s| s.last_try_confirmed);
                match tries {
                    0 => self.pin_locked(now, out),
                    1 if !confirmed => {
                        self.phase = Phase::PinLastTry;
                        self.show(PatientScreen::PinLastTry, now, out);
                    }
                    n => self.pin_entry(n.min(3), now, out),
                }
            }
            (Phase::PinVerifying, Input::Pin(outcome)) => match outcome {
                PinOutcome::Signed => self.verify(Identity::Pin, now, out),
                PinOutcome::Wrong { .. } => {
                    if let Some(s) = self.session.as_mut() {
                        s.pin_wrong = true;
                    }
                    // Read the tries again before the next attempt.
                    self.start_pin(out);
                }
                PinOutcome::Locked => {
                    // The card said so: no PIN is offered again (after a
                    // face attempt either).
                    if let Some(s) = self.session.as_mut() {
                        s.pin_tries = Some(0);
                    }
                    self.pin_locked(now, out)
                }
            },
            (Phase::Verifying, Input::Verified(answer)) => self.on_verified(answer, now, out),
            // A fault counts only in the step it belongs to; a late one (a
            // face job that failed after the patient moved on) is ignored.
            (
                Phase::CardFront | Phase::Photo | Phase::Capture,
                Input::Fault(fault @ Fault::FaceEngine),
            )
            | (Phase::PinTries | Phase::PinVerifying, Input::Fault(fault @ Fault::Card))
            | (Phase::Capture | Phase::PinVerifying, Input::Fault(fault @ Fault::Reader))
                if self.session.is_some() =>
            {
                self.on_fault(self.phase, fault, now, out)
            }
            // No challenge for the PIN signature: no VERIFY was sent.
            (
                Phase::Verifying | Phase::Registering | Phase::PinVerifying,
                Input::UpstreamFailed(failure),
            ) => self.see_staff(Alert::Upstream(failure), now, out),
            (Phase::Registering, Input::Registered) => {
                if let Some(s) = self.session.as_mut() {
                    s.registration_request = true;
                }
                self.phase = Phase::RegistrationDone;
                self.show(PatientScreen::RegistrationDone, now, out);
            }
            // Anything else is late (its step was left) or out of place.
            _ => {}
        }
    }

    fn on_face(&mut self, verdict: FaceVerdict, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        match verdict {
            FaceVerdict::Match { band, pad } => {
                let attempts = s.face_attempts.saturating_add(1);
                s.face_attempts = attempts;
                self.verify(
                    Identity::Face {
                        attempts,
                        band,
                        pad,
                    },
                    now,
                    out,
                );
            }
            FaceVerdict::NoMatch => {
                s.face_attempts = s.face_attempts.saturating_add(1);
                if s.face_attempts >= MAX_FACE_ATTEMPTS {
                    self.face_failed(now, out);
                } else {
                    // The gate passed (it was compared): the face is
                    // placed, only not matched yet.
                    self.show(
                        PatientScreen::FaceCapture {
                            hint: None,
                            placed: true,
                        },
                        now,
                        out,
                    );
                    self.capture(out);
                }
            }
            FaceVerdict::Attack => {
                // No retake: a second try would only teach the attacker.
                // The patient sees the same neutral screen as any face
                // failure (PIN or staff); staff are told why.
                s.face_attempts = MAX_FACE_ATTEMPTS;
                out.push(Effect::AlertStaff(Alert::FaceRefused));
                self.face_failed(now, out);
            }
            FaceVerdict::Retake(hint) => {
                s.retakes = s.retakes.saturating_add(1);
                if s.retakes > self.config.max_retakes {
                    self.face_failed(now, out);
                } else {
                    self.show(
                        PatientScreen::FaceCapture {
                            hint: Some(hint),
                            placed: false,
                        },
                        now,
                        out,
                    );
                    self.capture(out);
                }
            }
        }
    }

    fn on_verified(&mut self, answer: VerifyAnswer, now: OffsetDateTime, out: &mut Vec<Effect>) {
        if answer.qualification != Qualification::Valid {
            // The reason goes to the staff side only.
            self.see_staff(Alert::Qualification(answer.qualification), now, out);
            return;
        }
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let registered = answer.registered;
        let in_grace = s.in_grace;
        let allowed = expiry::registration_allowed(s.card.not_after, now.date());
        s.topics = vec![
            ConsentTopic::Operation,
            ConsentTopic::DiagnosisAndMedication,
        ];
        if answer.specific_health_checkup {
            s.topics.push(ConsentTopic::SpecificHealthCheckup);
        }
        s.answer = Some(answer);
        if in_grace {
            // Only the qualification is confirmed: no consent, no registration.
            self.done(now, out);
        } else if !registered {
            if allowed {
                // The terms of use in full first, then the question.
                self.phase = Phase::RegistrationTerms;
                self.show(PatientScreen::RegistrationTerms, now, out);
            } else {
                self.see_staff(Alert::NotRegistered, now, out);
            }
        } else {
            self.consent_overview(now, out);
        }
    }

    fn on_visual_switched(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        match self.phase {
            // Before identity is confirmed: 目視 replaces the method.
            Phase::Choose
            | Phase::CardFront
            | Phase::Photo
            | Phase::Capture
            | Phase::FaceFailed
            | Phase::PinLastTry
            | Phase::PinEntry
            | Phase::PinTries
            | Phase::PinLocked
            | Phase::StaffComing => {
                self.phase = Phase::Visual;
                self.show(PatientScreen::VisualCheck, now, out);
            }
            // Elsewhere the banner goes up and the method step takes it.
            _ => {
                let screen = self.screen.clone();
                self.show(screen, now, out);
            }
        }
    }

    fn on_tick(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        if self.visual_check_left(now) == Some(Duration::ZERO) {
            if let Some(on) = self.visual.take() {
                out.push(Effect::Audit(AuditEvent::VisualCheckExpired {
                    staff_id: on.staff_id,
                    reason: on.reason,
                }));
                // Redrawn without the 目視 mark; `since` is the screen's own.
                let (screen, since) = (self.screen.clone(), self.since);
                self.show(screen, now, out);
                self.since = since;
            }
        }
        let waited = now - self.since;
        if let Phase::Done { reminded, alerted } = self.phase {
            if self.card_present && !reminded && waited >= self.config.reminder_after {
                self.phase = Phase::Done {
                    reminded: true,
                    alerted,
                };
                out.push(Effect::Signal(Signal::TakeCard));
            }
            if self.card_present && !alerted && waited >= self.config.card_left_alert_after {
                self.phase = Phase::Done {
                    reminded: true,
                    alerted: true,
                };
                out.push(Effect::AlertStaff(Alert::CardLeft));
            }
        } else if self.screen.waits_for_input() && waited >= self.config.idle_after {
            self.end(now, out);
        }
    }

    fn choose_method(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        if self.visual.is_some() {
            self.visual_bound = true;
            self.phase = Phase::Visual;
            self.show(PatientScreen::VisualCheck, now, out);
            return;
        }
        let face_only = self
            .session
            .as_ref()
            .is_some_and(|s| s.card.kind == CardKind::FaceOnly);
        if !self.config.face_available {
            if face_only {
                self.see_staff(Alert::FaceUnavailable, now, out);
            } else {
                self.start_pin(out);
            }
            return;
        }
        self.phase = Phase::Choose;
        self.show(PatientScreen::ChooseMethod { face_only }, now, out);
    }

    fn start_face(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let attempts = self.session.as_ref().map_or(0, |s| s.face_attempts);
        if attempts >= MAX_FACE_ATTEMPTS {
            self.face_failed(now, out);
            return;
        }
        if let Some(s) = self.session.as_mut() {
            s.front_refusals = 0;
        }
        self.phase = Phase::CardFront;
        self.show(
            PatientScreen::FaceCapture {
                hint: None,
                placed: false,
            },
            now,
            out,
        );
        out.push(Effect::ReadCardFront);
    }

    fn capture(&mut self, out: &mut Vec<Effect>) {
        let attempts_used = self.session.as_ref().map_or(0, |s| s.face_attempts);
        self.phase = Phase::Capture;
        out.push(Effect::CaptureFace { attempts_used });
    }

    fn face_failed(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let pin_available = self
            .session
            .as_ref()
            .is_some_and(|s| s.card.kind == CardKind::Standard && s.pin_tries != Some(0));
        self.phase = Phase::FaceFailed;
        self.show(PatientScreen::FaceFailed { pin_available }, now, out);
        if !pin_available {
            out.push(Effect::AlertStaff(Alert::IdentityFailed));
        }
    }

    /// A failure that is not the patient's: no try, attempt or hint is
    /// charged to them. A camera that gave no frame is asked again, quietly,
    /// within the retake budget; a face engine that failed hands over to the
    /// PIN (when the card has a usable one); anything else goes to staff,
    /// who are told it was the equipment.
    fn on_fault(&mut self, phase: Phase, fault: Fault, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let pin_usable = self
            .session
            .as_ref()
            .is_some_and(|s| s.card.kind == CardKind::Standard && s.pin_tries != Some(0));
        if phase == Phase::Capture && fault == Fault::Reader {
            let retakes = self.session.as_mut().map_or(u8::MAX, |s| {
                s.retakes = s.retakes.saturating_add(1);
                s.retakes
            });
            if retakes <= self.config.max_retakes {
                self.capture(out);
                return;
            }
        }
        out.push(Effect::AlertStaff(Alert::Fault(fault)));
        if fault == Fault::FaceEngine && pin_usable {
            self.start_pin(out);
        } else {
            self.see_staff_quietly(now, out);
        }
    }

    /// To staff without a second alert (the caller raised its own).
    fn see_staff_quietly(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        self.finish_session(false, out);
        self.phase = Phase::Ended;
        self.show(PatientScreen::SeeStaff, now, out);
    }

    fn start_pin(&mut self, out: &mut Vec<Effect>) {
        self.phase = Phase::PinTries;
        out.push(Effect::ReadPinTries);
    }

    fn pin_entry(&mut self, tries_left: u8, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let wrong_before = self.session.as_ref().is_some_and(|s| s.pin_wrong);
        self.phase = Phase::PinEntry;
        self.show(
            PatientScreen::PinEntry {
                tries_left,
                wrong_before,
            },
            now,
            out,
        );
    }

    fn pin_locked(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let face_available = self
            .session
            .as_ref()
            .is_some_and(|s| s.face_attempts < MAX_FACE_ATTEMPTS)
            && self.config.face_available;
        self.phase = Phase::PinLocked;
        self.show(PatientScreen::PinLocked { face_available }, now, out);
        out.push(Effect::AlertStaff(Alert::PinLocked));
    }

    fn verify(&mut self, identity: Identity, now: OffsetDateTime, out: &mut Vec<Effect>) {
        self.phase = Phase::Verifying;
        self.show(PatientScreen::Processing, now, out);
        out.push(Effect::SendVerify(identity));
    }

    fn consent_overview(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        // 健診 is listed only when its item is asked (the upstream said the
        // 特定健診 item applies).
        let checkup = self
            .session
            .as_ref()
            .is_some_and(|s| s.topics.contains(&ConsentTopic::SpecificHealthCheckup));
        self.phase = Phase::ConsentOverview;
        self.show(PatientScreen::ConsentOverview { checkup }, now, out);
    }

    fn consent_item(&mut self, index: usize, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let Some((topic, of)) = self
            .session
            .as_ref()
            .and_then(|s| s.topics.get(index).map(|t| (*t, s.topics.len())))
        else {
            return;
        };
        self.phase = Phase::ConsentItem(index);
        self.show(
            PatientScreen::ConsentItem {
                topic,
                step: (index + 1) as u8,
                of: of as u8,
            },
            now,
            out,
        );
    }

    fn finish_consent(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        if let Some(s) = self.session.as_ref() {
            let at = now.unix_timestamp();
            let mut d = ConsentDecisions::default();
            for &(topic, agree, decided_at) in &s.answers {
                let decision = Some(Decision {
                    agree,
                    decided_at,
                    source: FlagSource::Patient,
                });
                match topic {
                    ConsentTopic::Operation => d.OperationInfoConsFlg = decision,
                    ConsentTopic::DiagnosisAndMedication => {
                        d.DiagnosisInfoConsFlg = decision;
                        d.PharmacistsInfoConsFlg = decision;
                    }
                    ConsentTopic::SpecificHealthCheckup => {
                        d.SpecificHealthCheckupsInfoConsFlg = decision
                    }
                }
            }
            let by_flow = Some(Decision {
                agree: true,
                decided_at: at,
                source: FlagSource::Flow,
            });
            d.LimitApplicationCertificateRelatedConsFlg = by_flow;
            if self.config.specific_disease_by_flow {
                d.SpecificDiseasesCertificateRelatedConsFlg = by_flow;
            }
            out.push(Effect::SendConsent {
                decisions: d,
                registration_request: s.registration_request,
                relayed_by: s.relayed_by.clone(),
            });
        }
        self.done(now, out);
    }

    fn done(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        let name_kana = self
            .session
            .as_ref()
            .and_then(|s| s.answer.as_ref())
            .and_then(|a| a.name_kana.clone());
        self.finish_session(true, out);
        self.phase = Phase::Done {
            reminded: false,
            alerted: false,
        };
        self.show(PatientScreen::Done { name_kana }, now, out);
    }

    fn see_staff(&mut self, alert: Alert, now: OffsetDateTime, out: &mut Vec<Effect>) {
        self.see_staff_quietly(now, out);
        out.push(Effect::AlertStaff(alert));
    }

    /// The reception's outcome is known: audit a 目視 that served it, turn
    /// the mode off, and wipe what the session held. The screen stays until
    /// the card is taken.
    fn finish_session(&mut self, completed: bool, out: &mut Vec<Effect>) {
        if self.visual_bound {
            self.visual_bound = false;
            if let Some(on) = self.visual.take() {
                out.push(Effect::Audit(AuditEvent::VisualCheckUsed {
                    staff_id: on.staff_id,
                    reason: on.reason,
                    completed,
                }));
            }
        }
        if self.session.take().is_some() {
            out.push(Effect::Wipe);
        }
    }

    /// Back to `Idle`: the card was taken, or nobody touched the screen.
    fn end(&mut self, now: OffsetDateTime, out: &mut Vec<Effect>) {
        self.finish_session(false, out);
        // A reception that ended before its session began (misread) still
        // wipes, so every end is the same for the adapter.
        if !matches!(out.last(), Some(Effect::Wipe)) {
            out.push(Effect::Wipe);
        }
        self.phase = Phase::Idle;
        self.show(PatientScreen::Idle, now, out);
    }
}

//! The kiosk's adapter around the reception core: it carries out the core's
//! effects through [`Ports`] (the reader link, the card, the face pipeline,
//! the upstream, the staff side) and steps each answer back into the core,
//! in order. The secrets stay in the ports: the PIN goes from the reader to
//! the card inside [`Ports::verify_pin_and_sign`], 照合番号B from the card
//! front to the card inside [`Ports::read_card_photo`].
//!
//! [`ScreenMap`] ties the core's screen numbers to the link's sequence
//! numbers, so a touch is given to the core only for the screen it was made
//! on, and a restarted reader's redraw keeps the mapping.
//!
//! Also the kiosk's other duties, each in its module: its settings
//! ([`config`]), the control socket ([`control`]), the staff accounts, 目視
//! and the audit trail ([`staff`]), the staff console ([`console`]), signed
//! firmware images ([`fw`]) and the installation check ([`diagnose`]).

pub mod assemble;
pub mod config;
pub mod console;
pub mod control;
pub mod diagnose;
pub mod fw;
pub mod ports;
pub mod service;
pub mod staff;
mod worker;

pub use assemble::{assemble, FacePath, FaceWork, Parts};
pub use control::{Answer, KioskStatus};
pub use ports::{KioskPorts, Observer};
pub use service::{Kiosk, KioskEvent};
pub use worker::{Deferred, Deliver};

use myna_link::Button;
use time::OffsetDateTime;

use myna_reception::{
    Alert, AuditEvent, ConsentDecisions, Effect, Identity, Input, PatientScreen, Reception,
    ScreenId, Signal,
};

/// What the kiosk can do; each request that has an answer returns it as
/// the core's input.
pub trait Ports {
    /// Draws a screen; returns the link's sequence number for it (`None`
    /// when the reader could not be reached: the core hears `ReaderFault`).
    fn show(&mut self, screen: &PatientScreen, visual_check: bool) -> Option<u16>;
    /// A sound.
    fn signal(&mut self, signal: Signal);
    /// Reads the certificate and kind: `CardRead` or `CardUnreadable`.
    fn read_card(&mut self) -> Input;
    /// Images the card front and reads 照合番号B, kept by the port:
    /// `CardFrontRead` or `CardFrontRefused`.
    fn read_card_front(&mut self) -> Input;
    /// Reads the card photo with the 照合番号B the port holds: `Photo`
    /// now, or `None` when the answer comes later (the photo is encoded off
    /// the event loop and handed back through [`Kiosk`]'s events).
    fn read_card_photo(&mut self) -> Option<Input>;
    /// Captures and compares one face: `Face` now, or `None` when the
    /// comparison runs off the event loop and answers later.
    fn capture_face(&mut self, attempts_used: u8) -> Option<Input>;
    /// The card's PIN tries now: `PinTries`.
    fn read_pin_tries(&mut self) -> Input;
    /// Takes the PIN from the reader, VERIFY once, signs: `Pin`.
    fn verify_pin_and_sign(&mut self) -> Input;
    /// Sends the verify request: `Verified` or `UpstreamFailed`.
    fn send_verify(&mut self, identity: &Identity) -> Input;
    /// Sends the registration: `Registered` or `UpstreamFailed`.
    fn send_registration(&mut self) -> Input;
    /// Queues the consent record for delivery (`relayed_by`: the staff
    /// member who entered answers given aloud).
    fn send_consent(
        &mut self,
        decisions: &ConsentDecisions,
        registration_request: bool,
        relayed_by: Option<&str>,
    );
    /// Records for the audit trail.
    fn audit(&mut self, event: &AuditEvent);
    /// Tells the staff side.
    fn alert(&mut self, alert: Alert);
    /// Forgets every secret and image of the reception.
    fn wipe(&mut self);
}

/// The core's screen numbers against the link's sequence numbers.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScreenMap {
    current: Option<(ScreenId, u16)>,
}

impl ScreenMap {
    /// The core's screen `id` is on the reader as link frame `seq`.
    pub fn shown(&mut self, id: ScreenId, seq: u16) {
        self.current = Some((id, seq));
    }

    /// The reader drew the current screen again as `seq` (after a restart).
    pub fn redrawn(&mut self, seq: u16) {
        if let Some((id, _)) = self.current {
            self.current = Some((id, seq));
        }
    }

    /// A touch on link screen `seq`, as the core's input; `None` for a
    /// screen no longer shown.
    pub fn touch(&self, seq: u16, button: Button) -> Option<Input> {
        match self.current {
            Some((id, shown)) if shown == seq => Some(Input::Touch { screen: id, button }),
            _ => None,
        }
    }
}

/// Steps `input` into the core and carries out every effect that follows,
/// feeding answers back, until the core waits for the patient or the
/// world. Returns the effects carried out, in order (for logs and tests).
pub fn carry_out(
    core: &mut Reception,
    ports: &mut impl Ports,
    screens: &mut ScreenMap,
    input: Input,
    now: OffsetDateTime,
) -> Vec<Effect> {
    let mut done = Vec::new();
    let mut inputs = std::collections::VecDeque::from([input]);
    while let Some(input) = inputs.pop_front() {
        for effect in core.step(input, now) {
            let answer = match &effect {
                Effect::Show {
                    id,
                    screen,
                    visual_check,
                } => match ports.show(screen, *visual_check) {
                    Some(seq) => {
                        screens.shown(*id, seq);
                        None
                    }
                    None => Some(Input::ReaderFault),
                },
                Effect::Signal(signal) => {
                    ports.signal(*signal);
                    None
                }
                Effect::ReadCard => Some(ports.read_card()),
                Effect::ReadCardFront => Some(ports.read_card_front()),
                Effect::ReadCardPhoto => ports.read_card_photo(),
                Effect::CaptureFace { attempts_used } => ports.capture_face(*attempts_used),
                Effect::ReadPinTries => Some(ports.read_pin_tries()),
                Effect::VerifyPinAndSign => Some(ports.verify_pin_and_sign()),
                Effect::SendVerify(identity) => Some(ports.send_verify(identity)),
                Effect::SendRegistration => Some(ports.send_registration()),
                Effect::SendConsent {
                    decisions,
                    registration_request,
                    relayed_by,
                } => {
                    ports.send_consent(decisions, *registration_request, relayed_by.as_deref());
                    None
                }
                Effect::Audit(event) => {
                    ports.audit(event);
                    None
                }
                Effect::AlertStaff(alert) => {
                    ports.alert(*alert);
                    None
                }
                Effect::Wipe => {
                    ports.wipe();
                    None
                }
            };
            tracing::debug!(event = "reception-effect", kind = effect_kind(&effect));
            done.push(effect);
            if let Some(answer) = answer {
                inputs.push_back(answer);
            }
        }
    }
    done
}

/// An event code for an effect (no parameters: they may be personal).
pub fn effect_kind(effect: &Effect) -> &'static str {
    match effect {
        Effect::Show { .. } => "show",
        Effect::Signal(_) => "signal",
        Effect::ReadCard => "read-card",
        Effect::ReadCardFront => "read-card-front",
        Effect::ReadCardPhoto => "read-card-photo",
        Effect::CaptureFace { .. } => "capture-face",
        Effect::ReadPinTries => "read-pin-tries",
        Effect::VerifyPinAndSign => "verify-pin",
        Effect::SendVerify(_) => "send-verify",
        Effect::SendRegistration => "send-registration",
        Effect::SendConsent { .. } => "send-consent",
        Effect::Audit(_) => "audit",
        Effect::AlertStaff(_) => "alert-staff",
        Effect::Wipe => "wipe",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_reach_the_core_only_for_the_screen_on_the_reader() {
        let mut map = ScreenMap::default();
        assert_eq!(map.touch(1, Button::Face), None);
        map.shown(7, 3);
        assert_eq!(
            map.touch(3, Button::Face),
            Some(Input::Touch {
                screen: 7,
                button: Button::Face
            })
        );
        assert_eq!(map.touch(2, Button::Face), None, "an older screen");
        // After a reader restart the same screen is drawn as another frame.
        map.redrawn(1);
        assert_eq!(map.touch(3, Button::Face), None);
        assert_eq!(
            map.touch(1, Button::Pin),
            Some(Input::Touch {
                screen: 7,
                button: Button::Pin
            })
        );
    }
}

//! The kiosk's real ports: the reader link, the card layer, the card-front
//! reader, the face pipeline and the upstream courier behind [`Ports`].
//!
//! Owns every secret of a reception — the auth certificate, 照合番号B, the
//! card face's embedding, the card's PIN-mode signature — in zeroizing
//! fields without `Debug`, wiped by [`Ports::wipe`] (and on drop). The PIN
//! goes from the reader straight to the card inside
//! [`Ports::verify_pin_and_sign`] and is dropped there. Nothing here writes a
//! file except the outbox rows of signed messages (which hold none of it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use myna_link::Camera;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::worker::{self, Deferred, Deliver, Job, Worker};
use super::Ports;
use crate::staff::{StaffDb, StaffEvent};
use myna_card::secret::CollationNumberB;
use myna_card::{ApduTransport, CardError, MynaCard, PinStatus};
use myna_card_front::{CardFrontReader, PatientHint};
use myna_face::image::RgbFrame;
use myna_face::{EncodedFace, FaceEngine};
use myna_link_host::{CapturedFrame, FrameTransport, ReaderLink};
use myna_reception::{
    Alert, AuditEvent, CardFacts, CardFrontRefusal, CardKind, ConsentDecisions, Fault, Identity,
    Input, PatientScreen, PhotoOutcome, PinOutcome, Signal, UpstreamFailure, VerifyAnswer,
};
use myna_upstream::clock::{Clock, SystemClock, SystemRng};
use myna_upstream::courier::{Courier, DeliveryError, Upstream};
use myna_upstream::messages::{AuditHead, AuthMethod, MessageKind, VerifyResponse};
use myna_upstream::request::PinProof;
use myna_upstream::sender::{SendError, Sender};

/// What the kiosk reports as it works: for the demo's transcript, the
/// staff side and tests. Nothing personal is passed: screens by name,
/// messages as the signed JWS that left (which holds none), stage times.
pub trait Observer: Send {
    /// A screen was drawn on the reader as link frame `seq`.
    fn screen(&mut self, _screen: &PatientScreen, _seq: u16) {}
    /// One stage of the reception took `elapsed` (`stage` is an event code).
    fn stage(&mut self, _stage: &'static str, _outcome: &str, _elapsed: Duration) {}
    /// A signed message was stored for the upstream (`jws` as sent).
    fn message(&mut self, _kind: MessageKind, _jws: &str) {}
    /// The upstream answered the verify request.
    fn verified(&mut self, _answer: &VerifyResponse) {}
    /// A staff alert.
    fn alert(&mut self, _alert: Alert) {}
}

/// An observer that only logs event codes.
pub struct LogObserver;

impl Observer for LogObserver {
    fn stage(&mut self, stage: &'static str, outcome: &str, elapsed: Duration) {
        tracing::info!(
            event = "kiosk.stage",
            stage,
            outcome,
            ms = elapsed.as_millis() as u64
        );
    }
}

/// What one reception holds; wiped as a whole.
#[derive(Default)]
struct Held {
    cert: Option<Zeroizing<Vec<u8>>>,
    collation_b: Option<CollationNumberB>,
    card_face: Option<Arc<EncodedFace>>,
    pin_proof: Option<PinProof>,
    verify_request_id: Option<Uuid>,
}

/// The reader: the link, whether its last request failed, and whether
/// each screen waits for the reader's confirmation.
struct ReaderPort<T> {
    link: ReaderLink<T>,
    down: bool,
    confirm_screens: bool,
}

/// The face path: the card-front reader and the models (both or the path
/// refuses), and where their work runs.
#[derive(Default)]
struct FacePort {
    card_front: Option<Arc<CardFrontReader>>,
    engine: Option<Arc<FaceEngine>>,
    worker: Option<Worker>,
    /// The last face job handed out; answers to older ones are dropped.
    job: u64,
}

/// The real ports of a kiosk, one per outside thing — the reader (link
/// transport `T`), the card (card transport `C`), the face path, the
/// upstream (`U`, on clock `K`) — with what one reception holds, the staff
/// side and the observer.
pub struct KioskPorts<C, T, U, K = SystemClock> {
    reader: ReaderPort<T>,
    card: Option<MynaCard<C>>,
    face: FacePort,
    upstream: Sender<U, K>,
    observer: Box<dyn Observer>,
    held: Held,
    alerts: Vec<Alert>,
    staff: Option<StaffDb>,
}

impl<C: ApduTransport, T: FrameTransport, U: Upstream, K: Clock> KioskPorts<C, T, U, K> {
    /// The audit trail's head as the next message will carry it (`None`
    /// without staff accounts, or before the first entry).
    fn refresh_audit_head(&mut self) -> Option<AuditHead> {
        let head = self
            .staff
            .as_ref()
            .and_then(|db| db.head().ok().flatten())
            .map(|h| AuditHead {
                seq: h.seq,
                hash: h.hash,
            });
        self.upstream.set_audit_head(head.clone());
        head
    }

    /// Sends the audit trail's head to the upstream (stored, delivered in
    /// the background) when it differs from `last_sent`; the head it is now.
    pub fn anchor_audit(&mut self, last_sent: Option<&AuditHead>) -> Option<AuditHead> {
        let head = self.refresh_audit_head()?;
        if last_sent != Some(&head) {
            match self.upstream.anchor() {
                Ok(_) => tracing::info!(event = "kiosk.audit-anchored", seq = head.seq),
                Err(e) => {
                    tracing::warn!(event = "kiosk.audit-anchor-failed", error = %e);
                    return last_sent.cloned();
                }
            }
        }
        Some(head)
    }

    /// Ports over an open link and the upstream's sender; `confirm_screens`
    /// waits for the reader to confirm each screen drawn (one round trip;
    /// the demo takes a screenshot of each). Without a card-front reader or
    /// a face engine the face path refuses (the patient is offered PIN or
    /// staff).
    pub fn new(link: ReaderLink<T>, upstream: Sender<U, K>, confirm_screens: bool) -> Self {
        KioskPorts {
            reader: ReaderPort {
                link,
                down: false,
                confirm_screens,
            },
            card: None,
            face: FacePort::default(),
            upstream,
            observer: Box::new(LogObserver),
            held: Held::default(),
            alerts: Vec::new(),
            staff: None,
        }
    }

    /// With the staff accounts and the audit trail (the kiosk's database).
    pub fn with_staff(mut self, staff: StaffDb) -> Self {
        self.staff = Some(staff);
        self
    }

    /// The staff accounts and audit trail, when configured.
    pub fn staff(&mut self) -> Option<&mut StaffDb> {
        self.staff.as_mut()
    }

    /// Runs the face work (card photo, comparisons) on a worker thread whose
    /// answers go to `deliver` (the kiosk's event queue), so the event loop
    /// keeps serving while a face is compared. Without it the work is done
    /// in place.
    pub fn with_face_worker(mut self, deliver: Deliver) -> std::io::Result<Self> {
        self.face.worker = Some(Worker::start(deliver)?);
        Ok(self)
    }

    /// A finished face job back on the event loop: its input for the core,
    /// or `None` when the job is not the latest (its capture or reception
    /// has moved on).
    pub fn finish(&mut self, done: Deferred) -> Option<Input> {
        self.observer.stage(done.stage, &done.outcome, done.elapsed);
        if done.job != self.face.job {
            tracing::debug!(event = "kiosk.face-answer-late", stage = done.stage);
            return None;
        }
        if let Some(face) = done.card_face {
            self.held.card_face = Some(Arc::new(face));
        }
        Some(done.input)
    }

    /// Hands `work` to the worker (`None`: the answer comes later), or does
    /// it now.
    fn dispatch(&mut self, work: Job) -> Option<Input> {
        self.face.job += 1;
        let job = self.face.job;
        let work = match &self.face.worker {
            Some(worker) => match worker.submit(job, work) {
                Ok(()) => return None,
                Err(work) => {
                    tracing::error!(event = "kiosk.face-worker-gone");
                    work
                }
            },
            None => work,
        };
        let done = worker::run(job, work);
        self.finish(done)
    }

    /// With the card-front reader (for 照合番号B).
    pub fn with_card_front(mut self, reader: Arc<CardFrontReader>) -> Self {
        self.face.card_front = Some(reader);
        self
    }

    /// With the face pipeline.
    pub fn with_face(mut self, engine: Arc<FaceEngine>) -> Self {
        self.face.engine = Some(engine);
        self
    }

    /// With an observer.
    pub fn with_observer(mut self, observer: Box<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// The reader link (for the event loop).
    pub fn link(&mut self) -> &mut ReaderLink<T> {
        &mut self.reader.link
    }

    /// The courier (outbox status).
    pub fn courier(&self) -> &Courier<U, K, SystemRng> {
        self.upstream.courier()
    }

    /// A card was placed: its connection.
    pub fn card_inserted(&mut self, transport: C) {
        self.card = Some(MynaCard::new(transport));
    }

    /// The card left: its connection is dropped (the PC/SC adapter resets
    /// the card, so no verified state outlives the reception).
    pub fn card_removed(&mut self) {
        self.card = None;
    }

    /// Whether a card is connected.
    pub fn card_present(&self) -> bool {
        self.card.is_some()
    }

    /// Alerts raised since the last call.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }

    /// Whether the last reader request failed (the loop retries it).
    pub fn link_down(&self) -> bool {
        self.reader.down
    }

    /// The loop lost the reader.
    pub fn mark_link_down(&mut self) {
        self.reader.down = true;
    }

    /// The reader as its last `Welcome` said.
    pub fn link_info(&self) -> myna_link_host::ReaderInfo {
        self.reader.link.info()
    }

    /// The loop reached the reader again.
    pub fn link_up(&mut self) {
        self.reader.down = false;
    }

    fn timed<R>(&mut self, stage: &'static str, f: impl FnOnce(&mut Self) -> (R, String)) -> R {
        let start = Instant::now();
        let (result, outcome) = f(self);
        self.observer.stage(stage, &outcome, start.elapsed());
        result
    }

    fn capture(&mut self, camera: Camera) -> Option<RgbFrame> {
        match self.reader.link.capture(camera) {
            Ok(frame) => to_rgb(frame),
            Err(e) => {
                tracing::warn!(event = "kiosk.capture-failed", error = %e);
                None
            }
        }
    }

    /// Builds and sends the verify request for `identity`, with the
    /// deadline.
    fn verify(&mut self, identity: &Identity) -> Result<VerifyResponse, UpstreamFailure> {
        self.refresh_audit_head();
        let cert = self.held.cert.clone().ok_or(UpstreamFailure::Refused)?;
        let request = match identity {
            Identity::Pin => {
                let proof = self.held.pin_proof.take().ok_or(UpstreamFailure::Refused)?;
                Ok(self.upstream.pin_request(proof, &cert))
            }
            Identity::Face {
                attempts,
                band,
                pad,
            } => self.upstream.request(
                &cert,
                AuthMethod::Face {
                    attempts: *attempts,
                    score_band: *band,
                    pad: *pad,
                },
            ),
            Identity::Visual(on) => self.upstream.request(
                &cert,
                AuthMethod::Visual {
                    staff_id: on.staff_id.clone(),
                    reason: on.reason,
                },
            ),
        }
        .map_err(failure)?;
        self.held.verify_request_id = Some(request.request_id);
        let sent = self.upstream.verify(&request).map_err(failure)?;
        self.observer.message(MessageKind::Verify, &sent.jws);
        let answer = sent.answer.map_err(failure)?;
        self.observer.verified(&answer);
        Ok(answer)
    }
}

/// What the reception hears of a message that did not go: past the
/// deadline (or no challenge) is `Deadline`, anything else `Refused`.
fn failure(error: SendError) -> UpstreamFailure {
    match error {
        SendError::Challenge(e) => {
            tracing::warn!(event = "kiosk.challenge-failed", error = %e);
            UpstreamFailure::Deadline
        }
        SendError::Delivery(DeliveryError::UpstreamUnavailable { .. }) => UpstreamFailure::Deadline,
        SendError::Sign(e) => {
            tracing::error!(event = "kiosk.sign-failed", error = %e);
            UpstreamFailure::Refused
        }
        SendError::Delivery(e) => {
            tracing::warn!(event = "kiosk.verify-failed", error = %e);
            UpstreamFailure::Refused
        }
    }
}

/// A captured frame as RGB (grey frames are spread to three channels).
fn to_rgb(frame: CapturedFrame) -> Option<RgbFrame> {
    let (w, h) = (u32::from(frame.width), u32::from(frame.height));
    let pixels = match frame.channels {
        3 => frame.pixels,
        1 => {
            let mut rgb = Zeroizing::new(Vec::with_capacity(frame.pixels.len() * 3));
            for &p in frame.pixels.iter() {
                rgb.extend_from_slice(&[p, p, p]);
            }
            rgb
        }
        _ => return None,
    };
    RgbFrame::from_rgb(w, h, pixels).ok()
}

impl<C: ApduTransport, T: FrameTransport, U: Upstream, K: Clock> Ports for KioskPorts<C, T, U, K> {
    fn show(&mut self, screen: &PatientScreen, visual_check: bool) -> Option<u16> {
        let reader = &mut self.reader;
        let shown = reader
            .link
            .show(screen.to_link(), visual_check)
            .and_then(|seq| {
                if reader.confirm_screens {
                    reader.link.sync()?;
                }
                Ok(seq)
            });
        match shown {
            Ok(seq) => {
                self.observer.screen(screen, seq);
                Some(seq)
            }
            Err(e) => {
                tracing::warn!(event = "kiosk.show-failed", error = %e);
                self.reader.down = true;
                None
            }
        }
    }

    fn signal(&mut self, signal: Signal) {
        let signal = match signal {
            Signal::Error => myna_link::Signal::Error,
            Signal::TakeCard => myna_link::Signal::TakeCard,
        };
        if let Err(e) = self.reader.link.signal(signal) {
            tracing::warn!(event = "kiosk.signal-failed", error = %e);
        }
    }

    fn read_card(&mut self) -> Input {
        self.timed("read-card", |p| {
            let Some(card) = p.card.as_mut() else {
                return (Input::CardUnreadable, "no card".into());
            };
            let read = card.info().and_then(|info| {
                let cert = card.read_auth_certificate()?;
                Ok((info, cert))
            });
            match read {
                Ok((info, cert)) => {
                    p.held.cert = Some(Zeroizing::new(cert));
                    let kind = match info.kind {
                        myna_card::CardKind::Standard => CardKind::Standard,
                        _ => CardKind::FaceOnly,
                    };
                    let facts = CardFacts {
                        not_after: info.auth_cert.not_after.date(),
                        kind,
                    };
                    (Input::CardRead(facts), format!("{kind:?}"))
                }
                Err(CardError::NotAMyNumberCard) => {
                    (Input::NotMyNumberCard, "not a My Number Card".into())
                }
                Err(e) => (Input::CardUnreadable, e.to_string()),
            }
        })
    }

    fn read_card_front(&mut self) -> Input {
        self.timed("read-card-front", |p| {
            let Some(reader) = p.face.card_front.clone() else {
                return (
                    Input::CardFrontRefused(CardFrontRefusal::NotFound),
                    "no card-front reader".into(),
                );
            };
            let Some(frame) = p.capture(Camera::CardFront) else {
                return (
                    Input::CardFrontRefused(CardFrontRefusal::NotFound),
                    "no frame".into(),
                );
            };
            match reader.read(&frame) {
                Ok(read) => {
                    p.held.collation_b = Some(read.collation_b());
                    (
                        Input::CardFrontRead,
                        format!("confident {:.2}", read.confidence()),
                    )
                }
                Err(refusal) => {
                    let why = match refusal.hint() {
                        PatientHint::TurnOver => CardFrontRefusal::NotFound,
                        _ => CardFrontRefusal::Unsure,
                    };
                    (
                        Input::CardFrontRefused(why),
                        format!("refused: {}", refusal.code()),
                    )
                }
            }
        })
    }

    fn read_card_photo(&mut self) -> Option<Input> {
        // Never sent without a confident card-front read.
        let start = Instant::now();
        let (Some(collation), Some(card)) = (self.held.collation_b.take(), self.card.as_mut())
        else {
            return Some(Input::Photo(PhotoOutcome::Refused));
        };
        let photo = card.read_face_photo(&collation);
        drop(collation);
        let refused = |p: &mut Self, outcome: PhotoOutcome, why: String| {
            p.observer.stage("read-card-photo", &why, start.elapsed());
            Some(Input::Photo(outcome))
        };
        let photo = match photo {
            Ok(photo) => photo,
            Err(CardError::CollationNumberLocked) => {
                return refused(self, PhotoOutcome::Locked, "locked".into())
            }
            Err(e) => return refused(self, PhotoOutcome::Refused, e.to_string()),
        };
        let Some(engine) = self.face.engine.clone() else {
            return refused(self, PhotoOutcome::Refused, "no face models".into());
        };
        self.observer
            .stage("read-card-chip", "photo read", start.elapsed());
        self.dispatch(Job::CardPhoto { engine, photo })
    }

    fn capture_face(&mut self, attempts_used: u8) -> Option<Input> {
        let start = Instant::now();
        let Some(engine) = self.face.engine.clone() else {
            return Some(Input::Fault(Fault::FaceEngine));
        };
        // Consecutive frames: PAD's texture cue judges each (a print or a
        // screen held still fools one frame more easily than several).
        let wanted = engine.settings().pad_frames.max(1);
        let frames: Vec<RgbFrame> = (0..wanted)
            .map_while(|_| self.capture(Camera::Patient))
            .collect();
        if frames.is_empty() {
            // The camera gave nothing: the reader's failure, not a face
            // turned away.
            self.observer
                .stage("capture-face", "no frame", start.elapsed());
            return Some(Input::Fault(Fault::Reader));
        }
        let Some(card) = self.held.card_face.clone() else {
            return Some(Input::Fault(Fault::FaceEngine));
        };
        self.observer
            .stage("capture-frame", "frames taken", start.elapsed());
        self.dispatch(Job::Compare {
            engine,
            card,
            frames,
            attempts_used,
        })
    }

    fn read_pin_tries(&mut self) -> Input {
        self.timed("read-pin-tries", |p| {
            let status = p.card.as_mut().map(MynaCard::auth_pin_status);
            match status {
                Some(Ok(PinStatus::TriesLeft(n))) => (Input::PinTries(n), format!("{n} left")),
                // What the card itself said: no PIN to offer.
                Some(Ok(other)) => (Input::PinTries(0), format!("{other:?}")),
                // The card did not answer: that says nothing of its PIN.
                Some(Err(CardError::CardRemoved)) | None => {
                    (Input::CardRemoved, "card gone".into())
                }
                Some(Err(e)) => (Input::Fault(Fault::Card), e.to_string()),
            }
        })
    }

    fn verify_pin_and_sign(&mut self) -> Input {
        self.timed("verify-pin", |p| {
            // The challenge first: no PIN try is spent for a request that
            // could not be sent.
            let nonce = match p.upstream.challenge() {
                Ok(nonce) => nonce,
                Err(e) => return (Input::UpstreamFailed(failure(e)), "no challenge".into()),
            };
            let Some(cert) = p.held.cert.clone() else {
                return (Input::Fault(Fault::Card), "no certificate".into());
            };
            let pin = match p.reader.link.take_pin() {
                Ok(pin) => pin,
                // No VERIFY was sent: nothing was spent, nothing was wrong.
                Err(e) => {
                    return (
                        Input::Fault(Fault::Reader),
                        format!("no PIN from the reader: {e}"),
                    )
                }
            };
            let Some(card) = p.card.as_mut() else {
                return (Input::CardRemoved, "card gone".into());
            };
            // One VERIFY, never repeated here: the core reads the tries again.
            match PinProof::sign(card, &pin, nonce, &cert) {
                Ok(proof) => {
                    p.held.pin_proof = Some(proof);
                    (Input::Pin(PinOutcome::Signed), "signed".into())
                }
                Err(CardError::WrongPin { tries_left }) => (
                    Input::Pin(PinOutcome::Wrong { tries_left }),
                    format!("wrong, {tries_left} left"),
                ),
                Err(CardError::PinLocked | CardError::PinUnusable { .. }) => {
                    (Input::Pin(PinOutcome::Locked), "locked".into())
                }
                Err(CardError::CardRemoved) => (Input::CardRemoved, "card removed".into()),
                // The card did not say "wrong": the core never retries on
                // its own, and the next reception reads the tries afresh.
                Err(e) => (Input::Fault(Fault::Card), e.to_string()),
            }
        })
    }

    fn send_verify(&mut self, identity: &Identity) -> Input {
        self.timed("send-verify", |p| match p.verify(identity) {
            Ok(answer) => {
                let out = format!("{:?}", answer.qualification);
                (
                    Input::Verified(VerifyAnswer {
                        qualification: answer.qualification,
                        registered: answer.registered,
                        name_kana: answer.name_kana.clone(),
                        specific_health_checkup: answer.specific_health_checkup,
                    }),
                    out,
                )
            }
            Err(failure) => (Input::UpstreamFailed(failure), format!("{failure:?}")),
        })
    }

    fn send_registration(&mut self) -> Input {
        // The application travels in the consent record's
        // `registration_request` (UPSTREAM.md): accepted here, sent there.
        self.observer.stage(
            "registration",
            "carried by the consent record",
            Duration::ZERO,
        );
        Input::Registered
    }

    fn send_consent(
        &mut self,
        decisions: &ConsentDecisions,
        registration_request: bool,
        relayed_by: Option<&str>,
    ) {
        let Some(verify_request_id) = self.held.verify_request_id else {
            tracing::error!(event = "kiosk.consent-without-verify");
            return;
        };
        self.refresh_audit_head();
        match self.upstream.consent(
            verify_request_id,
            decisions.to_wire(),
            registration_request,
            relayed_by,
        ) {
            // Stored now, delivered by the courier in the background.
            Ok(jws) => self.observer.message(MessageKind::Consent, &jws),
            Err(e) => tracing::error!(event = "kiosk.consent-failed", error = %e),
        }
    }

    fn audit(&mut self, event: &AuditEvent) {
        let now = self.upstream.now_s();
        let (staff_id, event, outcome, reason) = match event {
            AuditEvent::VisualCheckUsed {
                staff_id,
                reason,
                completed,
            } => {
                tracing::info!(event = "audit.visual-check", completed = *completed);
                let outcome = if *completed {
                    "completed"
                } else {
                    "not-completed"
                };
                (staff_id, StaffEvent::VisualCheckUsed, outcome, reason)
            }
            AuditEvent::VisualCheckExpired { staff_id, reason } => {
                tracing::info!(event = "audit.visual-check-expired");
                (staff_id, StaffEvent::VisualCheckExpired, "expired", reason)
            }
        };
        if let Some(staff) = self.staff.as_mut() {
            if let Err(e) = staff.record(now, staff_id, event, outcome, reason.code()) {
                tracing::error!(event = "audit.write-failed", error = %e);
            }
        }
    }

    fn alert(&mut self, alert: Alert) {
        tracing::warn!(event = "kiosk.alert", alert = ?alert);
        self.observer.alert(alert);
        self.alerts.push(alert);
    }

    fn wipe(&mut self) {
        // Dropping wipes: every field is zeroizing. A face job still out
        // belongs to the reception that ended: its answer will be dropped.
        self.held = Held::default();
        self.face.job += 1;
    }
}

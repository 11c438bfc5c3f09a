//! The kiosk's event loop: one thread that owns the reception core, the
//! ports and the screen map, and turns what happens — a card placed or
//! taken (from the PC/SC thread or the emulator), a touch or a restart on
//! the reader link, a staff request on the control socket, the passing of
//! time — into the core's inputs, carried out in order.
//!
//! Never exits on a patient's error: a failed port becomes the core's input
//! (`ReaderFault`, `CardUnreadable`, `UpstreamFailed`), a lost reader is
//! retried every second and `ReaderRecovered` given when it answers.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::control::{AlertNote, Answer, Asked, KioskStatus, Request};
use super::ports::KioskPorts;
use super::staff::StaffEvent;
use super::{carry_out, effect_kind, ScreenMap};
use myna_card::ApduTransport;
use myna_link_host::{FrameTransport, LinkEvent};
use myna_reception::{Alert, ConsentTopic, Fault, Input, Reception, ReceptionConfig};
use myna_upstream::clock::Clock;
use myna_upstream::courier::Upstream;

/// What reaches the loop from other threads.
pub enum KioskEvent<C> {
    /// A card was placed; its connection.
    CardInserted(C),
    /// The card left the reader.
    CardRemoved,
    /// A control request.
    Control(Asked),
    /// Face work finished off the loop.
    Answer(super::Deferred),
    /// Stop the loop (the service is shutting down).
    Stop,
}

/// Alerts kept for `status` and `alerts`.
const RECENT_ALERTS: usize = 100;

/// What staff see for an alert: a code, and the words (with the fallback to
/// offer when the patient is sent to staff). No patient data.
pub fn alert_words(alert: &Alert) -> (&'static str, &'static str) {
    use myna_reception::UpstreamFailure;
    use myna_upstream::messages::Qualification;
    const FALLBACK: &str = "資格確認書、資格情報のお知らせとマイナンバーカード、マイナポータルの資格情報画面、または被保険者資格申立書で受け付けてください";
    match alert {
        Alert::PatientCalled => ("patient-called", "患者さんが職員を呼んでいます"),
        Alert::CardUnreadable => ("card-unreadable", "カードを3回読み取れませんでした"),
        Alert::CertificateExpired => (
            "certificate-expired",
            "電子証明書の有効期限が切れています（猶予期間外）。市区町村での更新を案内し、資格確認書等で受け付けてください",
        ),
        Alert::PinLocked => (
            "pin-locked",
            "暗証番号がロックされました。顔認証か目視で受け付け、市区町村での初期化を案内してください",
        ),
        Alert::IdentityFailed => ("identity-failed", "顔認証・暗証番号とも確認できませんでした。目視を検討してください"),
        Alert::FaceRefused => (
            "face-refused",
            "顔認証を中止しました：写真または画面の可能性があります。ご本人か確認し、暗証番号か目視で受け付けてください",
        ),
        Alert::Qualification(Qualification::Valid) => ("qualification", FALLBACK),
        Alert::Qualification(Qualification::Invalid) => ("qualification-invalid", FALLBACK),
        Alert::Qualification(Qualification::InvalidNewerExists) => {
            ("qualification-newer-exists", FALLBACK)
        }
        Alert::Qualification(Qualification::NotFound) => ("qualification-not-found", FALLBACK),
        Alert::Qualification(Qualification::Multiple) => ("qualification-multiple", FALLBACK),
        Alert::Upstream(UpstreamFailure::Deadline) => ("upstream-unreachable", FALLBACK),
        Alert::Upstream(UpstreamFailure::Refused) => ("upstream-refused", FALLBACK),
        Alert::NotRegistered => (
            "not-registered",
            "保険証利用の登録をしませんでした。資格確認書等で受け付けてください",
        ),
        Alert::FaceUnavailable => (
            "face-unavailable",
            "この端末では顔認証を使えません（理由は mynareader diagnose で確認できます）。目視で受け付けてください",
        ),
        Alert::CardLeft => ("card-left", "カードが読み取り機に残っています"),
        Alert::ReaderFault => ("reader-fault", "読み取り機が応答しません。接続を確認してください"),
        Alert::Fault(Fault::Card) => (
            "card-fault",
            "カードとの通信が途中で失敗しました（患者さんの操作の誤りではなく、暗証番号の回数も減っていません）。カードを置き直してもらってください",
        ),
        Alert::Fault(Fault::Reader) => (
            "reader-incomplete",
            "読み取り機から暗証番号または画像を受け取れませんでした（患者さんの誤りではなく、暗証番号の回数も減っていません）。もう一度受け付けるか、目視で受け付けてください",
        ),
        Alert::Fault(Fault::FaceEngine) => (
            "face-engine-fault",
            "顔認証の処理が失敗しました（患者さんの誤りではありません）。暗証番号か目視で受け付け、mynareader diagnose で確認してください",
        ),
    }
}

/// A consent topic's code on the staff side.
pub fn topic_code(topic: ConsentTopic) -> &'static str {
    match topic {
        ConsentTopic::Operation => "operation",
        ConsentTopic::DiagnosisAndMedication => "diagnosis-and-medication",
        ConsentTopic::SpecificHealthCheckup => "specific-health-checkup",
    }
}

/// A consent topic from its code.
pub fn topic_from_code(code: &str) -> Option<ConsentTopic> {
    [
        ConsentTopic::Operation,
        ConsentTopic::DiagnosisAndMedication,
        ConsentTopic::SpecificHealthCheckup,
    ]
    .into_iter()
    .find(|t| topic_code(*t) == code)
}

/// The event loop's state.
pub struct Kiosk<C, T, U, K> {
    core: Reception,
    ports: KioskPorts<C, T, U, K>,
    screens: ScreenMap,
    clock: K,
    last_tick_ms: i64,
    receptions: u64,
    alerts: VecDeque<AlertNote>,
    alert_seq: u64,
    last_error: Option<&'static str>,
    /// Finished outbox rows are kept this long (the delivery log), then
    /// deleted.
    keep_finished: Duration,
    last_prune_ms: Option<i64>,
    receptions_tidied: u64,
    /// When the audit head last went out on its own, and which.
    last_anchor_ms: Option<i64>,
    anchored: Option<myna_upstream::messages::AuditHead>,
}

/// While idle, the audit trail's head goes upstream this often (when it
/// changed; every message carries it too).
const ANCHOR_EVERY_MS: i64 = 60 * 60 * 1000;

/// How often finished outbox rows are looked for.
const PRUNE_EVERY_MS: i64 = 60 * 60 * 1000;
/// [`Kiosk::keep_finished`]'s default.
pub const KEEP_FINISHED: Duration = Duration::from_secs(7 * 24 * 60 * 60);

impl<C: ApduTransport, T: FrameTransport, U: Upstream, K: Clock> Kiosk<C, T, U, K> {
    /// A kiosk over its ports; `clock` gives the core its time.
    pub fn new(config: ReceptionConfig, ports: KioskPorts<C, T, U, K>, clock: K) -> Self {
        let now = clock.now();
        Kiosk {
            core: Reception::new(config, now),
            ports,
            screens: ScreenMap::default(),
            last_tick_ms: clock.now_ms(),
            clock,
            receptions: 0,
            alerts: VecDeque::new(),
            alert_seq: 0,
            last_error: None,
            keep_finished: KEEP_FINISHED,
            last_prune_ms: None,
            receptions_tidied: 0,
            last_anchor_ms: None,
            anchored: None,
        }
    }

    /// Keeps finished outbox rows (the delivery log) this long.
    pub fn keep_finished(mut self, keep: Duration) -> Self {
        self.keep_finished = keep;
        self
    }

    /// Deletes finished outbox rows older than the keep time (at most once
    /// an hour) and empties the write-ahead log after deliveries, so what a
    /// delivered request carried is not left in the file.
    fn tidy_outbox(&mut self, delivered: bool) {
        let now_ms = self.clock.now_ms();
        let outbox = self.ports.courier().outbox();
        if self
            .last_prune_ms
            .is_none_or(|at| now_ms - at >= PRUNE_EVERY_MS)
        {
            self.last_prune_ms = Some(now_ms);
            let keep = i64::try_from(self.keep_finished.as_millis()).unwrap_or(i64::MAX);
            match outbox.prune(now_ms.saturating_sub(keep)) {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(event = "kiosk.outbox-pruned", pruned),
                Err(e) => tracing::error!(event = "kiosk.outbox-prune-failed", error = %e),
            }
        }
        if delivered {
            if let Err(e) = outbox.checkpoint() {
                tracing::warn!(event = "kiosk.outbox-checkpoint-failed", error = %e);
            }
        }
    }

    /// The ports (tests and the demo look at the card and the courier).
    pub fn ports(&mut self) -> &mut KioskPorts<C, T, U, K> {
        &mut self.ports
    }

    /// The core (read-only).
    pub fn core(&self) -> &Reception {
        &self.core
    }

    /// Steps one input and carries out what follows.
    pub fn handle(&mut self, input: Input) {
        if input == Input::CardInserted && !self.core.in_reception() {
            self.receptions += 1;
        }
        let now = self.clock.now();
        let done = carry_out(
            &mut self.core,
            &mut self.ports,
            &mut self.screens,
            input,
            now,
        );
        for effect in &done {
            tracing::trace!(event = "kiosk.effect", kind = effect_kind(effect));
        }
        let at = self.clock.now_ms() / 1000;
        for alert in self.ports.take_alerts() {
            if self.alerts.len() == RECENT_ALERTS {
                self.alerts.pop_front();
            }
            self.alert_seq += 1;
            let (code, words) = alert_words(&alert);
            if matches!(alert, Alert::ReaderFault | Alert::Upstream(_)) {
                self.last_error = Some(code);
            }
            self.alerts.push_back(AlertNote {
                seq: self.alert_seq,
                at,
                code,
                words,
            });
        }
    }

    /// Draws the first screen (`Idle`: the core starts there without
    /// drawing it).
    pub fn start(&mut self) {
        let (id, screen) = self.core.screen();
        let screen = screen.clone();
        if let Some(seq) = super::Ports::show(&mut self.ports, &screen, false) {
            self.screens.shown(id, seq);
        }
    }

    /// One event from another thread; `false` to stop.
    pub fn on_event(&mut self, event: KioskEvent<C>) -> bool {
        match event {
            KioskEvent::CardInserted(transport) => {
                self.ports.card_inserted(transport);
                self.handle(Input::CardInserted);
            }
            KioskEvent::CardRemoved => {
                self.ports.card_removed();
                self.handle(Input::CardRemoved);
            }
            KioskEvent::Control(asked) => {
                let answer = self.answer(asked.request);
                let _ = asked.answer.send(answer);
            }
            KioskEvent::Answer(done) => {
                if let Some(input) = self.ports.finish(done) {
                    self.handle(input);
                }
            }
            KioskEvent::Stop => return false,
        }
        true
    }

    fn answer(&mut self, request: Request) -> Answer {
        match request {
            Request::Status => Answer::Status(Box::new(self.status())),
            Request::Alerts(since) => Answer::Alerts(
                self.alerts
                    .iter()
                    .filter(|a| a.seq > since)
                    .cloned()
                    .collect(),
            ),
            // A password is checked where it arrives (the socket's thread,
            // the console), never on this loop: Argon2 would hold up the
            // patient at the reader.
            Request::VisualCheckOn(..) | Request::VisualCheckOff(..) => {
                Answer::Refused("the password was not checked; use the control socket".into())
            }
            Request::VisualCheckOnBy(on, via) => {
                let reason = on.reason.code();
                // No 目視 that the trail does not hold (fail closed).
                if let Err(refusal) = self.record(
                    &on.staff_id,
                    StaffEvent::VisualCheckOn,
                    &format!("{reason} ({})", via.code()),
                ) {
                    return refusal;
                }
                self.handle(Input::VisualCheckOn(on));
                Answer::VisualCheck(self.core.visual_check())
            }
            Request::LargeText(on) => match self.ports.link().set_large_text(on) {
                Ok(()) => {
                    tracing::info!(event = "kiosk.large-text", on);
                    Answer::LargeText(on)
                }
                Err(e) => Answer::Refused(format!("the reader did not take it: {e}")),
            },
            Request::VisualCheckOffBy(staff, via) => {
                // Switching off is let through even when the trail cannot
                // be written: it only takes a permission away.
                let _ = self.record(
                    &staff,
                    StaffEvent::VisualCheckOff,
                    &format!("({})", via.code()),
                );
                self.handle(Input::VisualCheckOff);
                Answer::VisualCheck(self.core.visual_check())
            }
            Request::Screen => Answer::Screen {
                screen: self.core.screen().1.clone(),
                visual_check: self.core.visual_check(),
            },
            Request::RelayConsentBy(staff, mut answers) => {
                if self.core.consent_topics().is_none() {
                    return Answer::Refused("the consent screens are not up".into());
                }
                // In the order the screens ask them.
                answers.sort_by_key(|(topic, _)| match topic {
                    ConsentTopic::Operation => 0,
                    ConsentTopic::DiagnosisAndMedication => 1,
                    ConsentTopic::SpecificHealthCheckup => 2,
                });
                let detail: Vec<String> = answers
                    .iter()
                    .map(|(topic, yes)| format!("{}={}", topic_code(*topic), u8::from(*yes)))
                    .collect();
                if let Err(refusal) =
                    self.record(&staff, StaffEvent::ConsentRelayed, &detail.join(" "))
                {
                    return refusal;
                }
                self.handle(Input::ConsentRelayed {
                    staff_id: staff,
                    answers,
                });
                Answer::Done
            }
        }
    }

    /// Writes an audit entry; the refusal to answer when it could not be
    /// written (a kiosk without staff accounts has no trail to keep).
    fn record(&mut self, staff: &str, action: StaffEvent, detail: &str) -> Result<(), Answer> {
        let now = self.clock.now_ms() / 1000;
        if let Some(db) = self.ports.staff() {
            if let Err(e) = db.record(now, staff, action, "ok", detail) {
                tracing::error!(event = "audit.write-failed", error = %e);
                return Err(Answer::Refused(format!(
                    "the audit trail could not be written, so nothing was done: {e}"
                )));
            }
        }
        Ok(())
    }

    /// The state for `status`.
    pub fn status(&self) -> KioskStatus {
        let (_, screen) = self.core.screen();
        let kind = screen.name();
        KioskStatus {
            ok: true,
            screen: kind,
            in_reception: self.core.in_reception(),
            visual_check: self.core.visual_check(),
            visual_check_left_secs: self
                .core
                .visual_check_left(self.clock.now())
                .map(|left| left.whole_seconds()),
            reader_up: !self.ports.link_down(),
            reader_firmware: self.ports.link_info().firmware,
            receptions: self.receptions,
            card_present: self.ports.card_present(),
            outbox_pending: self
                .ports
                .courier()
                .outbox()
                .pending_count()
                .unwrap_or(u64::MAX),
            outbox_oldest_secs: self
                .ports
                .courier()
                .outbox()
                .oldest_pending_ms()
                .ok()
                .flatten()
                .map_or(0, |at| ((self.clock.now_ms() - at) / 1000).max(0)),
            last_error: self.last_error,
            alerts: self.alerts.iter().rev().take(20).rev().cloned().collect(),
            consent_topics: self
                .core
                .consent_topics()
                .map(|topics| topics.iter().map(|t| topic_code(*t)).collect()),
        }
    }

    /// Reads what the reader said (waiting at most the transport's read
    /// timeout) and steps it; ticks the core once a second. Returns whether
    /// the reader said anything.
    pub fn poll_link(&mut self) -> bool {
        let mut heard = false;
        if self.ports.link_down() {
            // Try again; the link reconnects and redraws by itself.
            match self.ports.link().sync() {
                Ok(()) => {
                    self.ports.link_up();
                    if let Some(seq) = self.ports.link().screen_seq() {
                        self.screens.redrawn(seq);
                    }
                    tracing::info!(event = "kiosk.reader-recovered");
                    self.handle(Input::ReaderRecovered);
                }
                Err(_) => self.clock.sleep(Duration::from_millis(500)),
            }
        } else {
            match self.ports.link().next_event() {
                Ok(Some(event)) => {
                    heard = true;
                    self.on_link_event(event);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(event = "kiosk.reader-lost", error = %e);
                    self.last_error = Some("reader-lost");
                    self.ports.mark_link_down();
                    self.handle(Input::ReaderFault);
                }
            }
        }
        let now_ms = self.clock.now_ms();
        if now_ms - self.last_tick_ms >= 1000 {
            self.last_tick_ms = now_ms;
            self.handle(Input::Tick);
            if !self.core.in_reception() {
                if self
                    .last_anchor_ms
                    .is_none_or(|at| now_ms - at >= ANCHOR_EVERY_MS)
                {
                    self.last_anchor_ms = Some(now_ms);
                    self.anchored = self.ports.anchor_audit(self.anchored.as_ref());
                }
                // Consent records waiting are sent between receptions, in
                // this thread, so an interactive verify is never sent by two
                // hands at once.
                let delivered = match self.ports.courier().drain_due() {
                    Ok(report) if report.delivered + report.rejected + report.expired > 0 => {
                        tracing::info!(
                            event = "kiosk.outbox-drained",
                            delivered = report.delivered,
                            rejected = report.rejected,
                            expired = report.expired,
                            pending = report.pending
                        );
                        true
                    }
                    Ok(_) => false,
                    Err(e) => {
                        tracing::error!(event = "kiosk.outbox-failed", error = %e);
                        self.last_error = Some("outbox-failed");
                        false
                    }
                };
                // The verify request was delivered inside the reception;
                // a reception's end is a delivery too.
                self.tidy_outbox(delivered || self.receptions_tidied < self.receptions);
                self.receptions_tidied = self.receptions;
            }
        }
        heard
    }

    fn on_link_event(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::Touch { screen_seq, button } => {
                if let Some(input) = self.screens.touch(screen_seq, button) {
                    self.handle(input);
                }
            }
            LinkEvent::IdleTimeout { screen_seq } => {
                if self.ports.link().screen_seq() == Some(screen_seq) {
                    self.handle(Input::IdleTimeout);
                }
            }
            LinkEvent::ReaderRestarted { .. } | LinkEvent::Reconnected => {
                // The link drew the last screen again as a new frame.
                if let Some(seq) = self.ports.link().screen_seq() {
                    self.screens.redrawn(seq);
                }
                tracing::info!(event = "kiosk.reader-restarted");
            }
            LinkEvent::DeviceError(e) => {
                tracing::warn!(event = "kiosk.device-error", error = ?e);
            }
            LinkEvent::FramesLost { count } => {
                tracing::warn!(event = "kiosk.frames-lost", count);
            }
        }
    }

    /// Runs until `Stop` (or every sender is gone): events first, then the
    /// reader.
    pub fn run(mut self, events: Receiver<KioskEvent<C>>) -> Self {
        self.start();
        loop {
            // Events from other threads are taken as they come; the reader is
            // read in between, with the link's short read timeout.
            loop {
                match events.recv_timeout(Duration::ZERO) {
                    Ok(event) => {
                        if !self.on_event(event) {
                            return self;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return self,
                }
            }
            self.poll_link();
        }
    }
}

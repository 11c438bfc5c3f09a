//! Delivery: the outbox drained through an [`Upstream`], in order, with
//! backoff and jitter that survive restarts (the next try time is stored), and
//! the interactive verify request with its deadline. The courier owns the
//! retry policy; it reads the time and draws jitter only through the
//! [`Clock`] and random generator it is given (see [`super::clock`]).

use std::cell::RefCell;
use std::time::Duration;

use rand::{Rng, RngCore};
use uuid::Uuid;

use super::clock::{Clock, SystemClock, SystemRng};
use super::messages::{MessageKind, VerifyResponse};
use super::outbox::{Outbox, OutboxError, State, Stored};

pub use crate::remote::{Cause, Upstream, UpstreamError};

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Delay after the first failure.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay before try `attempts + 1`: half fixed, half drawn from
    /// `rng`, so a clinic's kiosks do not all retry at the same instant.
    pub fn delay(&self, attempts: u32, rng: &mut (impl RngCore + ?Sized)) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempts.min(20));
        let capped = exp.min(self.max);
        let half = capped / 2;
        half + half.mul_f64(rng.gen::<f64>())
    }
}

/// Errors of delivery.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The outbox failed: nothing was stored or updated.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The verify request could not be delivered before its deadline; the
    /// patient goes to staff.
    #[error(
        "the upstream is unavailable ({attempts} tries): {}",
        .last_error.as_ref().map_or_else(|| "not sent".to_string(), ToString::to_string)
    )]
    UpstreamUnavailable {
        /// Tries made.
        attempts: u32,
        /// The last failure (none when the deadline passed before a try).
        #[source]
        last_error: Option<UpstreamError>,
    },
    /// The upstream refused the verify request.
    #[error("the upstream refused the request ({code}): {message}")]
    Refused {
        /// Stable code.
        code: String,
        /// For people.
        message: String,
    },
    /// The upstream's answer is not a verify response.
    #[error("the upstream answer is malformed: {0}")]
    BadAnswer(#[source] serde_json::Error),
    /// This request was answered (or given up on) before; it is not sent
    /// again, and its answer is not kept.
    #[error("this request was already answered or given up; a new reception makes a new one")]
    AnsweredBefore,
}

/// The answer, when it names the request sent (every answer carries
/// `request_id`: [`VerifyResponse`], `ConsentAck`).
fn answered(expected: Uuid, answer: String) -> Result<String, UpstreamError> {
    #[derive(serde::Deserialize)]
    struct Names {
        request_id: Option<Uuid>,
    }
    let got = serde_json::from_str::<Names>(&answer)
        .ok()
        .and_then(|n| n.request_id);
    if got == Some(expected) {
        Ok(answer)
    } else {
        tracing::warn!(event = "upstream.other-request");
        Err(UpstreamError::OtherRequest { expected, got })
    }
}

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Acknowledged.
    pub delivered: u64,
    /// Refused for good.
    pub rejected: u64,
    /// Verify requests dropped past their deadline.
    pub expired: u64,
    /// Still waiting.
    pub pending: u64,
    /// When the oldest waiting message is due (unix ms).
    pub next_due_ms: Option<i64>,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The outbox and the upstream together, on a clock `C` with jitter from `R`.
pub struct Courier<U, C = SystemClock, R = SystemRng> {
    outbox: Outbox,
    upstream: U,
    backoff: Backoff,
    clock: C,
    // The courier is driven from one thread (the outbox connection is not
    // shared either); a RefCell lets `&self` methods draw jitter.
    rng: RefCell<R>,
}

impl<U: Upstream> Courier<U> {
    /// A courier over an opened outbox, on the system clock and random source.
    pub fn new(outbox: Outbox, upstream: U, backoff: Backoff) -> Courier<U> {
        Courier::with_clock(outbox, upstream, backoff, SystemClock, SystemRng::default())
    }
}

impl<U: Upstream, C: Clock, R: RngCore> Courier<U, C, R> {
    /// A courier that reads the time from `clock` (and sleeps on it) and
    /// draws backoff jitter from `rng`.
    pub fn with_clock(
        outbox: Outbox,
        upstream: U,
        backoff: Backoff,
        clock: C,
        rng: R,
    ) -> Courier<U, C, R> {
        Courier {
            outbox,
            upstream,
            backoff,
            clock,
            rng: RefCell::new(rng),
        }
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    fn retry_delay(&self, attempts: u32) -> Duration {
        self.backoff.delay(attempts, &mut *self.rng.borrow_mut())
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The upstream.
    pub fn upstream(&self) -> &U {
        &self.upstream
    }

    /// Stores a message for delivery (idempotent on its request id).
    pub fn enqueue(
        &self,
        request_id: Uuid,
        kind: MessageKind,
        jws: &str,
    ) -> Result<Stored, OutboxError> {
        self.outbox
            .enqueue(request_id, kind, jws, self.clock.now_ms(), None)
    }

    fn try_send(
        &self,
        message: &Stored,
        now: i64,
    ) -> Result<Result<String, UpstreamError>, OutboxError> {
        let sent = self
            .upstream
            .post(message.kind, &message.body)
            .and_then(|answer| answered(message.request_id, answer));
        match sent {
            Ok(answer) => {
                // At rest only the receipt: the answer (the patient's name
                // among it) lives as long as the reception that asked.
                let receipt = serde_json::json!({ "request_id": message.request_id }).to_string();
                self.outbox.mark_delivered(message.seq, &receipt, now)?;
                Ok(Ok(answer))
            }
            Err(e) if e.is_transient() => {
                let next = now.saturating_add(millis(self.retry_delay(message.attempts)));
                self.outbox.mark_retry(message.seq, next, &e.to_string())?;
                Ok(Err(e))
            }
            Err(e) => {
                self.outbox
                    .mark_rejected(message.seq, &e.to_string(), now)?;
                tracing::warn!(event = "upstream.rejected", kind = message.kind.as_str());
                Ok(Err(e))
            }
        }
    }

    /// Sends due messages oldest first. Stops at the first transient failure
    /// or at a message not yet due, so messages arrive in order.
    pub fn drain_due(&self) -> Result<DrainReport, OutboxError> {
        let mut report = DrainReport::default();
        while let Some(message) = self.outbox.first_pending()? {
            let now = self.clock.now_ms();
            if message.deadline_ms.is_some_and(|d| now > d) {
                self.outbox.mark_expired(message.seq, now)?;
                report.expired += 1;
                continue;
            }
            if message.next_attempt_ms > now {
                report.next_due_ms = Some(message.next_attempt_ms);
                break;
            }
            match self.try_send(&message, now)? {
                Ok(_) => report.delivered += 1,
                Err(e) if e.is_transient() => {
                    report.next_due_ms = self
                        .outbox
                        .get(message.request_id)?
                        .map(|m| m.next_attempt_ms);
                    break;
                }
                Err(_) => report.rejected += 1,
            }
        }
        report.pending = self.outbox.pending_count()?;
        Ok(report)
    }

    /// Drains until the outbox is empty or `limit` has passed, sleeping
    /// until each retry is due.
    pub fn drain_for(&self, limit: Duration) -> Result<DrainReport, OutboxError> {
        let end = self.clock.now_ms().saturating_add(millis(limit));
        let mut total = DrainReport::default();
        loop {
            let report = self.drain_due()?;
            total.delivered += report.delivered;
            total.rejected += report.rejected;
            total.expired += report.expired;
            total.pending = report.pending;
            total.next_due_ms = report.next_due_ms;
            let Some(due) = report.next_due_ms else {
                return Ok(total);
            };
            let now = self.clock.now_ms();
            if report.pending == 0 || now >= end {
                return Ok(total);
            }
            // At most a second at a time, so a message enqueued meanwhile by
            // another process is not left waiting behind a long backoff.
            self.clock.sleep(Duration::from_millis(
                (due.min(end) - now).clamp(1, 1000) as u64
            ));
        }
    }

    /// The interactive verify request: stored first, then sent at once and
    /// retried until `deadline`; past it the request is never sent again and
    /// the caller gets [`DeliveryError::UpstreamUnavailable`].
    pub fn verify(
        &self,
        request_id: Uuid,
        jws: &str,
        deadline: Duration,
    ) -> Result<VerifyResponse, DeliveryError> {
        let start = self.clock.now_ms();
        let deadline_ms = start.saturating_add(millis(deadline));
        let stored = self.outbox.enqueue(
            request_id,
            MessageKind::Verify,
            jws,
            start,
            Some(deadline_ms),
        )?;
        let parse = |answer: &str| {
            serde_json::from_str::<VerifyResponse>(answer).map_err(DeliveryError::BadAnswer)
        };
        if stored.state != State::Pending {
            // Answered (or given up) before: the reception that asked has
            // ended with that answer, which is not kept; it is never sent
            // again.
            return Err(DeliveryError::AnsweredBefore);
        }
        let mut last_error = None;
        let mut attempts = 0;
        loop {
            let Some(message) = self.outbox.get(request_id)? else {
                return Err(OutboxError::CorruptRow(stored.seq).into());
            };
            let now = self.clock.now_ms();
            if message.state != State::Pending || now > deadline_ms {
                break;
            }
            attempts += 1;
            match self.try_send(&message, now)? {
                Ok(answer) => return parse(&answer),
                Err(UpstreamError::Rejected { code, message, .. }) => {
                    return Err(DeliveryError::Refused { code, message })
                }
                Err(e) => last_error = Some(e),
            }
            let now = self.clock.now_ms();
            if now >= deadline_ms {
                break;
            }
            // Never past the deadline: the last try is made at it.
            let wait = millis(self.retry_delay(message.attempts)).min(deadline_ms - now);
            self.clock.sleep(Duration::from_millis(wait as u64));
        }
        self.outbox.mark_expired(stored.seq, self.clock.now_ms())?;
        tracing::warn!(event = "upstream.verify.unavailable", attempts);
        Err(DeliveryError::UpstreamUnavailable {
            attempts,
            last_error,
        })
    }
}

//! The upstream as the kiosk sees it: the [`Upstream`] trait that the
//! courier delivers through (HTTP in a clinic, the reference server in
//! process in tests and benches) and its typed failures. Wire-level only:
//! no outbox, no HTTP client, so the reference server implements it
//! without the kiosk's delivery side.

use crate::messages::{Challenge, MessageKind};

/// Any error an [`Upstream`] adapter reports as the cause of a failure.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Failures talking to the upstream.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No answer (connection refused, timeout, reset): try again later.
    #[error("upstream unreachable: {0}")]
    Unreachable(#[source] Cause),
    /// A server error (5xx): try again later.
    #[error("upstream server error {0}")]
    Server(u16),
    /// Refused for good (4xx) with the upstream's typed error.
    #[error("upstream refused ({status} {code}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// For people.
        message: String,
    },
    /// A success whose body is not the expected answer.
    #[error("upstream answer malformed: {0}")]
    BadAnswer(#[source] Cause),
    /// A success that answers another request (a proxy or cache mixing
    /// answers up): not a delivery, so it is tried again.
    #[error("the upstream answered request {got:?}, not {expected}")]
    OtherRequest {
        /// The request sent.
        expected: uuid::Uuid,
        /// The request the answer names (`None`: it names none).
        got: Option<uuid::Uuid>,
    },
}

impl UpstreamError {
    /// Whether trying again may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            UpstreamError::Unreachable(_)
                | UpstreamError::Server(_)
                | UpstreamError::OtherRequest { .. }
        )
    }
}

/// Where messages go: the reference server over HTTP, or a test double.
pub trait Upstream {
    /// A fresh nonce.
    fn challenge(&self) -> Result<Challenge, UpstreamError>;
    /// Sends one signed message; the answer body on success.
    fn post(&self, kind: MessageKind, jws: &str) -> Result<String, UpstreamError>;
}

impl<U: Upstream + ?Sized> Upstream for &U {
    fn challenge(&self) -> Result<Challenge, UpstreamError> {
        (**self).challenge()
    }
    fn post(&self, kind: MessageKind, jws: &str) -> Result<String, UpstreamError> {
        (**self).post(kind, jws)
    }
}

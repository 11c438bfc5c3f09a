//! The PC/SC adapter: a card connection owned by its own thread, because PC/SC
//! calls block (SCardTransmit, SCardGetStatusChange). Callers talk to it
//! through [`ApduTransport`]; the thread resets the card when the connection is
//! dropped, so no verified PIN outlives a reception.

use std::ffi::{CStr, CString};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use zeroize::{Zeroize, Zeroizing};

use super::transport::{ApduTransport, TransportError};

/// How to find the card.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Use the first reader whose name contains this; default: the first
    /// reader with a card in it.
    pub reader: Option<String>,
    /// How long to wait for a card to be placed.
    pub wait: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            reader: None,
            wait: Duration::from_secs(10),
        }
    }
}

type Reply = mpsc::Sender<Result<Zeroizing<Vec<u8>>, TransportError>>;

enum Request {
    Transmit(Zeroizing<Vec<u8>>, Reply),
    WaitRemoved(Duration, mpsc::Sender<Result<bool, TransportError>>),
}

/// A connected card on a PC/SC reader.
pub struct PcscCard {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    reader: String,
}

fn pcsc_error(operation: &'static str, e: pcsc::Error) -> TransportError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TransportError::NoService,
        pcsc::Error::NoReadersAvailable => TransportError::NoReaders,
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard | pcsc::Error::ResetCard => {
            TransportError::CardRemoved
        }
        pcsc::Error::SharingViolation => TransportError::ReaderBusy,
        pcsc::Error::UnresponsiveCard | pcsc::Error::UnpoweredCard | pcsc::Error::ProtoMismatch => {
            TransportError::Unresponsive(e)
        }
        source => TransportError::Pcsc { operation, source },
    }
}

fn reader_states(ctx: &Context) -> Result<Vec<ReaderState>, TransportError> {
    let names = ctx
        .list_readers_owned()
        .map_err(|e| pcsc_error("SCardListReaders", e))?;
    if names.is_empty() {
        return Err(TransportError::NoReaders);
    }
    Ok(names
        .into_iter()
        .map(|name| ReaderState::new(name, State::UNAWARE))
        .collect())
}

/// Waits until a chosen reader holds a card; returns its name and its event
/// counter (pcscd counts insertions and removals).
fn wait_for_card(
    ctx: &Context,
    options: &ConnectOptions,
) -> Result<(CString, u32), TransportError> {
    let mut states = reader_states(ctx)?;
    if let Some(wanted) = &options.reader {
        states.retain(|s| s.name().to_string_lossy().contains(wanted.as_str()));
        if states.is_empty() {
            return Err(TransportError::ReaderNotFound(wanted.clone()));
        }
    }
    let deadline = Instant::now() + options.wait;
    loop {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match ctx.get_status_change(Some(timeout), &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => return Err(TransportError::NoCard),
            Err(e) => return Err(pcsc_error("SCardGetStatusChange", e)),
        }
        if let Some(ready) = states.iter().find(|s| {
            let st = s.event_state();
            st.contains(State::PRESENT) && !st.contains(State::MUTE)
        }) {
            return Ok((ready.name().to_owned(), ready.event_count()));
        }
        for state in &mut states {
            state.sync_current_state();
        }
        if Instant::now() >= deadline {
            return Err(TransportError::NoCard);
        }
    }
}

/// Waits up to `limit` for the card connected at event count `connected_at`
/// to leave `reader`; true once it has, even if another card (or the same
/// one) has been placed since.
fn wait_until_gone(
    ctx: &Context,
    reader: &CStr,
    connected_at: u32,
    limit: Duration,
) -> Result<bool, TransportError> {
    let mut states = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
    let deadline = Instant::now() + limit;
    loop {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match ctx.get_status_change(Some(timeout), &mut states) {
            Ok(()) => {
                let st = states[0].event_state();
                if st.contains(State::EMPTY)
                    || st.contains(State::UNAVAILABLE)
                    || states[0].event_count() != connected_at
                {
                    return Ok(true);
                }
                states[0].sync_current_state();
            }
            Err(pcsc::Error::Timeout) => return Ok(false),
            Err(e) => return Err(pcsc_error("SCardGetStatusChange", e)),
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

/// After a failed exchange: has the card left the reader? pcscd notices a
/// removal on its next poll, so give it a moment before deciding.
fn card_left(ctx: &Context, reader: &CStr, connected_at: u32) -> bool {
    wait_until_gone(ctx, reader, connected_at, Duration::from_secs(2)).unwrap_or(true)
}

fn serve(
    ctx: Context,
    card: pcsc::Card,
    (reader, connected_at): (CString, u32),
    requests: mpsc::Receiver<Request>,
) {
    let mut buffer = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    for request in requests {
        match request {
            Request::Transmit(apdu, reply) => {
                let result = match card.transmit(&apdu, &mut buffer) {
                    // vpcd answers an empty "success" when the card vanished
                    // mid-command; a real reader may too. No status word and
                    // no card means removal, not a malformed answer.
                    Ok(response)
                        if response.len() < 2 && card_left(&ctx, &reader, connected_at) =>
                    {
                        Err(TransportError::CardRemoved)
                    }
                    Ok(response) => Ok(Zeroizing::new(response.to_vec())),
                    Err(e) => match pcsc_error("SCardTransmit", e) {
                        TransportError::CardRemoved => Err(TransportError::CardRemoved),
                        _ if card_left(&ctx, &reader, connected_at) => {
                            Err(TransportError::CardRemoved)
                        }
                        other => Err(other),
                    },
                };
                // Zero in place: `Vec::zeroize` would also shrink it to nothing.
                buffer.as_mut_slice().zeroize();
                // The caller may have gone; nothing to do then.
                let _ = reply.send(result);
            }
            Request::WaitRemoved(limit, reply) => {
                let _ = reply.send(wait_until_gone(&ctx, &reader, connected_at, limit));
            }
        }
    }
    // Reset on the way out: the card forgets any verified PIN.
    if let Err((_, e)) = card.disconnect(Disposition::ResetCard) {
        tracing::debug!(event = "card.pcsc.disconnect_failed", error = %e);
    }
}

impl PcscCard {
    /// Connects to a card, waiting for one to be placed if needed. The
    /// connection is exclusive: the reader belongs to one reception at a time.
    pub fn connect(options: ConnectOptions) -> Result<PcscCard, TransportError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (requests_tx, requests_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("pcsc".into())
            .spawn(move || {
                let connected = (|| {
                    let ctx = Context::establish(Scope::User)
                        .map_err(|e| pcsc_error("SCardEstablishContext", e))?;
                    let (reader, connected_at) = wait_for_card(&ctx, &options)?;
                    let card = ctx
                        .connect(&reader, ShareMode::Exclusive, Protocols::ANY)
                        .map_err(|e| pcsc_error("SCardConnect", e))?;
                    Ok::<_, TransportError>((ctx, card, reader, connected_at))
                })();
                match connected {
                    Ok((ctx, card, reader, connected_at)) => {
                        let name = reader.to_string_lossy().into_owned();
                        if ready_tx.send(Ok(name)).is_ok() {
                            serve(ctx, card, (reader, connected_at), requests_rx);
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(TransportError::Spawn)?;
        let reader = ready_rx
            .recv()
            .map_err(|_| TransportError::Disconnected)??;
        tracing::info!(event = "card.pcsc.connected");
        Ok(PcscCard {
            requests: Some(requests_tx),
            thread: Some(thread),
            reader,
        })
    }

    /// The reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// Waits up to `limit` for the patient to take the card; true once it is
    /// gone (the reception's "カードをお取りください" step).
    pub fn wait_removed(&self, limit: Duration) -> Result<bool, TransportError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let requests = self.requests.as_ref().ok_or(TransportError::Disconnected)?;
        requests
            .send(Request::WaitRemoved(limit, reply_tx))
            .map_err(|_| TransportError::Disconnected)?;
        reply_rx.recv().map_err(|_| TransportError::Disconnected)?
    }
}

impl ApduTransport for PcscCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let (reply_tx, reply_rx) = mpsc::channel();
        let requests = self.requests.as_ref().ok_or(TransportError::Disconnected)?;
        requests
            .send(Request::Transmit(Zeroizing::new(apdu.to_vec()), reply_tx))
            .map_err(|_| TransportError::Disconnected)?;
        reply_rx.recv().map_err(|_| TransportError::Disconnected)?
    }
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which resets the card.
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A change of the card on the watched reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// A card is on the reader (named).
    Placed(String),
    /// The card left.
    Removed,
}

/// Watches the reader (the first whose name contains `reader`, or the first
/// one) on its own thread and calls `report` on every placement and
/// removal, until `report` returns false. Survives pcscd restarts and
/// readers that come and go: it tries again every second, and reports a
/// removal when the reader vanishes with a card reported on it.
pub fn watch(
    reader: Option<String>,
    mut report: impl FnMut(Presence) -> bool + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("pcsc-watch".into())
        .spawn(move || {
            let mut present = false;
            loop {
                match watch_once(reader.as_deref(), &mut present, &mut report) {
                    Ok(false) => return,
                    Ok(true) => {}
                    Err(e) => {
                        tracing::debug!(event = "card.pcsc.watch_retry", error = %e);
                        if present {
                            present = false;
                            if !report(Presence::Removed) {
                                return;
                            }
                        }
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        })
}

/// One context's life; `Ok(false)` when the caller wants no more.
fn watch_once(
    wanted: Option<&str>,
    present: &mut bool,
    report: &mut impl FnMut(Presence) -> bool,
) -> Result<bool, TransportError> {
    let ctx =
        Context::establish(Scope::User).map_err(|e| pcsc_error("SCardEstablishContext", e))?;
    let mut states = reader_states(&ctx)?;
    if let Some(wanted) = wanted {
        states.retain(|s| s.name().to_string_lossy().contains(wanted));
    }
    states.truncate(1);
    if states.is_empty() {
        return Err(TransportError::ReaderNotFound(
            wanted.unwrap_or_default().to_string(),
        ));
    }
    loop {
        match ctx.get_status_change(Some(Duration::from_secs(1)), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(pcsc_error("SCardGetStatusChange", e)),
        }
        let st = states[0].event_state();
        if st.contains(State::UNKNOWN) || st.contains(State::UNAVAILABLE) {
            return Err(TransportError::NoReaders);
        }
        let now_present = st.contains(State::PRESENT) && !st.contains(State::MUTE);
        if now_present != *present {
            *present = now_present;
            let event = if now_present {
                Presence::Placed(states[0].name().to_string_lossy().into_owned())
            } else {
                Presence::Removed
            };
            if !report(event) {
                return Ok(false);
            }
        }
        states[0].sync_current_state();
    }
}

/// Names of the readers pcscd knows, for `--reader` hints.
pub fn list_readers() -> Result<Vec<String>, TransportError> {
    let ctx =
        Context::establish(Scope::User).map_err(|e| pcsc_error("SCardEstablishContext", e))?;
    Ok(reader_states(&ctx)?
        .iter()
        .map(|s| s.name().to_string_lossy().into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcsc_errors_stay_attached_as_the_source() {
        let e = pcsc_error("SCardTransmit", pcsc::Error::UnresponsiveCard);
        assert!(matches!(
            e,
            TransportError::Unresponsive(pcsc::Error::UnresponsiveCard)
        ));
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source, Some(pcsc::Error::UnresponsiveCard.to_string()));
        let e = pcsc_error("SCardConnect", pcsc::Error::InvalidHandle);
        assert!(matches!(
            e,
            TransportError::Pcsc {
                operation: "SCardConnect",
                source: pcsc::Error::InvalidHandle
            }
        ));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn the_typed_kinds_callers_match_on_are_kept() {
        assert!(matches!(
            pcsc_error("SCardEstablishContext", pcsc::Error::NoService),
            TransportError::NoService
        ));
        assert!(matches!(
            pcsc_error("SCardTransmit", pcsc::Error::RemovedCard),
            TransportError::CardRemoved
        ));
        assert!(matches!(
            pcsc_error("SCardConnect", pcsc::Error::SharingViolation),
            TransportError::ReaderBusy
        ));
    }
}

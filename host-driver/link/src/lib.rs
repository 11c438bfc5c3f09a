//! The reader link from the host: the link protocol's sans-IO
//! [`HostEndpoint`] (`myna-link`) wrapped around a byte transport that this
//! adapter owns. The simulator's socket ([`tcp`]) is one transport; the USB
//! bulk endpoints ([`usb`], nusb) are the other, carrying the same bytes.
//!
//! [`ReaderLink`] opens a session with `Hello`, keeps what the reader shows
//! (the last screen, the language) so it can draw it again, and turns what
//! the reader says into owned [`LinkEvent`]s, queued in order: a touch that
//! arrives while a camera frame or the PIN is on its way is delivered
//! afterwards, never dropped. When the transport breaks (unplugged, the
//! simulator restarted) or the reader says it does not know the session, the
//! adapter reconnects (the waiting lives in the transport's
//! [`FrameTransport::reconnect`]), opens a new session, redraws, and reports
//! [`LinkEvent::ReaderRestarted`] or [`LinkEvent::Reconnected`].

use std::collections::VecDeque;
use std::io;

pub mod address;
pub mod tcp;
pub mod usb;

pub use address::{connect, LinkAddress};

use myna_link::{
    Button, Camera, CaptureFault, DeviceError, DeviceToHost, HostEndpoint, HostEvent, HostToDevice,
    Language, LinkError, Reassembly, Screen, MAX_FRAME, MAX_PAYLOAD,
};
use zeroize::Zeroizing;

use myna_card::secret::Pin;

pub use myna_link::{FrameTransport, MAX_CAPTURE_BYTES};

/// Image bytes per `FirmwareChunk` (with its header, well inside a frame).
const FIRMWARE_CHUNK: usize = 3072;
/// Starts of an update, and resends of one chunk, before giving up.
const FIRMWARE_ATTEMPTS: u32 = 4;

/// Errors on the reader link.
#[derive(Debug, thiserror::Error)]
pub enum ReaderLinkError {
    /// The transport failed and the reader could not be reached again.
    #[error("reader link I/O")]
    Io(#[from] io::Error),
    /// The reader did not answer in time.
    #[error("the reader did not answer in time")]
    Timeout,
    /// A frame could not be encoded or decoded.
    #[error("reader link frame")]
    Frame(#[source] LinkError),
    /// The reader answered with an error.
    #[error("the reader refused: {0:?}")]
    Device(DeviceError),
    /// Camera parts that do not add up to one frame.
    #[error("camera frame arrived incomplete or inconsistent")]
    Capture(#[source] CaptureFault),
    /// The link broke while this request was under way; it was reconnected
    /// (see the queued event) but the request's answer is lost.
    #[error("the reader link was interrupted; ask again")]
    Interrupted,
    /// A PIN answer that is not four ASCII digits.
    #[error("the reader sent a malformed PIN")]
    BadPin,
    /// A firmware commit was sent, its answer lost, and the reader could
    /// not be reached again to ask which firmware runs: the update may
    /// have been taken. Nothing is sent again until that is known.
    #[error("the firmware commit went unanswered and the reader did not come back")]
    CommitUnanswered,
}

/// Who the reader is, from its `Welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Firmware version.
    pub firmware: u32,
    /// Active boot slot (0 = A, 1 = B).
    pub slot: u8,
    /// Display width.
    pub width: u16,
    /// Display height.
    pub height: u16,
    /// Random at each start of the reader's firmware.
    pub boot_id: u32,
    /// This host's session with it.
    pub session: u32,
}

/// What the reader reported, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// A button on the screen shown as `screen_seq`.
    Touch {
        /// The screen's sequence number from [`ReaderLink::show`].
        screen_seq: u16,
        /// The button.
        button: Button,
    },
    /// The screen shown as `screen_seq` waited 60 s: the reader shows
    /// `Idle` and wiped what was entered.
    IdleTimeout {
        /// The screen that timed out.
        screen_seq: u16,
    },
    /// The reader reported an error outside a request.
    DeviceError(DeviceError),
    /// Frames from the reader were lost on the way.
    FramesLost {
        /// How many.
        count: u16,
    },
    /// The reader restarted (a new boot id): a new session is open and the
    /// last screen was drawn again. Whatever the patient had entered is gone.
    ReaderRestarted {
        /// Its new boot id.
        boot_id: u32,
    },
    /// The transport broke and came back with the same reader: a new
    /// session is open and the last screen was drawn again.
    Reconnected,
}

/// A frame from one of the reader's cameras. Patient frames are face
/// images and card-front frames hold 照合番号B: the bytes are wiped on drop.
pub struct CapturedFrame {
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
    /// 1 grey, 3 RGB.
    pub channels: u8,
    /// Row-major pixels.
    pub pixels: Zeroizing<Vec<u8>>,
}

/// A device message, owned, as the adapter passes it on.
enum Owned {
    Event(LinkEvent),
    Pin(Zeroizing<Vec<u8>>),
    Part {
        camera: Camera,
        width: u16,
        height: u16,
        channels: u8,
        offset: u32,
        data: Zeroizing<Vec<u8>>,
    },
    Welcome {
        boot_id: u32,
        restarted: bool,
        info: (u32, u8, u16, u16),
    },
    SessionLost,
    Info,
    /// Firmware bytes the reader accepted so far.
    Progress(u32),
    Other,
}

impl Owned {
    /// Queues what `event` says, owned (a lost-frames count first). Straight
    /// into the queue: this runs for every camera part.
    fn queue(event: HostEvent<'_>, out: &mut VecDeque<Owned>) {
        match event {
            HostEvent::Welcome {
                boot_id,
                restarted,
                firmware,
                slot,
                width,
                height,
            } => out.push_back(Owned::Welcome {
                boot_id,
                restarted,
                info: (firmware, slot, width, height),
            }),
            HostEvent::SessionLost => out.push_back(Owned::SessionLost),
            HostEvent::Message { lost, message, .. } => {
                if lost > 0 {
                    out.push_back(Owned::Event(LinkEvent::FramesLost { count: lost }));
                }
                out.push_back(match message {
                    DeviceToHost::Touch { screen_seq, button } => {
                        Owned::Event(LinkEvent::Touch { screen_seq, button })
                    }
                    DeviceToHost::IdleTimeout { screen_seq } => {
                        Owned::Event(LinkEvent::IdleTimeout { screen_seq })
                    }
                    DeviceToHost::Error(e) => Owned::Event(LinkEvent::DeviceError(e)),
                    DeviceToHost::Pin { digits } => Owned::Pin(Zeroizing::new(digits.to_vec())),
                    DeviceToHost::FramePart {
                        camera,
                        width,
                        height,
                        channels,
                        offset,
                        data,
                    } => Owned::Part {
                        camera,
                        width,
                        height,
                        channels,
                        offset,
                        data: Zeroizing::new(data.to_vec()),
                    },
                    DeviceToHost::Info { .. } => Owned::Info,
                    DeviceToHost::FirmwareProgress(n) => Owned::Progress(n),
                    DeviceToHost::Welcome { .. } => Owned::Other,
                });
            }
        }
    }
}

/// The bytes side: transport, endpoint and receive buffers.
struct Wire<T> {
    transport: T,
    endpoint: Box<HostEndpoint>,
    rx: Zeroizing<Vec<u8>>,
    start: usize,
    end: usize,
    frame: Zeroizing<Vec<u8>>,
    ready: VecDeque<Owned>,
}

impl<T: FrameTransport> Wire<T> {
    fn send(&mut self, message: &HostToDevice<'_>) -> Result<u16, ReaderLinkError> {
        let (seq, frame) = self
            .endpoint
            .send(message)
            .map_err(ReaderLinkError::Frame)?;
        self.transport.send(frame)?;
        Ok(seq)
    }

    /// The next message of this session (stale frames of older sessions
    /// are logged and skipped; repeats are dropped by the endpoint).
    fn next(&mut self) -> Result<Owned, ReaderLinkError> {
        loop {
            if let Some(owned) = self.ready.pop_front() {
                return Ok(owned);
            }
            if self.start == self.end {
                let n = match self.transport.recv(&mut self.rx) {
                    Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
                    Ok(n) => n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                        ) =>
                    {
                        return Err(ReaderLinkError::Timeout)
                    }
                    Err(e) => return Err(e.into()),
                };
                self.start = 0;
                self.end = n;
            }
            let (used, event) = self
                .endpoint
                .read(&self.rx[self.start..self.end], &mut self.frame);
            self.start += used;
            match event {
                None => {}
                Some(Ok(event)) => Owned::queue(event, &mut self.ready),
                Some(Err(LinkError::StaleSession { got })) => {
                    tracing::debug!(event = "link-stale-frame", session = got);
                }
                Some(Err(e)) => return Err(ReaderLinkError::Frame(e)),
            }
        }
    }

    /// Clears every buffer a PIN or a camera frame crossed, keeping bytes
    /// not read yet (a touch may follow in the same read).
    fn wipe(&mut self) {
        self.endpoint.wipe();
        zeroize::Zeroize::zeroize(&mut self.frame[..]);
        zeroize::Zeroize::zeroize(&mut self.rx[..self.start]);
    }
}

/// The host end of the reader link.
pub struct ReaderLink<T> {
    wire: Wire<T>,
    sessions: Box<dyn FnMut() -> u32 + Send>,
    info: ReaderInfo,
    /// The last screen shown, as its encoded message, to draw it again
    /// after a restart (it may hold a name: wiped on drop).
    last_screen: Option<Zeroizing<Vec<u8>>>,
    screen_seq: Option<u16>,
    language: Option<Language>,
    /// The voice setting sent, replayed after a reconnect (a restarted
    /// reader starts with voice on at its default volume).
    voice: Option<(bool, u8)>,
    events: VecDeque<LinkEvent>,
}

impl<T: FrameTransport> ReaderLink<T> {
    /// Opens a session over `transport`. `sessions` gives a fresh random
    /// session id each time one is opened (randomness is passed in).
    pub fn open(
        transport: T,
        sessions: impl FnMut() -> u32 + Send + 'static,
    ) -> Result<ReaderLink<T>, ReaderLinkError> {
        let mut link = ReaderLink {
            wire: Wire {
                transport,
                endpoint: Box::default(),
                rx: Zeroizing::new(vec![0; 8192]),
                start: 0,
                end: 0,
                frame: Zeroizing::new(vec![0; MAX_FRAME]),
                ready: VecDeque::new(),
            },
            sessions: Box::new(sessions),
            info: ReaderInfo {
                firmware: 0,
                slot: 0,
                width: 0,
                height: 0,
                boot_id: 0,
                session: 0,
            },
            last_screen: None,
            screen_seq: None,
            language: None,
            voice: None,
            events: VecDeque::new(),
        };
        link.handshake()?;
        Ok(link)
    }

    /// The reader, as its last `Welcome` said.
    pub fn info(&self) -> ReaderInfo {
        self.info
    }

    /// The transport (to adjust its timeouts).
    pub fn transport(&mut self) -> &mut T {
        &mut self.wire.transport
    }

    /// Says `Hello` in a new session and waits for the `Welcome`; returns
    /// whether the reader restarted since the last one.
    fn handshake(&mut self) -> Result<bool, ReaderLinkError> {
        let session = (self.sessions)();
        let hello = self
            .wire
            .endpoint
            .hello(session)
            .map_err(ReaderLinkError::Frame)?;
        self.wire.transport.send(hello)?;
        // What was read of the old session but not passed on yet: events
        // keep their place in the queue, the rest (answers to requests
        // that ended) is dropped.
        for owned in std::mem::take(&mut self.wire.ready) {
            if let Owned::Event(event) = owned {
                self.events.push_back(event);
            }
        }
        loop {
            match self.wire.next()? {
                Owned::Welcome {
                    boot_id,
                    restarted,
                    info: (firmware, slot, width, height),
                } => {
                    self.info = ReaderInfo {
                        firmware,
                        slot,
                        width,
                        height,
                        boot_id,
                        session: self.wire.endpoint.session().unwrap_or(0),
                    };
                    tracing::info!(event = "link-session-open", restarted);
                    return Ok(restarted);
                }
                // Nothing else belongs to a session not yet welcomed.
                _ => continue,
            }
        }
    }

    /// After the transport broke or the session was lost: reconnect, open
    /// a new session, draw again what was shown, and queue the event.
    fn recover(&mut self, transport_broke: bool) -> Result<(), ReaderLinkError> {
        tracing::warn!(event = "link-recovering", transport_broke);
        if transport_broke {
            self.wire.transport.reconnect()?;
            self.wire.start = 0;
            self.wire.end = 0;
        }
        let restarted = self.handshake()?;
        if let Some(language) = self.language {
            self.wire.send(&HostToDevice::SetLanguage(language))?;
        }
        if let Some((on, volume)) = self.voice {
            self.wire.send(&HostToDevice::SetVoice { on, volume })?;
        }
        if let Some(encoded) = self.last_screen.clone() {
            let message: HostToDevice<'_> = postcard::from_bytes(&encoded)
                .map_err(|_| ReaderLinkError::Frame(LinkError::Malformed))?;
            self.screen_seq = Some(self.wire.send(&message)?);
        }
        self.events.push_back(if restarted {
            LinkEvent::ReaderRestarted {
                boot_id: self.info.boot_id,
            }
        } else {
            LinkEvent::Reconnected
        });
        Ok(())
    }

    /// Sends `message`; a broken transport is recovered and the message
    /// sent again in the new session.
    fn send(&mut self, message: &HostToDevice<'_>) -> Result<u16, ReaderLinkError> {
        match self.wire.send(message) {
            Err(ReaderLinkError::Io(_)) => {
                self.recover(true)?;
                self.wire.send(message)
            }
            other => other,
        }
    }

    /// The sequence number of the screen on the reader now: the one
    /// [`ReaderLink::show`] returned, or its redraw after a restart.
    pub fn screen_seq(&self) -> Option<u16> {
        self.screen_seq
    }

    /// Shows `screen`; returns its sequence number (touches name it). It is
    /// kept to be drawn again if the reader restarts.
    pub fn show(&mut self, screen: Screen<'_>, visual_check: bool) -> Result<u16, ReaderLinkError> {
        let message = HostToDevice::ShowScreen {
            screen,
            visual_check,
        };
        let mut buf = Zeroizing::new(vec![0u8; MAX_PAYLOAD]);
        let used = postcard::to_slice(&message, &mut buf[..])
            .map_err(|_| ReaderLinkError::Frame(LinkError::Encode))?
            .len();
        buf.truncate(used);
        self.last_screen = Some(buf);
        match self.wire.send(&message) {
            Ok(seq) => {
                self.screen_seq = Some(seq);
                Ok(seq)
            }
            // The recovery draws the screen kept above.
            Err(ReaderLinkError::Io(_)) => {
                self.recover(true)?;
                self.screen_seq.ok_or(ReaderLinkError::Interrupted)
            }
            Err(e) => Err(e),
        }
    }

    /// Draws the screens in `language` from now on.
    pub fn set_language(&mut self, language: Language) -> Result<(), ReaderLinkError> {
        self.language = Some(language);
        self.send(&HostToDevice::SetLanguage(language)).map(|_| ())
    }

    /// Large-text mode on the reader, for the reception at hand (staff
    /// switched it): the reader turns it off by itself when the reception
    /// ends (`Idle` shown again, or the idle timeout), so it is not drawn
    /// again after a reconnect.
    pub fn set_large_text(&mut self, on: bool) -> Result<(), ReaderLinkError> {
        self.send(&HostToDevice::SetLargeText(on)).map(|_| ())
    }

    /// Voice guidance on the reader: spoken prompts on or off, volume
    /// 0–100 (the clinic's setting).
    pub fn set_voice(&mut self, on: bool, volume: u8) -> Result<(), ReaderLinkError> {
        self.voice = Some((on, volume));
        self.send(&HostToDevice::SetVoice { on, volume })
            .map(|_| ())
    }

    /// Sends a sound or light signal.
    pub fn signal(&mut self, signal: myna_link::Signal) -> Result<(), ReaderLinkError> {
        self.send(&HostToDevice::Signal(signal)).map(|_| ())
    }

    /// Waits until the reader has carried out everything sent before (it
    /// answers `GetInfo` in order). An error the reader reported meanwhile
    /// (a screen it refused) is returned; touches stay queued.
    pub fn sync(&mut self) -> Result<(), ReaderLinkError> {
        self.send(&HostToDevice::GetInfo)?;
        loop {
            match self.next_for_request()? {
                Owned::Info => return Ok(()),
                Owned::Event(LinkEvent::DeviceError(e)) => return Err(ReaderLinkError::Device(e)),
                Owned::Event(event) => self.events.push_back(event),
                _ => {}
            }
        }
    }

    /// Reads the next message for a request under way; link troubles are
    /// recovered (queuing their event) and end the request as
    /// [`ReaderLinkError::Interrupted`].
    fn next_for_request(&mut self) -> Result<Owned, ReaderLinkError> {
        match self.wire.next() {
            Ok(Owned::SessionLost) => {
                self.recover(false)?;
                Err(ReaderLinkError::Interrupted)
            }
            Err(ReaderLinkError::Io(_)) => {
                self.recover(true)?;
                Err(ReaderLinkError::Interrupted)
            }
            other => other,
        }
    }

    /// The next event, in order: first those queued while a request was
    /// under way. `Ok(None)` when nothing came within the transport's read
    /// timeout.
    pub fn next_event(&mut self) -> Result<Option<LinkEvent>, ReaderLinkError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            match self.next_for_request() {
                Ok(Owned::Event(event)) => return Ok(Some(event)),
                Ok(_) => continue,
                Err(ReaderLinkError::Interrupted) => continue,
                Err(ReaderLinkError::Timeout) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Asks the reader for the PIN entered on the pad shown now (it hands
    /// it over once and wipes it). Touches that arrive meanwhile are queued.
    pub fn take_pin(&mut self) -> Result<Pin, ReaderLinkError> {
        self.send(&HostToDevice::TakePin)?;
        loop {
            match self.next_for_request()? {
                Owned::Pin(digits) => {
                    self.wire.wipe();
                    let text = std::str::from_utf8(&digits).map_err(|_| ReaderLinkError::BadPin)?;
                    return Pin::new(text).map_err(|_| ReaderLinkError::BadPin);
                }
                Owned::Event(LinkEvent::DeviceError(e)) => return Err(ReaderLinkError::Device(e)),
                Owned::Event(event) => self.events.push_back(event),
                _ => {}
            }
        }
    }

    /// Sends a signed firmware image into the reader's inactive slot:
    /// `signed` is header and body, `signature` the 64 bytes after them.
    /// `progress(accepted, total)` runs after each answer. A disconnect in
    /// the middle resumes where the reader is (a chunk sent twice is taken
    /// once); a reader that restarted meanwhile forgot the image, so it
    /// starts over (a few times at most). After the commit the reader
    /// restarts into the image on trial; [`ReaderLink::info`] tells the
    /// version once the link is open again.
    pub fn update_firmware(
        &mut self,
        version: u32,
        signed: &[u8],
        signature: &[u8],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), ReaderLinkError> {
        let size =
            u32::try_from(signed.len()).map_err(|_| ReaderLinkError::Frame(LinkError::Encode))?;
        let mut attempts = 0;
        'over: loop {
            attempts += 1;
            let boot = self.info.boot_id;
            // What went wrong, when the reader restarted under it, is the
            // restart: start over; anything else is the answer.
            let retry = |link: &mut Self, error: ReaderLinkError| {
                if link.info.boot_id != boot && attempts < FIRMWARE_ATTEMPTS {
                    Ok(true)
                } else if matches!(error, ReaderLinkError::Interrupted)
                    && attempts < FIRMWARE_ATTEMPTS
                {
                    Ok(false)
                } else {
                    Err(error)
                }
            };
            let begin = HostToDevice::FirmwareBegin { size, version };
            if let Err(e) = self.firmware_request(&begin) {
                retry(self, e)?;
                continue 'over;
            }
            progress(0, u64::from(size));
            let mut offset = 0usize;
            let mut resends = 0;
            while offset < signed.len() {
                let end = (offset + FIRMWARE_CHUNK).min(signed.len());
                let chunk = HostToDevice::FirmwareChunk {
                    offset: offset as u32,
                    data: &signed[offset..end],
                };
                match self.firmware_request(&chunk) {
                    Ok(accepted) => {
                        offset = end;
                        resends = 0;
                        progress(u64::from(accepted), u64::from(size));
                    }
                    Err(e) => {
                        resends += 1;
                        if retry(self, e)? || resends > FIRMWARE_ATTEMPTS {
                            continue 'over;
                        }
                    }
                }
            }
            match self.firmware_request(&HostToDevice::FirmwareCommit { signature }) {
                Ok(_) => return Ok(()),
                Err(ReaderLinkError::Device(e)) => return Err(ReaderLinkError::Device(e)),
                // The answer is lost. The reader may have taken the image
                // and restarted into it: ask what runs before sending
                // anything again, so an update that went through is never
                // started over.
                Err(_) => {
                    let running = self.reach_again()?;
                    if running.boot_id != boot && running.firmware == version {
                        return Ok(());
                    }
                    // The same run of the reader, or one that restarted
                    // without the image: it was not committed.
                    if attempts >= FIRMWARE_ATTEMPTS {
                        return Err(ReaderLinkError::Interrupted);
                    }
                    continue 'over;
                }
            }
        }
    }

    /// After a lost answer: opens the link again (each try waits within
    /// the transport's own limit) and gives who the reader is now.
    fn reach_again(&mut self) -> Result<ReaderInfo, ReaderLinkError> {
        // A recovery inside the failed request may already have opened it.
        if self.sync().is_ok() {
            return Ok(self.info);
        }
        for _ in 0..FIRMWARE_ATTEMPTS {
            match self.recover(true) {
                Ok(()) => return Ok(self.info),
                Err(e) => tracing::warn!(event = "link-firmware-commit-unanswered", error = %e),
            }
        }
        Err(ReaderLinkError::CommitUnanswered)
    }

    /// One firmware message and its answer: the bytes accepted so far.
    fn firmware_request(&mut self, message: &HostToDevice<'_>) -> Result<u32, ReaderLinkError> {
        self.send(message)?;
        loop {
            match self.next_for_request()? {
                Owned::Progress(accepted) => return Ok(accepted),
                Owned::Event(LinkEvent::DeviceError(e)) => return Err(ReaderLinkError::Device(e)),
                Owned::Event(event) => self.events.push_back(event),
                _ => {}
            }
        }
    }

    /// Captures one frame from `camera` and puts its parts back together.
    /// Touches and timeouts that arrive meanwhile are queued for
    /// [`ReaderLink::next_event`], in order.
    pub fn capture(&mut self, camera: Camera) -> Result<CapturedFrame, ReaderLinkError> {
        self.send(&HostToDevice::Capture { camera })?;
        let mut reassembly = Reassembly::new(camera);
        let mut pixels: Option<Zeroizing<Vec<u8>>> = None;
        let result = loop {
            match self.next_for_request() {
                Ok(Owned::Part {
                    camera: part_camera,
                    width,
                    height,
                    channels,
                    offset,
                    data,
                }) => {
                    let place = match reassembly.place(
                        part_camera,
                        width,
                        height,
                        channels,
                        offset,
                        data.len(),
                    ) {
                        Ok(place) => place,
                        Err(fault) => break Err(ReaderLinkError::Capture(fault)),
                    };
                    let buf = pixels.get_or_insert_with(|| Zeroizing::new(vec![0; place.total]));
                    buf[place.start..place.end].copy_from_slice(&data);
                    if place.complete {
                        break Ok(());
                    }
                }
                Ok(Owned::Event(LinkEvent::DeviceError(e))) => {
                    break Err(ReaderLinkError::Device(e))
                }
                Ok(Owned::Event(LinkEvent::FramesLost { count })) => {
                    self.events.push_back(LinkEvent::FramesLost { count });
                    break Err(ReaderLinkError::Capture(CaptureFault::OutOfOrder));
                }
                Ok(Owned::Event(event)) => self.events.push_back(event),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        self.wire.wipe();
        result?;
        let (width, height, channels) = reassembly
            .shape()
            .ok_or(ReaderLinkError::Capture(CaptureFault::BadShape))?;
        let pixels = pixels.ok_or(ReaderLinkError::Capture(CaptureFault::BadShape))?;
        Ok(CapturedFrame {
            width,
            height,
            channels,
            pixels,
        })
    }
}

#[cfg(test)]
mod tests;

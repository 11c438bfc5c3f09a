//! The sans-IO endpoint of the link, one per end: bytes in, typed events
//! out, frames to send out. It owns framing, the session and the sequence
//! numbers; the device's `Reader` and the host's link adapter wrap it and
//! move the bytes (USB, a socket, a test's `Vec`).
//!
//! Sessions: the host opens one with `Hello` in a fresh random session id;
//! the device answers `Welcome` with its boot id (random at every start of
//! the firmware) and both ends start their sequence numbers again. From then
//! on a frame of any other session is refused with a typed error, never taken
//! for a repeat: a kiosk that restarts and a reader that reboots are both
//! seen at once instead of having their first frames dropped.
//!
//! Both ends share [`Core`]; what differs is who opens the session and what
//! each one answers, so each has its own small type.

use serde::{Deserialize, Serialize};

use crate::{
    decode, encode, DeviceError, DeviceToHost, Envelope, Feed, FrameReader, HostToDevice,
    LinkError, SeqCheck, SeqStatus, MAX_FRAME, MAX_PAYLOAD,
};

/// Framing, sequence numbers and the session: what both ends share.
struct Core {
    session: Option<u32>,
    tx_seq: u16,
    rx: SeqCheck,
    reader: FrameReader<MAX_FRAME>,
    scratch: [u8; MAX_PAYLOAD],
    out: [u8; MAX_FRAME],
}

impl Core {
    fn new() -> Core {
        Core {
            session: None,
            tx_seq: 0,
            rx: SeqCheck::default(),
            reader: FrameReader::default(),
            scratch: [0; MAX_PAYLOAD],
            out: [0; MAX_FRAME],
        }
    }

    /// Starts a session: both directions count from the frame that opened it.
    fn open(&mut self, session: u32, rx_seq: Option<u16>) {
        self.session = Some(session);
        self.tx_seq = 0;
        self.rx = rx_seq.map(SeqCheck::starting_at).unwrap_or_default();
    }

    /// Reads bytes up to the end of the next frame and decodes it into
    /// `buf`. Returns how many bytes were used (at least one unless `bytes`
    /// is empty) and the frame, if one ended.
    fn next_frame<'b, T: Deserialize<'b>>(
        &mut self,
        bytes: &[u8],
        buf: &'b mut [u8],
    ) -> (usize, Option<Result<Envelope<T>, LinkError>>) {
        for (i, &byte) in bytes.iter().enumerate() {
            match self.reader.push(byte) {
                Feed::Pending => {}
                Feed::Overflow => return (i + 1, Some(Err(LinkError::Oversized))),
                Feed::Frame(frame) => {
                    let n = frame.len();
                    let Some(copy) = buf.get_mut(..n) else {
                        return (i + 1, Some(Err(LinkError::BufferTooSmall)));
                    };
                    copy.copy_from_slice(frame);
                    return (i + 1, Some(decode(copy)));
                }
            }
        }
        (bytes.len(), None)
    }

    /// Encodes `body` in `session` with the next sequence number.
    fn send<T: Serialize>(&mut self, session: u32, body: &T) -> Result<(u16, &[u8]), LinkError> {
        let seq = self.tx_seq;
        let n = encode(session, seq, body, &mut self.scratch, &mut self.out)?;
        self.tx_seq = self.tx_seq.wrapping_add(1);
        Ok((seq, &self.out[..n]))
    }

    fn judge(&mut self, seq: u16) -> Option<u16> {
        match self.rx.check(seq) {
            SeqStatus::Repeated => None,
            SeqStatus::InOrder => Some(0),
            SeqStatus::Gap { lost } => Some(lost),
        }
    }

    fn wipe(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.scratch);
        zeroize::Zeroize::zeroize(&mut self.out);
        self.reader.wipe_spent();
    }
}

/// What the host's endpoint read.
#[derive(Debug, PartialEq, Eq)]
pub enum HostEvent<'a> {
    /// The device opened the session the host asked for.
    Welcome {
        /// The device's boot id.
        boot_id: u32,
        /// A different boot id than the last session's: the reader
        /// restarted (it shows `Idle`; the host redraws).
        restarted: bool,
        /// Firmware version.
        firmware: u32,
        /// Active boot slot.
        slot: u8,
        /// Display width.
        width: u16,
        /// Display height.
        height: u16,
    },
    /// A message of this session.
    Message {
        /// Its sequence number.
        seq: u16,
        /// Frames lost just before it (0 normally).
        lost: u16,
        /// The message.
        message: DeviceToHost<'a>,
    },
    /// The device does not know this session (it restarted since): say
    /// `Hello` again, then redraw.
    SessionLost,
}

/// The host's end: opens sessions, numbers what it sends, judges what comes.
pub struct HostEndpoint {
    core: Core,
    peer_boot: Option<u32>,
    welcomed: bool,
}

impl Default for HostEndpoint {
    fn default() -> Self {
        HostEndpoint::new()
    }
}

impl HostEndpoint {
    /// No session yet.
    pub fn new() -> HostEndpoint {
        HostEndpoint {
            core: Core::new(),
            peer_boot: None,
            welcomed: false,
        }
    }

    /// The session asked for with [`HostEndpoint::hello`], if any.
    pub fn session(&self) -> Option<u32> {
        self.core.session
    }

    /// The device welcomed the current session.
    pub fn is_open(&self) -> bool {
        self.welcomed
    }

    /// The boot id of the device, from its last `Welcome`.
    pub fn peer_boot_id(&self) -> Option<u32> {
        self.peer_boot
    }

    /// Opens a new session with id `session` (random, from the caller; 0 is
    /// reserved for "none" and taken as 1) and returns the `Hello` frame.
    /// Everything of the previous session is refused from now on.
    pub fn hello(&mut self, session: u32) -> Result<&[u8], LinkError> {
        let session = session.max(1);
        self.core.open(session, None);
        self.welcomed = false;
        self.core
            .send(session, &HostToDevice::Hello)
            .map(|(_, frame)| frame)
    }

    /// Encodes a message of this session; returns its sequence number (the
    /// device's touches name the screen by it) and the frame.
    pub fn send(&mut self, message: &HostToDevice<'_>) -> Result<(u16, &[u8]), LinkError> {
        let session = self.core.session.ok_or(LinkError::NoSession)?;
        self.core.send(session, message)
    }

    /// Reads bytes up to the end of the next frame. Returns how many bytes
    /// were used (at least one unless `bytes` is empty) and what the frame
    /// said: `None` when no frame ended, or one ended that was a repeat.
    pub fn read<'b>(
        &mut self,
        bytes: &[u8],
        buf: &'b mut [u8],
    ) -> (usize, Option<Result<HostEvent<'b>, LinkError>>) {
        let (used, frame) = self.core.next_frame::<DeviceToHost<'b>>(bytes, buf);
        let event = match frame {
            None => None,
            Some(Err(e)) => Some(Err(e)),
            Some(Ok(envelope)) => self.judge(envelope),
        };
        (used, event)
    }

    fn judge<'b>(
        &mut self,
        envelope: Envelope<DeviceToHost<'b>>,
    ) -> Option<Result<HostEvent<'b>, LinkError>> {
        let Some(session) = self.core.session else {
            return Some(Err(LinkError::NoSession));
        };
        if envelope.session != session {
            return Some(Err(LinkError::StaleSession {
                got: envelope.session,
            }));
        }
        match envelope.body {
            DeviceToHost::Welcome {
                boot_id,
                firmware,
                slot,
                width,
                height,
            } => {
                self.core.rx = SeqCheck::starting_at(envelope.seq);
                let restarted = self.peer_boot.is_some_and(|b| b != boot_id);
                self.peer_boot = Some(boot_id);
                self.welcomed = true;
                Some(Ok(HostEvent::Welcome {
                    boot_id,
                    restarted,
                    firmware,
                    slot,
                    width,
                    height,
                }))
            }
            // Outside the sequence numbers: the device has no count for a
            // session it does not know.
            DeviceToHost::Error(DeviceError::Session) => {
                self.welcomed = false;
                Some(Ok(HostEvent::SessionLost))
            }
            message => {
                let lost = self.core.judge(envelope.seq)?;
                Some(Ok(HostEvent::Message {
                    seq: envelope.seq,
                    lost,
                    message,
                }))
            }
        }
    }

    /// Clears the encode buffers and the bytes of frames already read (after
    /// a PIN or a camera frame crossed them); a frame half read is kept.
    pub fn wipe(&mut self) {
        self.core.wipe();
    }
}

/// What the device's endpoint read.
#[derive(Debug, PartialEq, Eq)]
pub enum DeviceInput<'a> {
    /// A host opened a session: answer with `Welcome`.
    Hello,
    /// A message of the current session.
    Message {
        /// Its sequence number (touches refer to a screen by it).
        seq: u16,
        /// Frames lost just before it (0 normally): report
        /// `Error(Sequence)`, then carry it out.
        lost: u16,
        /// The message.
        message: HostToDevice<'a>,
    },
    /// A frame that did not decode or was too long: report `Error(Frame)`.
    BadFrame(LinkError),
    /// A frame of a session this device does not have: answer with
    /// [`DeviceEndpoint::refuse_stale`]; it is not carried out.
    Stale {
        /// The session the frame carried.
        session: u32,
    },
}

/// The device's end: answers sessions, numbers what it sends.
pub struct DeviceEndpoint {
    core: Core,
    boot_id: u32,
}

impl DeviceEndpoint {
    /// A freshly started device, `boot_id` drawn at random at start.
    pub fn new(boot_id: u32) -> DeviceEndpoint {
        DeviceEndpoint {
            core: Core::new(),
            boot_id,
        }
    }

    /// This start's boot id.
    pub fn boot_id(&self) -> u32 {
        self.boot_id
    }

    /// The host's current session, if one was opened since start.
    pub fn session(&self) -> Option<u32> {
        self.core.session
    }

    /// Reads bytes up to the end of the next frame. Returns how many bytes
    /// were used (at least one unless `bytes` is empty) and what the frame
    /// asks: `None` when no frame ended, or one ended that was a repeat.
    pub fn read<'b>(
        &mut self,
        bytes: &[u8],
        buf: &'b mut [u8],
    ) -> (usize, Option<DeviceInput<'b>>) {
        let (used, frame) = self.core.next_frame::<HostToDevice<'b>>(bytes, buf);
        let input = match frame {
            None => None,
            Some(Err(e)) => Some(DeviceInput::BadFrame(e)),
            Some(Ok(envelope)) => self.judge(envelope),
        };
        (used, input)
    }

    fn judge<'b>(&mut self, envelope: Envelope<HostToDevice<'b>>) -> Option<DeviceInput<'b>> {
        if matches!(envelope.body, HostToDevice::Hello) && envelope.session != 0 {
            self.core.open(envelope.session, Some(envelope.seq));
            return Some(DeviceInput::Hello);
        }
        if self.core.session != Some(envelope.session) {
            return Some(DeviceInput::Stale {
                session: envelope.session,
            });
        }
        let lost = self.core.judge(envelope.seq)?;
        Some(DeviceInput::Message {
            seq: envelope.seq,
            lost,
            message: envelope.body,
        })
    }

    /// Encodes a message in the current session (0 before any: the host
    /// refuses those) with the next sequence number.
    pub fn send(&mut self, message: &DeviceToHost<'_>) -> Result<&[u8], LinkError> {
        let session = self.core.session.unwrap_or(0);
        self.core.send(session, message).map(|(_, frame)| frame)
    }

    /// The answer to a [`DeviceInput::Stale`] frame: `Error(Session)` in the
    /// refused frame's session, outside the sequence numbers (so it cannot
    /// disturb the current session's count).
    pub fn refuse_stale(&mut self, session: u32) -> Result<&[u8], LinkError> {
        let core = &mut self.core;
        let n = encode(
            session,
            0,
            &DeviceToHost::Error(DeviceError::Session),
            &mut core.scratch,
            &mut core.out,
        )?;
        Ok(&core.out[..n])
    }

    /// Clears the encode buffers and the bytes of frames already read (after
    /// a PIN or a camera frame crossed them); a frame half read is kept.
    pub fn wipe(&mut self) {
        self.core.wipe();
    }
}

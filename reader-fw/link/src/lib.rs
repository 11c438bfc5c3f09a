//! The link between the host driver and the reader's vendor interface.
//!
//! One frame on the wire is `COBS(postcard(Envelope) ‖ CRC-32/ISO-HDLC LE)`
//! followed by a `0x00` delimiter. The envelope carries the protocol version,
//! the session the host opened with `Hello`, and a sequence number per
//! direction, so a lost or repeated frame is seen ([`SeqCheck`]) and a frame
//! of an older session is refused instead of being taken for a repeat. The
//! same bytes cross USB bulk endpoints and the simulator's socket. `no_std`,
//! no allocator: payloads borrow from the frame.
//!
//! What lives here:
//! - this file: frames ([`encode`], [`decode`], [`FrameReader`]) and
//!   sequence numbers ([`SeqCheck`]);
//! - [`messages`]: the protocol's messages, with a `Debug` that never shows a
//!   PIN or camera bytes;
//! - [`endpoint`]: the sans-IO endpoint both ends wrap (sessions, sequence
//!   numbers, framing): [`HostEndpoint`] and [`DeviceEndpoint`];
//! - [`capture`]: the bounded reassembly of a camera frame from its parts;
//! - [`samples`]: every screen with sample parameters, by name;
//! - with the `std` feature, [`FrameTransport`]: what carries the frames'
//!   bytes (a socket, USB bulk endpoints, an in-process reader), the one
//!   trait the host's link adapter and the simulator share.
//!
//! postcard (a serde format made for embedded links) and the `cobs` crate do
//! the encoding; nothing here is a hand-written format.
#![no_std]
#[cfg(feature = "std")]
extern crate std;

use serde::{Deserialize, Serialize};

pub mod capture;
pub mod endpoint;
pub mod messages;
pub mod samples;
#[cfg(feature = "std")]
mod transport;
pub use capture::{CaptureFault, Placement, Reassembly, MAX_CAPTURE_BYTES};
pub use endpoint::{DeviceEndpoint, DeviceInput, HostEndpoint, HostEvent};
pub use messages::*;
#[cfg(feature = "std")]
pub use transport::FrameTransport;

/// The protocol version this crate speaks. Version 2 added sessions;
/// version 3 the screen parameters of issue 12 (the consent step count,
/// 「暗証番号が違います」, face on `PinLocked`, `NotMyNumberCard`, no 限度額
/// item) and `DeviceError::PinInVisualCheck`; version 4 the live face
/// guide (`FaceCapture::placed`), the 健診 line of `ConsentOverview`,
/// `RegistrationTerms`, `SetLargeText`, and the reason in
/// `DeviceError::FirmwareRejected`.
pub const PROTOCOL_VERSION: u8 = 4;

/// Largest frame payload (before COBS), so both sides can size buffers.
pub const MAX_PAYLOAD: usize = 4096;

/// Largest encoded frame, delimiter included.
pub const MAX_FRAME: usize = MAX_PAYLOAD + MAX_PAYLOAD / 254 + 2;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Why a frame cannot be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The buffer is too small for the frame.
    BufferTooSmall,
    /// The message does not serialise.
    Encode,
    /// Not valid COBS.
    Cobs,
    /// Shorter than a CRC.
    TooShort,
    /// The CRC does not match: corrupted on the way.
    Crc,
    /// Another protocol version.
    Version(u8),
    /// The payload is not a message of this protocol.
    Malformed,
    /// A frame longer than [`MAX_FRAME`] was dropped.
    Oversized,
    /// No session yet: the host must send `Hello` first.
    NoSession,
    /// A frame of another session (an older kiosk run, or a frame sent
    /// before the peer restarted): refused, never taken for a repeat.
    StaleSession {
        /// The session the frame carried.
        got: u32,
    },
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LinkError::BufferTooSmall => f.write_str("frame buffer too small"),
            LinkError::Encode => f.write_str("message does not serialise"),
            LinkError::Cobs => f.write_str("frame is not valid COBS"),
            LinkError::TooShort => f.write_str("frame shorter than its checksum"),
            LinkError::Crc => f.write_str("frame checksum mismatch (corrupted)"),
            LinkError::Version(v) => write!(f, "peer speaks link protocol version {v}"),
            LinkError::Malformed => f.write_str("frame is not a message of this protocol"),
            LinkError::Oversized => f.write_str("frame longer than the protocol allows"),
            LinkError::NoSession => f.write_str("no link session open"),
            LinkError::StaleSession { got } => write!(f, "frame of an old link session ({got})"),
        }
    }
}

impl core::error::Error for LinkError {}

/// What travels in a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// [`PROTOCOL_VERSION`].
    pub version: u8,
    /// The session the host opened (0 before any).
    pub session: u32,
    /// Per-direction sequence number, wrapping; both start again at 0 with
    /// each session.
    pub seq: u16,
    /// The message.
    pub body: T,
}

/// Encodes one frame into `out` (delimiter included), using `scratch` for
/// the unstuffed bytes. Returns the frame length.
pub fn encode<T: Serialize>(
    session: u32,
    seq: u16,
    body: &T,
    scratch: &mut [u8],
    out: &mut [u8],
) -> Result<usize, LinkError> {
    let envelope = Envelope {
        version: PROTOCOL_VERSION,
        session,
        seq,
        body,
    };
    let used = postcard::to_slice(&envelope, scratch)
        .map_err(|e| match e {
            postcard::Error::SerializeBufferFull => LinkError::BufferTooSmall,
            _ => LinkError::Encode,
        })?
        .len();
    if used + 4 > scratch.len() || used + 4 > MAX_PAYLOAD {
        return Err(LinkError::BufferTooSmall);
    }
    let crc = CRC.checksum(&scratch[..used]).to_le_bytes();
    scratch[used..used + 4].copy_from_slice(&crc);
    let stuffed =
        cobs::try_encode(&scratch[..used + 4], out).map_err(|_| LinkError::BufferTooSmall)?;
    let delimiter = out.get_mut(stuffed).ok_or(LinkError::BufferTooSmall)?;
    *delimiter = 0;
    Ok(stuffed + 1)
}

/// Decodes one frame (without its `0x00` delimiter) in place.
pub fn decode<'a, T: Deserialize<'a>>(frame: &'a mut [u8]) -> Result<Envelope<T>, LinkError> {
    if frame.is_empty() {
        return Err(LinkError::TooShort);
    }
    let len = cobs::decode_in_place(frame).map_err(|_| LinkError::Cobs)?;
    let data = &frame[..len];
    if data.len() < 4 {
        return Err(LinkError::TooShort);
    }
    let (payload, crc) = data.split_at(data.len() - 4);
    if CRC.checksum(payload).to_le_bytes() != crc {
        return Err(LinkError::Crc);
    }
    // Read the version before the body, so a newer peer is reported as such
    // rather than as garbage.
    let (version, _) =
        postcard::take_from_bytes::<u8>(payload).map_err(|_| LinkError::Malformed)?;
    if version != PROTOCOL_VERSION {
        return Err(LinkError::Version(version));
    }
    let (envelope, rest): (Envelope<T>, _) =
        postcard::take_from_bytes(payload).map_err(|_| LinkError::Malformed)?;
    if !rest.is_empty() {
        return Err(LinkError::Malformed);
    }
    Ok(envelope)
}

/// What a sequence number says about the frames before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqStatus {
    /// The expected next frame (or the first one).
    InOrder,
    /// The same frame again: drop it.
    Repeated,
    /// Frames were lost in between.
    Gap {
        /// How many.
        lost: u16,
    },
}

/// Tracks one direction's sequence numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqCheck {
    last: Option<u16>,
}

impl SeqCheck {
    /// A check that has seen `seq` (the frame that opened a session).
    pub fn starting_at(seq: u16) -> SeqCheck {
        SeqCheck { last: Some(seq) }
    }

    /// Judges `seq` and remembers it unless it is a repeat.
    pub fn check(&mut self, seq: u16) -> SeqStatus {
        let status = match self.last {
            None => SeqStatus::InOrder,
            Some(last) if seq == last => return SeqStatus::Repeated,
            Some(last) => match seq.wrapping_sub(last) {
                1 => SeqStatus::InOrder,
                // Far behind (more than half the space): an old frame again.
                // Only within one session: a restarted peer opens a new one.
                d if d > u16::MAX / 2 => return SeqStatus::Repeated,
                d => SeqStatus::Gap { lost: d - 1 },
            },
        };
        self.last = Some(seq);
        status
    }
}

/// Splits a byte stream into frames at the `0x00` delimiters.
pub struct FrameReader<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflowed: bool,
}

/// What [`FrameReader::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Feed<'a> {
    /// Need more bytes.
    Pending,
    /// A complete frame (delimiter removed), ready for [`decode`].
    Frame(&'a mut [u8]),
    /// A frame longer than the buffer was dropped.
    Overflow,
}

impl<const N: usize> Default for FrameReader<N> {
    fn default() -> Self {
        FrameReader {
            buf: [0; N],
            len: 0,
            overflowed: false,
        }
    }
}

impl<const N: usize> FrameReader<N> {
    /// Clears the bytes of frames already handed out (they may have held a
    /// PIN or camera bytes); a partial frame still being read is kept.
    pub fn wipe_spent(&mut self) {
        let len = self.len;
        if let Some(spent) = self.buf.get_mut(len..) {
            zeroize::Zeroize::zeroize(spent);
        }
    }

    /// Feeds one byte.
    pub fn push(&mut self, byte: u8) -> Feed<'_> {
        if byte == 0 {
            let len = core::mem::take(&mut self.len);
            if core::mem::take(&mut self.overflowed) {
                return Feed::Overflow;
            }
            if len == 0 {
                return Feed::Pending;
            }
            return Feed::Frame(&mut self.buf[..len]);
        }
        if self.len == N {
            self.overflowed = true;
            return Feed::Pending;
        }
        self.buf[self.len] = byte;
        self.len += 1;
        Feed::Pending
    }
}

/// Entry point for fuzzing the decoder and both endpoints: never panics.
#[cfg(feature = "fuzz")]
pub fn fuzz_decode(data: &[u8]) {
    let mut frame = [0u8; MAX_FRAME];
    let n = data.len().min(frame.len());
    frame[..n].copy_from_slice(&data[..n]);
    let _ = decode::<HostToDevice<'_>>(&mut frame[..n]);
    let mut frame2 = [0u8; MAX_FRAME];
    frame2[..n].copy_from_slice(&data[..n]);
    let _ = decode::<DeviceToHost<'_>>(&mut frame2[..n]);
    // The endpoints, fed the same bytes as a stream, in and out of a session.
    let mut buf = [0u8; MAX_FRAME];
    let mut device = DeviceEndpoint::new(7);
    let mut host = HostEndpoint::new();
    let _ = host.hello(1);
    for _ in 0..2 {
        let mut rest = data;
        while !rest.is_empty() {
            let (used, _) = device.read(rest, &mut buf);
            rest = rest.get(used..).unwrap_or_default();
        }
        let mut rest = data;
        while !rest.is_empty() {
            let (used, _) = host.read(rest, &mut buf);
            rest = rest.get(used..).unwrap_or_default();
        }
        let _ = device.read(&[0], &mut buf);
    }
}

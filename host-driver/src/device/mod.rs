//! The reader's vendor interface from the host: the link protocol
//! (`myna-link`) over any byte transport. The simulator's socket is one
//! transport; the USB bulk endpoints ([`usb`], nusb) are the other,
//! carrying the same bytes.

use std::io::{self, Read, Write};

pub mod usb;

use myna_link::{
    decode, encode, DeviceToHost, Envelope, Feed, FrameReader, HostToDevice, LinkError, SeqCheck,
    SeqStatus, MAX_FRAME, MAX_PAYLOAD,
};

/// Errors on the device link.
#[derive(Debug, thiserror::Error)]
pub enum DeviceLinkError {
    /// The transport failed or closed.
    #[error("device link I/O: {0}")]
    Io(#[from] io::Error),
    /// A frame could not be encoded or decoded (typed by the protocol).
    #[error("device link frame: {0:?}")]
    Frame(LinkError),
    /// A frame longer than the protocol allows was dropped.
    #[error("device sent an oversized frame")]
    Oversized,
}

/// Bytes to and from the device: a socket, or USB bulk endpoints.
pub trait Transport: Read + Write {}
impl<T: Read + Write> Transport for T {}

/// A received message with what its sequence number says.
#[derive(Debug)]
pub struct Received<'a> {
    /// In order, repeated (drop it) or after a gap.
    pub status: SeqStatus,
    /// The device's sequence number.
    pub seq: u16,
    /// The message.
    pub message: DeviceToHost<'a>,
}

/// The host end of the link.
pub struct DeviceLink<T> {
    transport: T,
    next_seq: u16,
    incoming: SeqCheck,
    reader: Box<FrameReader<MAX_FRAME>>,
    pending: Vec<u8>,
    position: usize,
    frame: Vec<u8>,
    /// Encoding buffers, allocated once per link.
    scratch: Vec<u8>,
    out: Vec<u8>,
}

impl<T: Transport> DeviceLink<T> {
    /// A link over `transport`.
    pub fn new(transport: T) -> DeviceLink<T> {
        DeviceLink {
            transport,
            next_seq: 0,
            incoming: SeqCheck::default(),
            reader: Box::default(),
            pending: Vec::new(),
            position: 0,
            frame: Vec::new(),
            scratch: vec![0; MAX_PAYLOAD],
            out: vec![0; MAX_FRAME],
        }
    }

    /// Sends a message; returns its sequence number (touches refer to it).
    pub fn send(&mut self, message: &HostToDevice<'_>) -> Result<u16, DeviceLinkError> {
        let seq = self.next_seq;
        let n = encode(seq, message, &mut self.scratch, &mut self.out)
            .map_err(DeviceLinkError::Frame)?;
        self.transport.write_all(&self.out[..n])?;
        self.transport.flush()?;
        self.next_seq = self.next_seq.wrapping_add(1);
        Ok(seq)
    }

    /// Reads until the next complete frame and decodes it. A corrupted frame
    /// is reported as an error; the link stays usable for the next one.
    pub fn recv(&mut self) -> Result<Received<'_>, DeviceLinkError> {
        loop {
            if self.position == self.pending.len() {
                self.pending.resize(4096, 0);
                let n = self.transport.read(&mut self.pending)?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
                }
                self.pending.truncate(n);
                self.position = 0;
            }
            let byte = self.pending[self.position];
            self.position += 1;
            match self.reader.push(byte) {
                Feed::Pending => {}
                Feed::Overflow => return Err(DeviceLinkError::Oversized),
                Feed::Frame(frame) => {
                    self.frame.clear();
                    self.frame.extend_from_slice(frame);
                    break;
                }
            }
        }
        let envelope: Envelope<DeviceToHost<'_>> =
            decode(&mut self.frame).map_err(DeviceLinkError::Frame)?;
        let status = self.incoming.check(envelope.seq);
        Ok(Received {
            status,
            seq: envelope.seq,
            message: envelope.body,
        })
    }
}

/// The largest frame a capture accepts (4096×4096 RGB).
pub const MAX_CAPTURE_BYTES: usize = 4096 * 4096 * 3;

/// A frame from one of the reader's cameras. Patient frames are face
/// images: the bytes are wiped on drop.
pub struct CapturedFrame {
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
    /// 1 grey, 3 RGB.
    pub channels: u8,
    /// Row-major pixels.
    pub pixels: zeroize::Zeroizing<Vec<u8>>,
}

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The link failed.
    #[error(transparent)]
    Link(#[from] DeviceLinkError),
    /// The device reported an error instead of a frame.
    #[error("device refused the capture: {0:?}")]
    Device(myna_link::DeviceError),
    /// Parts that do not add up to one frame (lost, overlapping, resized).
    #[error("camera frame arrived incomplete or inconsistent")]
    Inconsistent,
}

impl<T: Transport> DeviceLink<T> {
    /// Captures one frame from `camera` and reassembles its parts.
    pub fn capture(&mut self, camera: myna_link::Camera) -> Result<CapturedFrame, CaptureError> {
        self.send(&HostToDevice::Capture { camera })?;
        let mut frame: Option<CapturedFrame> = None;
        let mut filled = 0usize;
        loop {
            let got = self.recv()?;
            if got.status == SeqStatus::Repeated {
                continue;
            }
            if let SeqStatus::Gap { .. } = got.status {
                return Err(CaptureError::Inconsistent);
            }
            match got.message {
                DeviceToHost::FramePart {
                    camera: part_camera,
                    width,
                    height,
                    channels,
                    offset,
                    data,
                } if part_camera == camera => {
                    let total = usize::from(width) * usize::from(height) * usize::from(channels);
                    // Sizes come from the device: refuse what no reader camera
                    // sends rather than allocate for it.
                    if !matches!(channels, 1 | 3) || total == 0 || total > MAX_CAPTURE_BYTES {
                        return Err(CaptureError::Inconsistent);
                    }
                    let f = frame.get_or_insert_with(|| CapturedFrame {
                        width,
                        height,
                        channels,
                        pixels: zeroize::Zeroizing::new(vec![0; total]),
                    });
                    let start = offset as usize;
                    if (f.width, f.height, f.channels) != (width, height, channels)
                        || start != filled
                        || start + data.len() > total
                    {
                        return Err(CaptureError::Inconsistent);
                    }
                    f.pixels[start..start + data.len()].copy_from_slice(data);
                    filled += data.len();
                    if filled == total {
                        return frame.ok_or(CaptureError::Inconsistent);
                    }
                }
                DeviceToHost::Error(e) => return Err(CaptureError::Device(e)),
                // Touches while capturing are not ours to drop silently, but
                // a capture happens on screens without buttons; skip others.
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use myna_link::{Button, Screen};
    use std::net::{TcpListener, TcpStream};

    /// One frame from the host, delimiter removed, as the device reads it.
    fn read_host_frame(socket: &mut TcpStream) -> Vec<u8> {
        let mut reader = FrameReader::<MAX_FRAME>::default();
        let mut byte = [0u8; 1];
        loop {
            socket.read_exact(&mut byte).unwrap();
            if let Feed::Frame(frame) = reader.push(byte[0]) {
                return frame.to_vec();
            }
        }
    }

    fn device_frame(seq: u16, msg: &DeviceToHost<'_>) -> Vec<u8> {
        let mut scratch = vec![0u8; MAX_PAYLOAD];
        let mut out = vec![0u8; MAX_FRAME];
        let n = encode(seq, msg, &mut scratch, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn messages_cross_a_socket_and_sequence_faults_are_seen() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let device = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            // Read the host's ShowScreen frame and answer with touches.
            let mut frame = read_host_frame(&mut socket);
            let env: Envelope<HostToDevice<'_>> = decode(&mut frame).unwrap();
            assert!(matches!(
                env.body,
                HostToDevice::ShowScreen {
                    screen: Screen::ChooseMethod { face_only: false },
                    ..
                }
            ));
            let shown_seq = env.seq;
            let touch = DeviceToHost::Touch {
                screen_seq: shown_seq,
                button: Button::Face,
            };
            let first = device_frame(0, &touch);
            socket.write_all(&first).unwrap();
            socket.write_all(&first).unwrap(); // repeated
            let mut corrupt = device_frame(1, &touch);
            corrupt[2] ^= 0x40;
            socket.write_all(&corrupt).unwrap();
            socket.write_all(&device_frame(3, &touch)).unwrap(); // 1 and 2 lost
        });
        let mut link = DeviceLink::new(TcpStream::connect(addr).unwrap());
        let seq = link
            .send(&HostToDevice::ShowScreen {
                screen: Screen::ChooseMethod { face_only: false },
                visual_check: false,
            })
            .unwrap();
        let got = link.recv().unwrap();
        assert_eq!(got.status, SeqStatus::InOrder);
        assert_eq!(
            got.message,
            DeviceToHost::Touch {
                screen_seq: seq,
                button: Button::Face
            }
        );
        assert_eq!(link.recv().unwrap().status, SeqStatus::Repeated);
        assert!(matches!(link.recv(), Err(DeviceLinkError::Frame(_))));
        assert_eq!(link.recv().unwrap().status, SeqStatus::Gap { lost: 2 });
        device.join().unwrap();
        assert!(
            matches!(link.recv(), Err(DeviceLinkError::Io(_))),
            "the device closed"
        );
    }

    fn capture_against(parts: Vec<DeviceToHost<'static>>) -> Result<CapturedFrame, CaptureError> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let device = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            read_host_frame(&mut socket);
            let mut byte = [0u8; 1];
            for (seq, part) in parts.iter().enumerate() {
                socket.write_all(&device_frame(seq as u16, part)).unwrap();
            }
            // Keep the socket open until the host is done.
            let _ = socket.read(&mut byte);
        });
        let mut link = DeviceLink::new(TcpStream::connect(addr).unwrap());
        let got = link.capture(myna_link::Camera::Patient);
        drop(link);
        device.join().unwrap();
        got
    }

    fn part(
        width: u16,
        height: u16,
        channels: u8,
        offset: u32,
        data: &'static [u8],
    ) -> DeviceToHost<'static> {
        DeviceToHost::FramePart {
            camera: myna_link::Camera::Patient,
            width,
            height,
            channels,
            offset,
            data,
        }
    }

    #[test]
    fn captures_are_reassembled_and_inconsistent_parts_refused() {
        let ok =
            capture_against(vec![part(2, 2, 1, 0, &[1, 2]), part(2, 2, 1, 2, &[3, 4])]).unwrap();
        assert_eq!((ok.width, ok.height, ok.channels), (2, 2, 1));
        assert_eq!(&ok.pixels[..], &[1, 2, 3, 4]);
        for bad in [
            vec![part(2, 2, 1, 0, &[1, 2]), part(2, 2, 1, 3, &[3])], // a hole
            vec![part(2, 2, 1, 0, &[1, 2]), part(4, 2, 1, 2, &[3, 4])], // resized
            vec![part(2, 2, 7, 0, &[1, 2])],                         // channels
            vec![part(u16::MAX, u16::MAX, 3, 0, &[1])],              // too big to allocate
            vec![part(1, 1, 1, 0, &[1, 2, 3])],                      // overruns
        ] {
            assert!(matches!(
                capture_against(bad),
                Err(CaptureError::Inconsistent)
            ));
        }
        let refused = capture_against(vec![DeviceToHost::Error(myna_link::DeviceError::Camera)]);
        assert!(matches!(
            refused,
            Err(CaptureError::Device(myna_link::DeviceError::Camera))
        ));
    }
}

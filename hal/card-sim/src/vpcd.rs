//! The vpcd side channel: vsmartcard's virtual reader driver speaks a tiny
//! framed protocol over TCP (2-byte big-endian length, then the payload), and
//! this module answers it with a [`Card`].

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::card::Card;

/// A control message from vpcd, or a command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Power off.
    PowerOff,
    /// Power on.
    PowerOn,
    /// Warm reset.
    Reset,
    /// Answer with the ATR.
    GetAtr,
    /// A command APDU.
    Apdu(Vec<u8>),
    /// A one-byte control code this emulator does not know.
    Unknown(u8),
}

impl Message {
    /// Interprets a frame payload: one byte is always a control code.
    pub fn from_payload(payload: Vec<u8>) -> Message {
        match payload.as_slice() {
            [0x00] => Message::PowerOff,
            [0x01] => Message::PowerOn,
            [0x02] => Message::Reset,
            [0x04] => Message::GetAtr,
            [other] => Message::Unknown(*other),
            _ => Message::Apdu(payload),
        }
    }
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame(stream: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload)?;
    Ok(Some(payload))
}

/// Writes one frame.
pub fn write_frame(stream: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 65535 bytes"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

/// Connects to vpcd, retrying until `patience` runs out (pcscd may still be
/// starting).
pub fn connect(addr: &str, patience: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + patience;
    loop {
        match TcpStream::connect(addr) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// What ended a session with vpcd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// vpcd closed the connection.
    ReaderClosed,
    /// The emulator pulled the card out (closed the socket) on purpose.
    CardPulled,
}

/// Serves `card` on an established connection until it ends. `pull_after`
/// pulls the card (closes the socket without answering) when that many APDUs
/// have been answered; `on_apdu` sees each exchange for logging.
pub fn serve(
    stream: &mut TcpStream,
    card: &mut Card,
    pull_after: Option<u64>,
    mut on_apdu: impl FnMut(&mut Card),
) -> io::Result<SessionEnd> {
    let mut answered = 0u64;
    loop {
        // vpcd sends the length and the payload in two writes without
        // TCP_NODELAY; acknowledging at once keeps Nagle + delayed ACK from
        // adding ~40 ms to every APDU. Linux clears the flag after use.
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::TcpStreamExt;
            let _ = stream.set_quickack(true);
        }
        let Some(payload) = read_frame(stream)? else {
            break;
        };
        match Message::from_payload(payload) {
            Message::PowerOff | Message::PowerOn | Message::Reset => card.reset(),
            Message::GetAtr => write_frame(stream, card.atr())?,
            Message::Unknown(_) => {}
            Message::Apdu(apdu) => {
                if pull_after.is_some_and(|limit| answered >= limit) {
                    return Ok(SessionEnd::CardPulled);
                }
                let response = card.process(&apdu);
                on_apdu(card);
                write_frame(stream, &response)?;
                answered += 1;
            }
        }
    }
    Ok(SessionEnd::ReaderClosed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &[0x00, 0xA4, 0x04, 0x0C]).unwrap();
        assert_eq!(buf, [0x00, 0x04, 0x00, 0xA4, 0x04, 0x0C]);
        let mut cursor = io::Cursor::new(buf);
        assert_eq!(
            read_frame(&mut cursor).unwrap(),
            Some(vec![0x00, 0xA4, 0x04, 0x0C])
        );
        assert_eq!(read_frame(&mut cursor).unwrap(), None);
    }

    #[test]
    fn one_byte_payloads_are_control_codes() {
        assert_eq!(Message::from_payload(vec![4]), Message::GetAtr);
        assert_eq!(Message::from_payload(vec![1]), Message::PowerOn);
        assert_eq!(Message::from_payload(vec![9]), Message::Unknown(9));
        assert!(matches!(
            Message::from_payload(vec![0, 0xB0]),
            Message::Apdu(_)
        ));
    }
}

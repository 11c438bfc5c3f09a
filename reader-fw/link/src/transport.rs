//! The byte transport under the link (`std` only): the host's link adapter
//! wraps one, and the simulator's in-process reader is one.

use std::boxed::Box;
use std::io;

/// Carries the link's bytes to and from the reader: a socket, or USB bulk
/// endpoints.
pub trait FrameTransport: Send {
    /// Sends all of `bytes` (whole frames) now.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what arrived into `buf`. `Ok(0)` means the reader went away;
    /// a read timeout is an error of kind `TimedOut` or `WouldBlock`.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// After a failure: waits (within the transport's own limit) until the
    /// reader can be reached again, and reconnects.
    fn reconnect(&mut self) -> io::Result<()>;
    /// How long `recv` waits before reporting a timeout (the kiosk's loop
    /// reads with a short one, to serve its other events in between).
    fn set_read_timeout(&mut self, _timeout: std::time::Duration) -> io::Result<()> {
        Ok(())
    }
}

impl FrameTransport for Box<dyn FrameTransport> {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).recv(buf)
    }
    fn reconnect(&mut self) -> io::Result<()> {
        (**self).reconnect()
    }
    fn set_read_timeout(&mut self, timeout: std::time::Duration) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
}

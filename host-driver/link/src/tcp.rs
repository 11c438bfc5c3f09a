//! The simulator's transport: the link's bytes on a TCP socket
//! (`reader-sim --listen`). A reconnect tries the same address again until
//! the simulator is back or the wait runs out.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::FrameTransport;

/// A link over TCP to `reader-sim`.
pub struct TcpTransport {
    address: String,
    stream: Option<TcpStream>,
    read_timeout: Option<Duration>,
    /// How long [`FrameTransport::reconnect`] keeps trying.
    pub reconnect_within: Duration,
}

impl TcpTransport {
    /// Connects to `address` (`HOST:PORT`).
    pub fn connect(address: &str) -> io::Result<TcpTransport> {
        let mut transport = TcpTransport {
            address: address.to_string(),
            stream: None,
            read_timeout: Some(Duration::from_secs(5)),
            reconnect_within: Duration::from_secs(10),
        };
        transport.open()?;
        Ok(transport)
    }

    /// How long a read waits before reporting a timeout (`None`: forever).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout = timeout;
        if let Some(stream) = &self.stream {
            stream.set_read_timeout(timeout)?;
        }
        Ok(())
    }

    fn open(&mut self) -> io::Result<()> {
        let mut last = io::Error::from(io::ErrorKind::NotFound);
        for address in self.address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(self.read_timeout)?;
                    self.stream = Some(stream);
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl FrameTransport for TcpTransport {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        TcpTransport::set_read_timeout(self, Some(timeout))
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let stream = self.stream()?;
        stream.write_all(bytes)?;
        stream.flush()
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream()?.read(buf)
    }

    fn reconnect(&mut self) -> io::Result<()> {
        self.stream = None;
        let deadline = Instant::now() + self.reconnect_within;
        loop {
            match self.open() {
                Ok(()) => {
                    tracing::info!(event = "link-tcp-reconnected");
                    return Ok(());
                }
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

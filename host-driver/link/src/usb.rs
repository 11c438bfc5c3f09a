//! The reader's vendor interface over USB (nusb: pure Rust, usbfs on
//! Linux, no libusb). Bulk OUT carries the host's frames and bulk IN the
//! device's, the same bytes as the simulator's socket. When the reader is
//! unplugged the transport reports the break (frames in flight may be
//! lost); [`FrameTransport::reconnect`] then waits for the same reader to
//! come back and reopens it, and the link opens a new session.
//!
//! Choosing the device and its endpoints is plain code ([`UsbTarget`],
//! [`pick_endpoints`]) tested without hardware; the nusb calls around it are
//! thin.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::FrameTransport;

use nusb::descriptors::TransferType;
use nusb::io::{EndpointRead, EndpointWrite};
use nusb::transfer::{Bulk, In, Out};
use nusb::MaybeFuture;

/// USB class code of a vendor-specific interface.
pub const VENDOR_CLASS: u8 = 0xFF;

/// Which reader to use. The IDs come from configuration; the defaults are
/// the pid.codes test IDs the development boards enumerate with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbTarget {
    /// Vendor ID.
    pub vendor_id: u16,
    /// Product ID.
    pub product_id: u16,
    /// A particular reader when several are attached.
    pub serial: Option<String>,
}

impl Default for UsbTarget {
    fn default() -> Self {
        UsbTarget {
            vendor_id: 0x1209,
            product_id: 0x0001,
            serial: None,
        }
    }
}

/// What enumeration tells about one attached device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Vendor ID.
    pub vendor_id: u16,
    /// Product ID.
    pub product_id: u16,
    /// Serial number string, if any.
    pub serial: Option<String>,
    /// (interface number, class) of each interface.
    pub interfaces: Vec<(u8, u8)>,
}

impl UsbTarget {
    /// The vendor interface of `device` if it is this reader.
    pub fn vendor_interface(&self, device: &Candidate) -> Option<u8> {
        if device.vendor_id != self.vendor_id || device.product_id != self.product_id {
            return None;
        }
        if let Some(wanted) = &self.serial {
            if device.serial.as_deref() != Some(wanted.as_str()) {
                return None;
            }
        }
        // The CCID interface belongs to pcscd; ours is the vendor one.
        device
            .interfaces
            .iter()
            .find(|(_, class)| *class == VENDOR_CLASS)
            .map(|(number, _)| *number)
    }
}

/// The bulk IN and bulk OUT endpoint addresses among an interface's
/// `(address, type)` endpoints.
pub fn pick_endpoints(endpoints: &[(u8, TransferType)]) -> Option<(u8, u8)> {
    let bulk = |dir_in: bool| {
        endpoints
            .iter()
            .find(|(addr, kind)| *kind == TransferType::Bulk && (addr & 0x80 != 0) == dir_in)
            .map(|(addr, _)| *addr)
    };
    Some((bulk(true)?, bulk(false)?))
}

/// Why the reader could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum UsbError {
    /// No attached device matches.
    #[error("no reader {vendor_id:04x}:{product_id:04x} with a vendor interface is attached")]
    NotFound {
        /// Vendor ID looked for.
        vendor_id: u16,
        /// Product ID looked for.
        product_id: u16,
    },
    /// The interface has no bulk IN/OUT pair.
    #[error("the reader's vendor interface has no bulk endpoints")]
    NoEndpoints,
    /// Enumeration, open or claim failed (permissions: see udev/README.md).
    #[error("USB: {0}")]
    Usb(#[from] nusb::Error),
}

struct Open {
    read: EndpointRead<Bulk>,
    write: EndpointWrite<Bulk>,
}

/// The vendor interface as a byte stream for [`super::ReaderLink`].
pub struct UsbTransport {
    target: UsbTarget,
    open: Option<Open>,
    /// How long a read waits for the device before reporting a timeout.
    pub read_timeout: Duration,
    /// How long to wait for an unplugged reader to come back.
    pub reconnect_within: Duration,
}

impl UsbTransport {
    /// Opens the reader now.
    pub fn open(target: UsbTarget) -> Result<UsbTransport, UsbError> {
        let open = open_device(&target)?;
        Ok(UsbTransport {
            target,
            open: Some(open),
            read_timeout: Duration::from_secs(5),
            reconnect_within: Duration::from_secs(30),
        })
    }

    fn opened(&mut self) -> io::Result<&mut Open> {
        self.open
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }

    fn broken(&mut self, e: io::Error) -> io::Error {
        if e.kind() != io::ErrorKind::TimedOut {
            // Unplugged or reset: drop the endpoints; `reconnect` reopens.
            tracing::warn!(event = "link-usb-lost");
            self.open = None;
            return io::Error::new(io::ErrorKind::ConnectionReset, e);
        }
        e
    }
}

fn open_device(target: &UsbTarget) -> Result<Open, UsbError> {
    let not_found = || UsbError::NotFound {
        vendor_id: target.vendor_id,
        product_id: target.product_id,
    };
    let (info, number) = nusb::list_devices()
        .wait()?
        .find_map(|info| {
            let candidate = Candidate {
                vendor_id: info.vendor_id(),
                product_id: info.product_id(),
                serial: info.serial_number().map(str::to_owned),
                interfaces: info
                    .interfaces()
                    .map(|i| (i.interface_number(), i.class()))
                    .collect(),
            };
            target.vendor_interface(&candidate).map(|n| (info, n))
        })
        .ok_or_else(not_found)?;
    let device = info.open().wait()?;
    let interface = device.claim_interface(number).wait()?;
    let endpoints: Vec<(u8, TransferType)> = interface
        .descriptor()
        .map(|d| {
            d.endpoints()
                .map(|e| (e.address(), e.transfer_type()))
                .collect()
        })
        .unwrap_or_default();
    let (ep_in, ep_out) = pick_endpoints(&endpoints).ok_or(UsbError::NoEndpoints)?;
    let read = interface
        .endpoint::<Bulk, In>(ep_in)?
        .reader(myna_link::MAX_FRAME)
        .with_read_timeout(Duration::from_secs(5));
    let write = interface
        .endpoint::<Bulk, Out>(ep_out)?
        .writer(myna_link::MAX_FRAME);
    Ok(Open { read, write })
}

impl FrameTransport for UsbTransport {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.read_timeout = timeout;
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let open = self.opened()?;
        // Ends the transfer with a short packet so the device sees the frame
        // now, and waits until it went out.
        let sent = open
            .write
            .write_all(bytes)
            .and_then(|()| open.write.flush_end().map_err(io::Error::other));
        sent.map_err(|e| self.broken(e))
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let timeout = self.read_timeout;
        let open = self.opened()?;
        open.read.set_read_timeout(timeout);
        match open.read.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.broken(e)),
        }
    }

    fn reconnect(&mut self) -> io::Result<()> {
        self.open = None;
        let deadline = Instant::now() + self.reconnect_within;
        loop {
            match open_device(&self.target) {
                Ok(open) => {
                    tracing::info!(event = "link-usb-reconnected");
                    self.open = Some(open);
                    return Ok(());
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(io::Error::new(io::ErrorKind::NotConnected, e))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(serial: &str) -> Candidate {
        Candidate {
            vendor_id: 0x1209,
            product_id: 0x0001,
            serial: Some(serial.into()),
            // CCID (class 0x0B) first, vendor second, as the reader enumerates.
            interfaces: vec![(0, 0x0B), (1, VENDOR_CLASS)],
        }
    }

    #[test]
    fn the_vendor_interface_of_the_right_reader_is_chosen() {
        let any = UsbTarget::default();
        assert_eq!(any.vendor_interface(&reader("A1")), Some(1));
        let only_b = UsbTarget {
            serial: Some("B2".into()),
            ..UsbTarget::default()
        };
        assert_eq!(only_b.vendor_interface(&reader("A1")), None);
        assert_eq!(only_b.vendor_interface(&reader("B2")), Some(1));
        let mut other = reader("A1");
        other.product_id = 2;
        assert_eq!(any.vendor_interface(&other), None);
        let mut ccid_only = reader("A1");
        ccid_only.interfaces.truncate(1);
        assert_eq!(
            any.vendor_interface(&ccid_only),
            None,
            "never the CCID interface"
        );
    }

    #[test]
    fn bulk_in_and_out_are_picked_and_interrupt_endpoints_ignored() {
        let eps = [
            (0x83, TransferType::Interrupt),
            (0x02, TransferType::Bulk),
            (0x81, TransferType::Bulk),
        ];
        assert_eq!(pick_endpoints(&eps), Some((0x81, 0x02)));
        assert_eq!(pick_endpoints(&eps[..2]), None);
    }
}

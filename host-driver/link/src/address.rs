//! Where a reader is: `tcp:HOST:PORT` for the simulator, `usb` or
//! `usb:SERIAL` for a real reader on its vendor interface.

use std::fmt;
use std::str::FromStr;

use super::tcp::TcpTransport;
use super::usb::{UsbError, UsbTarget, UsbTransport};
use super::FrameTransport;

/// A reader's address as a person writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAddress {
    /// `tcp:HOST:PORT`: `reader-sim --listen`.
    Tcp(String),
    /// `usb` (the only reader attached) or `usb:SERIAL`.
    Usb {
        /// Which reader, when several are attached.
        serial: Option<String>,
    },
}

/// Why an address does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a reader address (tcp:HOST:PORT or usb[:SERIAL])")]
pub struct BadAddress(pub String);

impl FromStr for LinkAddress {
    type Err = BadAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAddress(s.to_string());
        match s.split_once(':') {
            None if s == "usb" => Ok(LinkAddress::Usb { serial: None }),
            Some(("usb", serial)) if !serial.is_empty() => Ok(LinkAddress::Usb {
                serial: Some(serial.to_string()),
            }),
            Some(("tcp", rest)) => {
                let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
                if host.is_empty() || port.parse::<u16>().is_err() {
                    return Err(bad());
                }
                Ok(LinkAddress::Tcp(rest.to_string()))
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for LinkAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkAddress::Tcp(addr) => write!(f, "tcp:{addr}"),
            LinkAddress::Usb { serial: None } => f.write_str("usb"),
            LinkAddress::Usb {
                serial: Some(serial),
            } => write!(f, "usb:{serial}"),
        }
    }
}

/// Why a transport could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The simulator's socket.
    #[error("cannot connect to {address}")]
    Tcp {
        /// Where.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The USB reader.
    #[error("cannot open the USB reader")]
    Usb(#[from] UsbError),
}

/// Opens the transport to `address`.
pub fn connect(address: &LinkAddress) -> Result<Box<dyn FrameTransport>, ConnectError> {
    Ok(match address {
        LinkAddress::Tcp(addr) => {
            Box::new(
                TcpTransport::connect(addr).map_err(|source| ConnectError::Tcp {
                    address: addr.clone(),
                    source,
                })?,
            )
        }
        LinkAddress::Usb { serial } => Box::new(UsbTransport::open(UsbTarget {
            serial: serial.clone(),
            ..UsbTarget::default()
        })?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_print_back() {
        for text in ["tcp:127.0.0.1:7000", "tcp:localhost:1", "usb", "usb:A1B2"] {
            let address: LinkAddress = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(address.to_string(), text);
        }
        for bad in [
            "",
            "tcp:",
            "tcp:host",
            "tcp::80",
            "tcp:host:99999",
            "usb:",
            "serial:/dev/ttyACM0",
            "127.0.0.1:7000",
        ] {
            assert_eq!(
                bad.parse::<LinkAddress>(),
                Err(BadAddress(bad.into())),
                "{bad}"
            );
        }
    }
}

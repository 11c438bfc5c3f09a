//! The upstream leg: signed messages ([`messages`], [`jws`], [`signer`],
//! built in [`request`]) and the [`remote::Upstream`] trait they go
//! through, on the time and randomness given ([`clock`]); with the
//! default `client` feature, the kiosk's delivery side: the durable outbox
//! ([`outbox`]), delivery ([`courier`]), the HTTP adapter ([`http`]) and
//! the kiosk's messages built, signed and handed over ([`sender`]). The
//! reference upstream that checks everything lives in its own crate
//! (`tests/upstream-ref`, on the wire types alone), so the kiosk carries no
//! server code.

pub mod clock;
#[cfg(feature = "client")]
pub mod courier;
#[cfg(feature = "client")]
pub mod http;
pub mod jws;
pub mod messages;
#[cfg(feature = "client")]
pub mod outbox;
#[cfg(feature = "client")]
mod proof;
pub mod remote;
pub mod request;
#[cfg(feature = "client")]
pub mod sender;
pub mod signer;

#[cfg(test)]
mod tests;

//! The upstream leg: signed messages ([`messages`], [`jws`], [`signer`]), the
//! durable outbox ([`outbox`]) and delivery ([`courier`]) behind the
//! [`courier::Upstream`] trait with its HTTP adapter ([`http`]), on the
//! time and randomness it is given ([`clock`]). The reference upstream that
//! checks everything lives in its own crate (`tests/upstream-ref`), so the
//! kiosk carries no server code.

pub mod clock;
#[cfg(feature = "client")]
pub mod courier;
#[cfg(feature = "client")]
pub mod http;
pub mod jws;
pub mod messages;
#[cfg(feature = "client")]
pub mod outbox;
pub mod remote;
pub mod request;
pub mod signer;

#[cfg(test)]
mod tests;

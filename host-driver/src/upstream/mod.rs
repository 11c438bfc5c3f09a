//! The upstream leg: signed messages ([`messages`], [`jws`], [`signer`]), the
//! durable outbox ([`outbox`]) and delivery ([`courier`]) behind the
//! [`courier::Upstream`] trait with its HTTP adapter ([`http`]), and the
//! reference upstream that checks everything ([`reference`]).

pub mod courier;
pub mod http;
pub mod jws;
pub mod messages;
pub mod outbox;
pub mod reference;
pub mod request;
pub mod signer;

#[cfg(test)]
mod tests;

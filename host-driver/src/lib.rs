//! mynareader host driver: the card (APDU commands, JPKI operations, PC/SC),
//! and the typed secrets that must never leave memory.
//!
//! Layers: sans-IO cores (commands, BER, status words) at the bottom, thin
//! adapters (PC/SC on its own thread) at the edge, the `mynareader` CLI on top.

pub mod card;
pub mod card_front;
pub mod face;
pub mod link;
pub mod secret;
pub mod upstream;

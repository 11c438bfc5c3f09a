//! mynareader host driver: the card (APDU commands, JPKI operations, PC/SC),
//! the face pipeline, the reader link, the reception, the upstream, firmware
//! images, and the typed secrets that must never leave memory.
//!
//! Layers: sans-IO cores (commands, BER, status words, the reception) at the
//! bottom, thin adapters (PC/SC on its own thread, the link's transports,
//! the kiosk's ports) at the edge, the `mynareader` CLI on top.

pub mod card;
pub mod card_front;
pub mod console;
pub mod diagnose;
pub mod face;
pub mod fw;
pub mod kiosk;
pub mod link;
pub mod reception;
pub mod rig;
pub mod secret;
pub mod staff;
pub mod upstream;

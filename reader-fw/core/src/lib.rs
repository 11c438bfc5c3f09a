//! The reader's firmware core: what the device does, with no I/O of its
//! own (the board's HAL is passed in) and no heap.
//!
//! - [`catalogue`]: every string a patient sees, per language;
//! - [`font`]: pre-rasterised BIZ UDPGothic and text layout (禁則 wrapping);
//! - [`view`]: a host screen checked into what the device shows;
//! - [`ui`]: layout, drawing and hit-testing of every screen;
//! - [`pinpad`]: the shuffled PIN pad and the PIN buffer;
//! - [`device`]: the device end of the link, tying them to the HAL.
#![no_std]

pub mod catalogue;
pub mod device;
pub mod font;
pub mod pinpad;
pub mod ui;
pub mod view;

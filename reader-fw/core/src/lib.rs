//! The reader's firmware core: what the device does, with no I/O of its
//! own (the board's HAL is passed in) and no heap.
//!
//! - [`catalogue`]: every string a patient sees, per language (the
//!   `myna-catalogue` crate, re-exported);
//! - [`font`]: pre-rasterised BIZ UDPGothic and text layout (禁則 wrapping,
//!   the [`font::Fit`] report);
//! - [`panel`]: the display's metrics (size, px/mm, margins, header);
//! - [`stack_str`]: the small on-stack string composed text is built in;
//! - [`view`]: a host screen checked into what the device shows;
//! - [`ui`]: the screens: button layout and hit-testing, painting,
//!   drawing primitives;
//! - [`pinpad`]: the shuffled PIN pad and the PIN buffer;
//! - [`voice`]: each screen's spoken prompt and the player that streams
//!   it from the voice asset (`myna-voice`) to the HAL's speaker;
//! - [`device`]: the device end of the link, tying them to the HAL.
#![no_std]

pub use myna_catalogue as catalogue;

pub mod device;
pub mod font;
pub mod panel;
pub mod pinpad;
pub mod stack_str;
pub mod ui;
pub mod update;
pub mod view;
pub mod voice;

//! Every screen of the reader, in three parts with one direction of use:
//!
//! - [`layout`]: the buttons of each screen and hit-testing (no pixels);
//! - [`paint`]: drawing whole screens, with the [`Fit`] report of their text;
//! - [`preview`]: the live camera picture in the face guide;
//! - [`primitives`]: palette, text blocks, icons and pictures.
//!
//! Sizes assume the 7-inch 800×480 panel ([`crate::panel`]): buttons are at
//! least [`MIN_BUTTON_PX`] (15 mm) on each side; text is 24–60 px. The
//! common names are re-exported here (`ui::draw`, `ui::hit`, `ui::Frame`,
//! `ui::Key`, the panel metrics).

pub mod layout;
pub mod paint;
pub mod preview;
pub mod primitives;

pub use layout::{buttons, hit, ButtonSpec, Buttons, Key, Label, Look, PAD_LEFT};
pub use paint::{check, draw, Frame};
pub use primitives::colour;

pub use crate::font::Fit;
pub use crate::panel::{CONTENT_WIDTH, HEADER_HEIGHT, HEIGHT, MARGIN, MIN_BUTTON_PX, WIDTH};

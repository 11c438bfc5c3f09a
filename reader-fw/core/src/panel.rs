//! The panel's metrics: the 7-inch 800×480 display (about 5.2 px/mm), the
//! header band, the margins and the smallest button, shared by layout,
//! painting and the screen checks in [`crate::view`].

use embedded_graphics_core::geometry::{Point, Size};
use embedded_graphics_core::primitives::Rectangle;

/// Panel width.
pub const WIDTH: u32 = 800;
/// Panel height.
pub const HEIGHT: u32 = 480;
/// Pixels per 10 mm on the panel (5.2 px/mm).
pub const PX_PER_10MM: u32 = 52;
/// Height of the header band (the 目視 banner when the mode is on).
pub const HEADER_HEIGHT: u32 = 60;
/// Left and right margin.
pub const MARGIN: i32 = 40;
/// Width between the margins.
pub const CONTENT_WIDTH: u32 = WIDTH - 2 * MARGIN as u32;
/// 15 mm at 5.2 px/mm: the smallest side of any button.
pub const MIN_BUTTON_PX: u32 = 15 * PX_PER_10MM / 10;

/// The rectangle at `(x, y)` of `w` × `h`.
pub fn rect(x: i32, y: i32, w: u32, h: u32) -> Rectangle {
    Rectangle::new(Point::new(x, y), Size::new(w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_button_is_78_px() {
        assert_eq!(MIN_BUTTON_PX, 78);
    }
}

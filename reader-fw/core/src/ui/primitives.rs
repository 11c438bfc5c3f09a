//! Drawing primitives the screens are painted with: the palette, filled
//! areas, text blocks (returning their [`Fit`]), the icons, the card
//! picture and the face-guide ring.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Circle, Line, PrimitiveStyle, PrimitiveStyleBuilder, Rectangle, RoundedRectangle,
};
use embedded_graphics_core::pixelcolor::Rgb565;

use crate::font::{draw_block, Align, Fit, Font, TextStyle};
use crate::panel::rect;

const fn rgb(r: u8, g: u8, b: u8) -> Rgb565 {
    // Rgb888 → Rgb565 at compile time.
    Rgb565::new(r >> 3, g >> 2, b >> 3)
}

/// The palette: dark ink on white. Text is drawn only in the pairs of
/// [`pair`], each at least 7:1 (WCAG AAA; `tests/contrast.rs`).
pub mod colour {
    use super::{rgb, Rgb565};
    /// Page.
    pub const PAPER: Rgb565 = rgb(0xFF, 0xFF, 0xFF);
    /// Text.
    pub const INK: Rgb565 = rgb(0x1A, 0x1A, 0x1A);
    /// Secondary text.
    pub const GREY: Rgb565 = rgb(0x4A, 0x4A, 0x4A);
    /// Buttons and the header.
    pub const BLUE: Rgb565 = rgb(0x00, 0x48, 0x98);
    /// Pale blue panels.
    pub const PALE_BLUE: Rgb565 = rgb(0xE6, 0xF0, 0xFA);
    /// The 目視 banner.
    pub const YELLOW: Rgb565 = rgb(0xFF, 0xD4, 0x00);
    /// The warning sign (a picture, never behind text).
    pub const AMBER: Rgb565 = rgb(0xE0, 0x7A, 0x00);
    /// The 「カードをお取りください」 band (dark text on it).
    pub const TAKE_CARD: Rgb565 = rgb(0xFF, 0xA8, 0x30);
    /// Hint panels.
    pub const PALE_AMBER: Rgb565 = rgb(0xFF, 0xF1, 0xCC);
    /// The last try.
    pub const RED: Rgb565 = rgb(0xB0, 0x00, 0x20);
    /// Success.
    pub const GREEN: Rgb565 = rgb(0x00, 0x7A, 0x33);
    /// Pad function keys.
    pub const LIGHT_GREY: Rgb565 = rgb(0xE4, 0xE4, 0xE4);
    /// The camera area.
    pub const DARK: Rgb565 = rgb(0x30, 0x34, 0x38);
}

use colour::*;

/// A text colour on the background it is drawn on. Made only in [`pair`],
/// so every pair text is drawn in is listed there ([`pair::ALL`]) and
/// checked for contrast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    fg: Rgb565,
    bg: Rgb565,
}

impl Pair {
    /// The text colour.
    pub fn fg(&self) -> Rgb565 {
        self.fg
    }

    /// The background under the text.
    pub fn bg(&self) -> Rgb565 {
        self.bg
    }
}

macro_rules! pairs {
    ($( $(#[$doc:meta])* $name:ident = $fg:ident on $bg:ident; )*) => {
        /// Every text/background pair the screens use.
        pub mod pair {
            use super::colour::*;
            use super::Pair;
            $( $(#[$doc])* pub const $name: Pair = Pair { fg: $fg, bg: $bg }; )*
            /// All of them, by name (for the contrast test).
            pub const ALL: &[(&str, Pair)] = &[ $( (stringify!($name), $name), )* ];
        }
    };
}

pairs! {
    /// Body text and titles.
    TEXT = INK on PAPER;
    /// Notes (secondary text).
    NOTE = GREY on PAPER;
    /// The header, primary buttons.
    ON_BLUE = PAPER on BLUE;
    /// Secondary buttons, the PIN progress dots.
    BLUE_TEXT = BLUE on PAPER;
    /// Panels (name, consent item, privacy line, tries left).
    ON_PALE_BLUE = INK on PALE_BLUE;
    /// Hint and grace panels.
    ON_PALE_AMBER = INK on PALE_AMBER;
    /// The 目視 banner.
    ON_YELLOW = INK on YELLOW;
    /// 取消 / 訂正.
    ON_LIGHT_GREY = INK on LIGHT_GREY;
    /// The last try, 「暗証番号が違います」.
    ON_RED = PAPER on RED;
    /// 「カードをお取りください」.
    ON_TAKE_CARD = INK on TAKE_CARD;
}

/// Text in `font`, in `pair` (its background is used for the blending).
pub(crate) fn style(font: &'static Font, pair: Pair) -> TextStyle {
    TextStyle {
        font,
        fg: pair.fg,
        bg: pair.bg,
    }
}

/// A filled rectangle.
pub(crate) fn fill<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    r: Rectangle,
    c: Rgb565,
) -> Result<(), D::Error> {
    t.fill_solid(&r, c)
}

/// One text block in `area`, with how it fit.
pub(crate) fn text<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    s: &str,
    area: Rectangle,
    st: TextStyle,
    align: Align,
) -> Result<Fit, D::Error> {
    draw_block(t, &st, s, area, align)
}

/// The round warning sign, centred at `(cx, cy)`.
pub(crate) fn warning_icon<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    cx: i32,
    cy: i32,
) -> Result<(), D::Error> {
    Circle::with_center(Point::new(cx, cy), 64)
        .into_styled(PrimitiveStyle::with_fill(AMBER))
        .draw(t)?;
    fill(t, rect(cx - 4, cy - 20, 9, 26), PAPER)?;
    fill(t, rect(cx - 4, cy + 12, 9, 9), PAPER)
}

/// The round check sign.
pub(crate) fn check_icon<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    cx: i32,
    cy: i32,
) -> Result<(), D::Error> {
    Circle::with_center(Point::new(cx, cy), 64)
        .into_styled(PrimitiveStyle::with_fill(GREEN))
        .draw(t)?;
    let stroke = PrimitiveStyle::with_stroke(PAPER, 8);
    Line::new(Point::new(cx - 16, cy + 1), Point::new(cx - 4, cy + 13))
        .into_styled(stroke)
        .draw(t)?;
    Line::new(Point::new(cx - 4, cy + 13), Point::new(cx + 17, cy - 12))
        .into_styled(stroke)
        .draw(t)
}

/// The card as drawn on `Idle` and `Reading`.
pub(crate) fn draw_card<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    at: Point,
    scale: f32,
) -> Result<(), D::Error> {
    let s = |v: u32| (v as f32 * scale) as u32;
    let card = Rectangle::new(at, Size::new(s(200), s(126)));
    RoundedRectangle::with_equal_corners(card, Size::new(12, 12))
        .into_styled(
            PrimitiveStyleBuilder::new()
                .fill_color(rgb(0xF4, 0xE9, 0xF2))
                .stroke_color(INK)
                .stroke_width(3)
                .build(),
        )
        .draw(t)?;
    // The photo sits on the right of the card front.
    let photo = Rectangle::new(
        at + Point::new(s(138) as i32, s(22) as i32),
        Size::new(s(46), s(58)),
    );
    fill(t, photo, rgb(0x9A, 0xA8, 0xB8))?;
    Circle::new(at + Point::new(s(150) as i32, s(30) as i32), s(22))
        .into_styled(PrimitiveStyle::with_fill(PAPER))
        .draw(t)?;
    for row in 0..4 {
        fill(
            t,
            Rectangle::new(
                at + Point::new(s(16) as i32, s(26 + row * 18) as i32),
                Size::new(s(100), s(6)),
            ),
            rgb(0xB8, 0xA8, 0xB4),
        )?;
    }
    Ok(())
}

/// An elliptical ring (the face guide), drawn as row spans: the
/// embedded-graphics ellipse overflows its integer maths at this size.
pub(crate) fn oval_ring<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    centre: Point,
    rx: i32,
    ry: i32,
    thickness: i32,
    colour: Rgb565,
) -> Result<(), D::Error> {
    let half_width = |rx: i32, ry: i32, dy: i32| -> Option<i32> {
        if dy.abs() > ry {
            return None;
        }
        let f = 1.0 - (dy * dy) as f32 / (ry * ry) as f32;
        Some((rx as f32 * sqrt(f)) as i32)
    };
    for dy in -ry..=ry {
        let Some(outer) = half_width(rx, ry, dy) else {
            continue;
        };
        let inner = half_width(rx - thickness, ry - thickness, dy);
        let y = centre.y + dy;
        match inner {
            Some(inner) => {
                fill(
                    t,
                    rect(centre.x - outer, y, (outer - inner) as u32, 1),
                    colour,
                )?;
                fill(
                    t,
                    rect(centre.x + inner, y, (outer - inner) as u32, 1),
                    colour,
                )?;
            }
            None => fill(t, rect(centre.x - outer, y, (2 * outer) as u32, 1), colour)?,
        }
    }
    Ok(())
}

/// Square root without `std` (Newton's method; inputs are in 0..=1).
fn sqrt(v: f32) -> f32 {
    if v <= 0.0 {
        return 0.0;
    }
    let mut x = if v < 1.0 { 1.0 } else { v };
    for _ in 0..12 {
        x = 0.5 * (x + v / x);
    }
    x
}

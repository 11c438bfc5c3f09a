//! Anti-aliased bitmap fonts and text layout. The glyphs are BIZ UDPGothic
//! (Morisawa's universal-design typeface, SIL OFL 1.1, see `OFL.txt`),
//! rasterised ahead of time by `reader-fw/fontgen` for exactly the
//! characters the catalogue and the kana name can use, so the device needs
//! no font engine and no heap. 4 bits of coverage per pixel.
//!
//! Text layout (禁則-aware line breaking) lives here too, and reports how
//! text fit its box as a [`Fit`] value returned by [`draw_block`]: no
//! process-wide state.

mod generated;

use embedded_graphics_core::draw_target::DrawTarget;
use embedded_graphics_core::geometry::{Point, Size};
use embedded_graphics_core::pixelcolor::Rgb565;
use embedded_graphics_core::primitives::Rectangle;
use myna_hal::blend;

pub use generated::{BODY, BUTTON, DIGITS, LARGE, NOTE, TITLE};

/// One rasterised character.
#[derive(Debug, Clone, Copy)]
pub struct Glyph {
    /// The character.
    pub ch: char,
    /// Pen advance in pixels.
    pub advance: u8,
    /// Bitmap left edge from the pen.
    pub left: i8,
    /// Bitmap top edge above the baseline.
    pub top: i8,
    /// Bitmap width.
    pub width: u8,
    /// Bitmap height.
    pub height: u8,
    /// Start of its 4-bit pixels in [`Font::bitmap`] (in nibbles).
    pub offset: u32,
}

/// A font at one pixel size.
#[derive(Debug)]
pub struct Font {
    /// Nominal size in pixels (em height).
    pub px: u8,
    /// Baseline below the top of a line.
    pub ascent: u8,
    /// Distance between baselines.
    pub line_height: u8,
    /// Sorted by character.
    pub glyphs: &'static [Glyph],
    /// Coverage, two pixels per byte, high nibble first.
    pub bitmap: &'static [u8],
}

impl Font {
    /// The glyph for `c`, if this font has it.
    pub fn glyph(&self, c: char) -> Option<&Glyph> {
        self.glyphs
            .binary_search_by(|g| g.ch.cmp(&c))
            .ok()
            .map(|i| &self.glyphs[i])
    }

    /// Whether every character of `s` (line breaks aside) has a glyph.
    pub fn covers(&self, s: &str) -> bool {
        s.chars().all(|c| c == '\n' || self.glyph(c).is_some())
    }

    /// Width of one line in pixels (characters without a glyph take none).
    pub fn width(&self, s: &str) -> u32 {
        s.chars()
            .filter_map(|c| self.glyph(c))
            .map(|g| u32::from(g.advance))
            .sum()
    }

    fn coverage(&self, g: &Glyph, index: u32) -> u8 {
        let nibble = g.offset + index;
        match self.bitmap.get((nibble / 2) as usize) {
            Some(byte) if nibble.is_multiple_of(2) => byte >> 4,
            Some(byte) => byte & 0x0F,
            None => 0,
        }
    }
}

/// Colours for text: the background must be the one under it, since
/// anti-aliased edges are blended with it.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    /// The font.
    pub font: &'static Font,
    /// Ink.
    pub fg: Rgb565,
    /// Paper.
    pub bg: Rgb565,
}

/// Draws one line with its baseline at `baseline`, starting at `x`.
/// Returns the pen position after it.
pub fn draw_line<D: DrawTarget<Color = Rgb565>>(
    target: &mut D,
    style: &TextStyle,
    s: &str,
    x: i32,
    baseline: i32,
) -> Result<i32, D::Error> {
    let font = style.font;
    let mut pen = x;
    // 16 precomputed shades: blending per pixel would dominate a redraw.
    let mut shades = [style.bg; 16];
    for (a, shade) in shades.iter_mut().enumerate() {
        *shade = blend(style.fg, style.bg, a as u8);
    }
    for c in s.chars() {
        let Some(g) = font.glyph(c) else { continue };
        if g.width > 0 && g.height > 0 {
            let area = Rectangle::new(
                Point::new(pen + i32::from(g.left), baseline - i32::from(g.top)),
                Size::new(u32::from(g.width), u32::from(g.height)),
            );
            let count = u32::from(g.width) * u32::from(g.height);
            target.fill_contiguous(
                &area,
                (0..count).map(|i| shades[usize::from(font.coverage(g, i))]),
            )?;
        }
        pen += i32::from(g.advance);
    }
    Ok(pen)
}

/// Characters that must not start a line (行頭禁則).
fn no_line_start(c: char) -> bool {
    matches!(
        c,
        '、' | '。'
            | '，'
            | '．'
            | '」'
            | '』'
            | ')'
            | '）'
            | 'ー'
            | 'ぁ'
            | 'ぃ'
            | 'ぅ'
            | 'ぇ'
            | 'ぉ'
            | 'っ'
            | 'ゃ'
            | 'ゅ'
            | 'ょ'
            | 'ァ'
            | 'ィ'
            | 'ゥ'
            | 'ェ'
            | 'ォ'
            | 'ッ'
            | 'ャ'
            | 'ュ'
            | 'ョ'
            | '・'
            | '!'
            | '?'
            | '.'
            | ','
            | ':'
            | ';'
    )
}

/// Characters that must not end a line (行末禁則).
fn no_line_end(c: char) -> bool {
    matches!(c, '「' | '『' | '(' | '（')
}

/// Splits text into lines that fit `max_width`: at every `\n`, and then
/// wherever a line is too wide, between two Japanese characters (keeping
/// 禁則) or at a space. No allocation: lines borrow from the text.
pub struct Lines<'a> {
    font: &'static Font,
    rest: Option<&'a str>,
    max_width: u32,
    forced: bool,
    wrapped: bool,
}

impl Lines<'_> {
    /// Whether a line had to be cut inside a word (no allowed break fit).
    pub fn forced(&self) -> bool {
        self.forced
    }

    /// Whether a line had to be wrapped beyond the text's own `\n` breaks.
    /// Japanese is read in phrases, so the layout tests require the
    /// catalogue's own breaks to do.
    pub fn wrapped(&self) -> bool {
        self.wrapped
    }
}

/// How `text` lays out at a width: one pass over its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// Height of all lines.
    pub height: u32,
    /// Every line within the width and every break at an allowed place.
    pub within_width: bool,
    /// A line had to be cut inside a word (no allowed break fit).
    pub forced_cut: bool,
    /// A line had to be wrapped beyond the text's own `\n` breaks.
    pub wrapped: bool,
}

/// Lays `text` out at `font` within `width` without drawing.
pub fn measure(font: &'static Font, text: &str, width: u32) -> Measure {
    let mut it = lines(font, text, width);
    let mut count = 0u32;
    let mut within_width = true;
    for line in it.by_ref() {
        within_width &= font.width(line) <= width;
        count += 1;
    }
    Measure {
        height: count * u32::from(font.line_height),
        within_width: within_width && !it.forced(),
        forced_cut: it.forced(),
        wrapped: it.wrapped(),
    }
}

/// Whether `text` fits `width` × `height` at `font` with every break at an
/// allowed place.
pub fn fits(font: &'static Font, text: &str, width: u32, height: u32) -> bool {
    let m = measure(font, text, width);
    m.within_width && m.height <= height
}

/// The lines of `text` at `font` within `max_width`.
pub fn lines<'a>(font: &'static Font, text: &'a str, max_width: u32) -> Lines<'a> {
    Lines {
        font,
        rest: Some(text),
        max_width,
        forced: false,
        wrapped: false,
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let (para, after) = match rest.find('\n') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if self.font.width(para) <= self.max_width {
            self.rest = after;
            return Some(para);
        }
        // Too wide: find the last allowed break that fits.
        self.wrapped = true;
        let mut width = 0u32;
        let mut best: Option<usize> = None;
        let mut prev: Option<char> = None;
        for (i, c) in para.char_indices() {
            if let Some(p) = prev {
                let cjk_pair = !p.is_ascii() || !c.is_ascii();
                let allowed =
                    (p == ' ' || c == ' ' || cjk_pair) && !no_line_start(c) && !no_line_end(p);
                if allowed {
                    best = Some(i);
                }
            }
            width += self.font.glyph(c).map_or(0, |g| u32::from(g.advance));
            if width > self.max_width && best.is_some() {
                break;
            }
            prev = Some(c);
        }
        let cut = match best {
            Some(i) if i > 0 => i,
            // No break anywhere: cut at the widest prefix that fits.
            _ => {
                self.forced = true;
                let mut w = 0;
                let mut cut = para.len();
                for (i, c) in para.char_indices() {
                    w += self.font.glyph(c).map_or(0, |g| u32::from(g.advance));
                    if w > self.max_width && i > 0 {
                        cut = i;
                        break;
                    }
                }
                cut
            }
        };
        // `para` starts `rest`, so the cut is an index into `rest` too.
        let line = &para[..cut];
        self.rest = Some(rest[cut..].trim_start_matches(' '));
        Some(line.trim_end_matches(' '))
    }
}

/// Horizontal placement of a text block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Flush left.
    Left,
    /// Centred.
    Center,
    /// Flush right.
    Right,
}

/// How text fit the box it was drawn in, merged (with `|`) over every
/// block of a screen. Layout tests walk every screen in every language and
/// require [`Fit::fits`]: a screen never scrolls and never clips words.
#[must_use]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fit {
    /// A block did not fit its box: more lines than it holds, a line wider
    /// than it, or a line cut inside a word.
    pub overflowed: bool,
    /// A line had to be cut inside a word (no allowed break fit); such a
    /// block is also `overflowed`.
    pub forced_cut: bool,
    /// A line was wrapped beyond the text's own `\n` breaks (allowed, but
    /// Japanese must break only where the catalogue says).
    pub wrapped: bool,
}

impl Fit {
    /// Every block within its box, every break at an allowed place.
    pub fn fits(&self) -> bool {
        !self.overflowed && !self.forced_cut
    }
}

impl core::ops::BitOr for Fit {
    type Output = Fit;

    fn bitor(self, other: Fit) -> Fit {
        Fit {
            overflowed: self.overflowed || other.overflowed,
            forced_cut: self.forced_cut || other.forced_cut,
            wrapped: self.wrapped || other.wrapped,
        }
    }
}

impl core::ops::BitOrAssign for Fit {
    fn bitor_assign(&mut self, other: Fit) {
        *self = *self | other;
    }
}

/// Draws `text` in `area`, vertically centred, each line placed by `align`,
/// and says how it fit.
pub fn draw_block<D: DrawTarget<Color = Rgb565>>(
    target: &mut D,
    style: &TextStyle,
    text: &str,
    area: Rectangle,
    align: Align,
) -> Result<Fit, D::Error> {
    let font = style.font;
    let m = measure(font, text, area.size.width);
    let fit = Fit {
        overflowed: !m.within_width || m.height > area.size.height,
        forced_cut: m.forced_cut,
        wrapped: m.wrapped,
    };
    let mut top = area.top_left.y + (area.size.height as i32 - m.height as i32).max(0) / 2;
    for line in lines(font, text, area.size.width) {
        let x = match align {
            Align::Left => area.top_left.x,
            Align::Center => {
                area.top_left.x + (area.size.width as i32 - font.width(line) as i32).max(0) / 2
            }
            Align::Right => {
                area.top_left.x + (area.size.width as i32 - font.width(line) as i32).max(0)
            }
        };
        draw_line(target, style, line, x, top + i32::from(font.ascent))?;
        top += i32::from(font.line_height);
    }
    Ok(fit)
}

//! Layout, drawing and hit-testing of every screen. One function gives the
//! buttons of a screen ([`buttons`]); drawing and hit-testing both use it,
//! so what a patient sees and what a touch does cannot disagree.
//!
//! Sizes assume the 7-inch 800×480 panel (about 5.2 px/mm): buttons are at
//! least [`MIN_BUTTON_PX`] (15 mm) on each side; text is 24–60 px.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Circle, CornerRadii, Line, PrimitiveStyle, PrimitiveStyleBuilder, Rectangle, RoundedRectangle,
    Triangle,
};
use embedded_graphics_core::pixelcolor::Rgb565;
use myna_link::{Button, ConsentItem};

use crate::catalogue::{date_words, Lang, Text};
use crate::font::{self, draw_block, Align, Font, TextStyle};
use crate::pinpad::{Layout, PIN_LEN};
use crate::view::{StackStr, View};

/// Panel width.
pub const WIDTH: u32 = 800;
/// Panel height.
pub const HEIGHT: u32 = 480;
/// Height of the header band (the 目視 banner when the mode is on).
pub const HEADER_HEIGHT: u32 = 60;
/// Left and right margin.
pub const MARGIN: i32 = 40;
/// Width between the margins.
pub const CONTENT_WIDTH: u32 = WIDTH - 2 * MARGIN as u32;
/// 15 mm at 5.2 px/mm: the smallest side of any button.
pub const MIN_BUTTON_PX: u32 = 78;

const fn rgb(r: u8, g: u8, b: u8) -> Rgb565 {
    // Rgb888 → Rgb565 at compile time.
    Rgb565::new(r >> 3, g >> 2, b >> 3)
}

/// The palette: dark ink on white (contrast ≥ 7:1 for all body text).
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
    /// Warnings.
    pub const AMBER: Rgb565 = rgb(0xE0, 0x7A, 0x00);
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

/// What a touch on a button means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Reported to the host as this button.
    Link(Button),
    /// A PIN digit (stays on the device).
    Digit(u8),
}

/// How a button looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Filled blue, white text: the main action.
    Primary,
    /// White with a blue border.
    Secondary,
    /// A PIN digit key.
    DigitKey,
    /// 取消 / 訂正 on the pad.
    PadFunction,
}

/// What a button shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// A catalogue string.
    Text(Text),
    /// A digit.
    Digit(u8),
}

/// One button of a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonSpec {
    /// Where.
    pub area: Rectangle,
    /// What it does.
    pub key: Key,
    /// What it says.
    pub label: Label,
    /// How it looks.
    pub look: Look,
}

/// The buttons of one screen (at most the 12 pad keys).
#[derive(Debug, Clone, Copy, Default)]
pub struct Buttons {
    items: [Option<ButtonSpec>; 12],
}

impl Buttons {
    fn push(&mut self, spec: ButtonSpec) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(spec);
        }
    }

    /// Every button.
    pub fn iter(&self) -> impl Iterator<Item = &ButtonSpec> {
        self.items.iter().flatten()
    }
}

const ROW_TOP: i32 = 350;
/// Buttons at least this tall show a picture above their label.
const TALL_BUTTON_PX: u32 = 160;
const ROW_HEIGHT: u32 = 110;

fn rect(x: i32, y: i32, w: u32, h: u32) -> Rectangle {
    Rectangle::new(Point::new(x, y), Size::new(w, h))
}

fn pair(buttons: &mut Buttons, left: (Button, Text), right: Option<(Button, Text)>) {
    match right {
        Some(right) => {
            buttons.push(ButtonSpec {
                area: rect(MARGIN, ROW_TOP, 340, ROW_HEIGHT),
                key: Key::Link(left.0),
                label: Label::Text(left.1),
                look: Look::Primary,
            });
            buttons.push(ButtonSpec {
                area: rect(420, ROW_TOP, 340, ROW_HEIGHT),
                key: Key::Link(right.0),
                label: Label::Text(right.1),
                look: Look::Secondary,
            });
        }
        None => buttons.push(ButtonSpec {
            area: rect(220, ROW_TOP, 360, ROW_HEIGHT),
            key: Key::Link(left.0),
            label: Label::Text(left.1),
            look: Look::Primary,
        }),
    }
}

/// The PIN pad's area: 3 columns × 4 rows on the right.
pub const PAD_LEFT: i32 = 430;
const PAD_TOP: i32 = HEADER_HEIGHT as i32 + 14;
const KEY_W: u32 = 108;
const KEY_H: u32 = 88;
const KEY_GAP: u32 = 13;
const KEY_VGAP: u32 = 12;

fn pad_cell(cell: u32) -> Rectangle {
    let (col, row) = (cell % 3, cell / 3);
    rect(
        PAD_LEFT + (col * (KEY_W + KEY_GAP)) as i32,
        PAD_TOP + (row * (KEY_H + KEY_VGAP)) as i32,
        KEY_W,
        KEY_H,
    )
}

/// The buttons of `view`; `layout` places the PIN digits.
pub fn buttons(view: &View, layout: &Layout) -> Buttons {
    let mut b = Buttons::default();
    match *view {
        View::ExpiryNotice { .. } => pair(&mut b, (Button::Confirm, Text::Confirm), None),
        View::ChooseMethod { face_only } => {
            if face_only {
                b.push(ButtonSpec {
                    area: rect(220, 270, 360, 180),
                    key: Key::Link(Button::Face),
                    label: Label::Text(Text::Face),
                    look: Look::Primary,
                });
            } else {
                for (i, (button, text)) in [(Button::Face, Text::Face), (Button::Pin, Text::Pin)]
                    .into_iter()
                    .enumerate()
                {
                    b.push(ButtonSpec {
                        area: rect(MARGIN + i as i32 * 380, 270, 340, 180),
                        key: Key::Link(button),
                        label: Label::Text(text),
                        look: Look::Primary,
                    });
                }
            }
        }
        View::FaceCapture { .. } => b.push(ButtonSpec {
            area: rect(460, ROW_TOP, 300, ROW_HEIGHT),
            key: Key::Link(Button::Cancel),
            label: Label::Text(Text::StopButton),
            look: Look::Secondary,
        }),
        View::FaceFailed { pin_available } => {
            if pin_available {
                pair(
                    &mut b,
                    (Button::Pin, Text::PinInstead),
                    Some((Button::CallStaff, Text::CallStaff)),
                )
            } else {
                pair(&mut b, (Button::CallStaff, Text::CallStaff), None)
            }
        }
        View::PinEntry { .. } => {
            for (key, digit) in layout.0.iter().enumerate() {
                let cell = if key < 9 { key as u32 } else { 10 };
                b.push(ButtonSpec {
                    area: pad_cell(cell),
                    key: Key::Digit(*digit),
                    label: Label::Digit(*digit),
                    look: Look::DigitKey,
                });
            }
            b.push(ButtonSpec {
                area: pad_cell(9),
                key: Key::Link(Button::Cancel),
                label: Label::Text(Text::PinCancel),
                look: Look::PadFunction,
            });
            b.push(ButtonSpec {
                area: pad_cell(11),
                key: Key::Link(Button::PinCorrect),
                label: Label::Text(Text::PinCorrect),
                look: Look::PadFunction,
            });
        }
        View::PinLastTry => pair(
            &mut b,
            (Button::Confirm, Text::EnterPin),
            Some((Button::CallStaff, Text::StopAndCallStaff)),
        ),
        View::VisualCheck => pair(&mut b, (Button::Confirm, Text::Next), None),
        View::Registration => pair(
            &mut b,
            (Button::Yes, Text::Apply),
            Some((Button::No, Text::DontApply)),
        ),
        View::ConsentOverview => pair(
            &mut b,
            (Button::Yes, Text::AgreeAll),
            Some((Button::OneByOne, Text::OneByOne)),
        ),
        View::ConsentItem(_) => pair(
            &mut b,
            (Button::Yes, Text::Agree),
            Some((Button::No, Text::Disagree)),
        ),
        View::Idle
        | View::Reading
        | View::ReadError { .. }
        | View::ExpiredRefused
        | View::PinLocked
        | View::Done { .. }
        | View::SeeStaff
        | View::OutOfService => {}
    }
    b
}

/// The key under a touch, if any.
pub fn hit(view: &View, layout: &Layout, x: u16, y: u16) -> Option<Key> {
    let p = Point::new(i32::from(x), i32::from(y));
    buttons(view, layout)
        .iter()
        .find(|spec| spec.area.contains(p))
        .map(|spec| spec.key)
}

/// Everything drawing needs beyond the view.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Language.
    pub lang: Lang,
    /// 目視確認モード on.
    pub visual_check: bool,
    /// PIN digit positions.
    pub layout: &'a Layout,
    /// PIN digits entered (for ●○○○).
    pub entered: usize,
}

fn style(font: &'static Font, fg: Rgb565, bg: Rgb565) -> TextStyle {
    TextStyle { font, fg, bg }
}

fn fill<D: DrawTarget<Color = Rgb565>>(t: &mut D, r: Rectangle, c: Rgb565) -> Result<(), D::Error> {
    t.fill_solid(&r, c)
}

fn text<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    s: &str,
    area: Rectangle,
    st: TextStyle,
    align: Align,
) -> Result<(), D::Error> {
    draw_block(t, &st, s, area, align)
}

/// Content top below the header.
const TOP: i32 = HEADER_HEIGHT as i32;

fn draw_header<D: DrawTarget<Color = Rgb565>>(t: &mut D, f: &Frame<'_>) -> Result<(), D::Error> {
    let band = rect(0, 0, WIDTH, HEADER_HEIGHT);
    if f.visual_check {
        fill(t, band, YELLOW)?;
        // Hazard-style ends so the band reads as a mode, not decoration.
        for i in 0..4 {
            for x0 in [i * 28, WIDTH as i32 - 112 + i * 28] {
                Triangle::new(
                    Point::new(x0, HEADER_HEIGHT as i32),
                    Point::new(x0 + 14, HEADER_HEIGHT as i32),
                    Point::new(x0 + 28, 0),
                )
                .into_styled(PrimitiveStyle::with_fill(INK))
                .draw(t)?;
            }
        }
        fill(t, rect(0, HEADER_HEIGHT as i32 - 4, WIDTH, 4), INK)?;
        text(
            t,
            Text::VisualBanner.get(f.lang),
            rect(120, 0, WIDTH - 240, HEADER_HEIGHT - 4),
            style(&font::BUTTON, INK, YELLOW),
            Align::Center,
        )
    } else {
        fill(t, band, BLUE)?;
        text(
            t,
            Text::Header.get(f.lang),
            rect(24, 0, WIDTH - 48, HEADER_HEIGHT),
            style(&font::NOTE, PAPER, BLUE),
            Align::Left,
        )
    }
}

fn draw_button<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    spec: &ButtonSpec,
    lang: Lang,
) -> Result<(), D::Error> {
    let (face, ink, border) = match spec.look {
        Look::Primary => (BLUE, PAPER, BLUE),
        Look::Secondary => (PAPER, BLUE, BLUE),
        Look::DigitKey => (PAPER, INK, GREY),
        Look::PadFunction => (LIGHT_GREY, INK, GREY),
    };
    let radius = Size::new(14, 14);
    RoundedRectangle::new(spec.area, CornerRadii::new(radius))
        .into_styled(
            PrimitiveStyleBuilder::new()
                .fill_color(face)
                .stroke_color(border)
                .stroke_width(4)
                .build(),
        )
        .draw(t)?;
    let mut inner = spec.area.offset(-6);
    if spec.area.size.height >= TALL_BUTTON_PX {
        // Tall buttons (顔認証 / 暗証番号) carry a picture in their upper part.
        method_icon(t, spec)?;
        inner = rect(
            inner.top_left.x,
            inner.top_left.y + 70,
            inner.size.width,
            inner.size.height - 70,
        );
    }
    match spec.label {
        Label::Text(s) => {
            // The largest size at which the label fits (a longer language
            // steps down rather than spilling out of the key).
            let words = s.get(lang);
            let fits = |f: &'static Font| font::fits(f, words, inner.size.width, inner.size.height);
            let font = [&font::BUTTON, &font::BODY]
                .into_iter()
                .find(|f| fits(f))
                .unwrap_or(&font::NOTE);
            text(t, words, inner, style(font, ink, face), Align::Center)
        }
        Label::Digit(d) => {
            let digit = [b'0' + d.min(9)];
            let s = core::str::from_utf8(&digit).unwrap_or("?");
            text(t, s, inner, style(&font::DIGITS, ink, face), Align::Center)
        }
    }
}

/// The round warning sign, centred at `(cx, cy)`.
fn warning_icon<D: DrawTarget<Color = Rgb565>>(
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
fn check_icon<D: DrawTarget<Color = Rgb565>>(t: &mut D, cx: i32, cy: i32) -> Result<(), D::Error> {
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

fn title<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    s: &str,
    area: Rectangle,
) -> Result<(), D::Error> {
    text(t, s, area, style(&font::TITLE, INK, PAPER), Align::Center)
}

/// A message screen: optional icon, the title, optional extra line.
fn message<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    icon: Option<Icon>,
    s: &str,
    bottom: i32,
) -> Result<(), D::Error> {
    let mut top = TOP + 20;
    if let Some(icon) = icon {
        match icon {
            Icon::Warning => warning_icon(t, WIDTH as i32 / 2, top + 36)?,
            Icon::Check => check_icon(t, WIDTH as i32 / 2, top + 36)?,
        }
        top += 84;
    }
    title(
        t,
        s,
        rect(MARGIN, top, CONTENT_WIDTH, (bottom - top).max(0) as u32),
    )
}

#[derive(Clone, Copy)]
enum Icon {
    Warning,
    Check,
}

fn two<'a>(a: &str, b: &str, buf: &'a mut StackStr<512>) -> &'a str {
    let _ = buf.push(a);
    let _ = buf.push("\n");
    let _ = buf.push(b);
    buf.as_str()
}

fn number(n: u32, buf: &mut StackStr<16>) {
    use core::fmt::Write;
    let _ = write!(buf, "{n}");
}

/// Redraws the whole screen.
pub fn draw<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    view: &View,
    f: &Frame<'_>,
) -> Result<(), D::Error> {
    t.clear(PAPER)?;
    draw_header(t, f)?;
    let lang = f.lang;
    let mut buf = StackStr::<512>::default();
    match *view {
        View::Idle => draw_idle(t, lang)?,
        View::Reading => {
            draw_card(t, Point::new(310, TOP + 40), 0.9)?;
            title(
                t,
                Text::Reading.get(lang),
                rect(MARGIN, 300, CONTENT_WIDTH, 160),
            )?;
        }
        View::ReadError { staff } => {
            let s = if staff {
                two(
                    Text::ReadError.get(lang),
                    Text::AskStaff.get(lang),
                    &mut buf,
                )
            } else {
                Text::ReadError.get(lang)
            };
            message(t, Some(Icon::Warning), s, HEIGHT as i32 - 20)?;
        }
        View::ExpiryNotice { date, in_grace } => {
            use core::fmt::Write;
            let (y, m, d) = date_words(lang);
            let _ = buf.push(Text::ExpiryBefore.get(lang));
            let _ = write!(buf, "\n{}{y}{}{m}{}{d}", date.year, date.month, date.day);
            let _ = buf.push(Text::ExpiryAfter.get(lang));
            let bottom = if in_grace { 282 } else { ROW_TOP - 10 };
            title(
                t,
                buf.as_str(),
                rect(MARGIN, TOP + 10, CONTENT_WIDTH, (bottom - TOP - 10) as u32),
            )?;
            if in_grace {
                let band = rect(MARGIN, 288, CONTENT_WIDTH, 50);
                fill(t, band, PALE_AMBER)?;
                text(
                    t,
                    Text::ExpiryGrace.get(lang),
                    band,
                    style(&font::BODY, INK, PALE_AMBER),
                    Align::Center,
                )?;
            }
        }
        View::ExpiredRefused => {
            let s = two(
                Text::ExpiredRefused.get(lang),
                Text::AskStaff.get(lang),
                &mut buf,
            );
            message(t, Some(Icon::Warning), s, HEIGHT as i32 - 20)?;
        }
        View::ChooseMethod { face_only } => {
            let s = if face_only {
                Text::FaceOnlyMethod
            } else {
                Text::ChooseMethod
            };
            title(t, s.get(lang), rect(MARGIN, TOP + 20, CONTENT_WIDTH, 170))?;
        }
        View::FaceCapture { hint } => {
            let cam = rect(MARGIN, TOP + 20, 300, 380);
            fill(t, cam, DARK)?;
            oval_ring(t, Point::new(MARGIN + 150, TOP + 200), 100, 130, 6, PAPER)?;
            text(
                t,
                Text::FaceCaptureTitle.get(lang),
                rect(370, TOP + 20, 390, 150),
                style(&font::BUTTON, INK, PAPER),
                Align::Center,
            )?;
            if let Some(h) = hint {
                let panel = rect(370, TOP + 180, 390, 100);
                fill(t, panel, PALE_AMBER)?;
                text(
                    t,
                    h.get(lang),
                    panel.offset(-10),
                    style(&font::BODY, INK, PALE_AMBER),
                    Align::Center,
                )?;
            }
        }
        View::FaceFailed { .. } => {
            message(
                t,
                Some(Icon::Warning),
                Text::FaceFailed.get(lang),
                ROW_TOP - 10,
            )?;
        }
        View::PinEntry { tries_left } => draw_pin(t, f, tries_left)?,
        View::PinLastTry => {
            message(
                t,
                Some(Icon::Warning),
                Text::PinLastTry.get(lang),
                ROW_TOP - 6,
            )?;
        }
        View::PinLocked => {
            message(
                t,
                Some(Icon::Warning),
                Text::PinLocked.get(lang),
                HEIGHT as i32 - 20,
            )?;
        }
        View::VisualCheck => {
            message(
                t,
                Some(Icon::Check),
                Text::VisualCheck.get(lang),
                ROW_TOP - 10,
            )?;
        }
        View::Registration => {
            title(
                t,
                Text::Registration.get(lang),
                rect(MARGIN, TOP + 20, CONTENT_WIDTH, ROW_TOP as u32 - 100),
            )?;
        }
        View::ConsentOverview => {
            title(
                t,
                Text::ConsentOverview.get(lang),
                rect(MARGIN, TOP + 30, CONTENT_WIDTH, 180),
            )?;
            consent_footer(t, lang)?;
        }
        View::ConsentItem(item) => {
            text(
                t,
                Text::ConsentItemTitle.get(lang),
                rect(MARGIN, TOP + 12, CONTENT_WIDTH, 44),
                style(&font::BODY, INK, PAPER),
                Align::Center,
            )?;
            let name = match item {
                ConsentItem::Diagnosis => Text::ConsentDiagnosis,
                ConsentItem::Operation => Text::ConsentOperation,
                ConsentItem::SpecificHealthCheckup => Text::ConsentCheckup,
                ConsentItem::LimitCertificate => Text::ConsentLimit,
            };
            let panel = rect(MARGIN, TOP + 62, CONTENT_WIDTH, 80);
            fill(t, panel, PALE_BLUE)?;
            fill(t, rect(MARGIN, TOP + 62, 10, 80), BLUE)?;
            title_on(t, name.get(lang), panel, PALE_BLUE)?;
            if item == ConsentItem::LimitCertificate {
                text(
                    t,
                    Text::ConsentLimitExplain.get(lang),
                    rect(MARGIN, TOP + 146, CONTENT_WIDTH, 90),
                    style(&font::BODY, INK, PAPER),
                    Align::Center,
                )?;
            }
            consent_footer(t, lang)?;
        }
        View::Done { name, reminder } => {
            check_icon(t, WIDTH as i32 / 2, TOP + 56)?;
            title(
                t,
                Text::Done.get(lang),
                rect(MARGIN, TOP + 100, CONTENT_WIDTH, 110),
            )?;
            let _ = buf.push(name.as_str());
            let _ = buf.push("　");
            let _ = buf.push(Text::Honorific.get(lang));
            let panel = rect(MARGIN, TOP + 224, CONTENT_WIDTH, 80);
            fill(t, panel, PALE_BLUE)?;
            title_on(t, buf.as_str(), panel, PALE_BLUE)?;
            if reminder {
                let band = rect(0, HEIGHT as i32 - 90, WIDTH, 90);
                fill(t, band, AMBER)?;
                text(
                    t,
                    Text::TakeCard.get(lang),
                    band,
                    style(&font::TITLE, PAPER, AMBER),
                    Align::Center,
                )?;
            }
        }
        View::SeeStaff => message(t, None, Text::AskStaff.get(lang), HEIGHT as i32 - 20)?,
        View::OutOfService => {
            let s = two(
                Text::OutOfService.get(lang),
                Text::AskStaff.get(lang),
                &mut buf,
            );
            message(t, Some(Icon::Warning), s, HEIGHT as i32 - 20)?;
        }
    }
    for spec in buttons(view, f.layout).iter() {
        draw_button(t, spec, lang)?;
    }
    Ok(())
}

fn title_on<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    s: &str,
    area: Rectangle,
    bg: Rgb565,
) -> Result<(), D::Error> {
    text(t, s, area, style(&font::TITLE, INK, bg), Align::Center)
}

fn consent_footer<D: DrawTarget<Color = Rgb565>>(t: &mut D, lang: Lang) -> Result<(), D::Error> {
    text(
        t,
        Text::ConsentFooter.get(lang),
        rect(MARGIN, ROW_TOP - 50, CONTENT_WIDTH, 42),
        style(&font::NOTE, GREY, PAPER),
        Align::Center,
    )
}

/// A small picture above the label of the 顔認証 / 暗証番号 buttons.
fn method_icon<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    spec: &ButtonSpec,
) -> Result<(), D::Error> {
    let c = spec.area.center();
    let at = Point::new(c.x, spec.area.top_left.y + 50);
    let white = PrimitiveStyle::with_stroke(PAPER, 4);
    match spec.key {
        Key::Link(Button::Face) => {
            Circle::with_center(at, 52).into_styled(white).draw(t)?;
            for dx in [-9, 9] {
                Circle::with_center(at + Point::new(dx, -5), 7)
                    .into_styled(PrimitiveStyle::with_fill(PAPER))
                    .draw(t)?;
            }
            Line::new(at + Point::new(-9, 11), at + Point::new(9, 11))
                .into_styled(white)
                .draw(t)
        }
        Key::Link(Button::Pin) => {
            for row in -1..=1 {
                for col in -1..=1 {
                    Rectangle::with_center(at + Point::new(col * 17, row * 15), Size::new(12, 10))
                        .into_styled(PrimitiveStyle::with_fill(PAPER))
                        .draw(t)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn draw_pin<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    tries_left: u8,
) -> Result<(), D::Error> {
    let lang = f.lang;
    let left = rect(MARGIN - 16, TOP + 14, 380, 100);
    text(
        t,
        Text::PinTitle.get(lang),
        left,
        style(&font::BUTTON, INK, PAPER),
        Align::Center,
    )?;
    // ●●○○
    let mut dots = StackStr::<16>::default();
    for i in 0..PIN_LEN {
        let _ = dots.push(if i < f.entered { "●" } else { "○" });
    }
    text(
        t,
        dots.as_str(),
        rect(MARGIN - 16, TOP + 122, 380, 84),
        style(&font::DIGITS, BLUE, PAPER),
        Align::Center,
    )?;
    // あと N 回
    let mut tries = StackStr::<64>::default();
    let before = Text::TriesBefore.get(lang);
    if !before.is_empty() {
        let _ = tries.push(before);
        let _ = tries.push(" ");
    }
    let mut n = StackStr::<16>::default();
    number(u32::from(tries_left), &mut n);
    let _ = tries.push(n.as_str());
    let _ = tries.push(" ");
    let _ = tries.push(if tries_left == 1 {
        Text::TryAfterOne.get(lang)
    } else {
        Text::TriesAfter.get(lang)
    });
    let (ink, bg) = if tries_left == 1 {
        (PAPER, RED)
    } else {
        (INK, PALE_BLUE)
    };
    let badge = rect(MARGIN + 40, TOP + 224, 300, 64);
    RoundedRectangle::with_equal_corners(badge, Size::new(12, 12))
        .into_styled(PrimitiveStyle::with_fill(bg))
        .draw(t)?;
    text(
        t,
        tries.as_str(),
        badge,
        style(&font::TITLE, ink, bg),
        Align::Center,
    )?;
    text(
        t,
        Text::PinShuffled.get(lang),
        rect(MARGIN - 16, TOP + 300, 380, 100),
        style(&font::NOTE, GREY, PAPER),
        Align::Center,
    )
}

/// The card as drawn on `Idle` and `Reading`.
fn draw_card<D: DrawTarget<Color = Rgb565>>(
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

fn draw_idle<D: DrawTarget<Color = Rgb565>>(t: &mut D, lang: Lang) -> Result<(), D::Error> {
    // The reader's card tray, seen from above, with the card going in.
    let tray = rect(MARGIN, TOP + 120, 290, 200);
    RoundedRectangle::with_equal_corners(tray, Size::new(18, 18))
        .into_styled(PrimitiveStyle::with_fill(DARK))
        .draw(t)?;
    draw_card(t, Point::new(MARGIN + 35, TOP + 160), 1.1)?;
    // Arrow down onto the tray.
    let ax = MARGIN + 145;
    fill(t, rect(ax - 10, TOP + 18, 20, 58), BLUE)?;
    Triangle::new(
        Point::new(ax - 32, TOP + 72),
        Point::new(ax + 32, TOP + 72),
        Point::new(ax, TOP + 110),
    )
    .into_styled(PrimitiveStyle::with_fill(BLUE))
    .draw(t)?;
    text(
        t,
        Text::IdleOrientation.get(lang),
        rect(MARGIN, TOP + 324, 290, 40),
        style(&font::NOTE, INK, PAPER),
        Align::Center,
    )?;
    title(t, Text::IdleTitle.get(lang), rect(360, TOP + 30, 420, 300))?;
    let band = rect(0, HEIGHT as i32 - 50, WIDTH, 50);
    fill(t, band, PALE_BLUE)?;
    text(
        t,
        Text::IdlePrivacy.get(lang),
        band.offset(-8),
        style(&font::NOTE, INK, PALE_BLUE),
        Align::Center,
    )
}

/// An elliptical ring (the face guide), drawn as row spans: the
/// embedded-graphics ellipse overflows its integer maths at this size.
fn oval_ring<D: DrawTarget<Color = Rgb565>>(
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

//! Painting whole screens: [`draw`] redraws the panel for a view and
//! returns how its text fit; [`check`] lays a screen out without pixels.
//! Buttons come from the layout table ([`super::layout::buttons`]).

use core::convert::Infallible;

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Circle, CornerRadii, Line, PrimitiveStyle, PrimitiveStyleBuilder, Rectangle, RoundedRectangle,
    Triangle,
};
use embedded_graphics_core::pixelcolor::Rgb565;
use myna_link::{Button, ConsentItem};

use super::layout::{buttons, ButtonSpec, Key, Label, Look, ROW_TOP, TALL_BUTTON_PX};
use super::preview::{draw_guide, PREVIEW_AREA};
use super::primitives::colour::*;
use super::primitives::{check_icon, draw_card, fill, pair, style, text, warning_icon, Pair};
use crate::catalogue::{self, date_words, Lang, Text, TERMS_PAGES};
use crate::font::{self, Align, Fit, Font};
use crate::panel::{rect, CONTENT_WIDTH, HEADER_HEIGHT, HEIGHT, MARGIN, WIDTH};
use crate::pinpad::{Layout, PIN_LEN};
use crate::stack_str::StackStr;
use crate::view::View;

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
    /// Large-text mode: the main lines in fewer words, every text block in
    /// the largest size that holds it (buttons stay where they are).
    pub large: bool,
}

/// The words of `text`, shorter in large-text mode where the catalogue has
/// a shorter version.
fn words(f: &Frame<'_>, text: Text) -> &'static str {
    if f.large {
        catalogue::large(text).get(f.lang)
    } else {
        text.get(f.lang)
    }
}

/// Text sizes, largest first.
const LADDER: [&Font; 5] = [
    &font::LARGE,
    &font::TITLE,
    &font::BUTTON,
    &font::BODY,
    &font::NOTE,
];

/// The font `s` is drawn in within `area`: `base`, or in large-text mode
/// the largest size that has its glyphs and holds it without a break the
/// catalogue did not plan (Japanese; English may wrap).
fn sized(f: &Frame<'_>, base: &'static Font, s: &str, area: Rectangle) -> &'static Font {
    if !f.large {
        return base;
    }
    let Some(at) = LADDER.iter().position(|x| core::ptr::eq(*x, base)) else {
        return base;
    };
    LADDER[..at]
        .iter()
        .copied()
        .find(|candidate| {
            let m = font::measure(candidate, s, area.size.width);
            candidate.covers(s)
                && m.within_width
                && m.height <= area.size.height
                && !(f.lang == Lang::Ja && m.wrapped)
        })
        .unwrap_or(base)
}

/// One text block, sized for the mode ([`sized`]).
fn block<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    s: &str,
    area: Rectangle,
    base: &'static Font,
    colours: Pair,
    align: Align,
) -> Result<Fit, D::Error> {
    text(t, s, area, style(sized(f, base, s, area), colours), align)
}

/// Content top below the header.
const TOP: i32 = HEADER_HEIGHT as i32;

fn draw_header<D: DrawTarget<Color = Rgb565>>(t: &mut D, f: &Frame<'_>) -> Result<Fit, D::Error> {
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
            style(&font::BUTTON, pair::ON_YELLOW),
            Align::Center,
        )
    } else {
        fill(t, band, BLUE)?;
        text(
            t,
            Text::Header.get(f.lang),
            rect(24, 0, WIDTH - 48, HEADER_HEIGHT),
            style(&font::NOTE, pair::ON_BLUE),
            Align::Left,
        )
    }
}

fn draw_button<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    spec: &ButtonSpec,
    f: &Frame<'_>,
) -> Result<Fit, D::Error> {
    let lang = f.lang;
    let (ink, border) = match spec.look {
        Look::Primary => (pair::ON_BLUE, BLUE),
        Look::Secondary => (pair::BLUE_TEXT, BLUE),
        Look::DigitKey => (pair::TEXT, GREY),
        Look::PadFunction => (pair::ON_LIGHT_GREY, GREY),
    };
    let face = ink.bg();
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
        // The large-text switch says what it does next.
        Label::Text(Text::LargeTextOn) if f.large => {
            largest_fitting(t, f, Text::LargeTextOff.get(lang), inner, ink)
        }
        Label::Text(s) => largest_fitting(t, f, s.get(lang), inner, ink),
        Label::Digit(d) => {
            let digit = [b'0' + d.min(9)];
            let s = core::str::from_utf8(&digit).unwrap_or("?");
            text(t, s, inner, style(&font::DIGITS, ink), Align::Center)
        }
    }
}

fn title<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    s: &str,
    area: Rectangle,
) -> Result<Fit, D::Error> {
    block(t, f, s, area, &font::TITLE, pair::TEXT, Align::Center)
}

/// A message screen: optional icon, the title, optional extra line.
fn message<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    icon: Option<Icon>,
    s: &str,
    bottom: i32,
) -> Result<Fit, D::Error> {
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
        f,
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

/// Top of the 「カードをお取りください」 band at the bottom of a screen that
/// ends the session.
const TAKE_CARD_TOP: i32 = HEIGHT as i32 - TAKE_CARD_HEIGHT as i32;
const TAKE_CARD_HEIGHT: u32 = 80;

/// Redraws the whole screen; says how its text fit (every text block and
/// button label, merged).
pub fn draw<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    view: &View,
    f: &Frame<'_>,
) -> Result<Fit, D::Error> {
    t.clear(PAPER)?;
    let mut fit = draw_header(t, f)?;
    let lang = f.lang;
    let mut buf = StackStr::<512>::default();
    // Above the take-card band on a screen that ends the session.
    let above_band = TAKE_CARD_TOP - 6;
    match *view {
        View::Idle => fit |= draw_idle(t, f)?,
        View::Reading => {
            draw_card(t, Point::new(310, TOP + 40), 0.9)?;
            fit |= title(
                t,
                f,
                words(f, Text::Reading),
                rect(MARGIN, 300, CONTENT_WIDTH, 160),
            )?;
        }
        View::ReadError { staff } => {
            // After 3 misreads: the staff, no longer 「置き直してください」.
            let (next, bottom) = if staff {
                (Text::AskStaff, above_band)
            } else {
                (Text::PlaceAgain, HEIGHT as i32 - 20)
            };
            let s = two(Text::ReadError.get(lang), next.get(lang), &mut buf);
            fit |= message(t, f, Some(Icon::Warning), s, bottom)?;
        }
        View::ExpiryNotice { date, in_grace } => {
            use core::fmt::Write;
            // Expired (in the grace period) says so, and that renewal is
            // free; otherwise the coming date.
            let (before, after) = if in_grace {
                (Text::ExpiredBefore, Text::ExpiredAfter)
            } else {
                (Text::ExpiryBefore, Text::ExpiryAfter)
            };
            let (y, m, d) = date_words(lang);
            let _ = buf.push(before.get(lang));
            let _ = write!(buf, "\n{}{y}{}{m}{}{d}", date.year, date.month, date.day);
            let _ = buf.push(after.get(lang));
            let bottom = if in_grace { 282 } else { ROW_TOP - 10 };
            fit |= title(
                t,
                f,
                buf.as_str(),
                rect(MARGIN, TOP + 10, CONTENT_WIDTH, (bottom - TOP - 10) as u32),
            )?;
            if in_grace {
                let band = rect(MARGIN, 288, CONTENT_WIDTH, 50);
                fill(t, band, PALE_AMBER)?;
                fit |= block(
                    t,
                    f,
                    Text::ExpiryGrace.get(lang),
                    band,
                    &font::BODY,
                    pair::ON_PALE_AMBER,
                    Align::Center,
                )?;
            }
        }
        View::ExpiredRefused => {
            let s = two(
                Text::ExpiredRefused.get(lang),
                words(f, Text::AskStaff),
                &mut buf,
            );
            fit |= message(t, f, Some(Icon::Warning), s, above_band)?;
        }
        View::ChooseMethod { face_only } => {
            let s = if face_only {
                Text::FaceOnlyMethod
            } else {
                Text::ChooseMethod
            };
            fit |= title(
                t,
                f,
                words(f, s),
                rect(MARGIN, TOP + 20, CONTENT_WIDTH, 170),
            )?;
        }
        View::FaceCapture { hint, placed } => {
            // Dark until the device paints the camera's picture into it
            // (`super::preview`), which it does right after this redraw.
            fill(t, PREVIEW_AREA, DARK)?;
            draw_guide(t, placed)?;
            fit |= block(
                t,
                f,
                words(f, Text::FaceCaptureTitle),
                rect(370, TOP + 20, 390, 150),
                &font::BUTTON,
                pair::TEXT,
                Align::Center,
            )?;
            if let Some(h) = hint {
                let panel = rect(370, TOP + 180, 390, 100);
                fill(t, panel, PALE_AMBER)?;
                fit |= block(
                    t,
                    f,
                    h.get(lang),
                    panel.offset(-10),
                    &font::BODY,
                    pair::ON_PALE_AMBER,
                    Align::Center,
                )?;
            }
        }
        View::FaceFailed { .. } => {
            fit |= message(
                t,
                f,
                Some(Icon::Warning),
                Text::FaceFailed.get(lang),
                ROW_TOP - 10,
            )?;
        }
        View::PinEntry {
            tries_left,
            wrong_before,
        } => fit |= draw_pin(t, f, tries_left, wrong_before)?,
        View::PinLastTry => {
            fit |= message(
                t,
                f,
                Some(Icon::Warning),
                Text::PinLastTry.get(lang),
                ROW_TOP - 6,
            )?;
        }
        View::PinLocked { face_available } => {
            if face_available {
                // Face still works: the session goes on, the card stays.
                fit |= message(
                    t,
                    f,
                    Some(Icon::Warning),
                    Text::PinLocked.get(lang),
                    ROW_TOP - 6,
                )?;
            } else {
                fit |= title(
                    t,
                    f,
                    Text::PinLocked.get(lang),
                    rect(MARGIN, TOP + 10, CONTENT_WIDTH, 170),
                )?;
                fit |= take_card(t, f, rect(0, TOP + 196, WIDTH, TAKE_CARD_HEIGHT))?;
            }
        }
        View::VisualCheck => {
            fit |= message(
                t,
                f,
                Some(Icon::Check),
                Text::VisualCheck.get(lang),
                ROW_TOP - 10,
            )?;
        }
        View::Registration => {
            fit |= title(
                t,
                f,
                words(f, Text::Registration),
                rect(MARGIN, TOP + 20, CONTENT_WIDTH, ROW_TOP as u32 - 100),
            )?;
        }
        View::ConsentOverview { checkup } => {
            fit |= title(
                t,
                f,
                words(f, Text::ConsentOverview),
                rect(MARGIN, TOP + 6, CONTENT_WIDTH, 104),
            )?;
            // What 「全て同意する」 covers.
            let panel = rect(MARGIN, TOP + 116, CONTENT_WIDTH, 50);
            fill(t, panel, PALE_BLUE)?;
            fit |= largest_fitting(
                t,
                f,
                // 健診 only when the 特定健診 item applies.
                if checkup {
                    Text::ConsentCovers.get(lang)
                } else {
                    Text::ConsentCoversNoCheckup.get(lang)
                },
                panel.offset(-4),
                pair::ON_PALE_BLUE,
            )?;
            fit |= block(
                t,
                f,
                Text::ConsentPurpose.get(lang),
                rect(MARGIN, TOP + 170, CONTENT_WIDTH, 78),
                &font::BODY,
                pair::TEXT,
                Align::Center,
            )?;
            fit |= consent_footer(t, f)?;
        }
        View::ConsentItem { item, step, of } => {
            {
                use core::fmt::Write;
                let _ = write!(buf, "{step} / {of}");
            }
            fit |= block(
                t,
                f,
                buf.as_str(),
                rect(MARGIN, TOP + 4, CONTENT_WIDTH, 40),
                &font::BODY,
                pair::NOTE,
                Align::Right,
            )?;
            let (name, question) = match item {
                ConsentItem::Operation => (Text::ConsentOperation, Text::ConsentOperationQuestion),
                ConsentItem::Diagnosis => (Text::ConsentDiagnosis, Text::ConsentDiagnosisQuestion),
                ConsentItem::SpecificHealthCheckup => {
                    (Text::ConsentCheckup, Text::ConsentCheckupQuestion)
                }
            };
            // The item first, then the question.
            let panel = rect(MARGIN, TOP + 48, CONTENT_WIDTH, 80);
            fill(t, panel, PALE_BLUE)?;
            fill(t, rect(MARGIN, TOP + 48, 10, 80), BLUE)?;
            fit |= title_on(t, f, name.get(lang), panel.offset(-12), pair::ON_PALE_BLUE)?;
            fit |= block(
                t,
                f,
                question.get(lang),
                rect(MARGIN, TOP + 136, CONTENT_WIDTH, 104),
                &font::BUTTON,
                pair::TEXT,
                Align::Center,
            )?;
            fit |= consent_footer(t, f)?;
        }
        View::Done { name, reminder } => {
            check_icon(t, WIDTH as i32 / 2, TOP + 36)?;
            fit |= title(
                t,
                f,
                words(f, Text::Done),
                rect(MARGIN, TOP + 72, CONTENT_WIDTH, 100),
            )?;
            fit |= block(
                t,
                f,
                Text::WaitToBeCalled.get(lang),
                rect(MARGIN, TOP + 176, CONTENT_WIDTH, 40),
                &font::BODY,
                pair::TEXT,
                Align::Center,
            )?;
            if let Some(name) = name {
                let _ = buf.push(name.as_str());
                let _ = buf.push("　");
                let _ = buf.push(Text::Honorific.get(lang));
                let panel = rect(MARGIN, TOP + 226, CONTENT_WIDTH, 72);
                fill(t, panel, PALE_BLUE)?;
                fit |= title_on(t, f, buf.as_str(), panel, pair::ON_PALE_BLUE)?;
            }
            // The title already says it; the band comes with the chime.
            if reminder {
                fit |= take_card(t, f, rect(0, TAKE_CARD_TOP, WIDTH, TAKE_CARD_HEIGHT))?;
            }
        }
        View::SeeStaff => {
            fit |= title(
                t,
                f,
                words(f, Text::AskStaff),
                rect(MARGIN, TOP + 30, CONTENT_WIDTH, 100),
            )?;
            // Fallbacks exist: no fear of paying in full.
            let panel = rect(MARGIN, TOP + 150, CONTENT_WIDTH, 120);
            fill(t, panel, PALE_BLUE)?;
            fit |= title_on(t, f, Text::InsuredCare.get(lang), panel, pair::ON_PALE_BLUE)?;
        }
        View::Processing => {
            fit |= message(t, f, None, words(f, Text::Processing), HEIGHT as i32 - 20)?;
        }
        View::StaffComing => {
            fit |= message(t, f, None, words(f, Text::StaffComing), HEIGHT as i32 - 20)?;
        }
        View::RegistrationDone => {
            fit |= message(
                t,
                f,
                Some(Icon::Check),
                Text::RegistrationDone.get(lang),
                ROW_TOP - 10,
            )?;
        }
        View::OutOfService => {
            let s = two(
                Text::OutOfService.get(lang),
                words(f, Text::AskStaff),
                &mut buf,
            );
            fit |= message(t, f, Some(Icon::Warning), s, above_band)?;
        }
        View::RegistrationTerms { page } => fit |= draw_terms(t, f, page)?,
        View::NotMyNumberCard => {
            let s = two(
                Text::NotMyNumberCard.get(lang),
                Text::HandToStaff.get(lang),
                &mut buf,
            );
            fit |= message(t, f, Some(Icon::Warning), s, above_band)?;
        }
    }
    // Every screen that ends the session tells the patient to take the
    // card (Done says it in its title, and again with the chime;
    // PinLocked without face places the band above its button).
    if view.ends_session() && !matches!(view, View::Done { .. } | View::PinLocked { .. }) {
        fit |= take_card(t, f, rect(0, TAKE_CARD_TOP, WIDTH, TAKE_CARD_HEIGHT))?;
    }
    for spec in buttons(view, f.layout).iter() {
        fit |= draw_button(t, spec, f)?;
    }
    Ok(fit)
}

/// The 「カードをお取りください」 band.
fn take_card<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    band: Rectangle,
) -> Result<Fit, D::Error> {
    fill(t, band, TAKE_CARD)?;
    block(
        t,
        f,
        Text::TakeCard.get(f.lang),
        band,
        &font::TITLE,
        pair::ON_TAKE_CARD,
        Align::Center,
    )
}

/// `s` at the largest text size that fits `area` (a longer language steps
/// down rather than spilling out).
fn largest_fitting<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    s: &str,
    area: Rectangle,
    colours: Pair,
) -> Result<Fit, D::Error> {
    let fits = |f: &'static Font| font::fits(f, s, area.size.width, area.size.height);
    // Large-text mode tries the title size first.
    let sizes: &[&'static Font] = if f.large {
        &[&font::TITLE, &font::BUTTON, &font::BODY]
    } else {
        &[&font::BUTTON, &font::BODY]
    };
    let font = sizes
        .iter()
        .copied()
        .find(|font| fits(font))
        .unwrap_or(&font::NOTE);
    text(t, s, area, style(font, colours), Align::Center)
}

fn title_on<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    s: &str,
    area: Rectangle,
    colours: Pair,
) -> Result<Fit, D::Error> {
    block(t, f, s, area, &font::TITLE, colours, Align::Center)
}

fn consent_footer<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
) -> Result<Fit, D::Error> {
    let lang = f.lang;
    block(
        t,
        f,
        Text::ConsentFooter.get(lang),
        rect(MARGIN, ROW_TOP - 40, CONTENT_WIDTH, 36),
        &font::NOTE,
        pair::NOTE,
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
    wrong_before: bool,
) -> Result<Fit, D::Error> {
    let lang = f.lang;
    let mut fit = Fit::default();
    let column = |y: i32, h: u32| rect(MARGIN - 16, TOP + y, 380, h);
    // 「暗証番号が違います」 first after a wrong try; the rest stays put.
    if wrong_before {
        let band = column(8, 46);
        RoundedRectangle::with_equal_corners(band, Size::new(10, 10))
            .into_styled(PrimitiveStyle::with_fill(RED))
            .draw(t)?;
        fit |= block(
            t,
            f,
            Text::PinWrong.get(lang),
            band,
            &font::BODY,
            pair::ON_RED,
            Align::Center,
        )?;
    }
    fit |= block(
        t,
        f,
        Text::PinTitle.get(lang),
        column(58, 88),
        &font::BUTTON,
        pair::TEXT,
        Align::Center,
    )?;
    fit |= block(
        t,
        f,
        Text::PinWho.get(lang),
        column(148, 62),
        &font::NOTE,
        pair::NOTE,
        Align::Center,
    )?;
    // ●●○○
    let mut dots = StackStr::<16>::default();
    for i in 0..PIN_LEN {
        let _ = dots.push(if i < f.entered { "●" } else { "○" });
    }
    fit |= block(
        t,
        f,
        dots.as_str(),
        column(210, 76),
        &font::DIGITS,
        pair::BLUE_TEXT,
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
    let colours = if tries_left == 1 {
        pair::ON_RED
    } else {
        pair::ON_PALE_BLUE
    };
    let badge = rect(MARGIN + 40, TOP + 290, 300, 56);
    RoundedRectangle::with_equal_corners(badge, Size::new(12, 12))
        .into_styled(PrimitiveStyle::with_fill(colours.bg()))
        .draw(t)?;
    fit |= block(
        t,
        f,
        tries.as_str(),
        badge,
        &font::TITLE,
        colours,
        Align::Center,
    )?;
    fit |= block(
        t,
        f,
        Text::PinShuffled.get(lang),
        column(352, 62),
        &font::NOTE,
        pair::NOTE,
        Align::Center,
    )?;
    Ok(fit)
}

/// One page of the registration's terms of use: heading with the page
/// count, the page's text, 前へ / 次へ below (from the layout table).
fn draw_terms<D: DrawTarget<Color = Rgb565>>(
    t: &mut D,
    f: &Frame<'_>,
    page: u8,
) -> Result<Fit, D::Error> {
    use core::fmt::Write;
    let lang = f.lang;
    let mut fit = Fit::default();
    let band = rect(MARGIN, TOP + 6, CONTENT_WIDTH, 56);
    fill(t, band, PALE_BLUE)?;
    fit |= text(
        t,
        Text::TermsTitle.get(lang),
        band.offset(-4),
        style(&font::BUTTON, pair::ON_PALE_BLUE),
        Align::Left,
    )?;
    let mut count = StackStr::<16>::default();
    let _ = write!(count, "{page} / {TERMS_PAGES}");
    fit |= text(
        t,
        count.as_str(),
        band.offset(-4),
        style(&font::BUTTON, pair::ON_PALE_BLUE),
        Align::Right,
    )?;
    if let Some(words) = catalogue::terms_page(page) {
        fit |= block(
            t,
            f,
            words.get(lang),
            rect(MARGIN, TOP + 68, CONTENT_WIDTH, (ROW_TOP - TOP - 72) as u32),
            &font::BUTTON,
            pair::TEXT,
            Align::Center,
        )?;
    }
    Ok(fit)
}

fn draw_idle<D: DrawTarget<Color = Rgb565>>(t: &mut D, f: &Frame<'_>) -> Result<Fit, D::Error> {
    let lang = f.lang;
    let mut fit = Fit::default();
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
    fit |= block(
        t,
        f,
        Text::IdleOrientation.get(lang),
        rect(MARGIN, TOP + 324, 290, 40),
        &font::NOTE,
        pair::TEXT,
        Align::Center,
    )?;
    // Above the 「文字を大きく」 button.
    fit |= title(
        t,
        f,
        words(f, Text::IdleTitle),
        rect(360, TOP + 20, 420, 250),
    )?;
    let band = rect(0, HEIGHT as i32 - 50, WIDTH, 50);
    fill(t, band, PALE_BLUE)?;
    fit |= block(
        t,
        f,
        Text::IdlePrivacy.get(lang),
        band.offset(-8),
        &font::NOTE,
        pair::ON_PALE_BLUE,
        Align::Center,
    )?;
    Ok(fit)
}

/// A target that keeps no pixels: painting into it only lays text out.
struct Nowhere;

impl OriginDimensions for Nowhere {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for Nowhere {
    type Color = Rgb565;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, _pixels: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Pixel<Rgb565>>,
    {
        Ok(())
    }

    fn fill_contiguous<I>(&mut self, _area: &Rectangle, _colors: I) -> Result<(), Infallible>
    where
        I: IntoIterator<Item = Rgb565>,
    {
        Ok(())
    }

    fn fill_solid(&mut self, _area: &Rectangle, _color: Rgb565) -> Result<(), Infallible> {
        Ok(())
    }

    fn clear(&mut self, _color: Rgb565) -> Result<(), Infallible> {
        Ok(())
    }
}

/// How the text of `view` fits, without drawing: the same layout pass as
/// [`draw`] into a target that keeps no pixels.
pub fn check(view: &View, f: &Frame<'_>) -> Fit {
    match draw(&mut Nowhere, view, f) {
        Ok(fit) => fit,
        Err(never) => match never {},
    }
}

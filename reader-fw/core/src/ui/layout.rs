//! Where every screen's buttons are and what a touch on them means: one
//! table ([`buttons`]) that painting and hit-testing ([`hit`]) both read, so
//! what a patient sees and what a touch does cannot disagree.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use myna_link::Button;

use crate::catalogue::{Text, TERMS_PAGES};
use crate::panel::{rect, HEADER_HEIGHT, MARGIN};
use crate::pinpad::Layout;
use crate::view::View;

/// What a touch on a button means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Reported to the host as this button.
    Link(Button),
    /// A PIN digit (stays on the device).
    Digit(u8),
    /// 「文字を大きく」 on `Idle`: large-text mode on or off (on the device).
    LargeText,
    /// The previous page of the terms of use (on the device).
    PagePrevious,
    /// The next page of the terms of use (on the device).
    PageNext,
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

/// Top of the row of action buttons at the bottom of a screen.
pub(crate) const ROW_TOP: i32 = 350;
/// Buttons at least this tall show a picture above their label.
pub(crate) const TALL_BUTTON_PX: u32 = 160;
const ROW_HEIGHT: u32 = 110;

/// Two answers of equal weight (consent): the same look, the same size.
fn equal_pair(buttons: &mut Buttons, left: (Button, Text), right: (Button, Text)) {
    for (x, (button, text)) in [(MARGIN, left), (420, right)] {
        buttons.push(ButtonSpec {
            area: rect(x, ROW_TOP, 340, ROW_HEIGHT),
            key: Key::Link(button),
            label: Label::Text(text),
            look: Look::Primary,
        });
    }
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
        View::Idle => b.push(ButtonSpec {
            // Under the title, clear of the privacy line; the label says
            // 「文字を元に戻す」 while the mode is on (painting swaps it).
            area: rect(440, 340, 320, 84),
            key: Key::LargeText,
            label: Label::Text(Text::LargeTextOn),
            look: Look::Secondary,
        }),
        View::RegistrationTerms { page } => {
            if page > 1 {
                b.push(ButtonSpec {
                    area: rect(MARGIN, ROW_TOP, 340, ROW_HEIGHT),
                    key: Key::PagePrevious,
                    label: Label::Text(Text::Previous),
                    look: Look::Secondary,
                });
            }
            // 次へ on every page; on the last one it goes on to the
            // question (reported to the host as 確認).
            let key = if page < TERMS_PAGES {
                Key::PageNext
            } else {
                Key::Link(Button::Confirm)
            };
            b.push(ButtonSpec {
                area: rect(420, ROW_TOP, 340, ROW_HEIGHT),
                key,
                label: Label::Text(Text::Next),
                look: Look::Primary,
            });
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
        View::VisualCheck | View::RegistrationDone => {
            pair(&mut b, (Button::Confirm, Text::Next), None)
        }
        View::Registration => pair(
            &mut b,
            (Button::Yes, Text::Apply),
            Some((Button::No, Text::DontApply)),
        ),
        View::ConsentOverview { .. } => equal_pair(
            &mut b,
            (Button::Yes, Text::AgreeAll),
            (Button::OneByOne, Text::OneByOne),
        ),
        // 同意しない first, as SCREENS.md orders them.
        View::ConsentItem { .. } => equal_pair(
            &mut b,
            (Button::No, Text::Disagree),
            (Button::Yes, Text::Agree),
        ),
        View::PinLocked { face_available } => {
            if face_available {
                pair(
                    &mut b,
                    (Button::Face, Text::Face),
                    Some((Button::CallStaff, Text::CallStaff)),
                )
            } else {
                pair(&mut b, (Button::CallStaff, Text::CallStaff), None)
            }
        }
        View::Reading
        | View::ReadError { .. }
        | View::ExpiredRefused
        | View::Done { .. }
        | View::SeeStaff
        | View::OutOfService
        | View::Processing
        | View::StaffComing
        | View::NotMyNumberCard => {}
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

//! The console's picture of the reader's screen: the screen the kiosk last
//! showed, drawn by the reader firmware's own painter on the simulated
//! display — pixel for pixel what the reader draws, except the PIN pad,
//! which is drawn in phone order with no digit marked (staff must not see
//! the patient's shuffled pad).

use myna_hal::sim::SimDisplay;
use myna_link::Screen;
use reader_fw::pinpad::Layout;
use reader_fw::ui::{self, Frame};
use reader_fw::view::View;

use super::Lang;

/// A PNG of `screen`, or `None` when it does not draw.
pub fn render(screen: &Screen<'_>, visual_check: bool, lang: Lang) -> Option<Vec<u8>> {
    let view = View::from_screen(screen).ok()?;
    let mut display = SimDisplay::new(ui::WIDTH, ui::HEIGHT);
    let frame = Frame {
        lang: match lang {
            Lang::Ja => reader_fw::catalogue::Lang::Ja,
            Lang::En => reader_fw::catalogue::Lang::En,
        },
        visual_check,
        layout: &Layout::ORDERED,
        entered: 0,
        large: false,
    };
    // How the text fit is the reader's concern; the picture is what it shows.
    let _fit = ui::draw(&mut display, &view, &frame).ok()?;
    let mut png = Vec::new();
    display
        .to_rgb8()
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

//! Full-screen redraw time per screen into the 800×480 framebuffer
//! (`cargo bench -p reader-sim --bench redraw`). Prints the median and the
//! worst of 200 redraws for each screen; the target is under 16 ms.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use myna_hal::Framebuffer;
use myna_link::{ConsentItem, FaceHint, Screen};
use reader_fw::catalogue::Lang;
use reader_fw::pinpad::Layout;
use reader_fw::ui::{self, Frame, HEIGHT, WIDTH};
use reader_fw::view::View;

fn main() {
    let mut memory =
        vec![embedded_graphics::pixelcolor::Rgb565::new(0, 0, 0); (WIDTH * HEIGHT) as usize];
    let mut fb = Framebuffer::new(&mut memory, WIDTH, HEIGHT).expect("sized for the panel");
    let layout = Layout([3, 1, 4, 5, 9, 2, 6, 8, 7, 0]);
    let screens: Vec<(&str, Screen<'_>)> = vec![
        ("Idle", Screen::Idle),
        ("Reading", Screen::Reading),
        ("ReadError", Screen::ReadError { misreads: 3 }),
        (
            "ExpiryNotice",
            Screen::ExpiryNotice {
                year: 2027,
                month: 2,
                day: 28,
                in_grace: true,
            },
        ),
        ("ChooseMethod", Screen::ChooseMethod { face_only: false }),
        (
            "FaceCapture",
            Screen::FaceCapture {
                hint: Some(FaceHint::RemoveMask),
            },
        ),
        (
            "FaceFailed",
            Screen::FaceFailed {
                pin_available: true,
            },
        ),
        ("PinEntry", Screen::PinEntry { tries_left: 1 }),
        ("PinLastTry", Screen::PinLastTry),
        ("PinLocked", Screen::PinLocked),
        ("VisualCheck", Screen::VisualCheck),
        ("Registration", Screen::Registration),
        ("ConsentOverview", Screen::ConsentOverview),
        (
            "ConsentItem",
            Screen::ConsentItem {
                item: ConsentItem::LimitCertificate,
            },
        ),
        (
            "Done",
            Screen::Done {
                name_kana: "ヤマダ タロウ",
            },
        ),
        ("SeeStaff", Screen::SeeStaff),
        ("OutOfService", Screen::OutOfService),
    ];
    println!("{:<16} {:>10} {:>10}", "screen", "median ms", "worst ms");
    let mut worst_median = 0f64;
    for (name, screen) in screens {
        let view = View::from_screen(&screen).expect("valid screen");
        let frame = Frame {
            lang: Lang::Ja,
            visual_check: true,
            layout: &layout,
            entered: 2,
        };
        let mut times: Vec<f64> = (0..200)
            .map(|_| {
                let start = Instant::now();
                let _ = ui::draw(&mut fb, &view, &frame);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        worst_median = worst_median.max(median);
        println!("{name:<16} {median:>10.3} {:>10.3}", times[times.len() - 1]);
    }
    println!("slowest screen (median): {worst_median:.3} ms (target < 16 ms)");
}

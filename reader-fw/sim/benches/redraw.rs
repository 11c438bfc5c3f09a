//! Full-screen redraw time per screen into the 800×480 framebuffer
//! (`cargo bench -p reader-sim --bench redraw`). Prints the median and the
//! worst of 200 redraws for each sample screen (`myna_link::samples`), with
//! the 目視 banner on; the target is under 16 ms. Then the live camera
//! picture of `FaceCapture` (`ui::preview::paint`, a 640×480 RGB camera
//! frame into the 300×380 guide box) alone and with the screen's redraw,
//! against its budget: one picture per `PREVIEW_INTERVAL_MS`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use myna_hal::Framebuffer;
use reader_fw::catalogue::Lang;
use reader_fw::pinpad::Layout;
use reader_fw::ui::{self, Frame, HEIGHT, WIDTH};
use reader_fw::view::View;

fn main() {
    let mut memory =
        vec![embedded_graphics::pixelcolor::Rgb565::new(0, 0, 0); (WIDTH * HEIGHT) as usize];
    let mut fb = Framebuffer::new(&mut memory, WIDTH, HEIGHT).expect("sized for the panel");
    let layout = Layout([3, 1, 4, 5, 9, 2, 6, 8, 7, 0]);
    println!("{:<24} {:>10} {:>10}", "screen", "median ms", "worst ms");
    let mut worst_median = 0f64;
    for (name, screen) in myna_link::samples::SCREENS {
        let view = View::from_screen(screen).expect("valid screen");
        let frame = Frame {
            lang: Lang::Ja,
            visual_check: true,
            layout: &layout,
            entered: 2,
            large: false,
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
        println!("{name:<24} {median:>10.3} {:>10.3}", times[times.len() - 1]);
    }
    println!("slowest screen (median): {worst_median:.3} ms (target < 16 ms)");

    // The preview: a drawn 640×480 picture (gradients, so no two rows
    // are alike), as the patient camera streams it.
    let picture = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3) as u8, (y / 2) as u8, ((x + y) / 5) as u8])
    });
    let mut camera = myna_hal::sim::SimCamera::from_images(vec![picture]);
    let view = View::from_screen(&myna_link::Screen::FaceCapture {
        hint: None,
        placed: false,
    })
    .expect("valid screen");
    let frame = Frame {
        lang: Lang::Ja,
        visual_check: false,
        layout: &layout,
        entered: 0,
        large: false,
    };
    let time = |f: &mut dyn FnMut()| {
        let mut times: Vec<f64> = (0..200)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], times[times.len() - 1])
    };
    let (median, worst) = time(&mut || {
        ui::preview::paint(&mut fb, &mut camera, false).expect("a picture");
    });
    println!("{:<24} {median:>10.3} {worst:>10.3}", "preview picture");
    let (with_median, with_worst) = time(&mut || {
        let _ = ui::draw(&mut fb, &view, &frame);
        ui::preview::paint(&mut fb, &mut camera, false).expect("a picture");
    });
    println!(
        "{:<24} {with_median:>10.3} {with_worst:>10.3}",
        "face-capture + preview"
    );
    let interval = ui::preview::PREVIEW_INTERVAL_MS as f64;
    println!(
        "preview: {median:.3} ms per picture every {interval} ms = {:.1} % of the main loop",
        100.0 * median / interval
    );
}

//! The live camera picture inside the face guide on `FaceCapture`: a
//! patient cannot line up a face they cannot see (SCREENS.md). The device
//! paints it itself, straight from the patient camera into the panel
//! (no frame goes to the host for it), down-scaled and mirrored like a
//! looking glass, then the guide over it: white, or green once the host's
//! quality gate said the face is placed.
//!
//! The camera streams its frame row by row ([`Camera::read`]); only one
//! source row is held at a time (on the stack, wiped afterwards: it is a
//! face image), and each panel row is sampled from the nearest source row
//! and column (nearest neighbour: a preview needs no filtering, and it
//! keeps the cost to one read per panel pixel).

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use embedded_graphics_core::pixelcolor::Rgb565;
use myna_hal::{Camera, PixelFormat};

use super::primitives::colour::{GREEN, PAPER};
use super::primitives::oval_ring;
use crate::panel::{rect, HEADER_HEIGHT, MARGIN};

/// Where the picture goes (the guide frame's box on `FaceCapture`).
pub const PREVIEW_AREA: Rectangle = Rectangle::new(
    Point::new(MARGIN, HEADER_HEIGHT as i32 + 20),
    Size::new(300, 380),
);

/// Time between two preview pictures: 10 per second. The panel refreshes
/// at 60 Hz, but each picture pulls a whole camera frame through the MCU
/// and rewrites 300 × 380 pixels; at 10 per second a face moving into the
/// frame is followed smoothly enough to line it up, and the main loop
/// stays free for touches and link frames most of the time (see the
/// `redraw` bench for the cost of one picture).
pub const PREVIEW_INTERVAL_MS: u64 = 100;

/// The widest camera row the preview takes (1920 RGB pixels); a wider
/// camera leaves the box dark rather than using more stack.
pub const MAX_ROW_BYTES: usize = 1920 * 3;

/// The centre of the oval face guide (a little above the box's middle,
/// where a face sits in a head-and-shoulders picture).
pub const GUIDE_CENTRE: Point = Point::new(MARGIN + 150, HEADER_HEIGHT as i32 + 200);
const GUIDE_RX: i32 = 100;
const GUIDE_RY: i32 = 130;
const GUIDE_THICKNESS: i32 = 6;

/// Why no picture was painted (the box then keeps what it showed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewError {
    /// The camera gave no frame, or ended one early.
    Camera,
    /// A frame with no pixels, or rows wider than [`MAX_ROW_BYTES`].
    Shape,
    /// The display refused the pixels.
    Display,
}

/// The face guide, over the picture or the dark box.
pub fn draw_guide<D: DrawTarget<Color = Rgb565>>(t: &mut D, placed: bool) -> Result<(), D::Error> {
    let centre = GUIDE_CENTRE;
    let colour = if placed { GREEN } else { PAPER };
    // Placed: a bolder ring, so the change reads without colour vision too.
    let thickness = if placed {
        GUIDE_THICKNESS + 4
    } else {
        GUIDE_THICKNESS
    };
    oval_ring(t, centre, GUIDE_RX, GUIDE_RY, thickness, colour)
}

/// Maps panel columns and rows of the box to the camera's: the largest
/// centred crop of the frame with the box's shape, mirrored left-right.
#[derive(Debug, Clone, Copy)]
struct Sampling {
    x0: u32,
    y0: u32,
    crop_w: u32,
    crop_h: u32,
    out_w: u32,
    out_h: u32,
}

impl Sampling {
    fn new(width: u32, height: u32, out: Size) -> Sampling {
        let (out_w, out_h) = (out.width, out.height);
        // Wider than the box: keep the height, crop the sides.
        let (crop_w, crop_h) =
            if u64::from(width) * u64::from(out_h) >= u64::from(height) * u64::from(out_w) {
                ((height * out_w / out_h).max(1), height)
            } else {
                (width, (width * out_h / out_w).max(1))
            };
        Sampling {
            x0: (width - crop_w) / 2,
            y0: (height - crop_h) / 2,
            crop_w,
            crop_h,
            out_w,
            out_h,
        }
    }

    /// The camera row for box row `oy`.
    fn row(&self, oy: u32) -> u32 {
        self.y0 + oy * self.crop_h / self.out_h
    }

    /// The camera column for box column `ox`, mirrored.
    fn column(&self, ox: u32) -> u32 {
        self.x0 + (self.out_w - 1 - ox) * self.crop_w / self.out_w
    }
}

fn pixel(row: &[u8], x: usize, format: PixelFormat) -> Rgb565 {
    match format {
        PixelFormat::Gray8 => {
            let v = row.get(x).copied().unwrap_or(0);
            Rgb565::new(v >> 3, v >> 2, v >> 3)
        }
        PixelFormat::Rgb888 => match row.get(3 * x..3 * x + 3) {
            Some(p) => Rgb565::new(p[0] >> 3, p[1] >> 2, p[2] >> 3),
            None => Rgb565::BLACK,
        },
    }
}

/// Latches one camera frame and paints it into [`PREVIEW_AREA`] with the
/// guide over it. On an error the box keeps what it showed (dark at
/// first) and the guide is drawn again.
pub fn paint<D: DrawTarget<Color = Rgb565>, C: Camera>(
    t: &mut D,
    camera: &mut C,
    placed: bool,
) -> Result<(), PreviewError> {
    let mut row = [0u8; MAX_ROW_BYTES];
    let painted = paint_rows(t, camera, &mut row);
    // The row held part of a face image.
    zeroize::Zeroize::zeroize(&mut row);
    draw_guide(t, placed).map_err(|_| PreviewError::Display)?;
    painted
}

fn paint_rows<D: DrawTarget<Color = Rgb565>, C: Camera>(
    t: &mut D,
    camera: &mut C,
    row: &mut [u8; MAX_ROW_BYTES],
) -> Result<(), PreviewError> {
    let info = camera.start_preview().map_err(|_| PreviewError::Camera)?;
    let row_len = usize::from(info.width) * usize::from(info.format.channels());
    if info.is_empty() || row_len > MAX_ROW_BYTES {
        return Err(PreviewError::Shape);
    }
    let sampling = Sampling::new(
        u32::from(info.width),
        u32::from(info.height),
        PREVIEW_AREA.size,
    );
    let left = PREVIEW_AREA.top_left;
    let mut oy = 0u32;
    for y in 0..u32::from(info.height) {
        if oy >= sampling.out_h {
            // Every box row is drawn; the rest of the frame is not needed
            // (the next `start_preview` latches a new one).
            break;
        }
        let line = &mut row[..row_len];
        let mut filled = 0;
        while filled < row_len {
            match camera.read(&mut line[filled..]) {
                Ok(0) | Err(_) => return Err(PreviewError::Camera),
                Ok(n) => filled += n,
            }
        }
        while oy < sampling.out_h && sampling.row(oy) == y {
            let area = rect(left.x, left.y + oy as i32, sampling.out_w, 1);
            let colours = (0..sampling.out_w)
                .map(|ox| pixel(line, sampling.column(ox) as usize, info.format));
            t.fill_contiguous(&area, colours)
                .map_err(|_| PreviewError::Display)?;
            oy += 1;
        }
    }
    if oy < sampling.out_h {
        return Err(PreviewError::Camera);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_crops_to_the_box_shape_and_mirrors() {
        // 640×480 into 300×380: the full height, a centred crop.
        let s = Sampling::new(640, 480, Size::new(300, 380));
        assert_eq!((s.crop_w, s.crop_h), (378, 480));
        assert_eq!(s.x0, (640 - 378) / 2);
        assert_eq!(s.row(0), 0);
        assert!(s.row(379) < 480);
        // Mirrored: the box's left column is the crop's right edge.
        assert!(s.column(0) > s.column(299));
        assert_eq!(s.column(299), s.x0);
        // A tall frame keeps its width.
        let tall = Sampling::new(300, 1000, Size::new(300, 380));
        assert_eq!((tall.crop_w, tall.crop_h), (300, 380));
        assert_eq!(tall.y0, (1000 - 380) / 2);
    }
}

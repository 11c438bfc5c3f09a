//! The reader's hardware, seen as traits (embedded-hal style), so the
//! firmware core (`reader-fw`) never names a chip. `no_std`, no allocator.
//!
//! - display: an embedded-graphics [`DrawTarget`] in [`Rgb565`] plus
//!   [`Display::flush`]; [`Framebuffer`] is one over borrowed memory;
//! - [`Touch`]: press events in display coordinates;
//! - [`Camera`]: the patient camera and the card-front camera, streamed in
//!   pieces so no frame has to fit in RAM at once;
//! - [`Indicator`]: sound and the status light;
//! - [`Speaker`]: spoken prompts as 16-bit PCM (the firmware decodes the
//!   recorded clips and streams them in);
//! - RNG: [`rand_core::RngCore`] (the device's TRNG);
//! - [`Clock`]: monotonic milliseconds;
//! - flash: [`embedded_storage::nor_flash::NorFlash`] (firmware slots).
//!
//! The `sim` feature adds software versions of all of them (std).
#![cfg_attr(not(feature = "std"), no_std)]

pub use embedded_graphics_core;
pub use embedded_storage;
pub use rand_core;

use embedded_graphics_core::draw_target::DrawTarget;
use embedded_graphics_core::geometry::{OriginDimensions, Size};
use embedded_graphics_core::pixelcolor::{Rgb565, RgbColor};
use embedded_graphics_core::prelude::PointsIter;
use embedded_graphics_core::primitives::Rectangle;
use embedded_graphics_core::Pixel;

#[cfg(feature = "sim")]
pub mod sim;

/// The patient display.
pub trait Display: DrawTarget<Color = Rgb565> + OriginDimensions {
    /// Makes what was drawn visible (a no-op for a memory-mapped panel).
    fn flush(&mut self) -> Result<(), Self::Error>;

    /// Makes what was drawn in `area` visible: a part redrawn on its own
    /// (the live camera picture). Not a finished screen, so a recorder of
    /// screens (the simulator's screenshots) leaves it out.
    fn flush_area(&mut self, area: Rectangle) -> Result<(), Self::Error> {
        let _ = area;
        self.flush()
    }
}

/// An 800×480 (or any size) framebuffer over borrowed memory, row-major.
pub struct Framebuffer<'a> {
    pixels: &'a mut [Rgb565],
    width: u32,
    height: u32,
}

impl<'a> Framebuffer<'a> {
    /// A framebuffer over `pixels`; `None` when the memory is too small.
    pub fn new(pixels: &'a mut [Rgb565], width: u32, height: u32) -> Option<Self> {
        let needed = usize::try_from(u64::from(width) * u64::from(height)).ok()?;
        let pixels = pixels.get_mut(..needed)?;
        Some(Framebuffer {
            pixels,
            width,
            height,
        })
    }

    /// The pixels, row-major.
    pub fn pixels(&self) -> &[Rgb565] {
        self.pixels
    }

    fn clipped(&self, area: &Rectangle) -> Rectangle {
        area.intersection(&Rectangle::new(
            embedded_graphics_core::geometry::Point::zero(),
            self.size(),
        ))
    }
}

impl OriginDimensions for Framebuffer<'_> {
    fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }
}

impl DrawTarget for Framebuffer<'_> {
    type Color = Rgb565;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(point, color) in pixels {
            if let (Ok(x), Ok(y)) = (u32::try_from(point.x), u32::try_from(point.y)) {
                if x < self.width && y < self.height {
                    self.pixels[(y * self.width + x) as usize] = color;
                }
            }
        }
        Ok(())
    }

    fn fill_contiguous<I>(&mut self, area: &Rectangle, colors: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Self::Color>,
    {
        let clipped = self.clipped(area);
        if clipped == *area {
            // Fast path: the whole area is on screen, write rows directly.
            let mut colors = colors.into_iter();
            let (x0, y0) = (area.top_left.x as usize, area.top_left.y as usize);
            let (w, h) = (area.size.width as usize, area.size.height as usize);
            for row in 0..h {
                let start = (y0 + row) * self.width as usize + x0;
                for (slot, color) in self.pixels[start..start + w].iter_mut().zip(&mut colors) {
                    *slot = color;
                }
            }
            return Ok(());
        }
        self.draw_iter(
            area.points()
                .zip(colors)
                .filter(|(p, _)| clipped.contains(*p))
                .map(|(p, c)| Pixel(p, c)),
        )
    }

    fn fill_solid(&mut self, area: &Rectangle, color: Self::Color) -> Result<(), Self::Error> {
        let area = self.clipped(area);
        let (x0, y0) = (area.top_left.x as usize, area.top_left.y as usize);
        let (w, h) = (area.size.width as usize, area.size.height as usize);
        for row in 0..h {
            let start = (y0 + row) * self.width as usize + x0;
            self.pixels[start..start + w].fill(color);
        }
        Ok(())
    }

    fn clear(&mut self, color: Self::Color) -> Result<(), Self::Error> {
        self.pixels.fill(color);
        Ok(())
    }
}

impl Display for Framebuffer<'_> {
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A press on the touch panel, in display coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TouchPoint {
    /// Column.
    pub x: u16,
    /// Row.
    pub y: u16,
}

/// The touch panel: one event per press (debounced by the driver).
pub trait Touch {
    /// Controller error.
    type Error: core::fmt::Debug;
    /// The next press, if any.
    fn poll(&mut self) -> Result<Option<TouchPoint>, Self::Error>;
}

/// How a camera's bytes are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// One byte per pixel.
    Gray8,
    /// Three bytes per pixel, R G B.
    Rgb888,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn channels(self) -> u8 {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb888 => 3,
        }
    }
}

/// The shape of one captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
    /// Layout.
    pub format: PixelFormat,
}

impl FrameInfo {
    /// Bytes in the whole frame.
    pub fn len(&self) -> usize {
        usize::from(self.width) * usize::from(self.height) * usize::from(self.format.channels())
    }

    /// An empty frame.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A camera streamed in pieces: [`Camera::start`] latches a frame, then
/// [`Camera::read`] hands it out row-major until it returns 0.
pub trait Camera {
    /// Sensor error.
    type Error: core::fmt::Debug;
    /// Latches one frame.
    fn start(&mut self) -> Result<FrameInfo, Self::Error>;
    /// The next bytes of the latched frame; 0 at the end.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error>;

    /// Latches a frame for the live preview: what the camera sees now,
    /// without counting as a capture (a camera that serves frames in turn,
    /// like the simulator's, serves the next capture the same frame).
    fn start_preview(&mut self) -> Result<FrameInfo, Self::Error> {
        self.start()
    }
}

/// Sounds the device can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Short confirmation.
    Beep,
    /// "Take your card" chime.
    TakeCard,
    /// Error.
    Error,
}

/// The speaker and the status light.
pub trait Indicator {
    /// Plays a tone (does not block).
    fn tone(&mut self, tone: Tone);
    /// The status light.
    fn light(&mut self, on: bool);
}

/// The speaker for spoken prompts: mono 16-bit PCM streamed in as the
/// firmware decodes it. An utterance is [`Speaker::start`] then
/// [`Speaker::write`] until its samples are all taken; a new `start` or
/// [`Speaker::stop`] cuts off whatever is still queued (a new screen's
/// prompt replaces the old one's). The driver plays from its own queue
/// (DMA on the device), so `write` never waits: it takes what fits.
pub trait Speaker {
    /// Amplifier or DAC error.
    type Error: core::fmt::Debug;
    /// Begins an utterance at `sample_rate` Hz, dropping anything queued.
    /// `tag` names the prompt for a log or the simulator's file names: a
    /// screen's name, never words a patient or the upstream supplied.
    fn start(&mut self, sample_rate: u32, tag: &str) -> Result<(), Self::Error>;
    /// Queues samples of the current utterance; returns how many were
    /// taken (fewer than given, or 0, while the queue is full).
    fn write(&mut self, samples: &[i16]) -> Result<usize, Self::Error>;
    /// The utterance is complete: nothing more will be written to it.
    fn finish(&mut self) -> Result<(), Self::Error>;
    /// Silence at once, dropping what is queued.
    fn stop(&mut self);
}

/// Monotonic time.
pub trait Clock {
    /// Milliseconds since an arbitrary start; never goes back.
    fn now_ms(&self) -> u64;
}

/// Blends `fg` over `bg` with `alpha` out of 15 (anti-aliased text on a
/// known background, since a display cannot be read back).
pub fn blend(fg: Rgb565, bg: Rgb565, alpha: u8) -> Rgb565 {
    let a = u16::from(alpha.min(15));
    let mix =
        |f: u8, b: u8| -> u8 { ((u16::from(f) * a + u16::from(b) * (15 - a) + 7) / 15) as u8 };
    Rgb565::new(
        mix(fg.r(), bg.r()),
        mix(fg.g(), bg.g()),
        mix(fg.b(), bg.b()),
    )
}

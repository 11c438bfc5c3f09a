//! Software versions of every HAL trait, for `reader-sim` and tests (std).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use embedded_graphics_core::draw_target::DrawTarget;
use embedded_graphics_core::geometry::{OriginDimensions, Size};
use embedded_graphics_core::pixelcolor::{Rgb565, RgbColor};
use embedded_graphics_core::primitives::Rectangle;
use embedded_graphics_core::Pixel;
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use crate::{
    Camera, Clock, Display, FrameInfo, Indicator, PixelFormat, Speaker, Tone, Touch, TouchPoint,
};

/// An in-memory display that can be saved as a PNG.
///
/// It keeps two pictures: the panel as it is now ([`SimDisplay::to_rgb8`],
/// for tests of what a patient sees), and the last finished screen, copied
/// at each full flush, which is all that is ever saved
/// ([`SimDisplay::save_png`], the `--screenshots` folder). The live face
/// preview is painted into the panel after the finished screen, so a face
/// image never reaches a file.
pub struct SimDisplay {
    pixels: Vec<Rgb565>,
    finished: Vec<Rgb565>,
    width: u32,
    height: u32,
    flushes: u64,
    area_flushes: u64,
    save_dir: Option<PathBuf>,
}

impl SimDisplay {
    /// Saves `NNNN.png` into `dir` at every flush (one per finished redraw),
    /// before the firmware goes on, so the folder holds every picture shown.
    pub fn save_on_flush(&mut self, dir: PathBuf) {
        self.save_dir = Some(dir);
    }

    /// A black display of this size.
    pub fn new(width: u32, height: u32) -> SimDisplay {
        SimDisplay {
            pixels: vec![Rgb565::BLACK; (width * height) as usize],
            finished: vec![Rgb565::BLACK; (width * height) as usize],
            width,
            height,
            flushes: 0,
            area_flushes: 0,
            save_dir: None,
        }
    }

    /// A [`crate::Framebuffer`] over this display's memory.
    pub fn framebuffer(&mut self) -> crate::Framebuffer<'_> {
        // The memory was sized for exactly this width and height.
        match crate::Framebuffer::new(&mut self.pixels, self.width, self.height) {
            Some(fb) => fb,
            None => unreachable!("SimDisplay memory matches its size"),
        }
    }

    /// How many times the firmware flushed (one per finished redraw).
    pub fn flushes(&self) -> u64 {
        self.flushes
    }

    /// How many times a part was flushed on its own (the live preview).
    pub fn area_flushes(&self) -> u64 {
        self.area_flushes
    }

    /// The panel now, preview included, as 8-bit RGB (each 5/6-bit channel
    /// widened exactly). For tests; never written to a file.
    pub fn to_rgb8(&self) -> image::RgbImage {
        Self::rgb8(&self.pixels, self.width, self.height)
    }

    /// The last finished screen (at the last full flush) as 8-bit RGB:
    /// what screenshots hold.
    pub fn finished_rgb8(&self) -> image::RgbImage {
        Self::rgb8(&self.finished, self.width, self.height)
    }

    fn rgb8(pixels: &[Rgb565], width: u32, height: u32) -> image::RgbImage {
        let mut img = image::RgbImage::new(width, height);
        for (dst, src) in img.pixels_mut().zip(pixels) {
            let (r, g, b) = (src.r(), src.g(), src.b());
            *dst = image::Rgb([
                (r << 3) | (r >> 2),
                (g << 2) | (g >> 4),
                (b << 3) | (b >> 2),
            ]);
        }
        img
    }

    /// Writes the last finished screen as a PNG (never the live preview).
    pub fn save_png(&self, path: &Path) -> Result<(), image::ImageError> {
        self.finished_rgb8()
            .save_with_format(path, image::ImageFormat::Png)
    }
}

impl OriginDimensions for SimDisplay {
    fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }
}

impl DrawTarget for SimDisplay {
    type Color = Rgb565;
    type Error = core::convert::Infallible;

    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb565>>>(
        &mut self,
        p: I,
    ) -> Result<(), Self::Error> {
        self.framebuffer().draw_iter(p)
    }
    fn fill_contiguous<I: IntoIterator<Item = Rgb565>>(
        &mut self,
        area: &Rectangle,
        colors: I,
    ) -> Result<(), Self::Error> {
        self.framebuffer().fill_contiguous(area, colors)
    }
    fn fill_solid(&mut self, area: &Rectangle, color: Rgb565) -> Result<(), Self::Error> {
        self.framebuffer().fill_solid(area, color)
    }
    fn clear(&mut self, color: Rgb565) -> Result<(), Self::Error> {
        self.framebuffer().clear(color)
    }
}

impl Display for SimDisplay {
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.flushes += 1;
        self.finished.copy_from_slice(&self.pixels);
        if let Some(dir) = &self.save_dir {
            let path = dir.join(format!("{:04}.png", self.flushes));
            if let Err(e) = self.save_png(&path) {
                // A simulator aid: report and go on drawing.
                eprintln!("screenshot {}: {e}", path.display());
            }
        }
        Ok(())
    }

    /// Counted, never saved: a part is not a finished screen, and the live
    /// preview is a face image, which never goes to disk.
    fn flush_area(&mut self, _area: Rectangle) -> Result<(), Self::Error> {
        self.area_flushes += 1;
        Ok(())
    }
}

/// Touches queued by a script or by the host side of a test.
#[derive(Clone, Default)]
pub struct SimTouch {
    queue: Arc<Mutex<VecDeque<TouchPoint>>>,
}

impl SimTouch {
    /// Queues a press.
    pub fn press(&self, x: u16, y: u16) {
        if let Ok(mut q) = self.queue.lock() {
            q.push_back(TouchPoint { x, y });
        }
    }
}

impl Touch for SimTouch {
    type Error = std::convert::Infallible;
    fn poll(&mut self) -> Result<Option<TouchPoint>, Self::Error> {
        Ok(self.queue.lock().ok().and_then(|mut q| q.pop_front()))
    }
}

/// Why a simulated camera has no frame.
#[derive(Debug)]
pub enum SimCameraError {
    /// No image configured.
    NoImage,
    /// The image file could not be read.
    Image(PathBuf, String),
}

/// A camera that serves fixed frames in turn (image files, or pictures
/// generated by the simulator such as the card front).
pub struct SimCamera {
    frames: Vec<Frame>,
    next: usize,
    latched: Option<(usize, usize)>,
}

struct Frame {
    info: FrameInfo,
    bytes: Vec<u8>,
}

impl SimCamera {
    /// A camera with no picture (every capture fails).
    pub fn empty() -> SimCamera {
        SimCamera {
            frames: Vec::new(),
            next: 0,
            latched: None,
        }
    }

    /// Serves these RGB pictures in turn.
    pub fn from_images(images: Vec<image::RgbImage>) -> SimCamera {
        let frames = images
            .into_iter()
            .filter_map(|img| {
                let info = FrameInfo {
                    width: u16::try_from(img.width()).ok()?,
                    height: u16::try_from(img.height()).ok()?,
                    format: PixelFormat::Rgb888,
                };
                Some(Frame {
                    info,
                    bytes: img.into_raw(),
                })
            })
            .collect();
        SimCamera {
            frames,
            next: 0,
            latched: None,
        }
    }

    /// Serves the image files (any format `image` reads) in turn; a folder
    /// means every image in it, sorted by name.
    pub fn from_path(path: &Path) -> Result<SimCamera, SimCameraError> {
        let mut files = Vec::new();
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| SimCameraError::Image(path.to_owned(), e.to_string()))?;
            for entry in entries.flatten() {
                files.push(entry.path());
            }
            files.sort();
        } else {
            files.push(path.to_owned());
        }
        let mut images = Vec::new();
        for file in files {
            let img = image::open(&file)
                .map_err(|e| SimCameraError::Image(file.clone(), e.to_string()))?;
            images.push(img.to_rgb8());
        }
        if images.is_empty() {
            return Err(SimCameraError::NoImage);
        }
        Ok(SimCamera::from_images(images))
    }
}

impl Camera for SimCamera {
    type Error = SimCameraError;

    fn start(&mut self) -> Result<FrameInfo, Self::Error> {
        if self.frames.is_empty() {
            return Err(SimCameraError::NoImage);
        }
        let index = self.next % self.frames.len();
        self.next += 1;
        self.latched = Some((index, 0));
        Ok(self.frames[index].info)
    }

    /// The frame the next capture will get, without moving on.
    fn start_preview(&mut self) -> Result<FrameInfo, Self::Error> {
        if self.frames.is_empty() {
            return Err(SimCameraError::NoImage);
        }
        let index = self.next % self.frames.len();
        self.latched = Some((index, 0));
        Ok(self.frames[index].info)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let Some((index, offset)) = self.latched else {
            return Ok(0);
        };
        let bytes = &self.frames[index].bytes;
        let n = buf.len().min(bytes.len() - offset);
        buf[..n].copy_from_slice(&bytes[offset..offset + n]);
        self.latched = if offset + n == bytes.len() {
            None
        } else {
            Some((index, offset + n))
        };
        Ok(n)
    }
}

/// What the indicator was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorEvent {
    /// A tone.
    Tone(Tone),
    /// The light.
    Light(bool),
}

/// Records tones and light changes.
#[derive(Clone, Default)]
pub struct SimIndicator {
    events: Arc<Mutex<Vec<IndicatorEvent>>>,
}

impl SimIndicator {
    /// Everything so far.
    pub fn events(&self) -> Vec<IndicatorEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Indicator for SimIndicator {
    fn tone(&mut self, tone: Tone) {
        if let Ok(mut e) = self.events.lock() {
            e.push(IndicatorEvent::Tone(tone));
        }
    }
    fn light(&mut self, on: bool) {
        if let Ok(mut e) = self.events.lock() {
            e.push(IndicatorEvent::Light(on));
        }
    }
}

/// One prompt the simulated speaker was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// The prompt's name (`Speaker::start`'s tag).
    pub tag: String,
    /// Samples a second.
    pub sample_rate: u32,
    /// Every sample written, in order.
    pub samples: Vec<i16>,
    /// Whether the firmware finished it (not cut off by the next).
    pub finished: bool,
}

#[derive(Default)]
struct SpeakerState {
    utterances: Vec<Utterance>,
    /// Samples written but not yet "played" (see [`SimSpeaker::play`]).
    queued: usize,
    capacity: Option<usize>,
    save_dir: Option<PathBuf>,
}

/// Records every utterance; optionally writes each finished one as
/// `NN-tag.wav`, and optionally holds only so many samples until a test
/// "plays" them, to exercise the firmware's streaming.
#[derive(Clone, Default)]
pub struct SimSpeaker {
    state: Arc<Mutex<SpeakerState>>,
}

impl SimSpeaker {
    /// Writes each finished utterance into `dir` as `NN-tag.wav` (16-bit
    /// mono PCM), beside the screenshots.
    pub fn save_to(&self, dir: PathBuf) {
        if let Ok(mut s) = self.state.lock() {
            s.save_dir = Some(dir);
        }
    }

    /// Takes at most `samples` queued samples until [`SimSpeaker::play`]
    /// frees room (the device's DMA buffer); unlimited by default.
    pub fn limit_queue(&self, samples: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.capacity = Some(samples);
        }
    }

    /// Plays `samples` of the queue, freeing that much room.
    pub fn play(&self, samples: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.queued = s.queued.saturating_sub(samples);
        }
    }

    /// Everything said so far.
    pub fn utterances(&self) -> Vec<Utterance> {
        self.state
            .lock()
            .map(|s| s.utterances.clone())
            .unwrap_or_default()
    }

    /// The tags of everything said so far, in order.
    pub fn tags(&self) -> Vec<String> {
        self.utterances().into_iter().map(|u| u.tag).collect()
    }
}

impl Speaker for SimSpeaker {
    type Error = std::convert::Infallible;

    fn start(&mut self, sample_rate: u32, tag: &str) -> Result<(), Self::Error> {
        if let Ok(mut s) = self.state.lock() {
            s.queued = 0;
            s.utterances.push(Utterance {
                tag: tag.to_owned(),
                sample_rate,
                samples: Vec::new(),
                finished: false,
            });
        }
        Ok(())
    }

    fn write(&mut self, samples: &[i16]) -> Result<usize, Self::Error> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(0);
        };
        let room = s
            .capacity
            .map_or(usize::MAX, |c| c.saturating_sub(s.queued));
        let n = samples.len().min(room);
        let Some(current) = s.utterances.last_mut() else {
            // Nothing started: the samples go nowhere, as on a device.
            return Ok(samples.len());
        };
        current.samples.extend_from_slice(&samples[..n]);
        s.queued += n;
        Ok(n)
    }

    fn finish(&mut self) -> Result<(), Self::Error> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(());
        };
        let count = s.utterances.len();
        let dir = s.save_dir.clone();
        if let Some(current) = s.utterances.last_mut() {
            current.finished = true;
            if let Some(dir) = dir {
                let path = dir.join(format!("{count:02}-{}.wav", current.tag));
                if let Err(e) = std::fs::write(&path, wav(current.sample_rate, &current.samples)) {
                    // A simulator aid: report and go on.
                    eprintln!("prompt {}: {e}", path.display());
                }
            }
        }
        Ok(())
    }

    fn stop(&mut self) {
        if let Ok(mut s) = self.state.lock() {
            s.queued = 0;
        }
    }
}

/// A RIFF WAVE file of 16-bit mono PCM. Written by hand: the header is 44
/// fixed bytes, and the HAL takes on no dependency for it.
pub fn wav(sample_rate: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // bytes a second
    out.extend_from_slice(&2u16.to_le_bytes()); // bytes a frame
    out.extend_from_slice(&16u16.to_le_bytes()); // bits a sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Wall-clock time since start.
pub struct SimClock {
    start: Instant,
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock {
            start: Instant::now(),
        }
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
}

/// A clock a test moves by hand.
#[derive(Clone, Default)]
pub struct ManualClock {
    now: Arc<Mutex<u64>>,
}

impl ManualClock {
    /// Moves time forward.
    pub fn advance(&self, ms: u64) {
        if let Ok(mut now) = self.now.lock() {
            *now += ms;
        }
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.lock().map(|n| *n).unwrap_or(0)
    }
}

/// A seeded generator (SplitMix64) for reproducible runs; the real device
/// and the simulator's default use the OS/TRNG (`rand_core::OsRng`).
#[derive(Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// From a seed.
    pub fn new(seed: u64) -> SeededRng {
        SeededRng(seed)
    }
}

impl rand_core::RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// NOR flash in memory: erase sets 0xFF, a write may only clear bits, as on
/// the real part, so firmware that forgets to erase fails here too.
///
/// It can also lose power ([`SimFlash::lose_power_after`]): the operation
/// (erase or write) at that index is torn — only its first half happens —
/// and every later one fails with [`SimFlashError::PowerLost`], until
/// [`SimFlash::restore_power`] (the next start). Power-cut tests run an
/// update once to count its operations, then cut at each index.
pub struct SimFlash {
    bytes: Vec<u8>,
    operations: usize,
    power_left: Option<usize>,
    fail_in: Option<usize>,
}

/// Errors of [`SimFlash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFlashError {
    /// Outside the part.
    OutOfBounds,
    /// Not aligned to the erase/write size.
    NotAligned,
    /// A write tried to set a bit that was not erased.
    NotErased,
    /// The power went (see [`SimFlash::lose_power_after`]).
    PowerLost,
    /// One operation failed and did nothing (see [`SimFlash::fail_after`]).
    Failed,
}

impl NorFlashError for SimFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            SimFlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            SimFlashError::NotAligned => NorFlashErrorKind::NotAligned,
            SimFlashError::NotErased | SimFlashError::PowerLost | SimFlashError::Failed => {
                NorFlashErrorKind::Other
            }
        }
    }
}

impl SimFlash {
    /// Erased flash of `size` bytes (a multiple of the 4 KiB sector).
    pub fn new(size: usize) -> SimFlash {
        SimFlash::from_bytes(vec![0xFF; size])
    }

    /// Flash holding these bytes (a saved part, e.g. `reader-sim --flash`).
    pub fn from_bytes(bytes: Vec<u8>) -> SimFlash {
        SimFlash {
            bytes,
            operations: 0,
            power_left: None,
            fail_in: None,
        }
    }

    /// The whole part's contents (to save it).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Erases and writes carried out (torn or refused ones not counted).
    pub fn operations(&self) -> usize {
        self.operations
    }

    /// After `operations` more erases or writes, the next one is torn and
    /// the power is gone.
    pub fn lose_power_after(&mut self, operations: usize) {
        self.power_left = Some(operations);
    }

    /// After `operations` more erases or writes, the next one fails and
    /// does nothing (a program or erase error); the ones after work again.
    pub fn fail_after(&mut self, operations: usize) {
        self.fail_in = Some(operations);
    }

    /// Power back (the device starts again); nothing is cut any more.
    pub fn restore_power(&mut self) {
        self.power_left = None;
    }

    /// Whether the next operation may run whole; a torn one runs `half`.
    fn spend(
        &mut self,
        range: std::ops::Range<usize>,
        half: impl FnOnce(&mut [u8]),
    ) -> Result<(), SimFlashError> {
        match self.fail_in {
            Some(0) => {
                self.fail_in = None;
                return Err(SimFlashError::Failed);
            }
            Some(n) => self.fail_in = Some(n - 1),
            None => {}
        }
        match self.power_left {
            Some(0) => {
                let (start, end) = (range.start, range.end);
                let mid = start + (end - start) / 2;
                if let Some(part) = self.bytes.get_mut(start..mid) {
                    half(part);
                }
                // Torn once; from now on nothing happens at all.
                self.power_left = Some(usize::MAX);
                Err(SimFlashError::PowerLost)
            }
            Some(usize::MAX) => Err(SimFlashError::PowerLost),
            Some(n) => {
                self.power_left = Some(n - 1);
                self.operations += 1;
                Ok(())
            }
            None => {
                self.operations += 1;
                Ok(())
            }
        }
    }
}

impl ErrorType for SimFlash {
    type Error = SimFlashError;
}

impl ReadNorFlash for SimFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let start = offset as usize;
        let src = self
            .bytes
            .get(start..start + bytes.len())
            .ok_or(SimFlashError::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl NorFlash for SimFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let (from, to) = (from as usize, to as usize);
        if from % Self::ERASE_SIZE != 0 || to % Self::ERASE_SIZE != 0 || from > to {
            return Err(SimFlashError::NotAligned);
        }
        if to > self.bytes.len() {
            return Err(SimFlashError::OutOfBounds);
        }
        self.spend(from..to, |part| part.fill(0xFF))?;
        self.bytes
            .get_mut(from..to)
            .ok_or(SimFlashError::OutOfBounds)?
            .fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let start = offset as usize;
        if !start.is_multiple_of(Self::WRITE_SIZE) || !bytes.len().is_multiple_of(Self::WRITE_SIZE)
        {
            return Err(SimFlashError::NotAligned);
        }
        let dst = self
            .bytes
            .get_mut(start..start + bytes.len())
            .ok_or(SimFlashError::OutOfBounds)?;
        if dst.iter().zip(bytes).any(|(d, b)| d & b != *b) {
            return Err(SimFlashError::NotErased);
        }
        self.spend(start..start + bytes.len(), |part| {
            part.copy_from_slice(&bytes[..part.len()])
        })?;
        self.bytes[start..start + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics_core::geometry::Point;

    #[test]
    fn flash_behaves_like_nor() {
        let mut f = SimFlash::new(8192);
        f.write(0, &[0x0F, 0xF0, 0x00, 0xFF]).unwrap();
        assert_eq!(f.write(0, &[0xFF; 4]), Err(SimFlashError::NotErased));
        assert_eq!(f.write(2, &[0; 4]), Err(SimFlashError::NotAligned));
        assert_eq!(f.write(8192, &[0; 4]), Err(SimFlashError::OutOfBounds));
        f.erase(0, 4096).unwrap();
        let mut back = [0u8; 4];
        f.read(0, &mut back).unwrap();
        assert_eq!(back, [0xFF; 4]);
    }

    #[test]
    fn flash_loses_power_mid_operation() {
        let mut f = SimFlash::new(8192);
        f.lose_power_after(1);
        f.write(0, &[0; 4]).unwrap();
        // The second write is torn: its first half lands, then nothing does.
        assert_eq!(f.write(4, &[0; 8]), Err(SimFlashError::PowerLost));
        assert_eq!(f.erase(0, 4096), Err(SimFlashError::PowerLost));
        let mut back = [0u8; 12];
        f.read(0, &mut back).unwrap();
        assert_eq!(back, [0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(f.operations(), 1);
        f.restore_power();
        f.erase(0, 8192).unwrap();
        assert_eq!(f.operations(), 2);
        f.lose_power_after(0);
        assert_eq!(f.erase(0, 8192), Err(SimFlashError::PowerLost));
        f.restore_power();
        f.read(4096, &mut back).unwrap();
        assert_eq!(back, [0xFF; 12]);
        // A failed operation does nothing; the next one works.
        f.fail_after(0);
        assert_eq!(f.write(4096, &[0; 4]), Err(SimFlashError::Failed));
        f.read(4096, &mut back).unwrap();
        assert_eq!(back, [0xFF; 12]);
        f.write(4096, &[0; 4]).unwrap();
    }

    #[test]
    fn camera_streams_a_frame_in_pieces_then_the_next() {
        let a = image::RgbImage::from_pixel(3, 2, image::Rgb([1, 2, 3]));
        let b = image::RgbImage::from_pixel(1, 1, image::Rgb([9, 9, 9]));
        let mut cam = SimCamera::from_images(vec![a, b]);
        let info = cam.start().unwrap();
        assert_eq!(info.len(), 18);
        let mut got = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            let n = cam.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, [1, 2, 3].repeat(6));
        assert_eq!(cam.start().unwrap().width, 1);
        assert!(SimCamera::empty().start().is_err());
    }

    #[test]
    fn display_draws_clips_and_saves() {
        let mut d = SimDisplay::new(4, 3);
        d.fill_solid(
            &Rectangle::new(Point::new(-2, 1), Size::new(10, 1)),
            Rgb565::WHITE,
        )
        .unwrap();
        let img = d.to_rgb8();
        assert_eq!(img.get_pixel(3, 1).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(3, 2).0, [0, 0, 0]);
        d.flush().unwrap();
        assert_eq!(d.flushes(), 1);
    }

    #[test]
    fn speaker_records_streams_and_writes_wav() {
        let dir = std::env::temp_dir().join(format!("sim-speaker-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let probe = SimSpeaker::default();
        let mut speaker = probe.clone();
        probe.save_to(dir.clone());
        probe.limit_queue(3);
        speaker.start(8000, "idle").unwrap();
        assert_eq!(speaker.write(&[1, 2, 3, 4, 5]).unwrap(), 3);
        assert_eq!(speaker.write(&[4, 5]).unwrap(), 0);
        probe.play(2);
        assert_eq!(speaker.write(&[4, 5]).unwrap(), 2);
        speaker.finish().unwrap();
        speaker.start(8000, "reading").unwrap();
        let said = probe.utterances();
        assert_eq!(said[0].samples, [1, 2, 3, 4, 5]);
        assert!(said[0].finished && !said[1].finished);
        assert_eq!(probe.tags(), ["idle", "reading"]);
        let file = std::fs::read(dir.join("01-idle.wav")).unwrap();
        assert_eq!(file, wav(8000, &[1, 2, 3, 4, 5]));
        assert_eq!(&file[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(file[24..28].try_into().unwrap()), 8000);
        assert_eq!(u32::from_le_bytes(file[40..44].try_into().unwrap()), 10);
        assert_eq!(file.len(), 44 + 10);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn blend_ends_are_exact() {
        use crate::blend;
        assert_eq!(blend(Rgb565::WHITE, Rgb565::BLACK, 15), Rgb565::WHITE);
        assert_eq!(blend(Rgb565::WHITE, Rgb565::BLACK, 0), Rgb565::BLACK);
    }
}

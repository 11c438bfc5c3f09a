//! Face images in memory: decoding camera frames and card photos (JPEG 2000
//! from the chip, any common format from a file) into a zeroizing RGB buffer
//! that has no `Debug` and is wiped on drop.
//!
//! JPEG 2000 uses `hayro-jpeg2000`: pure Rust with unsafe code forbidden, the
//! right decoder for bytes that come from an untrusted card.

use zeroize::{Zeroize, Zeroizing};

/// The JP2 signature box.
const JP2_SIGNATURE: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];
/// A raw JPEG 2000 codestream (SOC + SIZ).
const J2K_SIGNATURE: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];
/// Largest image accepted (a 4K frame has 8.3 M pixels).
const MAX_PIXELS: u64 = 16_000_000;

/// Why an image cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The JPEG 2000 data is corrupt or truncated.
    #[error("JPEG 2000 image cannot be decoded: {0}")]
    Jpeg2000(String),
    /// Another format that cannot be decoded.
    #[error("image cannot be decoded: {0}")]
    Decode(String),
    /// A colour layout the pipeline does not handle (CMYK, alpha only, …).
    #[error("unsupported image layout: {0}")]
    Unsupported(String),
    /// Zero-sized or larger than a camera frame can be.
    #[error("image of {width}x{height} pixels is out of range")]
    Size {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
}

/// An 8-bit RGB image, wiped when dropped.
pub struct RgbFrame {
    width: u32,
    height: u32,
    pixels: Zeroizing<Vec<u8>>,
    grayscale: bool,
}

impl RgbFrame {
    /// An image from interleaved RGB bytes.
    pub fn from_rgb(
        width: u32,
        height: u32,
        pixels: Zeroizing<Vec<u8>>,
    ) -> Result<RgbFrame, ImageError> {
        check_size(width, height)?;
        if pixels.len() != width as usize * height as usize * 3 {
            return Err(ImageError::Unsupported(
                "pixel count does not match the size".into(),
            ));
        }
        Ok(RgbFrame {
            width,
            height,
            pixels,
            grayscale: false,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether the source had a single grey channel (card photos do).
    pub fn is_grayscale(&self) -> bool {
        self.grayscale
    }

    /// Interleaved RGB bytes, row by row.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixel at (x, y) as RGB; black outside.
    pub fn get(&self, x: i64, y: i64) -> [u8; 3] {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return [0, 0, 0];
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// The part of the image in the rectangle (clipped to the image).
    pub fn crop(&self, x: i64, y: i64, width: u32, height: u32) -> Result<RgbFrame, ImageError> {
        let x0 = x.clamp(0, i64::from(self.width)) as usize;
        let y0 = y.clamp(0, i64::from(self.height)) as usize;
        let x1 = (x + i64::from(width)).clamp(0, i64::from(self.width)) as usize;
        let y1 = (y + i64::from(height)).clamp(0, i64::from(self.height)) as usize;
        let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
        check_size(w as u32, h as u32)?;
        let mut pixels = Zeroizing::new(Vec::with_capacity(w * h * 3));
        for row in y0..y1 {
            let start = (row * self.width as usize + x0) * 3;
            pixels.extend_from_slice(&self.pixels[start..start + w * 3]);
        }
        Ok(RgbFrame {
            width: w as u32,
            height: h as u32,
            pixels,
            grayscale: self.grayscale,
        })
    }

    /// The same image in grey (ITU-R BT.601 luma in all three channels), the
    /// way the card photo was made.
    pub fn to_grayscale(&self) -> RgbFrame {
        let mut pixels = Zeroizing::new(Vec::with_capacity(self.pixels.len()));
        for rgb in self.pixels.chunks_exact(3) {
            let luma =
                (299 * u32::from(rgb[0]) + 587 * u32::from(rgb[1]) + 114 * u32::from(rgb[2]) + 500)
                    / 1000;
            let l = luma.min(255) as u8;
            pixels.extend_from_slice(&[l, l, l]);
        }
        RgbFrame {
            width: self.width,
            height: self.height,
            pixels,
            grayscale: true,
        }
    }
}

fn check_size(width: u32, height: u32) -> Result<(), ImageError> {
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::Size { width, height });
    }
    Ok(())
}

/// Whether bytes are JPEG 2000 (JP2 container or raw codestream).
pub fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(&JP2_SIGNATURE) || bytes.starts_with(&J2K_SIGNATURE)
}

/// Decodes JPEG 2000 (as the chip stores the photo).
pub fn decode_jpeg2000(bytes: &[u8]) -> Result<RgbFrame, ImageError> {
    let settings = hayro_jpeg2000::DecodeSettings::default();
    let image = hayro_jpeg2000::Image::new(bytes, &settings)
        .map_err(|e| ImageError::Jpeg2000(format!("{e:?}")))?;
    let (width, height) = (image.width(), image.height());
    check_size(width, height)?;
    let channels = image.color_space().num_channels() as usize + usize::from(image.has_alpha());
    let gray = matches!(image.color_space(), hayro_jpeg2000::ColorSpace::Gray);
    let rgb = matches!(image.color_space(), hayro_jpeg2000::ColorSpace::RGB);
    if !gray && !rgb {
        return Err(ImageError::Unsupported(format!(
            "{:?} colour space",
            image.color_space()
        )));
    }
    let mut context = hayro_jpeg2000::DecoderContext::default();
    let decoded = image
        .decode(&mut context)
        .map_err(|e| ImageError::Jpeg2000(format!("{e:?}")))?;
    let data = Zeroizing::new(decoded.data_u8());
    if data.len() != width as usize * height as usize * channels {
        return Err(ImageError::Jpeg2000(
            "decoded size does not match the header".into(),
        ));
    }
    let mut pixels = Zeroizing::new(Vec::with_capacity(width as usize * height as usize * 3));
    for px in data.chunks_exact(channels) {
        if gray {
            pixels.extend_from_slice(&[px[0], px[0], px[0]]);
        } else {
            pixels.extend_from_slice(&px[..3]);
        }
    }
    Ok(RgbFrame {
        width,
        height,
        pixels,
        grayscale: gray,
    })
}

/// Decodes any supported image: JPEG 2000 by its signature, otherwise what
/// the `image` crate reads (JPEG, PNG, …).
pub fn decode(bytes: &[u8]) -> Result<RgbFrame, ImageError> {
    if is_jpeg2000(bytes) {
        return decode_jpeg2000(bytes);
    }
    let decoded = image::load_from_memory(bytes).map_err(|e| ImageError::Decode(e.to_string()))?;
    let grayscale = !decoded.color().has_color();
    let rgb = decoded.to_rgb8();
    // Wipe the decoder's own buffer too.
    decoded.into_bytes().zeroize();
    let (width, height) = rgb.dimensions();
    check_size(width, height)?;
    Ok(RgbFrame {
        width,
        height,
        pixels: Zeroizing::new(rgb.into_raw()),
        grayscale,
    })
}

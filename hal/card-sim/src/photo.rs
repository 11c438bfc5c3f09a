//! The face photo as the chip stores it: grayscale JPEG 2000 in the JP2
//! container, at most 200×250 pixels.
//!
//! Encoding uses `justjp2` (pure Rust, no C toolchain needed for the emulator).
//! JP2 input is stored unchanged, so a test can hand the emulator the exact
//! chip photo of the dev set.

use std::path::Path;

/// The JP2 signature box every card photo starts with.
pub const JP2_SIGNATURE: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];

/// Largest card photo, in pixels.
pub const MAX_WIDTH: u32 = 200;
/// Largest card photo, in pixels.
pub const MAX_HEIGHT: u32 = 250;

/// Errors while preparing a card photo.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The file cannot be read.
    #[error("cannot read photo {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not an image the `image` crate decodes.
    #[error("cannot decode photo: {0}")]
    Decode(#[from] image::ImageError),
    /// The JPEG 2000 encoder failed.
    #[error("cannot encode photo as JPEG 2000: {0}")]
    Encode(String),
}

/// Encodes a grayscale image as a lossy JP2 of card size.
pub fn encode_card_photo(image: &image::DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let gray = image.thumbnail(MAX_WIDTH, MAX_HEIGHT).to_luma8();
    let (width, height) = gray.dimensions();
    let component = justjp2::Component {
        data: gray.pixels().map(|p| i32::from(p.0[0])).collect(),
        width,
        height,
        precision: 8,
        signed: false,
        dx: 1,
        dy: 1,
    };
    let params = justjp2::EncodeParams {
        lossless: false,
        num_decomp_levels: 4,
        ..justjp2::EncodeParams::default()
    };
    justjp2::encode(
        &justjp2::Image {
            width,
            height,
            components: vec![component],
        },
        &params,
    )
    .map_err(|e| PhotoError::Encode(e.to_string()))
}

/// Loads a photo for the card: JP2 files as they are, other images converted.
pub fn load(path: &Path) -> Result<Vec<u8>, PhotoError> {
    let bytes = std::fs::read(path).map_err(|source| PhotoError::Read {
        path: path.display().to_string(),
        source,
    })?;
    if bytes.starts_with(&JP2_SIGNATURE) {
        return Ok(bytes);
    }
    encode_card_photo(&image::load_from_memory(&bytes)?)
}

/// A synthetic, clearly-not-a-person portrait used when no photo is given:
/// a bright oval on a darker background.
pub fn synthetic() -> Result<Vec<u8>, PhotoError> {
    let img = image::GrayImage::from_fn(MAX_WIDTH, MAX_HEIGHT, |x, y| {
        let dx = (x as f32 - 100.0) / 60.0;
        let dy = (y as f32 - 110.0) / 80.0;
        let inside = dx * dx + dy * dy <= 1.0;
        image::Luma([if inside { 200 } else { 60 + (y / 8) as u8 }])
    });
    encode_card_photo(&image::DynamicImage::ImageLuma8(img))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_photo_is_grayscale_jp2_at_card_size() {
        let jp2 = synthetic().unwrap();
        assert!(jp2.starts_with(&JP2_SIGNATURE));
        let decoded = justjp2::decode(&jp2).unwrap();
        assert_eq!((decoded.width, decoded.height), (MAX_WIDTH, MAX_HEIGHT));
        assert_eq!(decoded.components.len(), 1);
    }
}

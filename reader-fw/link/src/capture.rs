//! Putting a camera frame back together from its `FramePart`s, bounded.
//!
//! The device sends a frame as parts of a few KiB, in order. [`Reassembly`]
//! checks each part against the first (same camera, same size), that it
//! starts where the last one ended and stays inside the frame, and says
//! where its bytes go; the caller owns the pixel buffer (a zeroizing one on
//! the host), so this stays free of allocation. Sizes come from the device:
//! what no reader camera sends is refused before anyone allocates for it.

use crate::Camera;

/// The largest frame accepted (4096×4096 RGB).
pub const MAX_CAPTURE_BYTES: usize = 4096 * 4096 * 3;

/// Why a part does not belong to the frame being rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFault {
    /// A part of another camera's frame.
    OtherCamera,
    /// Channels other than 1 or 3, an empty frame, or one over
    /// [`MAX_CAPTURE_BYTES`].
    BadShape,
    /// A part whose size differs from the first part's.
    Resized,
    /// A part that does not start where the previous one ended (lost or
    /// overlapping parts).
    OutOfOrder,
    /// A part that runs past the end of the frame.
    Overrun,
}

impl core::fmt::Display for CaptureFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CaptureFault::OtherCamera => "a part of another camera's frame",
            CaptureFault::BadShape => "a frame size no reader camera sends",
            CaptureFault::Resized => "a part of another size than the first",
            CaptureFault::OutOfOrder => "parts lost or overlapping",
            CaptureFault::Overrun => "a part past the end of the frame",
        })
    }
}

impl core::error::Error for CaptureFault {}

/// Where one part's bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The whole frame's size in bytes (allocate this on the first part).
    pub total: usize,
    /// First byte of this part in the frame.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// This part completes the frame.
    pub complete: bool,
}

/// One frame being rebuilt.
#[derive(Debug, Clone, Copy)]
pub struct Reassembly {
    camera: Camera,
    shape: Option<(u16, u16, u8)>,
    filled: usize,
}

impl Reassembly {
    /// Waits for the parts of a frame from `camera`.
    pub fn new(camera: Camera) -> Reassembly {
        Reassembly {
            camera,
            shape: None,
            filled: 0,
        }
    }

    /// The `(width, height, channels)` of the frame, once a part arrived.
    pub fn shape(&self) -> Option<(u16, u16, u8)> {
        self.shape
    }

    /// Checks one part (its header fields and length) and says where its
    /// bytes go; a refused part leaves the reassembly unusable for the
    /// caller, who should drop the frame.
    pub fn place(
        &mut self,
        camera: Camera,
        width: u16,
        height: u16,
        channels: u8,
        offset: u32,
        len: usize,
    ) -> Result<Placement, CaptureFault> {
        if camera != self.camera {
            return Err(CaptureFault::OtherCamera);
        }
        let total = usize::from(width) * usize::from(height) * usize::from(channels);
        if !matches!(channels, 1 | 3) || total == 0 || total > MAX_CAPTURE_BYTES {
            return Err(CaptureFault::BadShape);
        }
        match self.shape {
            None => self.shape = Some((width, height, channels)),
            Some(shape) if shape != (width, height, channels) => return Err(CaptureFault::Resized),
            Some(_) => {}
        }
        let start = usize::try_from(offset).map_err(|_| CaptureFault::Overrun)?;
        if start != self.filled {
            return Err(CaptureFault::OutOfOrder);
        }
        let end = start.checked_add(len).ok_or(CaptureFault::Overrun)?;
        if end > total {
            return Err(CaptureFault::Overrun);
        }
        self.filled = end;
        Ok(Placement {
            total,
            start,
            end,
            complete: end == total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_in_order_complete_the_frame_and_faults_are_typed() {
        let mut r = Reassembly::new(Camera::Patient);
        let p = r.place(Camera::Patient, 2, 2, 1, 0, 2);
        assert_eq!(
            p,
            Ok(Placement {
                total: 4,
                start: 0,
                end: 2,
                complete: false
            })
        );
        assert!(r
            .place(Camera::Patient, 2, 2, 1, 2, 2)
            .is_ok_and(|p| p.complete));

        let fault = |parts: &[(Camera, u16, u16, u8, u32, usize)]| {
            let mut r = Reassembly::new(Camera::Patient);
            parts
                .iter()
                .map(|&(c, w, h, ch, o, l)| r.place(c, w, h, ch, o, l))
                .find_map(Result::err)
        };
        let p = Camera::Patient;
        assert_eq!(
            fault(&[(Camera::CardFront, 2, 2, 1, 0, 2)]),
            Some(CaptureFault::OtherCamera)
        );
        assert_eq!(fault(&[(p, 2, 2, 7, 0, 2)]), Some(CaptureFault::BadShape));
        assert_eq!(
            fault(&[(p, u16::MAX, u16::MAX, 3, 0, 1)]),
            Some(CaptureFault::BadShape)
        );
        assert_eq!(fault(&[(p, 0, 2, 1, 0, 0)]), Some(CaptureFault::BadShape));
        assert_eq!(
            fault(&[(p, 2, 2, 1, 0, 2), (p, 4, 2, 1, 2, 2)]),
            Some(CaptureFault::Resized)
        );
        assert_eq!(
            fault(&[(p, 2, 2, 1, 0, 2), (p, 2, 2, 1, 3, 1)]),
            Some(CaptureFault::OutOfOrder)
        );
        assert_eq!(
            fault(&[(p, 2, 2, 1, 0, 2), (p, 2, 2, 1, 0, 2)]),
            Some(CaptureFault::OutOfOrder)
        );
        assert_eq!(fault(&[(p, 1, 1, 1, 0, 3)]), Some(CaptureFault::Overrun));
    }
}

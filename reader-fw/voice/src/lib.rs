//! `myna-voice`: the reader's recorded prompts as one flash asset, its
//! checked parser and the decoder the firmware plays them with. `no_std`,
//! no allocator; the `build` feature adds the writer (std) that
//! `voice-build` uses to make the asset from the catalogue.
//!
//! The codec is IMA ADPCM (4 bits a sample, mono) at [`SAMPLE_RATE`]: a
//! quarter of 16-bit PCM, decoded with a table of 89 steps and a few
//! additions per sample (no multiply, no buffer), so the smallest MCU
//! plays it from memory-mapped flash while it draws. Speech for a small
//! kiosk speaker needs no more than the 5.5 kHz band this rate carries.
//!
//! Layout (little-endian):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 8 | magic `MYNAVOX1` |
//! | 8 | 4 | sample rate (Hz) |
//! | 12 | 4 | clip count N |
//! | 16 | 16·N | index: key (u64), data offset (u32), samples (u32); keys strictly ascending |
//! | 16 + 16·N | … | clips, back to back in index order: first sample (i16), step index (u8), 0 (u8), ⌈samples / 2⌉ bytes of codes, low nibble first |
//! | end − 4 | 4 | CRC-32 (ISO-HDLC) of every byte before it |
//!
//! A key is `myna_catalogue::speech::key_of` of the words synthesised, so
//! a clip is found by what it says (see that module).
#![cfg_attr(not(feature = "build"), no_std)]

use crc::{Crc, CRC_32_ISO_HDLC};

/// The first eight bytes of the asset.
pub const MAGIC: [u8; 8] = *b"MYNAVOX1";
/// The rate the prompts are recorded at.
pub const SAMPLE_RATE: u32 = 11_025;
/// Flash set aside for the asset: a 3 MiB voice partition beside the two
/// 1 MiB firmware slots (a 16 MiB QSPI NOR part holds them with room to
/// spare; the prompts are not in the signed firmware image, so a slot's
/// size does not bound them). Both languages took about 2.1 MB when it
/// was set. `tests/asset.rs` holds the committed asset to it.
pub const BUDGET_BYTES: usize = 3 * 1024 * 1024;
/// The longest a single clip may be, in samples (10 s): a sentence longer
/// than that is too long to take in by ear, and belongs split in the
/// catalogue. `tests/asset.rs` holds every committed clip to it.
pub const CLIP_BUDGET_SAMPLES: u32 = 10 * SAMPLE_RATE;
/// The longest a page read out may be (15 s): the registration's terms are
/// read a page at a time ([`myna_catalogue::speech::PAGES`]), two or three
/// short sentences that belong together, not one long sentence.
pub const PAGE_BUDGET_SAMPLES: u32 = 15 * SAMPLE_RATE;
/// The longest clip the parser takes, in samples (20 s; the committed
/// ones are held to [`CLIP_BUDGET_SAMPLES`]).
pub const CLIP_MAX_SAMPLES: u32 = 20 * SAMPLE_RATE;

/// The committed asset (`prompts.bin`, made by `voice-build`).
#[cfg(feature = "asset")]
pub const ASSET: &[u8] = include_bytes!("../prompts.bin");

const HEADER_LEN: usize = 16;
const ENTRY_LEN: usize = 16;
const CLIP_HEADER_LEN: usize = 4;
const CRC_LEN: usize = 4;
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// Why an asset is refused. Each cause has its own value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetError {
    /// Shorter than its header and index say.
    Truncated,
    /// Not a voice asset (wrong magic).
    BadMagic,
    /// A rate other than [`SAMPLE_RATE`].
    SampleRate,
    /// The CRC at the end does not match (a torn or corrupted write).
    Checksum,
    /// Keys not strictly ascending (lookup is a binary search).
    Unsorted,
    /// A clip not where the previous one ended, or bytes after the last.
    Layout,
    /// A clip with no samples or more than [`CLIP_MAX_SAMPLES`].
    ClipLength,
    /// A clip's starting step index beyond the codec's table.
    StepIndex,
}

impl core::fmt::Display for AssetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            AssetError::Truncated => "voice asset truncated",
            AssetError::BadMagic => "not a voice asset",
            AssetError::SampleRate => "voice asset at an unexpected sample rate",
            AssetError::Checksum => "voice asset checksum mismatch",
            AssetError::Unsorted => "voice asset index not sorted",
            AssetError::Layout => "voice asset clips not laid out back to back",
            AssetError::ClipLength => "voice clip empty or too long",
            AssetError::StepIndex => "voice clip step index out of range",
        })
    }
}

impl core::error::Error for AssetError {}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let lo = u32_at(bytes, at)?;
    let hi = u32_at(bytes, at + 4)?;
    Some(u64::from(lo) | (u64::from(hi) << 32))
}

/// Bytes of a clip of `samples` samples (its header and codes).
pub fn clip_bytes(samples: u32) -> usize {
    CLIP_HEADER_LEN + (samples as usize).div_ceil(2)
}

/// A checked asset: every index entry points at a whole clip inside it, so
/// lookups and decoding index without further checks failing.
#[derive(Debug, Clone, Copy)]
pub struct Prompts<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

impl<'a> Prompts<'a> {
    /// Checks `bytes` (CRC, index, layout, every clip's header).
    pub fn parse(bytes: &'a [u8]) -> Result<Prompts<'a>, AssetError> {
        Prompts::parse_with(bytes, true)
    }

    /// `parse`, with the CRC checked or not: the fuzz entry point checks
    /// the layout of inputs whose CRC it would almost never guess.
    fn parse_with(bytes: &'a [u8], verify_crc: bool) -> Result<Prompts<'a>, AssetError> {
        if bytes.len() < HEADER_LEN + CRC_LEN {
            return Err(AssetError::Truncated);
        }
        if bytes[..8] != MAGIC {
            return Err(AssetError::BadMagic);
        }
        let (body, crc) = bytes.split_at(bytes.len() - CRC_LEN);
        let rate = u32_at(body, 8).ok_or(AssetError::Truncated)?;
        let count = u32_at(body, 12).ok_or(AssetError::Truncated)? as usize;
        let index_len = count.checked_mul(ENTRY_LEN).ok_or(AssetError::Truncated)?;
        // Checked sums: on a 32-bit MCU a forged count or offset must not
        // wrap around.
        let index_end = HEADER_LEN
            .checked_add(index_len)
            .ok_or(AssetError::Truncated)?;
        let index = body
            .get(HEADER_LEN..index_end)
            .ok_or(AssetError::Truncated)?;
        if verify_crc && u32_at(crc, 0) != Some(CRC32.checksum(body)) {
            return Err(AssetError::Checksum);
        }
        if rate != SAMPLE_RATE {
            return Err(AssetError::SampleRate);
        }
        let data = body.get(index_end..).ok_or(AssetError::Truncated)?;
        let mut expected_offset = 0usize;
        let mut previous_key = None;
        for entry in index.chunks_exact(ENTRY_LEN) {
            let key = u64_at(entry, 0).ok_or(AssetError::Truncated)?;
            let offset = u32_at(entry, 8).ok_or(AssetError::Truncated)? as usize;
            let samples = u32_at(entry, 12).ok_or(AssetError::Truncated)?;
            if previous_key.is_some_and(|p| p >= key) {
                return Err(AssetError::Unsorted);
            }
            previous_key = Some(key);
            if offset != expected_offset {
                return Err(AssetError::Layout);
            }
            if samples == 0 || samples > CLIP_MAX_SAMPLES {
                return Err(AssetError::ClipLength);
            }
            let len = clip_bytes(samples);
            let end = offset.checked_add(len).ok_or(AssetError::Truncated)?;
            let clip = data.get(offset..end).ok_or(AssetError::Truncated)?;
            if usize::from(clip[2]) >= STEPS.len() {
                return Err(AssetError::StepIndex);
            }
            expected_offset = end;
        }
        if expected_offset != data.len() {
            return Err(AssetError::Layout);
        }
        Ok(Prompts { index, data })
    }

    /// Clips in the asset.
    pub fn len(&self) -> usize {
        self.index.len() / ENTRY_LEN
    }

    /// Whether the asset holds no clip.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn entry(&self, i: usize) -> Option<(u64, Clip<'a>)> {
        let entry = self.index.get(i * ENTRY_LEN..(i + 1) * ENTRY_LEN)?;
        let key = u64_at(entry, 0)?;
        let offset = u32_at(entry, 8)? as usize;
        let samples = u32_at(entry, 12)?;
        let bytes = self
            .data
            .get(offset..offset.checked_add(clip_bytes(samples))?)?;
        Some((key, Clip { bytes, samples }))
    }

    /// The clip with this key (binary search).
    pub fn clip(&self, key: u64) -> Option<Clip<'a>> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, clip) = self.entry(mid)?;
            match k.cmp(&key) {
                core::cmp::Ordering::Equal => return Some(clip),
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// Every `(key, clip)`, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Clip<'a>)> + '_ {
        (0..self.len()).filter_map(|i| self.entry(i))
    }
}

/// One checked clip.
#[derive(Debug, Clone, Copy)]
pub struct Clip<'a> {
    bytes: &'a [u8],
    samples: u32,
}

impl<'a> Clip<'a> {
    /// Samples when decoded.
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// Bytes the clip takes in the asset (header and codes).
    pub fn stored_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// A decoder at the clip's first sample.
    pub fn decoder(&self) -> Decoder<'a> {
        Decoder {
            codes: self.bytes.get(CLIP_HEADER_LEN..).unwrap_or_default(),
            left: self.samples,
            at: 0,
            state: State {
                predictor: i16::from_le_bytes([self.bytes[0], self.bytes[1]]).into(),
                index: self.bytes[2],
            },
        }
    }
}

/// IMA ADPCM step sizes.
const STEPS: [i32; 89] = [
    7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66,
    73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449,
    494, 544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272,
    2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493,
    10442, 11487, 12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
];

/// How the step index moves after each code.
const INDEX_MOVES: [i8; 8] = [-1, -1, -1, -1, 2, 4, 6, 8];

/// The codec state both ends keep.
#[derive(Debug, Clone, Copy)]
struct State {
    predictor: i32,
    index: u8,
}

impl State {
    fn decode(&mut self, code: u8) -> i16 {
        let step = STEPS[usize::from(self.index)];
        let mut diff = step >> 3;
        if code & 4 != 0 {
            diff += step;
        }
        if code & 2 != 0 {
            diff += step >> 1;
        }
        if code & 1 != 0 {
            diff += step >> 2;
        }
        if code & 8 != 0 {
            self.predictor -= diff;
        } else {
            self.predictor += diff;
        }
        self.predictor = self.predictor.clamp(i16::MIN.into(), i16::MAX.into());
        let moved = i16::from(self.index) + i16::from(INDEX_MOVES[usize::from(code & 7)]);
        self.index = moved.clamp(0, STEPS.len() as i16 - 1) as u8;
        self.predictor as i16
    }
}

/// Decodes a clip into 16-bit PCM, a buffer at a time.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    codes: &'a [u8],
    left: u32,
    at: usize,
    state: State,
}

impl Decoder<'_> {
    /// Samples still to come.
    pub fn remaining(&self) -> u32 {
        self.left
    }

    /// Fills `out` with the next samples; returns how many (0 at the end).
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let mut n = 0;
        for slot in out.iter_mut() {
            if self.left == 0 {
                break;
            }
            let Some(byte) = self.codes.get(self.at / 2) else {
                // Checked at parse: the codes cover every sample.
                self.left = 0;
                break;
            };
            let code = if self.at.is_multiple_of(2) {
                byte & 0x0F
            } else {
                byte >> 4
            };
            *slot = self.state.decode(code);
            self.at += 1;
            self.left -= 1;
            n += 1;
        }
        n
    }
}

/// Parses and decodes arbitrary bytes; the fuzz target's entry point.
/// Each input is parsed twice: as is, and without the CRC check, so the
/// fuzzer reaches the index and clip checks without forging a CRC.
#[cfg(feature = "fuzz")]
pub fn fuzz_parse(bytes: &[u8]) {
    let checked = Prompts::parse(bytes);
    if checked.is_ok() {
        // A CRC that matches changes nothing else.
        assert!(Prompts::parse_with(bytes, false).is_ok());
    }
    for parsed in [checked, Prompts::parse_with(bytes, false)] {
        let Ok(prompts) = parsed else { continue };
        let mut buf = [0i16; 256];
        for (key, clip) in prompts.iter() {
            let mut decoder = clip.decoder();
            let mut total = 0u32;
            loop {
                let n = decoder.fill(&mut buf);
                if n == 0 {
                    break;
                }
                total += n as u32;
            }
            assert_eq!(total, clip.samples());
            assert!(prompts.clip(key).is_some());
        }
    }
}

/// The writer: encoding and the asset layout (std; `voice-build` and tests).
#[cfg(feature = "build")]
pub mod build {
    use super::*;

    /// Encodes PCM as one clip (header and codes). The first sample is
    /// stored as is; the step index starts where it suits the second.
    pub fn encode(samples: &[i16]) -> Vec<u8> {
        let first = samples.first().copied().unwrap_or(0);
        let gap = samples
            .get(1)
            .map_or(0, |s| (i32::from(*s) - i32::from(first)).abs());
        let index = STEPS.iter().position(|s| *s >= gap).unwrap_or(0).min(88) as u8;
        let mut state = State {
            predictor: first.into(),
            index,
        };
        let mut out = Vec::with_capacity(clip_bytes(samples.len() as u32));
        out.extend_from_slice(&first.to_le_bytes());
        out.extend_from_slice(&[index, 0]);
        let mut low = None;
        for sample in samples {
            let code = encode_one(&state, *sample);
            // The encoder tracks the decoder exactly: same state update.
            state.decode(code);
            match low.take() {
                None => low = Some(code),
                Some(l) => out.push(l | (code << 4)),
            }
        }
        if let Some(l) = low {
            out.push(l);
        }
        out
    }

    fn encode_one(state: &State, sample: i16) -> u8 {
        let step = STEPS[usize::from(state.index)];
        let mut diff = i32::from(sample) - state.predictor;
        let mut code = 0u8;
        if diff < 0 {
            code = 8;
            diff = -diff;
        }
        let mut threshold = step;
        for bit in [4u8, 2, 1] {
            if diff >= threshold {
                code |= bit;
                diff -= threshold;
            }
            threshold >>= 1;
        }
        code
    }

    /// Lays out an asset: `clips` as `(key, pcm)`, any order, keys unique
    /// (a repeated key is an error: two clips would claim one recording).
    pub fn asset(clips: &[(u64, Vec<i16>)]) -> Result<Vec<u8>, AssetError> {
        let mut sorted: Vec<&(u64, Vec<i16>)> = clips.iter().collect();
        sorted.sort_by_key(|(k, _)| *k);
        if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(AssetError::Unsorted);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
        let mut data = Vec::new();
        for (key, pcm) in &sorted {
            let samples = u32::try_from(pcm.len()).map_err(|_| AssetError::ClipLength)?;
            if samples == 0 || samples > CLIP_MAX_SAMPLES {
                return Err(AssetError::ClipLength);
            }
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&samples.to_le_bytes());
            data.extend_from_slice(&encode(pcm));
        }
        out.extend_from_slice(&data);
        let crc = CRC32.checksum(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

#[cfg(all(test, feature = "build"))]
mod tests {
    use super::build::{asset, encode};
    use super::*;

    fn tone(n: usize, period: f32, amp: f32) -> Vec<i16> {
        (0..n)
            .map(|i| ((i as f32 / period * core::f32::consts::TAU).sin() * amp) as i16)
            .collect()
    }

    fn decode(clip: Clip<'_>) -> Vec<i16> {
        let mut d = clip.decoder();
        let mut out = vec![0i16; clip.samples() as usize + 10];
        let mut n = 0;
        loop {
            let end = n + 7.min(out.len() - n);
            let got = d.fill(&mut out[n..end]);
            if got == 0 {
                break;
            }
            n += got;
        }
        out.truncate(n);
        out
    }

    #[test]
    fn round_trip_keeps_the_wave_close() {
        let a = tone(4001, 37.0, 12000.0);
        let b = tone(10, 5.0, 300.0);
        let bytes = asset(&[(9, a.clone()), (3, b.clone())]).unwrap();
        let prompts = Prompts::parse(&bytes).unwrap();
        assert_eq!(prompts.len(), 2);
        let keys: Vec<u64> = prompts.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [3, 9]);
        let back = decode(prompts.clip(9).unwrap());
        assert_eq!(back.len(), a.len());
        // 4-bit ADPCM on a clean tone: the error is a small part of the
        // amplitude once the step has adapted.
        let err: f64 = a
            .iter()
            .zip(&back)
            .skip(100)
            .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
            .sum::<f64>()
            / (a.len() - 100) as f64;
        assert!(err.sqrt() < 600.0, "rms error {}", err.sqrt());
        assert_eq!(decode(prompts.clip(3).unwrap()).len(), 10);
        assert!(prompts.clip(4).is_none());
        assert_eq!(encode(&a).len(), clip_bytes(4001));
    }

    fn with_crc(mut body: Vec<u8>) -> Vec<u8> {
        body.truncate(body.len() - CRC_LEN);
        let crc = CRC32.checksum(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn each_refusal_has_its_own_error() {
        let good = asset(&[(1, tone(50, 9.0, 1000.0)), (2, tone(40, 7.0, 900.0))]).unwrap();
        assert!(Prompts::parse(&good).is_ok());
        assert_eq!(
            Prompts::parse(&good[..10]).unwrap_err(),
            AssetError::Truncated
        );
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(Prompts::parse(&bad).unwrap_err(), AssetError::BadMagic);
        let mut bad = good.clone();
        bad[20] ^= 1;
        assert_eq!(Prompts::parse(&bad).unwrap_err(), AssetError::Checksum);
        let mut bad = good.clone();
        bad[8..12].copy_from_slice(&16_000u32.to_le_bytes());
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::SampleRate
        );
        // Swap the two keys.
        let mut bad = good.clone();
        bad[16..24].copy_from_slice(&5u64.to_le_bytes());
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::Unsorted
        );
        // Second clip's offset moved.
        let mut bad = good.clone();
        bad[16 + 16 + 8] += 1;
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::Layout
        );
        // First clip with no samples.
        let mut bad = good.clone();
        bad[16 + 12..16 + 16].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::ClipLength
        );
        // First clip's step index.
        let mut bad = good.clone();
        bad[16 + 32 + 2] = 89;
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::StepIndex
        );
        // A byte too many after the last clip.
        let mut bad = good.clone();
        bad.insert(bad.len() - CRC_LEN, 0);
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::Layout
        );
        // More clips claimed than the index holds.
        let mut bad = good.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Prompts::parse(&with_crc(bad)).unwrap_err(),
            AssetError::Truncated
        );
        assert_eq!(
            asset(&[(1, vec![1]), (1, vec![2])]).unwrap_err(),
            AssetError::Unsorted
        );
        assert_eq!(asset(&[(1, vec![])]).unwrap_err(), AssetError::ClipLength);
    }
}

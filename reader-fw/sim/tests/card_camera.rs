//! The simulator's card camera with a real font: the frames it serves are
//! read back by the host's card-front reader, at the position, angle and
//! light asked for. Fonts from the system and the text models (skipped
//! with a message when missing, a failure under CI=true).

// Test code: a malformed frame is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use card_front_synth::Conditions;
use myna_card_front::{fonts, ocr, CardFrontReader, CardFrontSettings};
use myna_face::image::RgbFrame;
use reader_sim::{card_front, CardCamera, CardFace};

#[test]
fn the_card_camera_serves_frames_the_host_reads() {
    let files = fonts::load(&[]);
    if files.is_empty() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: Japanese fonts missing; run scripts/setup-debian"
        );
        eprintln!("skipped: no Japanese fonts (run scripts/setup-debian)");
        return;
    }
    let bytes: Vec<Vec<u8>> = files.iter().map(|(_, b)| b.clone()).collect();
    let reader =
        match CardFrontReader::load(&ocr::text_models_dir(None), CardFrontSettings::default(), 2) {
            Ok(reader) => reader,
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI: card-front text models: {e}"
                );
                eprintln!("skipped: card-front text models: {e} (run models/fetch --only text)");
                return;
            }
        };
    let flat = card_front(&CardFace::default());
    assert_eq!(
        flat.dimensions(),
        (856, 540),
        "the default stays the flat card"
    );
    for (i, (angle, upside_down, exposure, at)) in [
        (0.0, false, 1.0, (0.5, 0.5)),
        (-10.0, false, 0.6, (0.35, 0.4)),
        (7.0, true, 0.8, (0.6, 0.55)),
    ]
    .into_iter()
    .enumerate()
    {
        let face = CardFace {
            birth: (1989, 1, 8),
            expiry: (2030, 1, 8),
            security_code: "0917".into(),
            camera: Some(CardCamera {
                font: Arc::new(bytes[i % bytes.len()].clone()),
                conditions: Conditions {
                    angle,
                    upside_down,
                    exposure,
                    centre: at,
                    scale: 0.6,
                    jpeg: Some((85, false)),
                    ..Conditions::default()
                },
            }),
            ..CardFace::default()
        };
        let img = card_front(&face);
        assert_eq!(img.dimensions(), (1280, 720));
        let frame =
            RgbFrame::from_rgb(1280, 720, zeroize::Zeroizing::new(img.into_raw())).expect("frame");
        let read = reader
            .read(&frame)
            .expect("the host reads the simulated card");
        assert_eq!(read.upside_down(), upside_down);
        // 平成元年1月8日 → 010108, expiry 2030, code 0917.
        assert_eq!(read.collation_b_bytes().as_slice(), b"01010820300917");
    }
}

//! `mynareader card-front read`: exit 0 and the JSON fields on a readable
//! card, exit 3 and `{"error","hint"}` on a refusal, exit 1 on a file that
//! is not an image. Frames come from `card-front-synth`; fonts from the
//! system (skipped with a message when missing, a failure under CI=true).

// Test code: a failed spawn or write is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output};

use card_front_synth::{self as synth, CardSpec, Conditions, Era, EraDate};
use myna_card_front::{fonts, ocr};

fn mynareader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mynareader"))
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn fonts_or_skip() -> Option<Vec<synth::Font>> {
    let files = fonts::load(&[]);
    let models = ocr::text_models_dir(None);
    let have_models = models.join("ppocrv5_rec.onnx").exists();
    if files.is_empty() || !have_models {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: Japanese fonts or the text models missing; run scripts/setup-debian, models/fetch --only text"
        );
        eprintln!(
            "skipped: no Japanese fonts or no text models in {}",
            models.display()
        );
        return None;
    }
    Some(synth::parse_fonts(&files))
}

#[test]
fn a_card_is_read_and_an_empty_tray_refused() {
    let Some(fonts) = fonts_or_skip() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = CardSpec {
        birth: EraDate {
            era: Era::Showa,
            year: 55,
            month: 2,
            day: 17,
        },
        expiry: (2035, 2, 17),
        code: [2, 2, 8, 5],
        fullwidth: false,
        padded: true,
        with_fields: true,
        tinted_expiry: false,
        note_date: false,
        layout: synth::CardLayout::default(),
    };
    let cond = Conditions {
        angle: -6.0,
        jpeg: Some((85, false)),
        ..Conditions::default()
    };
    let mut rng = rand::SeedableRng::seed_from_u64(3);
    let card = synth::render_card(&spec, &fonts[0], &mut rng);
    let frame = synth::compose(&[(&card, &cond)], &cond);
    let path = dir.path().join("card.png");
    frame.save(&path).expect("png");
    let out = mynareader(&["card-front", "read", path.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["collation_b"], "55021720352285");
    assert_eq!(v["birth"]["era"], "昭和");
    assert_eq!(v["birth"]["year"], 55);
    assert_eq!(v["expiry_year"], 2035);
    assert_eq!(v["security_code"], "2285");
    let c = v["confidence"].as_f64().expect("confidence");
    assert!((0.0..=1.0).contains(&c));
    assert!(v["ms"].as_f64().is_some());

    let empty = synth::compose(&[], &cond);
    let path = dir.path().join("empty.png");
    empty.save(&path).expect("png");
    let out = mynareader(&["card-front", "read", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["error"], "no card in the frame");
    assert!(v["hint"].as_str().unwrap().contains("置き直して"));
}

#[test]
fn a_file_that_is_not_an_image_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("not.png");
    std::fs::write(&path, b"not an image").expect("write");
    let out = mynareader(&["card-front", "read", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let out = mynareader(&["card-front", "read", "/nonexistent/card.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint:"));
}

#[test]
fn missing_text_models_exit_1_with_the_fetch_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("card.png");
    image::RgbImage::from_pixel(320, 200, image::Rgb([240, 240, 240]))
        .save(&path)
        .expect("png");
    let out = Command::new(env!("CARGO_BIN_EXE_mynareader"))
        .args(["card-front", "read", path.to_str().unwrap(), "--models"])
        .arg(dir.path())
        // Neither variable may point the reader elsewhere, and no
        // ../shared/ocr is reachable from the temporary folder.
        .env_remove("MYNAREADER_TEXT_MODELS")
        .env_remove("MYNAREADER_MODELS")
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .output()
        .expect("the CLI runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ppocrv5_mobile_det.onnx"), "{err}");
    assert!(err.contains("models/fetch"), "{err}");
}

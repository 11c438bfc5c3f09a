//! Card-front bench: generated frames (fonts from the system), per-stage
//! median milliseconds, exact 照合番号B / wrong / refused counts, and — when
//! the `tesseract` binary with `jpn` is installed — Tesseract on the same
//! frames (fields right out of 100: birth YYMMDD, expiry year, code).
//! `CARDFRONT_FRAMES=N` sets the frame count (default 100);
//! `CARDFRONT_FIRST` the first seed (default 1000000, away from the tests');
//! `CARDFRONT_MINCONF` overrides the threshold (for calibration);
//! `CARDFRONT_VERBOSE=1` lists every frame not read exactly with its
//! conditions and the refusal (generated cards only, never a patient's);
//! `CARDFRONT_SAVE=DIR` writes the frames as PNG with `truth.csv` (file,
//! 照合番号B), the set `scripts/card-front-vs-reference` reads.

// Bench code: a failed write or spawn ends the bench.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;
use std::time::Instant;

use card_front_synth as synth;
use myna_card_front::{fonts, ocr, CardFrontReader, CardFrontSettings, StageTimes};
use myna_face::image::RgbFrame;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Tesseract's text → (birth YYMMDD, expiry year, code) found by the same
/// anchors the reader uses, loosely (spaces removed, full-width folded).
fn tesseract_fields(text: &str) -> (Option<String>, Option<String>, Option<String>) {
    let t: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    let num = |s: &str| -> Option<u32> { s.parse().ok() };
    let mut birth = None;
    for era in ["大正", "昭和", "平成", "令和"] {
        if let Some(i) = t.find(era) {
            let rest = &t[i + era.len()..];
            let parts: Vec<&str> = rest.splitn(4, ['年', '月', '日']).collect();
            if parts.len() == 4 && parts[3].starts_with('生') {
                let y = if parts[0] == "元" {
                    Some(1)
                } else {
                    num(parts[0])
                };
                if let (Some(y), Some(m), Some(d)) = (y, num(parts[1]), num(parts[2])) {
                    birth = Some(format!("{y:02}{m:02}{d:02}"));
                }
            }
        }
    }
    let expiry = t.find("まで有効").and_then(|i| {
        let head = &t[..i];
        let y = head.rfind('年')?;
        let digits: String = head[..y]
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        (digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
    });
    let code = text
        .lines()
        .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .find(|l| l.len() == 4 && l.chars().all(|c| c.is_ascii_digit()));
    (birth, expiry, code)
}

fn main() {
    let n: u64 = std::env::var("CARDFRONT_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let files = fonts::load(&[]);
    if files.is_empty() {
        eprintln!("card_front bench: no Japanese fonts (run scripts/setup-debian)");
        return;
    }
    let t = Instant::now();
    let mut settings = CardFrontSettings::default();
    if let Some(c) = std::env::var("CARDFRONT_MINCONF")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        settings.min_confidence = c;
        settings.min_code_confidence = c;
    }
    let models = ocr::text_models_dir(None);
    let reader = match CardFrontReader::load(&models, settings, 2) {
        Ok(reader) => reader,
        Err(e) => {
            eprintln!("card_front bench: {e} (run models/fetch --only text)");
            return;
        }
    };
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let save = std::env::var_os("CARDFRONT_SAVE").map(std::path::PathBuf::from);
    let mut truth = String::from("file,collation_b\n");
    let fonts = synth::parse_fonts(&files);
    let tesseract = Command::new("tesseract")
        .arg("--list-langs")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("jpn"));
    let verbose = std::env::var_os("CARDFRONT_VERBOSE").is_some();
    let first: u64 = std::env::var("CARDFRONT_FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut right, mut wrong, mut refused) = (0u32, 0u32, 0u32);
    let (mut tb, mut te, mut tc, mut tall) = (0u32, 0u32, 0u32, 0u32);
    let (mut locate, mut rectify, mut detect, mut recognise, mut total, mut tess_ms) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut lines = 0usize;
    for seed in 0..n {
        let s = synth::sample(first + seed, &fonts).expect("fonts");
        let frame = RgbFrame::from_rgb(
            s.frame.width(),
            s.frame.height(),
            zeroize::Zeroizing::new(s.frame.as_raw().clone()),
        )
        .expect("frame");
        let mut st = StageTimes::default();
        let t = Instant::now();
        let result = reader.read_timed(&frame, &mut st);
        total.push(t.elapsed().as_secs_f64() * 1e3);
        locate.push(st.locate_ms);
        rectify.push(st.rectify_ms);
        detect.push(st.detect_ms);
        recognise.push(st.recognise_ms);
        lines += st.lines;
        let want = s.spec.collation_b();
        if let Some(dir) = &save {
            let name = format!("frame-{}.png", first + seed);
            s.frame.save(dir.join(&name)).expect("frame written");
            truth.push_str(&format!("{name},{want}\n"));
        }
        let outcome = match &result {
            Ok(r) if r.collation_b_bytes().as_slice() == want.as_bytes() => {
                right += 1;
                verbose.then(|| {
                    let [b, e, c] = r.field_confidence();
                    format!(
                        "right at {:.2} (birth {b:.2}, expiry {e:.2}, code {c:.2})",
                        r.confidence()
                    )
                })
            }
            Ok(r) => {
                wrong += 1;
                let got = r.collation_b_bytes();
                let fields: Vec<&str> = [("birth", 0..6), ("expiry", 6..10), ("code", 10..14)]
                    .into_iter()
                    .filter(|(_, at)| got.get(at.clone()) != want.as_bytes().get(at.clone()))
                    .map(|(name, _)| name)
                    .collect();
                let [b, e, c] = r.field_confidence();
                Some(format!(
                    "WRONG at {:.2} ({}; birth {b:.2}, expiry {e:.2}, code {c:.2})",
                    r.confidence(),
                    fields.join(", ")
                ))
            }
            Err(refusal) => {
                refused += 1;
                Some(refusal.to_string())
            }
        };
        if let (true, Some(outcome)) = (verbose, outcome) {
            let c = &s.conditions;
            println!(
                "  seed {} font {} scale {:.2} angle {:.0}{} blur {:.2} motion {} glare {:.0} exposure {:.2} noise {:.1} jpeg {:?} thumb {:?}: {outcome}",
                first + seed,
                s.font,
                c.scale,
                c.angle,
                if c.upside_down { " upside-down" } else { "" },
                c.blur,
                c.motion,
                c.glare,
                c.exposure,
                c.noise,
                c.jpeg,
                c.thumb,
            );
        }
        if tesseract {
            let path = dir.path().join("frame.png");
            s.frame.save(&path).expect("png");
            let t = Instant::now();
            let out = Command::new("tesseract")
                .arg(&path)
                .arg("stdout")
                .args(["-l", "jpn"])
                .output()
                .expect("tesseract runs");
            tess_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let (b, e, c) = tesseract_fields(&String::from_utf8_lossy(&out.stdout));
            let ok_b = b.as_deref() == Some(&want[..6]);
            let ok_e = e.as_deref() == Some(&want[6..10]);
            let ok_c = c.as_deref() == Some(&want[10..]);
            tb += u32::from(ok_b);
            te += u32::from(ok_e);
            tc += u32::from(ok_c);
            tall += u32::from(ok_b && ok_e && ok_c);
        }
    }
    if let Some(dir) = &save {
        std::fs::write(dir.join("truth.csv"), truth).expect("truth.csv written");
    }
    println!(
        "card_front bench: {n} frames, {} fonts, text models loaded in {load_ms:.0} ms",
        fonts.len()
    );
    println!(
        "  card_front: exact {right} ({:.1}%), wrong {wrong}, refused {refused}",
        f64::from(right) * 100.0 / n as f64
    );
    println!(
        "  median ms: locate {:.1}, rectify {:.1}, detect {:.1}, recognise {:.1}, total {:.1} ({:.1} lines a frame)",
        median(locate),
        median(rectify),
        median(detect),
        median(recognise),
        median(total),
        lines as f64 / n.max(1) as f64
    );
    if tesseract {
        let pct = |v: u32| f64::from(v) * 100.0 / n as f64;
        println!(
            "  tesseract jpn: birth {:.0}%, expiry year {:.0}%, code {:.0}%, all three {:.0}%, median {:.0} ms",
            pct(tb),
            pct(te),
            pct(tc),
            pct(tall),
            median(tess_ms)
        );
    } else {
        println!("  tesseract: not installed (apt-get install tesseract-ocr tesseract-ocr-jpn)");
    }
}

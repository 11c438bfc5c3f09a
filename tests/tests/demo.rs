//! The README's main job end to end: `mynareader demo` runs the kiosk
//! against `reader-sim` and `upstream-ref` as separate processes and the
//! card emulator's chip, three patients. Checks the screens each patient
//! saw, in order; what the upstream received (every message once, none
//! twice); and that no secret of the run — 照合番号B, the PINs typed, the
//! face images — is in any file it wrote (screens, messages, summary, the
//! outbox database and its journal, the key folder) or in its output, with
//! a positive control proving the scan finds a planted one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use myna_sim_world as rig;
use mynareader_tests::{binary, scan_for_secrets, Needle};

/// 64 bytes from the middle of a file: finding them means the image (or a
/// copy of it) was written.
fn window(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 64].to_vec()
}

fn needles(face: Option<&(PathBuf, PathBuf)>) -> Vec<Needle> {
    let mut needles = vec![
        Needle {
            name: "照合番号B".into(),
            bytes: b"55021720352285".to_vec(),
            digits_token: false,
        },
        Needle {
            name: "the PIN".into(),
            bytes: b"4826".to_vec(),
            digits_token: true,
        },
        Needle {
            name: "the wrong PIN typed".into(),
            bytes: b"7391".to_vec(),
            digits_token: true,
        },
    ];
    if let Some((card, live)) = face {
        needles.push(Needle {
            name: "the card photo".into(),
            bytes: window(card),
            digits_token: false,
        });
        needles.push(Needle {
            name: "the camera picture".into(),
            bytes: window(live),
            digits_token: false,
        });
    }
    needles
}

fn screens(summary: &serde_json::Value, patient: &str) -> Vec<String> {
    summary["patients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["patient"] == patient)
        .unwrap_or_else(|| panic!("no patient {patient} in {summary}"))["screens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        // The idle screen between patients belongs to whichever is current.
        .filter(|s| s != "idle")
        .collect()
}

#[test]
fn the_demo_runs_three_receptions_and_leaves_no_secret_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let work = dir.path().join("work");
    let output = Command::new(binary("mynareader"))
        .args(["demo", "--out"])
        .arg(&out)
        .arg("--work")
        .arg(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "demo failed\n{stdout}\n{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // The dev pair the demo picks: the same choice as the demo's.
    let face = rig::default_faces().map(|f| rig::face_pair(&f).unwrap());
    let face_ran = summary["face"].as_bool().unwrap();
    if std::env::var("CI").as_deref() == Ok("true") {
        assert!(
            face_ran,
            "CI has the models and dev faces: the face patient must run\n{stdout}"
        );
    }
    if face_ran {
        assert_eq!(
            screens(&summary, "face"),
            [
                "reading",
                "choose-method",
                "face-capture",
                "processing",
                "consent-overview",
                "done"
            ]
        );
        // The reader showed the patient's face in the guide, but the saved
        // screen is the finished one: pixel for pixel the golden's dark
        // box, no camera picture.
        let shot = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-face-capture.png"))
            .expect("the face-capture screen was saved");
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../reader-fw/sim/tests/golden/face-capture.png");
        assert!(
            image::open(&shot).unwrap().to_rgb8() == image::open(&golden).unwrap().to_rgb8(),
            "{} differs from the golden face-capture screen: a camera picture on disk?",
            shot.display()
        );
    } else {
        eprintln!("face patient skipped by the demo (no models or dev faces)\n{stdout}");
    }
    // The choice of method is offered only where the face models loaded
    // (CI has them); without them the PIN pad comes at once.
    let pin_screens = screens(&summary, "pin-one-wrong-try");
    let offered = pin_screens.get(1).map(String::as_str) == Some("choose-method");
    if std::env::var("CI").as_deref() == Ok("true") {
        assert!(offered, "CI has the models: face is offered\n{stdout}");
    }
    let mut expected = vec!["reading"];
    if offered {
        expected.push("choose-method");
    }
    expected.extend([
        "pin-entry",
        "pin-entry",
        "processing",
        "consent-overview",
        "consent-item",
        "consent-item",
        "done",
    ]);
    assert_eq!(pin_screens, expected);
    assert_eq!(
        screens(&summary, "visual-check"),
        [
            "reading",
            "visual-check",
            "processing",
            // The terms of use in pages before the question (issue 12).
            "registration-terms",
            "registration",
            "processing",
            "registration-done",
            "consent-overview",
            "done"
        ]
    );
    // Every patient's verify and consent reached the upstream exactly once.
    let patients = if face_ran { 3 } else { 2 };
    let received = &summary["upstream_received"];
    assert_eq!(received["verify"].as_array().unwrap().len(), patients);
    assert_eq!(received["consent"].as_array().unwrap().len(), patients);
    assert_eq!(received["duplicates"], 0);
    assert_eq!(summary["outbox_pending"], 0);
    // Every screen and message is there, numbered in order.
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let jws = files.iter().filter(|f| f.ends_with(".jws")).count();
    assert_eq!(jws, patients * 2, "{files:?}");
    assert!(files.contains(&"device-public.pem".to_string()));
    let pngs = files.iter().filter(|f| f.ends_with(".png")).count();
    let shown: usize = summary["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["screens"].as_array().unwrap().len())
        .sum();
    assert_eq!(pngs, shown);

    // No secret in anything the run wrote or printed.
    let needles = needles(face.as_ref().filter(|_| face_ran));
    let findings = scan_for_secrets(
        &[&out, &work],
        &[("stdout", stdout.as_bytes()), ("stderr", stderr.as_bytes())],
        &needles,
    );
    assert!(findings.is_empty(), "secrets written: {findings:?}");

    // Positive control: the same scan finds each secret planted in a copy.
    let planted = dir.path().join("planted");
    std::fs::create_dir(&planted).unwrap();
    for (i, needle) in needles.iter().enumerate() {
        let mut bytes = b"{\"note\":\"".to_vec();
        bytes.extend_from_slice(&needle.bytes);
        bytes.extend_from_slice(b"\"}");
        std::fs::write(planted.join(format!("{i}.json")), bytes).unwrap();
    }
    let found = scan_for_secrets(&[&planted], &[], &needles);
    assert_eq!(found.len(), needles.len(), "{found:?}");
}

#[test]
fn a_printed_photo_at_the_camera_ends_the_face_path_with_a_staff_alert() {
    use face_attack_synth::Species;
    use myna_face::{image as face_image, Capture, FaceEngine, FaceSettings};
    let Some((card, live)) = rig::default_faces().and_then(|f| rig::face_pair(&f)) else {
        eprintln!("skipped: no development faces (../shared/faces/dev-card)");
        return;
    };
    let Ok(engine) = FaceEngine::load(FaceSettings::default()) else {
        eprintln!("skipped: no face models (../shared/models)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let photo = image::open(&live).unwrap().to_rgb8();
    let card_face = engine
        .encode_card(&face_image::decode(&std::fs::read(&card).unwrap()).unwrap())
        .unwrap();
    // The first of a few printed photos that PAD refuses (the generator is
    // deterministic, so is the choice): none refused is a failure.
    let print = dir.path().join("print.jpg");
    let refused = (0..8).any(|seed| {
        let frame = face_attack_synth::frame(Species::Print, &photo, None, seed);
        frame.save(&print).unwrap();
        let decoded = face_image::decode(&std::fs::read(&print).unwrap()).unwrap();
        matches!(
            engine.capture(&card_face, &decoded, 0).unwrap(),
            Capture::Compared { pad, .. } if pad.is_attack()
        )
    });
    assert!(refused, "PAD refused none of 8 printed photos");
    let out = dir.path().join("out");
    let output = Command::new(binary("mynareader"))
        .args(["demo", "--out"])
        .arg(&out)
        .arg("--patient-camera")
        .arg(&print)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "demo failed\n{stdout}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["face"], true, "{stdout}");
    // Refused on the first capture (no retake), the neutral face-failed
    // screen with the PIN, and the reception completed by PIN.
    assert_eq!(
        screens(&summary, "face"),
        [
            "reading",
            "choose-method",
            "face-capture",
            "face-failed",
            "pin-entry",
            "processing",
            "consent-overview",
            "done"
        ],
        "{stdout}"
    );
    let face = summary["patients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["patient"] == "face")
        .unwrap();
    assert!(
        face["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "FaceRefused"),
        "staff were not alerted: {face}"
    );
    // Upstream: the verify names the PIN, not the face.
    assert!(
        !stdout.contains("\"pad\":\"attack\""),
        "an attack never reaches the upstream as a match"
    );
}

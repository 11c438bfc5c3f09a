//! The capture quality gate: exactly one face, big enough, facing the
//! camera, lit, sharp. It returns one hint at a time, the most useful first,
//! so an elderly patient is never given a list of instructions.

use super::align::SIZE;
use super::detect::Detection;
use super::image::RgbFrame;

/// What the patient is asked to do (SCREENS.md `FaceCapture` hints): the
/// link's own type, so the gate's answer goes to the reader as it is.
pub use myna_link::FaceHint as Hint;

/// The patient-facing words of a hint (Japanese, the reader's catalogue,
/// without the reader's phrase breaks); `None` for a code from a newer peer.
pub fn hint_text_ja(hint: Hint) -> Option<String> {
    let text = myna_catalogue::hint_text(hint)?;
    Some(text.get(myna_catalogue::Lang::Ja).replace('\n', ""))
}

/// Limits of the gate (in configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityLimits {
    /// Smallest eye distance as a share of the frame's shorter side.
    pub min_eye_share: f32,
    /// Largest eye distance as a share of the frame's shorter side.
    pub max_eye_share: f32,
    /// Largest sideways turn: nose offset from the eye midpoint over the eye distance.
    pub max_yaw: f32,
    /// Largest head tilt, degrees.
    pub max_roll_deg: f32,
    /// Darkest acceptable mean face luma.
    pub min_luma: f32,
    /// Brightest acceptable mean face luma.
    pub max_luma: f32,
    /// Least variance of the Laplacian on the aligned grey face.
    pub min_sharpness: f32,
    /// A second face counts (「お一人で…」) when its size (the square root
    /// of its box area) is at least this share of the largest face's. A
    /// carer standing behind the patient is clearly smaller and does not
    /// count; two people side by side are of similar size and do. The
    /// share that separates them best is not measured yet (unconfirmed:
    /// a setting, `[face] second_face_percent` in the kiosk's file).
    pub second_face_size: f32,
}

impl Default for QualityLimits {
    fn default() -> Self {
        QualityLimits {
            min_eye_share: 0.06,
            max_eye_share: 0.45,
            max_yaw: 0.35,
            max_roll_deg: 20.0,
            min_luma: 55.0,
            max_luma: 215.0,
            min_sharpness: 20.0,
            second_face_size: DEFAULT_SECOND_FACE_SIZE,
        }
    }
}

/// [`QualityLimits::second_face_size`] unless configured: a face of less
/// than 70 % of the patient's size (half the area) is someone behind them.
pub const DEFAULT_SECOND_FACE_SIZE: f32 = 0.7;

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Checks the faces found in a frame (best first); `None` when fit to compare.
pub fn check_geometry(
    frame: &RgbFrame,
    faces: &[Detection],
    limits: &QualityLimits,
) -> Option<Hint> {
    let largest = faces.iter().max_by(|a, b| a.area().total_cmp(&b.area()))?;
    let size = |f: &Detection| (f.bbox[2].max(0.0) * f.bbox[3].max(0.0)).sqrt();
    let largest_size = size(largest);
    if faces
        .iter()
        .filter(|f| size(f) >= largest_size * limits.second_face_size)
        .count()
        > 1
    {
        return Some(Hint::OneFaceOnly);
    }
    let [right_eye, left_eye, nose, _, _] = largest.landmarks;
    let eyes = dist(right_eye, left_eye);
    let short_side = frame.width().min(frame.height()) as f32;
    if eyes < limits.min_eye_share * short_side {
        return Some(Hint::MoveCloser);
    }
    if eyes > limits.max_eye_share * short_side {
        return Some(Hint::MoveBack);
    }
    let mid = [
        (right_eye[0] + left_eye[0]) / 2.0,
        (right_eye[1] + left_eye[1]) / 2.0,
    ];
    let yaw = (nose[0] - mid[0]) / eyes.max(1.0);
    let roll = (left_eye[1] - right_eye[1])
        .atan2(left_eye[0] - right_eye[0])
        .to_degrees();
    if yaw.abs() > limits.max_yaw || roll.abs() > limits.max_roll_deg {
        return Some(Hint::FaceForward);
    }
    None
}

/// Checks light and sharpness on the aligned face.
pub fn check_aligned(aligned: &RgbFrame, limits: &QualityLimits) -> Option<Hint> {
    let gray: Vec<f32> = aligned
        .pixels()
        .chunks_exact(3)
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect();
    // Mean over the central face area (the template's eyes-to-mouth box).
    let mut sum = 0.0;
    let mut n = 0.0;
    for y in 40..100 {
        for x in 30..82 {
            sum += gray[y * SIZE + x];
            n += 1.0;
        }
    }
    let mean = sum / n;
    if mean < limits.min_luma {
        return Some(Hint::FaceTheLight);
    }
    if mean > limits.max_luma {
        return Some(Hint::AvoidGlare);
    }
    let mut lap = Vec::with_capacity((SIZE - 2) * (SIZE - 2));
    for y in 30..SIZE - 10 {
        for x in 20..SIZE - 20 {
            let c = gray[y * SIZE + x];
            let v = gray[(y - 1) * SIZE + x]
                + gray[(y + 1) * SIZE + x]
                + gray[y * SIZE + x - 1]
                + gray[y * SIZE + x + 1]
                - 4.0 * c;
            lap.push(v);
        }
    }
    let m = lap.iter().sum::<f32>() / lap.len() as f32;
    let var = lap.iter().map(|v| (v - m).powi(2)).sum::<f32>() / lap.len() as f32;
    if var < limits.min_sharpness {
        return Some(Hint::HoldStill);
    }
    None
}

/// After a capture of good quality that still did not match: what a person
/// may be wearing, one suggestion per attempt.
pub fn accessory_hint(failed_attempts: u8) -> Hint {
    match failed_attempts {
        0 | 1 => Hint::RemoveMask,
        2 => Hint::RemoveHat,
        _ => Hint::RemoveGlasses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    #[test]
    fn every_hint_the_gate_gives_has_words() {
        for hint in [
            Hint::FaceTheFrame,
            Hint::OneFaceOnly,
            Hint::MoveCloser,
            Hint::MoveBack,
            Hint::FaceForward,
            Hint::FaceTheLight,
            Hint::AvoidGlare,
            Hint::HoldStill,
            Hint::RemoveMask,
            Hint::RemoveHat,
            Hint::RemoveGlasses,
        ] {
            let words = hint_text_ja(hint).unwrap();
            assert!(!words.is_empty() && !words.contains('\n'), "{hint:?}");
        }
        assert_eq!(
            hint_text_ja(Hint::RemoveMask).unwrap(),
            "マスクを外すか、少し下げてください"
        );
        assert_eq!(hint_text_ja(Hint::Other(99)), None);
    }

    fn frame(w: u32, h: u32, value: u8) -> RgbFrame {
        RgbFrame::from_rgb(w, h, Zeroizing::new(vec![value; (w * h * 3) as usize])).unwrap()
    }

    fn face(x: f32, eye_gap: f32, nose_dx: f32, tilt: f32) -> Detection {
        let y = 200.0;
        Detection {
            bbox: [x - eye_gap, y - eye_gap, eye_gap * 3.0, eye_gap * 3.5],
            landmarks: [
                [x, y],
                [x + eye_gap, y + tilt],
                [x + eye_gap / 2.0 + nose_dx, y + eye_gap * 0.6],
                [x + 0.1 * eye_gap, y + eye_gap * 1.2],
                [x + 0.9 * eye_gap, y + eye_gap * 1.2],
            ],
            score: 0.9,
        }
    }

    #[test]
    fn one_hint_at_a_time_in_order_of_use() {
        let f = frame(640, 480, 128);
        let limits = QualityLimits::default();
        assert_eq!(
            check_geometry(&f, &[], &limits),
            None,
            "no face is the caller's NoFace"
        );
        assert_eq!(
            check_geometry(&f, &[face(300.0, 80.0, 0.0, 0.0)], &limits),
            None
        );
        assert_eq!(
            check_geometry(
                &f,
                &[face(300.0, 80.0, 0.0, 0.0), face(100.0, 70.0, 0.0, 0.0)],
                &limits
            ),
            Some(Hint::OneFaceOnly)
        );
        // A far-away face in the background does not count.
        assert_eq!(
            check_geometry(
                &f,
                &[face(300.0, 80.0, 0.0, 0.0), face(600.0, 10.0, 0.0, 0.0)],
                &limits
            ),
            None
        );
        assert_eq!(
            check_geometry(&f, &[face(300.0, 15.0, 0.0, 0.0)], &limits),
            Some(Hint::MoveCloser)
        );
        assert_eq!(
            check_geometry(&f, &[face(100.0, 300.0, 0.0, 0.0)], &limits),
            Some(Hint::MoveBack)
        );
        assert_eq!(
            check_geometry(&f, &[face(300.0, 80.0, 40.0, 0.0)], &limits),
            Some(Hint::FaceForward)
        );
        assert_eq!(
            check_geometry(&f, &[face(300.0, 80.0, 0.0, 60.0)], &limits),
            Some(Hint::FaceForward)
        );
    }

    #[test]
    fn a_carer_behind_the_patient_is_not_a_second_person() {
        let f = frame(640, 480, 128);
        let limits = QualityLimits::default();
        let patient = face(300.0, 80.0, 0.0, 0.0);
        // A carer a step behind: 60 % of the patient's size.
        let carer = face(500.0, 48.0, 0.0, 0.0);
        assert_eq!(check_geometry(&f, &[patient, carer], &limits), None);
        assert_eq!(check_geometry(&f, &[carer, patient], &limits), None);
        // Two people side by side: similar sizes.
        let beside = face(100.0, 72.0, 0.0, 0.0);
        assert_eq!(
            check_geometry(&f, &[patient, beside], &limits),
            Some(Hint::OneFaceOnly)
        );
        // The share is a setting: stricter, the carer counts too.
        let strict = QualityLimits {
            second_face_size: 0.5,
            ..limits
        };
        assert_eq!(
            check_geometry(&f, &[patient, carer], &strict),
            Some(Hint::OneFaceOnly)
        );
    }

    #[test]
    fn dark_bright_and_flat_faces_are_refused() {
        let limits = QualityLimits::default();
        assert_eq!(
            check_aligned(&frame(112, 112, 20), &limits),
            Some(Hint::FaceTheLight)
        );
        assert_eq!(
            check_aligned(&frame(112, 112, 240), &limits),
            Some(Hint::AvoidGlare)
        );
        assert_eq!(
            check_aligned(&frame(112, 112, 128), &limits),
            Some(Hint::HoldStill)
        );
        let textured: Vec<u8> = (0..112 * 112)
            .flat_map(|i| {
                let v = if (i % 112 + i / 112) % 2 == 0 {
                    90
                } else {
                    170
                };
                [v, v, v]
            })
            .collect();
        let sharp = RgbFrame::from_rgb(112, 112, Zeroizing::new(textured)).unwrap();
        assert_eq!(check_aligned(&sharp, &limits), None);
    }

    #[test]
    fn accessory_hints_rotate() {
        assert_eq!(accessory_hint(1), Hint::RemoveMask);
        assert_eq!(accessory_hint(2), Hint::RemoveHat);
        assert_eq!(accessory_hint(3), Hint::RemoveGlasses);
        assert!(hint_text_ja(Hint::RemoveMask).unwrap().contains("マスク"));
    }
}

//! Face work off the event loop: decoding and encoding the card photo, and
//! comparing a captured frame with it, run on one worker thread so touches,
//! staff requests and the reader keep being served meanwhile. The loop
//! captures (the link is its own) and hands the pixels over; the answer
//! comes back as a [`Deferred`] through the kiosk's event queue, tagged with
//! the job's number so a late answer for a reception (or a capture) that
//! has moved on is dropped.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use myna_card::secret::FacePhoto;
use myna_face::image::RgbFrame;
use myna_face::{self as face, Capture, EncodedFace, FaceEngine};
use myna_reception::{FaceVerdict, Input, PhotoOutcome};

/// A finished job, back on the event loop. Holds the card face's
/// embedding: no `Debug`.
pub struct Deferred {
    /// The job's number ([`Worker::submit`] gave it).
    pub job: u64,
    /// The stage's event code.
    pub stage: &'static str,
    /// A short outcome for the transcript (no personal data).
    pub outcome: String,
    /// How long the work took.
    pub elapsed: Duration,
    /// The core's input.
    pub input: Input,
    /// The card face, when the job encoded the card photo.
    pub card_face: Option<EncodedFace>,
}

/// Where finished jobs go (the kiosk's event queue); false when it is gone.
pub type Deliver = Box<dyn Fn(Deferred) -> bool + Send>;

/// One piece of face work.
pub(crate) enum Job {
    /// Decode and encode the card photo.
    CardPhoto {
        engine: Arc<FaceEngine>,
        photo: FacePhoto,
    },
    /// Compare a captured frame with the card face.
    Compare {
        engine: Arc<FaceEngine>,
        card: Arc<EncodedFace>,
        /// Consecutive frames of one capture (PAD judges several).
        frames: Vec<RgbFrame>,
        attempts_used: u8,
    },
}

/// The worker thread.
pub(crate) struct Worker {
    jobs: mpsc::Sender<(u64, Job)>,
}

impl Worker {
    /// Starts the thread; results go to `deliver`.
    pub(crate) fn start(deliver: Deliver) -> std::io::Result<Worker> {
        let (jobs, inbox) = mpsc::channel::<(u64, Job)>();
        std::thread::Builder::new()
            .name("kiosk-face".into())
            .spawn(move || {
                for (job, work) in inbox {
                    if !deliver(run(job, work)) {
                        return;
                    }
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Queues `work` as job number `job`; gives it back when the thread
    /// is gone.
    pub(crate) fn submit(&self, job: u64, work: Job) -> Result<(), Job> {
        self.jobs.send((job, work)).map_err(|e| e.0 .1)
    }
}

/// Does one job (on the worker, or in place when there is none).
pub(crate) fn run(job: u64, work: Job) -> Deferred {
    let start = Instant::now();
    let (stage, input, outcome, card_face) = match work {
        Job::CardPhoto { engine, photo } => {
            let encoded = face::image::decode_jpeg2000(photo.jp2_bytes())
                .map_err(face::FaceError::from)
                .and_then(|frame| engine.encode_card(&frame));
            drop(photo);
            match encoded {
                Ok(face) => (
                    "read-card-photo",
                    Input::Photo(PhotoOutcome::Read),
                    "read".to_string(),
                    Some(face),
                ),
                Err(e) => (
                    "read-card-photo",
                    Input::Photo(PhotoOutcome::Refused),
                    e.to_string(),
                    None,
                ),
            }
        }
        Job::Compare {
            engine,
            card,
            frames,
            attempts_used,
        } => {
            let (input, outcome) = compare(&engine, &card, &frames, attempts_used);
            ("capture-face", input, outcome, None)
        }
    };
    Deferred {
        job,
        stage,
        outcome,
        elapsed: start.elapsed(),
        input,
        card_face,
    }
}

fn compare(
    engine: &FaceEngine,
    card: &EncodedFace,
    frames: &[RgbFrame],
    attempts_used: u8,
) -> (Input, String) {
    use myna_upstream::messages::{PadResult, ScoreBand};
    match engine.capture_frames(card, frames, attempts_used) {
        Ok(Capture::Retry { hint }) => (Input::Face(FaceVerdict::Retake(hint)), "retake".into()),
        Ok(Capture::Compared {
            band, matched, pad, ..
        }) => {
            if matched {
                // A match is never below the threshold; PAD says "live"
                // only when it judged so.
                let band = match band {
                    face::Band::High => ScoreBand::High,
                    face::Band::Medium | face::Band::Low => ScoreBand::Medium,
                };
                let pad = match pad {
                    face::pad::PadOutcome::Live { .. } => PadResult::Live,
                    face::pad::PadOutcome::Attack { .. } => PadResult::Attack,
                    face::pad::PadOutcome::Disabled => PadResult::Disabled,
                };
                (
                    Input::Face(FaceVerdict::Match { band, pad }),
                    format!("match ({band:?})"),
                )
            } else if pad.is_attack() && engine.settings().pad == face::PadMode::Enforce {
                (Input::Face(FaceVerdict::Attack), "attack".into())
            } else {
                (Input::Face(FaceVerdict::NoMatch), "no match".into())
            }
        }
        // The engine failed, not the patient: no "face the camera".
        Err(e) => (
            Input::Fault(myna_reception::Fault::FaceEngine),
            e.to_string(),
        ),
    }
}

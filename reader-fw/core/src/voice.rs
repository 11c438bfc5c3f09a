//! What the reader says on each screen, and the player that streams it to
//! the HAL's [`Speaker`] (issue 12: patients who cannot read the screen).
//!
//! [`prompt`] is the one table from a checked [`View`] to the clips said:
//! an exhaustive match, so a screen added to `View` does not build until
//! it has a prompt, and the tests walk every sample screen of the link.
//! A prompt is made of `myna_catalogue::speech` clips only, which are
//! `'static` catalogue words: the patient's name on `Done` (the only
//! personal data a view holds) cannot be spoken, the waiting room would
//! hear it. Numbers are joined from parts (「あと」「三回」).
//!
//! [`Player`] decodes the clips from the voice asset (`myna-voice`,
//! IMA ADPCM in flash) into a small buffer and writes what the speaker
//! takes; the reader calls [`Player::pump`] from its poll loop, so a long
//! prompt never blocks drawing or the link. Two sentences get a pause
//! between them; the parts of a number or a date, and 「または」, follow
//! their neighbours closely.

use myna_hal::Speaker;
use myna_link::ConsentItem;
use myna_voice::{Decoder, Prompts, SAMPLE_RATE};

use crate::catalogue::speech::{self, Clip, Word};
use crate::catalogue::{Lang, Text};
use crate::view::View;

/// The most clips one prompt holds.
pub const PROMPT_MAX: usize = 16;

/// Silence between two sentences, in samples (300 ms).
pub const SENTENCE_GAP: u32 = SAMPLE_RATE * 3 / 10;
/// Silence between the parts of a number or a date, in samples (60 ms).
pub const PART_GAP: u32 = SAMPLE_RATE * 6 / 100;

/// What one screen says: a name (for logs and the simulator's WAV files)
/// and the clips in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prompt {
    tag: &'static str,
    clips: [Option<Clip>; PROMPT_MAX],
}

impl Prompt {
    fn new(tag: &'static str) -> Prompt {
        Prompt {
            tag,
            clips: [None; PROMPT_MAX],
        }
    }

    /// A prompt saying these screen strings.
    fn texts(tag: &'static str, texts: &[Text]) -> Prompt {
        let mut p = Prompt::new(tag);
        for t in texts {
            p.push(Clip::Text(*t));
        }
        p
    }

    fn push(&mut self, clip: Clip) {
        // PROMPT_MAX is above the longest prompt (a test says so): a full
        // prompt would only lose its tail.
        if let Some(slot) = self.clips.iter_mut().find(|c| c.is_none()) {
            *slot = Some(clip);
        }
    }

    fn word(&mut self, word: Option<Word>) {
        if let Some(w) = word {
            self.push(Clip::Word(w));
        }
    }

    /// Two choices: "A または B".
    fn choice(&mut self, a: Text, b: Text) {
        self.push(Clip::Text(a));
        self.push(Clip::Word(Word::Or));
        self.push(Clip::Text(b));
    }

    /// The prompt's name (kebab-case, like the golden screenshots).
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The clips, in order.
    pub fn clips(&self) -> impl Iterator<Item = Clip> + '_ {
        self.clips.iter().flatten().copied()
    }

    /// Clips in the prompt.
    pub fn len(&self) -> usize {
        self.clips().count()
    }

    /// Whether the prompt says nothing.
    pub fn is_empty(&self) -> bool {
        self.clips[0].is_none()
    }
}

/// What `view` says in `lang`. Every view says something; nothing said
/// comes from the view's data except numbers (tries, dates, steps).
pub fn prompt(view: &View, lang: Lang) -> Prompt {
    use Text as T;
    let mut p = match *view {
        View::Idle => Prompt::texts("idle", &[T::IdleTitle, T::IdleOrientation]),
        View::Reading => Prompt::texts("reading", &[T::Reading]),
        View::ReadError { staff: false } => {
            Prompt::texts("read-error", &[T::ReadError, T::PlaceAgain])
        }
        View::ReadError { staff: true } => {
            Prompt::texts("read-error-staff", &[T::ReadError, T::AskStaff])
        }
        View::NotMyNumberCard => {
            Prompt::texts("not-my-number-card", &[T::NotMyNumberCard, T::HandToStaff])
        }
        View::ExpiryNotice { date, in_grace } => {
            let (tag, before, after) = if in_grace {
                ("expiry-notice-grace", T::ExpiredBefore, T::ExpiredAfter)
            } else {
                ("expiry-notice", T::ExpiryBefore, T::ExpiryAfter)
            };
            let mut p = Prompt::texts(tag, &[before]);
            let year = speech::year(lang, date.year).unwrap_or_default();
            let day = speech::day(lang, date.day).unwrap_or_default();
            let month = speech::month(date.month);
            match lang {
                Lang::Ja => {
                    year.iter().for_each(|w| p.word(Some(w)));
                    p.word(month);
                    day.iter().for_each(|w| p.word(Some(w)));
                }
                Lang::En => {
                    p.word(month);
                    day.iter().for_each(|w| p.word(Some(w)));
                    year.iter().for_each(|w| p.word(Some(w)));
                }
            }
            p.push(Clip::Text(after));
            if in_grace {
                p.push(Clip::Text(T::ExpiryGrace));
            }
            p
        }
        View::ExpiredRefused => Prompt::texts("expired-refused", &[T::ExpiredRefused, T::AskStaff]),
        View::ChooseMethod { face_only: true } => {
            Prompt::texts("choose-method-face-only", &[T::FaceOnlyMethod])
        }
        View::ChooseMethod { face_only: false } => {
            let mut p = Prompt::texts("choose-method", &[T::ChooseMethod]);
            p.choice(T::Face, T::Pin);
            p
        }
        // A hint replaces the title: it is what changed since the last
        // prompt (the title was said when the capture began).
        // The guide turning green is seen, not said: the capture's answer
        // follows at once.
        View::FaceCapture {
            hint: Some(hint), ..
        } => Prompt::texts("face-capture-hint", &[hint]),
        View::FaceCapture { hint: None, .. } => {
            Prompt::texts("face-capture", &[T::FaceCaptureTitle])
        }
        View::FaceFailed { pin_available } => {
            let mut p = Prompt::texts("face-failed", &[T::FaceFailed]);
            if pin_available {
                p.choice(T::PinInstead, T::CallStaff);
            } else {
                p.push(Clip::Text(T::CallStaff));
            }
            p
        }
        View::PinEntry {
            tries_left,
            wrong_before,
        } => {
            let mut p = Prompt::new(if wrong_before {
                "pin-entry-wrong"
            } else {
                "pin-entry"
            });
            if wrong_before {
                p.push(Clip::Text(T::PinWrong));
            }
            p.push(Clip::Text(T::PinTitle));
            // 「あと」「三回」 / "three" "tries left" (each language's
            // silent part says nothing: English has no 「あと」, Japanese
            // says 回 with the number).
            p.push(Clip::Text(T::TriesBefore));
            p.word(speech::tries(lang, tries_left));
            p.push(Clip::Text(if tries_left == 1 {
                T::TryAfterOne
            } else {
                T::TriesAfter
            }));
            p
        }
        View::PinLastTry => {
            let mut p = Prompt::texts("pin-last-try", &[T::PinLastTry]);
            p.choice(T::EnterPin, T::StopAndCallStaff);
            p
        }
        View::PinLocked {
            face_available: true,
        } => {
            let mut p = Prompt::texts("pin-locked", &[T::PinLocked]);
            p.choice(T::Face, T::CallStaff);
            p
        }
        View::PinLocked {
            face_available: false,
        } => Prompt::texts("pin-locked-no-face", &[T::PinLocked]),
        View::VisualCheck => Prompt::texts("visual-check", &[T::VisualCheck]),
        View::Registration => {
            let mut p = Prompt::texts("registration", &[T::Registration]);
            p.choice(T::Apply, T::DontApply);
            p
        }
        View::ConsentOverview { checkup } => {
            let covers = if checkup {
                T::ConsentCovers
            } else {
                T::ConsentCoversNoCheckup
            };
            let mut p = Prompt::texts(
                "consent-overview",
                &[T::ConsentOverview, covers, T::ConsentPurpose],
            );
            p.choice(T::AgreeAll, T::OneByOne);
            p.push(Clip::Text(T::ConsentFooter));
            p
        }
        View::ConsentItem { item, step, of } => {
            let mut p = Prompt::new("consent-item");
            for w in speech::step(lang, step, of).into_iter().flatten() {
                p.push(Clip::Word(w));
            }
            let (name, question) = match item {
                ConsentItem::Operation => (T::ConsentOperation, T::ConsentOperationQuestion),
                ConsentItem::Diagnosis => (T::ConsentDiagnosis, T::ConsentDiagnosisQuestion),
                ConsentItem::SpecificHealthCheckup => {
                    (T::ConsentCheckup, T::ConsentCheckupQuestion)
                }
            };
            p.push(Clip::Text(name));
            p.push(Clip::Text(question));
            // In the order the buttons stand: 同意しない, 同意する.
            p.choice(T::Disagree, T::Agree);
            p.push(Clip::Text(T::ConsentFooter));
            p
        }
        // The name is drawn, never said: the waiting room would hear it.
        View::Done {
            reminder: false, ..
        } => Prompt::texts("done", &[T::Done, T::WaitToBeCalled]),
        View::Done { reminder: true, .. } => Prompt::texts("take-card", &[T::TakeCard]),
        View::SeeStaff => Prompt::texts("see-staff", &[T::AskStaff, T::InsuredCare]),
        View::OutOfService => Prompt::texts("out-of-service", &[T::OutOfService, T::AskStaff]),
        View::Processing => Prompt::texts("processing", &[T::Processing]),
        View::StaffComing => Prompt::texts("staff-coming", &[T::StaffComing]),
        View::RegistrationDone => Prompt::texts("registration-done", &[T::RegistrationDone]),
        // Each page read out in full, then the buttons; the title once,
        // on the first page.
        View::RegistrationTerms { page } => {
            let mut p = Prompt::new("registration-terms");
            if page == 1 {
                p.push(Clip::Text(T::TermsTitle));
            }
            if let Some(text) = crate::catalogue::terms_page(page) {
                p.push(Clip::Text(text));
            }
            if page > 1 {
                p.choice(T::Previous, T::Next);
            } else {
                p.push(Clip::Text(T::Next));
            }
            p
        }
    };
    // Every screen that ends the session says to take the card, as its
    // band does (`Done` says it in its first sentence).
    if view.ends_session() && !matches!(view, View::Done { .. }) {
        p.push(Clip::Text(T::TakeCard));
    }
    p
}

/// Voice guidance settings (from the host: the clinic's choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceSettings {
    /// Speak at all. On by default: a patient who cannot see the screen
    /// cannot find a switch to turn it on, and nothing personal is said.
    pub on: bool,
    /// 0–100 (% of full scale).
    pub volume: u8,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            on: true,
            volume: 70,
        }
    }
}

const CHUNK: usize = 128;

/// Streams a prompt to the speaker, a chunk at a time.
pub struct Player {
    prompts: Prompts<'static>,
    current: Option<Playing>,
    chunk: [i16; CHUNK],
    chunk_start: usize,
    chunk_len: usize,
}

struct Playing {
    prompt: Prompt,
    lang: Lang,
    volume: u8,
    /// Index of the clip being decoded (or the gap before it).
    next: usize,
    decoder: Option<Decoder<'static>>,
    silence: u32,
    previous: Option<Clip>,
}

impl Player {
    /// A player over the voice asset in flash.
    pub fn new(prompts: Prompts<'static>) -> Player {
        Player {
            prompts,
            current: None,
            chunk: [0; CHUNK],
            chunk_start: 0,
            chunk_len: 0,
        }
    }

    /// The asset.
    pub fn prompts(&self) -> &Prompts<'static> {
        &self.prompts
    }

    /// Whether a prompt is still being written.
    pub fn is_playing(&self) -> bool {
        self.current.is_some()
    }

    /// Starts `prompt`, cutting off the one playing, and writes what the
    /// speaker takes now.
    pub fn say<S: Speaker>(&mut self, speaker: &mut S, prompt: Prompt, lang: Lang, volume: u8) {
        self.current = None;
        self.chunk_len = 0;
        if speaker.start(SAMPLE_RATE, prompt.tag()).is_err() {
            return;
        }
        self.current = Some(Playing {
            prompt,
            lang,
            volume: volume.min(100),
            next: 0,
            decoder: None,
            silence: 0,
            previous: None,
        });
        self.pump(speaker);
    }

    /// Silences the speaker and drops the prompt.
    pub fn stop<S: Speaker>(&mut self, speaker: &mut S) {
        if self.current.take().is_some() {
            speaker.stop();
        }
        self.chunk_len = 0;
    }

    /// Writes as much of the prompt as the speaker takes; call it from the
    /// poll loop. A speaker error drops the prompt (the screen still
    /// shows what it says).
    pub fn pump<S: Speaker>(&mut self, speaker: &mut S) {
        loop {
            if self.chunk_len == 0 && !self.refill() {
                if self.current.take().is_some() {
                    let _ = speaker.finish();
                }
                return;
            }
            let pending = &self.chunk[self.chunk_start..self.chunk_start + self.chunk_len];
            match speaker.write(pending) {
                Ok(n) => {
                    let n = n.min(self.chunk_len);
                    self.chunk_start += n;
                    self.chunk_len -= n;
                    if self.chunk_len > 0 {
                        // The speaker's queue is full: go on next poll.
                        return;
                    }
                }
                Err(_) => {
                    self.stop(speaker);
                    return;
                }
            }
        }
    }

    /// Fills the chunk with the next samples; false at the end.
    fn refill(&mut self) -> bool {
        let Some(playing) = self.current.as_mut() else {
            return false;
        };
        self.chunk_start = 0;
        loop {
            if playing.silence > 0 {
                let n = (playing.silence as usize).min(CHUNK);
                self.chunk[..n].fill(0);
                playing.silence -= n as u32;
                self.chunk_len = n;
                return true;
            }
            if let Some(decoder) = playing.decoder.as_mut() {
                let n = decoder.fill(&mut self.chunk);
                if n > 0 {
                    let volume = i32::from(playing.volume);
                    for s in &mut self.chunk[..n] {
                        *s = (i32::from(*s) * volume / 100) as i16;
                    }
                    self.chunk_len = n;
                    return true;
                }
                playing.decoder = None;
            }
            let Some(clip) = playing.prompt.clips().nth(playing.next) else {
                return false;
            };
            playing.next += 1;
            // A clip empty in this language (English has no 「あと」) or
            // missing from the asset is skipped; the asset tests make
            // sure none is missing.
            let Some(found) = clip.key(playing.lang).and_then(|k| self.prompts.clip(k)) else {
                continue;
            };
            if let Some(previous) = playing.previous {
                // Only two sentences get a pause: a number part, a date
                // or 「または」 runs on with its neighbours.
                let sentences = matches!(previous, Clip::Text(_)) && matches!(clip, Clip::Text(_));
                playing.silence = if sentences { SENTENCE_GAP } else { PART_GAP };
            }
            playing.previous = Some(clip);
            playing.decoder = Some(found.decoder());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::catalogue::speech::SPOKEN_TEXTS;
    use crate::view::{Date, KanaName};
    use myna_link::samples::SCREENS;

    /// Every sample screen of the link (the goldens' list) and the states
    /// that change what is said beyond it.
    fn views() -> impl Iterator<Item = View> {
        let samples = SCREENS.iter().map(|(name, screen)| {
            View::from_screen(screen).unwrap_or_else(|e| panic!("{name}: {e:?}"))
        });
        let hints = crate::catalogue::speech::SPOKEN_TEXTS
            .iter()
            .filter(|t| format!("{t:?}").starts_with("Hint"))
            .map(|t| View::FaceCapture {
                hint: Some(*t),
                placed: false,
            });
        let tries = (1..=3).flat_map(|tries_left| {
            [false, true].map(|wrong_before| View::PinEntry {
                tries_left,
                wrong_before,
            })
        });
        let steps = (1..=3u8).flat_map(|of| {
            (1..=of).map(move |step| View::ConsentItem {
                item: ConsentItem::Diagnosis,
                step,
                of,
            })
        });
        let extra = [
            View::Done {
                name: None,
                reminder: true,
            },
            View::ReadError { staff: true },
            View::ExpiryNotice {
                date: Date::new(2030, 12, 31).unwrap(),
                in_grace: false,
            },
            // The terms' later pages, turned on the device.
            View::RegistrationTerms { page: 2 },
            View::RegistrationTerms { page: 3 },
        ];
        samples
            .chain(hints)
            .chain(tries)
            .chain(steps)
            .chain(extra)
            .collect::<std::vec::Vec<_>>()
            .into_iter()
    }

    extern crate std;
    use std::format;

    #[test]
    fn every_screen_and_state_has_a_prompt_of_catalogue_clips() {
        let all: std::vec::Vec<Clip> = Clip::all().collect();
        for view in views() {
            for lang in Lang::ALL {
                let p = prompt(&view, lang);
                assert!(!p.is_empty(), "{view:?} {lang:?} says nothing");
                // Not cut short: the table has room to spare.
                assert!(p.len() < PROMPT_MAX, "{view:?}: {} clips", p.len());
                assert!(!p.tag().is_empty());
                for clip in p.clips() {
                    assert!(
                        all.contains(&clip),
                        "{view:?}: {clip:?} is not a spoken clip"
                    );
                }
                // Something is said in this language.
                assert!(
                    p.clips().any(|c| c.key(lang).is_some()),
                    "{view:?} {lang:?}"
                );
            }
        }
    }

    #[test]
    fn every_spoken_text_is_said_on_some_screen() {
        for text in SPOKEN_TEXTS {
            assert!(
                views().any(|v| prompt(&v, Lang::Ja).clips().any(|c| c == Clip::Text(*text))),
                "{text:?} is recorded but never said"
            );
        }
    }

    #[test]
    fn a_patients_name_is_never_spoken() {
        let name = KanaName::new("ヤマダ タロウ").unwrap();
        for lang in Lang::ALL {
            for reminder in [false, true] {
                let with = prompt(
                    &View::Done {
                        name: Some(name),
                        reminder,
                    },
                    lang,
                );
                let without = prompt(
                    &View::Done {
                        name: None,
                        reminder,
                    },
                    lang,
                );
                assert_eq!(with, without);
                let mut buf = [0u8; crate::catalogue::speech::SPOKEN_MAX];
                for clip in with.clips() {
                    let said = clip.spoken(lang, &mut buf);
                    assert!(!said.contains("ヤマダ") && !said.contains("タロウ"));
                }
            }
        }
    }

    #[test]
    fn numbers_are_said_in_parts() {
        let p = prompt(
            &View::PinEntry {
                tries_left: 3,
                wrong_before: true,
            },
            Lang::Ja,
        );
        let clips: std::vec::Vec<Clip> = p.clips().collect();
        assert_eq!(
            clips,
            [
                Clip::Text(Text::PinWrong),
                Clip::Text(Text::PinTitle),
                Clip::Text(Text::TriesBefore),
                Clip::Word(Word::Times3),
                Clip::Text(Text::TriesAfter),
            ]
        );
        // What is heard: 「あと」「3回」, the counter once.
        let mut buf = [0u8; crate::catalogue::speech::SPOKEN_MAX];
        let heard: std::vec::Vec<std::string::String> = p
            .clips()
            .map(|c| std::string::String::from(c.spoken(Lang::Ja, &mut buf)))
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(heard[2..], ["あと", "3回"]);
        let one = prompt(
            &View::PinEntry {
                tries_left: 1,
                wrong_before: false,
            },
            Lang::En,
        );
        let words: std::vec::Vec<&str> = one.clips().map(|c| c.words(Lang::En)).collect();
        assert_eq!(words, ["Enter your\n4-digit PIN", "", "one", "try left"]);
        let date = prompt(
            &View::ExpiryNotice {
                date: Date::new(2027, 2, 28).unwrap(),
                in_grace: false,
            },
            Lang::Ja,
        );
        let words: std::vec::Vec<&str> = date.clips().map(|c| c.words(Lang::Ja)).collect();
        assert_eq!(
            words[1..7],
            [
                "二千",
                "二十",
                "七年",
                "二月",
                "にじゅうはちにち",
                "です。\nお住まいの市区町村で\n更新してください"
            ]
        );
        let en = prompt(
            &View::ExpiryNotice {
                date: Date::new(2027, 2, 28).unwrap(),
                in_grace: true,
            },
            Lang::En,
        );
        let words: std::vec::Vec<&str> = en.clips().map(|c| c.words(Lang::En)).collect();
        assert_eq!(
            words[1..6],
            ["February", "twenty", "eighth", "two thousand", "twenty"]
        );
        assert_eq!(words.last(), Some(&Text::ExpiryGrace.get(Lang::En)));
    }

    #[test]
    fn every_session_end_says_take_the_card() {
        for view in views() {
            let p = prompt(&view, Lang::Ja);
            let says = p
                .clips()
                .any(|c| c == Clip::Text(Text::TakeCard) || c == Clip::Text(Text::Done));
            assert_eq!(
                says,
                view.ends_session() || matches!(view, View::Done { .. }),
                "{view:?}"
            );
        }
    }

    #[test]
    fn every_prompt_is_recorded_and_short_enough_to_follow() {
        let prompts = Prompts::parse(myna_voice::ASSET).unwrap();
        for view in views() {
            for lang in Lang::ALL {
                let p = prompt(&view, lang);
                let mut samples = 0u32;
                for clip in p.clips() {
                    let Some(key) = clip.key(lang) else { continue };
                    let found = prompts.clip(key).unwrap_or_else(|| {
                        panic!("{clip:?} {lang:?} not recorded: run scripts/voice-build")
                    });
                    samples += found.samples() + SENTENCE_GAP;
                }
                // 25 s: the consent overview, the longest, takes about 20.
                assert!(
                    samples < 25 * SAMPLE_RATE,
                    "{view:?} {lang:?}: {} s",
                    samples / SAMPLE_RATE
                );
            }
        }
    }
}

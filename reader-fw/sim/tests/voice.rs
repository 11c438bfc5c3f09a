//! Voice guidance on the simulated board: every screen is said as its
//! prompt, sample for sample (checked against the asset decoded here, not
//! against the player), in both languages; settings, interruptions, the
//! reminder, the timeout, and a speaker that takes the prompt in pieces.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use myna_hal::sim::Utterance;
use myna_link::samples::SCREENS;
use myna_link::{HostToDevice, Language, Screen, Signal};
use myna_voice::SAMPLE_RATE;
use reader_fw::catalogue::speech::Clip;
use reader_fw::catalogue::Lang;
use reader_fw::device::{Identity, Reader, IDLE_TIMEOUT_MS};
use reader_fw::view::View;
use reader_fw::voice::{prompt, VoiceSettings, PART_GAP, SENTENCE_GAP};
use reader_sim::{voice_prompts, SimBoard};

fn reader(lang: Lang) -> (Reader<SimBoard>, myna_hal::sim::ManualClock) {
    let (board, clock) = SimBoard::for_tests(4);
    let identity = Identity {
        firmware: 1,
        slot: 0,
        boot_id: 1,
    };
    let reader = Reader::new(board, identity, lang).with_voice(voice_prompts().unwrap());
    (reader, clock)
}

fn send(r: &mut Reader<SimBoard>, seq: u16, message: &HostToDevice<'_>) {
    r.handle(seq, message, &mut |_: &[u8]| {});
}

fn show(r: &mut Reader<SimBoard>, seq: u16, screen: Screen<'_>) {
    send(
        r,
        seq,
        &HostToDevice::ShowScreen {
            screen,
            visual_check: false,
        },
    );
}

fn said(r: &mut Reader<SimBoard>) -> Vec<Utterance> {
    r.board().speaker.utterances()
}

/// What `view` should sound like: each clip decoded straight from the
/// asset at `volume`, a sentence gap between two screen strings, a part
/// gap around a number part or 「または」.
fn expected(view: &View, lang: Lang, volume: u8) -> Vec<i16> {
    let prompts = voice_prompts().unwrap();
    let mut out = Vec::new();
    let mut previous: Option<Clip> = None;
    for clip in prompt(view, lang).clips() {
        let Some(key) = clip.key(lang) else { continue };
        let recorded = prompts.clip(key).expect("every clip is recorded");
        if let Some(p) = previous {
            let gap = match (p, clip) {
                (Clip::Text(_), Clip::Text(_)) => SENTENCE_GAP,
                _ => PART_GAP,
            };
            out.extend(std::iter::repeat_n(0, gap as usize));
        }
        previous = Some(clip);
        let mut pcm = vec![0i16; recorded.samples() as usize];
        assert_eq!(recorded.decoder().fill(&mut pcm), pcm.len());
        out.extend(
            pcm.iter()
                .map(|s| (i32::from(*s) * i32::from(volume) / 100) as i16),
        );
    }
    out
}

#[test]
fn every_sample_screen_is_said_as_its_prompt_in_both_languages() {
    let volume = VoiceSettings::default().volume;
    for lang in Lang::ALL {
        let (mut r, _) = reader(lang);
        // Switched on at boot: the Idle prompt.
        assert_eq!(r.board().speaker.tags(), ["idle"]);
        for (i, (name, screen)) in SCREENS.iter().enumerate() {
            show(&mut r, i as u16 + 1, screen.clone());
            let view = *r.view();
            let all = said(&mut r);
            assert_eq!(all.len(), i + 2, "{name}: one prompt a screen");
            let last = all.last().unwrap();
            assert_eq!(last.tag, prompt(&view, lang).tag(), "{name}");
            assert_eq!(last.sample_rate, SAMPLE_RATE);
            assert!(last.finished, "{name}");
            let want = expected(&view, lang, volume);
            assert!(
                want.len() > SAMPLE_RATE as usize / 2,
                "{name}: under half a second"
            );
            assert!(last.samples == want, "{name} {lang:?}: not its prompt");
        }
    }
}

#[test]
fn the_done_prompt_never_says_the_name() {
    let (mut r, _) = reader(Lang::Ja);
    show(
        &mut r,
        1,
        Screen::Done {
            name_kana: "ヤマダ タロウ",
        },
    );
    assert!(matches!(r.view(), View::Done { name: Some(_), .. }));
    let with_name = said(&mut r).pop().unwrap();
    show(&mut r, 2, Screen::Done { name_kana: "" });
    let without = said(&mut r).pop().unwrap();
    assert_eq!(with_name.samples, without.samples);
    assert_eq!(with_name.tag, "done");
    // The take-card chime brings its own short prompt.
    send(&mut r, 3, &HostToDevice::Signal(Signal::TakeCard));
    let reminder = said(&mut r).pop().unwrap();
    assert_eq!(reminder.tag, "take-card");
    assert_eq!(reminder.samples, expected(r.view(), Lang::Ja, 70));
}

#[test]
fn settings_language_and_timeout_change_what_is_said() {
    let (mut r, clock) = reader(Lang::Ja);
    show(&mut r, 1, Screen::Registration);
    // Said again in English when the host switches language.
    send(&mut r, 2, &HostToDevice::SetLanguage(Language::English));
    let en = said(&mut r).pop().unwrap();
    assert_eq!(en.tag, "registration");
    assert_eq!(en.samples, expected(&View::Registration, Lang::En, 70));
    // Quieter.
    send(
        &mut r,
        3,
        &HostToDevice::SetVoice {
            on: true,
            volume: 35,
        },
    );
    show(&mut r, 4, Screen::Reading);
    assert_eq!(
        said(&mut r).pop().unwrap().samples,
        expected(&View::Reading, Lang::En, 35)
    );
    // Off: nothing more is said.
    send(
        &mut r,
        5,
        &HostToDevice::SetVoice {
            on: false,
            volume: 35,
        },
    );
    let before = said(&mut r).len();
    show(&mut r, 6, Screen::SeeStaff);
    assert_eq!(said(&mut r).len(), before);
    assert_eq!(
        r.voice(),
        VoiceSettings {
            on: false,
            volume: 35
        }
    );
    // On again; the idle timeout goes back to Idle without a word.
    send(
        &mut r,
        7,
        &HostToDevice::SetVoice {
            on: true,
            volume: 200,
        },
    );
    assert_eq!(r.voice().volume, 100);
    show(&mut r, 8, Screen::ConsentOverview { checkup: true });
    let count = said(&mut r).len();
    clock.advance(IDLE_TIMEOUT_MS);
    r.poll(&mut |_: &[u8]| {});
    assert_eq!(*r.view(), View::Idle);
    assert_eq!(said(&mut r).len(), count);
}

#[test]
fn a_slow_speaker_gets_the_prompt_in_pieces_and_a_new_screen_cuts_it_off() {
    let (mut r, _) = reader(Lang::Ja);
    let speaker = r.board().speaker.clone();
    speaker.limit_queue(1000);
    show(&mut r, 1, Screen::ConsentOverview { checkup: true });
    let want = expected(&View::ConsentOverview { checkup: true }, Lang::Ja, 70);
    assert_eq!(said(&mut r).pop().unwrap().samples.len(), 1000);
    // The poll loop tops the queue up as the speaker plays.
    let mut polls = 0;
    while !said(&mut r).pop().unwrap().finished {
        speaker.play(700);
        r.poll(&mut |_: &[u8]| {});
        polls += 1;
        assert!(polls < want.len(), "the prompt never ends");
    }
    assert_eq!(said(&mut r).pop().unwrap().samples, want);
    // A prompt cut off by the next screen stays unfinished.
    show(&mut r, 2, Screen::Reading);
    show(&mut r, 3, Screen::Processing);
    let all = said(&mut r);
    let n = all.len();
    assert_eq!(all[n - 2].tag, "reading");
    assert!(!all[n - 2].finished);
    assert_eq!(all[n - 1].tag, "processing");
    assert!(all[n - 2].samples.len() <= 1000);
}

#[test]
fn a_refused_screen_is_said_as_out_of_service() {
    let (mut r, _) = reader(Lang::Ja);
    show(
        &mut r,
        1,
        Screen::PinEntry {
            tries_left: 9,
            wrong_before: false,
        },
    );
    assert_eq!(said(&mut r).pop().unwrap().tag, "out-of-service");
}

#[test]
fn the_host_link_sets_the_voice() {
    let (r, _) = reader(Lang::Ja);
    let transport = reader_sim::InProcessReader::new(r);
    let mut link = myna_link_host::ReaderLink::open(transport, || 5).unwrap();
    link.set_voice(false, 20).unwrap();
    assert_eq!(
        link.transport().reader.voice(),
        VoiceSettings {
            on: false,
            volume: 20
        }
    );
}

//! `voice-build`: synthesises every clip of the catalogue
//! (`myna_catalogue::speech::Clip::all`, Japanese and English) and writes
//! the flash asset `prompts.bin` and its manifest `prompts.txt` (one line
//! a clip: key, language, samples, bytes, the words).
//!
//! For developers, not CI: it needs `open_jtalk` with the NAIST dictionary
//! and the `hts-voice-nitech-jp-atr503-m001` voice (Debian `contrib`),
//! `espeak-ng` and `sox` (`scripts/voice-build` installs them and runs
//! this). CI checks the committed asset against the catalogue instead.
//!
//! ```text
//! voice-build OUT_DIR
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use myna_catalogue::speech::{key_of, lang_tag, Clip, SPOKEN_MAX};
use myna_catalogue::Lang;
use myna_voice::{build, clip_bytes, Prompts, BUDGET_BYTES, SAMPLE_RATE};

const DICTIONARY: &str = "/var/lib/mecab/dic/open-jtalk/naist-jdic";
const VOICE: &str = "/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice";

/// A bit slower than the synthesisers' defaults: many patients are old.
const JA_SPEED: &str = "0.9";
const EN_WORDS_PER_MINUTE: &str = "140";

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("usage: voice-build OUT_DIR")]
    Usage,
    #[error("running {0} (see scripts/voice-build)")]
    Tool(&'static str, #[source] std::io::Error),
    #[error("{0} failed on {1:?}")]
    ToolFailed(&'static str, String),
    #[error("{}", .0.display())]
    Io(PathBuf, #[source] std::io::Error),
    #[error("the asset written does not parse")]
    Asset(#[from] myna_voice::AssetError),
    #[error("{0} bytes: over the {BUDGET_BYTES}-byte budget")]
    OverBudget(usize),
    #[error(
        "open_jtalk drew out {1:?} in {0:?}: a breath group too long for the voice; \
         break the catalogue string (\\n) at a phrase boundary"
    )]
    Drawl(String, String),
}

fn run(tool: &'static str, command: &mut Command, words: &str) -> Result<(), Error> {
    let status = command.status().map_err(|e| Error::Tool(tool, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::ToolFailed(tool, words.to_owned()))
    }
}

/// Synthesises `words` and returns mono 16-bit PCM at [`SAMPLE_RATE`],
/// silence trimmed at both ends, peak-normalised to −1 dBFS (so Japanese
/// and English clips play at one loudness).
fn synthesise(lang: Lang, words: &str, scratch: &Path) -> Result<Vec<i16>, Error> {
    let wav = scratch.join("clip.wav");
    let text = scratch.join("clip.txt");
    std::fs::write(&text, words).map_err(|e| Error::Io(text.clone(), e))?;
    match lang {
        Lang::Ja => {
            let trace = scratch.join("clip.trace");
            run(
                "open_jtalk",
                Command::new("open_jtalk")
                    .args(["-x", DICTIONARY, "-m", VOICE, "-r", JA_SPEED, "-ow"])
                    .arg(&wav)
                    .arg("-ot")
                    .arg(&trace)
                    .arg(&text),
                words,
            )?;
            let trace = std::fs::read_to_string(&trace).map_err(|e| Error::Io(trace, e))?;
            if let Some(phoneme) = drawled(&trace) {
                return Err(Error::Drawl(words.to_owned(), phoneme));
            }
        }
        Lang::En => run(
            "espeak-ng",
            Command::new("espeak-ng")
                .args(["-v", "en-us", "-s", EN_WORDS_PER_MINUTE, "-w"])
                .arg(&wav)
                .arg("-f")
                .arg(&text),
            words,
        )?,
    }
    let raw = scratch.join("clip.raw");
    run(
        "sox",
        Command::new("sox")
            .arg(&wav)
            .args(["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1"])
            .args(["-r", &SAMPLE_RATE.to_string()])
            .arg(&raw)
            .args(["silence", "1", "0.01", "0.5%", "reverse"])
            .args(["silence", "1", "0.01", "0.5%", "reverse"])
            .args(["norm", "-1"]),
        words,
    )?;
    let bytes = std::fs::read(&raw).map_err(|e| Error::Io(raw.clone(), e))?;
    Ok(bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// The longest a spoken phoneme may last, in the trace's 100 ns units
/// (300 ms; normal ones last 40–130 ms).
const PHONEME_MAX: u64 = 3_000_000;

/// A phoneme Open JTalk held far too long, from its trace's label section
/// (`start end label`, the phoneme between `-` and `+`): the voice's
/// duration model runs away at the end of a long breath group, which
/// sounds like a broken record.
fn drawled(trace: &str) -> Option<String> {
    let labels = trace.split("[Output label]").nth(1)?;
    for line in labels.lines() {
        let mut fields = line.split_whitespace();
        let (Some(start), Some(end), Some(label)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (Ok(start), Ok(end)) = (start.parse::<u64>(), end.parse::<u64>()) else {
            continue;
        };
        let phoneme = label
            .split_once('-')
            .and_then(|(_, rest)| rest.split_once('+'))
            .map_or("", |(p, _)| p);
        if !matches!(phoneme, "sil" | "pau") && end.saturating_sub(start) > PHONEME_MAX {
            return Some(phoneme.to_owned());
        }
    }
    None
}

fn main() -> std::process::ExitCode {
    match build_prompts() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voice-build: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("  because: {cause}");
                source = cause.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn build_prompts() -> Result<(), Error> {
    let out: PathBuf = std::env::args_os().nth(1).ok_or(Error::Usage)?.into();
    let scratch = std::env::temp_dir().join(format!("voice-build-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| Error::Io(scratch.clone(), e))?;
    // One recording per distinct (language, words): equal strings share.
    let mut clips: BTreeMap<u64, (Lang, String, Vec<i16>)> = BTreeMap::new();
    for clip in Clip::all() {
        for lang in Lang::ALL {
            let mut buf = [0u8; SPOKEN_MAX];
            let spoken = clip.spoken(lang, &mut buf);
            if spoken.is_empty() {
                continue;
            }
            let key = key_of(lang, spoken);
            if clips.contains_key(&key) {
                continue;
            }
            let pcm = synthesise(lang, spoken, &scratch)?;
            eprintln!(
                "{} {:5.2}s {spoken}",
                lang_tag(lang),
                pcm.len() as f32 / SAMPLE_RATE as f32
            );
            clips.insert(key, (lang, spoken.to_owned(), pcm));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let pairs: Vec<(u64, Vec<i16>)> = clips
        .iter()
        .map(|(k, (_, _, pcm))| (*k, pcm.clone()))
        .collect();
    let asset = build::asset(&pairs)?;
    Prompts::parse(&asset)?;
    if asset.len() > BUDGET_BYTES {
        return Err(Error::OverBudget(asset.len()));
    }
    let mut manifest = String::new();
    let _ = writeln!(
        manifest,
        "# Made by voice-build from myna-catalogue: key lang samples bytes words. \
         {} clips, {} Hz IMA ADPCM, {} bytes of {BUDGET_BYTES}.",
        clips.len(),
        SAMPLE_RATE,
        asset.len()
    );
    for (key, (lang, spoken, pcm)) in &clips {
        let _ = writeln!(
            manifest,
            "{key:016x}\t{}\t{}\t{}\t{spoken}",
            lang_tag(*lang),
            pcm.len(),
            clip_bytes(pcm.len() as u32)
        );
    }
    let bin = out.join("prompts.bin");
    std::fs::write(&bin, &asset).map_err(|e| Error::Io(bin.clone(), e))?;
    let txt = out.join("prompts.txt");
    std::fs::write(&txt, manifest).map_err(|e| Error::Io(txt.clone(), e))?;
    eprintln!(
        "{}: {} clips, {} bytes",
        bin.display(),
        clips.len(),
        asset.len()
    );
    Ok(())
}

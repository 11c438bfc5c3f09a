//! The committed voice asset against the catalogue (CI has no synthesiser,
//! so this is what keeps `prompts.bin` honest), its budgets, and the fuzz
//! seed corpus.

use std::collections::BTreeMap;

use myna_catalogue::speech::{lang_tag, Clip, PAGES, SPOKEN_MAX};
use myna_catalogue::Lang;
use myna_voice::{
    fuzz_parse, Prompts, ASSET, BUDGET_BYTES, CLIP_BUDGET_SAMPLES, PAGE_BUDGET_SAMPLES, SAMPLE_RATE,
};

/// Every clip the catalogue says, by key: (language, words).
fn catalogue_clips() -> BTreeMap<u64, (Lang, String)> {
    let mut clips = BTreeMap::new();
    for clip in Clip::all() {
        for lang in Lang::ALL {
            let mut buf = [0u8; SPOKEN_MAX];
            let spoken = clip.spoken(lang, &mut buf).to_owned();
            if let Some(key) = clip.key(lang) {
                clips.insert(key, (lang, spoken));
            }
        }
    }
    clips
}

const REGENERATE: &str =
    "the catalogue changed: run scripts/voice-build and commit prompts.bin and prompts.txt";

#[test]
fn the_asset_holds_exactly_the_catalogues_clips() {
    let prompts = Prompts::parse(ASSET).unwrap();
    let wanted = catalogue_clips();
    for (key, (lang, words)) in &wanted {
        assert!(
            prompts.clip(*key).is_some(),
            "no recording of {} {words:?}: {REGENERATE}",
            lang_tag(*lang)
        );
    }
    for (key, _) in prompts.iter() {
        assert!(
            wanted.contains_key(&key),
            "recording {key:016x} is of words the catalogue no longer has: {REGENERATE}"
        );
    }
    assert_eq!(prompts.len(), wanted.len());
}

#[test]
fn the_manifest_lists_every_recording_with_its_words() {
    let manifest = include_str!("../prompts.txt");
    let prompts = Prompts::parse(ASSET).unwrap();
    let wanted = catalogue_clips();
    let mut lines = 0;
    for line in manifest.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.splitn(5, '\t').collect();
        let [key, lang, samples, bytes, words] = fields[..] else {
            panic!("bad manifest line {line:?}");
        };
        let key = u64::from_str_radix(key, 16).unwrap();
        let clip = prompts.clip(key).expect(REGENERATE);
        assert_eq!(clip.samples().to_string(), samples, "{line}");
        assert_eq!(clip.stored_bytes().to_string(), bytes, "{line}");
        let (want_lang, want_words) = &wanted[&key];
        assert_eq!((lang_tag(*want_lang), want_words.as_str()), (lang, words));
        lines += 1;
    }
    assert_eq!(lines, prompts.len());
}

#[test]
fn clip_sizes_stay_within_budget() {
    assert!(
        ASSET.len() <= BUDGET_BYTES,
        "{} bytes over the {BUDGET_BYTES}-byte voice partition",
        ASSET.len()
    );
    let prompts = Prompts::parse(ASSET).unwrap();
    let wanted = catalogue_clips();
    let pages: Vec<u64> = PAGES
        .iter()
        .flat_map(|t| Lang::ALL.map(|lang| Clip::Text(*t).key(lang)))
        .flatten()
        .collect();
    let mut total_samples = 0u64;
    for (key, clip) in prompts.iter() {
        let (_, words) = &wanted[&key];
        let budget = if pages.contains(&key) {
            PAGE_BUDGET_SAMPLES
        } else {
            CLIP_BUDGET_SAMPLES
        };
        assert!(
            clip.samples() <= budget,
            "{words:?} lasts {:.1} s: split it in the catalogue",
            f64::from(clip.samples()) / f64::from(SAMPLE_RATE)
        );
        // 4 bits a sample plus the 4-byte clip header: the codec the
        // budget was set for.
        assert_eq!(
            clip.stored_bytes(),
            4 + (clip.samples() as usize).div_ceil(2)
        );
        total_samples += u64::from(clip.samples());
    }
    // Every clip is speech, not silence padding: the asset is the clips
    // and a small index (16 bytes a clip, 20 bytes of header and CRC).
    assert_eq!(
        ASSET.len(),
        20 + 16 * prompts.len() + prompts.iter().map(|(_, c)| c.stored_bytes()).sum::<usize>()
    );
    assert!(total_samples > 0);
}

#[test]
fn every_recording_decodes_to_sound_trimmed_of_silence() {
    let prompts = Prompts::parse(ASSET).unwrap();
    let mut buf = vec![0i16; PAGE_BUDGET_SAMPLES as usize];
    for (key, clip) in prompts.iter() {
        let n = clip.decoder().fill(&mut buf);
        assert_eq!(n, clip.samples() as usize);
        let pcm = &buf[..n];
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        // Normalised to about −1 dBFS by voice-build.
        assert!(peak > 16_000, "{key:016x}: peak {peak}");
        // Trimmed: the first and last 10 ms are not all silence.
        let edge = (SAMPLE_RATE / 100) as usize;
        let loud = |part: &[i16]| part.iter().any(|s| s.unsigned_abs() > 150);
        assert!(loud(&pcm[..edge.min(n)]), "{key:016x} starts silent");
        assert!(
            loud(&pcm[n.saturating_sub(edge)..]),
            "{key:016x} ends silent"
        );
    }
}

#[test]
fn the_fuzz_seed_corpus_parses() {
    // Regenerate with MYNA_VOICE_WRITE_SEEDS=1; the fuzz target starts from these.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/voice_parse");
    let small =
        myna_voice::build::asset(&[(1, vec![0, 900, -900, 4000, -4000, 100]), (7, vec![5; 33])])
            .unwrap();
    let seeds = [
        ("two-clips", small.clone()),
        ("truncated", small[..small.len() - 9].to_vec()),
        ("empty", myna_voice::build::asset(&[]).unwrap()),
    ];
    if std::env::var_os("MYNA_VOICE_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &seeds {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        fuzz_parse(&bytes);
        count += 1;
    }
    assert!(count >= seeds.len());
    let seed = std::fs::read(dir.join("two-clips")).unwrap();
    assert_eq!(Prompts::parse(&seed).unwrap().len(), 2);
    for input in [&[][..], &[0xFF; 19][..], &small[..20], ASSET] {
        fuzz_parse(input);
    }
}

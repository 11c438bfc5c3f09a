//! What the reader says: the spoken clips, built from the same catalogue
//! as the screens (issue 12, 要配慮者: every screen has a spoken prompt).
//!
//! A [`Clip`] is one piece of recorded speech: a screen string
//! ([`Clip::Text`], one of [`SPOKEN_TEXTS`]) or a spoken-only [`Word`]
//! (「または」, and the parts numbers are joined from). The firmware's
//! prompt for a screen is a list of clips (`reader_fw::voice`); the voice
//! asset holds one recording per clip and language, found by
//! [`Clip::key`], a hash of the words actually synthesised, so a changed
//! string no longer finds its old recording and the asset test fails
//! until the asset is regenerated.
//!
//! Numbers are joined from parts rather than recorded per sentence:
//! 「あと」 + 「三回」 (the counter stays with its number because Japanese
//! changes the reading with it: いっかい, ついたち, しがつ), English
//! "two thousand" + "twenty" + "seven". Nothing a patient or the upstream
//! supplies (a name) can become a clip: clips are `'static` words of this
//! module and of [`Text`], and nothing else has a [`Clip::key`].

use crate::{Lang, Text};

macro_rules! words {
    ($( $(#[$doc:meta])* $id:ident => $ja:literal, $en:literal; )*) => {
        /// A spoken-only word or number part (never drawn, so not in the
        /// font). An empty string: not used in that language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Word { $( $(#[$doc])* $id, )* }

        impl Word {
            /// Every word.
            pub const ALL: &'static [Word] = &[ $( Word::$id, )* ];

            /// What is synthesised in `lang` ("" when the language has no
            /// use for the word).
            pub fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (Word::$id, Lang::Ja) => $ja, (Word::$id, Lang::En) => $en, )*
                }
            }
        }
    };
}

words! {
    /// Between two button names.
    Or => "または", "or";
    /// Consent steps: 「3問中」.
    Of1 => "1問中", "of one"; Of2 => "2問中", "of two"; Of3 => "3問中", "of three";
    /// Consent steps: 「1問目」.
    Step1 => "1問目", "Question one"; Step2 => "2問目", "Question two"; Step3 => "3問目", "Question three";
    /// Tries left with the counter (いっかい).
    Times1 => "1回", ""; Times2 => "2回", ""; Times3 => "3回", "";
    /// Year: 二千 + tens + unit-with-年.
    Y2000 => "二千", "two thousand";
    Tens1 => "十", ""; Tens2 => "二十", "twenty"; Tens3 => "三十", "thirty";
    Tens4 => "四十", "forty"; Tens5 => "五十", "fifty"; Tens6 => "六十", "sixty";
    Tens7 => "七十", "seventy"; Tens8 => "八十", "eighty"; Tens9 => "九十", "ninety";
    Year0 => "年", ""; Year1 => "一年", ""; Year2 => "二年", ""; Year3 => "三年", "";
    Year4 => "四年", ""; Year5 => "五年", ""; Year6 => "六年", ""; Year7 => "七年", "";
    Year8 => "八年", ""; Year9 => "九年", "";
    /// English cardinals (years, tries, steps).
    One => "", "one"; Two => "", "two"; Three => "", "three"; Four => "", "four";
    Five => "", "five"; Six => "", "six"; Seven => "", "seven"; Eight => "", "eight";
    Nine => "", "nine"; Ten => "", "ten"; Eleven => "", "eleven"; Twelve => "", "twelve";
    Thirteen => "", "thirteen"; Fourteen => "", "fourteen"; Fifteen => "", "fifteen";
    Sixteen => "", "sixteen"; Seventeen => "", "seventeen"; Eighteen => "", "eighteen";
    Nineteen => "", "nineteen";
    Month1 => "一月", "January"; Month2 => "二月", "February"; Month3 => "三月", "March";
    Month4 => "四月", "April"; Month5 => "五月", "May"; Month6 => "六月", "June";
    Month7 => "七月", "July"; Month8 => "八月", "August"; Month9 => "九月", "September";
    Month10 => "十月", "October"; Month11 => "十一月", "November"; Month12 => "十二月", "December";
    /// Days: Japanese in kana (the readings are irregular: ついたち, はつか),
    /// English ordinals (21–29 and 31 are "twenty"/"thirty" + an ordinal).
    Day1 => "ついたち", "first"; Day2 => "ふつか", "second"; Day3 => "みっか", "third";
    Day4 => "よっか", "fourth"; Day5 => "いつか", "fifth"; Day6 => "むいか", "sixth";
    Day7 => "なのか", "seventh"; Day8 => "ようか", "eighth"; Day9 => "ここのか", "ninth";
    Day10 => "とおか", "tenth"; Day11 => "じゅういちにち", "eleventh";
    Day12 => "じゅうににち", "twelfth"; Day13 => "じゅうさんにち", "thirteenth";
    Day14 => "じゅうよっか", "fourteenth"; Day15 => "じゅうごにち", "fifteenth";
    Day16 => "じゅうろくにち", "sixteenth"; Day17 => "じゅうしちにち", "seventeenth";
    Day18 => "じゅうはちにち", "eighteenth"; Day19 => "じゅうくにち", "nineteenth";
    Day20 => "はつか", "twentieth"; Day21 => "にじゅういちにち", "";
    Day22 => "にじゅうににち", ""; Day23 => "にじゅうさんにち", "";
    Day24 => "にじゅうよっか", ""; Day25 => "にじゅうごにち", "";
    Day26 => "にじゅうろくにち", ""; Day27 => "にじゅうしちにち", "";
    Day28 => "にじゅうはちにち", ""; Day29 => "にじゅうくにち", "";
    Day30 => "さんじゅうにち", "thirtieth"; Day31 => "さんじゅういちにち", "";
}

const ONES: [Word; 19] = [
    Word::One,
    Word::Two,
    Word::Three,
    Word::Four,
    Word::Five,
    Word::Six,
    Word::Seven,
    Word::Eight,
    Word::Nine,
    Word::Ten,
    Word::Eleven,
    Word::Twelve,
    Word::Thirteen,
    Word::Fourteen,
    Word::Fifteen,
    Word::Sixteen,
    Word::Seventeen,
    Word::Eighteen,
    Word::Nineteen,
];
const TENS: [Word; 9] = [
    Word::Tens1,
    Word::Tens2,
    Word::Tens3,
    Word::Tens4,
    Word::Tens5,
    Word::Tens6,
    Word::Tens7,
    Word::Tens8,
    Word::Tens9,
];
const YEAR_UNITS: [Word; 10] = [
    Word::Year0,
    Word::Year1,
    Word::Year2,
    Word::Year3,
    Word::Year4,
    Word::Year5,
    Word::Year6,
    Word::Year7,
    Word::Year8,
    Word::Year9,
];
const MONTHS: [Word; 12] = [
    Word::Month1,
    Word::Month2,
    Word::Month3,
    Word::Month4,
    Word::Month5,
    Word::Month6,
    Word::Month7,
    Word::Month8,
    Word::Month9,
    Word::Month10,
    Word::Month11,
    Word::Month12,
];
const DAYS: [Word; 31] = [
    Word::Day1,
    Word::Day2,
    Word::Day3,
    Word::Day4,
    Word::Day5,
    Word::Day6,
    Word::Day7,
    Word::Day8,
    Word::Day9,
    Word::Day10,
    Word::Day11,
    Word::Day12,
    Word::Day13,
    Word::Day14,
    Word::Day15,
    Word::Day16,
    Word::Day17,
    Word::Day18,
    Word::Day19,
    Word::Day20,
    Word::Day21,
    Word::Day22,
    Word::Day23,
    Word::Day24,
    Word::Day25,
    Word::Day26,
    Word::Day27,
    Word::Day28,
    Word::Day29,
    Word::Day30,
    Word::Day31,
];

/// Picks `table[n - 1]`; `None` outside 1..=len.
fn nth(table: &[Word], n: u16) -> Option<Word> {
    table.get(usize::from(n).checked_sub(1)?).copied()
}

/// The most parts one number takes (English "two thousand" "twenty"
/// "seven", Japanese 「二千」「二十」「七年」).
pub const NUMBER_PARTS_MAX: usize = 3;

/// Up to [`NUMBER_PARTS_MAX`] words, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parts {
    words: [Option<Word>; NUMBER_PARTS_MAX],
}

impl Parts {
    fn of(words: &[Word]) -> Parts {
        let mut parts = Parts::default();
        for (slot, word) in parts.words.iter_mut().zip(words) {
            *slot = Some(*word);
        }
        parts
    }

    /// The words, in the order they are said.
    pub fn iter(&self) -> impl Iterator<Item = Word> + '_ {
        self.words.iter().flatten().copied()
    }
}

/// An English number 1–99 as one or two words ("twenty" "seven").
fn english(n: u16) -> Option<Parts> {
    match n {
        1..=19 => Some(Parts::of(&[nth(&ONES, n)?])),
        20..=99 => {
            let tens = nth(&TENS, n / 10)?;
            match n % 10 {
                0 => Some(Parts::of(&[tens])),
                unit => Some(Parts::of(&[tens, nth(&ONES, unit)?])),
            }
        }
        _ => None,
    }
}

/// A year 2000–2099: 「二千」「二十」「七年」 / "two thousand" "twenty"
/// "seven" (a bare "two thousand" for 2000).
pub fn year(lang: Lang, year: u16) -> Option<Parts> {
    if !(2000..=2099).contains(&year) {
        return None;
    }
    let rest = year - 2000;
    match lang {
        Lang::Ja => {
            let unit = *YEAR_UNITS.get(usize::from(rest % 10))?;
            match rest / 10 {
                0 => Some(Parts::of(&[Word::Y2000, unit])),
                tens => Some(Parts::of(&[Word::Y2000, nth(&TENS, tens)?, unit])),
            }
        }
        Lang::En => {
            let mut parts = Parts::of(&[Word::Y2000]);
            if rest > 0 {
                for (slot, word) in parts.words[1..].iter_mut().zip(english(rest)?.iter()) {
                    *slot = Some(word);
                }
            }
            Some(parts)
        }
    }
}

/// A month 1–12 (「二月」, "February").
pub fn month(month: u8) -> Option<Word> {
    nth(&MONTHS, u16::from(month))
}

/// A day of the month 1–31 (「にじゅうはちにち」, "twenty" "eighth").
pub fn day(lang: Lang, day: u8) -> Option<Parts> {
    match (lang, day) {
        (Lang::Ja, _) | (Lang::En, 1..=20 | 30) => Some(Parts::of(&[nth(&DAYS, day.into())?])),
        (Lang::En, 21..=29 | 31) => {
            let tens = nth(&TENS, u16::from(day / 10))?;
            Some(Parts::of(&[tens, nth(&DAYS, u16::from(day % 10))?]))
        }
        (Lang::En, _) => None,
    }
}

/// Tries left 1–3: 「一回」 with its counter; English the bare number
/// (the catalogue's "tries left" follows).
pub fn tries(lang: Lang, n: u8) -> Option<Word> {
    match lang {
        Lang::Ja => nth(&[Word::Times1, Word::Times2, Word::Times3], n.into()),
        Lang::En => nth(&ONES[..3], n.into()),
    }
}

/// A consent step `step` of `of` (1 ≤ step ≤ of ≤ 3): 「3問中」「1問目」,
/// "Question one" "of three".
pub fn step(lang: Lang, step: u8, of: u8) -> Option<[Word; 2]> {
    if step == 0 || step > of {
        return None;
    }
    let of = nth(&[Word::Of1, Word::Of2, Word::Of3], of.into())?;
    let step = nth(&[Word::Step1, Word::Step2, Word::Step3], step.into())?;
    Some(match lang {
        Lang::Ja => [of, step],
        Lang::En => [step, of],
    })
}

/// The screen strings that are spoken (the rest are headers, key caps and
/// notes a prompt leaves out). `reader_fw::voice` tests that every prompt
/// uses only these and every one of these is used.
pub const SPOKEN_TEXTS: &[Text] = &[
    Text::IdleTitle,
    Text::IdleOrientation,
    Text::Reading,
    Text::ReadError,
    Text::PlaceAgain,
    Text::AskStaff,
    Text::TakeCard,
    Text::NotMyNumberCard,
    Text::HandToStaff,
    Text::ExpiryBefore,
    Text::ExpiryAfter,
    Text::ExpiredBefore,
    Text::ExpiredAfter,
    Text::ExpiryGrace,
    Text::ExpiredRefused,
    Text::ChooseMethod,
    Text::FaceOnlyMethod,
    Text::Face,
    Text::Pin,
    Text::FaceCaptureTitle,
    Text::HintOneFaceOnly,
    Text::HintMoveCloser,
    Text::HintMoveBack,
    Text::HintFaceForward,
    Text::HintFaceTheLight,
    Text::HintAvoidGlare,
    Text::HintHoldStill,
    Text::HintRemoveMask,
    Text::HintRemoveHat,
    Text::HintRemoveGlasses,
    Text::HintFaceTheFrame,
    Text::FaceFailed,
    Text::PinInstead,
    Text::CallStaff,
    Text::PinWrong,
    Text::PinTitle,
    Text::TriesBefore,
    Text::TriesAfter,
    Text::TryAfterOne,
    Text::PinLastTry,
    Text::EnterPin,
    Text::StopAndCallStaff,
    Text::PinLocked,
    Text::VisualCheck,
    Text::Processing,
    Text::StaffComing,
    Text::RegistrationDone,
    Text::Registration,
    Text::Apply,
    Text::DontApply,
    Text::ConsentOverview,
    Text::ConsentCovers,
    Text::ConsentPurpose,
    Text::AgreeAll,
    Text::OneByOne,
    Text::ConsentFooter,
    Text::ConsentOperation,
    Text::ConsentOperationQuestion,
    Text::ConsentDiagnosis,
    Text::ConsentDiagnosisQuestion,
    Text::ConsentCheckup,
    Text::ConsentCheckupQuestion,
    Text::Agree,
    Text::Disagree,
    Text::Done,
    Text::WaitToBeCalled,
    Text::InsuredCare,
    Text::OutOfService,
    Text::ConsentCoversNoCheckup,
    Text::TermsTitle,
    Text::TermsPage1,
    Text::TermsPage2,
    Text::TermsPage3,
    Text::Previous,
    Text::Next,
];

/// Texts read out as a page (the registration's terms): held to the voice
/// asset's page budget rather than its sentence budget.
pub const PAGES: &[Text] = &[Text::TermsPage1, Text::TermsPage2, Text::TermsPage3];

/// Counters a Japanese number part says itself (「三回」, read さんかい,
/// いっかい: the reading changes with the counter), so the counter string
/// that follows the number on screen is silent in Japanese, as 「あと」 is
/// in English.
pub const COUNTED_IN_JAPANESE: &[Clip] =
    &[Clip::Text(Text::TriesAfter), Clip::Text(Text::TryAfterOne)];

/// One recorded piece of speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clip {
    /// A screen string, as drawn (its line breaks and brackets dropped).
    Text(Text),
    /// A spoken-only word.
    Word(Word),
}

/// The longest Japanese breath group (characters between pauses) a line
/// break is joined into; a longer one gets a pause at the break.
pub const BREATH_GROUP_MAX: usize = 20;

/// The longest spoken string, in bytes (checked by a test).
pub const SPOKEN_MAX: usize = 256;

impl Clip {
    /// Every clip the asset holds (in each language where
    /// [`Clip::spoken`] is not empty).
    pub fn all() -> impl Iterator<Item = Clip> {
        SPOKEN_TEXTS
            .iter()
            .map(|t| Clip::Text(*t))
            .chain(Word::ALL.iter().map(|w| Clip::Word(*w)))
    }

    /// The catalogue's words for the clip.
    pub fn words(self, lang: Lang) -> &'static str {
        match self {
            Clip::Text(text) => text.get(lang),
            Clip::Word(word) => word.get(lang),
        }
    }

    /// What the synthesiser reads, written into `out`: the words with
    /// 【】 taken out and ／ made a pause (a synthesiser would read them
    /// aloud or run the items together), a bracketed aside made a pause
    /// ("暗証番号(数字4桁)を" is said 「暗証番号、数字4桁を」, not with a
    /// pause on each side), and line breaks, which the catalogue puts at
    /// phrase boundaries, either joined or, in a long Japanese breath
    /// group, made a pause 「、」: Open JTalk's voice drawls the end of a
    /// breath group much longer than [`BREATH_GROUP_MAX`] characters. An
    /// English break is a space. Returns the used part of `out`; empty
    /// when the clip says nothing in `lang`.
    pub fn spoken(self, lang: Lang, out: &mut [u8; SPOKEN_MAX]) -> &str {
        if lang == Lang::Ja && COUNTED_IN_JAPANESE.contains(&self) {
            return "";
        }
        let words = self.words(lang);
        let pause = |c: char| matches!(c, '、' | '。' | '(' | '（');
        let mut len = 0;
        let mut group = 0;
        let mut last = None;
        for (i, c) in words.char_indices() {
            let replaced = match (c, lang) {
                ('【' | '】' | ')' | '）', _) => None,
                ('\n', Lang::Ja) => {
                    let ahead = words[i + 1..]
                        .chars()
                        .take_while(|c| !pause(*c))
                        .filter(|c| *c != '\n')
                        .count();
                    // After a stop the pause is there already.
                    let long = group + ahead > BREATH_GROUP_MAX;
                    (long && !matches!(last, Some('。' | '、') | None)).then_some('、')
                }
                ('(' | '（' | '／' | '/', Lang::Ja) => Some('、'),
                ('\n', Lang::En) => Some(' '),
                ('／' | '/', Lang::En) => Some(','),
                (c, _) => Some(c),
            };
            if let Some(c) = replaced {
                let mut buf = [0u8; 4];
                let bytes = c.encode_utf8(&mut buf).as_bytes();
                let Some(slot) = out.get_mut(len..len + bytes.len()) else {
                    break;
                };
                slot.copy_from_slice(bytes);
                len += bytes.len();
                last = Some(c);
                group = if pause(c) { 0 } else { group + 1 };
            }
        }
        // Whole characters were copied, so this is UTF-8.
        core::str::from_utf8(&out[..len]).unwrap_or("")
    }

    /// The clip's key in the voice asset: FNV-1a (64-bit) over the
    /// language tag, a zero byte and the spoken words. `None` when the
    /// clip says nothing in `lang`.
    pub fn key(self, lang: Lang) -> Option<u64> {
        let mut buf = [0u8; SPOKEN_MAX];
        let spoken = self.spoken(lang, &mut buf);
        if spoken.is_empty() {
            return None;
        }
        Some(key_of(lang, spoken))
    }
}

/// The language tag hashed into a key.
pub fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "ja",
        Lang::En => "en",
    }
}

/// FNV-1a (64-bit) of `lang`'s tag, 0, `spoken`: the asset's key. A hash
/// of the words, not an index, so adding strings elsewhere in the
/// catalogue moves nothing and changing one invalidates only its clip.
pub fn key_of(lang: Lang, spoken: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lang_tag(lang).bytes().chain([0]).chain(spoken.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(lang: Lang, words: impl Iterator<Item = Word>) -> [&'static str; 4] {
        let mut out = [""; 4];
        for (slot, w) in out.iter_mut().zip(words) {
            *slot = w.get(lang);
        }
        out
    }

    #[test]
    fn numbers_are_joined_from_parts() {
        let y = |l, n| said(l, year(l, n).unwrap().iter());
        assert_eq!(y(Lang::Ja, 2027), ["二千", "二十", "七年", ""]);
        assert_eq!(y(Lang::Ja, 2000), ["二千", "年", "", ""]);
        assert_eq!(y(Lang::Ja, 2010), ["二千", "十", "年", ""]);
        assert_eq!(y(Lang::En, 2027), ["two thousand", "twenty", "seven", ""]);
        assert_eq!(y(Lang::En, 2013), ["two thousand", "thirteen", "", ""]);
        assert_eq!(y(Lang::En, 2000), ["two thousand", "", "", ""]);
        assert_eq!(year(Lang::Ja, 2100), None);
        assert_eq!(year(Lang::En, 1999), None);
        let d = |l, n| said(l, day(l, n).unwrap().iter());
        assert_eq!(d(Lang::Ja, 1), ["ついたち", "", "", ""]);
        assert_eq!(d(Lang::En, 28), ["twenty", "eighth", "", ""]);
        assert_eq!(d(Lang::En, 31), ["thirty", "first", "", ""]);
        assert_eq!(d(Lang::En, 30), ["thirtieth", "", "", ""]);
        assert_eq!(day(Lang::Ja, 32), None);
        assert_eq!(day(Lang::En, 0), None);
        assert_eq!(month(2), Some(Word::Month2));
        assert_eq!(month(13), None);
        assert_eq!(tries(Lang::Ja, 3), Some(Word::Times3));
        assert_eq!(tries(Lang::En, 1), Some(Word::One));
        assert_eq!(tries(Lang::Ja, 4), None);
        assert_eq!(step(Lang::Ja, 1, 3), Some([Word::Of3, Word::Step1]));
        assert_eq!(step(Lang::En, 2, 3), Some([Word::Step2, Word::Of3]));
        assert_eq!(step(Lang::En, 3, 2), None);
    }

    #[test]
    fn every_number_a_screen_can_show_has_words_in_every_language() {
        for lang in Lang::ALL {
            for y in 2000..=2099 {
                for w in year(lang, y).unwrap().iter() {
                    assert!(!w.get(lang).is_empty(), "{y} {w:?} {lang:?}");
                }
            }
            for d in 1..=31 {
                for w in day(lang, d).unwrap().iter() {
                    assert!(!w.get(lang).is_empty(), "{d} {w:?} {lang:?}");
                }
            }
            for m in 1..=12 {
                assert!(!month(m).unwrap().get(lang).is_empty());
            }
            for n in 1..=3 {
                assert!(!tries(lang, n).unwrap().get(lang).is_empty());
                for s in 1..=n {
                    for w in step(lang, s, n).unwrap() {
                        assert!(!w.get(lang).is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn spoken_words_drop_what_a_synthesiser_would_read_aloud() {
        let mut buf = [0u8; SPOKEN_MAX];
        assert_eq!(
            Clip::Text(Text::ConsentCovers).spoken(Lang::Ja, &mut buf),
            "手術、診療・お薬、健診"
        );
        assert_eq!(
            Clip::Text(Text::Reading).spoken(Lang::En, &mut buf),
            "Reading your card. Please do not move it"
        );
        assert_eq!(
            Clip::Text(Text::Reading).spoken(Lang::Ja, &mut buf),
            "読み取っています。カードを動かさないでください"
        );
        assert_eq!(
            Clip::Text(Text::ConsentPurpose).spoken(Lang::Ja, &mut buf),
            "この情報はあなたの診察や、健康管理のために使用します"
        );
        assert_eq!(Clip::Text(Text::TriesBefore).key(Lang::En), None);
        // 「あと」「三回」: the counter is in the number part.
        assert_eq!(Clip::Text(Text::TriesAfter).key(Lang::Ja), None);
        assert!(Clip::Text(Text::TriesAfter).key(Lang::En).is_some());
        assert_eq!(
            Clip::Text(Text::PinTitle).spoken(Lang::Ja, &mut buf),
            "暗証番号、数字4桁を入力してください"
        );
        assert_eq!(
            Clip::Text(Text::FaceCaptureTitle).spoken(Lang::Ja, &mut buf),
            "枠の中にお顔を合わせてください"
        );
        for clip in Clip::all() {
            for lang in Lang::ALL {
                let spoken = clip.spoken(lang, &mut buf);
                if spoken.is_empty() {
                    continue;
                }
                // Nothing was cut for length: every letter is still there.
                let letters = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).count();
                assert_eq!(
                    letters(clip.words(lang)),
                    letters(spoken),
                    "{clip:?} {lang:?}"
                );
                assert!(!spoken.contains(['\n', '【', '】', '(', ')']), "{spoken:?}");
                // No breath group is longer than the voice says well.
                if lang == Lang::Ja {
                    for group in spoken.split(['、', '。']) {
                        assert!(group.chars().count() <= 2 * BREATH_GROUP_MAX, "{spoken:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn keys_differ_between_clips_and_languages() {
        let mut keys: [(u64, Clip, Lang); 512] = [(0, Clip::Word(Word::Or), Lang::Ja); 512];
        let mut n = 0;
        for clip in Clip::all() {
            for lang in Lang::ALL {
                if let Some(key) = clip.key(lang) {
                    keys[n] = (key, clip, lang);
                    n += 1;
                }
            }
        }
        let mut buf = [0u8; SPOKEN_MAX];
        let mut other = [0u8; SPOKEN_MAX];
        for (i, (a, ca, la)) in keys[..n].iter().enumerate() {
            for (b, cb, lb) in &keys[i + 1..n] {
                // Equal keys only for equal words in one language (the
                // face-capture title and its first hint share a clip).
                if a == b {
                    assert_eq!(la, lb);
                    assert_eq!(ca.spoken(*la, &mut buf), cb.spoken(*lb, &mut other));
                }
            }
        }
        assert_ne!(key_of(Lang::Ja, "あ"), key_of(Lang::En, "あ"));
    }
}

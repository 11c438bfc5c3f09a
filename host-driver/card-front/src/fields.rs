//! The three fields of 照合番号B from the lines the recogniser read.
//! Owns the field grammars of spec §3 (「{元号}{NN|元}年{N}月{N}日生」,
//! 「YYYY年{N}月{N}日まで有効」, exactly four digits), the confidence of
//! each field from its characters' probabilities, and the plausibility
//! checks of spec §4, which lower confidence or refuse and never change a
//! digit.

use zeroize::{Zeroize, Zeroizing};

use super::ocr::{Glyph, LineText};
use super::{CardFrontSettings, FieldKind, FrontRead, Refusal, WesternBirthRule};

/// A Japanese era (元号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Era {
    /// 明治.
    Meiji,
    /// 大正.
    Taisho,
    /// 昭和.
    Showa,
    /// 平成.
    Heisei,
    /// 令和.
    Reiwa,
    /// A Western year (foreign residents).
    Western,
}

impl Era {
    /// The era's name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
            Era::Western => "西暦",
        }
    }

    /// First day (Western y, m, d) and last day of the era.
    fn span(self) -> ((u16, u8, u8), (u16, u8, u8)) {
        match self {
            Era::Meiji => ((1868, 10, 23), (1912, 7, 29)),
            Era::Taisho => ((1912, 7, 30), (1926, 12, 24)),
            Era::Showa => ((1926, 12, 25), (1989, 1, 7)),
            Era::Heisei => ((1989, 1, 8), (2019, 4, 30)),
            Era::Reiwa => ((2019, 5, 1), (9999, 12, 31)),
            Era::Western => ((1, 1, 1), (9999, 12, 31)),
        }
    }
}

/// A birth date as printed: era, era year (1 = 元年), month, day.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EraDate {
    /// The era.
    pub era: Era,
    /// Year within the era (1 for 元年), or the Western year.
    pub year: u16,
    /// Month.
    pub month: u8,
    /// Day.
    pub day: u8,
}

impl Zeroize for EraDate {
    fn zeroize(&mut self) {
        self.year.zeroize();
        self.month.zeroize();
        self.day.zeroize();
    }
}

impl EraDate {
    /// The Western year.
    pub fn western_year(&self) -> u16 {
        match self.era {
            Era::Western => self.year,
            era => era.span().0 .0 + self.year - 1,
        }
    }

    /// The two digits 照合番号B takes: the era year (元年 = 1), or for a
    /// Western date the last two digits.
    pub fn yymmdd_year(&self) -> u16 {
        self.year % 100
    }

    /// Whether the date exists and falls within its era.
    pub fn is_real(&self) -> bool {
        if self.year == 0 || !(1..=12).contains(&self.month) || self.day == 0 {
            return false;
        }
        let y = self.western_year();
        let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if self.day > days[self.month as usize - 1] {
            return false;
        }
        let (first, last) = self.era.span();
        let d = (y, self.month, self.day);
        first <= d && d <= last
    }
}

/// A line's characters ready for the grammars: full-width digits as ASCII
/// (spec §1: both are printed), spaces of either width dropped (spec §3:
/// numbers may be padded). Nothing else is mapped: a letter O is not a 0.
fn normalise(line: &LineText) -> LineText {
    LineText(
        line.0
            .iter()
            .filter(|g| !g.c.is_whitespace())
            .map(|g| Glyph {
                c: match g.c {
                    '０'..='９' => {
                        char::from_u32(g.c as u32 - '０' as u32 + '0' as u32).unwrap_or(g.c)
                    }
                    c => c,
                },
                ..*g
            })
            .collect(),
    )
}

/// A cursor over a normalised line, keeping the least probability of the
/// characters taken in each role.
struct Cursor<'a> {
    glyphs: &'a [Glyph],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn literal(&mut self, text: &str, least: &mut f32) -> Option<()> {
        for c in text.chars() {
            let g = self.glyphs.get(self.at)?;
            if g.c != c {
                return None;
            }
            *least = least.min(g.p);
            self.at += 1;
        }
        Some(())
    }

    /// A number of `min..=max` digits, not followed by another digit.
    fn number(&mut self, min: usize, max: usize, least: &mut f32) -> Option<u16> {
        let digits: Vec<&Glyph> = self.glyphs[self.at.min(self.glyphs.len())..]
            .iter()
            .take_while(|g| g.c.is_ascii_digit())
            .collect();
        if digits.len() < min || digits.len() > max {
            return None;
        }
        let mut value = 0u16;
        for g in &digits {
            value = value * 10 + (g.c as u16 - u16::from(b'0'));
            *least = least.min(g.p);
        }
        self.at += digits.len();
        Some(value)
    }
}

/// A field's value with its confidences: of the anchors (era, 年, 月, 日,
/// 生 or まで有効), of the month and day digits (which the birth and
/// expiry lines repeat) and of the other digits.
struct FieldRead<T: Zeroize> {
    value: T,
    anchors: f32,
    month_day: f32,
    rest: f32,
}

impl<T: Zeroize> Drop for FieldRead<T> {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl<T: Zeroize> FieldRead<T> {
    fn confidence(&self) -> f32 {
        self.anchors.min(self.month_day).min(self.rest)
    }
}

const ERAS: [(&str, Era); 5] = [
    ("明治", Era::Meiji),
    ("大正", Era::Taisho),
    ("昭和", Era::Showa),
    ("平成", Era::Heisei),
    ("令和", Era::Reiwa),
];

/// 「{元号}{NN|元}年{N}月{N}日生」, or a Western 「YYYY年{N}月{N}日生」 (foreign
/// residents), anywhere in the line.
fn birth_in(line: &LineText) -> Option<FieldRead<EraDate>> {
    let g = &line.0;
    for start in 0..g.len() {
        let mut c = Cursor {
            glyphs: g,
            at: start,
        };
        let (mut anchors, mut md, mut rest) = (1f32, 1f32, 1f32);
        let era = ERAS.iter().find_map(|(name, era)| {
            let mut a = anchors;
            let mut probe = Cursor {
                glyphs: g,
                at: start,
            };
            probe.literal(name, &mut a).map(|_| (*era, probe.at, a))
        });
        let (era, year) = match era {
            Some((era, at, a)) => {
                anchors = a;
                c.at = at;
                let year = if c.literal("元", &mut anchors).is_some() {
                    1
                } else {
                    c.number(1, 2, &mut rest)?
                };
                (era, year)
            }
            None => {
                // A Western year: four digits that begin the number.
                if start > 0 && g[start - 1].c.is_ascii_digit() {
                    continue;
                }
                match c.number(4, 4, &mut rest) {
                    Some(year) => (Era::Western, year),
                    None => continue,
                }
            }
        };
        let parsed = (|| {
            c.literal("年", &mut anchors)?;
            let month = c.number(1, 2, &mut md)?;
            c.literal("月", &mut anchors)?;
            let day = c.number(1, 2, &mut md)?;
            c.literal("日", &mut anchors)?;
            c.literal("生", &mut anchors)?;
            Some((month, day))
        })();
        if let Some((month, day)) = parsed {
            return Some(FieldRead {
                value: EraDate {
                    era,
                    year,
                    month: u8::try_from(month).ok()?,
                    day: u8::try_from(day).ok()?,
                },
                anchors,
                month_day: md,
                rest,
            });
        }
    }
    None
}

/// Whether the characters after the expiry's 日 are 「まで有効」: at least
/// [`UNTIL_VALID_MATCH`] of its four characters, in order, among the next
/// four read. The ending only tells the expiry line from a certificate date
/// (which has nothing after its 日, or another date) and carries no digit,
/// so a blurred 効 read as 幼 need not refuse the card; the digits' own
/// probabilities set the field's confidence.
fn until_valid(rest: &[Glyph]) -> Option<()> {
    let want: Vec<char> = "まで有効".chars().collect();
    let got: Vec<char> = rest.iter().take(want.len()).map(|g| g.c).collect();
    // Longest common subsequence of two 4-character strings.
    let mut t = [[0usize; 5]; 5];
    for i in 0..got.len() {
        for j in 0..want.len() {
            t[i + 1][j + 1] = if got[i] == want[j] {
                t[i][j] + 1
            } else {
                t[i][j + 1].max(t[i + 1][j])
            };
        }
    }
    (t[got.len()][want.len()] >= UNTIL_VALID_MATCH).then_some(())
}

/// Characters of 「まで有効」 that must be read (see [`until_valid`]).
const UNTIL_VALID_MATCH: usize = 2;

/// 「YYYY年{N}月{N}日まで有効」 anywhere in the line.
fn expiry_in(line: &LineText) -> Option<FieldRead<(u16, u8, u8)>> {
    let g = &line.0;
    for start in 0..g.len() {
        if start > 0 && g[start - 1].c.is_ascii_digit() {
            continue;
        }
        let mut c = Cursor {
            glyphs: g,
            at: start,
        };
        let (mut anchors, mut md, mut rest) = (1f32, 1f32, 1f32);
        let parsed = (|| {
            let year = c.number(4, 4, &mut rest)?;
            c.literal("年", &mut anchors)?;
            let month = c.number(1, 2, &mut md)?;
            c.literal("月", &mut anchors)?;
            let day = c.number(1, 2, &mut md)?;
            c.literal("日", &mut anchors)?;
            until_valid(&g[c.at..])?;
            Some((year, u8::try_from(month).ok()?, u8::try_from(day).ok()?))
        })();
        if let Some(value) = parsed {
            return Some(FieldRead {
                value,
                anchors,
                month_day: md,
                rest,
            });
        }
    }
    None
}

/// A line that is exactly four digits.
fn code_in(line: &LineText) -> Option<FieldRead<[u8; 4]>> {
    let g = &line.0;
    if g.len() != 4 || !g.iter().all(|g| g.c.is_ascii_digit()) {
        return None;
    }
    let mut value = [0u8; 4];
    let mut least = 1f32;
    for (v, g) in value.iter_mut().zip(g) {
        *v = g.c as u8;
        least = least.min(g.p);
    }
    Some(FieldRead {
        value,
        anchors: 1.0,
        month_day: 1.0,
        rest: least,
    })
}

/// Whether a line's text so far holds a whole birth or expiry line (the
/// rest of its row need not be read).
pub(super) fn holds_a_date(line: &LineText) -> bool {
    let line = normalise(line);
    birth_in(&line).is_some() || expiry_in(&line).is_some()
}

/// The one reading of a field over all lines: lines that read alike are
/// one, as sure as the less sure of them (two looks at one crop make
/// correlated errors: a 5 read as 6 by both at 0.81 and 0.97 must not count
/// at 0.97); two that disagree leave the field not found.
fn only<T: PartialEq + Zeroize>(
    lines: &[LineText],
    parse: impl Fn(&LineText) -> Option<FieldRead<T>>,
) -> Result<Option<FieldRead<T>>, ()> {
    let mut found: Option<FieldRead<T>> = None;
    for line in lines {
        let Some(read) = parse(&normalise(line)) else {
            continue;
        };
        found = match found {
            None => Some(read),
            Some(seen) if seen.value == read.value => {
                Some(if read.confidence() < seen.confidence() {
                    read
                } else {
                    seen
                })
            }
            Some(_) => return Err(()),
        };
    }
    Ok(found)
}

/// Confidence of a value read twice, on two lines (the month and day of
/// the birth and of the expiry): both reads would have to be wrong in the
/// same way. One card, one camera: the errors are correlated, so the
/// second read counts for half of an independent one.
fn agreeing(a: f32, b: f32) -> f32 {
    let (hi, lo) = (a.max(b), a.min(b));
    (hi + (1.0 - hi) * lo * 0.5).min(1.0)
}

/// The three fields from the lines of the date region and of the code
/// region, checked (spec §4) and released only above the settings'
/// confidence.
pub(super) fn read_fields(
    settings: &CardFrontSettings,
    date_lines: &[LineText],
    code_lines: &[LineText],
    upside_down: bool,
) -> Result<FrontRead, Refusal> {
    let missing = Refusal::FieldMissing;
    let birth = only(date_lines, birth_in)
        .ok()
        .flatten()
        .ok_or(missing(FieldKind::Birth))?;
    let expiry = only(date_lines, expiry_in)
        .ok()
        .flatten()
        .ok_or(missing(FieldKind::Expiry))?;
    let code = only(code_lines, code_in)
        .ok()
        .flatten()
        .ok_or(missing(FieldKind::SecurityCode))?;
    let b = birth.value;
    let e = expiry.value;
    if b.era == Era::Western && settings.western_birth == WesternBirthRule::Refuse {
        return Err(Refusal::WesternBirth);
    }
    if !b.is_real() {
        return Err(Refusal::Implausible(FieldKind::Birth));
    }
    let expiry_date = EraDate {
        era: Era::Western,
        year: e.0,
        month: e.1,
        day: e.2,
    };
    let (lo, hi) = settings.expiry_years;
    if !expiry_date.is_real() || e.0 < lo || e.0 > hi {
        return Err(Refusal::Implausible(FieldKind::Expiry));
    }
    if b.western_year() >= e.0 {
        return Err(Refusal::Implausible(FieldKind::Birth));
    }
    let (mut cb, mut ce) = (birth.confidence(), expiry.confidence());
    if settings.expiry_matches_birth && b.era != Era::Western {
        if (b.month, b.day) == (e.1, e.2) {
            // Month and day read alike on both lines.
            let md = agreeing(birth.month_day, expiry.month_day);
            cb = birth.anchors.min(birth.rest).min(md);
            ce = expiry.anchors.min(expiry.rest).min(md);
        } else {
            // A misread month or day on one of the two: trust neither.
            cb = cb.min(0.1);
            ce = ce.min(0.1);
        }
    }
    let read = FrontRead {
        birth: b,
        expiry: e,
        code: Zeroizing::new(code.value),
        confidence: [cb, ce, code.confidence()],
        upside_down,
    };
    let kinds = [FieldKind::Birth, FieldKind::Expiry, FieldKind::SecurityCode];
    let least = [
        settings.min_confidence,
        settings.min_confidence,
        settings.min_code_confidence,
    ];
    for ((kind, c), min) in kinds.into_iter().zip(read.confidence).zip(least) {
        if c < min {
            return Err(Refusal::LowConfidence(kind, c));
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(era: Era, year: u16, month: u8, day: u8) -> EraDate {
        EraDate {
            era,
            year,
            month,
            day,
        }
    }

    /// A line as the recogniser would give it, every character at `p`
    /// except those listed in `unsure`.
    fn line(text: &str, p: f32, unsure: &[(usize, f32)]) -> LineText {
        LineText(
            text.chars()
                .enumerate()
                .map(|(i, c)| Glyph {
                    c,
                    p: unsure
                        .iter()
                        .find(|(at, _)| *at == i)
                        .map_or(p, |(_, q)| *q),
                    steps: (i as u16 * 3, i as u16 * 3 + 1),
                })
                .collect(),
        )
    }

    fn read(dates: &[&str], code: &[&str]) -> Result<FrontRead, Refusal> {
        let dates: Vec<LineText> = dates.iter().map(|t| line(t, 0.99, &[])).collect();
        let code: Vec<LineText> = code.iter().map(|t| line(t, 0.99, &[])).collect();
        read_fields(&CardFrontSettings::default(), &dates, &code, false)
    }

    fn b(read: &FrontRead) -> String {
        String::from_utf8(read.collation_b_bytes().to_vec()).unwrap_or_default()
    }

    #[test]
    fn the_printed_forms_give_collation_b() {
        let r = read(
            &["昭和55年 2月17日生 性別 女", "2035年 2月17日まで有効"],
            &["2285"],
        );
        assert_eq!(r.map(|r| b(&r)).ok().as_deref(), Some("55021720352285"));
        // 元年, full-width digits and spaces, a look-alike line around.
        let r = read(
            &[
                "令和５年４月１日転居",
                "平成元年　３月３１日生",
                "２０２５年　３月３１日まで有効",
                "2025年3月31日",
            ],
            &["0123456789ABCDEF", "０４０７"],
        );
        assert_eq!(r.map(|r| b(&r)).ok().as_deref(), Some("01033120250407"));
        // まで有効 with its 効 misread: still the expiry line.
        let r = read(
            &["昭和55年2月17日生", "2035年2月17日まで有幼横浜市長"],
            &["2285"],
        );
        assert_eq!(r.map(|r| b(&r)).ok().as_deref(), Some("55021720352285"));
    }

    #[test]
    fn look_alikes_are_not_the_fields() {
        // No 生: the 追記欄's change date; no まで有効: a certificate date.
        assert!(matches!(
            read(&["令和5年4月1日転居", "2035年2月17日まで有効"], &["2285"]),
            Err(Refusal::FieldMissing(FieldKind::Birth))
        ));
        assert!(matches!(
            read(&["昭和55年2月17日生", "2035年2月17日"], &["2285"]),
            Err(Refusal::FieldMissing(FieldKind::Expiry))
        ));
        // The serial and five digits are not the code.
        assert!(matches!(
            read(
                &["昭和55年2月17日生", "2035年2月17日まで有効"],
                &["0123456789ABCDEF", "12345"]
            ),
            Err(Refusal::FieldMissing(FieldKind::SecurityCode))
        ));
        // A letter O is not read as a zero.
        assert!(matches!(
            read(&["昭和55年2月17日生", "2035年2月17日まで有効"], &["2O85"]),
            Err(Refusal::FieldMissing(FieldKind::SecurityCode))
        ));
        // Two codes that disagree: neither.
        assert!(matches!(
            read(
                &["昭和55年2月17日生", "2035年2月17日まで有効"],
                &["2285", "2286"]
            ),
            Err(Refusal::FieldMissing(FieldKind::SecurityCode))
        ));
        // An ending with one character of まで有効 is not the ending.
        assert!(matches!(
            read(&["昭和55年2月17日生", "2035年2月17日2有幼"], &["2285"]),
            Err(Refusal::FieldMissing(FieldKind::Expiry))
        ));
        // A five-digit year is no expiry year.
        assert!(read(&["昭和55年2月17日生", "12035年2月17日まで有効"], &["2285"]).is_err());
    }

    #[test]
    fn plausibility_refuses_and_never_mends() {
        // 昭和65年 does not exist.
        assert!(matches!(
            read(&["昭和65年2月17日生", "2035年2月17日まで有効"], &["2285"]),
            Err(Refusal::Implausible(FieldKind::Birth))
        ));
        // Expiry out of 2016–2040.
        assert!(matches!(
            read(&["昭和55年2月17日生", "2045年2月17日まで有効"], &["2285"]),
            Err(Refusal::Implausible(FieldKind::Expiry))
        ));
        // Month and day differ between the lines: neither trusted.
        assert!(matches!(
            read(&["昭和55年2月17日生", "2035年2月18日まで有効"], &["2285"]),
            Err(Refusal::LowConfidence(..))
        ));
        // A Western birth date: refused by default (rule unconfirmed).
        assert!(matches!(
            read(&["1985年2月17日生", "2035年2月17日まで有効"], &["2285"]),
            Err(Refusal::WesternBirth)
        ));
    }

    #[test]
    fn an_unsure_character_refuses_the_read() {
        let settings = CardFrontSettings::default();
        let dates = [
            line("昭和55年2月17日生", 0.99, &[]),
            line("2035年2月17日まで有効", 0.99, &[]),
        ];
        // The code's third digit at 0.3.
        let code = [line("2285", 0.99, &[(2, 0.3)])];
        assert!(matches!(
            read_fields(&settings, &dates, &code, false),
            Err(Refusal::LowConfidence(FieldKind::SecurityCode, _))
        ));
        // The birth year's digit unsure: the month/day agreement does not
        // lend it confidence.
        let dates = [
            line("昭和55年2月17日生", 0.99, &[(3, 0.2)]),
            line("2035年2月17日まで有効", 0.99, &[]),
        ];
        let code = [line("2285", 0.99, &[])];
        assert!(matches!(
            read_fields(&settings, &dates, &code, false),
            Err(Refusal::LowConfidence(FieldKind::Birth, _))
        ));
        // A month digit unsure on one line, sure on the other: agreement.
        let dates = [
            line("昭和55年2月17日生", 0.99, &[(5, 0.5)]),
            line("2035年2月17日まで有効", 0.99, &[]),
        ];
        let r = read_fields(&settings, &dates, &code, false);
        assert!(r.is_ok_and(|r| r.confidence() > 0.9));
    }

    #[test]
    fn era_edges() {
        assert!(d(Era::Showa, 64, 1, 7).is_real());
        assert!(!d(Era::Showa, 64, 1, 8).is_real());
        assert!(d(Era::Heisei, 1, 1, 8).is_real());
        assert!(!d(Era::Heisei, 1, 1, 7).is_real());
        assert!(d(Era::Heisei, 31, 4, 30).is_real());
        assert!(!d(Era::Heisei, 31, 5, 1).is_real());
        assert!(d(Era::Reiwa, 1, 5, 1).is_real());
        assert!(!d(Era::Reiwa, 1, 4, 30).is_real());
        assert!(d(Era::Taisho, 15, 12, 24).is_real());
        assert!(!d(Era::Taisho, 15, 12, 25).is_real());
        assert!(d(Era::Showa, 1, 12, 25).is_real());
        assert!(!d(Era::Heisei, 3, 2, 29).is_real());
        assert!(d(Era::Heisei, 4, 2, 29).is_real());
        assert_eq!(d(Era::Heisei, 1, 3, 31).yymmdd_year(), 1);
        assert_eq!(d(Era::Showa, 64, 1, 7).western_year(), 1989);
        assert_eq!(d(Era::Reiwa, 1, 5, 1).western_year(), 2019);
    }
}

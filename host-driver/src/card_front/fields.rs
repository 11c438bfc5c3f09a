//! Reading the three fields from rectified bands. Owns the ink map (local
//! background normalisation, so glare and dim light look alike), the text
//! lines of a band, the over-segmentation + classification of a line, the
//! field grammars (「…年…月…日生」, 「YYYY年…まで有効」, 4 digits) and the
//! plausibility checks of spec §4 (which lower confidence or refuse, never
//! change a digit).

use zeroize::Zeroizing;

use super::geom::Band;
use super::glyph::{features, GlyphModel, Guess, Ink};
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

    fn from_name(a: char, b: char) -> Option<Era> {
        Some(match (a, b) {
            ('明', '治') => Era::Meiji,
            ('大', '正') => Era::Taisho,
            ('昭', '和') => Era::Showa,
            ('平', '成') => Era::Heisei,
            ('令', '和') => Era::Reiwa,
            _ => return None,
        })
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

/// One text line's recognised characters.
struct LineRead {
    chars: Vec<Guess>,
}

/// Ink coverage of a band: darkness against the local paper level (a
/// running maximum), so a glare band or dim light changes little.
fn ink_map(b: &Band) -> Zeroizing<Vec<f32>> {
    let (w, h) = (b.w, b.h);
    let r = 14usize;
    // Separable running max (paper is the brightest thing near text).
    let mut tmp = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let lo = x.saturating_sub(r);
            let hi = (x + r).min(w - 1);
            tmp[y * w + x] = b.px[y * w + lo..=y * w + hi]
                .iter()
                .copied()
                .fold(0.0, f32::max);
        }
    }
    let mut bg = vec![0f32; w * h];
    for y in 0..h {
        let lo = y.saturating_sub(r);
        let hi = (y + r).min(h - 1);
        for x in 0..w {
            let mut m = 0f32;
            for yy in lo..=hi {
                m = m.max(tmp[yy * w + x]);
            }
            bg[y * w + x] = m;
        }
    }
    let mut ink: Zeroizing<Vec<f32>> = Zeroizing::new(
        (0..w * h)
            .map(|i| {
                let paper = bg[i].max(8.0);
                (paper - b.px[i]) / paper
            })
            .collect(),
    );
    // Blur lowers the darkest contrast of thin strokes: scale by the band's
    // own strongest contrast (its 99th percentile), so blurred text keeps
    // its strokes; guilloche stays far below.
    let mut sorted = Zeroizing::new(ink.to_vec());
    sorted.sort_by(f32::total_cmp);
    let strongest = sorted
        .get(sorted.len() * 99 / 100)
        .copied()
        .unwrap_or(0.0)
        .clamp(0.3, 0.85);
    for v in ink.iter_mut() {
        *v = (*v / strongest * 1.25 - 0.25).clamp(0.0, 1.0);
    }
    ink
}

/// Text lines of a band: runs of rows with ink, of a text-like height.
/// Rows count as inked above a share of the busiest row, so noise specks do
/// not join two lines; a run too tall for one line is split at its emptiest
/// row.
fn lines(ink: &[f32], w: usize, h: usize) -> Vec<(usize, usize)> {
    let rows: Vec<usize> = (0..h)
        .map(|y| ink[y * w..(y + 1) * w].iter().filter(|&&v| v > 0.5).count())
        .collect();
    let peak = rows.iter().copied().max().unwrap_or(0);
    let floor = (peak / 25).max(2);
    let mut runs = Vec::new();
    let mut y = 0;
    while y < h {
        if rows[y] < floor {
            y += 1;
            continue;
        }
        let start = y;
        while y < h && rows[y] >= floor {
            y += 1;
        }
        runs.push((start, y));
    }
    let mut out = Vec::new();
    while let Some((a, b)) = runs.pop() {
        let height = b - a;
        if height > 44 {
            // Split at the emptiest row away from the ends.
            let lo = a + 12;
            let hi = b - 12;
            if let Some(cut) = (lo..hi).min_by_key(|&y| rows[y]) {
                runs.push((a, cut));
                runs.push((cut + 1, b));
                continue;
            }
        }
        if (20..=44).contains(&height) {
            out.push((a, b));
        }
    }
    out.sort_unstable();
    out
}

/// Segments and classifies a line: ink columns give atoms; a dynamic
/// programme groups 1–3 adjacent atoms into characters (kanji such as 明 or
/// 和 fall apart into pieces) at the least total classifier distance.
fn read_line(model: &GlyphModel, ink: &[f32], w: usize, (y0, y1): (usize, usize)) -> LineRead {
    let lh = (y1 - y0) as f32;
    let y0 = y0.saturating_sub(1);
    let col_ink: Vec<bool> = (0..w)
        .map(|x| (y0..y1).any(|y| ink[y * w + x] > 0.5))
        .collect();
    let mut atoms: Vec<(usize, usize)> = Vec::new();
    let mut x = 0;
    while x < w {
        if !col_ink[x] {
            x += 1;
            continue;
        }
        let s = x;
        while x < w && col_ink[x] {
            x += 1;
        }
        atoms.push((s, x));
    }
    // Glyphs that touch (blur, motion) form one wide atom: cut it at its
    // faintest column; the programme below can join wrong cuts back.
    let col_sum: Vec<f32> = (0..w)
        .map(|x| (y0..y1).map(|y| ink[y * w + x]).sum())
        .collect();
    let mut i = 0;
    while i < atoms.len() {
        let (a, b) = atoms[i];
        if (b - a) as f32 > lh * 0.8 {
            let lo = a + (b - a) * 3 / 10;
            let hi = a + (b - a) * 7 / 10;
            if let Some(cut) = (lo..hi).min_by(|&p, &q| col_sum[p].total_cmp(&col_sum[q])) {
                atoms[i] = (a, cut);
                atoms.insert(i + 1, (cut, b));
                continue;
            }
        }
        i += 1;
    }
    let n = atoms.len();
    let glyph = |a: usize, b: usize| -> Option<Guess> {
        let (gx0, gx1) = (atoms[a].0, atoms[b].1);
        let gw = gx1 - gx0;
        let gh = y1 - y0;
        let mut px = Zeroizing::new(vec![0f32; gw * gh]);
        for yy in 0..gh {
            px[yy * gw..(yy + 1) * gw]
                .copy_from_slice(&ink[(y0 + yy) * w + gx0..(y0 + yy) * w + gx1]);
        }
        let f = features(
            &Ink {
                w: gw,
                h: gh,
                px: &px,
            },
            lh,
        )?;
        model.classify(&f)
    };
    // cost[i] = best cost of atoms[..i].
    let mut cost = vec![f32::INFINITY; n + 1];
    let mut back: Vec<Option<(usize, Guess)>> = vec![None; n + 1];
    cost[0] = 0.0;
    for end in 1..=n {
        for len in 1..=3.min(end) {
            let start = end - len;
            let width = (atoms[end - 1].1 - atoms[start].0) as f32;
            if len > 1 && width > lh * 1.3 {
                continue;
            }
            if !cost[start].is_finite() {
                continue;
            }
            // Tiny specks alone are noise: skip them at a fixed price.
            let ink_cols = atoms[end - 1].1 - atoms[start].0;
            if let Some(g) = glyph(start, end - 1) {
                let c = cost[start] + g.dist + 0.05;
                if c < cost[end] {
                    cost[end] = c;
                    back[end] = Some((start, g));
                }
            } else if ink_cols <= 2 {
                let c = cost[start] + 0.3;
                if c < cost[end] {
                    cost[end] = c;
                    back[end] = None;
                }
            }
        }
    }
    let mut chars = Vec::new();
    let mut end = n;
    while end > 0 {
        match back[end] {
            Some((start, g)) => {
                chars.push(g);
                end = start;
            }
            None => end -= 1,
        }
    }
    chars.reverse();
    LineRead { chars }
}

fn digit(g: &Guess) -> Option<u16> {
    g.class.to_digit(10).map(|d| d as u16)
}

/// Reads a run of 1..=max digits ending just before `end`; returns
/// (value, start index, min confidence).
fn number_before(chars: &[Guess], end: usize, max: usize) -> Option<(u16, usize, f32)> {
    let mut start = end;
    while start > 0 && end - start < max && digit(&chars[start - 1]).is_some() {
        start -= 1;
    }
    if start == end {
        return None;
    }
    let mut v = 0u16;
    let mut conf = 1f32;
    for g in &chars[start..end] {
        v = v * 10 + digit(g)?;
        conf = conf.min(g.confidence());
    }
    Some((v, start, conf))
}

/// 「{era}{year|元}年{m}月{d}日生」 ending at the last 生 of a line.
fn parse_birth(chars: &[Guess]) -> Option<(EraDate, f32)> {
    let sei = chars.iter().rposition(|g| g.class == '生')?;
    let mut conf = chars[sei].confidence();
    let at = |i: usize, c: char| chars.get(i).is_some_and(|g| g.class == c);
    let nichi = sei.checked_sub(1)?;
    if !at(nichi, '日') {
        return None;
    }
    let (day, s, c) = number_before(chars, nichi, 2)?;
    conf = conf.min(c).min(chars[nichi].confidence());
    let tsuki = s.checked_sub(1)?;
    if !at(tsuki, '月') {
        return None;
    }
    let (month, s, c) = number_before(chars, tsuki, 2)?;
    conf = conf.min(c).min(chars[tsuki].confidence());
    let nen = s.checked_sub(1)?;
    if !at(nen, '年') {
        return None;
    }
    conf = conf.min(chars[nen].confidence());
    let (year, s) = if nen >= 1 && at(nen - 1, '元') {
        conf = conf.min(chars[nen - 1].confidence());
        (1, nen - 1)
    } else {
        let (y, s, c) = number_before(chars, nen, 4)?;
        conf = conf.min(c);
        (y, s)
    };
    let era = if s >= 2 {
        Era::from_name(chars[s - 2].class, chars[s - 1].class)
    } else {
        None
    };
    let era = match era {
        Some(era) => {
            conf = conf
                .min(chars[s - 2].confidence())
                .min(chars[s - 1].confidence());
            if year > 99 {
                return None;
            }
            era
        }
        None if year >= 1000 => Era::Western,
        None => return None,
    };
    Some((
        EraDate {
            era,
            year,
            month: month as u8,
            day: day as u8,
        },
        conf,
    ))
}

/// 「YYYY年{m}月{d}日まで有効」.
fn parse_expiry(chars: &[Guess]) -> Option<((u16, u8, u8), f32)> {
    let yu = chars.windows(4).rposition(|w| {
        w[0].class == 'ま' && w[1].class == 'で' && w[2].class == '有' && w[3].class == '効'
    })?;
    let mut conf = chars[yu..yu + 4]
        .iter()
        .map(Guess::confidence)
        .fold(1.0, f32::min);
    let at = |i: usize, c: char| chars.get(i).is_some_and(|g| g.class == c);
    let nichi = yu.checked_sub(1)?;
    if !at(nichi, '日') {
        return None;
    }
    let (day, s, c) = number_before(chars, nichi, 2)?;
    conf = conf.min(c);
    let tsuki = s.checked_sub(1)?;
    if !at(tsuki, '月') {
        return None;
    }
    let (month, s, c) = number_before(chars, tsuki, 2)?;
    conf = conf.min(c);
    let nen = s.checked_sub(1)?;
    if !at(nen, '年') {
        return None;
    }
    let (year, s, c) = number_before(chars, nen, 4)?;
    if nen - s != 4 {
        return None;
    }
    conf = conf
        .min(c)
        .min(chars[nen].confidence())
        .min(chars[tsuki].confidence())
        .min(chars[nichi].confidence());
    Some(((year, month as u8, day as u8), conf))
}

/// Exactly four digits alone on their line.
fn parse_code(chars: &[Guess]) -> Option<([u8; 4], f32)> {
    if chars.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    let mut conf = 1f32;
    for (o, g) in out.iter_mut().zip(chars) {
        *o = b'0' + digit(g)? as u8;
        conf = conf.min(g.confidence());
    }
    Some((out, conf))
}

/// Reads every line of a band and keeps the one parse; several different
/// parses (a look-alike matched too) count as not found.
fn find<T: PartialEq>(
    model: &GlyphModel,
    band: &Band,
    parse: impl Fn(&[Guess]) -> Option<(T, f32)>,
) -> Option<(T, f32)> {
    let ink = ink_map(band);
    let mut found: Option<(T, f32)> = None;
    for line in lines(&ink, band.w, band.h) {
        let read = read_line(model, ink.as_slice(), band.w, line);
        #[cfg(test)]
        if std::env::var_os("CARDFRONT_DEBUG").is_some() {
            let text: String = read.chars.iter().map(|g| g.class).collect();
            let conf: Vec<String> = read
                .chars
                .iter()
                .map(|g| format!("{:.2}", g.confidence()))
                .collect();
            eprintln!("line {line:?}: {text} {}", conf.join(" "));
        }
        if let Some((v, c)) = parse(&read.chars) {
            match &found {
                Some((prev, _)) if *prev != v => return None,
                Some((_, pc)) if *pc >= c => {}
                _ => found = Some((v, c)),
            }
        }
    }
    found
}

/// Reads and checks the three fields.
pub(super) fn read_fields(
    model: &GlyphModel,
    settings: &CardFrontSettings,
    bands: &[Band; 3],
    upside_down: bool,
) -> Result<FrontRead, Refusal> {
    let (birth, mut cb) =
        find(model, &bands[0], parse_birth).ok_or(Refusal::FieldMissing(FieldKind::Birth))?;
    let (expiry, mut ce) =
        find(model, &bands[1], parse_expiry).ok_or(Refusal::FieldMissing(FieldKind::Expiry))?;
    let (code, cc) =
        find(model, &bands[2], parse_code).ok_or(Refusal::FieldMissing(FieldKind::SecurityCode))?;
    let code = Zeroizing::new(code);
    if birth.era == Era::Western && settings.western_birth == WesternBirthRule::Refuse {
        return Err(Refusal::WesternBirth);
    }
    if !birth.is_real() {
        return Err(Refusal::Implausible(FieldKind::Birth));
    }
    let expiry_date = EraDate {
        era: Era::Western,
        year: expiry.0,
        month: expiry.1,
        day: expiry.2,
    };
    let (lo, hi) = settings.expiry_years;
    if !expiry_date.is_real() || expiry.0 < lo || expiry.0 > hi {
        return Err(Refusal::Implausible(FieldKind::Expiry));
    }
    if birth.western_year() >= expiry.0 {
        return Err(Refusal::Implausible(FieldKind::Birth));
    }
    if settings.expiry_matches_birth
        && birth.era != Era::Western
        && (birth.month, birth.day) != (expiry.1, expiry.2)
    {
        // A misread month or day on one of the two: trust neither.
        cb = cb.min(0.1);
        ce = ce.min(0.1);
    }
    let read = FrontRead {
        birth,
        expiry,
        code,
        confidence: [cb, ce, cc],
        upside_down,
    };
    if read.confidence() < settings.min_confidence {
        return Err(Refusal::LowConfidence(read.confidence()));
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

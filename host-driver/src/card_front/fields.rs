//! Reading the three fields from rectified bands. Owns the ink map (local
//! background normalisation, so glare and dim light look alike), the text
//! lines of a band, the over-segmentation + classification of a line, the
//! field grammars (「…年…月…日生」, 「YYYY年…まで有効」, 4 digits) and the
//! plausibility checks of spec §4 (which lower confidence or refuse, never
//! change a digit).

use zeroize::{Zeroize, Zeroizing};

use super::geom::Band;
use super::glyph::{class_index, features, GlyphModel, Guess, Ink, Scores};
use super::render;
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

/// Ink coverage of a band: darkness against the local paper level (a
/// running maximum), so a glare band or dim light changes little.
fn ink_map(b: &Band) -> Zeroizing<Vec<f32>> {
    let (w, h) = (b.w, b.h);
    // Paper is the brightest thing near text.
    let bg = running_max(&b.px, w, h, 14);
    let mut ink: Zeroizing<Vec<f32>> = Zeroizing::new(
        (0..w * h)
            .map(|i| {
                let paper = bg[i].max(8.0);
                (paper - b.px[i]) / paper
            })
            .collect(),
    );
    // Blur lowers the darkest contrast of thin strokes, and a glare band
    // (added light, clipped white) lowers it along a stretch of a line:
    // scale by the strongest contrast nearby — no more than the band's
    // own (its 99th percentile), no less than guilloche ever reaches — so
    // washed-out text keeps its strokes.
    let mut sorted = Zeroizing::new(ink.to_vec());
    sorted.sort_by(f32::total_cmp);
    let strongest = sorted
        .get(sorted.len() * 99 / 100)
        .copied()
        .unwrap_or(0.0)
        .clamp(0.3, 0.85);
    let near = running_max(&ink, w, h, 28);
    for (v, n) in ink.iter_mut().zip(near.iter()) {
        let s = n.clamp(0.3, strongest);
        *v = (*v / s * 1.25 - 0.25).clamp(0.0, 1.0);
    }
    ink
}

/// Separable running maximum over a (2r+1)² window (wiped: it is a picture
/// of the card).
fn running_max(px: &[f32], w: usize, h: usize, r: usize) -> Zeroizing<Vec<f32>> {
    let mut window = WindowMax::default();
    let mut tmp = Zeroizing::new(vec![0f32; w * h]);
    for y in 0..h {
        tmp[y * w..(y + 1) * w].copy_from_slice(window.run(&px[y * w..(y + 1) * w], r));
    }
    let mut out = Zeroizing::new(vec![0f32; w * h]);
    let mut column = Zeroizing::new(vec![0f32; h]);
    for x in 0..w {
        for (y, c) in column.iter_mut().enumerate() {
            *c = tmp[y * w + x];
        }
        for (y, v) in window.run(&column, r).iter().enumerate() {
            out[y * w + x] = *v;
        }
    }
    out
}

/// The maximum of a row or column over `[i − r, i + r]` (clipped) for
/// every `i`, from the maxima of blocks of `r + 1` samples taken forwards
/// and backwards (van Herk, Gil and Werman): three comparisons a sample
/// whatever `r`, where the plain window took `2r + 1`. Maxima are exact,
/// so the result is the same. Its buffers serve every row and column of a
/// band (wiped on drop: they are pieces of the card's picture).
#[derive(Default)]
struct WindowMax {
    /// Within each block, the running maximum from the block's start.
    ahead: Zeroizing<Vec<f32>>,
    /// Within each block, the running maximum from the block's end.
    behind: Zeroizing<Vec<f32>>,
    out: Zeroizing<Vec<f32>>,
}

impl WindowMax {
    fn run(&mut self, v: &[f32], r: usize) -> &[f32] {
        let n = v.len();
        let (ahead, behind, out) = (&mut self.ahead, &mut self.behind, &mut self.out);
        ahead.clear();
        ahead.resize(n, 0.0);
        behind.clear();
        behind.resize(n, 0.0);
        out.clear();
        let block = r + 1;
        for (start, chunk) in (0..n).step_by(block).zip(v.chunks(block)) {
            let mut m = 0f32;
            for (i, &x) in chunk.iter().enumerate() {
                m = m.max(x);
                ahead[start + i] = m;
            }
            let mut m = 0f32;
            for (i, &x) in chunk.iter().enumerate().rev() {
                m = m.max(x);
                behind[start + i] = m;
            }
        }
        // [i − r, i] spans at most two blocks: the later one's maximum up
        // to i, the earlier one's from i − r; the same for [i, i + r].
        for i in 0..n {
            let left = match i.checked_sub(r) {
                Some(lo) => behind[lo].max(ahead[i]),
                None => ahead[i],
            };
            let hi = (i + r).min(n - 1);
            let right = behind[i].max(ahead[hi]);
            out.push(left.max(right));
        }
        out
    }
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

/// What a grammar slot contributes to its field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// First character of an era name.
    Era(Era),
    /// The era name's second character, and the fixed words (年, 月, 日,
    /// 生, まで有効): anchors that say this line is the field.
    Anchor,
    /// 元 (year 1).
    Gannen,
    /// A digit of the year.
    Year,
    /// A digit of the month.
    Month,
    /// A digit of the day.
    Day,
    /// A digit of the security code.
    Code,
}

/// One slot of a field's grammar: the classes it allows and the slots that
/// may follow.
struct Node {
    allowed: Vec<u8>,
    next: Vec<usize>,
    accept: bool,
    role: Role,
}

/// A field's grammar as a small automaton over glyphs: the printed forms
/// are fixed (spec §3), so each glyph is classified only among the classes
/// its position allows, and the segmentation must spell a whole field.
pub(super) struct Grammar {
    nodes: Vec<Node>,
    starts: Vec<usize>,
    /// Whether other glyphs may precede or follow the field on its line
    /// (a neighbour entering the search band); never for the code, whose
    /// line holds exactly four digits.
    junk: bool,
}

fn class(c: char) -> u8 {
    // Every character used below is in CLASSES; an unknown one would only
    // make its slot unmatchable.
    class_index(c).unwrap_or(u8::MAX)
}

const DIGITS: [u8; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

impl Grammar {
    fn node(&mut self, allowed: &[u8], role: Role, next: &[usize]) -> usize {
        self.nodes.push(Node {
            allowed: allowed.to_vec(),
            next: next.to_vec(),
            accept: false,
            role,
        });
        self.nodes.len() - 1
    }

    /// 「{era}{NN|元}年{N|NN}月{N|NN}日生」, or a Western 「YYYY年…日生」.
    pub(super) fn birth() -> Grammar {
        let mut g = Grammar {
            nodes: Vec::new(),
            starts: Vec::new(),
            junk: true,
        };
        // Built back to front so every `next` exists.
        let sei = g.node(&[class('生')], Role::Anchor, &[]);
        g.nodes[sei].accept = true;
        let nichi = g.node(&[class('日')], Role::Anchor, &[sei]);
        let d2 = g.node(&DIGITS, Role::Day, &[nichi]);
        let d1 = g.node(&DIGITS, Role::Day, &[d2, nichi]);
        let tsuki = g.node(&[class('月')], Role::Anchor, &[d1]);
        let m2 = g.node(&DIGITS, Role::Month, &[tsuki]);
        let m1 = g.node(&DIGITS, Role::Month, &[m2, tsuki]);
        let nen = g.node(&[class('年')], Role::Anchor, &[m1]);
        let y2 = g.node(&DIGITS, Role::Year, &[nen]);
        let y1 = g.node(&DIGITS, Role::Year, &[y2, nen]);
        let gannen = g.node(&[class('元')], Role::Gannen, &[nen]);
        for (a, b, era) in [
            ('大', '正', Era::Taisho),
            ('昭', '和', Era::Showa),
            ('平', '成', Era::Heisei),
            ('令', '和', Era::Reiwa),
            ('明', '治', Era::Meiji),
        ] {
            let tail = g.node(&[class(b)], Role::Anchor, &[y1, gannen]);
            let head = g.node(&[class(a)], Role::Era(era), &[tail]);
            g.starts.push(head);
        }
        let w4 = g.node(&DIGITS, Role::Year, &[nen]);
        let w3 = g.node(&DIGITS, Role::Year, &[w4]);
        let w2 = g.node(&DIGITS, Role::Year, &[w3]);
        let w1 = g.node(&DIGITS, Role::Year, &[w2]);
        g.starts.push(w1);
        g
    }

    /// 「YYYY年{N|NN}月{N|NN}日まで有効」, each year digit among those the
    /// possible expiry years have at its place.
    pub(super) fn expiry(years: (u16, u16)) -> Grammar {
        let mut g = Grammar {
            nodes: Vec::new(),
            starts: Vec::new(),
            junk: true,
        };
        let mut next = Vec::new();
        for c in ['効', '有', 'で', 'ま'] {
            let n = g.node(&[class(c)], Role::Anchor, &next);
            if c == '効' {
                g.nodes[n].accept = true;
            }
            next = vec![n];
        }
        let nichi = g.node(&[class('日')], Role::Anchor, &next);
        let d2 = g.node(&DIGITS, Role::Day, &[nichi]);
        let d1 = g.node(&DIGITS, Role::Day, &[d2, nichi]);
        let tsuki = g.node(&[class('月')], Role::Anchor, &[d1]);
        let m2 = g.node(&DIGITS, Role::Month, &[tsuki]);
        let m1 = g.node(&DIGITS, Role::Month, &[m2, tsuki]);
        let mut next = g.node(&[class('年')], Role::Anchor, &[m1]);
        for place in [1u16, 10, 100, 1000] {
            let mut allowed: Vec<u8> = (years.0..=years.1)
                .map(|y| (y / place % 10) as u8)
                .collect();
            allowed.sort_unstable();
            allowed.dedup();
            next = g.node(&allowed, Role::Year, &[next]);
        }
        g.starts.push(next);
        g
    }

    /// Exactly four digits.
    pub(super) fn code() -> Grammar {
        let mut g = Grammar {
            nodes: Vec::new(),
            starts: Vec::new(),
            junk: false,
        };
        let mut next = Vec::new();
        for i in 0..4 {
            let n = g.node(&DIGITS, Role::Code, &next);
            if i == 0 {
                g.nodes[n].accept = true;
            }
            next = vec![n];
        }
        g.starts = next;
        g
    }
}

/// One line decoded under a grammar: the slots taken and their guesses
/// (the read characters: wiped on drop, no `Debug`).
struct LineRead {
    nodes: Zeroizing<Vec<u16>>,
    guesses: Zeroizing<Vec<Guess>>,
    /// Per trained font, the summed distance of the read glyphs to their
    /// classes in that font: which font the card is printed in.
    font_cost: Zeroizing<Vec<f32>>,
    /// Each glyph's ink centre along the line.
    centres: Vec<f32>,
    /// Each glyph as read, with its columns, and the line's rows: to draw
    /// the line in a candidate font.
    glyphs: Vec<render::Beside>,
    rows: (usize, usize),
}

/// Most atoms in one glyph: a mincho 日 under blur loses its thin
/// horizontals and falls apart into four columns.
const MAX_ATOMS: usize = 5;
/// Widest digit glyph, as a share of the (kanji) line height: digits are
/// about 0.5–0.6 em, blur adds a little.
const MAX_DIGIT_WIDTH: f32 = 0.8;
/// Cost of a glyph beyond its distance (fewer, better glyphs win).
const GLYPH_COST: f32 = 0.05;
/// Cost of leaving a glyph before or after the field unread.
const JUNK_COST: f32 = 0.4;
/// Cost of leaving a noise speck unread.
const SPECK_COST: f32 = 0.3;

/// Where a DP cell came from (wiped with the table: the path spells the
/// read).
#[derive(Clone, Copy, Default, Zeroize)]
struct Back {
    /// The previous slot, or [`FROM_START`].
    prev: u32,
    /// The atom this glyph (or speck) starts at.
    start: u32,
    /// Atoms in the glyph; 0 for a skipped speck.
    len: u8,
}

const FROM_START: u32 = u32::MAX;

/// Confidence under which a digit read in the card's font is drawn and
/// compared ([`render`]).
const RENDER_BELOW: f32 = 0.5;

/// Segments and reads a line under a grammar: ink columns give atoms
/// (glyphs that touch are cut at their faintest column, kanji such as 明
/// fall apart into pieces), and a dynamic programme over (atom, grammar
/// slot) groups 1–5 atoms into each glyph at the least total distance,
/// classifying each glyph only among the classes its slot allows. A code
/// left in doubt is read again on cells of one pitch ([`even_cells`]).
fn read_line(
    model: &GlyphModel,
    grammar: &Grammar,
    band: &Band,
    ink: &[f32],
    (y0, y1): (usize, usize),
    only: Option<u8>,
    look: Look,
) -> Option<LineRead> {
    let (w, luma) = (band.w, band.px.as_slice());
    // Widths are judged against a line of kanji (the templates' 年); a line
    // of digits alone is only as tall as a digit. The classifier's height
    // feature keeps the measured height: on the code line every digit then
    // looks a little too tall, which lowers the code's confidence — kept,
    // because with a font it was not trained on, digits read at the
    // kanji-relative height gave confident wrong codes (3 read as 5).
    let lh_measured = (y1 - y0) as f32;
    let lh = if grammar.junk {
        lh_measured
    } else {
        lh_measured / model.digit_height()
    };
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
    let col_sum: Zeroizing<Vec<f32>> = Zeroizing::new(
        (0..w)
            .map(|x| (y0..y1).map(|y| ink[y * w + x]).sum())
            .collect(),
    );
    let mut i = 0;
    while i < atoms.len() {
        let (a, b) = atoms[i];
        if (b - a) as f32 > lh * look.split {
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
    if n == 0 || n > 64 {
        return None;
    }
    // A speck: narrow and short (noise, a JPEG block edge), never a "1",
    // which spans most of the line.
    let speck: Vec<bool> = atoms
        .iter()
        .map(|&(a, b)| {
            let rows = (y0..y1)
                .filter(|&y| ink[y * w + a..y * w + b].iter().any(|&v| v > 0.5))
                .count();
            b - a <= 3 && (rows as f32) < lh * 0.4
        })
        .collect();
    let scores_of = |(gx0, gx1): (usize, usize)| -> Option<Scores> {
        let (gw, gh) = (gx1 - gx0, y1 - y0);
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
            lh_measured,
        )?;
        Some(model.scores(f, only))
    };
    let glyph_scores =
        |start: usize, len: usize| scores_of((atoms[start].0, atoms[start + len - 1].1));
    // Scores of each candidate glyph (start atom, 1–3 atoms), computed
    // when first needed.
    let mut cache: Vec<Option<Option<Scores>>> = (0..n * MAX_ATOMS).map(|_| None).collect();
    let skip = |j: usize| {
        if speck[j] {
            SPECK_COST
        } else if grammar.junk {
            JUNK_COST
        } else {
            f32::INFINITY
        }
    };
    let mut pre = vec![0f32; n + 1];
    for j in 0..n {
        pre[j + 1] = pre[j] + skip(j);
    }
    let mut post = vec![0f32; n + 1];
    for j in (0..n).rev() {
        post[j] = post[j + 1] + skip(j);
    }
    let k = grammar.nodes.len();
    let mut cost = vec![f32::INFINITY; (n + 1) * k];
    let mut back: Zeroizing<Vec<Back>> = Zeroizing::new(vec![Back::default(); (n + 1) * k]);
    for i in 0..n {
        let mut sources: Vec<(u32, f32)> = Vec::new();
        if pre[i].is_finite() {
            sources.push((FROM_START, pre[i]));
        }
        for node in 0..k {
            let c = cost[i * k + node];
            if c.is_finite() {
                sources.push((node as u32, c));
                if speck[i] && c + SPECK_COST < cost[(i + 1) * k + node] {
                    cost[(i + 1) * k + node] = c + SPECK_COST;
                    back[(i + 1) * k + node] = Back {
                        prev: node as u32,
                        start: i as u32,
                        len: 0,
                    };
                }
            }
        }
        for len in 1..=MAX_ATOMS.min(n - i) {
            let width = (atoms[i + len - 1].1 - atoms[i].0) as f32;
            if len > 1 && width > lh * 1.7 {
                break;
            }
            let slot = i * MAX_ATOMS + len - 1;
            if cache[slot].is_none() {
                cache[slot] = Some(glyph_scores(i, len));
            }
            let Some(Some(scores)) = &mut cache[slot] else {
                continue;
            };
            for &(from, c) in &sources {
                let targets = if from == FROM_START {
                    &grammar.starts
                } else {
                    &grammar.nodes[from as usize].next
                };
                for &t in targets {
                    // A digit is at most about half a kanji wide: a wider
                    // glyph in a digit slot is two digits run together.
                    let digit_slot = grammar.nodes[t].allowed.iter().all(|&c| c < 10);
                    if digit_slot && width > lh * MAX_DIGIT_WIDTH {
                        continue;
                    }
                    if look.thorough {
                        model.compare(scores, &grammar.nodes[t].allowed);
                    }
                    let Some(g) = scores.best_of(&grammar.nodes[t].allowed) else {
                        continue;
                    };
                    let total = c + g.dist + GLYPH_COST;
                    let cell = (i + len) * k + t;
                    if total < cost[cell] {
                        cost[cell] = total;
                        back[cell] = Back {
                            prev: from,
                            start: i as u32,
                            len: len as u8,
                        };
                    }
                }
            }
        }
    }
    // The best accepting end.
    let mut best: Option<(f32, usize, usize)> = None;
    for i in 1..=n {
        for (node, nd) in grammar.nodes.iter().enumerate() {
            let c = cost[i * k + node] + post[i];
            if nd.accept && c.is_finite() && best.is_none_or(|b| c < b.0) {
                best = Some((c, i, node));
            }
        }
    }
    #[cfg(test)]
    if best.is_none() && std::env::var_os("CARDFRONT_DEBUG").is_some() {
        let reach: Vec<usize> = (0..=n)
            .map(|i| (0..k).filter(|&j| cost[i * k + j].is_finite()).count())
            .collect();
        eprintln!("  no parse: {n} atoms {atoms:?} reachable {reach:?}");
    }
    let (_, mut i, mut node) = best?;
    let mut path: Zeroizing<Vec<(u16, usize, usize)>> = Zeroizing::new(Vec::new());
    loop {
        let b = back[i * k + node];
        let start = b.start as usize;
        if b.len > 0 {
            path.push((node as u16, start, usize::from(b.len)));
            if b.prev == FROM_START {
                break;
            }
            node = b.prev as usize;
        }
        // A skipped speck keeps its slot, one atom back.
        i = start;
    }
    path.reverse();
    // The scores of a glyph on the path (computed by the programme).
    let cuts: Vec<Cut<'_>> = path
        .iter()
        .map(
            |&(node, start, len)| match &cache[start * MAX_ATOMS + len - 1] {
                Some(Some(scores)) => Some(Cut {
                    node,
                    span: (atoms[start].0, atoms[start + len - 1].1),
                    scores,
                }),
                _ => None,
            },
        )
        .collect::<Option<_>>()?;
    let line = LineInk {
        ink,
        luma,
        w,
        rows: (y0, y1),
    };
    let read = read_glyphs(model, grammar, &line, &cuts, only, Drawn::InDoubt)?;
    // The code's four digits stand on one pitch. Where its read is in
    // doubt, the ink may have been cut in the wrong places (digits run
    // together by motion blur): the line is read again on four cells of
    // one pitch, and the surer read kept.
    let doubt = spell(grammar, &read).rest;
    // Only where the card's font can draw the cells' digits.
    if grammar.junk || only.and_then(|f| model.face(f)).is_none() || doubt >= CELLS_BELOW {
        return Some(read);
    }
    // Where no cells can be cut or scored, the first read stands.
    let Some((cells, scores)) = cuts
        .first()
        .zip(cuts.last())
        .and_then(|(first, last)| even_cells(&col_sum, (first.span.0, last.span.1), cuts.len()))
        .and_then(|cells| {
            let scores = cells
                .iter()
                .map(|&span| scores_of(span))
                .collect::<Option<Vec<Scores>>>()?;
            Some((cells, scores))
        })
    else {
        return Some(read);
    };
    let cells: Vec<Cut<'_>> = cuts
        .iter()
        .zip(cells)
        .zip(&scores)
        .map(|((cut, span), scores)| Cut {
            node: cut.node,
            span,
            scores,
        })
        .collect();
    // Cells are a guess at where the digits stand, and the classifier can
    // be sure of a digit cut from its neighbours' ink: every digit is drawn.
    let again = read_glyphs(model, grammar, &line, &cells, only, Drawn::Every);
    #[cfg(test)]
    if let (Some(a), true) = (&again, std::env::var_os("CARDFRONT_DEBUG").is_some()) {
        let text: String = a.guesses.iter().map(Guess::char).collect();
        let spans: Vec<_> = cells.iter().map(|c| c.span).collect();
        eprintln!(
            "   cells {spans:?}: {text} {:.2} (was {doubt:.2})",
            spell(grammar, a).rest
        );
    }
    match again {
        Some(again) if spell(grammar, &again).rest > doubt => Some(again),
        _ => Some(read),
    }
}

/// Confidence of the code under which its line is read again on cells
/// of one pitch ([`even_cells`]).
const CELLS_BELOW: f32 = 0.5;
/// How far a cell's edge may move off the even pitch to the faintest
/// column near it, as a share of the pitch.
const CELL_SLACK: f32 = 0.15;

/// Columns `x0..x1` cut into `n` cells of one pitch, each inner edge moved
/// to the faintest column within [`CELL_SLACK`] of the pitch (the gap
/// between two digits, where there is one). `None` when the cells would be
/// too narrow to hold a digit.
fn even_cells(col_sum: &[f32], (x0, x1): (usize, usize), n: usize) -> Option<Vec<(usize, usize)>> {
    let pitch = x1.checked_sub(x0)? as f32 / n.max(1) as f32;
    if pitch < 3.0 || x1 > col_sum.len() {
        return None;
    }
    let mut edges = vec![x0];
    for i in 1..n {
        let at = x0 as f32 + pitch * i as f32;
        let lo = (at - pitch * CELL_SLACK).round() as usize;
        let hi = (at + pitch * CELL_SLACK).round() as usize;
        // The faintest column; of equally faint ones, the nearest the pitch.
        let edge = (lo.max(x0 + 1)..=hi.min(x1 - 1)).min_by(|&p, &q| {
            col_sum[p]
                .total_cmp(&col_sum[q])
                .then((p as f32 - at).abs().total_cmp(&(q as f32 - at).abs()))
        })?;
        edges.push(edge);
    }
    edges.push(x1);
    Some(edges.windows(2).map(|e| (e[0], e[1])).collect())
}

/// The rows of a band a line is read from.
struct LineInk<'a> {
    ink: &'a [f32],
    luma: &'a [f32],
    w: usize,
    rows: (usize, usize),
}

/// A glyph of a segmented line: its grammar slot, its columns and its
/// scores.
struct Cut<'s> {
    node: u16,
    span: (usize, usize),
    scores: &'s Scores,
}

/// Which digits of a line are drawn in the card's font ([`render`]).
#[derive(Clone, Copy, PartialEq)]
enum Drawn {
    /// When a digit is in doubt, every digit not fully sure.
    InDoubt,
    /// Every digit, and the classifier's digit never stands against the
    /// drawing's, nor without it.
    Every,
}

/// Reads the glyphs of a segmented line in their grammar slots: each
/// glyph's best allowed class, the digit discriminant's verdict on the
/// digits, and, in the card's font, the drawing's on the digits `drawn`
/// says.
fn read_glyphs(
    model: &GlyphModel,
    grammar: &Grammar,
    line: &LineInk<'_>,
    cuts: &[Cut<'_>],
    only: Option<u8>,
    drawn: Drawn,
) -> Option<LineRead> {
    let &LineInk {
        ink,
        luma,
        w,
        rows: (y0, y1),
    } = line;
    let mut nodes = Zeroizing::new(Vec::with_capacity(cuts.len()));
    let mut guesses = Zeroizing::new(Vec::with_capacity(cuts.len()));
    let mut centres = Vec::with_capacity(cuts.len());
    let mut font_cost = Zeroizing::new(vec![0f32; model.font_count()]);
    // Digits in a slot of several (what the grammar cannot check).
    let digit_slot = |node: u16| {
        let allowed = &grammar.nodes[usize::from(node)].allowed;
        allowed.len() > 1 && allowed.iter().all(|&c| c < 10)
    };
    for cut in cuts {
        let (node, scores) = (cut.node, cut.scores);
        let allowed = &grammar.nodes[usize::from(node)].allowed;
        let mut g = scores.best_of(allowed)?;
        if digit_slot(node) {
            // The discriminant decides the digit; the template distance
            // to that digit still says whether the glyph is a digit at all.
            if let Some(v) = model.judge_digit(&scores.features, allowed, only) {
                g.judged = v.margin;
                if v.digit != g.class {
                    g.class = v.digit;
                    g.dist = scores.dist(usize::from(v.digit));
                    g.judged *= super::glyph::OVERRULED;
                }
            }
        }
        nodes.push(node);
        guesses.push(g);
        centres.push((cut.span.0 + cut.span.1) as f32 / 2.0);
    }
    // In the card's font, a line with a digit in doubt has its digits
    // drawn and compared: every digit not fully sure, not only the one in
    // doubt, so that a second witness also checks the digits that were
    // sure enough alone.
    let face = only.and_then(|f| model.face(f));
    let in_doubt = drawn == Drawn::Every
        || nodes
            .iter()
            .zip(guesses.iter())
            .any(|(&n, g)| digit_slot(n) && g.confidence() < RENDER_BELOW);
    // Every glyph as read, with its columns.
    let as_read = |guesses: &[Guess]| -> Vec<render::Beside> {
        cuts.iter()
            .zip(guesses)
            .map(|(cut, g)| render::Beside {
                c: g.char(),
                span: cut.span,
            })
            .collect()
    };
    if let (Some(face), true) = (face, in_doubt) {
        // Each glyph as first read, and its columns: the neighbours the
        // drawing of a digit is set between.
        let digit_spans = cuts
            .iter()
            .zip(guesses.iter())
            .filter(|(_, g)| g.digit().is_some())
            .map(|(cut, _)| cut.span);
        let text = render::Text {
            ink,
            luma,
            w,
            line: (y0, y1),
            digit_height: render::digit_height(ink, w, (y0, y1), digit_spans),
        };
        let read = as_read(&guesses);
        for (i, (cut, g)) in cuts.iter().zip(guesses.iter_mut()).enumerate() {
            if !digit_slot(cut.node) || (drawn == Drawn::InDoubt && g.confidence() >= 1.0) {
                continue;
            }
            let allowed = &grammar.nodes[usize::from(cut.node)].allowed;
            let beside = render::beside(&read, i);
            let Some(r) = render::judge(face, &text, cut.span, allowed, &beside, None) else {
                if drawn == Drawn::Every {
                    // On cells, a digit the drawing cannot judge has no
                    // second witness.
                    g.contradicted = 1.0;
                }
                continue;
            };
            let c = r.confidence();
            if r.digit == g.class {
                g.rendered = c;
            } else if c > g.confidence() {
                g.class = r.digit;
                g.dist = cut.scores.dist(usize::from(r.digit));
                g.judged = 0.0;
                g.rendered = c * super::glyph::OVERRULED;
            } else if drawn == Drawn::Every {
                // On cells the classifier's digit does not stand against
                // the drawing.
                g.contradicted = 1.0;
            } else {
                // Two witnesses disagree: the classifier's digit stands,
                // with the rendering's doubt.
                g.contradicted = c;
            }
        }
    }
    for (cut, g) in cuts.iter().zip(guesses.iter()) {
        for (font, c) in font_cost.iter_mut().enumerate() {
            *c += cut.scores.font_dist(font, usize::from(g.class)).min(1.0);
        }
    }
    let glyphs = as_read(&guesses);
    Some(LineRead {
        nodes,
        guesses,
        font_cost,
        centres,
        glyphs,
        rows: (y0, y1),
    })
}

/// A field's value with its confidences: of the month and day digits
/// (which the birth and expiry lines repeat) and of everything else.
struct FieldRead<T: Zeroize> {
    value: T,
    anchors: f32,
    month_day: f32,
    rest: f32,
    /// The line's [`LineRead::font_cost`], glyphs and rows.
    font_cost: Zeroizing<Vec<f32>>,
    glyphs: Vec<render::Beside>,
    rows: (usize, usize),
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

/// Spells out a decoded line's digits by role.
struct Spelled {
    era: Option<Era>,
    gannen: bool,
    year: (u16, usize),
    month: (u16, usize),
    day: (u16, usize),
    code: [u8; 4],
    code_len: usize,
    anchors: f32,
    month_day: f32,
    rest: f32,
}

impl Drop for Spelled {
    fn drop(&mut self) {
        self.year.zeroize();
        self.month.zeroize();
        self.day.zeroize();
        self.code.zeroize();
    }
}

fn spell(grammar: &Grammar, read: &LineRead) -> Spelled {
    let mut s = Spelled {
        era: None,
        gannen: false,
        year: (0, 0),
        month: (0, 0),
        day: (0, 0),
        code: [0; 4],
        code_len: 0,
        anchors: 1.0,
        month_day: 1.0,
        rest: 1.0,
    };
    // Centres of the 4-digit runs (the expiry year, the code): digits are
    // set on a fixed pitch in every Japanese typeface.
    let mut run: Vec<f32> = Vec::new();
    for ((node, g), x) in read
        .nodes
        .iter()
        .zip(read.guesses.iter())
        .zip(&read.centres)
    {
        let c = g.confidence();
        if matches!(
            grammar.nodes[usize::from(*node)].role,
            Role::Code | Role::Year
        ) {
            run.push(*x);
        }
        let d = u16::from(g.digit().unwrap_or(0));
        let push = |v: &mut (u16, usize)| {
            v.0 = v.0 * 10 + d;
            v.1 += 1;
        };
        match grammar.nodes[usize::from(*node)].role {
            Role::Era(era) => {
                s.era = Some(era);
                s.anchors = s.anchors.min(c);
            }
            Role::Anchor => s.anchors = s.anchors.min(c),
            Role::Gannen => {
                s.gannen = true;
                s.rest = s.rest.min(c);
            }
            Role::Year => {
                push(&mut s.year);
                s.rest = s.rest.min(c);
            }
            Role::Month => {
                push(&mut s.month);
                s.month_day = s.month_day.min(c);
            }
            Role::Day => {
                push(&mut s.day);
                s.month_day = s.month_day.min(c);
            }
            Role::Code => {
                if let Some(slot) = s.code.get_mut(s.code_len) {
                    *slot = g.digit().unwrap_or(0);
                }
                s.code_len += 1;
                s.rest = s.rest.min(c);
            }
        }
    }
    if run.len() == 4 && !evenly_spaced(&run) {
        // Glyphs cut at the wrong places (digits run together by motion
        // blur): each may look like a digit, but not these four.
        s.rest = s.rest.min(0.1);
    }
    s
}

/// Whether glyph centres sit on an even pitch (within a fifth of it).
fn evenly_spaced(centres: &[f32]) -> bool {
    let pitches: Vec<f32> = centres.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = pitches.iter().sum::<f32>() / pitches.len().max(1) as f32;
    mean > 0.0
        && pitches
            .iter()
            .all(|p| (p - mean).abs() <= mean * PITCH_TOLERANCE)
}

/// How far a digit may sit off the even pitch, as a share of it.
const PITCH_TOLERANCE: f32 = 0.2;

fn birth_of(s: &Spelled) -> Option<FieldRead<EraDate>> {
    let (era, year) = match (s.era, s.gannen) {
        (Some(era), true) => (era, 1),
        (Some(era), false) if s.year.1 <= 2 => (era, s.year.0),
        (None, false) if s.year.1 == 4 => (Era::Western, s.year.0),
        _ => return None,
    };
    Some(FieldRead {
        value: EraDate {
            era,
            year,
            month: s.month.0 as u8,
            day: s.day.0 as u8,
        },
        anchors: s.anchors,
        month_day: s.month_day,
        rest: s.rest,
        font_cost: Zeroizing::new(Vec::new()),
        glyphs: Vec::new(),
        rows: (0, 0),
    })
}

fn expiry_of(s: &Spelled) -> Option<FieldRead<(u16, u8, u8)>> {
    (s.year.1 == 4).then(|| FieldRead {
        value: (s.year.0, s.month.0 as u8, s.day.0 as u8),
        anchors: s.anchors,
        month_day: s.month_day,
        rest: s.rest,
        font_cost: Zeroizing::new(Vec::new()),
        glyphs: Vec::new(),
        rows: (0, 0),
    })
}

fn code_of(s: &Spelled) -> Option<FieldRead<[u8; 4]>> {
    (s.code_len == 4).then(|| FieldRead {
        value: s.code.map(|d| b'0' + d),
        anchors: s.anchors,
        month_day: 1.0,
        rest: s.rest,
        font_cost: Zeroizing::new(Vec::new()),
        glyphs: Vec::new(),
        rows: (0, 0),
    })
}

/// Least anchor confidence for a line to count as the field (below it the
/// line is another text the grammar was forced onto: the 追記欄's
/// 「…日転居」, the certificate dates, the serial).
const ANCHOR_ACCEPT: f32 = 0.25;

/// A band with its ink map, worked out once and read under every grammar
/// and font.
struct Inked<'a> {
    band: &'a Band,
    ink: Zeroizing<Vec<f32>>,
}

impl<'a> Inked<'a> {
    fn new(band: &'a Band) -> Inked<'a> {
        Inked {
            band,
            ink: ink_map(band),
        }
    }
}

/// Reads every line of a band under the field's grammar and keeps the one
/// that is the field; two lines that both look like it but disagree count
/// as not found.
fn find<T: PartialEq + Zeroize>(
    model: &GlyphModel,
    grammar: &Grammar,
    page: &Inked<'_>,
    interpret: impl Fn(&Spelled) -> Option<FieldRead<T>>,
    only: Option<u8>,
    look: Look,
) -> Option<FieldRead<T>> {
    let (band, ink) = (page.band, &page.ink);
    let mut found: Option<FieldRead<T>> = None;
    #[cfg(test)]
    if std::env::var_os("CARDFRONT_DEBUG").is_some() {
        let rows: Vec<usize> = (0..band.h)
            .map(|y| {
                ink[y * band.w..(y + 1) * band.w]
                    .iter()
                    .filter(|&&v| v > 0.5)
                    .count()
            })
            .collect();
        // Test builds only, on generated cards: the band and its ink map
        // as images, to see why a line was not found.
        if let Ok(dir) = std::env::var("CARDFRONT_DUMP") {
            let mut buf = format!("P5 {} {} 255\n", band.w, band.h).into_bytes();
            buf.extend(ink.iter().map(|v| 255 - (v * 255.0) as u8));
            let _ = std::fs::write(format!("{dir}/ink-{}x{}.pgm", band.w, band.h), &buf);
            let mut buf = format!("P5 {} {} 255\n", band.w, band.h).into_bytes();
            buf.extend(band.px.iter().map(|v| v.clamp(0.0, 255.0) as u8));
            let _ = std::fs::write(format!("{dir}/band-{}x{}.pgm", band.w, band.h), &buf);
        }
        eprintln!(
            " band {}x{} lines {:?} rows {:?}",
            band.w,
            band.h,
            lines(ink, band.w, band.h),
            rows
        );
    }
    for line in lines(ink, band.w, band.h) {
        let Some(mut read) = read_line(model, grammar, band, ink, line, only, look) else {
            continue;
        };
        #[cfg(test)]
        if std::env::var_os("CARDFRONT_DEBUG").is_some() {
            // Test frames only: generated cards, not a patient's.
            let text: String = read.guesses.iter().map(Guess::char).collect();
            let conf: Vec<String> = read
                .guesses
                .iter()
                .map(|g| {
                    format!(
                        "{:.2}[{:.3} {:.3} {:.3} {:.1} {:.2}]",
                        g.confidence(),
                        g.dist,
                        g.runner_up,
                        g.outside,
                        g.judged,
                        g.rendered
                    )
                })
                .collect();
            eprintln!("  line {line:?}: {text} {}", conf.join(" "));
        }
        let spelled = spell(grammar, &read);
        let Some(mut field) = interpret(&spelled) else {
            continue;
        };
        field.font_cost = std::mem::take(&mut read.font_cost);
        field.glyphs = std::mem::take(&mut read.glyphs);
        field.rows = read.rows;
        if field.anchors < ANCHOR_ACCEPT {
            continue;
        }
        match &found {
            Some(prev) if prev.value != field.value => return None,
            Some(prev) if prev.confidence() >= field.confidence() => {}
            _ => found = Some(field),
        }
    }
    found
}

/// How a band's lines are segmented and classified: one look at the card.
#[derive(Clone, Copy)]
pub(super) struct Look {
    /// Width, in line heights, above which a run of ink is cut in two at
    /// its faintest column before the grammar reads it (which may join the
    /// parts again).
    pub split: f32,
    /// Whether each glyph is compared with every class a grammar slot asks
    /// for, not only with the classes its prototype stage shortlisted.
    pub thorough: bool,
}

impl Look {
    /// The first look.
    pub(super) const FIRST: Look = Look {
        split: 0.8,
        thorough: false,
    };
    /// For a field not found: under heavy blur a kanji anchor (で, 有)
    /// can fall out of a glyph's shortlist, and its line does not parse.
    pub(super) const THOROUGH: Look = Look {
        thorough: true,
        ..Look::FIRST
    };
    /// The narrower cut of the last look for a field not found: small
    /// print under blur runs two digits of a year together (0.45–0.55
    /// measured alike).
    pub(super) const NARROW: Look = Look {
        split: 0.55,
        thorough: false,
    };
}

/// Confidence of a value read twice, on two lines (the month and day of
/// the birth and of the expiry): both reads would have to be wrong in the
/// same way. Errors in one font and one blur are correlated, so the second
/// read counts for half of an independent one.
fn agreeing(a: f32, b: f32) -> f32 {
    let (hi, lo) = (a.max(b), a.min(b));
    (hi + (1.0 - hi) * lo * 0.5).min(1.0)
}

/// How much more than the best font a font's cost on the date lines may
/// be for the code to be read in it too.
const FONT_TIE: f32 = 0.3;

/// The difference of mean drawn fits under which the template costs
/// decide between two candidate fonts.
const DRAWN_TIE: f32 = 0.002;

/// The mean fit of both date lines' digits drawn in `font`.
#[allow(clippy::type_complexity)]
fn drawn<A: Zeroize, B: Zeroize>(
    model: &GlyphModel,
    font: u8,
    (birth, expiry): ((&Inked<'_>, &FieldRead<A>), (&Inked<'_>, &FieldRead<B>)),
    blurs: &mut [Option<render::Blur>; 2],
) -> Option<f32> {
    let face = model.face(font)?;
    let (b, e) = (
        drawn_fit(face, birth.0, &birth.1.glyphs, birth.1.rows, &mut blurs[0]),
        drawn_fit(
            face,
            expiry.0,
            &expiry.1.glyphs,
            expiry.1.rows,
            &mut blurs[1],
        ),
    );
    let n = b.1 + e.1;
    (n > 0).then(|| (b.0 + e.0) / n as f32)
}

/// The weakest field confidence under which the candidate fonts are told
/// apart by drawing.
const DRAWN_BELOW: f32 = 0.5;

/// A date line's digits drawn in `face` ([`render::line_fit`]).
fn drawn_fit(
    face: &fontdue::Font,
    page: &Inked<'_>,
    glyphs: &[render::Beside],
    rows: (usize, usize),
    blur: &mut Option<render::Blur>,
) -> (f32, usize) {
    let (ink, w) = (page.ink.as_slice(), page.band.w);
    let digits = glyphs
        .iter()
        .filter(|g| g.c.is_ascii_digit())
        .map(|g| g.span);
    let text = render::Text {
        ink,
        luma: &page.band.px,
        w,
        line: rows,
        digit_height: render::digit_height(ink, w, rows, digits),
    };
    render::line_fit(face, &text, glyphs, blur)
}

/// Confidence under which a date line is read again in the card's font.
const CARD_FONT_BELOW: f32 = 0.5;

/// `first`, or when it is not sure enough, the read `again` in the card's
/// font (whatever its confidence: below the line, the card's font decides;
/// `first` stays when the line is not found in that font).
fn in_card_font<T: Zeroize>(
    first: FieldRead<T>,
    again: impl FnOnce() -> Option<FieldRead<T>>,
) -> FieldRead<T> {
    if first.confidence() >= CARD_FONT_BELOW {
        return first;
    }
    again().unwrap_or(first)
}

/// Reads and checks the three fields in one [`Look`].
pub(super) fn read_fields(
    model: &GlyphModel,
    settings: &CardFrontSettings,
    bands: &[Band; 3],
    upside_down: bool,
    look: Look,
) -> Result<FrontRead, Refusal> {
    // The birth and expiry lines on two threads: a kiosk has at least
    // two cores, and the read is most of a frame's time.
    let expiry_grammar = Grammar::expiry(settings.expiry_years);
    let ((birth_page, birth), expiry) = std::thread::scope(|scope| {
        let expiry = scope.spawn(|| {
            let page = Inked::new(&bands[1]);
            let read = find(model, &expiry_grammar, &page, expiry_of, None, look);
            (page, read)
        });
        let page = Inked::new(&bands[0]);
        let read = find(model, &Grammar::birth(), &page, birth_of, None, look);
        ((page, read), expiry.join().ok())
    });
    let (expiry_page, expiry) = expiry.ok_or(Refusal::FieldMissing(FieldKind::Expiry))?;
    let birth = birth.ok_or(Refusal::FieldMissing(FieldKind::Birth))?;
    let expiry = expiry.ok_or(Refusal::FieldMissing(FieldKind::Expiry))?;
    let code_page = Inked::new(&bands[2]);
    // The card's font: the one that explains all three lines best. The
    // birth and expiry lines name the candidates, every font within
    // `FONT_TIE` of the best (two typefaces can be near twins). The code,
    // which no grammar checks, is read against each candidate alone, where
    // a blurred 6 need not also be far from every other font's 8; the font
    // whose three lines cost least decides, and its code read is kept.
    let dates: Vec<f32> = birth
        .font_cost
        .iter()
        .zip(expiry.font_cost.iter())
        .map(|(a, b)| a + b)
        .collect();
    let best = dates.iter().copied().fold(f32::INFINITY, f32::min);
    let candidates: Vec<u8> = (0..dates.len())
        .filter(|&i| dates[i] <= best + FONT_TIE)
        .filter_map(|i| u8::try_from(i).ok())
        .collect();
    let mut reads: Vec<(f32, u8, FieldRead<[u8; 4]>)> = Vec::new();
    for &font in &candidates {
        let i = usize::from(font);
        let Some(code) = find(
            model,
            &Grammar::code(),
            &code_page,
            code_of,
            Some(font),
            look,
        ) else {
            continue;
        };
        let total = dates[i] + code.font_cost.get(i).copied().unwrap_or(f32::INFINITY);
        reads.push((total, font, code));
    }
    let by_cost = reads
        .iter()
        .enumerate()
        .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
        .map(|(k, _)| k)
        .ok_or(Refusal::FieldMissing(FieldKind::SecurityCode))?;
    // When that leaves a field in doubt, the date lines' digits drawn in
    // each candidate font are a second witness, and a sharper one than the
    // template distances (which blur pulls together): the font they fit
    // best is the card's. Only then, because drawing costs milliseconds.
    let unsure = reads[by_cost]
        .2
        .confidence()
        .min(birth.confidence())
        .min(expiry.confidence())
        < DRAWN_BELOW;
    let pick = if unsure && reads.len() > 1 {
        // Each line's blur, found in the font the costs chose; each
        // drawing once for twin fonts.
        let mut blurs = [None, None];
        let mut memo: Vec<(u8, Option<f32>)> = Vec::new();
        let order = std::iter::once(by_cost).chain((0..reads.len()).filter(|&k| k != by_cost));
        let mut fits = vec![None; reads.len()];
        for k in order {
            let twin = model.twin(reads[k].1);
            fits[k] = match memo.iter().find(|(t, _)| *t == twin) {
                Some((_, fit)) => *fit,
                None => {
                    let lines = ((&birth_page, &birth), (&expiry_page, &expiry));
                    let fit = drawn(model, twin, lines, &mut blurs);
                    memo.push((twin, fit));
                    fit
                }
            };
        }
        #[cfg(test)]
        if std::env::var_os("CARDFRONT_DEBUG").is_some() {
            eprintln!(" drawn fits {fits:?}");
        }
        let mut pick = by_cost;
        for k in 0..reads.len() {
            let better = match (fits[k], fits[pick]) {
                (Some(a), Some(b)) if (a - b).abs() > DRAWN_TIE => a > b,
                _ => reads[k].0 < reads[pick].0,
            };
            if better {
                pick = k;
            }
        }
        pick
    } else {
        by_cost
    };
    let (_, font, code) = reads.swap_remove(pick);
    let font = Some(font);
    #[cfg(test)]
    if std::env::var_os("CARDFRONT_DEBUG").is_some() {
        eprintln!(" font {font:?} dates {dates:?} candidates {candidates:?}");
    }
    // A date line not sure enough against every font is read once more
    // against the card's font alone, as the code always is: a blurred 0
    // need then only be nearer that font's 0 than its 6 and 8, not also
    // far from every other font's (+10 exact of 1,000 frames, no wrong
    // read, none with a font left out of training).
    let birth = in_card_font(birth, || {
        find(model, &Grammar::birth(), &birth_page, birth_of, font, look)
    });
    let expiry = in_card_font(expiry, || {
        find(model, &expiry_grammar, &expiry_page, expiry_of, font, look)
    });
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
    if read.confidence() < settings.min_confidence {
        let kinds = [FieldKind::Birth, FieldKind::Expiry, FieldKind::SecurityCode];
        let (kind, least) = kinds.into_iter().zip(read.confidence).fold(
            (FieldKind::Birth, f32::INFINITY),
            |a, b| if b.1 < a.1 { b } else { a },
        );
        return Err(Refusal::LowConfidence(kind, least));
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

    /// Four digits run together: the inner edges go to the faintest
    /// column near the even pitch, never further than the slack.
    #[test]
    fn even_cells_cut_at_the_faint_columns_near_the_pitch() {
        // Columns 10..90: ink everywhere, faint at 29, 52 and 68.
        let mut col_sum = vec![0f32; 100];
        for (x, v) in col_sum.iter_mut().enumerate().take(90).skip(10) {
            *v = match x {
                29 | 52 | 68 => 1.0,
                // Fainter still, but more than the slack (3 columns) off
                // the pitch's 30.
                25 => 0.5,
                _ => 5.0,
            };
        }
        let cells = even_cells(&col_sum, (10, 90), 4).expect("wide enough");
        assert_eq!(cells, vec![(10, 29), (29, 52), (52, 68), (68, 90)]);
        // Evenly inked: the pitch itself.
        let flat = vec![3f32; 100];
        let cells = even_cells(&flat, (10, 90), 4).expect("wide enough");
        assert_eq!(cells, vec![(10, 30), (30, 50), (50, 70), (70, 90)]);
        // Too narrow for four digits, or beyond the columns.
        assert!(even_cells(&flat, (10, 20), 4).is_none());
        assert!(even_cells(&flat, (10, 120), 4).is_none());
    }

    #[test]
    fn the_running_maximum_equals_the_plain_window() {
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 1000) as f32 / 4.0
        };
        for (w, h, r) in [(1, 1, 3), (7, 5, 0), (13, 9, 2), (40, 17, 14), (23, 31, 28)] {
            let px: Vec<f32> = (0..w * h).map(|_| next()).collect();
            let fast = running_max(&px, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let mut m = 0f32;
                    for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                        for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                            m = m.max(px[yy * w + xx]);
                        }
                    }
                    assert_eq!(fast[y * w + x], m, "{w}x{h} r {r} at ({x}, {y})");
                }
            }
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

//! The digit discriminant: a linear discriminant (LDA with a shrunk shared
//! covariance) over the glyph features, trained at start-up from the digit
//! templates. Nearest-template distances put a blurred 6 almost as near an
//! 8 as a 6, because most of the feature is ink both share; the
//! discriminant weighs the few places where digits differ against how much
//! fonts, sizes and blur move each place, so its margins are wider where it
//! matters. Owns only the digits: kanji never need it (the grammar fixes
//! them).

use zeroize::Zeroizing;

use super::glyph::FEAT;

/// Share of the covariance replaced by its mean variance: about two thousand
/// digit samples (six fonts, three sizes, six variants, half and full
/// width) in 768 dimensions leave the estimate noisy. Kept small: more
/// shrinkage blurs the few directions that separate two digits (see the
/// `glyph` tests).
const SHRINK: f32 = 0.05;

/// Class means in the discriminant's terms: for each (font, digit),
/// `w = Σ⁻¹ μ` and `b = ½ μᵀ Σ⁻¹ μ`, so that the squared Mahalanobis
/// distances of two classes differ by `2 (g₁ − g₂)` with `g = wᵀx − b`.
pub struct DigitDiscriminant {
    w: Vec<[f32; FEAT]>,
    b: Vec<f32>,
    /// (font, digit) of each row.
    class: Vec<(u8, u8)>,
}

/// The discriminant's verdict on one glyph: the digit it prefers among the
/// allowed ones and its margin over the next (squared Mahalanobis units).
pub struct Verdict {
    /// The preferred digit.
    pub digit: u8,
    /// How much nearer it is than the next allowed digit.
    pub margin: f32,
}

impl DigitDiscriminant {
    /// Trains from labelled feature vectors `(font, digit, features)`;
    /// `None` without at least two samples of two digits.
    pub fn train(samples: &[(u8, u8, &[f32; FEAT])]) -> Option<DigitDiscriminant> {
        let mut keys: Vec<(u8, u8)> = samples.iter().map(|s| (s.0, s.1)).collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.len() < 2 || samples.len() < 4 {
            return None;
        }
        // Means per (font, digit).
        let mut mean = vec![[0f64; FEAT]; keys.len()];
        let mut count = vec![0f64; keys.len()];
        for (font, digit, x) in samples {
            let k = keys.binary_search(&(*font, *digit)).ok()?;
            for (m, v) in mean[k].iter_mut().zip(x.iter()) {
                *m += f64::from(*v);
            }
            count[k] += 1.0;
        }
        for (m, n) in mean.iter_mut().zip(&count) {
            for v in m.iter_mut() {
                *v /= n.max(1.0);
            }
        }
        // The pooled within-class covariance (upper triangle, then mirrored).
        let mut cov = vec![0f64; FEAT * FEAT];
        let mut centred = [0f64; FEAT];
        for (font, digit, x) in samples {
            let k = keys.binary_search(&(*font, *digit)).ok()?;
            for ((c, v), m) in centred.iter_mut().zip(x.iter()).zip(mean[k].iter()) {
                *c = f64::from(*v) - m;
            }
            for i in 0..FEAT {
                let ci = centred[i];
                let row = &mut cov[i * FEAT..(i + 1) * FEAT];
                for (r, cj) in row[i..].iter_mut().zip(&centred[i..]) {
                    *r += ci * cj;
                }
            }
        }
        let n = samples.len() as f64;
        let mut trace = 0.0;
        for i in 0..FEAT {
            for j in i..FEAT {
                cov[i * FEAT + j] /= n;
                cov[j * FEAT + i] = cov[i * FEAT + j];
            }
            trace += cov[i * FEAT + i];
        }
        let shrink = f64::from(SHRINK);
        let floor = trace / FEAT as f64;
        for i in 0..FEAT {
            for j in 0..FEAT {
                cov[i * FEAT + j] *= 1.0 - shrink;
            }
            cov[i * FEAT + i] += shrink * floor.max(1e-9);
        }
        let chol = cholesky(&mut cov)?;
        let mut w = Vec::with_capacity(keys.len());
        let mut b = Vec::with_capacity(keys.len());
        for m in &mean {
            let s = solve(chol, m);
            let half: f64 = 0.5 * s.iter().zip(m.iter()).map(|(a, c)| a * c).sum::<f64>();
            let mut row = [0f32; FEAT];
            for (r, v) in row.iter_mut().zip(s.iter()) {
                *r = *v as f32;
            }
            w.push(row);
            b.push(half as f32);
        }
        Some(DigitDiscriminant { w, b, class: keys })
    }

    /// The preferred digit among `allowed` (per digit, its best font; only
    /// font `font` when given) and its margin; `None` when fewer than two
    /// allowed digits were trained.
    pub fn judge(&self, x: &[f32; FEAT], allowed: &[u8], font: Option<u8>) -> Option<Verdict> {
        let mut best = Zeroizing::new([f32::NEG_INFINITY; 10]);
        for ((w, b), (f, d)) in self.w.iter().zip(&self.b).zip(&self.class) {
            if !allowed.contains(d) || font.is_some_and(|o| o != *f) {
                continue;
            }
            let g = super::glyph::dot(w, x) - b;
            if let Some(slot) = best.get_mut(usize::from(*d)) {
                *slot = slot.max(g);
            }
        }
        let (mut d1, mut g1, mut g2) = (None, f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (d, &g) in best.iter().enumerate() {
            if g > g1 {
                g2 = g1;
                g1 = g;
                d1 = Some(d as u8);
            } else if g > g2 {
                g2 = g;
            }
        }
        if !g2.is_finite() {
            return None;
        }
        Some(Verdict {
            digit: d1?,
            margin: 2.0 * (g1 - g2),
        })
    }
}

/// In-place Cholesky factor (lower triangle) of a symmetric positive
/// definite FEAT×FEAT matrix; `None` if it is not positive definite.
fn cholesky(a: &mut [f64]) -> Option<&[f64]> {
    let n = FEAT;
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let (ri, rj) = (i * n, j * n);
            let s: f64 = (0..j).map(|k| a[ri + k] * a[rj + k]).sum();
            a[ri + j] = (a[ri + j] - s) / d;
        }
    }
    Some(a)
}

/// Solves `L Lᵀ x = y` with the factor from [`cholesky`].
fn solve(l: &[f64], y: &[f64; FEAT]) -> Vec<f64> {
    let n = FEAT;
    let mut z = vec![0f64; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * z[k]).sum();
        z[i] = (y[i] - s) / l[i * n + i];
    }
    let mut x = vec![0f64; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i * n + i];
    }
    x
}

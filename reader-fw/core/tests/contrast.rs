//! WCAG contrast of every text colour on the background it is drawn on:
//! at least 7:1 (AAA), computed on the colours the panel shows (RGB565).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use embedded_graphics::pixelcolor::{Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use reader_fw::ui::primitives::{colour, pair};

/// WCAG 2 relative luminance.
fn luminance(c: Rgb565) -> f64 {
    let c = Rgb888::from(c);
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// WCAG 2 contrast ratio (1–21).
fn contrast(a: Rgb565, b: Rgb565) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn the_ratio_is_computed_as_wcag_says() {
    assert!((contrast(colour::PAPER, Rgb565::BLACK) - 21.0).abs() < 1e-9);
    assert!((contrast(colour::PAPER, colour::PAPER) - 1.0).abs() < 1e-9);
    // The old take-card band, white on amber: 2.9:1, refused.
    assert!(contrast(colour::PAPER, colour::AMBER) < 3.0);
}

#[test]
fn every_text_pair_has_at_least_7_to_1() {
    let mut bad = Vec::new();
    for (name, p) in pair::ALL {
        let ratio = contrast(p.fg(), p.bg());
        if ratio < 7.0 {
            bad.push(format!("{name}: {ratio:.2}:1"));
        }
    }
    assert!(bad.is_empty(), "below 7:1: {}", bad.join(", "));
    assert!(pair::ALL.len() >= 10);
}

//! The Japanese fonts on this machine, which the generated card fronts of
//! the tests, the bench, the demo and the reader simulator are drawn in
//! (the reader itself reads with its text models and needs no font).
//! Debian packages:
//! fonts-morisawa-bizud-gothic/-mincho, fonts-ipafont-gothic/-mincho,
//! fonts-vlgothic, fonts-takao-gothic (`scripts/setup-debian`).

use std::path::{Path, PathBuf};

/// Font file names this module looks for (regular weights; one file per
/// face so no face is counted twice).
pub const KNOWN: &[&str] = &[
    "BIZUDGothic-Regular.ttf",
    "BIZUDMincho-Regular.ttf",
    "ipag.ttf",
    "ipam.ttf",
    "VL-Gothic-Regular.ttf",
    "TakaoGothic.ttf",
];

/// Folders searched, in order.
pub const DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth < 4 {
            walk(&path, out, depth + 1);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| KNOWN.contains(&n))
        {
            out.push(path);
        }
    }
}

/// Paths of the known Japanese fonts found under `dirs` (the default
/// [`DIRS`] when empty), sorted by file name so runs are repeatable.
pub fn find(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let defaults: Vec<PathBuf> = DIRS.iter().map(PathBuf::from).collect();
    for dir in if dirs.is_empty() { &defaults } else { dirs } {
        walk(dir, &mut out, 0);
    }
    out.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    out.dedup_by(|a, b| a.file_name() == b.file_name());
    out
}

/// Reads the fonts [`find`] lists; unreadable files are skipped.
pub fn load(dirs: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    find(dirs)
        .into_iter()
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            std::fs::read(&p).ok().map(|b| (name, b))
        })
        .collect()
}

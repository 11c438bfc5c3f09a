//! What the process-level tests share: starting `reader-sim` on free ports
//! (killed on drop), and finding and running the `mynareader` binary beside
//! it.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `reader-sim`, killed on drop.
pub struct Sim {
    child: Child,
    /// The link address (`HOST:PORT`).
    pub link: String,
    /// The control address.
    pub control: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `reader-sim` with link and control sockets on free ports, plus
/// `extra` arguments.
pub fn start<S: AsRef<OsStr>>(extra: &[S]) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reader-sim"))
        .args(["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // `link listening on ADDR`, then `control listening on ADDR`.
    let mut address = || {
        lines
            .next()
            .unwrap()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let link = address();
    let control = address();
    Sim {
        child,
        link,
        control,
    }
}

/// The `mynareader` binary beside this package's `reader-sim` (the
/// workspace's `cargo build --bins` puts both there), or `None` with a
/// message when it was not built; under CI that is a failure.
pub fn mynareader_cli() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_BIN_EXE_reader-sim")).with_file_name("mynareader");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    eprintln!(
        "skipped: {} not built (cargo build --workspace --bins)",
        path.display()
    );
    None
}

/// Runs the CLI: exit code, stdout, stderr.
pub fn run_cli(cli: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(cli).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

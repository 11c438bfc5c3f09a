//! `mynareader demo`: hands over to `mynareader-demo` beside this program
//! (the simulated world's crate builds it). The demo plays the card
//! emulator, whose test keys have no place in the kiosk a clinic installs,
//! so this binary carries none of it: it only finds the demo and runs it in
//! its place, arguments, output and exit code unchanged.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use crate::hint::{Failure, Hint};

/// The demo's own arguments (`mynareader demo --help` lists them).
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct DemoArgs {
    /// Passed to `mynareader-demo` as they are.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

/// The demo binary's path: beside this program.
fn demo_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join("mynareader-demo");
    path.is_file().then_some(path)
}

/// Runs the demo in this process's place; returns only when it cannot.
pub fn run(args: DemoArgs) -> Result<(), Failure> {
    let Some(binary) = demo_binary() else {
        return Err(
            Failure::new("mynareader-demo is not beside this program").hint(Hint::DemoFromSource)
        );
    };
    let error = std::process::Command::new(&binary).args(&args.args).exec();
    Err(
        Failure::new(format!("cannot run {}: {error}", binary.display()))
            .hint(Hint::DemoFromSource),
    )
}

//! `mynareader diagnose [--config FILE] [--json]`: every part of an
//! installation checked, with what to do for each failure.

use std::path::PathBuf;

use myna_kiosk::config::KioskConfig;
use myna_kiosk::diagnose;

use crate::hint::{Failure, Hint};

/// Options of `diagnose`.
#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    /// The kiosk's settings file (default: the built-in defaults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// As JSON (for remote support).
    #[arg(long)]
    json: bool,
}

/// Runs the checks; fails (exit 1) when any fails.
pub fn run(args: DiagnoseArgs) -> Result<(), Failure> {
    let config = KioskConfig::load(args.config.as_deref())
        .map_err(|e| Failure::new(e.to_string()).hint(Hint::CheckPath))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let checks = diagnose::run(&config, now);
    let failed = checks.iter().filter(|c| !c.ok).count();
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "ok": failed == 0, "checks": checks })
        );
    } else {
        for c in &checks {
            println!(
                "{} {:<11} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.check,
                c.detail
            );
            if let Some(hint) = c.hint {
                println!("     {:<11} → {hint}", "");
            }
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(format!("{failed} check(s) failed")).quiet())
    }
}

//! `mynareader-demo` (run as `mynareader demo`): a whole simulated
//! reception, three patients, on embedded defaults and loopback only. It
//! lives with the simulated world, outside the kiosk's binary: the package a
//! clinic installs carries no card emulator and none of its test keys.

mod demo;
mod failure;

use std::process::ExitCode;

use clap::Parser;

/// A whole simulated reception, three patients (the README's main job).
#[derive(Debug, Parser)]
#[command(name = "mynareader demo", version)]
struct Cli {
    #[command(flatten)]
    args: demo::DemoArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own transcript; only errors go to the log.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MYNAREADER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    match demo::run(cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

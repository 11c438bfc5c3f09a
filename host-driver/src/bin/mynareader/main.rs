//! `mynareader`: the host driver's command line. This file owns only the
//! clap top level, the dispatch to one module per command group, and the exit
//! code; the groups live in their modules, failures and hints in `hint`.
//!
//! A new command group is one module (its `Subcommand` enum and `run`), one
//! `Command` variant and one arm in `run`.

mod card;
mod card_front;
mod demo;
mod device_key;
mod diagnose;
mod face;
mod flash;
mod fw;
mod hint;
mod kiosk;
mod reader;
mod staff;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::hint::Failure;

/// Host driver of the mynareader face-recognition card reader.
#[derive(Debug, Parser)]
#[command(version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read the My Number Card on the reader (never spends a PIN try).
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Read 照合番号B from a card-camera image (for technicians; prints the digits).
    #[command(subcommand)]
    CardFront(card_front::CardFrontCommand),
    /// A whole simulated reception, three patients (the README's main job;
    /// runs `mynareader-demo`, which a source tree builds beside this program).
    Demo(demo::DemoArgs),
    /// Check an installation: pcscd, reader, models, key, database, upstream, clock.
    Diagnose(diagnose::DiagnoseArgs),
    /// The device key that signs upstream messages.
    #[command(subcommand)]
    Device(device_key::DeviceCommand),
    /// Compare faces with the on-device models.
    #[command(subcommand)]
    Face(face::FaceCommand),
    /// Put a signed firmware image on a reader (checked first; no
    /// downgrade unless --allow-downgrade).
    Flash(flash::FlashArgs),
    /// Signed firmware images: keys, signing, checking.
    #[command(subcommand)]
    Fw(fw::FwCommand),
    /// The kiosk service a clinic runs; `kiosk status` asks a running one.
    Kiosk(kiosk::KioskArgs),
    /// Clinic staff: accounts, 目視, the audit trail, status and alerts.
    Staff(staff::StaffArgs),
    /// Talk to a reader over the link: who it is, show a screen.
    #[command(subcommand)]
    Reader(reader::ReaderCommand),
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Card(command) => card::run(command),
        Command::CardFront(command) => card_front::run(command),
        Command::Demo(args) => demo::run(args),
        Command::Device(command) => device_key::run(command),
        Command::Diagnose(args) => diagnose::run(args),
        Command::Face(command) => face::run(command),
        Command::Flash(args) => flash::run(args),
        Command::Fw(command) => fw::run(command),
        Command::Kiosk(args) => kiosk::run(args),
        Command::Reader(command) => reader::run(command),
        Command::Staff(args) => staff::run(args),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = "warn";
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MYNAREADER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

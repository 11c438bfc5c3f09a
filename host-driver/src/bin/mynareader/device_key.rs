//! `mynareader device …`: the device key that signs upstream messages.
//! Owns creating it (owner-only, never replacing one) and printing the public
//! key for registration. Not the reader link (`myna_link_host`).

use std::path::PathBuf;

use clap::Subcommand;
use myna_upstream::signer::{self, DeviceSigner};

use crate::hint::{Failure, Hint};

/// The `device` command group.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create the device key (owner-only; never replaces one) and print its
    /// public key for registration with the upstream.
    Init {
        /// Where to keep the PKCS#8 key.
        #[arg(long)]
        key: PathBuf,
        /// Also write the public key (PEM) here.
        #[arg(long)]
        public_out: Option<PathBuf>,
    },
}

/// Runs a `device` command.
pub fn run(command: DeviceCommand) -> Result<(), Failure> {
    match command {
        DeviceCommand::Init { key, public_out } => init(key, public_out),
    }
}

fn init(key: PathBuf, public_out: Option<PathBuf>) -> Result<(), Failure> {
    let signer = signer::init_device_key(&key)?;
    let pem = signer::public_key_pem(signer.public_key());
    if let Some(path) = public_out {
        std::fs::write(&path, &pem).map_err(|e| {
            Failure::new(format!("cannot write {}: {e}", path.display())).hint(Hint::WritableFolder)
        })?;
    }
    print!("device id: {}\n{pem}", signer.key_id());
    Ok(())
}

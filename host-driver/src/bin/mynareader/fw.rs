//! `mynareader fw …`: signed firmware images for technicians. Owns the
//! commands' arguments and what they print; keys, signing and checking
//! are `myna_kiosk::fw` (and through it `myna-image`, the reader's own
//! parser).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use myna_kiosk::fw::{self, FwError, Release};

use crate::hint::{Failure, Hint};

/// The `fw` command group.
#[derive(Debug, Subcommand)]
pub enum FwCommand {
    /// Create a release key (owner-only); print its public key and write it
    /// to OUT.pub.
    Keygen {
        /// The secret key file to create (never replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a raw firmware image.
    // `--version` is the image's here, not the program's.
    #[command(disable_version_flag = true)]
    Sign {
        /// The secret key (must not be readable by group or others).
        #[arg(long)]
        key: PathBuf,
        /// Firmware version.
        #[arg(long)]
        version: u32,
        /// Anti-rollback counter: readers refuse images below theirs.
        #[arg(long)]
        security_counter: u32,
        /// Hardware id (decimal or 0x hex).
        #[arg(long, value_parser = parse_u32)]
        hw_id: u32,
        /// The signed image to write.
        #[arg(long)]
        out: PathBuf,
        /// The raw image.
        raw: PathBuf,
    },
    /// Print a signed image's header and whether its signature verifies
    /// (exit 1 when it does not, or when the file is truncated).
    Info {
        /// The public key (`K.pub`).
        #[arg(long)]
        pubkey: PathBuf,
        /// The signed image.
        signed: PathBuf,
    },
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("{s:?}: {e}"))
}

/// Runs an `fw` command.
pub fn run(command: FwCommand) -> Result<(), Failure> {
    match command {
        FwCommand::Keygen { out } => {
            let public = fw::keygen(&out, &mut rand::rngs::OsRng)?;
            println!("public key: {}", hex::encode(public));
            println!("written to: {}", fw::public_path(&out).display());
            Ok(())
        }
        FwCommand::Sign {
            key,
            version,
            security_counter,
            hw_id,
            out,
            raw,
        } => {
            let secret = fw::load_secret(&key)?;
            let body = read(&raw)?;
            let release = Release {
                hw_id,
                version,
                security_counter,
            };
            let image = fw::sign(&secret, release, &body)?;
            std::fs::write(&out, &image).map_err(|e| {
                Failure::new(format!("cannot write {}: {e}", out.display()))
                    .hint(Hint::WritableFolder)
            })?;
            println!(
                "signed {} ({} bytes): version {version}, security counter {security_counter}, hw id {hw_id:#010x}",
                out.display(),
                image.len()
            );
            Ok(())
        }
        FwCommand::Info { pubkey, signed } => {
            let public = fw::load_public(&pubkey)?;
            let bytes = read(&signed)?;
            let info = fw::inspect(&bytes, &public);
            if let Some(h) = &info.header {
                println!("hardware id:      {:#010x}", h.hw_id);
                println!("version:          {}", h.version);
                println!("security counter: {}", h.security_counter);
                println!("body:             {} bytes", h.body_len);
                println!("body sha256:      {}", hex::encode(h.body_sha256));
                println!("key id:           {}", hex::encode(h.key_id));
            }
            match info.verdict {
                Ok(()) => {
                    println!("signature:        verified");
                    Ok(())
                }
                Err(e) => {
                    println!("signature:        NOT verified ({e})");
                    Err(Failure::context(signed.display(), FwError::Image(e)))
                }
            }
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(format!("cannot read {}: {e}", path.display())).hint(Hint::CheckPath)
    })
}

//! `upstream-ref`: runs the reference upstream over HTTP until killed,
//! printing `listening on http://ADDR` once it accepts connections (tests wait
//! for that line).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use myna_upstream::clock::{SystemClock, SystemRng};
use upstream_ref::{Reference, ReferenceConfig};

/// The reference upstream server (checks every signature).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0: any free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: String,
    /// A registered device public key (PEM); repeat for several devices.
    #[arg(long = "device-key", required = true)]
    device_keys: Vec<PathBuf>,
    /// A trusted JPKI CA certificate (DER); repeat for several.
    #[arg(long = "jpki-ca", required = true)]
    jpki_cas: Vec<PathBuf>,
    /// Test patients: JSON object from certificate serial to patient.
    #[arg(long)]
    patients: Option<PathBuf>,
    /// Seconds a nonce stays valid.
    #[arg(long, default_value_t = 60)]
    nonce_ttl: u64,
}

/// An error for a person: what happened, and what to do about it.
struct Failure {
    message: String,
    hint: Option<&'static str>,
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure {
        message: format!("cannot read {what} {}: {e}", path.display()),
        hint: Some("check the path and its permissions"),
    })
}

fn config(args: &Args) -> Result<ReferenceConfig, Failure> {
    let mut device_keys = Vec::new();
    for path in &args.device_keys {
        let pem = String::from_utf8_lossy(&read_file(path, "device key")?).into_owned();
        device_keys.push(
            myna_upstream::signer::public_key_from_pem(&pem).map_err(|e| Failure {
                message: format!("{}: {e}", path.display()),
                hint: Some("pass the PEM that `mynareader device init` printed"),
            })?,
        );
    }
    let mut jpki_cas = Vec::new();
    for path in &args.jpki_cas {
        jpki_cas.push(read_file(path, "JPKI CA certificate")?);
    }
    let patients = match &args.patients {
        Some(path) => {
            serde_json::from_slice(&read_file(path, "patients")?).map_err(|e| Failure {
                message: format!("{}: {e}", path.display()),
                hint: Some("a JSON object from certificate serial (\"01:a2:…\") to patient"),
            })?
        }
        None => Default::default(),
    };
    Ok(ReferenceConfig {
        device_keys,
        jpki_cas,
        patients,
        nonce_ttl: Duration::from_secs(args.nonce_ttl),
    })
}

fn run(args: Args) -> Result<(), Failure> {
    let reference = Reference::new(config(&args)?, Box::new(SystemRng::default()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure {
            message: format!("cannot start the server runtime: {e}"),
            hint: None,
        })?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| Failure {
                message: format!("cannot listen on {}: {e}", args.listen),
                hint: Some("choose another --listen address or port"),
            })?;
        let addr = listener.local_addr().map_err(|e| Failure {
            message: format!("cannot read the listening address: {e}"),
            hint: None,
        })?;
        println!("listening on http://{addr}");
        // Tests read this line through a pipe: it must not sit in a buffer.
        let _ = std::io::stdout().flush();
        upstream_ref::serve(listener, reference, SystemClock)
            .await
            .map_err(|e| Failure {
                message: format!("server stopped: {e}"),
                hint: None,
            })
    })
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("upstream-ref: {}", failure.message);
            if let Some(hint) = failure.hint {
                eprintln!("  hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

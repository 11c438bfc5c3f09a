//! Benchmark: reading the user-authentication certificate through pcscd + vpcd
//! from the emulator, ours next to OpenSC's `pkcs15-tool --read-certificate`
//! on the same card in the same run. Reports APDUs per read (from the card's
//! own log) and wall time per read (median of N).
//!
//! `cargo build --release --workspace --bins && cargo bench -p mynareader-tests --bench cert_read`

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use myna_card::pcsc::{ConnectOptions, PcscCard};
use myna_card::MynaCard;
use mynareader_tests::{binary, main_isolated, Bed, CardSim, WhenMissing};

const RUNS: usize = 25;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Runs `read` RUNS times; returns the median time and the APDUs of one read.
fn measure(
    sim: &CardSim,
    mut read: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(Duration, usize)> {
    read()?; // warm-up: page cache, pcscd threads
    let before = sim.apdus().len();
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        read()?;
        samples.push(start.elapsed());
    }
    let apdus = (sim.apdus().len() - before) / RUNS;
    Ok((median(samples), apdus))
}

fn run_ok(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn inner() -> anyhow::Result<()> {
    let bed = Bed::start()?;
    let sim = bed.insert_card(&[]);
    let out = bed.dir().join("cert.der");
    let pem = bed.dir().join("cert.pem");
    let connect = || {
        PcscCard::connect(ConnectOptions {
            reader: None,
            wait: Duration::from_secs(5),
        })
    };

    let mut rows = Vec::new();
    // The library, connection already open: the cost of the read itself.
    let mut card = MynaCard::new(connect()?);
    rows.push((
        "mynareader library, open connection",
        measure(&sim, || Ok(card.read_auth_certificate().map(drop)?))?,
    ));
    drop(card);
    // The library including connect/disconnect (card reset on disconnect).
    rows.push((
        "mynareader library, connect + read",
        measure(&sim, || {
            Ok(MynaCard::new(connect()?)
                .read_auth_certificate()
                .map(drop)?)
        })?,
    ));
    // Whole processes, as a technician would run them.
    let cli = binary("mynareader");
    rows.push((
        "mynareader card read-cert (process)",
        measure(&sim, || {
            run_ok(
                Command::new(&cli)
                    .arg("card")
                    .arg("read-cert")
                    .arg("--force")
                    .arg("--out")
                    .arg(&out),
            )
        })?,
    ));
    rows.push((
        "pkcs15-tool --read-certificate 01 (process)",
        measure(&sim, || {
            run_ok(
                Command::new("pkcs15-tool")
                    .args(["-r", "0", "--read-certificate", "01", "-o"])
                    .arg(&pem),
            )
        })?,
    ));

    println!("certificate read through pcscd + vpcd, median of {RUNS} runs");
    println!("{:<46} {:>10} {:>8}", "client", "time", "APDUs");
    for (name, (time, apdus)) in rows {
        println!("{name:<46} {:>8.2}ms {apdus:>8}", time.as_secs_f64() * 1e3);
    }
    Ok(())
}

fn main() -> ExitCode {
    main_isolated("cert_read", &["pkcs15-tool"], WhenMissing::Skip, inner)
}

//! The main job until the full reception exists: an emulated My Number Card on
//! a real pcscd (through vpcd), read by `mynareader card info`, all inside
//! private namespaces so no pcscd of the machine is touched.

use std::process::{Command, ExitCode};

use mynareader_tests::{binary, main_isolated, Bed, WhenMissing};

fn inner() -> anyhow::Result<()> {
    let bed = Bed::start()?;
    println!("== pcscd is up with a virtual reader; placing an emulated My Number Card");
    let _card = bed.insert_card(&[]);
    for args in [&["card", "info"][..], &["card", "info", "--json"]] {
        println!("\n$ mynareader {}", args.join(" "));
        let status = Command::new(binary("mynareader")).args(args).status()?;
        anyhow::ensure!(status.success(), "mynareader {} failed", args.join(" "));
    }
    let out = bed.dir().join("auth-cert.der");
    let out_text = out.to_string_lossy().into_owned();
    println!("\n$ mynareader card read-cert --out {out_text}");
    let status = Command::new(binary("mynareader"))
        .args(["card", "read-cert", "--out", &out_text])
        .status()?;
    anyhow::ensure!(status.success(), "mynareader card read-cert failed");
    println!("{} bytes of DER written", std::fs::metadata(&out)?.len());
    Ok(())
}

fn main() -> ExitCode {
    main_isolated("mynareader-demo", &[], WhenMissing::Fail, inner)
}

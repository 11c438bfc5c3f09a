//! The kiosk service as a clinic runs it: `mynareader kiosk --config FILE`
//! as its own process, the card on a real (private) pcscd through vpcd and
//! the emulator, the reader `reader-sim` and the upstream `upstream-ref`,
//! each a separate process. A PIN reception from card placed to card taken;
//! `mynareader kiosk status`, and the staff tools (`staff add`, `staff
//! visual-check` with a password, `staff audit`) on its socket and database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use myna_sim_world::{patient_entry, serial_text, Rig, RigSetup};
use mynareader_tests::{binary, testbed_test};

/// The emulator's default certificate serial.
const SERIAL: [u8; 6] = [0x01, 0xA2, 0xB3, 0xC4, 0xD5, 0xE6];

struct Service(std::process::Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

testbed_test! {
    fn the_kiosk_service_runs_a_reception_with_the_card_on_pcscd(bed) {
        let work = bed.dir().join("work");
        let mut setup = RigSetup::new(mynareader_tests::bin_dir(), work.clone());
        setup.patients.insert(serial_text(&SERIAL), patient_entry("valid", true, "カード タロウ", false));
        let rig = Rig::start(setup).unwrap();
        let config = bed.dir().join("kiosk.toml");
        std::fs::write(
            &config,
            format!(
                "[reader]\nlink = \"tcp:{}\"\nvolume = 35\n[face]\nenabled = false\n[upstream]\nurl = \"{}\"\n\
                 [files]\ndatabase = \"{}\"\ndevice_key = \"{}\"\ncontrol = \"{}\"\n",
                rig.link_address,
                rig.upstream_url,
                work.join("kiosk.db").display(),
                work.join("device.key").display(),
                rig.socket.display(),
            ),
        )
        .unwrap();
        let mut child = Command::new(binary("mynareader"))
            .arg("kiosk")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let _service = Service(child);
        let mut lines = BufReader::new(stdout).lines();
        let started = lines.next().unwrap().unwrap();
        assert!(started.starts_with("mynareader kiosk: reader tcp:"), "{started}");
        assert!(started.contains("face off"), "{started}");
        std::thread::spawn(move || for _ in lines {});

        let mut reader = rig.reader_control().unwrap();
        reader.wait_for("Idle").unwrap();
        // The settings' voice reached the reader.
        let state = (0..100)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(20));
                reader.ask("state").unwrap()
            })
            .find(|state| state.contains("voice=on:35"));
        assert!(state.is_some(), "{:?}", reader.ask("state"));
        let card = bed.insert_card(&["--pin", "4826"]);
        // Face is off (no models here): no choice is offered, the PIN pad
        // comes straight away.
        reader.wait_for("PinEntry { tries_left: 3").unwrap();
        reader.enter_pin("4826").unwrap();
        reader.wait_for("ConsentOverview").unwrap();
        reader.tap("yes").unwrap();
        reader.wait_for("Done").unwrap();
        card.remove();
        reader.wait_for("Idle").unwrap();
        assert_eq!(rig.wait_outbox_empty(Duration::from_secs(10)), 0);
        let received = rig.received();
        assert_eq!(received["verify"].as_array().map(Vec::len), Some(1), "{received}");
        assert_eq!(received["consent"].as_array().map(Vec::len), Some(1), "{received}");

        // The staff tools.
        let socket = rig.socket.display().to_string();
        let status = bed.mynareader(&["kiosk", "status", "--control", &socket, "--json"]);
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        assert_eq!(status["in_reception"], false);
        assert_eq!(status["reader_up"], true);
        assert_eq!(status["receptions"], 1);
        // Staff: an account made on the database file, then 目視 as that
        // member through the running kiosk; a wrong password is refused.
        let db = work.join("kiosk.db").display().to_string();
        let with_stdin = |args: &[&str], input: &str| {
            let mut child = Command::new(binary("mynareader"))
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        };
        let added = with_stdin(&["staff", "add", "nurse-2", "--db", &db, "--password-stdin"], "long enough pw\n");
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
        let wrong = with_stdin(
            &["staff", "visual-check", "on", "--staff", "nurse-2", "--reason", "unwell", "--control", &socket, "--password-stdin"],
            "not it\n",
        );
        assert!(!wrong.status.success());
        assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong staff id or password"));
        let on = with_stdin(
            &["staff", "visual-check", "on", "--staff", "nurse-2", "--reason", "unwell", "--control", &socket, "--password-stdin"],
            "long enough pw\n",
        );
        assert!(on.status.success(), "{}", String::from_utf8_lossy(&on.stderr));
        let text = bed.mynareader(&["staff", "status", "--control", &socket]);
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        assert!(text.contains("目視          on"), "{text}");
        let off = with_stdin(
            &["staff", "visual-check", "off", "--staff", "nurse-2", "--control", &socket, "--password-stdin"],
            "long enough pw\n",
        );
        assert!(off.status.success(), "{}", String::from_utf8_lossy(&off.stderr));
        let trail = bed.mynareader(&["staff", "audit", "show", "--db", &db]);
        let trail = String::from_utf8_lossy(&trail.stdout).into_owned();
        for event in ["account-added", "visual-check-on", "visual-check-off"] {
            assert!(trail.contains(event), "{event} not in\n{trail}");
        }
        let verify = bed.mynareader(&["staff", "audit", "verify", "--db", &db]);
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
        // The head as the upstream keeps it: the trail holds it; a later
        // one it does not hold is a cut (or an older copy put back).
        let head = bed.mynareader(&["staff", "audit", "head", "--db", &db]);
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        let (seq, hash) = head.split_once(':').unwrap();
        assert_eq!(hash.len(), 64, "{head}");
        let held = bed.mynareader(&["staff", "audit", "verify", "--db", &db, "--head", &head]);
        assert!(held.status.success(), "{}", String::from_utf8_lossy(&held.stderr));
        let later = format!("{}:{hash}", seq.parse::<i64>().unwrap() + 3);
        let cut = bed.mynareader(&["staff", "audit", "verify", "--db", &db, "--head", &later]);
        assert!(!cut.status.success());
        assert!(String::from_utf8_lossy(&cut.stderr).contains("older copy"), "{}", String::from_utf8_lossy(&cut.stderr));
        // Account changes name who made them.
        assert!(trail.contains("by="), "{trail}");
        let bad = bed.mynareader(&["kiosk", "status", "--control", "/nonexistent/kiosk.sock"]);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("hint:"));
    }
}

/// `mynareader diagnose --json` with this settings text: exit success and
/// the failed checks' names.
fn diagnose(bed: &mynareader_tests::Bed, settings: &str) -> (bool, Vec<String>) {
    let path = bed.dir().join("diagnose.toml");
    std::fs::write(&path, settings).unwrap();
    let out = bed.mynareader(&[
        "diagnose",
        "--json",
        "--config",
        &path.display().to_string(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            assert!(
                c["hint"].as_str().is_some_and(|h| !h.is_empty()),
                "a hint for {c}"
            );
            c["check"].as_str().unwrap().to_string()
        })
        .collect();
    (out.status.success(), failed)
}

testbed_test! {
    fn diagnose_passes_a_good_installation_and_names_each_broken_part(bed) {
        let work = bed.dir().join("work");
        let mut rig = Rig::start(RigSetup::new(mynareader_tests::bin_dir(), work.clone())).unwrap();
        let settings = |link: &str, url: &str, key: &std::path::Path, db: &std::path::Path| {
            format!(
                "[reader]\nlink = \"{link}\"\n[face]\nenabled = false\n[upstream]\nurl = \"{url}\"\n\
                 [files]\ndatabase = \"{}\"\ndevice_key = \"{}\"\n",
                db.display(),
                key.display()
            )
        };
        let link = format!("tcp:{}", rig.link_address);
        let key = work.join("device.key");
        let db = work.join("kiosk.db");
        let good = settings(&link, &rig.upstream_url, &key, &db);
        assert_eq!(diagnose(bed, &good), (true, vec![]));
        // Each broken part is named (and the others still pass).
        assert_eq!(
            diagnose(bed, &settings("tcp:127.0.0.1:9", &rig.upstream_url, &key, &db)),
            (false, vec!["reader".to_string()])
        );
        assert_eq!(
            diagnose(bed, &settings(&link, &rig.upstream_url, &key, std::path::Path::new("/proc/none/kiosk.db"))),
            (false, vec!["database".to_string()])
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(diagnose(bed, &good), (false, vec!["device-key".to_string()]));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        rig.kill_upstream();
        assert_eq!(diagnose(bed, &good), (false, vec!["upstream".to_string()]));
        let text = bed.mynareader(&["diagnose", "--config", &bed.dir().join("diagnose.toml").display().to_string()]);
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        assert!(text.contains("FAIL upstream"), "{text}");
        assert!(text.contains("→"), "a hint under the failure: {text}");
    }
}

//! `mynareader diagnose`: checks an installation part by part, as its
//! settings describe it, and says for each failure what to do. Each check
//! reaches the real thing (pcscd, the reader link, the model files, the
//! device key, the database, the upstream, the clock) with short limits,
//! and nothing is changed except the database being opened (created when
//! absent, as the kiosk would).

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::KioskConfig;
use myna_card::pcsc;
use myna_card::TransportError;
use myna_face::{FaceEngine, FaceSettings};
use myna_link_host::{self as link, FrameTransport, ReaderLink};
use myna_upstream::courier::Upstream;
use myna_upstream::http::{HttpOptions, HttpUpstream};
use myna_upstream::outbox::Outbox;
use myna_upstream::signer::{DeviceSigner, FileSigner};

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which part (`pcscd`, `reader`, `models`, `text-models`, `device-key`,
    /// `database`, `upstream`, `clock`).
    pub check: &'static str,
    /// Passed (a part switched off by the settings passes).
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do, when it failed.
    pub hint: Option<&'static str>,
}

fn pass(check: &'static str, detail: impl Into<String>) -> Check {
    Check {
        check,
        ok: true,
        detail: detail.into(),
        hint: None,
    }
}

fn fail(check: &'static str, detail: impl Into<String>, hint: &'static str) -> Check {
    Check {
        check,
        ok: false,
        detail: detail.into(),
        hint: Some(hint),
    }
}

/// Runs every check; `now_unix` is the clock being judged.
pub fn run(config: &KioskConfig, now_unix: i64) -> Vec<Check> {
    vec![
        pcscd(config),
        reader(config),
        models(config),
        text_models(config),
        device_key(Path::new(&config.files.device_key)),
        database(Path::new(&config.files.database)),
        upstream(config),
        clock(now_unix),
    ]
}

fn pcscd(config: &KioskConfig) -> Check {
    match pcsc::list_readers() {
        Ok(readers) => {
            let wanted = &config.card.pcsc_reader;
            if wanted.is_empty() || readers.iter().any(|r| r.contains(wanted.as_str())) {
                pass("pcscd", format!("readers: {}", readers.join(", ")))
            } else {
                fail(
                    "pcscd",
                    format!("no reader named like {wanted:?} among {}", readers.join(", ")),
                    "check [card] pcsc_reader against the names `pcsc_scan` shows",
                )
            }
        }
        Err(TransportError::NoService) => fail(
            "pcscd",
            "pcscd does not answer",
            "start the smart-card service: `systemctl start pcscd.socket` (package pcscd)",
        ),
        Err(TransportError::NoReaders) => fail(
            "pcscd",
            "pcscd sees no reader",
            "connect the card reader (its CCID interface needs libccid); `pcsc_scan` lists what pcscd sees",
        ),
        Err(e) => fail("pcscd", e.to_string(), "see udev/README.md for pcscd and libccid"),
    }
}

fn reader(config: &KioskConfig) -> Check {
    let address = match config.link() {
        Ok(address) => address,
        Err(e) => {
            return fail(
                "reader",
                e.to_string(),
                "fix [reader] link: usb, usb:SERIAL or tcp:HOST:PORT",
            )
        }
    };
    let opened = link::connect(&address)
        .map_err(|e| e.to_string())
        .and_then(|mut transport| {
            transport
                .set_read_timeout(Duration::from_secs(3))
                .map_err(|e| e.to_string())?;
            ReaderLink::open(transport, || rand::random::<u32>().max(1)).map_err(|e| e.to_string())
        });
    match opened {
        Ok(link) => {
            let info = link.info();
            pass(
                "reader",
                format!(
                    "{address}: firmware {} in slot {}, screen {}×{}",
                    info.firmware,
                    if info.slot == 0 { "A" } else { "B" },
                    info.width,
                    info.height
                ),
            )
        }
        Err(e) => fail(
            "reader",
            format!("{address}: {e}"),
            "connect the reader (USB) and check its permissions (udev rules, the kiosk group); for reader-sim check the address",
        ),
    }
}

fn models(config: &KioskConfig) -> Check {
    if !config.face.enabled {
        return pass("models", "face recognition is off in the settings");
    }
    let settings = FaceSettings {
        models_dir: KioskConfig::path(&config.face.models),
        ..FaceSettings::default()
    };
    let dir = myna_face::models::models_dir(settings.models_dir.as_deref());
    match FaceEngine::load(settings) {
        Ok(engine) => {
            let pad: Vec<&str> = engine
                .pad()
                .map(|p| p.texture().names().to_vec())
                .unwrap_or_default();
            let evaluation = pad.iter().any(|n| n.ends_with("-eval"));
            pass(
                "models",
                format!(
                    "{}: detector, {} and PAD ({}) match the manifest's sha256{}",
                    dir.display(),
                    engine.recogniser_name(),
                    pad.join(", "),
                    if evaluation {
                        "; PAD is the evaluation copy (development only): run models/fetch for the production conversion"
                    } else {
                        ""
                    }
                ),
            )
        }
        Err(e) => fail(
            "models",
            format!(
                "{}: {e}; the kiosk does not offer face recognition (patients get the PIN pad or staff)",
                dir.display()
            ),
            "run models/fetch (or set [face] models to the folder with the weights)",
        ),
    }
}

fn text_models(config: &KioskConfig) -> Check {
    if !config.face.enabled {
        return pass("text-models", "face recognition is off in the settings");
    }
    let setting = KioskConfig::path(&config.face.models);
    let dir = myna_card_front::ocr::text_models_dir(setting.as_deref());
    match myna_card_front::CardFrontReader::load(
        &dir,
        myna_card_front::CardFrontSettings::default(),
        1,
    ) {
        Ok(_) => pass(
            "text-models",
            format!(
                "{}: the card front's detector, recogniser and dictionary match the manifest's sha256 and load",
                dir.display()
            ),
        ),
        Err(e) => fail(
            "text-models",
            format!("{}: {e}", dir.display()),
            "run models/fetch (it fetches the PP-OCRv5 text models beside the face models), or set [face] models",
        ),
    }
}

fn device_key(path: &Path) -> Check {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            return fail(
                "device-key",
                format!("{}: {e}", path.display()),
                "create it once with `mynareader device init --key PATH` and register its public key upstream",
            )
        }
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return fail(
            "device-key",
            format!("{} is readable by others (mode {mode:o})", path.display()),
            "make it owner-only: `chmod 600 KEY`, and consider the key exposed",
        );
    }
    match FileSigner::load(path) {
        Ok(signer) => pass(
            "device-key",
            format!("{}: key id {}", path.display(), signer.key_id()),
        ),
        Err(e) => fail(
            "device-key",
            format!("{}: {e}", path.display()),
            "the file is not a device key: restore it, or make a new one and register it",
        ),
    }
}

fn database(path: &Path) -> Check {
    match Outbox::open(path).and_then(|outbox| outbox.pending_count()) {
        Ok(pending) => pass(
            "database",
            format!("{}: writable, {pending} message(s) waiting", path.display()),
        ),
        Err(e) => fail(
            "database",
            format!("{}: {e}", path.display()),
            "check that the folder exists and the kiosk's user may write it (StateDirectory in the unit)",
        ),
    }
}

fn upstream(config: &KioskConfig) -> Check {
    let read = |path: &str| KioskConfig::path(path).map(std::fs::read).transpose();
    let options = match (
        read(&config.upstream.ca),
        read(&config.upstream.client_identity),
    ) {
        (Ok(ca_pem), Ok(client_identity_pem)) => HttpOptions {
            timeout: Some(Duration::from_secs(5)),
            ca_pem,
            client_identity_pem,
        },
        (Err(e), _) | (_, Err(e)) => {
            return fail(
                "upstream",
                format!("cannot read the TLS files: {e}"),
                "check [upstream] ca and client_identity",
            )
        }
    };
    let url = &config.upstream.url;
    match HttpUpstream::new(url, options)
        .map_err(|e| e.to_string())
        .and_then(|u| u.challenge().map_err(|e| e.to_string()))
    {
        Ok(_) => pass("upstream", format!("{url}: answered a challenge")),
        Err(e) => fail(
            "upstream",
            format!("{url}: {e}"),
            "check the network and [upstream] url; for https, the CA and client certificate",
        ),
    }
}

fn clock(now_unix: i64) -> Check {
    let year = time::OffsetDateTime::from_unix_timestamp(now_unix)
        .map(|t| t.year())
        .unwrap_or(0);
    if (2024..2100).contains(&year) {
        pass("clock", format!("year {year}"))
    } else {
        fail(
            "clock",
            format!("the clock says year {year}"),
            "set the time (NTP: `timedatectl set-ntp true`): certificates and nonces depend on it",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_check_and_the_key_mode_check_say_what_to_do() {
        assert!(clock(1_796_000_000).ok);
        let bad = clock(0);
        assert!(!bad.ok);
        assert!(bad.hint.is_some_and(|h| h.contains("NTP")));
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("device.key");
        myna_upstream::signer::init_device_key(&key).expect("key");
        assert!(device_key(&key).ok);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let open = device_key(&key);
        assert!(!open.ok);
        assert!(open.detail.contains("readable by others"));
        assert!(!device_key(&dir.path().join("missing")).ok);
        assert!(database(&dir.path().join("kiosk.db")).ok);
        assert!(!database(Path::new("/proc/nonexistent/kiosk.db")).ok);
    }
}

//! Installation: the Debian package built from the workspace
//! (`scripts/build-deb`) and inspected with `dpkg-deb` (and `lintian`
//! where installed); the systemd unit checked with `systemd-analyze
//! verify` where available; the udev rules checked for syntax; the default
//! settings file equal to the built-in defaults; and the package installed,
//! reinstalled, removed and purged for real on a clean Debian 12 root
//! (`debootstrap --variant=minbase`, no systemd, no udev), in a chroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the package into `out` from the binaries the tests run; its path.
fn build_deb(out: &Path) -> String {
    let built = run(
        "bash",
        &[
            &workspace().join("scripts/build-deb").display().to_string(),
            "--profile",
            mynareader_tests::bin_dir()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("debug"),
            "--compress",
            "gzip",
            "--out",
            &out.display().to_string(),
        ],
    );
    built.lines().last().unwrap().trim().to_string()
}

#[test]
fn the_debian_package_holds_the_service_and_its_scripts_spare_hosts_without_systemd() {
    if !which("dpkg-deb") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: dpkg-deb missing"
        );
        eprintln!("skipped: dpkg-deb not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb(dir.path());
    let listing = run("dpkg-deb", &["-c", &deb]);
    for path in [
        "./usr/bin/mynareader",
        "./lib/systemd/system/mynareader-kiosk.service",
        "./lib/udev/rules.d/60-mynareader.rules",
        "./etc/mynareader/kiosk.toml",
        "./usr/share/mynareader/models/manifest.json",
        "./usr/share/mynareader/models/fetch",
        "./usr/share/mynareader/models/convert-minifasnet",
        "./usr/share/doc/mynareader/copyright",
        "./usr/share/doc/mynareader/changelog.gz",
        "./usr/share/doc/mynareader/voice-credits.md",
    ] {
        assert!(
            listing.contains(path),
            "{path} not in the package:\n{listing}"
        );
    }
    assert!(
        !listing.contains(".onnx"),
        "never model weights in the package"
    );
    for simulated in ["reader-sim", "myna-card-sim", "mynareader-demo"] {
        assert!(
            !listing.contains(simulated),
            "{simulated} (test keys) in the kiosk package:\n{listing}"
        );
    }
    let fields = run("dpkg-deb", &["-f", &deb, "Package", "Depends"]);
    assert!(fields.contains("Package: mynareader"), "{fields}");
    // The libraries the binaries link, found by dpkg-shlibdeps.
    assert!(
        fields.contains("libc6 (>=") && fields.contains("libpcsclite1"),
        "{fields}"
    );
    assert!(
        fields.contains("adduser") && fields.contains("pcscd"),
        "{fields}"
    );
    // The maintainer scripts: the settings are a conffile; postinst makes
    // the user and group and touches systemd and udev only where they run.
    let control = dir.path().join("control");
    run("dpkg-deb", &["-e", &deb, &control.display().to_string()]);
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/mynareader/kiosk.toml");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    run(
        "sh",
        &["-n", &control.join("postinst").display().to_string()],
    );
    run("sh", &["-n", &control.join("postrm").display().to_string()]);
    assert!(postinst.contains("adduser --system"));
    assert!(
        postinst.contains("[ -d /run/systemd/system ]"),
        "systemctl only under systemd"
    );
    assert!(
        postinst.contains("[ -d /run/udev ]"),
        "udevadm only where udev runs"
    );
    if which("lintian") {
        let out = Command::new("lintian")
            .args(["--no-tag-display-limit", "--fail-on", "error", &deb])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lintian: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: lintian missing (scripts/setup-debian installs it)"
        );
        eprintln!("lintian not installed: package inspected with dpkg-deb only");
    }
}

#[test]
fn the_unit_verifies_and_is_hardened() {
    let unit =
        std::fs::read_to_string(workspace().join("packaging/mynareader-kiosk.service")).unwrap();
    for setting in [
        "User=mynareader",
        "Group=mynareader-staff",
        "SupplementaryGroups=mynareader",
        "UMask=0077",
        "StateDirectoryMode=0700",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "StateDirectory=mynareader",
        "ExecStart=/usr/bin/mynareader kiosk --config /etc/mynareader/kiosk.toml",
    ] {
        assert!(
            unit.lines().any(|l| l.trim() == setting),
            "{setting} missing"
        );
    }
    if !which("systemd-analyze") {
        eprintln!("skipped systemd-analyze verify: not installed");
        return;
    }
    // Verified with ExecStart pointing at the binary built here.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("mynareader-kiosk.service");
    let binary = mynareader_tests::binary("mynareader");
    std::fs::write(
        &copy,
        unit.replace("/usr/bin/mynareader", &binary.display().to_string()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", &copy.display().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A udev rule line: comma-separated `KEY[{attr}]OP"value"` with known keys
/// and operators (what `udevadm verify` checks first).
fn udev_rule_ok(line: &str) -> Result<(), String> {
    const MATCH_KEYS: [&str; 6] = ["SUBSYSTEM", "ATTR", "ATTRS", "ENV", "ACTION", "KERNEL"];
    const ASSIGN_KEYS: [&str; 5] = ["MODE", "GROUP", "OWNER", "TAG", "ENV"];
    for token in line.split(',').map(str::trim) {
        let op_at = token
            .find(['=', '!', '+'])
            .ok_or_else(|| format!("no operator in {token:?}"))?;
        let (key, rest) = token.split_at(op_at);
        let name = key.split('{').next().unwrap_or("");
        if key.contains('{') && !key.ends_with('}') {
            return Err(format!("unclosed attribute in {token:?}"));
        }
        let op = ["==", "!=", "+=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("bad operator in {token:?}"))?;
        let value = &rest[op.len()..];
        if !(value.len() >= 2 && value.starts_with('"') && value.ends_with('"')) {
            return Err(format!("value not quoted in {token:?}"));
        }
        let known = if op == "==" || op == "!=" {
            MATCH_KEYS.contains(&name)
        } else {
            ASSIGN_KEYS.contains(&name)
        };
        if !known {
            return Err(format!("unknown key {name:?} for {op:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_udev_rules_parse_and_give_the_kiosk_group_only() {
    assert!(udev_rule_ok(r#"SUBSYSTEM=="usb", MODE="0660""#).is_ok());
    assert!(
        udev_rule_ok(r#"SUBSYSTEM="usb""#).is_err(),
        "the checker can fail"
    );
    assert!(udev_rule_ok(r#"SUBSYSTEM=="usb", MODE=0660"#).is_err());
    let rules = std::fs::read_to_string(workspace().join("udev/60-mynareader.rules")).unwrap();
    let lines: Vec<&str> = rules
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        udev_rule_ok(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(line.contains(r#"GROUP="mynareader""#), "{line}");
        assert!(line.contains(r#"MODE="0660""#), "not for everyone: {line}");
        assert!(
            !line.contains("uaccess"),
            "not for the desktop user (a browser): {line}"
        );
    }
    if which("udevadm") {
        let out = Command::new("udevadm")
            .args([
                "verify",
                &workspace()
                    .join("udev/60-mynareader.rules")
                    .display()
                    .to_string(),
            ])
            .output()
            .unwrap();
        // `verify` exists from systemd 254; older ones say it is unknown.
        let words = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || words.contains("Unknown command"),
            "{words}"
        );
    }
}

#[test]
fn the_shipped_settings_are_the_built_in_defaults() {
    let printed = run(
        &mynareader_tests::binary("mynareader").display().to_string(),
        &[
            "kiosk",
            "--config",
            &workspace()
                .join("packaging/kiosk.toml")
                .display()
                .to_string(),
            "--print-config",
        ],
    );
    let defaults = run(
        &mynareader_tests::binary("mynareader").display().to_string(),
        &["kiosk", "--print-config"],
    );
    assert_eq!(printed, defaults);
}

/// A clean Debian 12 (minbase: no systemd, no udev), made once per target
/// folder with `debootstrap` and copied for each run.
fn clean_debian_12() -> Result<PathBuf, String> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian12-minbase");
    if base.join("usr/bin/apt-get").is_file() {
        return Ok(base);
    }
    let partial = base.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    eprintln!("making a clean Debian 12 root with debootstrap (once per target folder)…");
    let out = Command::new("debootstrap")
        .args(["--variant=minbase", "bookworm"])
        .arg(&partial)
        .arg("http://deb.debian.org/debian")
        .output()
        .map_err(|e| format!("debootstrap: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "debootstrap failed: {}",
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" / ")
        ));
    }
    std::fs::rename(&partial, &base).map_err(|e| e.to_string())?;
    Ok(base)
}

/// Runs `script` as root inside `root` (its own mount namespace, /proc
/// mounted); exit status and everything it printed.
fn in_root(root: &Path, script: &str) -> (bool, String) {
    let out = Command::new("unshare")
        .args(["--mount", "--fork", "sh", "-c"])
        .arg(format!(
            "mount -t proc proc '{r}/proc' && exec chroot '{r}' sh -ec \"$0\"",
            r = root.display()
        ))
        .arg(script)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_package_installs_reinstalls_and_purges_on_a_clean_debian_12_without_systemd() {
    let ci = std::env::var("CI").as_deref() == Ok("true");
    let root_user = run("id", &["-u"]).trim() == "0";
    let missing: Vec<_> = ["debootstrap", "unshare", "chroot", "dpkg-deb"]
        .into_iter()
        .filter(|tool| !which(tool))
        .collect();
    if !root_user || !missing.is_empty() {
        assert!(
            !ci,
            "CI: a clean install needs root and {missing:?} (scripts/setup-debian)"
        );
        eprintln!("skipped: a clean install needs root and debootstrap, unshare, chroot ({missing:?} missing)");
        return;
    }
    let base = match clean_debian_12() {
        Ok(base) => base,
        Err(why) => {
            assert!(!ci, "CI: {why}");
            eprintln!("skipped: no clean Debian 12 root: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    run(
        "cp",
        &[
            "-a",
            &base.display().to_string(),
            &root.display().to_string(),
        ],
    );
    let deb = build_deb(dir.path());
    std::fs::copy(&deb, root.join("tmp/mynareader.deb")).unwrap();
    std::fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).unwrap();
    assert!(
        !root.join("run/systemd/system").exists() && !root.join("bin/systemctl").exists(),
        "the clean root has no systemd"
    );

    // Install with its dependencies (pcscd, libccid) from Debian.
    let (ok, out) = in_root(
        &root,
        "apt-get update -q >/dev/null && \
         apt-get install -y -q --no-install-recommends /tmp/mynareader.deb",
    );
    if !ok && out.contains("Could not resolve") {
        assert!(!ci, "CI: no network to Debian's mirror:\n{out}");
        eprintln!("skipped: no network to Debian's mirror");
        return;
    }
    assert!(ok, "install failed:\n{out}");
    assert!(out.contains("Setting up mynareader"), "{out}");
    let (ok, out) = in_root(
        &root,
        "getent passwd mynareader; getent group mynareader; getent group mynareader-staff; \
         stat -c '%U:%G %a' /var/lib/mynareader; \
         mynareader --version; \
         mynareader kiosk --print-config | grep -c '^\\[' ; \
         test -f /lib/systemd/system/mynareader-kiosk.service && echo unit; \
         test -f /lib/udev/rules.d/60-mynareader.rules && echo rules; \
         dpkg-query -W -f='${Status}\\n' mynareader",
    );
    assert!(ok, "{out}");
    let user = out.lines().next().unwrap_or_default();
    assert!(
        user.starts_with("mynareader:x:")
            && user.ends_with(":/var/lib/mynareader:/usr/sbin/nologin"),
        "a system user without a login: {out}"
    );
    let uid: u32 = user.split(':').nth(2).unwrap().parse().unwrap();
    assert!(uid < 1000, "a system uid: {uid}");
    assert!(out.contains("mynareader:mynareader 700"), "{out}");
    assert!(out.contains("mynareader-staff:x:"), "{out}");
    assert!(
        out.contains("mynareader 0."),
        "the binary runs there: {out}"
    );
    assert!(out.contains("unit") && out.contains("rules"), "{out}");
    assert!(out.contains("install ok installed"), "{out}");

    // The settings are a conffile: a technician's change survives a
    // reinstall, and the maintainer scripts run again cleanly.
    let (ok, out) = in_root(
        &root,
        "echo '# changed on site' >> /etc/mynareader/kiosk.toml && \
         dpkg -i --force-confold /tmp/mynareader.deb && \
         tail -1 /etc/mynareader/kiosk.toml && getent passwd mynareader | cut -d: -f3",
    );
    assert!(ok, "reinstall failed:\n{out}");
    assert!(out.contains("# changed on site"), "{out}");
    assert!(
        out.trim_end().ends_with(&uid.to_string()),
        "same user: {out}"
    );

    // Remove: the programs go, the settings and the user stay.
    let (ok, out) = in_root(
        &root,
        "dpkg -r mynareader && \
         { test -e /usr/bin/mynareader && echo binary-left || true; } && \
         test -f /etc/mynareader/kiosk.toml && echo settings-kept && \
         getent passwd mynareader >/dev/null && echo user-kept",
    );
    assert!(ok, "remove failed:\n{out}");
    assert!(!out.contains("binary-left"), "{out}");
    assert!(
        out.contains("settings-kept") && out.contains("user-kept"),
        "{out}"
    );

    // Purge: the user, group and settings go; the state folder (audit
    // trail) is kept on purpose.
    std::fs::write(root.join("var/lib/mynareader/audit.marker"), b"kept").unwrap();
    let (ok, out) = in_root(
        &root,
        "dpkg -P mynareader && \
         { getent passwd mynareader && echo user-left || true; } && \
         { getent group mynareader && echo group-left || true; } && \
         { getent group mynareader-staff && echo group-left || true; } && \
         { test -e /etc/mynareader/kiosk.toml && echo settings-left || true; } && \
         test -f /var/lib/mynareader/audit.marker && echo state-kept",
    );
    assert!(ok, "purge failed:\n{out}");
    for left in ["user-left", "group-left", "settings-left"] {
        assert!(!out.contains(left), "{left}: {out}");
    }
    assert!(out.contains("state-kept"), "{out}");
}

//! The testbed: a real pcscd with vsmartcard's vpcd reader driver, the card
//! emulator and the host driver, isolated per test.
//!
//! Each test re-runs itself inside fresh mount and network namespaces
//! (`unshare --mount --net`): a private tmpfs on `/run/pcscd` gives it its own
//! pcscd socket, and a private loopback gives it its own vpcd port, so tests
//! run in parallel and never meet a pcscd of the host. Outside the namespace a
//! test only launches itself and checks that the inner run passed.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Set in the environment of the inner (namespaced) run.
const INNER: &str = "MYNAREADER_TESTBED_INNER";
/// The vpcd port of slot 0 in the reader configuration written here.
pub const VPCD_PORT: u16 = 0x8C7B;
/// The vpcd driver shipped by Debian's vsmartcard-vpcd.
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

/// Folder of the workspace's built binaries (`target/<profile>`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Test binaries live in target/<profile>/deps, programs one level up.
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        dir
    }
}

/// A workspace binary, which must have been built (`cargo build --workspace --bins`).
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` before the tests \
         (the README's test command does)",
        path.display()
    );
    path
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// What this machine lacks to run a testbed, if anything.
pub fn missing_prerequisites(extra_tools: &[&str]) -> Option<String> {
    let mut missing: Vec<String> = ["pcscd", "unshare", "ip", "mount"]
        .iter()
        .chain(extra_tools)
        .filter(|t| !which(t))
        .map(|t| t.to_string())
        .collect();
    if !Path::new(VPCD_DRIVER).exists() {
        missing.push(format!("{VPCD_DRIVER} (vsmartcard-vpcd)"));
    }
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "missing {}; install: apt-get install pcscd libccid vsmartcard-vpcd opensc iproute2 util-linux",
            missing.join(", ")
        ))
    }
}

fn is_root() -> bool {
    // Only root may unshare without a user namespace; an unprivileged user
    // gets one mapped to root.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Runs `body` in a testbed of its own. `name` is the test function's name
/// (the test must be at the top level of its file); `extra_tools` are the
/// programs the body needs besides pcscd.
///
/// Where the machine lacks pcscd or vpcd, the test is skipped with a message,
/// except under CI (`CI` set), where that is a failure.
pub fn run_isolated(name: &str, extra_tools: &[&str], body: impl FnOnce(&mut Bed)) {
    if is_isolated() {
        let mut bed = match Bed::start() {
            Ok(bed) => bed,
            Err(e) => panic!("testbed did not start: {e:#}"),
        };
        body(&mut bed);
        return;
    }
    if let Some(why) = missing_prerequisites(extra_tools) {
        if std::env::var_os("CI").is_some() {
            panic!("{name}: cannot run under CI: {why}");
        }
        eprintln!("SKIPPED {name}: {why}");
        return;
    }
    let mut cmd = isolated_self(&[name, "--exact", "--nocapture", "--test-threads=1"]);
    let output = match cmd.output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run unshare: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        output.status.success(),
        "{name} failed inside its namespace ({})",
        output.status
    );
    // A filter that matched nothing would pass vacuously: insist on one test.
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name}: the namespaced run did not run exactly this test"
    );
}

/// Whether this process is the namespaced run of [`isolated_self`].
pub fn is_isolated() -> bool {
    std::env::var_os(INNER).is_some()
}

/// This same program with `args`, to run inside fresh mount and network
/// namespaces (with a user namespace when not root).
pub fn isolated_self(args: &[&str]) -> Command {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut cmd = Command::new("unshare");
    if !is_root() {
        cmd.arg("--map-root-user");
    }
    cmd.args(["--mount", "--net", "--"])
        .arg(exe)
        .args(args)
        .env(INNER, "1");
    cmd
}

/// What a program running in a testbed does when the machine cannot host one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenMissing {
    /// Say so and succeed (benchmarks).
    Skip,
    /// Say so with a hint and fail (the demo).
    Fail,
}

/// `main` of a program (demo, benchmark) that runs `inner` in a testbed of
/// its own: re-runs itself in fresh namespaces with the same arguments.
pub fn main_isolated(
    program: &str,
    extra_tools: &[&str],
    when_missing: WhenMissing,
    inner: impl FnOnce() -> anyhow::Result<()>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    if is_isolated() {
        return match inner() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{program}: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(why) = missing_prerequisites(extra_tools) {
        eprintln!("{program}: {why}\n  hint: run `sudo bash scripts/setup-debian` first");
        return match when_missing {
            WhenMissing::Skip => ExitCode::SUCCESS,
            WhenMissing::Fail => ExitCode::FAILURE,
        };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match isolated_self(&args).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{program}: cannot run unshare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Declares a test that runs in its own testbed.
#[macro_export]
macro_rules! testbed_test {
    ($(#[$meta:meta])* fn $name:ident($bed:ident) $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::run_isolated(stringify!($name), &[], |$bed: &mut $crate::Bed| $body);
        }
    };
    ($(#[$meta:meta])* fn $name:ident($bed:ident) needs [$($tool:literal),*] $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            $crate::run_isolated(stringify!($name), &[$($tool),*], |$bed: &mut $crate::Bed| $body);
        }
    };
}

/// A running pcscd inside the current namespaces, and the cards on it.
pub struct Bed {
    dir: tempfile::TempDir,
    pcscd: Child,
    next_log: std::cell::Cell<usize>,
}

fn run_checked(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("{program} {args:?} failed: {status}");
    }
    Ok(())
}

impl Bed {
    /// Starts pcscd with vpcd. Only inside the namespaces of
    /// [`isolated_self`]: it mounts over `/run/pcscd`.
    pub fn start() -> anyhow::Result<Bed> {
        if !is_isolated() {
            bail!("the testbed runs only inside its own namespaces");
        }
        fs::create_dir_all("/run/pcscd").context("cannot create /run/pcscd")?;
        run_checked("mount", &["-t", "tmpfs", "tmpfs", "/run/pcscd"])?;
        run_checked("ip", &["link", "set", "lo", "up"])?;
        let dir = tempfile::tempdir()?;
        let conf = dir.path().join("reader.conf.d");
        fs::create_dir(&conf)?;
        fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x{VPCD_PORT:04X}\n\
                 LIBPATH      {VPCD_DRIVER}\nCHANNELID    0x{VPCD_PORT:04X}\n"
            ),
        )?;
        // No -a: pcscd's APDU log would contain the PINs of the tests.
        let pcscd = Command::new("pcscd")
            .arg("--foreground")
            .arg("--config")
            .arg(&conf)
            .stdout(fs::File::create(dir.path().join("pcscd.log"))?)
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start pcscd")?;
        let bed = Bed {
            dir,
            pcscd,
            next_log: std::cell::Cell::new(0),
        };
        wait_until(Duration::from_secs(10), || {
            Path::new("/run/pcscd/pcscd.comm").exists() && vpcd_listening()
        })
        .context("pcscd with vpcd did not come up")?;
        Ok(bed)
    }

    /// A scratch folder for this test.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Inserts an emulated card with these `myna-card-sim` options and waits
    /// until pcscd sees it.
    pub fn insert_card(&self, args: &[&str]) -> CardSim {
        self.next_log.set(self.next_log.get() + 1);
        let log = self
            .dir
            .path()
            .join(format!("apdu-{}.jsonl", self.next_log.get()));
        let mut cmd = Command::new(binary("myna-card-sim"));
        cmd.arg("--vpcd")
            .arg(format!("127.0.0.1:{VPCD_PORT}"))
            .arg("--apdu-log")
            .arg(&log)
            .args(args)
            .stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => panic!("cannot start myna-card-sim: {e}"),
        };
        // The emulator says "card inserted" once connected to vpcd.
        if let Some(stderr) = child.stderr.take() {
            let mut lines = BufReader::new(stderr).lines();
            match lines.next() {
                Some(Ok(line)) if line.contains("card inserted") => {}
                other => {
                    let _ = child.kill();
                    panic!("myna-card-sim did not start: {other:?}");
                }
            }
            std::thread::spawn(move || for _ in lines {});
        }
        if let Err(e) = wait_for_reader_state(true, Duration::from_secs(10)) {
            panic!("pcscd did not see the card: {e:#}");
        }
        CardSim { child, log }
    }

    /// Runs the `mynareader` CLI.
    pub fn mynareader(&self, args: &[&str]) -> Output {
        match Command::new(binary("mynareader")).args(args).output() {
            Ok(output) => output,
            Err(e) => panic!("cannot run mynareader: {e}"),
        }
    }

    /// Runs another program (OpenSC tools, openssl).
    pub fn tool(&self, program: &str, args: &[&str]) -> Output {
        match Command::new(program)
            .args(args)
            .current_dir(self.dir.path())
            .output()
        {
            Ok(output) => output,
            Err(e) => panic!("cannot run {program}: {e}"),
        }
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        let _ = self.pcscd.kill();
        let _ = self.pcscd.wait();
    }
}

/// Whether vpcd listens on its port, read from /proc rather than by
/// connecting (a connection would look like a card to vpcd).
fn vpcd_listening() -> bool {
    let wanted = format!(":{VPCD_PORT:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        fs::read_to_string(table).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // local_address is field 1, state 0A is LISTEN.
                fields.len() > 3
                    && format!("{} ", fields[1]).ends_with(&wanted)
                    && fields[3] == "0A"
            })
        })
    })
}

fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("gave up after {limit:?}")
}

/// Waits until pcscd reports reader 0 with (or without) a card.
pub fn wait_for_reader_state(present: bool, limit: Duration) -> anyhow::Result<()> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).context("SCardEstablishContext")?;
    let deadline = Instant::now() + limit;
    let reader = loop {
        let readers = ctx.list_readers_owned().unwrap_or_default();
        if let Some(first) = readers.into_iter().next() {
            break first;
        }
        if Instant::now() >= deadline {
            bail!("pcscd lists no reader");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut states = [pcsc::ReaderState::new(reader, pcsc::State::UNAWARE)];
    loop {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match ctx.get_status_change(Some(timeout), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => bail!("SCardGetStatusChange: {e}"),
        }
        if states[0].event_state().contains(pcsc::State::PRESENT) == present {
            return Ok(());
        }
        states[0].sync_current_state();
        if Instant::now() >= deadline {
            bail!("reader state did not become present={present}");
        }
    }
}

/// A running emulated card; dropping it pulls the card out.
#[must_use = "dropping the CardSim removes the card"]
pub struct CardSim {
    child: Child,
    log: PathBuf,
}

impl Drop for CardSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the emulator's APDU log.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LoggedApdu {
    /// Sequence number.
    pub seq: u64,
    /// Application selected when the command came.
    pub app: Option<String>,
    /// CLA INS P1 P2, hex.
    pub header: String,
    /// Lc.
    pub lc: usize,
    /// Data, hex (absent for VERIFY).
    pub data: Option<String>,
    /// Status word answered, hex.
    pub sw: String,
    /// Events (`verify`, `my-number-file-selected`, …).
    pub events: Vec<String>,
}

impl LoggedApdu {
    /// Whether this is a VERIFY that carried a credential (not a retry query).
    pub fn is_verify_with_data(&self) -> bool {
        self.header.starts_with("0020") && self.lc > 0
    }
}

impl CardSim {
    /// Everything the card has logged so far.
    pub fn apdus(&self) -> Vec<LoggedApdu> {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|line| match serde_json::from_str(line) {
                Ok(entry) => entry,
                Err(e) => panic!("bad APDU log line {line:?}: {e}"),
            })
            .collect()
    }

    /// Waits for the emulator to exit (after a pull), returning whether it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Pulls the card out: the emulator is stopped and pcscd sees it gone.
    pub fn remove(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Err(e) = wait_for_reader_state(false, Duration::from_secs(10)) {
            panic!("pcscd still sees the card: {e:#}");
        }
    }
}

/// The test JPKI CA certificate the emulator's cards chain to.
pub fn jpki_auth_ca_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../hal/card-sim/fixtures/jpki-auth-ca.crt.der")
}

/// The certificate serial of the emulator's default card.
pub const DEFAULT_CARD_SERIAL: &str = "01:a2:b3:c4:d5:e6";

/// A running `upstream-ref` (the reference upstream's own binary, from
/// `tests/upstream-ref`).
pub struct UpstreamRef {
    child: Child,
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl UpstreamRef {
    /// Starts the reference upstream trusting `device_pub_pem` and the test
    /// JPKI CA, with the emulator's default card as a registered patient.
    pub fn start(dir: &Path, device_pub_pem: &Path, port: u16) -> UpstreamRef {
        let patients = dir.join("patients.json");
        let table = format!(
            r#"{{"{DEFAULT_CARD_SERIAL}": {{"qualification": "valid", "registered": true,
                "name_kana": "バンゴウ ハナコ", "specific_health_checkup": true}}}}"#
        );
        if let Err(e) = fs::write(&patients, table) {
            panic!("cannot write the patients table: {e}");
        }
        let mut child = match Command::new(binary("upstream-ref"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--device-key")
            .arg(device_pub_pem)
            .arg("--jpki-ca")
            .arg(jpki_auth_ca_path())
            .arg("--patients")
            .arg(&patients)
            .stdout(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!("cannot start upstream-ref: {e}"),
        };
        let line = child
            .stdout
            .take()
            .and_then(|out| BufReader::new(out).lines().next())
            .and_then(Result::ok)
            .unwrap_or_default();
        let Some(url) = line.strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!("upstream-ref did not start: {line:?}");
        };
        UpstreamRef {
            url: url.to_string(),
            child,
        }
    }

    /// What arrived (`GET /v1/received`).
    pub fn received(&self) -> serde_json::Value {
        let client = myna_upstream::http::HttpUpstream::new(&self.url, Default::default());
        match client.map(|c| c.get_json::<serde_json::Value>("/v1/received")) {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("GET /v1/received: {e}"),
            Err(e) => panic!("HTTP client: {e}"),
        }
    }
}

impl Drop for UpstreamRef {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound and released; fine inside a private netns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A TCP forwarder from a port to the upstream that can be switched off:
/// "the upstream is down" without losing the upstream's state.
pub struct Link {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Link {
    /// Forwards `127.0.0.1:from` to `to` until dropped.
    pub fn up(from: u16, to: std::net::SocketAddr) -> Link {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = match std::net::TcpListener::bind(("127.0.0.1", from)) {
            Ok(l) => l,
            Err(e) => panic!("cannot bind the link port {from}: {e}"),
        };
        let _ = listener.set_nonblocking(true);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut pipes = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = std::net::TcpStream::connect(to) else {
                            continue;
                        };
                        let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                            continue;
                        };
                        pipes.push((client.try_clone().ok(), server.try_clone().ok()));
                        std::thread::spawn(move || {
                            let (mut a, mut b) = (client, server);
                            let _ = std::io::copy(&mut a, &mut b);
                            let _ = b.shutdown(std::net::Shutdown::Both);
                        });
                        std::thread::spawn(move || {
                            let (mut a, mut b) = (s2, c2);
                            let _ = std::io::copy(&mut a, &mut b);
                            let _ = b.shutdown(std::net::Shutdown::Both);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // Down means down: cut the open connections too.
            for (client, server) in pipes {
                if let Some(c) = client {
                    let _ = c.shutdown(std::net::Shutdown::Both);
                }
                if let Some(s) = server {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
            }
        });
        Link {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What must never be in a file a run wrote: a secret's bytes, by name.
pub struct Needle {
    /// For the report (never the secret itself).
    pub name: String,
    /// The bytes to look for.
    pub bytes: Vec<u8>,
    /// Digits that count only as a token of their own (not inside a longer
    /// run of digits), e.g. a PIN.
    pub digits_token: bool,
}

/// A needle found: which, and in which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The needle's name.
    pub needle: String,
    /// The file.
    pub file: PathBuf,
}

fn contains(haystack: &[u8], needle: &Needle) -> bool {
    if needle.bytes.is_empty() || haystack.len() < needle.bytes.len() {
        return false;
    }
    haystack
        .windows(needle.bytes.len())
        .enumerate()
        .any(|(i, w)| {
            w == needle.bytes.as_slice()
                && (!needle.digits_token
                    || (!haystack
                        .get(i.wrapping_sub(1))
                        .is_some_and(u8::is_ascii_digit)
                        && !haystack
                            .get(i + needle.bytes.len())
                            .is_some_and(u8::is_ascii_digit)))
        })
}

/// Every file under `roots` (recursively) and every extra text, searched for
/// every needle. Files that cannot be read are reported as findings too.
pub fn scan_for_secrets(
    roots: &[&Path],
    texts: &[(&str, &[u8])],
    needles: &[Needle],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut stack: Vec<PathBuf> = roots.iter().map(|p| p.to_path_buf()).collect();
    let mut files = Vec::new();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if path.is_file() {
            files.push(path);
        }
    }
    for file in files {
        match std::fs::read(&file) {
            Ok(bytes) => {
                for needle in needles {
                    if contains(&bytes, needle) {
                        findings.push(Finding {
                            needle: needle.name.clone(),
                            file: file.clone(),
                        });
                    }
                }
            }
            Err(_) => findings.push(Finding {
                needle: "(unreadable)".into(),
                file: file.clone(),
            }),
        }
    }
    for (name, bytes) in texts {
        for needle in needles {
            if contains(bytes, needle) {
                findings.push(Finding {
                    needle: needle.name.clone(),
                    file: PathBuf::from(name),
                });
            }
        }
    }
    findings
}

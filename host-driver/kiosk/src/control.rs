//! The kiosk's local control socket: what the staff tools and
//! `mynareader kiosk status` say to a running kiosk. One request per line,
//! one JSON answer per line. The requests are parsed here without I/O
//! ([`Request::parse`]); [`serve`] is the thin Unix-socket adapter, made
//! readable and writable by the owner and group only.
//!
//! Requests:
//! - `status` → the kiosk's state (screen, reception under way, 目視, reader,
//!   outbox, recent alerts);
//! - `alerts SINCE` → the alerts numbered above SINCE (0: all kept);
//! - `visual-check on STAFF_ID REASON PASSWORD` → switch 目視 on for the next
//!   (or the current) reception, as that staff member (PASSWORD is the
//!   password in base64, so any character travels); REASON is one of
//!   `face-unavailable`, `pin-forgotten`, `difficult-to-visit`, `unwell`,
//!   `cognitive`, `other`;
//! - `visual-check off STAFF_ID PASSWORD`.
//!
//! The password is checked on the connection's own thread (Argon2 never
//! runs on the kiosk's event loop), against the staff accounts with their
//! lockout; every switch and every refusal is in the audit trail. A
//! connection may send lines of at most [`MAX_LINE`] bytes, is closed after
//! [`IDLE_SECS`] of silence, and at most [`MAX_CLIENTS`] are served at once;
//! each line is wiped once read (a password travels in it).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use base64::Engine as _;
use myna_reception::PatientScreen;
use serde::Serialize;
use zeroize::Zeroizing;

use myna_reception::VisualCheckOn;
use myna_upstream::messages::VisualReason;

/// A staff password on its way to the check (wiped, never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Password {
    /// The request-line form: base64.
    pub fn encode(password: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(password.as_bytes())
    }

    fn decode(text: &str) -> Option<Password> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?,
        );
        let text = std::str::from_utf8(&bytes).ok()?;
        Some(Password(Zeroizing::new(text.to_string())))
    }
}

/// One control request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The kiosk's state.
    Status,
    /// Alerts numbered above this.
    Alerts(u64),
    /// 目視 on, by this staff member.
    VisualCheckOn(VisualCheckOn, Password),
    /// 目視 off, by this staff member.
    VisualCheckOff(String, Password),
    /// 目視 on, by a member already authenticated (by the console, or by
    /// the socket's connection thread; never parsed from a line).
    VisualCheckOnBy(VisualCheckOn, Via),
    /// 目視 off, by a member already authenticated.
    VisualCheckOffBy(String, Via),
    /// The screen on the reader, encoded as the link carries it (for the
    /// console's mirror; never parsed from the socket).
    Screen,
    /// Consent answers a patient gave aloud, entered by a member the
    /// console authenticated (never parsed from the socket).
    RelayConsentBy(String, Vec<(myna_reception::ConsentTopic, bool)>),
    /// Large text on the reader for this reception (it goes back by itself
    /// when the card is taken). No password: it changes only the type size.
    LargeText(bool),
}

/// Where an authenticated request came from (the audit trail says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The staff console.
    Console,
    /// The control socket (the staff tools).
    Socket,
}

impl Via {
    /// As the audit detail names it.
    pub fn code(self) -> &'static str {
        match self {
            Via::Console => "console",
            Via::Socket => "socket",
        }
    }
}

/// Checks a staff member's password for an action (off the event loop);
/// the refusal's words when it fails.
pub type PasswordCheck =
    Arc<dyn Fn(&str, &Password, crate::staff::StaffEvent) -> Result<(), String> + Send + Sync>;

/// The password check of the staff accounts in the database at `database`
/// (its own connection), with the accounts' lockout, at `clock`'s time.
pub fn password_check(
    database: PathBuf,
    clock: impl myna_upstream::clock::Clock + Send + Sync + 'static,
) -> PasswordCheck {
    Arc::new(move |staff, password, action| {
        let mut db = crate::staff::StaffDb::open(&database).map_err(|e| e.to_string())?;
        db.authenticate(staff, &password.0, action, clock.now_ms() / 1000)
            .map_err(|e| e.to_string())
    })
}

/// Longest request line read (a password line is well under).
pub const MAX_LINE: usize = 4096;
/// A connection silent this long is closed.
pub const IDLE_SECS: u64 = 30;
/// Connections served at once; more are told to try again.
pub const MAX_CLIENTS: usize = 8;

/// A request line that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Unknown or malformed.
    #[error("unknown request (try `status`, `alerts 0`, `large-text on|off`, `visual-check on STAFF REASON PASSWORD`, `visual-check off STAFF PASSWORD`)")]
    Unknown,
    /// The password field is not base64 of UTF-8 text.
    #[error("the password is not base64 text")]
    Password,
    /// A staff id must be 1–32 letters, digits, `-` or `_`.
    #[error("bad staff id: 1-32 letters, digits, '-' or '_'")]
    StaffId,
    /// Not a reason code.
    #[error("unknown reason (face-unavailable, pin-forgotten, difficult-to-visit, unwell, cognitive, other)")]
    Reason,
}

impl Request {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Request, RequestError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let staff_id = |staff: &str| -> Result<String, RequestError> {
            crate::staff::check_id(staff)
                .map(|()| staff.to_string())
                .map_err(|_| RequestError::StaffId)
        };
        match words.as_slice() {
            ["status"] => Ok(Request::Status),
            ["alerts", since] => since
                .parse()
                .map(Request::Alerts)
                .map_err(|_| RequestError::Unknown),
            ["large-text", "on"] => Ok(Request::LargeText(true)),
            ["large-text", "off"] => Ok(Request::LargeText(false)),
            ["visual-check", "off", staff, password] => Ok(Request::VisualCheckOff(
                staff_id(staff)?,
                Password::decode(password).ok_or(RequestError::Password)?,
            )),
            ["visual-check", "on", staff, reason, password] => {
                let staff_id = staff_id(staff)?;
                let reason = VisualReason::from_code(reason).ok_or(RequestError::Reason)?;
                Ok(Request::VisualCheckOn(
                    VisualCheckOn { staff_id, reason },
                    Password::decode(password).ok_or(RequestError::Password)?,
                ))
            }
            _ => Err(RequestError::Unknown),
        }
    }
}

/// The kiosk's state, as `status` answers it (no personal data).
#[derive(Debug, Clone, Serialize)]
pub struct KioskStatus {
    /// Always true for a status.
    pub ok: bool,
    /// The screen on the reader (its name, `PinEntry`).
    pub screen: &'static str,
    /// A reception is under way.
    pub in_reception: bool,
    /// 目視 is on.
    pub visual_check: bool,
    /// Seconds an armed 目視 has left before it is withdrawn (`None`: off,
    /// or it serves the reception under way).
    pub visual_check_left_secs: Option<i64>,
    /// The reader answers.
    pub reader_up: bool,
    /// The reader's firmware version and boot id.
    pub reader_firmware: u32,
    /// Receptions begun since start.
    pub receptions: u64,
    /// A card is on the reader.
    pub card_present: bool,
    /// Messages waiting in the outbox.
    pub outbox_pending: u64,
    /// Seconds the oldest waiting message has waited (0: none waits).
    pub outbox_oldest_secs: i64,
    /// The last failure the kiosk met (an event code), if any.
    pub last_error: Option<&'static str>,
    /// Recent staff alerts, oldest first.
    pub alerts: Vec<AlertNote>,
    /// While the consent screens are up: the topics asked (for staff
    /// relaying spoken answers).
    pub consent_topics: Option<Vec<&'static str>>,
}

/// One alert as staff tools read it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertNote {
    /// Its number (increasing; `alerts SINCE` asks for those above).
    pub seq: u64,
    /// Unix seconds.
    pub at: i64,
    /// Code.
    pub code: &'static str,
    /// What to do, for staff.
    pub words: &'static str,
}

/// The kiosk's answer to a request, typed: the console, in the kiosk's own
/// process, reads its fields; the control socket sends it as one JSON line
/// ([`Answer::to_line`]).
#[derive(Debug, Clone)]
pub enum Answer {
    /// `status`.
    Status(Box<KioskStatus>),
    /// `alerts SINCE`.
    Alerts(Vec<AlertNote>),
    /// 目視 switched (on or off): whether it is on now.
    VisualCheck(bool),
    /// Larger text on the reader, on or off.
    LargeText(bool),
    /// The reader's screen now (the console's mirror).
    Screen {
        /// The screen.
        screen: PatientScreen,
        /// 目視 is on (the mirror marks it).
        visual_check: bool,
    },
    /// Done, nothing to report (relayed consent).
    Done,
    /// Refused, with why (for staff).
    Refused(String),
}

impl Answer {
    /// The answer as the control socket's JSON line.
    pub fn to_line(&self) -> String {
        let value = match self {
            Answer::Status(status) => {
                return serde_json::to_string(status).unwrap_or_else(|e| error_line(&e.to_string()))
            }
            Answer::Alerts(alerts) => serde_json::json!({ "ok": true, "alerts": alerts }),
            Answer::VisualCheck(on) => serde_json::json!({ "ok": true, "visual_check": on }),
            Answer::LargeText(on) => serde_json::json!({ "ok": true, "large_text": on }),
            Answer::Screen {
                screen,
                visual_check,
            } => {
                let mut buf = Zeroizing::new(vec![0u8; myna_link::MAX_PAYLOAD]);
                match postcard::to_slice(&screen.to_link(), &mut buf[..]) {
                    Ok(used) => serde_json::json!({
                        "ok": true,
                        "frame": base64::engine::general_purpose::STANDARD.encode(&*used),
                        "visual_check": visual_check,
                    }),
                    Err(_) => return error_line("the screen does not encode"),
                }
            }
            Answer::Done => serde_json::json!({ "ok": true }),
            Answer::Refused(why) => return error_line(why),
        };
        value.to_string()
    }
}

/// A request with the channel its answer goes back on.
pub struct Asked {
    /// The request.
    pub request: Request,
    /// Where the answer goes.
    pub answer: mpsc::Sender<Answer>,
}

/// A way to ask the kiosk's loop from another thread (the staff console):
/// `deliver` puts the request on the loop's queue; the answer is awaited
/// up to 10 s.
pub fn asker(
    deliver: impl Fn(Asked) -> bool + Send + 'static,
) -> std::sync::Arc<dyn Fn(Request) -> Option<Answer> + Send + Sync> {
    let deliver = std::sync::Mutex::new(deliver);
    std::sync::Arc::new(move |request| {
        let (tx, rx) = mpsc::channel();
        let sent = deliver
            .lock()
            .map(|d| {
                d(Asked {
                    request,
                    answer: tx,
                })
            })
            .unwrap_or(false);
        if !sent {
            return None;
        }
        rx.recv_timeout(Duration::from_secs(10)).ok()
    })
}

/// The error line for a request that could not be parsed or answered.
pub fn error_line(message: &str) -> String {
    serde_json::json!({ "ok": false, "error": message }).to_string()
}

/// Listens on `path` (replacing a stale socket file), owner and group only,
/// and hands every request to `deliver` — the kiosk's event queue — after
/// `check` has checked the password of those that carry one. Returns once
/// the listener is bound; serves on its own threads.
pub fn serve(
    path: &Path,
    deliver: impl Fn(Asked) -> bool + Send + Sync + Clone + 'static,
    check: PasswordCheck,
) -> std::io::Result<()> {
    if path.exists() {
        // A socket left by a kiosk that did not stop cleanly.
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    let clients = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("kiosk-control".into())
        .spawn(move || {
            for mut stream in listener.incoming().flatten() {
                if clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
                    clients.fetch_sub(1, Ordering::SeqCst);
                    let _ = writeln!(stream, "{}", error_line("too many connections; try again"));
                    continue;
                }
                let (deliver, check, served) = (deliver.clone(), check.clone(), clients.clone());
                let spawned = std::thread::Builder::new()
                    .name("kiosk-control-client".into())
                    .spawn(move || {
                        session(stream, deliver, &check);
                        served.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    clients.fetch_sub(1, Ordering::SeqCst);
                    tracing::warn!(event = "control.thread-failed");
                }
            }
        })?;
    Ok(())
}

/// What one read gave.
enum LineRead {
    /// A line (its buffer wiped when dropped).
    Line(Zeroizing<String>),
    /// The client closed.
    End,
    /// Longer than [`MAX_LINE`], silent past [`IDLE_SECS`], or not text.
    Refused(&'static str),
}

/// One line, at most [`MAX_LINE`] bytes.
fn read_line(reader: &mut impl BufRead) -> LineRead {
    let mut bytes = Zeroizing::new(Vec::with_capacity(256));
    let read = match reader
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut bytes)
    {
        Ok(0) => return LineRead::End,
        Ok(read) => read,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            return LineRead::Refused("silent too long: closed")
        }
        Err(_) => return LineRead::End,
    };
    if read > MAX_LINE && !bytes.ends_with(b"\n") {
        return LineRead::Refused("line too long: closed");
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => LineRead::Line(Zeroizing::new(
            text.trim_end_matches(['\n', '\r']).to_string(),
        )),
        Err(_) => LineRead::Refused("not text: closed"),
    }
}

fn session(stream: UnixStream, deliver: impl Fn(Asked) -> bool, check: &PasswordCheck) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(IDLE_SECS)))
        .is_err()
    {
        return;
    }
    let mut reader = BufReader::new(stream);
    loop {
        let line = match read_line(&mut reader) {
            LineRead::Line(line) => line,
            LineRead::End => return,
            LineRead::Refused(why) => {
                let _ = writeln!(out, "{}", error_line(why));
                return;
            }
        };
        let answer = match Request::parse(&line).map(|r| authenticated(r, check)) {
            Ok(Ok(request)) => {
                let (tx, rx) = mpsc::channel();
                if !deliver(Asked {
                    request,
                    answer: tx,
                }) {
                    return;
                }
                rx.recv_timeout(Duration::from_secs(30)).map_or_else(
                    |_| error_line("the kiosk is busy; try again"),
                    |a| a.to_line(),
                )
            }
            Ok(Err(refused)) => error_line(&refused),
            Err(e) => error_line(&e.to_string()),
        };
        if writeln!(out, "{answer}").is_err() {
            return;
        }
    }
}

/// A request with a password becomes the authenticated one (the password
/// checked and dropped here); others pass unchanged.
fn authenticated(request: Request, check: &PasswordCheck) -> Result<Request, String> {
    use crate::staff::StaffEvent;
    match request {
        Request::VisualCheckOn(on, password) => {
            check(&on.staff_id, &password, StaffEvent::VisualCheckOn)?;
            Ok(Request::VisualCheckOnBy(on, Via::Socket))
        }
        Request::VisualCheckOff(staff, password) => {
            check(&staff, &password, StaffEvent::VisualCheckOff)?;
            Ok(Request::VisualCheckOffBy(staff, Via::Socket))
        }
        other => Ok(other),
    }
}

/// Sends one request line to the kiosk at `path` and returns its answer.
pub fn ask(path: &Path, line: &str) -> std::io::Result<String> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(35)))?;
    writeln!(stream, "{line}")?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    Ok(answer.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_text_is_switched_without_a_password() {
        assert_eq!(
            Request::parse("large-text on"),
            Ok(Request::LargeText(true))
        );
        assert_eq!(
            Request::parse("large-text off"),
            Ok(Request::LargeText(false))
        );
        assert_eq!(Request::parse("large-text big"), Err(RequestError::Unknown));
    }

    #[test]
    fn requests_parse_and_bad_ones_are_typed() {
        let pw = Password::encode("pass word");
        assert_eq!(Request::parse("status"), Ok(Request::Status));
        assert_eq!(Request::parse("alerts 7"), Ok(Request::Alerts(7)));
        assert_eq!(
            Request::parse(&format!(" visual-check  off  nurse {pw} ")),
            Ok(Request::VisualCheckOff(
                "nurse".into(),
                Password(Zeroizing::new("pass word".into()))
            ))
        );
        assert_eq!(
            Request::parse(&format!("visual-check on staff-07 pin-forgotten {pw}")),
            Ok(Request::VisualCheckOn(
                VisualCheckOn {
                    staff_id: "staff-07".into(),
                    reason: VisualReason::PinForgotten
                },
                Password(Zeroizing::new("pass word".into()))
            ))
        );
        assert_eq!(
            Request::parse(&format!("visual-check on staff-07 because {pw}")),
            Err(RequestError::Reason)
        );
        assert_eq!(
            Request::parse(&format!("visual-check on a/b other {pw}")),
            Err(RequestError::StaffId)
        );
        assert_eq!(
            Request::parse("visual-check on nurse other %%%"),
            Err(RequestError::Password)
        );
        assert_eq!(
            Request::parse("visual-check on nurse other"),
            Err(RequestError::Unknown),
            "no password, no switch"
        );
        assert_eq!(Request::parse("reboot"), Err(RequestError::Unknown));
        assert_eq!(Request::parse(""), Err(RequestError::Unknown));
        let debug = format!("{:?}", Request::parse(&format!("visual-check off n {pw}")));
        assert!(!debug.contains("pass word"), "{debug}");
    }

    #[test]
    fn the_socket_answers_and_is_not_world_accessible() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kiosk.sock");
        serve(
            &path,
            |asked: Asked| {
                let answer = match asked.request {
                    Request::Status => Answer::Done,
                    Request::VisualCheckOnBy(on, Via::Socket) => {
                        Answer::Refused(format!("checked for {}", on.staff_id))
                    }
                    _ => Answer::Refused("no".into()),
                };
                asked.answer.send(answer).is_ok()
            },
            Arc::new(|staff, password, _| {
                if staff == "nurse" && *password.0 == "right one" {
                    Ok(())
                } else {
                    Err("wrong staff id or password".into())
                }
            }),
        )
        .expect("serve");
        let mode = std::fs::metadata(&path)
            .expect("socket")
            .permissions()
            .mode();
        assert_eq!(mode & 0o007, 0, "no access for others: {mode:o}");
        assert_eq!(ask(&path, "status").expect("ask"), "{\"ok\":true}");
        assert!(ask(&path, "nonsense")
            .expect("ask")
            .contains("unknown request"));
        // The password is checked before the loop hears of it.
        let on = |password: &str| {
            ask(
                &path,
                &format!(
                    "visual-check on nurse unwell {}",
                    Password::encode(password)
                ),
            )
            .expect("ask")
        };
        assert!(on("wrong").contains("wrong staff id"), "{}", on("wrong"));
        assert!(on("right one").contains("checked for nurse"));
    }

    #[test]
    fn long_lines_silence_and_crowds_are_cut_off() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kiosk.sock");
        serve(
            &path,
            |asked: Asked| asked.answer.send(Answer::Done).is_ok(),
            Arc::new(|_, _, _| Ok(())),
        )
        .expect("serve");
        // A line past the limit is refused and the connection closed.
        let mut stream = UnixStream::connect(&path).expect("connect");
        let long = "x".repeat(MAX_LINE + 10);
        let _ = writeln!(stream, "{long}");
        let mut answer = String::new();
        BufReader::new(stream)
            .read_to_string(&mut answer)
            .expect("read");
        assert!(answer.contains("line too long"), "{answer}");
        // (Its thread counts itself out just after closing.)
        std::thread::sleep(Duration::from_millis(200));
        // Eight silent clients are served; a ninth is told to try again.
        let silent: Vec<UnixStream> = (0..MAX_CLIENTS)
            .map(|_| UnixStream::connect(&path).expect("connect"))
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut ninth = String::new();
        BufReader::new(UnixStream::connect(&path).expect("connect"))
            .read_line(&mut ninth)
            .expect("read");
        assert!(ninth.contains("too many connections"), "{ninth}");
        drop(silent);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(ask(&path, "status").expect("ask"), "{\"ok\":true}");
    }

    #[test]
    fn typed_answers_keep_their_json_lines() {
        assert_eq!(Answer::Done.to_line(), r#"{"ok":true}"#);
        assert_eq!(
            Answer::Refused("busy".into()).to_line(),
            r#"{"error":"busy","ok":false}"#
        );
        assert_eq!(
            Answer::VisualCheck(true).to_line(),
            r#"{"ok":true,"visual_check":true}"#
        );
        let line = Answer::Screen {
            screen: PatientScreen::PinLastTry,
            visual_check: false,
        }
        .to_line();
        let value: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        let frame = base64::engine::general_purpose::STANDARD
            .decode(value["frame"].as_str().expect("frame"))
            .expect("base64");
        let screen: myna_link::Screen<'_> = postcard::from_bytes(&frame).expect("postcard");
        assert_eq!(screen, myna_link::Screen::PinLastTry);
    }
}

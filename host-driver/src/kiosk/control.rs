//! The kiosk's local control socket: what the staff tools and
//! `mynareader kiosk status` say to a running kiosk. One request per line,
//! one JSON answer per line. The requests are parsed here without I/O
//! ([`Request::parse`]); [`serve`] is the thin Unix-socket adapter, made
//! readable and writable by the owner and group only.
//!
//! Requests:
//! - `status` → the kiosk's state (screen, reception under way, 目視, reader,
//!   outbox, recent alerts);
//! - `visual-check on STAFF_ID REASON` → switch 目視 on for the next (or the
//!   current) reception; REASON is one of `face-unavailable`,
//!   `pin-forgotten`, `difficult-to-visit`, `unwell`, `cognitive`, `other`;
//! - `visual-check off`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::reception::VisualCheckOn;
use crate::upstream::messages::VisualReason;

/// One control request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The kiosk's state.
    Status,
    /// 目視 on.
    VisualCheckOn(VisualCheckOn),
    /// 目視 off.
    VisualCheckOff,
}

/// A request line that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Unknown or malformed.
    #[error("unknown request (try `status`, `visual-check on STAFF REASON`, `visual-check off`)")]
    Unknown,
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
        match words.as_slice() {
            ["status"] => Ok(Request::Status),
            ["visual-check", "off"] => Ok(Request::VisualCheckOff),
            ["visual-check", "on", staff, reason] => {
                let staff_ok = !staff.is_empty()
                    && staff.len() <= 32
                    && staff
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !staff_ok {
                    return Err(RequestError::StaffId);
                }
                let reason: VisualReason =
                    serde_json::from_value(serde_json::Value::String((*reason).to_string()))
                        .map_err(|_| RequestError::Reason)?;
                Ok(Request::VisualCheckOn(VisualCheckOn {
                    staff_id: (*staff).to_string(),
                    reason,
                }))
            }
            _ => Err(RequestError::Unknown),
        }
    }
}

/// A request with the channel its answer goes back on.
pub struct Asked {
    /// The request.
    pub request: Request,
    /// Where the JSON answer goes.
    pub answer: mpsc::Sender<String>,
}

/// The error line for a request that could not be parsed or answered.
pub fn error_line(message: &str) -> String {
    serde_json::json!({ "ok": false, "error": message }).to_string()
}

/// Listens on `path` (replacing a stale socket file), owner and group only,
/// and hands every request to `deliver` — the kiosk's event queue. Returns
/// once the listener is bound; serves on its own threads.
pub fn serve(
    path: &Path,
    deliver: impl Fn(Asked) -> bool + Send + Sync + Clone + 'static,
) -> std::io::Result<()> {
    if path.exists() {
        // A socket left by a kiosk that did not stop cleanly.
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    std::thread::Builder::new()
        .name("kiosk-control".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let deliver = deliver.clone();
                let _ = std::thread::Builder::new()
                    .name("kiosk-control-client".into())
                    .spawn(move || session(stream, deliver));
            }
        })?;
    Ok(())
}

fn session(stream: UnixStream, deliver: impl Fn(Asked) -> bool) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines().map_while(Result::ok) {
        let answer = match Request::parse(&line) {
            Ok(request) => {
                let (tx, rx) = mpsc::channel();
                if !deliver(Asked {
                    request,
                    answer: tx,
                }) {
                    return;
                }
                rx.recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|_| error_line("the kiosk is busy; try again"))
            }
            Err(e) => error_line(&e.to_string()),
        };
        if writeln!(out, "{answer}").is_err() {
            return;
        }
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
    fn requests_parse_and_bad_ones_are_typed() {
        assert_eq!(Request::parse("status"), Ok(Request::Status));
        assert_eq!(
            Request::parse(" visual-check  off "),
            Ok(Request::VisualCheckOff)
        );
        assert_eq!(
            Request::parse("visual-check on staff-07 pin-forgotten"),
            Ok(Request::VisualCheckOn(VisualCheckOn {
                staff_id: "staff-07".into(),
                reason: VisualReason::PinForgotten
            }))
        );
        assert_eq!(
            Request::parse("visual-check on staff-07 because"),
            Err(RequestError::Reason)
        );
        assert_eq!(
            Request::parse("visual-check on a/b other"),
            Err(RequestError::StaffId)
        );
        assert_eq!(Request::parse("reboot"), Err(RequestError::Unknown));
        assert_eq!(Request::parse(""), Err(RequestError::Unknown));
    }

    #[test]
    fn the_socket_answers_and_is_not_world_accessible() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kiosk.sock");
        serve(&path, |asked: Asked| {
            let answer = match asked.request {
                Request::Status => "{\"ok\":true}".to_string(),
                _ => error_line("no"),
            };
            asked.answer.send(answer).is_ok()
        })
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
    }
}

//! Clinic staff: accounts and the tamper-evident audit trail, in the
//! kiosk's database file (beside the outbox). Works on the file alone — no
//! kiosk needs to run for `mynareader staff add` or `staff audit verify`.
//!
//! Passwords are kept only as Argon2id hashes (RustCrypto `argon2`, its
//! defaults: m = 19 MiB, t = 2, p = 1, a fresh 16-byte salt per password),
//! in PHC string form. Five wrong passwords in a row lock an account for
//! [`LOCKOUT`]; every refusal and lock is audited.
//!
//! The audit trail is append-only with a hash chain: each entry's hash is
//! SHA-256 over the previous entry's hash and its own fields, each field
//! length-prefixed (so no choice of characters in one field can pass for
//! another), and the head (last number and hash) is kept in its own row,
//! written in the same transaction — so a changed, deleted, reordered or
//! cut-off entry is found by [`StaffDb::verify`]. Whoever can write the file
//! could rewrite it all, chain included; so the head also leaves the
//! machine, signed, in the kiosk's upstream messages ([`StaffDb::head`]),
//! and [`StaffDb::verify_head`] checks a head kept elsewhere against the
//! trail (a cut tail, a rewrite or an older copy restored). Every account
//! change names who made it. Entries carry no image and no patient data.
//! Time and the salt's randomness are passed in.

use std::path::Path;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::{CryptoRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// How long an account stays locked after [`MAX_FAILURES`] wrong passwords.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Wrong passwords in a row before the account is locked.
pub const MAX_FAILURES: u32 = 5;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    stamp TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    staff TEXT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,
    scheme INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
";

/// Checked for an unknown id, so that it takes as long as a known one: a
/// well-formed Argon2id hash with the defaults' cost (m = 19 MiB, t = 2,
/// p = 1) that no password matches.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$bm8gYWNjb3VudCBoZXJl$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// The hash before the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Errors of the staff database.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// The database failed.
    #[error("staff database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A staff id must be 1–32 letters, digits, `-` or `_`.
    #[error("bad staff id {0:?}: 1-32 letters, digits, '-' or '_'")]
    BadId(String),
    /// Passwords are 8–128 characters.
    #[error("a password has 8 to 128 characters")]
    WeakPassword,
    /// The account exists already.
    #[error("staff {0} exists already")]
    Exists(String),
    /// No such account.
    #[error("no staff account {0}")]
    NoAccount(String),
    /// Wrong password (or no such account: the caller cannot tell).
    #[error("wrong staff id or password")]
    Refused,
    /// Locked after too many wrong passwords.
    #[error(
        "the account is locked until {until} (Unix seconds) after {MAX_FAILURES} wrong passwords"
    )]
    Locked {
        /// Unix seconds.
        until: i64,
    },
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// What the audit trail records: each kind of entry, one code each (the
/// codes are what the trail stores and the console shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEvent {
    /// A staff account was made.
    AccountAdded,
    /// A password was set (and the account unlocked).
    PasswordChanged,
    /// A staff account was removed.
    AccountRemoved,
    /// Too many wrong passwords: the account is locked for a while.
    AccountLocked,
    /// A sign-in to the staff console.
    ConsoleLogin,
    /// 目視 switched on for the next reception.
    VisualCheckOn,
    /// 目視 switched off before it was used.
    VisualCheckOff,
    /// The reception 目視 served (completed or not).
    VisualCheckUsed,
    /// 目視 was left armed with no card until it expired: withdrawn.
    VisualCheckExpired,
    /// Consent answers a patient gave aloud, entered by staff.
    ConsentRelayed,
}

impl StaffEvent {
    /// The code the trail stores (`visual-check-on`).
    pub fn code(self) -> &'static str {
        match self {
            StaffEvent::AccountAdded => "account-added",
            StaffEvent::PasswordChanged => "password-changed",
            StaffEvent::AccountRemoved => "account-removed",
            StaffEvent::AccountLocked => "account-locked",
            StaffEvent::ConsoleLogin => "console-login",
            StaffEvent::VisualCheckOn => "visual-check-on",
            StaffEvent::VisualCheckOff => "visual-check-off",
            StaffEvent::VisualCheckUsed => "visual-check-used",
            StaffEvent::VisualCheckExpired => "visual-check-expired",
            StaffEvent::ConsentRelayed => "consent-relayed",
        }
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its number (1, 2, …).
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Staff id (`-` for the kiosk itself).
    pub staff: String,
    /// Event code ([`StaffEvent::code`]; a trail written by a later
    /// version may hold others, kept as they are).
    pub event: String,
    /// Outcome (`ok`, `refused`, `completed`, …).
    pub outcome: String,
    /// Details without patient data (a reason code).
    pub detail: String,
    /// The previous entry's hash.
    pub prev: String,
    /// This entry's hash.
    pub hash: String,
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// The entry's fields do not hash to its stored hash (changed).
    #[error("entry {0} was changed (its hash does not match its fields)")]
    Changed(i64),
    /// The entry does not follow the one before it (deleted or reordered
    /// before it).
    #[error("entry {0} does not follow the entry before it (an entry was deleted or moved)")]
    Unlinked(i64),
    /// Entries are missing at the end (the head says more were written).
    #[error(
        "the trail ends at {last} but {head} entries were written (entries removed at the end)"
    )]
    Truncated {
        /// Last entry present.
        last: i64,
        /// Last entry written.
        head: i64,
    },
    /// A head kept elsewhere (the upstream's) names an entry this trail
    /// holds with another hash: rewritten.
    #[error("entry {0} is not the entry the head kept elsewhere names (the trail was rewritten)")]
    Rewritten(i64),
    /// A head kept elsewhere names an entry past this trail's end: cut, or
    /// an older copy restored.
    #[error("the head kept elsewhere names entry {head} but the trail ends at {last} (cut, or an older copy restored)")]
    Behind {
        /// Last entry present.
        last: i64,
        /// The entry the head names.
        head: i64,
    },
}

/// The trail's head as it leaves the machine (the upstream keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    /// The last entry's number.
    pub seq: i64,
    /// Its hash, hex.
    pub hash: String,
}

impl std::str::FromStr for Head {
    type Err = String;

    /// `SEQ:HASH` (as `staff audit head` prints it).
    fn from_str(text: &str) -> Result<Head, String> {
        let (seq, hash) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not SEQ:HASH"))?;
        let seq: i64 = seq
            .parse()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("{seq:?} is not an entry number"))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{hash:?} is not 64 hex digits"));
        }
        Ok(Head {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// A staff account, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Id.
    pub id: String,
    /// Created (Unix seconds).
    pub created: i64,
    /// Locked until (Unix seconds; 0: not locked).
    pub locked_until: i64,
}

/// The staff tables of a kiosk database.
pub struct StaffDb {
    conn: Connection,
    /// Who makes the account changes (the CLI's user), for the trail.
    actor: String,
}

/// What a wrong password does to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnWrong {
    /// Counts toward [`MAX_FAILURES`] and the lock (a person at the kiosk:
    /// the CLI, the control socket).
    Lock,
    /// Audited only; the caller throttles its clients (the console, where
    /// any page on the PC could post).
    Audit,
}

/// A staff id is 1–32 letters, digits, `-` or `_` (it goes into the audit
/// trail and the control socket's words).
pub fn check_id(id: &str) -> Result<(), StaffError> {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StaffError::BadId(id.to_string()))
    }
}

/// Scheme 1 (trails begun before): fields joined with U+001F.
fn entry_hash_v1(
    prev: &str,
    seq: i64,
    at: i64,
    staff: &str,
    event: &str,
    outcome: &str,
    detail: &str,
) -> String {
    let text = format!(
        "{prev}\u{1f}{seq}\u{1f}{at}\u{1f}{staff}\u{1f}{event}\u{1f}{outcome}\u{1f}{detail}"
    );
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

/// The scheme entries are written with now.
const SCHEME: i64 = 2;

/// Scheme 2: a domain tag, then every field with its length (4 bytes, big
/// endian) before it.
fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    staff: &str,
    event: &str,
    outcome: &str,
    detail: &str,
) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"mynareader-audit-v2");
    let (seq, at) = (seq.to_string(), at.to_string());
    for field in [prev, &seq, &at, staff, event, outcome, detail] {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        context.update(&len.to_be_bytes());
        context.update(field.as_bytes());
    }
    hex::encode(context.finish())
}

impl StaffDb {
    /// Opens (or creates) the staff tables in the database at `path`.
    pub fn open(path: &Path) -> Result<StaffDb, StaffError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        // Databases made before accounts had a stamp.
        let has_stamp = conn
            .prepare("SELECT 1 FROM pragma_table_info('staff') WHERE name = 'stamp'")?
            .exists([])?;
        if !has_stamp {
            conn.execute_batch("ALTER TABLE staff ADD COLUMN stamp TEXT NOT NULL DEFAULT ''")?;
        }
        // Trails begun before entries were length-prefixed (scheme 1).
        let has_scheme = conn
            .prepare("SELECT 1 FROM pragma_table_info('audit') WHERE name = 'scheme'")?
            .exists([])?;
        if !has_scheme {
            conn.execute_batch("ALTER TABLE audit ADD COLUMN scheme INTEGER NOT NULL DEFAULT 1")?;
        }
        Ok(StaffDb {
            conn,
            actor: "unknown".into(),
        })
    }

    /// Account changes are recorded as made by `actor` (a login name; cut to
    /// 32 letters, digits, `-`, `_`, `.`).
    pub fn acting_as(mut self, actor: &str) -> StaffDb {
        let clean: String = actor
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .take(32)
            .collect();
        self.actor = if clean.is_empty() {
            "unknown".into()
        } else {
            clean
        };
        self
    }

    /// The trail's head (`None`: no entry yet).
    pub fn head(&self) -> Result<Option<Head>, StaffError> {
        Ok(self
            .conn
            .query_row("SELECT seq, hash FROM audit_head WHERE one = 1", [], |r| {
                Ok(Head {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Checks the trail against a head kept elsewhere: the chain is sound
    /// and holds that entry with that hash. `Ok(n)`: n entries.
    pub fn verify_head(&self, kept: &Head) -> Result<Result<i64, ChainBreak>, StaffError> {
        let last = match self.verify()? {
            Ok(last) => last,
            Err(broken) => return Ok(Err(broken)),
        };
        // The head of an empty trail comes before every trail.
        if kept.seq == 0 && kept.hash == GENESIS {
            return Ok(Ok(last));
        }
        if kept.seq > last {
            return Ok(Err(ChainBreak::Behind {
                last,
                head: kept.seq,
            }));
        }
        let hash: Option<String> = self
            .conn
            .query_row(
                "SELECT hash FROM audit WHERE seq = ?1",
                params![kept.seq],
                |r| r.get(0),
            )
            .optional()?;
        if hash.as_deref() != Some(kept.hash.as_str()) {
            return Ok(Err(ChainBreak::Rewritten(kept.seq)));
        }
        Ok(Ok(last))
    }

    /// The account's stamp: new whenever its password is set, so a session
    /// opened under an older one is over; `None`: no such account.
    pub fn stamp(&self, id: &str) -> Result<Option<String>, StaffError> {
        Ok(self
            .conn
            .query_row("SELECT stamp FROM staff WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn hash_password(
        password: &str,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<String, StaffError> {
        if !(8..=128).contains(&password.chars().count()) {
            return Err(StaffError::WeakPassword);
        }
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| StaffError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StaffError::Hash(e.to_string()))
    }

    /// Adds an account.
    pub fn add(
        &mut self,
        id: &str,
        password: &str,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), StaffError> {
        check_id(id)?;
        let hash = Self::hash_password(password, rng)?;
        let stamp = new_stamp(rng);
        self.change_account(
            now,
            id,
            StaffEvent::AccountAdded,
            "INSERT OR IGNORE INTO staff (id, hash, created, stamp) VALUES (?1, ?2, ?3, ?4)",
            params![id, hash, now, stamp],
            StaffError::Exists(id.to_string()),
        )
    }

    /// One change to an account and its audit row, both or neither;
    /// `missing` when the statement touched no row.
    fn change_account(
        &mut self,
        now: i64,
        id: &str,
        event: StaffEvent,
        sql: &str,
        params: impl rusqlite::Params,
        missing: StaffError,
    ) -> Result<(), StaffError> {
        let tx = self.conn.transaction()?;
        if tx.execute(sql, params)? == 0 {
            return Err(missing);
        }
        append(
            &tx,
            now,
            id,
            event.code(),
            "ok",
            &format!("by={}", self.actor),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a new password (and unlocks).
    pub fn set_password(
        &mut self,
        id: &str,
        password: &str,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), StaffError> {
        let hash = Self::hash_password(password, rng)?;
        let stamp = new_stamp(rng);
        self.change_account(
            now,
            id,
            StaffEvent::PasswordChanged,
            "UPDATE staff SET hash = ?2, failures = 0, locked_until = 0, stamp = ?3 WHERE id = ?1",
            params![id, hash, stamp],
            StaffError::NoAccount(id.to_string()),
        )
    }

    /// Removes an account.
    pub fn remove(&mut self, id: &str, now: i64) -> Result<(), StaffError> {
        self.change_account(
            now,
            id,
            StaffEvent::AccountRemoved,
            "DELETE FROM staff WHERE id = ?1",
            params![id],
            StaffError::NoAccount(id.to_string()),
        )
    }

    /// Every account.
    pub fn list(&self) -> Result<Vec<Account>, StaffError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, created, locked_until FROM staff ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Account {
                id: r.get(0)?,
                created: r.get(1)?,
                locked_until: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Checks a password for `action` (an event code for the audit). A
    /// refusal, a lock and the unlocked success are all audited; a
    /// malformed id is refused before anything is written.
    pub fn authenticate(
        &mut self,
        id: &str,
        password: &str,
        action: StaffEvent,
        now: i64,
    ) -> Result<(), StaffError> {
        self.check_password(id, password, action, now, OnWrong::Lock)
    }

    /// As [`StaffDb::authenticate`], but a wrong password does not count
    /// toward the account's lock (the console throttles per client instead:
    /// a stranger's guesses must not lock staff out). A lock already set
    /// still refuses.
    pub fn authenticate_throttled(
        &mut self,
        id: &str,
        password: &str,
        action: StaffEvent,
        now: i64,
    ) -> Result<(), StaffError> {
        self.check_password(id, password, action, now, OnWrong::Audit)
    }

    fn check_password(
        &mut self,
        id: &str,
        password: &str,
        action: StaffEvent,
        now: i64,
        on_wrong: OnWrong,
    ) -> Result<(), StaffError> {
        // Nothing of a malformed id reaches the trail (it could be 2 MB of
        // anything).
        check_id(id).map_err(|_| StaffError::Refused)?;
        let action = action.code();
        let row: Option<(String, u32, i64)> = self
            .conn
            .query_row(
                "SELECT hash, failures, locked_until FROM staff WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((hash, failures, locked_until)) = row else {
            // As long as a known id takes: the answer's time must not tell.
            let _ = password_matches(DECOY, password);
            let tx = self.conn.transaction()?;
            append(&tx, now, id, action, "refused", "no-account")?;
            tx.commit()?;
            return Err(StaffError::Refused);
        };
        let tx = self.conn.transaction()?;
        if locked_until > now {
            append(&tx, now, id, action, "refused", "locked")?;
            tx.commit()?;
            return Err(StaffError::Locked {
                until: locked_until,
            });
        }
        if password_matches(&hash, password) {
            tx.execute(
                "UPDATE staff SET failures = 0, locked_until = 0 WHERE id = ?1",
                params![id],
            )?;
            tx.commit()?;
            return Ok(());
        }
        let failures = failures + 1;
        append(&tx, now, id, action, "refused", "wrong-password")?;
        let result = if on_wrong == OnWrong::Audit {
            Err(StaffError::Refused)
        } else if failures >= MAX_FAILURES {
            let until = now + LOCKOUT.as_secs() as i64;
            tx.execute(
                "UPDATE staff SET failures = 0, locked_until = ?2 WHERE id = ?1",
                params![id, until],
            )?;
            append(
                &tx,
                now,
                id,
                StaffEvent::AccountLocked.code(),
                "locked",
                &format!("{}s", LOCKOUT.as_secs()),
            )?;
            Err(StaffError::Locked { until })
        } else {
            tx.execute(
                "UPDATE staff SET failures = ?2 WHERE id = ?1",
                params![id, failures],
            )?;
            Err(StaffError::Refused)
        };
        tx.commit()?;
        result
    }

    /// Appends an entry (for events the kiosk records: 目視 used, …).
    pub fn record(
        &mut self,
        now: i64,
        staff: &str,
        event: StaffEvent,
        outcome: &str,
        detail: &str,
    ) -> Result<(), StaffError> {
        let tx = self.conn.transaction()?;
        append(&tx, now, staff, event.code(), outcome, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Entries at or after `since` (Unix seconds), oldest first.
    pub fn entries(&self, since: i64) -> Result<Vec<AuditEntry>, StaffError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, staff, event, outcome, detail, prev, hash FROM audit WHERE at >= ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![since], row_entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Checks the whole chain; `Ok(n)`: n entries, all sound.
    pub fn verify(&self) -> Result<Result<i64, ChainBreak>, StaffError> {
        // One read of the trail: each entry with the scheme it was written in.
        let entries: Vec<(AuditEntry, i64)> = self
            .conn
            .prepare(
                "SELECT seq, at, staff, event, outcome, detail, prev, hash, scheme FROM audit ORDER BY seq",
            )?
            .query_map([], |r| Ok((row_entry(r)?, r.get(8)?)))?
            .collect::<Result<_, _>>()?;
        let mut prev = GENESIS.to_string();
        let mut expected_seq = 1;
        let mut newest_scheme = 1;
        for (e, scheme) in &entries {
            let scheme = *scheme;
            // Once length-prefixed, never back: an older scheme after a
            // newer one is a forgery's way round the prefixes.
            let hash = match scheme {
                1 if newest_scheme == 1 => entry_hash_v1(
                    &e.prev, e.seq, e.at, &e.staff, &e.event, &e.outcome, &e.detail,
                ),
                SCHEME => entry_hash(
                    &e.prev, e.seq, e.at, &e.staff, &e.event, &e.outcome, &e.detail,
                ),
                _ => return Ok(Err(ChainBreak::Changed(e.seq))),
            };
            newest_scheme = scheme;
            if hash != e.hash {
                return Ok(Err(ChainBreak::Changed(e.seq)));
            }
            if e.prev != prev || e.seq != expected_seq {
                return Ok(Err(ChainBreak::Unlinked(e.seq)));
            }
            prev = e.hash.clone();
            expected_seq += 1;
        }
        let last = expected_seq - 1;
        let head: Option<(i64, String)> = self
            .conn
            .query_row("SELECT seq, hash FROM audit_head WHERE one = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match head {
            Some((head, hash)) if head != last || hash != prev => {
                Ok(Err(ChainBreak::Truncated { last, head }))
            }
            None if last > 0 => Ok(Err(ChainBreak::Truncated { last, head: -1 })),
            _ => Ok(Ok(last)),
        }
    }
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn new_stamp(rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        staff: r.get(2)?,
        event: r.get(3)?,
        outcome: r.get(4)?,
        detail: r.get(5)?,
        prev: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// Appends one entry inside `tx`, chained to the head.
fn append(
    tx: &rusqlite::Transaction<'_>,
    at: i64,
    staff: &str,
    event: &str,
    outcome: &str,
    detail: &str,
) -> Result<(), StaffError> {
    let head: Option<(i64, String)> = tx
        .query_row("SELECT seq, hash FROM audit_head WHERE one = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (last, prev) = head.unwrap_or((0, GENESIS.to_string()));
    let seq = last + 1;
    let hash = entry_hash(&prev, seq, at, staff, event, outcome, detail);
    tx.execute(
        "INSERT INTO audit (seq, at, staff, event, outcome, detail, prev, hash, scheme) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![seq, at, staff, event, outcome, detail, prev, hash, SCHEME],
    )?;
    tx.execute(
        "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?1, ?2) ON CONFLICT(one) DO UPDATE SET seq = ?1, hash = ?2",
        params![seq, hash],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn db() -> (tempfile::TempDir, StaffDb) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = StaffDb::open(&dir.path().join("kiosk.db")).expect("open");
        (dir, db)
    }

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn passwords_are_stored_as_argon2id_and_checked() {
        let (dir, mut db) = db();
        db.add("nurse-1", "correct horse", 100, &mut rng())
            .expect("add");
        assert!(matches!(
            db.add("nurse-1", "another one", 101, &mut rng()),
            Err(StaffError::Exists(_))
        ));
        assert!(matches!(
            db.add("a b", "password1", 1, &mut rng()),
            Err(StaffError::BadId(_))
        ));
        assert!(matches!(
            db.add("x", "short", 1, &mut rng()),
            Err(StaffError::WeakPassword)
        ));
        db.authenticate("nurse-1", "correct horse", StaffEvent::ConsoleLogin, 102)
            .expect("right password");
        assert!(matches!(
            db.authenticate("nurse-1", "wrong horse", StaffEvent::ConsoleLogin, 103),
            Err(StaffError::Refused)
        ));
        assert!(matches!(
            db.authenticate("nobody", "whatever1", StaffEvent::ConsoleLogin, 103),
            Err(StaffError::Refused)
        ));
        // Only a PHC Argon2id string is stored, never the password.
        let bytes = std::fs::read(dir.path().join("kiosk.db")).unwrap_or_default();
        let wal = std::fs::read(dir.path().join("kiosk.db-wal")).unwrap_or_default();
        let text = String::from_utf8_lossy(&[bytes, wal].concat()).into_owned();
        assert!(!text.contains("correct horse"));
        assert!(text.contains("$argon2id$"));
        db.set_password("nurse-1", "battery staple", 104, &mut rng())
            .expect("passwd");
        db.authenticate("nurse-1", "battery staple", StaffEvent::ConsoleLogin, 105)
            .expect("new password");
        db.remove("nurse-1", 106).expect("remove");
        assert!(db.list().expect("list").is_empty());
    }

    #[test]
    fn five_wrong_passwords_lock_the_account_for_a_while_and_it_is_audited() {
        let (_dir, mut db) = db();
        db.add("clerk", "right password", 0, &mut rng())
            .expect("add");
        for i in 0..4 {
            assert!(matches!(
                db.authenticate("clerk", "wrong", StaffEvent::VisualCheckOn, 10 + i),
                Err(StaffError::Refused)
            ));
        }
        assert!(matches!(
            db.authenticate("clerk", "wrong", StaffEvent::VisualCheckOn, 20),
            Err(StaffError::Locked { .. })
        ));
        // Even the right password is refused while locked.
        assert!(matches!(
            db.authenticate("clerk", "right password", StaffEvent::VisualCheckOn, 30),
            Err(StaffError::Locked { .. })
        ));
        let later = 20 + LOCKOUT.as_secs() as i64 + 1;
        db.authenticate("clerk", "right password", StaffEvent::VisualCheckOn, later)
            .expect("unlocked after the lockout");
        let events: Vec<(String, String)> = db
            .entries(0)
            .expect("entries")
            .into_iter()
            .map(|e| (e.event, e.outcome))
            .collect();
        assert!(events.contains(&("account-locked".into(), "locked".into())));
        assert_eq!(
            events
                .iter()
                .filter(|(e, o)| e == "visual-check-on" && o == "refused")
                .count(),
            6
        );
        assert_eq!(db.verify().expect("verify"), Ok(events.len() as i64));
    }

    #[test]
    fn console_guesses_do_not_lock_and_malformed_ids_leave_no_trace() {
        let (_dir, mut db) = db();
        db.add("clerk", "right password", 0, &mut rng())
            .expect("add");
        for i in 0..10 {
            assert!(matches!(
                db.authenticate_throttled("clerk", "wrong", StaffEvent::ConsoleLogin, i),
                Err(StaffError::Refused)
            ));
        }
        db.authenticate_throttled("clerk", "right password", StaffEvent::ConsoleLogin, 11)
            .expect("not locked by console guesses");
        let before = db.entries(i64::MIN).expect("entries").len();
        let huge = "x".repeat(100_000);
        for id in [huge.as_str(), "a b", "\u{1b}[2J", ""] {
            assert!(matches!(
                db.authenticate_throttled(id, "whatever1", StaffEvent::ConsoleLogin, 12),
                Err(StaffError::Refused)
            ));
            assert!(matches!(
                db.authenticate(id, "whatever1", StaffEvent::VisualCheckOn, 12),
                Err(StaffError::Refused)
            ));
        }
        assert_eq!(db.entries(i64::MIN).expect("entries").len(), before);
        // An unknown well-formed id is audited (at most 32 characters).
        let _ = db.authenticate_throttled("nobody", "whatever1", StaffEvent::ConsoleLogin, 13);
        let last = db.entries(i64::MIN).expect("entries").pop().expect("one");
        assert_eq!(
            (last.staff.as_str(), last.detail.as_str()),
            ("nobody", "no-account")
        );
    }

    #[test]
    fn a_new_password_or_a_removal_changes_the_stamp() {
        let (_dir, mut db) = db();
        db.add("nurse", "first password", 0, &mut rng())
            .expect("add");
        let first = db.stamp("nurse").expect("stamp").expect("account");
        assert_eq!(first.len(), 32);
        db.set_password("nurse", "second password", 1, &mut StdRng::seed_from_u64(9))
            .expect("passwd");
        let second = db.stamp("nurse").expect("stamp").expect("account");
        assert_ne!(first, second);
        db.remove("nurse", 2).expect("remove");
        assert_eq!(db.stamp("nurse").expect("stamp"), None);
    }

    #[test]
    fn fields_are_length_prefixed_so_one_cannot_pass_for_another() {
        let a = entry_hash(GENESIS, 1, 0, "nurse", "visual-check-on", "ok\u{1f}x", "y");
        let b = entry_hash(GENESIS, 1, 0, "nurse", "visual-check-on", "ok", "x\u{1f}y");
        assert_ne!(a, b);
        // The old scheme could not tell them apart.
        assert_eq!(
            entry_hash_v1(GENESIS, 1, 0, "nurse", "visual-check-on", "ok\u{1f}x", "y"),
            entry_hash_v1(GENESIS, 1, 0, "nurse", "visual-check-on", "ok", "x\u{1f}y")
        );
    }

    #[test]
    fn a_trail_begun_under_the_old_scheme_still_verifies_but_never_goes_back_to_it() {
        let (_dir, mut db) = db();
        // Two entries as an older version wrote them.
        let mut prev = GENESIS.to_string();
        for seq in 1..=2 {
            let hash = entry_hash_v1(&prev, seq, seq, "nurse", "visual-check-on", "ok", "unwell");
            db.conn
                .execute(
                    "INSERT INTO audit (seq, at, staff, event, outcome, detail, prev, hash, scheme) VALUES (?1, ?1, 'nurse', 'visual-check-on', 'ok', 'unwell', ?2, ?3, 1)",
                    params![seq, prev, hash],
                )
                .expect("old entry");
            db.conn
                .execute(
                    "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?1, ?2) ON CONFLICT(one) DO UPDATE SET seq = ?1, hash = ?2",
                    params![seq, hash],
                )
                .expect("head");
            prev = hash;
        }
        db.record(3, "nurse", StaffEvent::VisualCheckOff, "ok", "")
            .expect("record");
        assert_eq!(db.verify().expect("verify"), Ok(3));
        // Entry 3 passed off as the old scheme: refused.
        db.conn
            .execute("UPDATE audit SET scheme = 1 WHERE seq = 3", [])
            .expect("tamper");
        assert_eq!(db.verify().expect("verify"), Err(ChainBreak::Changed(3)));
    }

    #[test]
    fn a_head_kept_elsewhere_finds_a_cut_a_rewrite_and_a_restored_copy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kiosk.db");
        let mut db = StaffDb::open(&path).expect("open");
        for i in 0..3 {
            db.record(i, "nurse", StaffEvent::VisualCheckOn, "ok", "unwell")
                .expect("record");
        }
        drop(db);
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).expect("copy");
        let mut db = StaffDb::open(&path).expect("open");
        for i in 3..5 {
            db.record(i, "nurse", StaffEvent::VisualCheckOn, "ok", "unwell")
                .expect("record");
        }
        let kept = db.head().expect("head").expect("entries");
        assert_eq!(kept.seq, 5);
        assert_eq!(kept.to_string().parse::<Head>(), Ok(kept.clone()));
        assert_eq!(db.verify_head(&kept).expect("verify"), Ok(5));
        // An older copy put back: sound on its own, behind the head.
        let restored = StaffDb::open(&copy).expect("open");
        assert_eq!(restored.verify().expect("verify"), Ok(3));
        assert_eq!(
            restored.verify_head(&kept).expect("verify"),
            Err(ChainBreak::Behind { last: 3, head: 5 })
        );
        // Rewritten from the start, chain and head recomputed: sound on its
        // own, but not the trail the head was taken from.
        let forged_path = dir.path().join("forged.db");
        let mut forged = StaffDb::open(&forged_path).expect("open");
        for i in 0..5 {
            forged
                .record(i, "nurse", StaffEvent::VisualCheckOff, "ok", "")
                .expect("record");
        }
        assert_eq!(forged.verify().expect("verify"), Ok(5));
        assert_eq!(
            forged.verify_head(&kept).expect("verify"),
            Err(ChainBreak::Rewritten(5))
        );
        // A later head of the same trail covers an earlier one.
        db.record(6, "nurse", StaffEvent::VisualCheckOff, "ok", "")
            .expect("record");
        assert_eq!(db.verify_head(&kept).expect("verify"), Ok(6));
        assert!("5:xyz".parse::<Head>().is_err());
        assert!(format!("-1:{GENESIS}").parse::<Head>().is_err());
        // What `audit head` prints for an empty trail holds for any trail.
        let empty: Head = format!("0:{GENESIS}").parse().expect("empty head");
        assert_eq!(db.verify_head(&empty).expect("verify"), Ok(6));
        // The decoy is a hash Argon2 reads, so an unknown id costs the same.
        assert!(PasswordHash::new(DECOY).is_ok());
    }

    #[test]
    fn account_changes_name_who_made_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut db = StaffDb::open(&dir.path().join("kiosk.db"))
            .expect("open")
            .acting_as("tech\u{1b}[2J-admin");
        db.add("nurse", "first password", 0, &mut rng())
            .expect("add");
        db.remove("nurse", 1).expect("remove");
        let details: Vec<String> = db
            .entries(i64::MIN)
            .expect("entries")
            .into_iter()
            .map(|e| format!("{} {} {}", e.staff, e.event, e.detail))
            .collect();
        assert_eq!(
            details,
            [
                "nurse account-added by=tech2J-admin",
                "nurse account-removed by=tech2J-admin"
            ]
        );
    }

    fn tampered(sql: &str) -> Result<i64, ChainBreak> {
        let (_dir, mut db) = db();
        for i in 0..5 {
            db.record(i, "nurse", StaffEvent::VisualCheckOn, "ok", "unwell")
                .expect("record");
        }
        assert_eq!(db.verify().expect("verify"), Ok(5));
        db.conn.execute_batch(sql).expect("tamper");
        db.verify().expect("verify")
    }

    #[test]
    fn a_changed_deleted_reordered_or_cut_trail_is_named() {
        assert_eq!(
            tampered("UPDATE audit SET outcome = 'refused' WHERE seq = 3"),
            Err(ChainBreak::Changed(3))
        );
        assert_eq!(
            tampered("DELETE FROM audit WHERE seq = 2"),
            Err(ChainBreak::Unlinked(3))
        );
        // Swap the fields of entries 2 and 4 (hashes travel with them).
        assert_eq!(
            tampered(
                "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 100;"
            ),
            Err(ChainBreak::Changed(2))
        );
        assert_eq!(
            tampered("DELETE FROM audit WHERE seq = 5"),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );
    }
}

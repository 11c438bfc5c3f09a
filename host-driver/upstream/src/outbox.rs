//! The durable outbox: every upstream message is stored (SQLite, WAL, full
//! sync) before it is sent and marked delivered only after the upstream
//! acknowledged it. Rows are kept as tombstones after delivery, so enqueuing
//! the same request id again (a retry after a crash) never sends it twice.
//!
//! SQLite through rusqlite's bundled library: one file, crash-safe with
//! `synchronous=FULL`, typed errors for a full disk or a read-only file, and
//! no server to run on a kiosk.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use uuid::Uuid;

use super::messages::MessageKind;

/// Outbox failures, typed for what the operator must do.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The disk is full: the message was NOT stored.
    #[error("the outbox disk is full; the message was not stored")]
    DiskFull,
    /// The database is read-only: the message was NOT stored.
    #[error("the outbox database is read-only; the message was not stored")]
    ReadOnly,
    /// The file cannot be opened.
    #[error("cannot open the outbox {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// Any other database failure.
    #[error("outbox database error: {0}")]
    Database(rusqlite::Error),
    /// A stored row that makes no sense (edited by hand?).
    #[error("outbox row {0} is corrupt")]
    CorruptRow(i64),
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => OutboxError::DiskFull,
            Some(ErrorCode::ReadOnly) => OutboxError::ReadOnly,
            _ => OutboxError::Database(e),
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting to be sent (again).
    Pending,
    /// Acknowledged by the upstream.
    Delivered,
    /// Refused by the upstream for good (a 4xx).
    Rejected,
    /// A verify request past its deadline: never sent again.
    Expired,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Rejected => "rejected",
            State::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Option<State> {
        match text {
            "pending" => Some(State::Pending),
            "delivered" => Some(State::Delivered),
            "rejected" => Some(State::Rejected),
            "expired" => Some(State::Expired),
            _ => None,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Position in the outbox (send order).
    pub seq: i64,
    /// Idempotency key.
    pub request_id: Uuid,
    /// Verify or consent.
    pub kind: MessageKind,
    /// The signed JWS, sent byte-identical on every try.
    pub body: String,
    /// Unix ms after which a verify request is never sent.
    pub deadline_ms: Option<i64>,
    /// Tries so far.
    pub attempts: u32,
    /// Unix ms of the next try.
    pub next_attempt_ms: i64,
    /// Where it stands.
    pub state: State,
    /// The upstream's answer once delivered.
    pub answer: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// The outbox file.
pub struct Outbox {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id      TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    deadline_ms     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    answer          TEXT,
    last_error      TEXT,
    done_ms         INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_state_seq ON outbox(state, seq);
";

fn row_to_stored(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Stored, String, String, String)> {
    Ok((
        Stored {
            seq: row.get(0)?,
            request_id: Uuid::nil(),
            kind: MessageKind::Verify,
            body: row.get(3)?,
            deadline_ms: row.get(4)?,
            attempts: row.get(5)?,
            next_attempt_ms: row.get(6)?,
            state: State::Pending,
            answer: row.get(8)?,
            last_error: row.get(9)?,
        },
        row.get(1)?,
        row.get(2)?,
        row.get(7)?,
    ))
}

fn finish_row(
    (mut stored, id, kind, state): (Stored, String, String, String),
) -> Result<Stored, OutboxError> {
    let corrupt = OutboxError::CorruptRow(stored.seq);
    stored.request_id = Uuid::parse_str(&id).map_err(|_| OutboxError::CorruptRow(stored.seq))?;
    stored.kind = MessageKind::parse(&kind).ok_or(OutboxError::CorruptRow(stored.seq))?;
    stored.state = State::parse(&state).ok_or(corrupt)?;
    Ok(stored)
}

const COLUMNS: &str =
    "seq, request_id, kind, body, deadline_ms, attempts, next_attempt_ms, state, answer, last_error";

impl Outbox {
    /// Opens (or creates) the outbox file.
    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        let setup = || -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            // WAL keeps readers and the writer apart; FULL syncs the WAL on
            // every commit, so a committed message survives a power cut.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            // What is deleted or overwritten (a delivered request's body,
            // pruned rows) is zeroed in the file, not left in free space.
            conn.pragma_update(None, "secure_delete", "ON")?;
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        };
        setup().map(|conn| Outbox { conn }).map_err(|source| {
            // SQLite reports a read-only disk as "cannot open" (it cannot
            // create the WAL index); ask the file system what is wrong.
            let writable = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path);
            match (OutboxError::from(source), writable) {
                (_, Err(e)) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => {
                    OutboxError::ReadOnly
                }
                (OutboxError::Database(source), _) => OutboxError::Open {
                    path: path.display().to_string(),
                    source,
                },
                (typed, _) => typed,
            }
        })
    }

    /// Stores a message before it is sent. Idempotent on `request_id`: the
    /// first stored body wins, and a delivered message stays delivered.
    pub fn enqueue(
        &self,
        request_id: Uuid,
        kind: MessageKind,
        body: &str,
        now_ms: i64,
        deadline_ms: Option<i64>,
    ) -> Result<Stored, OutboxError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO outbox (request_id, kind, body, created_ms, deadline_ms, next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?4)",
            params![request_id.to_string(), kind.as_str(), body, now_ms, deadline_ms],
        )?;
        self.get(request_id)?.ok_or(OutboxError::CorruptRow(-1))
    }

    /// A message by its request id.
    pub fn get(&self, request_id: Uuid) -> Result<Option<Stored>, OutboxError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE request_id = ?1"),
                params![request_id.to_string()],
                row_to_stored,
            )
            .optional()?;
        row.map(finish_row).transpose()
    }

    /// The oldest pending message, due or not (sending keeps this order).
    pub fn first_pending(&self) -> Result<Option<Stored>, OutboxError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1"
                ),
                [],
                row_to_stored,
            )
            .optional()?;
        row.map(finish_row).transpose()
    }

    /// When the oldest waiting message was stored (Unix ms), if any waits.
    pub fn oldest_pending_ms(&self) -> Result<Option<i64>, OutboxError> {
        Ok(self.conn.query_row(
            "SELECT MIN(created_ms) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// How many messages wait.
    pub fn pending_count(&self) -> Result<u64, OutboxError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    fn finish(
        &self,
        seq: i64,
        state: State,
        answer: Option<&str>,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), OutboxError> {
        // A delivered or expired message is never sent again: its body
        // (the signed request, the card's certificate in it) goes. A
        // rejected one keeps it until pruned, for the technician.
        let clear_body = matches!(state, State::Delivered | State::Expired);
        self.conn.execute(
            "UPDATE outbox SET state = ?2, answer = COALESCE(?3, answer), last_error = COALESCE(?4, last_error),
                 done_ms = ?5, body = CASE WHEN ?6 THEN '' ELSE body END
             WHERE seq = ?1 AND state = 'pending'",
            params![seq, state.as_str(), answer, error, now_ms, clear_body],
        )?;
        Ok(())
    }

    /// Moves what the write-ahead log holds into the file and empties the
    /// log (older versions of rows, bodies since cleared, would otherwise
    /// stay in it until overwritten).
    pub fn checkpoint(&self) -> Result<(), OutboxError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The upstream acknowledged it.
    pub fn mark_delivered(&self, seq: i64, answer: &str, now_ms: i64) -> Result<(), OutboxError> {
        self.finish(seq, State::Delivered, Some(answer), None, now_ms)
    }

    /// The upstream refused it for good.
    pub fn mark_rejected(&self, seq: i64, error: &str, now_ms: i64) -> Result<(), OutboxError> {
        self.finish(seq, State::Rejected, None, Some(error), now_ms)
    }

    /// Past its deadline: never sent again.
    pub fn mark_expired(&self, seq: i64, now_ms: i64) -> Result<(), OutboxError> {
        self.finish(seq, State::Expired, None, None, now_ms)
    }

    /// A try failed; try again at `next_ms`.
    pub fn mark_retry(&self, seq: i64, next_ms: i64, error: &str) -> Result<(), OutboxError> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3
             WHERE seq = ?1 AND state = 'pending'",
            params![seq, next_ms, error],
        )?;
        Ok(())
    }

    /// Drops tombstones finished before `before_ms`.
    pub fn prune(&self, before_ms: i64) -> Result<usize, OutboxError> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE state != 'pending' AND done_ms < ?1",
            params![before_ms],
        )?)
    }
}

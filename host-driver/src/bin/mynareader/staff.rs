//! `mynareader staff …`: accounts and the audit trail on the kiosk's
//! database file (no kiosk needs to run), and the staff's tools on a
//! running kiosk's control socket (目視, status, alerts).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use myna_kiosk::config::KioskConfig;
use myna_kiosk::control::{self, Password};
use myna_kiosk::staff::{StaffDb, StaffError};
use zeroize::Zeroizing;

use crate::hint::{Failure, Hint};

/// `mynareader staff …`.
#[derive(Debug, clap::Args)]
pub struct StaffArgs {
    #[command(subcommand)]
    command: StaffCommand,
    /// The kiosk's settings file (for the database and control socket).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The kiosk's database (default: from the settings).
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// The kiosk's control socket (default: from the settings).
    #[arg(long, global = true)]
    control: Option<PathBuf>,
    /// Read the password from the first line of standard input instead of
    /// asking on the terminal.
    #[arg(long, global = true)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add a staff account (asks for the password twice).
    Add {
        /// Staff id (letters, digits, - and _).
        id: String,
    },
    /// Set a new password (and unlock the account).
    Passwd {
        /// Staff id.
        id: String,
    },
    /// Remove a staff account.
    Remove {
        /// Staff id.
        id: String,
    },
    /// List the accounts.
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Switch 目視 on for one reception (or off), as a staff member.
    VisualCheck {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Your staff id.
        #[arg(long)]
        staff: String,
        /// With `on`: face-unavailable, pin-forgotten, difficult-to-visit,
        /// unwell, cognitive, other.
        #[arg(long, required_if_eq("state", "on"))]
        reason: Option<String>,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The running kiosk's state.
    Status {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// The running kiosk's alerts; with --follow, new ones as they come.
    Alerts {
        /// Keep printing new alerts.
        #[arg(long)]
        follow: bool,
        /// As JSON lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain; names the entry that breaks it (exit 1). With
    /// --head, also that the trail holds a head kept elsewhere (the
    /// upstream's copy): a cut tail, a rewrite or an older copy put back is
    /// found even when the chain is sound on its own.
    Verify {
        /// A head kept elsewhere, as SEQ:HASH (`staff audit head` prints it;
        /// the upstream keeps the one each message carried); repeat for
        /// each kept head.
        #[arg(long)]
        head: Vec<myna_kiosk::staff::Head>,
    },
    /// Print the trail's head (SEQ:HASH), the value the upstream keeps.
    Head,
    /// List entries.
    Show {
        /// From this time on (Unix seconds or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn staff_failure(e: StaffError) -> Failure {
    let failure = Failure::new(e.to_string());
    match e {
        StaffError::Database(_) => failure.hint(Hint::CheckPath),
        _ => failure,
    }
}

/// The password: one line of stdin, or asked on the terminal (`twice`
/// asks again to confirm).
fn password(from_stdin: bool, twice: bool) -> Result<Zeroizing<String>, Failure> {
    if from_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::new(format!("cannot read the password: {e}")))?;
        let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
        return Ok(trimmed);
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("password: ")
            .map_err(|e| Failure::new(format!("cannot read the password: {e}")))?,
    );
    if twice {
        let again = Zeroizing::new(
            rpassword::prompt_password("again: ")
                .map_err(|e| Failure::new(format!("cannot read the password: {e}")))?,
        );
        if *again != *first {
            return Err(Failure::new("the two passwords differ"));
        }
    }
    Ok(first)
}

/// Runs `mynareader staff …`.
pub fn run(args: StaffArgs) -> Result<(), Failure> {
    let config = KioskConfig::load(args.config.as_deref())
        .map_err(|e| Failure::new(e.to_string()).hint(Hint::CheckPath))?;
    let db_path = args
        .db
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.files.database));
    let socket = args
        .control
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.files.control));
    // Account changes are recorded with who made them: the login that ran
    // this (through sudo, the one who asked).
    let actor = ["SUDO_USER", "USER", "LOGNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default();
    let open = || {
        StaffDb::open(&db_path)
            .map(|db| db.acting_as(&actor))
            .map_err(staff_failure)
    };
    // Reading the trail never makes a database: a mistyped path is an
    // error, not "sound: 0 entries".
    let open_existing = || {
        if db_path.is_file() {
            open()
        } else {
            Err(
                Failure::new(format!("no kiosk database at {}", db_path.display()))
                    .hint(Hint::CheckPath),
            )
        }
    };
    match args.command {
        StaffCommand::Add { id } => {
            let mut db = open()?;
            let pw = password(args.password_stdin, true)?;
            db.add(&id, &pw, now(), &mut rand::rngs::OsRng)
                .map_err(staff_failure)?;
            println!("added {id}");
            Ok(())
        }
        StaffCommand::Passwd { id } => {
            let mut db = open()?;
            let pw = password(args.password_stdin, true)?;
            db.set_password(&id, &pw, now(), &mut rand::rngs::OsRng)
                .map_err(staff_failure)?;
            println!("password of {id} changed");
            Ok(())
        }
        StaffCommand::Remove { id } => {
            open()?.remove(&id, now()).map_err(staff_failure)?;
            println!("removed {id}");
            Ok(())
        }
        StaffCommand::List { json } => {
            let accounts = open()?.list().map_err(staff_failure)?;
            if json {
                println!("{}", serde_json::to_string(&accounts).unwrap_or_default());
            } else {
                for a in accounts {
                    let locked = if a.locked_until > now() {
                        " (locked)"
                    } else {
                        ""
                    };
                    println!("{}{locked}", a.id);
                }
            }
            Ok(())
        }
        StaffCommand::VisualCheck {
            state,
            staff,
            reason,
        } => {
            let pw = password(args.password_stdin, false)?;
            let line = match (state.as_str(), reason) {
                ("on", Some(reason)) => {
                    format!("visual-check on {staff} {reason} {}", Password::encode(&pw))
                }
                _ => format!("visual-check off {staff} {}", Password::encode(&pw)),
            };
            let answer = ask(&socket, &line)?;
            let value: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            println!(
                "目視 {}",
                if value["visual_check"] == true {
                    "on: for the next reception only"
                } else {
                    "off"
                }
            );
            Ok(())
        }
        StaffCommand::Audit(AuditCommand::Verify { head }) => {
            let db = open_existing()?;
            let mut verdict = db.verify().map_err(staff_failure)?;
            for kept in &head {
                if verdict.is_err() {
                    break;
                }
                verdict = db.verify_head(kept).map_err(staff_failure)?;
            }
            match verdict {
                Ok(n) if head.is_empty() => {
                    println!("audit trail sound: {n} entries");
                    Ok(())
                }
                Ok(n) => {
                    println!(
                        "audit trail sound: {n} entries, holding the {} head(s) given",
                        head.len()
                    );
                    Ok(())
                }
                Err(broken) => Err(Failure::new(format!("audit trail broken: {broken}"))),
            }
        }
        StaffCommand::Audit(AuditCommand::Head) => {
            match open_existing()?.head().map_err(staff_failure)? {
                Some(head) => println!("{head}"),
                // The empty trail's head (what `verify --head` takes for it).
                None => println!("0:{}", "0".repeat(64)),
            }
            Ok(())
        }
        StaffCommand::Audit(AuditCommand::Show { since, json }) => {
            let since = match since.as_deref() {
                None => i64::MIN,
                Some(text) => parse_since(text)?,
            };
            let entries = open_existing()?.entries(since).map_err(staff_failure)?;
            if json {
                println!("{}", serde_json::to_string(&entries).unwrap_or_default());
            } else {
                for e in entries {
                    println!(
                        "{:>5} {} {:<12} {:<20} {:<14} {}",
                        e.seq,
                        clock_text(e.at),
                        e.staff,
                        e.event,
                        e.outcome,
                        e.detail
                    );
                }
            }
            Ok(())
        }
        StaffCommand::Status { json } => status(&socket, json),
        StaffCommand::Alerts { follow, json } => alerts(&socket, follow, json),
    }
}

fn parse_since(text: &str) -> Result<i64, Failure> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| Failure::new(format!("--since {text:?}: Unix seconds or YYYY-MM-DD")))
}

fn clock_text(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

/// One request to a running kiosk; a refusal is a failure with its words.
pub fn ask(socket: &Path, line: &str) -> Result<String, Failure> {
    let answer = control::ask(socket, line).map_err(|e| {
        Failure::new(format!(
            "cannot reach the kiosk at {}: {e}",
            socket.display()
        ))
        .hint(Hint::StartKiosk)
    })?;
    let value: serde_json::Value = serde_json::from_str(&answer)
        .map_err(|e| Failure::new(format!("the kiosk answered {answer:?}: {e}")))?;
    if value["ok"] == false {
        return Err(Failure::new(format!(
            "the kiosk refused: {}",
            value["error"].as_str().unwrap_or("?")
        )));
    }
    Ok(answer)
}

/// `status`, as words or JSON.
pub fn status(socket: &Path, json: bool) -> Result<(), Failure> {
    let answer = ask(socket, "status")?;
    if json {
        println!("{answer}");
        return Ok(());
    }
    let s: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
    let yes = |v: &serde_json::Value| v == true;
    println!("screen        {}", s["screen"].as_str().unwrap_or("?"));
    println!(
        "reception     {}",
        if yes(&s["in_reception"]) {
            "under way"
        } else {
            "none"
        }
    );
    println!(
        "目視          {}",
        if yes(&s["visual_check"]) { "on" } else { "off" }
    );
    println!(
        "reader        {} (firmware {})",
        if yes(&s["reader_up"]) {
            "answering"
        } else {
            "NOT ANSWERING"
        },
        s["reader_firmware"]
    );
    println!(
        "card          {}",
        if yes(&s["card_present"]) {
            "on the reader"
        } else {
            "none"
        }
    );
    println!("receptions    {}", s["receptions"]);
    println!(
        "outbox        {} pending (oldest {} s)",
        s["outbox_pending"], s["outbox_oldest_secs"]
    );
    println!(
        "last error    {}",
        s["last_error"].as_str().unwrap_or("none")
    );
    let alerts = s["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        println!("alerts        none");
    }
    for alert in alerts {
        print_alert(&alert);
    }
    Ok(())
}

fn print_alert(alert: &serde_json::Value) {
    println!(
        "alert         {} {} — {}",
        clock_text(alert["at"].as_i64().unwrap_or(0)),
        alert["code"].as_str().unwrap_or("?"),
        alert["words"].as_str().unwrap_or("")
    );
}

fn alerts(socket: &Path, follow: bool, json: bool) -> Result<(), Failure> {
    let mut since = 0u64;
    loop {
        let answer = ask(socket, &format!("alerts {since}"))?;
        let value: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        for alert in value["alerts"].as_array().cloned().unwrap_or_default() {
            since = since.max(alert["seq"].as_u64().unwrap_or(since));
            if json {
                println!("{alert}");
            } else {
                print_alert(&alert);
            }
        }
        if !follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

//! Login throttling, without I/O: wrong passwords slow down the client that
//! gives them, and, more gently, every attempt on a staff id many clients
//! guess at. A console login never locks the account itself, so a page on
//! the reception PC cannot lock a staff member out: it only slows itself.
//! (The CLI and the control socket keep the account lockout: their caller is
//! a person at the kiosk.) Time is passed in.

use std::collections::HashMap;
use std::net::IpAddr;

/// Wrong passwords a client may give before it has to wait.
pub const CLIENT_FREE_FAILURES: u32 = 5;
/// The first wait; it doubles with each further failure ...
pub const CLIENT_FIRST_WAIT_SECS: i64 = 30;
/// ... up to this.
pub const CLIENT_MAX_WAIT_SECS: i64 = 15 * 60;
/// Wrong passwords for one id, from any clients, before attempts on it are
/// spaced out.
pub const ID_FREE_FAILURES: u32 = 10;
/// The spacing then (slows a guess spread over many clients; one person
/// typing is never slower than this).
pub const ID_SPACING_SECS: i64 = 2;
/// Failures are forgotten this long after the last one.
pub const FORGET_AFTER_SECS: i64 = 60 * 60;
/// Records kept per kind at most (the oldest go first).
pub const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone, Copy, Default)]
struct Record {
    failures: u32,
    last: i64,
    until: i64,
}

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password.
    Go,
    /// Refused without checking: try again in this many seconds.
    Wait(i64),
}

/// The console's failed-login memory.
#[derive(Debug, Default)]
pub struct Throttle {
    clients: HashMap<IpAddr, Record>,
    ids: HashMap<String, Record>,
}

fn remembered<K>(map: &mut HashMap<K, Record>, key: &K, now: i64) -> Option<Record>
where
    K: std::hash::Hash + Eq,
{
    let record = *map.get(key)?;
    if now - record.last > FORGET_AFTER_SECS && now >= record.until {
        map.remove(key);
        return None;
    }
    Some(record)
}

fn bounded<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, Record>, now: i64) {
    if map.len() < MAX_TRACKED {
        return;
    }
    map.retain(|_, r| now - r.last <= FORGET_AFTER_SECS || now < r.until);
    while map.len() >= MAX_TRACKED {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, r)| r.last)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

impl Throttle {
    /// Whether `client` may try a password for `id` now.
    pub fn check(&mut self, client: IpAddr, id: &str, now: i64) -> Verdict {
        let client_until = remembered(&mut self.clients, &client, now).map_or(0, |r| r.until);
        let id_until = remembered(&mut self.ids, &id.to_string(), now).map_or(0, |r| r.until);
        let until = client_until.max(id_until);
        if until > now {
            Verdict::Wait(until - now)
        } else {
            Verdict::Go
        }
    }

    /// A wrong password (or an unknown or malformed id) from `client`;
    /// `id` is `None` when it was not a well-formed id.
    pub fn failed(&mut self, client: IpAddr, id: Option<&str>, now: i64) {
        bounded(&mut self.clients, now);
        let mut record = remembered(&mut self.clients, &client, now).unwrap_or_default();
        record.failures += 1;
        record.last = now;
        if record.failures >= CLIENT_FREE_FAILURES {
            let doublings = (record.failures - CLIENT_FREE_FAILURES).min(16);
            let wait = (CLIENT_FIRST_WAIT_SECS << doublings).min(CLIENT_MAX_WAIT_SECS);
            record.until = now + wait;
        }
        self.clients.insert(client, record);
        if let Some(id) = id {
            bounded(&mut self.ids, now);
            let key = id.to_string();
            let mut record = remembered(&mut self.ids, &key, now).unwrap_or_default();
            record.failures += 1;
            record.last = now;
            if record.failures >= ID_FREE_FAILURES {
                record.until = now + ID_SPACING_SECS;
            }
            self.ids.insert(key, record);
        }
    }

    /// The right password: the client and the id start afresh.
    pub fn succeeded(&mut self, client: IpAddr, id: &str) {
        self.clients.remove(&client);
        self.ids.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn a_guessing_client_waits_longer_and_longer_but_others_do_not() {
        let mut t = Throttle::default();
        let mut now = 1000;
        for _ in 0..CLIENT_FREE_FAILURES - 1 {
            assert_eq!(t.check(ip(1), "nurse", now), Verdict::Go);
            t.failed(ip(1), Some("nurse"), now);
            now += 1;
        }
        assert_eq!(t.check(ip(1), "nurse", now), Verdict::Go);
        t.failed(ip(1), Some("nurse"), now);
        assert_eq!(
            t.check(ip(1), "nurse", now),
            Verdict::Wait(CLIENT_FIRST_WAIT_SECS)
        );
        // Another id from the same client waits too ...
        assert!(matches!(t.check(ip(1), "clerk", now), Verdict::Wait(_)));
        // ... but the same id from another client does not.
        assert_eq!(t.check(ip(2), "nurse", now), Verdict::Go);
        now += CLIENT_FIRST_WAIT_SECS;
        assert_eq!(t.check(ip(1), "nurse", now), Verdict::Go);
        t.failed(ip(1), Some("nurse"), now);
        assert_eq!(
            t.check(ip(1), "nurse", now),
            Verdict::Wait(2 * CLIENT_FIRST_WAIT_SECS)
        );
        for _ in 0..20 {
            now += CLIENT_MAX_WAIT_SECS;
            t.failed(ip(1), None, now);
        }
        assert_eq!(
            t.check(ip(1), "x", now),
            Verdict::Wait(CLIENT_MAX_WAIT_SECS)
        );
        // A right password from the client clears it.
        t.succeeded(ip(1), "nurse");
        assert_eq!(t.check(ip(1), "nurse", now), Verdict::Go);
    }

    #[test]
    fn an_id_guessed_from_many_clients_is_spaced_out_and_forgotten_later() {
        let mut t = Throttle::default();
        let now = 5000;
        for n in 0..ID_FREE_FAILURES {
            assert_eq!(t.check(ip(n as u8 + 10), "nurse", now), Verdict::Go);
            t.failed(ip(n as u8 + 10), Some("nurse"), now);
        }
        assert_eq!(
            t.check(ip(200), "nurse", now),
            Verdict::Wait(ID_SPACING_SECS)
        );
        assert_eq!(t.check(ip(200), "clerk", now), Verdict::Go);
        assert_eq!(
            t.check(ip(200), "nurse", now + ID_SPACING_SECS),
            Verdict::Go
        );
        // An hour later nothing is remembered: one failure does not space.
        let later = now + FORGET_AFTER_SECS + 1;
        t.failed(ip(201), Some("nurse"), later);
        assert_eq!(t.check(ip(202), "nurse", later), Verdict::Go);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = Throttle::default();
        for n in 0..(MAX_TRACKED as u32 + 100) {
            let client = IpAddr::from((0x0a00_0000u32 + n).to_be_bytes());
            t.failed(client, Some(&format!("id-{n}")), i64::from(n));
        }
        assert!(t.clients.len() <= MAX_TRACKED);
        assert!(t.ids.len() <= MAX_TRACKED);
    }
}

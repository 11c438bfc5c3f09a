//! Console sessions, without I/O: a random session id (the cookie) and a
//! random CSRF token per login, idle expiry, and the lookup every request
//! makes. Time and randomness are passed in.

use std::collections::HashMap;

use rand::{CryptoRng, RngCore};

/// A session ends after this long without a request.
pub const IDLE_LIMIT_SECS: i64 = 15 * 60;

/// One logged-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub staff: String,
    /// The token every state-changing form must carry.
    pub csrf: String,
    /// Last request (Unix seconds).
    pub seen: i64,
}

/// The console's sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<String, Session>,
}

fn token(rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Sessions {
    /// Opens a session for `staff`; returns its id (the cookie value).
    pub fn open(&mut self, staff: &str, now: i64, rng: &mut (impl RngCore + CryptoRng)) -> String {
        self.by_id.retain(|_, s| now - s.seen <= IDLE_LIMIT_SECS);
        let id = token(rng);
        self.by_id.insert(
            id.clone(),
            Session {
                staff: staff.to_string(),
                csrf: token(rng),
                seen: now,
            },
        );
        id
    }

    /// The live session with this id (touched), or `None` (unknown or
    /// expired: it is forgotten).
    pub fn get(&mut self, id: &str, now: i64) -> Option<Session> {
        let alive = self
            .by_id
            .get(id)
            .is_some_and(|s| now - s.seen <= IDLE_LIMIT_SECS);
        if !alive {
            self.by_id.remove(id);
            return None;
        }
        let session = self.by_id.get_mut(id)?;
        session.seen = now;
        Some(session.clone())
    }

    /// Ends a session.
    pub fn close(&mut self, id: &str) {
        self.by_id.remove(id);
    }
}

/// Compares a form's CSRF token with the session's in constant time.
pub fn csrf_ok(session: &Session, form_token: &str) -> bool {
    // Constant time (`subtle`): the compare must not tell how much of a
    // guessed token was right. Unequal lengths are refused at once.
    bool::from(subtle::ConstantTimeEq::ct_eq(
        session.csrf.as_bytes(),
        form_token.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn sessions_expire_when_idle_and_tokens_are_checked() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut sessions = Sessions::default();
        let id = sessions.open("nurse", 1000, &mut rng);
        let other = sessions.open("clerk", 1000, &mut rng);
        assert_ne!(id, other);
        let s = sessions.get(&id, 1000 + IDLE_LIMIT_SECS).expect("alive");
        assert_eq!(s.staff, "nurse");
        assert!(csrf_ok(&s, &s.csrf));
        assert!(!csrf_ok(&s, ""));
        assert!(!csrf_ok(&s, &s.csrf[1..]));
        // Touched at the last get: alive until IDLE_LIMIT after it.
        assert!(sessions.get(&id, 1000 + 2 * IDLE_LIMIT_SECS).is_some());
        assert!(sessions.get(&other, 1000 + 2 * IDLE_LIMIT_SECS).is_none());
        assert!(sessions.get("made-up", 1000).is_none());
        sessions.close(&id);
        assert!(sessions.get(&id, 1000 + 2 * IDLE_LIMIT_SECS).is_none());
    }
}

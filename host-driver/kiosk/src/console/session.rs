//! Console sessions, without I/O: a random session id (the cookie) and a
//! random CSRF token per login, idle expiry that only a person's request
//! extends (not the page's own refresh), an absolute lifetime, the account
//! stamp a session was opened under (a changed password or a removed
//! account ends it), and the lookup every request makes. The login form's
//! own CSRF token is an HMAC of a pre-login cookie. Time and randomness are
//! passed in.

use std::collections::HashMap;

use rand::{CryptoRng, RngCore};

/// A session ends after this long without a request from the person (the
/// dashboard's own refresh does not count).
pub const IDLE_LIMIT_SECS: i64 = 15 * 60;
/// A session ends this long after its login, however busy (a working day).
pub const ABSOLUTE_LIMIT_SECS: i64 = 10 * 60 * 60;
/// A login form's token is good for this long.
pub const LOGIN_FORM_SECS: i64 = 10 * 60;

/// One logged-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub staff: String,
    /// The token every state-changing form must carry.
    pub csrf: String,
    /// Last request by the person (Unix seconds).
    pub seen: i64,
    /// Login (Unix seconds).
    pub opened: i64,
    /// The account's stamp at login ([`crate::staff::StaffDb::stamp`]).
    pub stamp: String,
}

impl Session {
    fn alive(&self, now: i64) -> bool {
        now - self.seen <= IDLE_LIMIT_SECS && now - self.opened <= ABSOLUTE_LIMIT_SECS
    }
}

/// Whether a request was made by the person or by the page itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// A person's request: extends the idle limit.
    Person,
    /// The dashboard's refresh or its mirror image: does not.
    Passive,
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
    /// Opens a session for `staff` whose account has `stamp`; returns its
    /// id (the cookie value).
    pub fn open(
        &mut self,
        staff: &str,
        stamp: &str,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> String {
        self.by_id.retain(|_, s| s.alive(now));
        let id = token(rng);
        self.by_id.insert(
            id.clone(),
            Session {
                staff: staff.to_string(),
                csrf: token(rng),
                seen: now,
                opened: now,
                stamp: stamp.to_string(),
            },
        );
        id
    }

    /// The live session with this id (touched when a person asked), or
    /// `None` (unknown or expired: it is forgotten).
    pub fn get(&mut self, id: &str, now: i64, touch: Touch) -> Option<Session> {
        if !self.by_id.get(id).is_some_and(|s| s.alive(now)) {
            self.by_id.remove(id);
            return None;
        }
        let session = self.by_id.get_mut(id)?;
        if touch == Touch::Person {
            session.seen = now;
        }
        Some(session.clone())
    }

    /// Ends the sessions of `staff` opened under another stamp than
    /// `current` (its password changed; `None`: the account is gone).
    pub fn close_stale(&mut self, staff: &str, current: Option<&str>) {
        self.by_id
            .retain(|_, s| s.staff != staff || Some(s.stamp.as_str()) == current);
    }

    /// Ends a session.
    pub fn close(&mut self, id: &str) {
        self.by_id.remove(id);
    }
}

/// A fresh pre-login cookie value: `issued:nonce`.
pub fn login_cookie(now: i64, rng: &mut (impl RngCore + CryptoRng)) -> String {
    format!("{now}-{}", token(rng))
}

/// The login form's token for a pre-login cookie (an HMAC under the
/// console's key: a page elsewhere can neither read the cookie nor make the
/// token).
pub fn login_token(key: &ring::hmac::Key, cookie: &str) -> String {
    hex::encode(ring::hmac::sign(key, cookie.as_bytes()).as_ref())
}

/// Whether a login post carries the token of its pre-login cookie, and the
/// cookie is recent.
pub fn login_token_ok(key: &ring::hmac::Key, cookie: &str, token: &str, now: i64) -> bool {
    let Some(issued) = cookie
        .split_once('-')
        .and_then(|(t, _)| t.parse::<i64>().ok())
    else {
        return false;
    };
    let Ok(tag) = hex::decode(token) else {
        return false;
    };
    (0..=LOGIN_FORM_SECS).contains(&(now - issued))
        && ring::hmac::verify(key, cookie.as_bytes(), &tag).is_ok()
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
        let id = sessions.open("nurse", "s1", 1000, &mut rng);
        let other = sessions.open("clerk", "s2", 1000, &mut rng);
        assert_ne!(id, other);
        let s = sessions
            .get(&id, 1000 + IDLE_LIMIT_SECS, Touch::Person)
            .expect("alive");
        assert_eq!((s.staff.as_str(), s.stamp.as_str()), ("nurse", "s1"));
        assert!(csrf_ok(&s, &s.csrf));
        assert!(!csrf_ok(&s, ""));
        assert!(!csrf_ok(&s, &s.csrf[1..]));
        // Touched at the last get: alive until IDLE_LIMIT after it.
        assert!(sessions
            .get(&id, 1000 + 2 * IDLE_LIMIT_SECS, Touch::Person)
            .is_some());
        assert!(sessions
            .get(&other, 1000 + 2 * IDLE_LIMIT_SECS, Touch::Person)
            .is_none());
        assert!(sessions.get("made-up", 1000, Touch::Person).is_none());
        sessions.close(&id);
        assert!(sessions
            .get(&id, 1000 + 2 * IDLE_LIMIT_SECS, Touch::Person)
            .is_none());
    }

    #[test]
    fn the_page_refreshing_itself_does_not_keep_a_session_alive() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut sessions = Sessions::default();
        let id = sessions.open("nurse", "s", 0, &mut rng);
        // Every 5 s for longer than the idle limit, nobody at the desk.
        let mut at = 0;
        while at < IDLE_LIMIT_SECS {
            at += 5;
            assert!(sessions.get(&id, at, Touch::Passive).is_some());
        }
        assert!(sessions.get(&id, at + 5, Touch::Passive).is_none());
    }

    #[test]
    fn a_busy_session_still_ends_at_its_absolute_limit_and_account_changes_end_it() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut sessions = Sessions::default();
        let id = sessions.open("nurse", "s", 0, &mut rng);
        let mut at = 0;
        while at + 60 <= ABSOLUTE_LIMIT_SECS {
            at += 60;
            assert!(sessions.get(&id, at, Touch::Person).is_some());
        }
        assert!(sessions
            .get(&id, ABSOLUTE_LIMIT_SECS + 1, Touch::Person)
            .is_none());
        let a = sessions.open("nurse", "old", 0, &mut rng);
        let fresh = sessions.open("nurse", "new", 0, &mut rng);
        let b = sessions.open("clerk", "old", 0, &mut rng);
        sessions.close_stale("nurse", Some("new"));
        assert!(sessions.get(&a, 1, Touch::Person).is_none());
        assert!(
            sessions.get(&fresh, 1, Touch::Person).is_some(),
            "opened after the change"
        );
        assert!(sessions.get(&b, 1, Touch::Person).is_some());
        sessions.close_stale("nurse", None);
        assert!(
            sessions.get(&fresh, 1, Touch::Person).is_none(),
            "the account is gone"
        );
    }

    #[test]
    fn the_login_token_belongs_to_its_cookie_and_goes_stale() {
        let mut rng = StdRng::seed_from_u64(4);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[7; 32]);
        let other_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[8; 32]);
        let cookie = login_cookie(100, &mut rng);
        let token = login_token(&key, &cookie);
        assert!(login_token_ok(&key, &cookie, &token, 100));
        assert!(login_token_ok(&key, &cookie, &token, 100 + LOGIN_FORM_SECS));
        assert!(!login_token_ok(
            &key,
            &cookie,
            &token,
            101 + LOGIN_FORM_SECS
        ));
        assert!(!login_token_ok(&key, &cookie, "", 100));
        assert!(!login_token_ok(&other_key, &cookie, &token, 100));
        let another = login_cookie(100, &mut rng);
        assert!(!login_token_ok(&key, &another, &token, 100));
        // The issue time is inside what the HMAC covers.
        let moved = cookie.replacen("100-", "200-", 1);
        assert!(!login_token_ok(&key, &moved, &token, 200));
    }
}

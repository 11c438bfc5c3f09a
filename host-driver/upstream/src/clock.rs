//! Time and randomness for the upstream leg, passed in rather than read
//! where they are used: the courier, its backoff and the reference upstream
//! take a [`Clock`] and a random generator ([`rand::RngCore`]), so deadlines
//! and retries are tested on a [`ManualClock`] with a seeded generator and no
//! real waiting. [`SystemClock`] and [`SystemRng`] are the only places that
//! read the machine's clock and random source.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

/// Where the upstream leg reads the time and waits.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// Waits `duration` (a manual clock moves on instead).
    fn sleep(&self, duration: Duration);

    /// The current time as a date.
    fn now(&self) -> OffsetDateTime {
        let nanos = i128::from(self.now_ms()) * 1_000_000;
        // Out of range only for a clock set beyond year ±9999; the epoch is
        // then as good an answer as any.
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration)
    }
}

/// The machine's wall clock; sleeping blocks the thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        // i64 milliseconds reach far beyond any date a kiosk will see.
        (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that only moves when told to, or when something sleeps on it:
/// sleeping advances it at once, so a test of a 10 s deadline takes no time.
/// Shared by reference (`&ManualClock` and `Arc<ManualClock>` are clocks too)
/// so a test can read and move the time its courier sees.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicI64,
    slept_ms: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `now_ms` (Unix milliseconds).
    pub fn at_ms(now_ms: i64) -> ManualClock {
        ManualClock {
            now_ms: AtomicI64::new(now_ms),
            slept_ms: AtomicI64::new(0),
        }
    }

    /// A clock standing at `now`.
    pub fn at(now: OffsetDateTime) -> ManualClock {
        ManualClock::at_ms((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// Moves the time on by `duration`.
    pub fn advance(&self, duration: Duration) {
        self.now_ms
            .fetch_add(duration_ms(duration), Ordering::SeqCst);
    }

    /// Everything slept on this clock so far (what a real one would have waited).
    pub fn slept(&self) -> Duration {
        Duration::from_millis(self.slept_ms.load(Ordering::SeqCst).max(0) as u64)
    }
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    fn sleep(&self, duration: Duration) {
        self.slept_ms
            .fetch_add(duration_ms(duration), Ordering::SeqCst);
        self.advance(duration);
    }
}

/// The operating system's random source: what production code draws nonces
/// and jitter from. Tests pass a seeded generator instead.
pub type SystemRng = rand::rngs::OsRng;

//! The service's clock: the one source of "now" for every rule (storage age, due dates,
//! statement months, manifest years, token expiry, idempotency retention, retries).
//!
//! A server reads the machine's clock ([`Clock::system`]). Tests and training set it: a clock
//! can run from a chosen instant ([`Clock::starting_at`]) or stand still at one
//! ([`Clock::frozen_at`]), and be moved while the server runs ([`Clock::set`],
//! [`Clock::advance`]), so that the calendar's edges (midnight in the park's time zone, month
//! and year ends, weekends) can be visited at will. Nothing inside a rule reads the wall clock.
//!
//! Instants are truncated to microseconds, PostgreSQL's precision, so that both backends store
//! and return the same instants.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A cheap handle to one clock; clones share it.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Mutex<Mode>>);

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The machine's clock.
    System,
    /// Runs at the machine's pace from `at`, which it showed at `since`.
    Running { at: DateTime<Utc>, since: Instant },
    /// Stands at one instant until moved.
    Frozen(DateTime<Utc>),
}

impl Clock {
    /// The machine's clock: what a server uses.
    pub fn system() -> Self {
        Self::with(Mode::System)
    }

    /// A clock that shows `at` now and runs on from there.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self::with(Mode::Running {
            at,
            since: Instant::now(),
        })
    }

    /// A clock that stands at `at` until it is moved.
    pub fn frozen_at(at: DateTime<Utc>) -> Self {
        Self::with(Mode::Frozen(at))
    }

    fn with(mode: Mode) -> Self {
        Self(Arc::new(Mutex::new(mode)))
    }

    fn mode(&self) -> std::sync::MutexGuard<'_, Mode> {
        // The mode is plain data: a panic elsewhere cannot leave it half-written.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current instant, to the microsecond.
    pub fn now(&self) -> DateTime<Utc> {
        let at = match *self.mode() {
            Mode::System => Utc::now(),
            Mode::Running { at, since } => {
                at + Duration::from_std(since.elapsed()).unwrap_or(Duration::zero())
            }
            Mode::Frozen(at) => at,
        };
        at.trunc_subsecs(6)
    }

    /// Stops the clock at `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.mode() = Mode::Frozen(at);
    }

    /// Lets the clock run on from `at`.
    pub fn run_from(&self, at: DateTime<Utc>) {
        *self.mode() = Mode::Running {
            at,
            since: Instant::now(),
        };
    }

    /// Moves the clock by `by` (forward or back); a stopped clock stays stopped.
    pub fn advance(&self, by: Duration) {
        let mut mode = self.mode();
        *mode = match *mode {
            Mode::System => Mode::Running {
                at: Utc::now() + by,
                since: Instant::now(),
            },
            Mode::Running { at, since } => Mode::Running { at: at + by, since },
            Mode::Frozen(at) => Mode::Frozen(at + by),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn instant(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc.timestamp_opt(0, 0).single().unwrap_or_default())
    }

    #[test]
    fn a_frozen_clock_stands_still_until_moved() {
        let at = instant("2026-12-31T15:59:59.999999Z");
        let clock = Clock::frozen_at(at);
        assert_eq!(clock.now(), at);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(clock.now(), at);
        clock.advance(Duration::microseconds(1));
        assert_eq!(clock.now(), instant("2026-12-31T16:00:00Z"));
        let shared = clock.clone();
        shared.set(at);
        assert_eq!(clock.now(), at, "clones share one clock");
    }

    #[test]
    fn a_running_clock_moves_from_its_start() {
        let at = instant("2026-06-10T02:00:00Z");
        let clock = Clock::starting_at(at);
        let first = clock.now();
        assert!(first >= at && first < at + Duration::seconds(5));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(clock.now() > first);
        clock.advance(Duration::days(1));
        assert!(clock.now() >= at + Duration::days(1));
    }

    #[test]
    fn instants_are_truncated_to_microseconds() {
        let clock = Clock::frozen_at(instant("2026-01-01T00:00:00.123456789Z"));
        assert_eq!(clock.now(), instant("2026-01-01T00:00:00.123456Z"));
        assert_eq!(Clock::system().now().timestamp_subsec_nanos() % 1000, 0);
    }
}

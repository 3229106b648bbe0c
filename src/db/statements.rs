//! Counts the SQL statements each piece of database work executes, so that a request's cost
//! in statements can be reported (`Server-Timing`, when enabled) and held down by a test.
//!
//! Every pooled connection carries [`Counting`], a diesel instrumentation that bumps a
//! per-thread counter when a statement starts. Database work runs on one blocking thread from
//! start to end (see `Db::run`), so the difference of the counter around it is exactly the
//! statements that work executed.

use std::cell::Cell;

use diesel::connection::{Instrumentation, InstrumentationEvent};

thread_local! {
    static STARTED: Cell<u64> = const { Cell::new(0) };
}

/// The instrumentation installed on every connection of the pool.
pub struct Counting;

impl Instrumentation for Counting {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            STARTED.with(|n| n.set(n.get().wrapping_add(1)));
            // Every statement's SQL, at trace level (`WASTETRACK_LOG_FILTER=wastetrack::sql=trace`),
            // without its bound values: they hold password hashes, secrets and tokens.
            if tracing::enabled!(target: "wastetrack::sql", tracing::Level::TRACE) {
                let text = query.to_string();
                let sql = text.split(" -- binds:").next().unwrap_or_default();
                tracing::trace!(target: "wastetrack::sql", "{sql}");
            }
        }
    }
}

/// Runs `f` and returns its result with the number of statements it executed on this thread.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = STARTED.with(Cell::get);
    let result = f();
    let after = STARTED.with(Cell::get);
    (result, after.wrapping_sub(before))
}

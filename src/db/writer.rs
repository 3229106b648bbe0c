//! SQLite's one writer, committing the write transactions of many requests together.
//!
//! SQLite lets one connection write at a time. Rather than each request taking the write lock
//! in turn on a pooled connection (a transaction, a commit and a hand-over per request), the
//! requests hand their work to one thread that owns one connection: it begins a transaction,
//! runs each request's work in a savepoint of its own — a failure rolls back that savepoint
//! only, and that request alone is refused — and commits them all at once. Every request is
//! answered after that commit returned, so nothing is acknowledged before it is as durable as
//! the configured `synchronous` level makes a commit. If the commit itself fails, or a failure
//! leaves the transaction unusable, every request of the group is refused and nothing of it
//! stays (the connection is closed, which rolls back, and opened again for the next group).
//!
//! A group holds what is waiting when the writer is free, up to [`MOST_IN_A_GROUP`] requests:
//! one request alone is committed at once, and the group grows only when requests queue. A
//! request that waited [`TURN_TIMEOUT`] before its turn is refused 503 (the caller tells the
//! client to retry), and one whose caller has gone (its future dropped) is skipped unrun.
//!
//! Each request's work is a complete unit: it takes its locks and appends its audit entry as an
//! outermost transaction does (see [`super::write_transaction`]), and it counts the statements
//! it runs (its savepoint and release in place of a begin and a commit).
//!
//! Copying the write-ahead log back into the database (a checkpoint: the log's pages written
//! again, and both files synced to disk) is not the writer's work either: a thread of its own,
//! with a connection of its own, does it [`CHECKPOINT_AFTER`] a commit, beside the writer's
//! next groups. Only when the log reaches [`WAL_PAGES_THE_WRITER_CHECKPOINTS`] pages — the
//! checkpointer fell behind, or the log never came to an end between two groups — does the
//! writer checkpoint at a commit itself, as SQLite does by default at 1 000, which bounds the
//! log's file. A checkpoint changes nothing that a commit made durable.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};

use super::{DatabaseUrl, DbConn};
use crate::error::ApiError;

/// The most requests committed together.
const MOST_IN_A_GROUP: usize = 64;

/// The most requests queued for the writer; beyond, a request is refused 503 at once.
const MOST_QUEUED: usize = 4096;

/// How long a request waits for its turn before it is refused 503 with `Retry-After`.
pub(crate) const TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long after a commit the checkpointer copies the log into the database: the commits of
/// that while are copied together.
const CHECKPOINT_AFTER: Duration = Duration::from_millis(100);

/// The pages (4 KiB each) the write-ahead log may hold before the writer checkpoints it at a
/// commit itself, rather than leave it to the checkpointer: about 40 MiB.
const WAL_PAGES_THE_WRITER_CHECKPOINTS: u32 = 10_000;

/// What a request's work leaves once it ran: its answer, given when the group's commit is known.
trait Finish: Send {
    /// `committed` is whether the group's commit succeeded.
    fn finish(self: Box<Self>, committed: Result<(), ApiError>);
}

/// A request's work, queued for the writer.
trait Job: Send {
    /// Whether the request has gone: its answer would reach no one.
    fn abandoned(&self) -> bool;
    fn queued_at(&self) -> Instant;
    /// Runs the work in a savepoint of the open transaction.
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Finish>;
    /// Answers without running.
    fn refuse(self: Box<Self>, error: ApiError);
}

/// What the request receives: its result and what its database work cost.
type Answer<T> = (Result<T, ApiError>, crate::telemetry::DbWork);

struct Queued<T, F> {
    work: F,
    reply: tokio::sync::oneshot::Sender<Answer<T>>,
    span: tracing::Span,
    audit: Option<crate::audit::context::RequestAudit>,
    queued_at: Instant,
}

struct Ran<T> {
    result: Result<T, ApiError>,
    reply: tokio::sync::oneshot::Sender<Answer<T>>,
    work: crate::telemetry::DbWork,
    started: Instant,
}

impl<T: Send + 'static> Finish for Ran<T> {
    fn finish(self: Box<Self>, committed: Result<(), ApiError>) {
        let result = match (self.result, committed) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e),
            // Its own refusal says more than the group's failure.
            (Err(e), _) => Err(e),
        };
        crate::metrics::transaction_ended(self.started, result.is_ok());
        // The request may have gone meanwhile; then no one is told.
        let _ = self.reply.send((result, self.work));
    }
}

impl<T, F> Job for Queued<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn queued_at(&self) -> Instant {
        self.queued_at
    }

    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Finish> {
        let Queued {
            work,
            reply,
            span,
            audit,
            ..
        } = *self;
        let _entered = span.enter();
        let _audit = crate::audit::context::enter(audit);
        let started = Instant::now();
        let (result, statements) =
            super::statements::counted(|| super::grouped_transaction(conn, work));
        Box::new(Ran {
            result,
            reply,
            work: crate::telemetry::DbWork {
                statements,
                elapsed: started.elapsed(),
            },
            started,
        })
    }

    fn refuse(self: Box<Self>, error: ApiError) {
        let work = crate::telemetry::DbWork {
            statements: 0,
            elapsed: Duration::ZERO,
        };
        let _ = self.reply.send((Err(error), work));
    }
}

/// The queue into the writer thread. Cheap to clone; the thread ends when the last clone goes.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: SyncSender<Box<dyn Job>>,
    groups: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Writer {
    /// Starts the writer thread for the SQLite database at `url`. Its connection is opened at
    /// the first request (after the migrations), and again after a failure.
    pub(crate) fn start(url: DatabaseUrl) -> std::io::Result<Self> {
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Box<dyn Job>>(MOST_QUEUED);
        let groups = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = groups.clone();
        // One nudge waits at most: the checkpointer copies everything committed by then.
        let (nudge, nudges) = std::sync::mpsc::sync_channel::<()>(1);
        let checkpointed = url.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpoint_after_commits(&checkpointed, &nudges))?;
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || write_groups(&url, &jobs, &counted, &nudge))?;
        Ok(Self { queue, groups })
    }

    /// Runs `work` in the next group and waits for the group's commit.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Box::new(Queued {
            work,
            reply,
            span: tracing::Span::current(),
            audit: crate::audit::context::current(),
            queued_at: Instant::now(),
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("the writer's queue is full");
                return Err(ApiError::Unavailable("the database is busy; retry shortly"));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::Unavailable(
                    "the database is unavailable; retry later",
                ));
            }
        }
        // Dropping this future (the client went away) closes `answer`: the writer then skips
        // the work if it has not begun it.
        let (result, work) = answer.await.map_err(|_| {
            ApiError::Internal(anyhow::anyhow!("the writer dropped a request's work"))
        })?;
        crate::telemetry::add_db_work(work);
        result
    }

    /// How many groups the writer has committed or tried to, since it started.
    pub(crate) fn groups(&self) -> u64 {
        self.groups.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The writer thread: takes what waits, runs it in one transaction, commits, answers; again.
fn write_groups(
    url: &DatabaseUrl,
    jobs: &Receiver<Box<dyn Job>>,
    groups: &std::sync::atomic::AtomicU64,
    checkpointer: &SyncSender<()>,
) {
    let mut conn: Option<DbConn> = None;
    // Blocks until a request comes; ends when every sender has gone.
    while let Ok(first) = jobs.recv() {
        let Some(first) = admitted(first) else {
            continue;
        };
        groups.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let connection = match conn.take() {
            Some(c) => Ok(c),
            None => establish_writer(url),
        };
        let mut c = match connection {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the writer cannot open the database");
                refuse_waiting(first, jobs, "the database is unavailable; retry later");
                continue;
            }
        };
        if let Err(e) = begin(&mut c) {
            tracing::warn!(error = %e, "the writer could not begin a transaction");
            refuse_waiting(first, jobs, "the database is busy; retry shortly");
            continue;
        }
        let mut ran: Vec<Box<dyn Finish>> = Vec::new();
        let mut usable = true;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut c))) {
                Ok(finish) => ran.push(finish),
                Err(_) => {
                    tracing::error!("a request's work panicked in the writer");
                    usable = false;
                }
            }
            // A savepoint that could not be released or rolled back leaves the transaction
            // in an unknown state: the group cannot commit.
            usable = usable && depth(&mut c) == Some(1);
            if !usable || ran.len() >= MOST_IN_A_GROUP {
                break;
            }
            next = jobs.try_recv().ok().and_then(admitted);
        }
        let committed = if usable {
            commit(&mut c)
        } else {
            Err(ApiError::Internal(anyhow::anyhow!(
                "a group of write transactions was abandoned"
            )))
        };
        // On failure the connection goes: closing it rolls back whatever was left.
        if committed.is_ok() {
            conn = Some(c);
            // Already nudged: the nudge waiting covers this commit too.
            let _ = checkpointer.try_send(());
        }
        for finish in ran {
            finish.finish(committed.clone_for_group());
        }
    }
}

/// The writer's connection, which leaves checkpoints to the checkpointer up to a bound.
fn establish_writer(url: &DatabaseUrl) -> diesel::ConnectionResult<DbConn> {
    use diesel::connection::SimpleConnection;
    let mut conn = url.establish()?;
    conn.batch_execute(&format!(
        "PRAGMA wal_autocheckpoint = {WAL_PAGES_THE_WRITER_CHECKPOINTS};"
    ))
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// The checkpointer thread: after a commit, lets [`CHECKPOINT_AFTER`] pass, then copies what
/// the log holds into the database without waiting for anyone (a passive checkpoint: what a
/// reader still needs stays in the log for the next one). Ends when the writer does.
fn checkpoint_after_commits(url: &DatabaseUrl, nudges: &Receiver<()>) {
    use diesel::connection::SimpleConnection;
    let mut conn: Option<DbConn> = None;
    while nudges.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_AFTER);
        // The commits of that while are copied by this checkpoint.
        while nudges.try_recv().is_ok() {}
        let connection = match conn.take() {
            Some(c) => Ok(c),
            None => url.establish(),
        };
        let mut c = match connection {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "the checkpointer cannot open the database");
                continue;
            }
        };
        match c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            Ok(()) => conn = Some(c),
            // The writer's own checkpoints bound the log meanwhile.
            Err(e) => tracing::warn!(error = %e, "a checkpoint failed"),
        }
    }
}

/// The job if it is to run: one whose request went is dropped, one that waited too long refused.
fn admitted(job: Box<dyn Job>) -> Option<Box<dyn Job>> {
    if job.abandoned() {
        return None;
    }
    if job.queued_at().elapsed() > TURN_TIMEOUT {
        tracing::warn!("a write transaction waited too long for its turn");
        job.refuse(ApiError::Unavailable("the database is busy; retry shortly"));
        return None;
    }
    Some(job)
}

/// Refuses `first` and every request waiting now.
fn refuse_waiting(first: Box<dyn Job>, jobs: &Receiver<Box<dyn Job>>, detail: &'static str) {
    first.refuse(ApiError::Unavailable(detail));
    while let Ok(job) = jobs.try_recv() {
        job.refuse(ApiError::Unavailable(detail));
    }
}

fn begin(conn: &mut DbConn) -> Result<(), ApiError> {
    match conn {
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            Ok(())
        }
        DbConn::Pg(_) => Err(ApiError::Internal(anyhow::anyhow!(
            "the writer serves SQLite only"
        ))),
    }
}

fn commit(conn: &mut DbConn) -> Result<(), ApiError> {
    <DbConn as Connection>::TransactionManager::commit_transaction(conn).map_err(|e| {
        tracing::error!(error = %e, "the writer could not commit a group");
        ApiError::from(e)
    })
}

fn depth(conn: &mut DbConn) -> Option<u32> {
    <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .flatten()
        .map(std::num::NonZeroU32::get)
}

/// The group's outcome, told to each of its requests.
trait ForGroup {
    fn clone_for_group(&self) -> Result<(), ApiError>;
}

impl ForGroup for Result<(), ApiError> {
    fn clone_for_group(&self) -> Result<(), ApiError> {
        match self {
            Ok(()) => Ok(()),
            Err(ApiError::Unavailable(detail)) => Err(ApiError::Unavailable(detail)),
            Err(e) => Err(ApiError::Internal(anyhow::anyhow!(
                "the group's commit failed: {e}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    use crate::db::{Db, DbConn};
    use crate::error::ApiError;

    /// A SQLite database in a temporary folder with one table of numbers.
    fn numbers() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("w.db").to_str().unwrap(), 4).unwrap();
        db.get()
            .unwrap()
            .batch_execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
            .unwrap();
        (dir, db)
    }

    fn insert(conn: &mut DbConn, n: i64) -> Result<(), ApiError> {
        diesel::sql_query(format!("INSERT INTO numbers (n) VALUES ({n})")).execute(conn)?;
        Ok(())
    }

    #[derive(diesel::QueryableByName)]
    struct Number {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn stored(db: &Db) -> Vec<i64> {
        diesel::sql_query("SELECT n FROM numbers ORDER BY n")
            .load::<Number>(&mut db.get().unwrap())
            .unwrap()
            .into_iter()
            .map(|r| r.n)
            .collect()
    }

    /// Holds the writer for `ms` milliseconds inside its transaction, so that what comes
    /// meanwhile queues and is committed as one group.
    fn hold(conn: &mut DbConn, ms: u64) -> Result<(), ApiError> {
        insert(conn, -1)?;
        std::thread::sleep(std::time::Duration::from_millis(ms));
        Ok(())
    }

    #[tokio::test]
    async fn requests_are_committed_in_groups_and_a_failure_undoes_only_its_own() {
        let (_dir, db) = numbers();
        let holder = tokio::spawn({
            let db = db.clone();
            async move { db.write(|conn| hold(conn, 200)).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let writes = (0..120_i64).map(|n| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |conn| {
                    insert(conn, n)?;
                    if n % 3 == 0 {
                        // Refused after it wrote: its row must go, the others' stay.
                        return Err(ApiError::Conflict("Conflict".to_owned()));
                    }
                    Ok(n)
                })
                .await
            })
        });
        let answers = futures_util::future::join_all(writes).await;
        holder.await.unwrap().unwrap();
        let mut accepted = Vec::new();
        for (n, answer) in (0..120_i64).zip(answers) {
            match answer.unwrap() {
                Ok(value) => {
                    assert_ne!(n % 3, 0, "{n} should have been refused");
                    accepted.push(value);
                }
                Err(e) => assert!(n % 3 == 0 && matches!(e, ApiError::Conflict(_)), "{n}: {e}"),
            }
        }
        let mut expected = vec![-1];
        expected.extend((0..120).filter(|n| n % 3 != 0));
        assert_eq!(stored(&db), expected);
        assert_eq!(accepted, expected[1..].to_vec());
        // 121 transactions: the holder, then at most a few groups of what queued behind it.
        let groups = db.write_groups().unwrap();
        assert!(
            (2..=10).contains(&groups),
            "121 writes in {groups} groups; they were not committed together"
        );
    }

    #[tokio::test]
    async fn a_panic_refuses_its_group_and_the_writer_goes_on() {
        let (_dir, db) = numbers();
        let panicked = db
            .write(|conn| -> Result<(), ApiError> {
                insert(conn, 7)?;
                panic!("a bug in a request's work")
            })
            .await;
        assert!(
            matches!(panicked, Err(ApiError::Internal(_))),
            "{panicked:?}"
        );
        db.write(|conn| insert(conn, 8)).await.unwrap();
        assert_eq!(stored(&db), vec![8]);
    }

    #[tokio::test]
    async fn work_whose_request_went_is_not_done() {
        let (_dir, db) = numbers();
        let holder = tokio::spawn({
            let db = db.clone();
            async move { db.write(|conn| hold(conn, 300)).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // The client goes away while its work waits behind the holder.
        let gone = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            db.write(|conn| insert(conn, 1)),
        )
        .await;
        assert!(gone.is_err(), "the work should still have been waiting");
        holder.await.unwrap().unwrap();
        db.write(|conn| insert(conn, 2)).await.unwrap();
        assert_eq!(stored(&db), vec![-1, 2]);
    }

    #[derive(diesel::QueryableByName)]
    struct Pages {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        wal_autocheckpoint: i64,
    }

    #[tokio::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let (dir, db) = numbers();
        let pages = db
            .write(|conn| {
                for n in 0..100 {
                    insert(conn, n)?;
                }
                Ok(diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<Pages>(conn)?)
            })
            .await
            .unwrap();
        assert_eq!(
            pages.wal_autocheckpoint,
            i64::from(super::WAL_PAGES_THE_WRITER_CHECKPOINTS),
            "the writer leaves checkpoints to the checkpointer"
        );
        // The database file alone, without its log, holds the commit once it is checkpointed;
        // far below the writer's bound, only the checkpointer copies it there.
        let copy = dir.path().join("copy.db");
        let mut found = 0;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            std::fs::copy(dir.path().join("w.db"), &copy).unwrap();
            // A copy taken while a checkpoint writes the file may be torn: then look again.
            found = Db::connect(copy.to_str().unwrap(), 1)
                .ok()
                .and_then(|copied| {
                    diesel::sql_query("SELECT count(*) AS n FROM numbers")
                        .get_result::<Number>(&mut copied.get().ok()?)
                        .ok()
                })
                .map_or(0, |r| r.n);
            let _ = std::fs::remove_file(dir.path().join("copy.db-wal"));
            let _ = std::fs::remove_file(dir.path().join("copy.db-shm"));
            if found == 100 {
                break;
            }
        }
        assert_eq!(found, 100, "the commit never reached the database file");
    }
}

//! Database plumbing: one connection type over PostgreSQL and SQLite, the pool, embedded
//! migrations, and the helpers through which every query leaves the async executor.
//!
//! The backend is chosen by the scheme of the database URL: `postgres://` or `postgresql://`
//! selects PostgreSQL; `sqlite://path`, `sqlite:path` or a plain file path selects SQLite.

pub mod backup;
pub mod locks;
pub mod schema;
pub mod statements;
mod writer;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either backend. Queries written against `DbConn` run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL designates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A parsed database URL: the backend and what to hand to its driver.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            anyhow::bail!(
                "database URL must start with postgres://, postgresql:// or sqlite:// (got scheme of {:?})",
                url.split("://").next().unwrap_or_default()
            );
        }
        Ok(Self {
            backend: Backend::Sqlite,
            target: path.to_owned(),
        })
    }

    fn establish(&self) -> ConnectionResult<DbConn> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.target)?;
                conn.set_instrumentation(statements::Counting);
                Ok(DbConn::Pg(conn))
            }
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.target)?;
                // WAL lets readers proceed beside the single writer; the busy timeout makes a
                // writer wait for the lock instead of failing; SQLite enforces foreign keys
                // only when asked, per connection.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                conn.set_instrumentation(statements::Counting);
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Builds connections for the pool, choosing the backend from the URL rather than trying each
/// driver in turn (a PostgreSQL URL must never be opened as a SQLite file name).
pub struct Manager {
    url: DatabaseUrl,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConn, ConnectionError> {
        let mut conn = self.url.establish()?;
        if let DbConn::Sqlite(c) = &mut conn {
            // A reader's page cache is 1 MiB (SQLite's default, 2 MiB, for the writer): the
            // pool holds one per connection (ten by default), and the operating system's cache
            // keeps the file's pages for all (see "Weighings under load" in the README).
            c.batch_execute("PRAGMA cache_size = -1024;")
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectionError> {
        conn.ping()
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

pub type PooledConn = diesel::r2d2::PooledConnection<Manager>;

/// The pool, shared by all requests. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: diesel::r2d2::Pool<Manager>,
    backend: Backend,
    /// On SQLite, the one writer that commits the write transactions of requests in groups.
    writer: Option<writer::Writer>,
    /// The exports reading at once, each holding a connection for as long as it streams.
    exports: std::sync::Arc<tokio::sync::Semaphore>,
    /// Turns of blocking database work, as many as the pool has connections (see [`Db::run`]).
    turns: std::sync::Arc<tokio::sync::Semaphore>,
}

/// How long an export waits for its turn before the request is answered 503 with
/// `Retry-After` instead of queueing without bound (a write on SQLite waits as long; see
/// [`writer`]).
const EXPORT_TURN_TIMEOUT: Duration = writer::TURN_TIMEOUT;

impl Db {
    /// Opens the pool. For SQLite the parent folder of the file is created if needed.
    pub fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        if url.backend == Backend::Sqlite
            && let Some(dir) = Path::new(&url.target)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let backend = url.backend;
        // SQLite has one writer: requests that write hand their work to it (see [`writer`])
        // rather than each waiting for the write lock in SQLite's busy handler, which sleeps
        // and retries (p99 of seconds under load). Readers are not held up; writers of other
        // processes still meet the busy timeout.
        let writer = match backend {
            Backend::Sqlite => {
                Some(writer::Writer::start(url.clone()).context("starting the database writer")?)
            }
            Backend::Postgres => None,
        };
        let pool = diesel::r2d2::Pool::builder()
            .max_size(max_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .test_on_check_out(false)
            .build(Manager { url })
            .context("opening the database")?;
        // Half the pool at most streams exports; the rest answers everything else.
        let exports = std::sync::Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(max_connections / 2).unwrap_or(1).max(1),
        ));
        let turns = std::sync::Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(pool.max_size()).unwrap_or(1),
        ));
        Ok(Self {
            pool,
            backend,
            writer,
            exports,
            turns,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for synchronous callers (the command line, start-up). Never call this
    /// on the async executor: use [`Db::run`] there.
    pub fn get(&self) -> anyhow::Result<PooledConn> {
        self.pool
            .get()
            .context("taking a database connection from the pool")
    }

    /// Runs blocking database work on the blocking thread pool, inside the caller's tracing
    /// span, so that the async executor never waits on the database.
    ///
    /// The work first waits for its turn on the executor: at most as many pieces of work run at
    /// once as the pool has connections, so each finds a connection at once, and the requests
    /// beyond wait as tasks rather than as blocked threads (under load, dozens of threads
    /// waiting on the pool spent a quarter of the machine switching between them and
    /// contending for the allocator's locks). A request that waits
    /// [`writer::TURN_TIMEOUT`] for its turn is answered 503 with `Retry-After`.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let queued = std::time::Instant::now();
        // No turn in time, or no turns at all any more (the semaphore closed): 503 either way.
        let turn = tokio::time::timeout(writer::TURN_TIMEOUT, self.turns.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ApiError::Unavailable(
                "the database is unavailable; retry later",
            ))?;
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        // The request's audit context stays with its task; its blocking work gets a copy.
        let audit = crate::audit::context::current();
        let work = actix_web::web::block(move || {
            let _entered = span.enter();
            let _audit = crate::audit::context::enter(audit);
            let started = std::time::Instant::now();
            let conn = pool.get();
            crate::metrics::pool_waited(queued);
            let (result, statements) = statements::counted(|| {
                let mut conn = conn.map_err(|e| {
                    tracing::error!(error = %e, "database pool exhausted or unreachable");
                    ApiError::Unavailable("the database is unavailable; retry later")
                })?;
                f(&mut conn)
            });
            (
                result,
                crate::telemetry::DbWork {
                    statements,
                    elapsed: started.elapsed(),
                },
            )
        });
        // The turn passes on once the work has ended and its thread is free again (so that the
        // next work finds the thread idle rather than starting another), even when the request
        // is dropped meanwhile: the task that holds it runs to the end either way.
        let (result, work) = tokio::spawn(async move {
            let done = work.await;
            drop(turn);
            done
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the task holding a turn failed: {e}")))?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?;
        crate::telemetry::add_db_work(work);
        result
    }

    /// Like [`Db::run`], inside one read transaction that sees a single snapshot (see
    /// [`read_snapshot`]): for an answer composed of several queries.
    pub async fn snapshot<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| read_snapshot(conn, f)).await
    }

    /// Like [`Db::run`], inside one write transaction (see [`write_transaction`]). On SQLite
    /// the work goes to the one writer, which commits it with whatever else waits (see
    /// [`writer`]): its own savepoint, answered after the group's commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.write(f).await;
        }
        self.run(move |conn| {
            let started = std::time::Instant::now();
            let result = write_transaction(conn, f);
            crate::metrics::transaction_ended(started, result.is_ok());
            result
        })
        .await
    }

    /// How many groups of write transactions SQLite's writer has committed (or tried to);
    /// `None` on PostgreSQL, which has no such writer.
    pub fn write_groups(&self) -> Option<u64> {
        self.writer.as_ref().map(writer::Writer::groups)
    }

    /// The turn of an export that reads for as long as its client downloads: at most half the
    /// pool's connections stream at once; an export that waits [`EXPORT_TURN_TIMEOUT`] for its
    /// turn is answered 503 with `Retry-After`.
    pub async fn export_turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        tokio::time::timeout(EXPORT_TURN_TIMEOUT, self.exports.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Unavailable("too many exports are running; retry shortly"))?
            .map_err(|_| ApiError::Unavailable("the database is unavailable; retry later"))
    }

    /// The pool's connections: open, idle and the most it opens.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
        }
    }
}

/// What [`Db::pool_state`] reads.
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// Runs `f` in a transaction that intends to write; the one way a write begins.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock at once: a
/// deferred transaction that reads first and writes later can fail with SQLITE_BUSY when it
/// tries to upgrade its lock, and no busy timeout helps that case. On PostgreSQL this is an
/// ordinary `BEGIN`. Inside another transaction (on either backend) it is a savepoint: its work
/// is undone alone if `f` fails, and commits with the outer transaction. The outermost
/// transaction keeps the record of the locks taken (see [`locks`]), and, in the blocking work of
/// a state-changing request, appends the request's audit entry after `f` succeeded, so that
/// the entry commits with the change or not at all (see `audit::context`).
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConn as Connection>::TransactionManager;
    let outermost = Tm::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?
        .is_none();
    match conn {
        DbConn::Sqlite(inner) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        _ => Tm::begin_transaction(conn)?,
    }
    unit_of_work(conn, f, outermost)
}

/// One request's work in SQLite's group transaction (see [`writer`]): a savepoint of the group's
/// transaction that does what an outermost [`write_transaction`] does — it keeps the record of
/// its locks and appends its audit entry — so that it commits with the group or not at all.
fn grouped_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
    unit_of_work(conn, f, true)
}

/// Runs `f` in the transaction (or savepoint) just begun, and commits or rolls it back. A
/// `whole` unit is a request's whole write: it records its locks and appends its audit entry.
fn unit_of_work<T, E, F>(conn: &mut DbConn, f: F, whole: bool) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConn as Connection>::TransactionManager;
    if whole {
        locks::begin();
        crate::audit::context::begin_transaction();
    }
    let done = f(conn).and_then(|value| {
        if whole {
            crate::audit::context::append_pending(conn).map_err(E::from)?;
        }
        Ok(value)
    });
    let result = match done {
        Ok(value) => Tm::commit_transaction(conn)
            .map(|()| value)
            .map_err(E::from),
        Err(user_error) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    };
    if whole {
        locks::end();
        crate::audit::context::end_transaction();
    }
    result
}

/// Takes a PostgreSQL advisory lock for this connection's session (until
/// [`session_unlock`], or until the connection closes, e.g. when the process dies). SQLite
/// needs none: its writers are serialised.
pub fn session_lock(conn: &mut DbConn, name: &str) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(locks::lock_id(name))
            .execute(pg)?;
    }
    Ok(())
}

pub fn session_unlock(conn: &mut DbConn, name: &str) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<diesel::sql_types::BigInt, _>(locks::lock_id(name))
            .execute(pg)?;
    }
    Ok(())
}

/// Runs `f` in one read transaction that sees a single snapshot of the database, for answers
/// composed of several queries (on PostgreSQL, REPEATABLE READ READ ONLY; on SQLite, a
/// deferred transaction, which in WAL mode reads one snapshot).
pub fn read_snapshot<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if matches!(conn, DbConn::Pg(_)) {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Applies every pending migration of the connection's backend; returns the versions applied.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// Whether the database lacks a migration that this binary embeds.
pub fn has_pending_migrations(conn: &mut DbConn) -> anyhow::Result<bool> {
    match conn {
        DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("reading applied migrations: {e}"))
}

/// Whether a diesel error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forty reads sent at once on a pool of three connections: never more than three run at
    /// once, three do run side by side, every one is answered, and the others waited for their
    /// turn as tasks, not as threads blocked on the pool (without the turns, forty threads).
    #[tokio::test]
    async fn work_beyond_the_pool_waits_its_turn_as_a_task() {
        use std::collections::HashSet;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("t.db").to_str().unwrap(), 3).unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let reads: Vec<_> = (0..40)
            .map(|_| {
                let (db, running, most, threads) =
                    (db.clone(), running.clone(), most.clone(), threads.clone());
                tokio::spawn(async move {
                    db.run(move |conn| {
                        threads.lock().unwrap().insert(std::thread::current().id());
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        diesel::sql_query("SELECT 1").execute(conn)?;
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for read in reads {
            assert!(read.await.unwrap().is_ok());
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
        let threads = threads.lock().unwrap().len();
        assert!(threads < 10, "the reads ran on {threads} threads");
    }

    /// The bundled SQLite is built as `.cargo/config.toml` says: with the query planner
    /// stability guarantee, so that no statement is prepared again for a bound `LIMIT`, and
    /// without the memory statistics whose mutex every allocation took.
    #[test]
    fn sqlite_is_built_as_the_cargo_settings_say() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted}: {options:?}");
        }
    }

    #[test]
    fn url_schemes_choose_the_backend() {
        let cases = [
            ("postgres://u@h/db", Backend::Postgres),
            ("postgresql://u@h/db", Backend::Postgres),
            ("sqlite://data/w.db", Backend::Sqlite),
            ("sqlite:data/w.db", Backend::Sqlite),
            ("data/w.db", Backend::Sqlite),
        ];
        for (url, backend) in cases {
            assert_eq!(
                DatabaseUrl::parse(url).map(|u| u.backend).ok(),
                Some(backend),
                "{url}"
            );
        }
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/w.db")
                .map(|u| u.target)
                .ok()
                .as_deref(),
            Some("data/w.db")
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    /// The migration folders of a backend, each with the names of the files it holds.
    fn migration_folders(backend: &str) -> Vec<(String, Vec<String>)> {
        fn names(dir: &Path) -> Vec<(String, bool)> {
            let mut names: Vec<(String, bool)> = std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| {
                    let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                    let is_dir = entry.path().is_dir();
                    (entry.file_name().to_string_lossy().into_owned(), is_dir)
                })
                .collect();
            names.sort();
            names
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        names(&root)
            .into_iter()
            .map(|(name, is_dir)| {
                assert!(
                    is_dir,
                    "migrations/{backend}/{name} is not a migration folder"
                );
                let files = names(&root.join(&name))
                    .into_iter()
                    .map(|(file, _)| file)
                    .collect();
                (name, files)
            })
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations_each_with_up_and_down() {
        let postgres = migration_folders("postgres");
        let sqlite = migration_folders("sqlite");
        assert!(!postgres.is_empty(), "migrations/postgres holds migrations");
        let names = |folders: &[(String, Vec<String>)]| -> Vec<String> {
            folders.iter().map(|(name, _)| name.clone()).collect()
        };
        assert_eq!(
            names(&postgres),
            names(&sqlite),
            "migrations/postgres and migrations/sqlite name the same migrations"
        );
        for (backend, folders) in [("postgres", &postgres), ("sqlite", &sqlite)] {
            for (name, files) in folders {
                for required in ["up.sql", "down.sql"] {
                    assert!(
                        files.iter().any(|f| f == required),
                        "migrations/{backend}/{name} lacks {required} (it holds {files:?})"
                    );
                }
            }
        }
    }
}

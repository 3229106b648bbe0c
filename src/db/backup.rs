//! Copies of a SQLite database.
//!
//! `wastetrack backup FILE` writes a consistent copy while the service runs: `VACUUM INTO`
//! reads one snapshot of the database (in WAL mode, beside the writers) into a new file, which
//! is checked, synced and then renamed into place, so `FILE` never holds a partial copy. The
//! copy gets the database's permissions.
//!
//! `wastetrack restore FILE` checks a copy — it is a SQLite file, `PRAGMA integrity_check` and
//! `PRAGMA foreign_key_check` find nothing, it holds exactly this binary's migrations — and
//! installs it in place of the configured database: written beside it, synced, and renamed over
//! it, after making sure no process holds the database open, with the owner and permissions of
//! the file it replaces. The replaced file is kept as `<name>.before-restore-<timestamp>`.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`, WAL archiving); both commands refuse
//! it and say so.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};

use super::{Backend, DatabaseUrl, SQLITE_MIGRATIONS};

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Where the README tells how to back up and restore PostgreSQL.
const POSTGRES_HINT: &str = "see \"Backups and restore\" in the README";

/// What `backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub source: PathBuf,
    pub file: PathBuf,
    pub bytes: u64,
    /// The version of the last migration the copy holds.
    pub latest_migration: Option<String>,
}

/// What `restore` installed.
#[derive(Debug)]
pub struct RestoreReport {
    pub database: PathBuf,
    /// Where the database that was replaced is kept, if there was one.
    pub replaced: Option<PathBuf>,
    pub latest_migration: Option<String>,
}

/// Writes a consistent copy of the configured SQLite database to `file`, which must not exist.
pub fn backup(database_url: &str, file: &Path) -> anyhow::Result<BackupReport> {
    let source = sqlite_path(database_url, "backup", "pg_dump -Fc")?;
    if !source.is_file() {
        bail!(
            "the database {} does not exist: there is nothing to back up",
            source.display()
        );
    }
    let file = std::path::absolute(file)
        .with_context(|| format!("resolving the backup path {}", file.display()))?;
    if file.symlink_metadata().is_ok() {
        bail!(
            "{} already exists: give a new file name (a backup never overwrites a file)",
            file.display()
        );
    }
    let (dir, name) = split(&file)?;
    if !dir.is_dir() {
        bail!("the folder {} does not exist", dir.display());
    }

    let partial = Scratch::new(dir.join(format!(".{name}.partial-{}", std::process::id())));
    let target = partial.path.to_str().with_context(|| {
        format!(
            "the backup path {} is not valid UTF-8, which SQLite needs",
            file.display()
        )
    })?;
    {
        let mut conn = open_existing(&source)
            .with_context(|| format!("opening the database {} to back it up", source.display()))?;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(target)
            .execute(&mut conn)
            .with_context(|| format!("copying {} (VACUUM INTO)", source.display()))?;
    }
    sync_file(&partial.path)?;
    let latest_migration = {
        let mut conn = open_existing(&partial.path)
            .with_context(|| format!("opening the copy {}", partial.path.display()))?;
        integrity(&mut conn).with_context(|| {
            format!(
                "the copy of {} failed its check; the database itself may be damaged",
                source.display()
            )
        })?;
        applied_migrations(&mut conn)
            .with_context(|| format!("{}", source.display()))?
            .last()
            .cloned()
    };
    // The copy holds what the database holds: it gets the database's permissions.
    if let Ok(meta) = std::fs::metadata(&source) {
        std::fs::set_permissions(&partial.path, meta.permissions())
            .with_context(|| format!("setting the permissions of {}", partial.path.display()))?;
    }
    if file.symlink_metadata().is_ok() {
        bail!(
            "{} appeared while the backup was written: give a new file name",
            file.display()
        );
    }
    std::fs::rename(&partial.path, &file)
        .with_context(|| format!("moving the copy to {}", file.display()))?;
    partial.disarm();
    sync_dir(dir)?;
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        source,
        file,
        bytes,
        latest_migration,
    })
}

/// Checks `file` and installs it as the configured SQLite database. `now` names the file the
/// replaced database is kept in.
pub fn restore(
    database_url: &str,
    file: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<RestoreReport> {
    let database = sqlite_path(database_url, "restore", "pg_restore")?;
    let database = std::path::absolute(&database)
        .with_context(|| format!("resolving the database path {}", database.display()))?;
    let shown = file.display();
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{shown} does not exist"),
        Err(e) => return Err(e).with_context(|| format!("reading {shown}")),
    };
    if !meta.is_file() {
        bail!("{shown} is not a file");
    }
    check_header(file)?;
    if sidecar(file, "-wal").metadata().is_ok_and(|m| m.len() > 0) {
        bail!(
            "{shown} has a write-ahead log beside it ({shown}-wal): it is a live database, not a \
             backup; copy it with `wastetrack backup` and restore that copy"
        );
    }

    let (dir, name) = split(&database)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the database folder {}", dir.display()))?;
    let staged = Scratch::new(dir.join(format!(".{name}.restore-{}", std::process::id())));
    std::fs::copy(file, &staged.path)
        .with_context(|| format!("copying {shown} beside {}", database.display()))?;
    let latest_migration = check_copy(&staged.path).with_context(|| format!("{shown}"))?;
    sync_file(&staged.path)?;

    let replaced = if database.symlink_metadata().is_ok() {
        ensure_not_in_use(&database)?;
        take_over_ownership(&database, &staged.path)?;
        let kept = unused_name(
            dir,
            &format!("{name}.before-restore-{}", now.format("%Y%m%dT%H%M%SZ")),
        );
        // A link keeps the replaced file under its new name while the rename below swaps the
        // new one in at once; where links are not possible, a copy does.
        if std::fs::hard_link(&database, &kept).is_err() {
            std::fs::copy(&database, &kept)
                .with_context(|| format!("keeping {} as {}", database.display(), kept.display()))?;
            sync_file(&kept)?;
        }
        // A log left by a process that died belongs to the replaced file: it goes with it, or
        // SQLite would replay it into the restored one.
        let wal = sidecar(&database, "-wal");
        if wal.symlink_metadata().is_ok() {
            std::fs::rename(&wal, sidecar(&kept, "-wal"))
                .with_context(|| format!("moving {} aside", wal.display()))?;
        }
        let _ = std::fs::remove_file(sidecar(&database, "-shm"));
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staged.path, &database)
        .with_context(|| format!("installing the restored database as {}", database.display()))?;
    staged.disarm();
    sync_dir(dir)?;
    Ok(RestoreReport {
        database,
        replaced,
        latest_migration,
    })
}

/// The file of a SQLite database URL; PostgreSQL is refused, naming its tool.
fn sqlite_path(database_url: &str, command: &str, tool: &str) -> anyhow::Result<PathBuf> {
    let url = DatabaseUrl::parse(database_url)?;
    if url.backend == Backend::Postgres {
        bail!(
            "`wastetrack {command}` works on a SQLite database, and the configured database is \
             PostgreSQL: use `{tool}` instead ({POSTGRES_HINT})"
        );
    }
    Ok(PathBuf::from(url.target))
}

fn split(path: &Path) -> anyhow::Result<(&Path, String)> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?
        .to_string_lossy()
        .into_owned();
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok((dir, name))
}

/// `<path><suffix>`, e.g. the `-wal` beside a database.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `dir/name`, or `dir/name-2`, `-3`… if taken.
fn unused_name(dir: &Path, name: &str) -> PathBuf {
    let mut candidate = dir.join(name);
    let mut n = 2;
    while candidate.symlink_metadata().is_ok() {
        candidate = dir.join(format!("{name}-{n}"));
        n += 1;
    }
    candidate
}

fn check_header(file: &Path) -> anyhow::Result<()> {
    let shown = file.display();
    let mut header = [0u8; 16];
    let mut read = 0;
    let mut f = File::open(file).with_context(|| format!("opening {shown}"))?;
    while read < header.len() {
        match f
            .read(&mut header[read..])
            .with_context(|| format!("reading {shown}"))?
        {
            0 => break,
            n => read += n,
        }
    }
    if read == 0 {
        bail!("{shown} is empty: it is not a SQLite database");
    }
    if read < header.len() || &header != SQLITE_HEADER {
        bail!("{shown} is not a SQLite database (it does not start with the SQLite header)");
    }
    Ok(())
}

/// Opens a database file that must already exist (never creates one), with a busy timeout.
fn open_existing(path: &Path) -> anyhow::Result<SqliteConnection> {
    let absolute = std::path::absolute(path)?;
    let mut uri = url::Url::from_file_path(&absolute)
        .map_err(|()| anyhow::anyhow!("{} cannot be opened by SQLite", path.display()))?;
    uri.set_query(Some("mode=rw"));
    let mut conn = SqliteConnection::establish(uri.as_str())?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    Ok(conn)
}

#[derive(QueryableByName)]
struct CheckRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Text)]
    version: String,
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` find nothing.
fn integrity(conn: &mut SqliteConnection) -> anyhow::Result<()> {
    let damaged = |e: diesel::result::Error| anyhow::anyhow!("it is damaged: {e}");
    let report: Vec<CheckRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(conn)
        .map_err(damaged)?;
    let problems: Vec<&str> = report
        .iter()
        .map(|r| r.integrity_check.as_str())
        .filter(|line| *line != "ok")
        .collect();
    if !problems.is_empty() {
        bail!(
            "it is damaged: PRAGMA integrity_check found {} problem(s), the first: {}",
            problems.len(),
            problems[0]
        );
    }
    let dangling: Vec<ForeignKeyRow> = diesel::sql_query("PRAGMA foreign_key_check")
        .load(conn)
        .map_err(damaged)?;
    if let Some(first) = dangling.first() {
        bail!(
            "it is damaged: PRAGMA foreign_key_check found {} row(s) referring to missing rows, \
             the first in table {}",
            dangling.len(),
            first.table
        );
    }
    Ok(())
}

/// The versions of the migrations a database records, in order.
fn applied_migrations(conn: &mut SqliteConnection) -> anyhow::Result<Vec<String>> {
    let tables: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM sqlite_master \
         WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result(conn)
    .map_err(|e| anyhow::anyhow!("it is damaged: {e}"))?;
    if tables.n == 0 {
        bail!("it is not a wastetrack database: it records no migrations");
    }
    let rows: Vec<VersionRow> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load(conn)
            .map_err(|e| anyhow::anyhow!("reading its migrations: {e}"))?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}

/// The versions of the migrations this binary embeds.
fn embedded_migrations() -> anyhow::Result<BTreeSet<String>> {
    let migrations = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading the embedded migrations: {e}"))?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

/// Checks a copy to be restored; returns its last migration.
fn check_copy(path: &Path) -> anyhow::Result<Option<String>> {
    let mut conn = open_existing(path).map_err(|e| anyhow::anyhow!("it is damaged: {e}"))?;
    integrity(&mut conn)?;
    let applied = applied_migrations(&mut conn)?;
    let known = embedded_migrations()?;
    let unknown: Vec<&str> = applied
        .iter()
        .filter(|v| !known.contains(*v))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        bail!(
            "it comes from a newer wastetrack: migration(s) {} are unknown to this binary; \
             restore it with the version that wrote it (migrations only go forward)",
            unknown.join(", ")
        );
    }
    let pending: Vec<&str> = known
        .iter()
        .filter(|v| !applied.contains(*v))
        .map(String::as_str)
        .collect();
    if !pending.is_empty() {
        bail!(
            "it lacks migration(s) {} of this binary: bring a copy of it up to date first with \
             `WASTETRACK_DATABASE_URL=sqlite://<copy> wastetrack migrate`, then restore that copy",
            pending.join(", ")
        );
    }
    Ok(applied.last().cloned())
}

/// Refuses when a process holds the database open. The service keeps its SQLite database in
/// WAL mode, where every open connection holds a shared lock on the file: a connection in
/// exclusive locking mode then cannot begin an exclusive transaction. When it can, the log is
/// checkpointed into the file, so that the file kept aside is complete.
fn ensure_not_in_use(database: &Path) -> anyhow::Result<()> {
    let shown = database.display();
    let Ok(mut conn) = open_existing(database) else {
        // Not openable as a database: nothing can be using it as one.
        return Ok(());
    };
    conn.batch_execute("PRAGMA busy_timeout = 2000; PRAGMA locking_mode = EXCLUSIVE;")
        .with_context(|| format!("opening {shown}"))?;
    match conn.batch_execute("BEGIN EXCLUSIVE; COMMIT;") {
        Ok(()) => {
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
                .with_context(|| {
                    format!("writing the log of {shown} into it before replacing it")
                })?;
            Ok(())
        }
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("locked") || info.message().contains("busy") =>
        {
            bail!(
                "{shown} is in use by a running wastetrack (or another program): stop the \
                 service, then restore"
            )
        }
        // The present file is no sound database (that may be why it is being restored): it is
        // kept aside as it is.
        Err(_) => Ok(()),
    }
}

/// Gives the restored file the permissions and the owner of the database it replaces, so that
/// the service's user can still write it when `restore` runs as another user (root).
fn take_over_ownership(database: &Path, staged: &Path) -> anyhow::Result<()> {
    let Ok(meta) = std::fs::metadata(database) else {
        return Ok(());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let staged_meta =
            std::fs::metadata(staged).with_context(|| format!("reading {}", staged.display()))?;
        if (staged_meta.uid(), staged_meta.gid()) != (meta.uid(), meta.gid()) {
            std::os::unix::fs::chown(staged, Some(meta.uid()), Some(meta.gid())).with_context(
                || {
                    format!(
                        "giving the restored file the owner of {} (user {}, group {}): run \
                         restore as that user or as root",
                        database.display(),
                        meta.uid(),
                        meta.gid()
                    )
                },
            )?;
        }
    }
    std::fs::set_permissions(staged, meta.permissions())
        .with_context(|| format!("setting the permissions of {}", staged.display()))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {} to disk", path.display()))
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing the folder {} to disk", dir.display()))
}

/// A file being written, removed (with SQLite's files beside it) unless it was moved into
/// place.
struct Scratch {
    path: PathBuf,
    armed: std::cell::Cell<bool>,
}

impl Scratch {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            armed: std::cell::Cell::new(true),
        }
    }

    fn disarm(&self) {
        self.armed.set(false);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(sidecar(&self.path, suffix));
        }
        if self.armed.get() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

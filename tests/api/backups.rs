//! `wastetrack backup` and `wastetrack restore`, through the real binary: a copy taken while a
//! server writes restores into a server that reads it back; a copy that cannot be trusted is
//! refused with a one-line message and a non-zero exit, leaving the database as it was.

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use diesel::{Connection, RunQueryDsl, SqliteConnection};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::binary::{Serving, command_for};
use crate::helpers::{ADMIN_PASSWORD, Backend, TestDb};

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn run(database_url: &str, args: &[&str]) -> Output {
    command_for(database_url, 0).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A refusal: a non-zero exit and one line on stderr, `error: …`, naming the problem.
fn assert_refused(output: &Output, expected: &[&str]) {
    let text = stderr(output);
    assert!(!output.status.success(), "accepted: {text}");
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    assert!(text.starts_with("error: "), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    for part in expected {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
}

/// The names in a folder, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn admin_token(client: &reqwest::Client, base: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    crate::helpers::access_token(&tokens)
}

/// Creates a park through the API; whether the server answered 201.
async fn create_park(client: &reqwest::Client, base: &str, token: &str, name: &str) -> bool {
    let response = client
        .post(format!("{base}/api/v1/parks"))
        .bearer_auth(token)
        .json(&json!({"name": name, "region_code": "440307", "address": "Longgang District, Shenzhen"}))
        .send()
        .await
        .unwrap();
    response.status() == StatusCode::CREATED
}

/// Every park's (id, name), through the API.
async fn parks(client: &reqwest::Client, base: &str, token: &str) -> Vec<(String, String)> {
    let page: Value = client
        .get(format!("{base}/api/v1/parks?limit=200"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["next_cursor"].is_null(), "one page holds them all");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Runs `wastetrack backup` while `writes` runs beside it; returns the output and the names of
/// the parks whose creation was sent while the copy was being made, and acknowledged.
async fn backup_while_writing(
    database_url: &str,
    file: &Path,
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> (Output, Vec<String>) {
    let done = std::cell::Cell::new(false);
    let copier = async {
        let mut child = command_for(database_url, 0)
            .arg("backup")
            .arg(file)
            .spawn()
            .unwrap();
        while child.try_wait().unwrap().is_none() {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        let output = child.wait_with_output().unwrap();
        done.set(true);
        output
    };
    // Two writers, so that a write is in flight whenever the copy reads.
    let writer = |lane: usize| {
        let done = &done;
        async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            // The first write is sent before the copier is first polled: at least one write
            // overlaps the backup.
            while !done.get() {
                let name = format!("during-{lane}-{n:03}");
                if create_park(client, base, token, &name).await {
                    acknowledged.push(name);
                }
                n += 1;
            }
            acknowledged
        }
    };
    let (a, b, output) = tokio::join!(writer(0), writer(1), copier);
    (output, a.into_iter().chain(b).collect())
}

#[actix_web::test]
async fn a_copy_taken_while_the_server_writes_restores_into_a_server_that_reads_it_back() {
    let db = TestDb::create(Backend::Sqlite);
    let server = Serving::start(db.url(), &[("WASTETRACK_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await;
    let client = reqwest::Client::new();
    let token = admin_token(&client, &server.base).await;
    let mut before = BTreeSet::new();
    for n in 0..5 {
        let name = format!("before-{n}");
        assert!(create_park(&client, &server.base, &token, &name).await);
        before.insert(name);
    }

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("wastetrack-backup.db");
    let (output, during) =
        backup_while_writing(db.url(), &file, &client, &server.base, &token).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.starts_with("backed up ") && said.contains("integrity checked"),
        "{said}"
    );
    assert!(
        !during.is_empty(),
        "the server wrote while the copy was made"
    );
    // The copy was written beside and renamed: nothing else is left in the folder.
    assert_eq!(names_in(backups.path()), ["wastetrack-backup.db"]);
    let mut after = BTreeSet::new();
    for n in 0..3 {
        let name = format!("after-{n}");
        assert!(create_park(&client, &server.base, &token, &name).await);
        after.insert(name);
    }
    // A second backup to the same file is refused: a backup never overwrites.
    let again = run(db.url(), &["backup", file.to_str().unwrap()]);
    assert_refused(&again, &["already exists"]);
    server.stop();

    // Restore into a fresh path, in a folder that does not exist yet.
    let fresh = tempfile::tempdir().unwrap();
    let restored_path = fresh.path().join("restored").join("wastetrack.db");
    let restored_url = sqlite_url(&restored_path);
    let output = run(&restored_url, &["restore", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("there was no database there before"),
        "{said}"
    );
    assert_eq!(names_in(&fresh.path().join("restored")), ["wastetrack.db"]);

    let restored = Serving::start(&restored_url, &[]).await;
    let token = admin_token(&client, &restored.base).await;
    let parks = parks(&client, &restored.base, &token).await;
    let names: BTreeSet<String> = parks.iter().map(|(_, name)| name.clone()).collect();
    assert!(
        before.is_subset(&names),
        "every park made before the backup: {names:?}"
    );
    assert!(
        names.is_disjoint(&after),
        "no park made after the backup: {names:?}"
    );
    let known: BTreeSet<String> = before.iter().chain(&during).cloned().collect();
    let made_by_tests: BTreeSet<String> = names
        .iter()
        .filter(|n| n.starts_with("before-") || n.starts_with("during-"))
        .cloned()
        .collect();
    assert!(
        made_by_tests.is_subset(&known),
        "only acknowledged parks: {names:?}"
    );
    // Each park came with its history, written in the same transaction.
    for (id, name) in &parks {
        let history: Value = client
            .get(format!("{}/api/v1/parks/{id}/history", restored.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            history["items"].as_array().is_some_and(|h| !h.is_empty()),
            "history of {name}: {history}"
        );
    }
    // The restored database takes writes.
    assert!(create_park(&client, &restored.base, &token, "after-restore").await);
    restored.stop();
}

/// A database of this binary with data, and a good copy of it.
struct Fixture {
    _db_dir: tempfile::TempDir,
    db_path: PathBuf,
    db_url: String,
    files: tempfile::TempDir,
    good: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let db_dir = tempfile::tempdir().unwrap();
        let db_path = db_dir.path().join("wastetrack.db");
        let db_url = sqlite_url(&db_path);
        let migrated = run(&db_url, &["migrate"]);
        assert!(migrated.status.success(), "{}", stderr(&migrated));
        std::fs::set_permissions(&db_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let files = tempfile::tempdir().unwrap();
        let good = files.path().join("good.db");
        let output = run(&db_url, &["backup", good.to_str().unwrap()]);
        assert!(output.status.success(), "{}", stderr(&output));
        // The copy is as private as the database.
        assert_eq!(mode(&good), 0o600);
        Self {
            _db_dir: db_dir,
            db_path,
            db_url,
            files,
            good,
        }
    }

    /// A copy of the good backup, changed by `change`.
    fn variant(&self, name: &str, change: impl FnOnce(&Path)) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::copy(&self.good, &path).unwrap();
        change(&path);
        path
    }

    fn folder(&self) -> Vec<String> {
        names_in(self.db_path.parent().unwrap())
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn execute(path: &Path, sql: &str) {
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

#[test]
fn restore_refuses_a_copy_it_cannot_trust_and_leaves_the_database_as_it_was() {
    let f = Fixture::new();
    let original = std::fs::read(&f.db_path).unwrap();
    let folder = f.folder();

    let text = f.files.path().join("notes.txt");
    std::fs::write(&text, "lot 17: 2 drums of waste oil, 400 kg\n").unwrap();
    let empty = f.files.path().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    let corrupt = f.variant("corrupt.db", |path| {
        // Overwrite every page after the first with a pattern: the schema page survives, the
        // tables do not.
        let mut bytes = std::fs::read(path).unwrap();
        for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
            *b = (i % 251) as u8;
        }
        std::fs::write(path, bytes).unwrap();
    });
    let inconsistent = f.variant("inconsistent.db", |path| {
        // Readable, but an index disagrees with its table: only the integrity check sees it.
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            "INSERT INTO organizations VALUES ('org_1', 'platform', 'P', '2026-11-25 02:00:00', '2026-11-25 02:00:00');
             INSERT INTO users VALUES ('usr_1', 'org_1', 'admin', 'A', 'platform_admin', 'x', NULL, '2026-11-25 02:00:00', '2026-11-25 02:00:00', NULL, NULL);
             PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = 'CREATE INDEX users_organization_idx ON users (username, id)'
              WHERE name = 'users_organization_idx';",
        )
        .unwrap();
    });
    let newer = f.variant("newer.db", |path| {
        execute(
            path,
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000000')",
        );
    });
    let older = f.variant("older.db", |path| {
        execute(
            path,
            "DELETE FROM __diesel_schema_migrations \
             WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)",
        );
    });
    let foreign = f.files.path().join("foreign.db");
    execute(
        &foreign,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
    );
    let missing = f.files.path().join("missing.db");

    let cases: [(&Path, &[&str]); 8] = [
        (&text, &["notes.txt", "is not a SQLite database"]),
        (&empty, &["empty.db", "is empty"]),
        (&corrupt, &["corrupt.db", "is damaged"]),
        (
            &inconsistent,
            &[
                "inconsistent.db",
                "is damaged",
                "integrity_check",
                "users_organization_idx",
            ],
        ),
        (
            &newer,
            &[
                "newer.db",
                "comes from a newer wastetrack",
                "20991231000000",
            ],
        ),
        (
            &older,
            &["older.db", "lacks migration(s)", "wastetrack migrate"],
        ),
        (&foreign, &["foreign.db", "not a wastetrack database"]),
        (&missing, &["missing.db", "does not exist"]),
    ];
    for (file, expected) in cases {
        let output = run(&f.db_url, &["restore", file.to_str().unwrap()]);
        assert_refused(&output, expected);
        assert!(output.stdout.is_empty());
        assert_eq!(std::fs::read(&f.db_path).unwrap(), original, "{file:?}");
        assert_eq!(
            f.folder(),
            folder,
            "nothing left beside the database: {file:?}"
        );
    }

    // The good copy is accepted, and the database it replaces is kept. The restored file takes
    // the replaced one's permissions and, where the tests run as root, its owner.
    std::fs::set_permissions(&f.db_path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let as_root = std::fs::metadata(&f.good).unwrap().uid() == 0;
    if as_root {
        std::os::unix::fs::chown(&f.db_path, Some(4242), Some(4243)).unwrap();
    }
    let output = run(&f.db_url, &["restore", f.good.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&f.db_path), 0o640);
    if as_root {
        let meta = std::fs::metadata(&f.db_path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4242, 4243));
    }
    let kept: Vec<String> = f
        .folder()
        .into_iter()
        .filter(|n| n.starts_with("wastetrack.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", f.folder());
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains(&kept[0]), "{said}");
    let kept_path = f.db_path.parent().unwrap().join(&kept[0]);
    assert_eq!(std::fs::read(kept_path).unwrap(), original);
    assert_eq!(
        std::fs::read(&f.db_path).unwrap(),
        std::fs::read(&f.good).unwrap()
    );
}

#[actix_web::test]
async fn restore_refuses_a_database_a_running_server_holds() {
    let f = Fixture::new();
    let server = Serving::start(&f.db_url, &[("WASTETRACK_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await;
    let output = run(&f.db_url, &["restore", f.good.to_str().unwrap()]);
    assert_refused(&output, &["is in use", "stop the service"]);
    // The server goes on serving its database.
    let client = reqwest::Client::new();
    let token = admin_token(&client, &server.base).await;
    assert!(create_park(&client, &server.base, &token, "still here").await);
    server.stop();

    let output = run(&f.db_url, &["restore", f.good.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let server = Serving::start(&f.db_url, &[("WASTETRACK_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await;
    let token = admin_token(&client, &server.base).await;
    let names: Vec<String> = parks(&client, &server.base, &token)
        .await
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert!(
        !names.contains(&"still here".to_owned()),
        "the copy predates it: {names:?}"
    );
    server.stop();
}

#[test]
fn backup_and_restore_point_postgresql_to_its_own_tools() {
    // Nothing listens on port 9: the refusal comes before any connection.
    let url = "postgres://postgres@127.0.0.1:9/wastetrack";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.db");
    let output = run(url, &["backup", file.to_str().unwrap()]);
    assert_refused(&output, &["PostgreSQL", "pg_dump -Fc", "README"]);
    assert!(!file.exists());
    std::fs::write(&file, "").unwrap();
    let output = run(url, &["restore", file.to_str().unwrap()]);
    assert_refused(&output, &["PostgreSQL", "pg_restore", "README"]);
}

#[test]
fn backup_refuses_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nothing.db");
    let output = Command::new(env!("CARGO_BIN_EXE_wastetrack"))
        .env_clear()
        .env("WASTETRACK_DATABASE_URL", sqlite_url(&db))
        .arg("backup")
        .arg(dir.path().join("copy.db"))
        .output()
        .unwrap();
    assert_refused(&output, &["nothing.db", "does not exist"]);
    assert_eq!(
        names_in(dir.path()),
        Vec::<String>::new(),
        "no database was created"
    );
}

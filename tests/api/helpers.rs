//! Starts the real server on port 0 against a fresh database, one per test.
//!
//! SQLite runs always (a file in a temporary folder, migrated by the server at start).
//! PostgreSQL runs when `WASTETRACK_TEST_POSTGRES_URL` points at a server where the user may
//! create databases: each test clones its own database there from a template that already has
//! every migration applied (see [`postgres_template`]) and drops it afterwards.

use std::path::Path;
use std::sync::{Once, OnceLock};

use actix_web::dev::ServerHandle;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use wastetrack::clock::Clock;
use wastetrack::config::Settings;
use wastetrack::startup::Application;

pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const JWT_SECRET: &str = "a test signing secret of more than 32 bytes";
pub const POSTGRES_URL_VAR: &str = "WASTETRACK_TEST_POSTGRES_URL";

/// Where every test server's clock starts, whatever the machine's date, hour and time zone:
/// an ordinary Wednesday, 10:00 in Shanghai (02:00 UTC). The clock runs on from there; a test
/// that needs another instant moves it ([`TestApp::stand_at`]).
pub fn test_epoch() -> DateTime<Utc> {
    instant("2026-11-25T02:00:00Z")
}

/// Settings for tests that move the clock by days or months: tokens and sessions outlive the
/// jumps, so that the same users stay signed in.
pub fn time_travel(settings: &mut Settings) {
    let years = 3 * 366 * 24 * 3600;
    settings.auth.access_token_ttl_secs = years;
    settings.auth.refresh_token_ttl_secs = years;
    settings.auth.session_max_age_secs = years;
}

/// An instant written in RFC 3339, e.g. `2026-12-31T23:59:59+08:00`.
pub fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .with_timezone(&Utc)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Whether the PostgreSQL variant of the tests should run.
    pub fn postgres_configured() -> bool {
        let set = std::env::var(POSTGRES_URL_VAR).is_ok_and(|v| !v.is_empty());
        if !set {
            eprintln!("PostgreSQL variant skipped: {POSTGRES_URL_VAR} is not set");
        }
        set
    }
}

/// Runs each test body once per backend: `mod <name> { fn sqlite(); fn postgres(); }`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($backend: $crate::helpers::Backend) $body

            #[actix_web::test]
            async fn sqlite() {
                body($crate::helpers::Backend::Sqlite).await
            }

            #[actix_web::test]
            async fn postgres() {
                if $crate::helpers::Backend::postgres_configured() {
                    body($crate::helpers::Backend::Postgres).await
                }
            }
        }
    )*};
}

/// A database made for one test and removed after it.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        server_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    /// A database for one test. On PostgreSQL it is cloned from the migrated template, so the
    /// server finds no migration pending; on SQLite it is an empty file that the server migrates.
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::create_empty(backend),
            Backend::Postgres => {
                let server_url = postgres_server_url();
                let template = postgres_template(&server_url);
                Self::create_postgres(server_url, Some(template))
            }
        }
    }

    /// A database without any table, for tests of the migrations themselves and of a first
    /// start on an empty database.
    pub fn create_empty(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("wastetrack.db").display());
                TestDb::Sqlite { _dir: dir, url }
            }
            Backend::Postgres => Self::create_postgres(postgres_server_url(), None),
        }
    }

    fn create_postgres(server_url: String, template: Option<&str>) -> Self {
        let name = format!("wt_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect_postgres(&server_url);
        let statement = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        diesel::sql_query(statement)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        let url = replace_database(&server_url, &name);
        TestDb::Postgres {
            server_url,
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            server_url, name, ..
        } = self
            && let Ok(mut conn) = PgConnection::establish(server_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

fn postgres_server_url() -> String {
    std::env::var(POSTGRES_URL_VAR).expect("PostgreSQL URL")
}

fn connect_postgres(url: &str) -> PgConnection {
    PgConnection::establish(url)
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_URL_VAR}: {e}"))
}

/// The prefix of the migrated template databases; the rest of the name is the digest of the
/// migrations (see [`migrations_digest`]).
const TEMPLATE_PREFIX: &str = "wt_template_";
/// The prefix of a template being built: renamed to its final name once complete, so that a
/// test process that dies half-way never leaves a half-migrated template under a name in use.
const TEMPLATE_BUILD_PREFIX: &str = "wt_template_build_";
/// The advisory lock held while a template is looked for or built, by every test process on
/// the server whatever its migrations.
const TEMPLATE_LOCK: &str = "wastetrack:test-template";

/// The name of the PostgreSQL template database that has every migration of
/// `migrations/postgres` applied, building it the first time a test of this process asks.
///
/// The name carries a digest of the migrations' files, so a changed, added or removed migration
/// makes a new template and a stale one is never cloned. Many tests of one process ask at
/// once: the first builds (or finds) the template while the others wait on the `OnceLock`.
/// Several test processes (two `cargo test` runs, two worktrees) may ask at once too: they take
/// turns under a PostgreSQL advisory lock, and the first to come builds.
///
/// The template refuses connections (`ALLOW_CONNECTIONS false`): PostgreSQL clones a database
/// only while no session is connected to it, and no session ever is. Templates of other
/// digests are left in place: they may belong to another checkout running its tests on the
/// same server (drop them by hand when no tests run; see the README).
fn postgres_template(server_url: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("{TEMPLATE_PREFIX}{}", &migrations_digest()[..32]);
        let mut conn = wastetrack::db::DbConn::Pg(connect_postgres(server_url));
        wastetrack::db::session_lock(&mut conn, TEMPLATE_LOCK).expect("template lock");
        let wastetrack::db::DbConn::Pg(pg) = &mut conn else {
            unreachable!("a PostgreSQL connection")
        };
        if !databases(pg).contains(&name) {
            build_template(pg, server_url, &name);
        }
        // Closing the connection would release the lock too; unlock to say so.
        wastetrack::db::session_unlock(&mut conn, TEMPLATE_LOCK).expect("template unlock");
        name
    })
}

/// Builds the template `name` under a temporary name, then renames it. The caller holds
/// [`TEMPLATE_LOCK`].
fn build_template(conn: &mut PgConnection, server_url: &str, name: &str) {
    // A database under the build prefix is left by a test process that died while building:
    // under the lock no one else is building, so it can go.
    let leftovers = databases(conn)
        .into_iter()
        .filter(|d| d.starts_with(TEMPLATE_BUILD_PREFIX));
    for leftover in leftovers {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {leftover} WITH (FORCE)"))
            .execute(conn)
            .unwrap_or_else(|e| panic!("dropping the unfinished template {leftover}: {e}"));
    }
    let building = format!("{TEMPLATE_BUILD_PREFIX}{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {building}"))
        .execute(conn)
        .unwrap_or_else(|e| panic!("creating the template {building}: {e}"));
    {
        let mut migrating =
            wastetrack::db::DbConn::Pg(connect_postgres(&replace_database(server_url, &building)));
        wastetrack::db::run_migrations(&mut migrating)
            .unwrap_or_else(|e| panic!("migrating the template {building}: {e:#}"));
        // The connection closes here: none may stay on a template.
    }
    // The rename waits (up to a few seconds) for the closed session's backend to go.
    diesel::sql_query(format!(
        "ALTER DATABASE {building} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"
    ))
    .execute(conn)
    .unwrap_or_else(|e| panic!("marking {building} as a template: {e}"));
    diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
        .execute(conn)
        .unwrap_or_else(|e| panic!("renaming the template {building} to {name}: {e}"));
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

fn databases(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query("SELECT datname::text AS datname FROM pg_database")
        .load::<DatabaseName>(conn)
        .expect("listing databases")
        .into_iter()
        .map(|d| d.datname)
        .collect()
}

/// The SHA-256, in hexadecimal, of every file under `migrations/postgres`: each file's path
/// (relative, with `/`), length and contents, in path order. The binary under test embeds
/// the same files.
fn migrations_digest() -> String {
    use sha2::Digest;
    fn collect(dir: &Path, root: &Path, files: &mut Vec<(String, Vec<u8>)>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                collect(&path, root, files);
            } else {
                let relative = path.strip_prefix(root).expect("under the root");
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let contents =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                files.push((relative, contents));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut hasher = sha2::Sha256::new();
    for (path, contents) in &files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update((contents.len() as u64).to_be_bytes());
        hasher.update(contents);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `postgres://user@host:port/db?x` with the database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let parsed = url::Url::parse(url).expect("a PostgreSQL URL");
    let mut parsed = parsed.clone();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The server's clock: tests read it and move it.
    pub clock: Clock,
    handle: ServerHandle,
    // Dropped last: the database outlives the server.
    _db: TestDb,
}

static LOGS: Once = Once::new();

/// Settings for a test server: port 0, small pool, one worker, known secrets.
pub fn test_settings(db: &TestDb) -> Settings {
    LOGS.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            wastetrack::telemetry::init(&filter, wastetrack::telemetry::LogFormat::Text);
        }
    });
    let mut settings = Settings {
        listen: "127.0.0.1:0".to_owned(),
        database_url: db.url().to_owned(),
        database_max_connections: 4,
        workers: 1,
        admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        ..Settings::default()
    };
    settings.auth.jwt_secret = Some(SecretString::from(JWT_SECRET));
    // Tests send a client's requests far faster than a person; the limits' own tests set them.
    settings.rate_limit.per_address_per_minute = 0;
    settings.rate_limit.per_token_per_minute = 0;
    settings.rate_limit.verify_per_address_per_minute = 0;
    // Tests that need the periodic check run it themselves.
    settings.notify.sweep_interval_secs = 3600;
    settings
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, customize: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::create(backend);
        let mut settings = test_settings(&db);
        customize(&mut settings);
        Self::start(db, settings).await
    }

    pub async fn start(db: TestDb, settings: Settings) -> Self {
        let clock = Clock::starting_at(test_epoch());
        let app = Application::build_with_clock(settings, clock.clone())
            .await
            .expect("the application starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base,
            client,
            clock,
            handle,
            _db: db,
        }
    }

    /// The server's current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The server's current instant in RFC 3339, as a device would send it.
    pub fn now_rfc3339(&self) -> String {
        self.now().to_rfc3339()
    }

    /// Today in the parks' time zone (Asia/Shanghai) by the server's clock.
    pub fn today(&self) -> NaiveDate {
        wastetrack::domain::time::local_date(self.now(), chrono_tz::Asia::Shanghai)
    }

    /// The day `d` days from today in the parks' time zone, as `YYYY-MM-DD`.
    pub fn day(&self, d: i64) -> String {
        (self.today() + Duration::days(d)).to_string()
    }

    /// Stops the server's clock at `at` (RFC 3339): every rule then sees that instant.
    pub fn stand_at(&self, at: &str) {
        self.clock.set(instant(at));
    }

    /// Moves the server's clock forward (or back, for a negative duration).
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The test's database, for tests that must set up a state no API call can produce.
    pub fn database_url(&self) -> &str {
        self._db.url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Logs in and returns the whole token response.
    pub async fn login(&self, username: &str, password: &str) -> Value {
        let response = self
            .post_json(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "login of {username}");
        response.json().await.expect("token JSON")
    }

    pub async fn admin_token(&self) -> String {
        access_token(&self.login("admin", ADMIN_PASSWORD).await)
    }

    /// Creates an organisation of a kind through its registration endpoint, with valid
    /// made-up data, and returns its id. An enterprise gets a new park of its own.
    pub async fn create_org(&self, admin: &str, kind: &str, name: &str) -> String {
        match kind {
            "park" => self.create_park(admin, name, "440307").await,
            "enterprise" => {
                let park = self
                    .create_park(admin, &format!("Park of {name}"), "440307")
                    .await;
                self.create_enterprise(admin, &park, name).await
            }
            "disposal_company" => self.create_disposer(admin, name).await,
            "carrier" => {
                let body = json!({"name": name, "uscc": next_uscc(), "region_code": "440307", "transport_permit_number": "粤交运440300001"});
                self.created_id("/api/v1/carriers", admin, &body).await
            }
            "environment_bureau" => self.create_bureau(admin, name, "4403").await,
            other => panic!("no registration endpoint for {other}"),
        }
    }

    /// POSTs and returns the `id` of the created object, asserting 201.
    pub async fn created_id(&self, path: &str, token: &str, body: &Value) -> String {
        let response = self.post_json(path, Some(token), body).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {text}");
        let body: Value = serde_json::from_str(&text).expect("JSON body");
        body["id"].as_str().expect("id").to_owned()
    }

    pub async fn create_park(&self, admin: &str, name: &str, region_code: &str) -> String {
        let body = json!({"name": name, "region_code": region_code, "address": "Longgang District, Shenzhen"});
        self.created_id("/api/v1/parks", admin, &body).await
    }

    /// Gives a park a collection permit valid from 2020 to 2099 covering every hazardous code:
    /// hazardous lots enter its shared zones, and the park's warehouse consigns them.
    pub async fn grant_permit(&self, admin: &str, park_id: &str) {
        let body = json!({"collection_permit_number": "440300-HW-2026-012",
            "permit_valid_from": "2020-01-01", "permit_valid_until": "2099-12-31"});
        let r = self
            .patch_json(&format!("/api/v1/parks/{park_id}"), admin, &body)
            .await;
        assert_eq!(
            r.status(),
            reqwest::StatusCode::OK,
            "{}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn create_enterprise(&self, token: &str, park_id: &str, name: &str) -> String {
        let body = json!({"park_id": park_id, "name": name, "uscc": next_uscc(), "contact_name": "Chen Jie",
            "contact_phone": "13800138000", "joined_on": "2020-01-01"});
        self.created_id("/api/v1/enterprises", token, &body).await
    }

    pub async fn create_disposer(&self, admin: &str, name: &str) -> String {
        let body = json!({"name": name, "uscc": next_uscc(), "region_code": "440310", "address": "Pingshan District, Shenzhen"});
        self.created_id("/api/v1/disposers", admin, &body).await
    }

    pub async fn create_bureau(&self, admin: &str, name: &str, jurisdiction: &str) -> String {
        self.created_id(
            "/api/v1/bureaus",
            admin,
            &json!({"name": name, "jurisdiction": jurisdiction}),
        )
        .await
    }

    /// Creates a user as the administrator and returns its id.
    pub async fn create_user(
        &self,
        admin: &str,
        org: &str,
        username: &str,
        role: &str,
        password: &str,
    ) -> String {
        let response = self
            .post_json(
                "/api/v1/users",
                Some(admin),
                &json!({"organization_id": org, "username": username, "display_name": username, "role": role, "password": password}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "create user {username}"
        );
        id_of(response).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop serving before the database goes away.
        drop(self.handle.stop(false));
    }
}

/// A new valid Unified Social Credit Code (area 440300; the organisation code's check and the
/// whole code's check both right), different at each call.
pub fn next_uscc() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) + u64::from(std::process::id() % 1000) * 1_000_000;
    // The organisation code's 8 body characters: n in base 31 over the code's alphabet (31^8
    // is about 8.5 × 10^11, more than n reaches).
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut body = [b'0'; 8];
    let mut rest = n;
    for c in body.iter_mut().rev() {
        *c = ALPHABET[(rest % 31) as usize];
        rest /= 31;
    }
    let first16 = format!("91440300{}", std::str::from_utf8(&body).expect("ASCII"));
    let code = wastetrack::domain::uscc::complete(&first16).expect("characters of the alphabet");
    assert!(
        wastetrack::domain::uscc::Uscc::parse("uscc", &code).is_ok(),
        "{code}"
    );
    code
}

pub fn access_token(tokens: &Value) -> String {
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub async fn id_of(response: Response) -> String {
    let body: Value = response.json().await.expect("JSON body");
    body["id"].as_str().expect("id").to_owned()
}

/// Asserts an RFC 9457 problem response with this status and type slug; returns its body.
pub async fn assert_problem(response: Response, status: StatusCode, slug: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "content type");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(request_id.is_some(), "x-request-id header");
    let language = response
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = response.json().await.expect("problem JSON");
    if language == "zh-CN" {
        assert_in_chinese(&body);
    }
    assert_eq!(
        body["type"],
        format!("urn:wastetrack:problem:{slug}"),
        "type in {body}"
    );
    assert_eq!(body["status"], status.as_u16(), "status member in {body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "title in {body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "detail in {body}"
    );
    assert_eq!(
        body["request_id"].as_str(),
        request_id.as_deref(),
        "request_id matches the header"
    );
    body
}

/// Whether a text has a Chinese character: a problem in zh-CN whose texts have none was not
/// translated (the catalogue lacks the English the code wrote).
pub fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Every text of a problem said to be in Chinese is: its title, detail and field messages.
pub fn assert_in_chinese(problem: &Value) {
    let texts = [&problem["title"], &problem["detail"]].into_iter().chain(
        problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| &e["message"]),
    );
    for text in texts {
        assert!(
            text.as_str().is_some_and(has_chinese),
            "{text} is not translated (add it to src/i18n/catalogue.toml) in {problem}"
        );
    }
}

/// The fields named by a validation problem.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

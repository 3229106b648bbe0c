//! The `wastetrack` binary itself: `migrate`, `openapi`, and `serve` with its first-start
//! bootstrap, environment configuration and graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_wastetrack");

fn command(db: &TestDb, port: u16) -> Command {
    command_for(db.url(), port)
}

/// `wastetrack` on a database, listening on `port`, with only its own environment.
pub(crate) fn command_for(database_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WASTETRACK_DATABASE_URL", database_url)
        .env("WASTETRACK_LISTEN", format!("127.0.0.1:{port}"))
        .env("WASTETRACK_WORKERS", "1")
        .env("WASTETRACK_LOG_FORMAT", "json")
        .env(
            "WASTETRACK_AUTH__JWT_SECRET",
            "a secret for the binary test, long enough",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The machine's clock and zone as the test sees them: a suite run under libfaketime or with a
    // TZ of its own starts its servers on the same clock, so that what they sign with the
    // machine's time (webhook timestamps) checks out in the test.
    for name in [
        "TZ",
        "LD_PRELOAD",
        "FAKETIME",
        "FAKETIME_DONT_FAKE_MONOTONIC",
    ] {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    cmd
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve`; returns the child and a channel of its stdout lines.
fn serve(db: &TestDb, port: u16) -> (Child, mpsc::Receiver<String>) {
    let mut child = command(db, port)
        .arg("serve")
        .spawn()
        .expect("wastetrack starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

pub(crate) async fn wait_until_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await
            && r.status() == StatusCode::OK
        {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become healthy");
}

fn lines_so_far(rx: &mpsc::Receiver<String>) -> Vec<String> {
    std::iter::from_fn(|| rx.recv_timeout(Duration::from_millis(200)).ok()).collect()
}

pub(crate) fn terminate(child: &Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub(crate) fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `wastetrack serve` process on a database, stopped with SIGTERM by [`Serving::stop`] (or
/// killed when dropped, if a test fails first).
pub(crate) struct Serving {
    child: Child,
    pub base: String,
}

impl Serving {
    /// Starts `serve` on `database_url` with the test's clock and `env`, and waits until it
    /// answers.
    pub(crate) async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut cmd = command_for(database_url, port);
        cmd.env(
            "WASTETRACK_CLOCK_START_AT",
            crate::helpers::test_epoch().to_rfc3339(),
        )
        .env("WASTETRACK_NOTIFY__SWEEP_INTERVAL_SECS", "3600")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd.arg("serve").spawn().expect("wastetrack starts");
        wait_until_healthy(port).await;
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub(crate) fn stop(mut self) {
        terminate(&self.child);
        let status = wait_exit(&mut self.child);
        assert!(status.success(), "exit status {status:?}");
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn login_status(port: u16, password: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[test]
fn openapi_subcommand_prints_the_document() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let generated: serde_json::Value =
        serde_json::from_str(&wastetrack::openapi::document().to_pretty_json().unwrap()).unwrap();
    assert_eq!(printed, generated);
}

backend_tests! {
    async fn migrate_applies_each_migration_once(backend: Backend) {
        let db = TestDb::create_empty(backend);
        let first = command(&db, 0).arg("migrate").output().unwrap();
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let text = String::from_utf8_lossy(&first.stdout);
        let applied: usize = text.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(applied >= 1 && text.contains("migration(s)"), "{text}");
        let second = command(&db, 0).arg("migrate").output().unwrap();
        assert!(String::from_utf8_lossy(&second.stdout).contains("applied 0 migration(s)"));
    }

    async fn serve_bootstraps_an_admin_once_and_stops_gracefully(backend: Backend) {
        let db = TestDb::create_empty(backend);
        let port = free_port();
        let (mut child, rx) = serve(&db, port);
        wait_until_healthy(port).await;
        let lines = lines_so_far(&rx);
        let password = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("password: ").map(str::to_owned))
            .unwrap_or_else(|| panic!("a generated password is printed: {lines:?}"));
        // Logs are JSON lines when asked; the password is never in a log line.
        assert!(lines.iter().filter(|l| l.starts_with('{')).all(|l| !l.contains(&password)));
        assert!(lines.iter().any(|l| l.starts_with('{') && l.contains("wastetrack listening")), "{lines:?}");
        assert_eq!(login_status(port, &password).await, StatusCode::OK);

        // A request in flight when SIGTERM arrives is completed: send the headers and half the
        // body, signal, then send the rest.
        let body = json!({"username": "admin", "password": password}).to_string();
        let (head, tail) = body.split_at(body.len() / 2);
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(stream, "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}", body.len()).unwrap();
        stream.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        terminate(&child);
        std::thread::sleep(Duration::from_millis(300));
        stream.write_all(tail.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "in-flight request: {response:.200}");
        let status = wait_exit(&mut child);
        assert!(status.success(), "exit status {status:?}");

        // A second start finds the administrator and prints no password.
        let port = free_port();
        let (mut child, rx) = serve(&db, port);
        wait_until_healthy(port).await;
        let lines = lines_so_far(&rx);
        assert!(!lines.iter().any(|l| l.contains("password: ")), "{lines:?}");
        assert_eq!(login_status(port, &password).await, StatusCode::OK);
        terminate(&child);
        assert!(wait_exit(&mut child).success());
    }
}

backend_tests! {
    async fn the_demo_loads_a_usable_park_once(backend: Backend) {
        let db = TestDb::create(backend);
        let first = command(&db, 0).arg("demo").output().unwrap();
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        let text = String::from_utf8_lossy(&first.stdout).to_string();
        assert!(text.contains("Loaded the demo park") && text.contains("park.office"), "{text}");
        let again = command(&db, 0).arg("demo").output().unwrap();
        assert!(String::from_utf8_lossy(&again.stdout).contains("already loaded"));

        let settings = crate::helpers::test_settings(&db);
        let app = crate::helpers::TestApp::start(db, settings).await;
        let password = wastetrack::demo::DEMO_PASSWORD;
        let office = crate::helpers::access_token(&app.login("park.office", password).await);
        let enterprises: serde_json::Value = app.get("/api/v1/enterprises?limit=200", &office).await.json().await.unwrap();
        let items = enterprises["items"].as_array().unwrap();
        assert_eq!(items.len(), 23);
        for e in items {
            assert!(wastetrack::domain::uscc::Uscc::parse("uscc", e["uscc"].as_str().unwrap()).is_ok());
        }
        let contracts: serde_json::Value = app.get("/api/v1/contracts", &office).await.json().await.unwrap();
        let contract_id = contracts["items"][0]["id"].as_str().unwrap().to_owned();
        let contract: serde_json::Value = app.get(&format!("/api/v1/contracts/{contract_id}"), &office).await.json().await.unwrap();
        assert_eq!(contract["members"].as_array().map(Vec::len), Some(23));
        assert!(contract["prices"].as_array().is_some_and(|p| p.len() > 5));
        let warehouses: serde_json::Value = app.get("/api/v1/warehouses", &office).await.json().await.unwrap();
        let warehouse = warehouses["items"][0]["id"].as_str().unwrap().to_owned();
        let zones: serde_json::Value = app.get(&format!("/api/v1/warehouses/{warehouse}/zones"), &office).await.json().await.unwrap();
        let kinds: Vec<&str> = zones.as_array().unwrap().iter().map(|z| z["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"hazardous") && kinds.contains(&"general"));
        for (user, path) in [("inspector", "/api/v1/parks"), ("enterprise.1", "/api/v1/contracts"), ("disposer.dispatch", "/api/v1/contracts")] {
            let token = crate::helpers::access_token(&app.login(user, password).await);
            let page: serde_json::Value = app.get(path, &token).await.json().await.unwrap();
            assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{user} {path}");
        }
        let driver = crate::helpers::access_token(&app.login("driver.1", password).await);
        let fleet: serde_json::Value = app.get("/api/v1/vehicles", &driver).await.json().await.unwrap();
        assert_eq!(fleet["items"].as_array().map(Vec::len), Some(3));
    }
}

/// Several instances started at once on one empty PostgreSQL: one prepares the database, the
/// others wait for it, and all serve.
#[actix_web::test]
async fn instances_started_together_on_one_postgresql_all_come_up() {
    if !crate::helpers::Backend::postgres_configured() {
        return;
    }
    let db = TestDb::create_empty(Backend::Postgres);
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut children: Vec<Child> = ports
        .iter()
        .map(|port| {
            command(&db, *port)
                .env("WASTETRACK_ADMIN_PASSWORD", "the same admin password")
                .arg("serve")
                .spawn()
                .expect("wastetrack starts")
        })
        .collect();
    for port in &ports {
        wait_until_healthy(*port).await;
        assert_eq!(
            login_status(*port, "the same admin password").await,
            StatusCode::OK
        );
    }
    for child in &children {
        terminate(child);
    }
    for child in &mut children {
        assert!(wait_exit(child).success());
    }
}

//! What the benchmarks share: command-line arguments, percentiles, the server as a child
//! process, and its memory.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use wastetrack::domain::uscc::{Uscc, complete};

pub mod cpu;
pub mod park;

/// The value after `name` on the command line, if any.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A valid credit code, the `n`-th of a made-up series.
pub fn uscc(n: u32) -> Uscc {
    Uscc::parse("uscc", &complete(&format!("91440300MA5{n:05}")).unwrap()).unwrap()
}

/// The `p` quantile (0 to 1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`), 0 where there is none.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// glibc's allocator settings of the deployment files: two arenas, and blocks from 128 KiB
/// mapped and returned on free.
pub const ALLOCATOR: [(&str, &str); 2] = [
    ("MALLOC_ARENA_MAX", "2"),
    ("MALLOC_MMAP_THRESHOLD_", "131072"),
];

/// Starts the release server (`wastetrack serve`) on `url` at `port`, background work and rate
/// limits off, with `settings` (`WASTETRACK_*` variables) on top; waits until it is ready.
pub async fn start_server(url: &str, port: u16, settings: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wastetrack"));
    command
        .arg("serve")
        .env("WASTETRACK_DATABASE_URL", url)
        .env("WASTETRACK_LISTEN", format!("127.0.0.1:{port}"))
        .env("WASTETRACK_LOG_FILTER", "warn")
        .env("WASTETRACK_NOTIFY__BACKGROUND_ENABLED", "false")
        .env("WASTETRACK_RATE_LIMIT__PER_ADDRESS_PER_MINUTE", "0")
        .env("WASTETRACK_RATE_LIMIT__PER_TOKEN_PER_MINUTE", "0")
        .env(
            "WASTETRACK_AUTH__JWT_SECRET",
            "a bench signing secret of 32 bytes or more",
        )
        .stdout(Stdio::null());
    // The allocator as deploy/ configures it (the Dockerfile and the systemd unit), unless the
    // bench's own environment says otherwise.
    for (name, value) in ALLOCATOR {
        if std::env::var_os(name).is_none() {
            command.env(name, value);
        }
    }
    for (name, value) in settings {
        command.env(name, value);
    }
    let server = Server(command.spawn().expect("the server"));
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status().is_success()
        {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

/// The database a benchmark runs on: `--database-url`, or a new SQLite file in `dir`; and the
/// backend's name.
pub fn database(dir: &std::path::Path) -> (String, &'static str) {
    let url = arg("--database-url")
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    (url, backend)
}

/// Sends `GET url` with `token` `iterations + 3` times, answers checked 200; returns the first
/// three left out as warm-up, the others' times sorted, and the number of `items` in the last
/// answer.
pub async fn time_get(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    iterations: usize,
) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(iterations + 3);
    let mut items = 0;
    for _ in 0..iterations + 3 {
        let t = std::time::Instant::now();
        let r = client.get(url).bearer_auth(token).send().await.unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "GET {url}: {body}");
        times.push(t.elapsed());
        items = body["items"].as_array().map_or(0, Vec::len);
    }
    let mut times = times.split_off(3);
    times.sort();
    (times, items)
}

/// Signs `username` in with `password`; its access token.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let tokens: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{username} signs in: {tokens}"))
        .to_owned()
}

/// A benchmark's database, migrated, with its first administrator (whose password is
/// `password`), the time it was prepared at, and a runtime for the async parts.
pub struct Prepared {
    pub db: wastetrack::db::Db,
    pub now: chrono::DateTime<chrono::Utc>,
    pub rt: actix_web::rt::SystemRunner,
    pub admin_id: String,
}

/// Connects to `url` with a pool of `pool` connections and migrates it.
pub fn prepare(url: &str, pool: u32, password: &str) -> Prepared {
    let db = wastetrack::db::Db::connect(url, pool).expect("database");
    let now = wastetrack::clock::Clock::system().now();
    wastetrack::startup::prepare_database(&db, now, Some(password)).expect("migrations");
    let rt = actix_web::rt::System::new();
    let admin_id = {
        let mut conn = db.get().unwrap();
        wastetrack::identity::store::find_user_by_username(&mut conn, "admin")
            .unwrap()
            .unwrap()
            .id
    };
    Prepared {
        db,
        now,
        rt,
        admin_id,
    }
}

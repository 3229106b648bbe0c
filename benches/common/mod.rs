//! What the benchmarks share: command-line arguments, percentiles, the server as a child
//! process, and its memory.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use wastetrack::domain::uscc::{Uscc, complete};

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

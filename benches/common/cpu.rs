//! Where a run's CPU went: the server's threads, the benchmark's own clients and the rest of the
//! machine (PostgreSQL's backends, the kernel), from Linux's `/proc`; and, on PostgreSQL, what
//! the server's connections were doing, sampled from `pg_stat_activity`. Elsewhere than Linux
//! the figures are zero.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

/// Clock ticks per second of `/proc`'s CPU times (`getconf CLK_TCK`; 100 where it cannot say).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A `/proc/.../stat` line's name and its user plus system ticks.
fn stat_ticks(path: &str) -> Option<(String, u64)> {
    let line = std::fs::read_to_string(path).ok()?;
    // The name is in parentheses and may hold spaces; the fields after it are counted from 3.
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let name = line.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((name, user + system))
}

/// The user plus system ticks of process `pid` (or `self`), all its threads, ended ones included.
fn process_ticks(pid: &str) -> u64 {
    stat_ticks(&format!("/proc/{pid}/stat")).map_or(0, |(_, t)| t)
}

/// Ticks per thread name of process `pid`, its threads of one name summed.
fn threads(pid: u32) -> BTreeMap<String, u64> {
    let mut by_name = BTreeMap::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Some((name, ticks)) = stat_ticks(&format!("{}/stat", task.path().display())) {
                *by_name.entry(name).or_insert(0) += ticks;
            }
        }
    }
    by_name
}

/// The machine's ticks: (busy, waiting for the disk, all), every core summed, from `/proc/stat`.
fn machine() -> (u64, u64, u64) {
    let Some(line) = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned))
    else {
        return (0, 0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let all: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0);
    let iowait = v.get(4).copied().unwrap_or(0);
    (all - idle - iowait, iowait, all)
}

/// CPU counters at the start of a run.
pub struct Meter {
    server: u32,
    started: Instant,
    /// The server's ticks in all, threads that have ended included, and by thread name.
    total: u64,
    threads: BTreeMap<String, u64>,
    clients: u64,
    machine: (u64, u64, u64),
}

/// Where a run's CPU went.
#[derive(Debug, Clone, Default)]
pub struct Use {
    /// CPU seconds of the server's threads, by thread name (busiest first).
    pub threads: Vec<(String, f64)>,
    /// CPU seconds of the server, of the benchmark's process (its clients), and of everything
    /// else on the machine (the database's processes, the kernel's network work, the rest).
    pub server: f64,
    pub clients: f64,
    pub rest: f64,
    /// Shares of all the cores' time: busy, and idle waiting for the disk.
    pub busy: f64,
    pub iowait: f64,
    /// The run's length in seconds and the machine's cores.
    pub seconds: f64,
    pub cores: usize,
}

impl Meter {
    pub fn start(server: u32) -> Meter {
        Meter {
            server,
            started: Instant::now(),
            total: process_ticks(&server.to_string()),
            threads: threads(server),
            clients: process_ticks("self"),
            machine: machine(),
        }
    }

    pub fn stop(self) -> Use {
        let tick = 1.0 / ticks_per_second();
        let seconds = self.started.elapsed().as_secs_f64();
        let mut threads: Vec<(String, f64)> = threads(self.server)
            .into_iter()
            .map(|(name, t)| {
                let before = self.threads.get(&name).copied().unwrap_or(0);
                (name, t.saturating_sub(before) as f64 * tick)
            })
            .filter(|(_, s)| *s > 0.0)
            .collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1));
        // The process's own count, which keeps the time of threads that ended meanwhile (the
        // runtime's blocking threads end when idle), where a sum of the threads would not.
        let server =
            process_ticks(&self.server.to_string()).saturating_sub(self.total) as f64 * tick;
        let clients = process_ticks("self").saturating_sub(self.clients) as f64 * tick;
        let (busy, iowait, all) = machine();
        let busy_s = busy.saturating_sub(self.machine.0) as f64 * tick;
        let iowait_s = iowait.saturating_sub(self.machine.1) as f64 * tick;
        let all_s = all.saturating_sub(self.machine.2) as f64 * tick;
        let share = |s: f64| if all_s > 0.0 { s / all_s } else { 0.0 };
        Use {
            threads,
            server,
            clients,
            rest: (busy_s - server - clients).max(0.0),
            busy: share(busy_s),
            iowait: share(iowait_s),
            seconds,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl Use {
    /// One line: CPU milliseconds per request of the server, the clients and the rest, the
    /// machine's busy share, and the server's busiest threads' shares of one core.
    pub fn describe(&self, requests: usize) -> String {
        let per = |s: f64| s * 1000.0 / requests.max(1) as f64;
        let busiest = self
            .threads
            .iter()
            .take(3)
            .map(|(name, s)| format!("{name} {:.0} %", s / self.seconds * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "CPU ms per request: server {:.2}, clients {:.2}, the rest {:.2}; {} cores {:.0} % busy, {:.0} % waiting for the disk; busiest server threads (share of one core): {busiest}",
            per(self.server),
            per(self.clients),
            per(self.rest),
            self.cores,
            self.busy * 100.0,
            self.iowait * 100.0,
        )
    }
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = Text)]
    what: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Samples, every 10 ms until `stop`, what the server's connections to the PostgreSQL database
/// at `url` are doing (their state and wait event); returns the mean number of connections in
/// each, most first.
pub fn sample_waits(url: &str, stop: &AtomicBool) -> Vec<(String, f64)> {
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    let mut sum: BTreeMap<String, i64> = BTreeMap::new();
    let mut samples = 0_u32;
    while !stop.load(Ordering::Relaxed) {
        let rows: Vec<Activity> = diesel::sql_query(
            "SELECT state || coalesce(', ' || wait_event_type || ':' || wait_event, '') AS what, \
             count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend' GROUP BY 1",
        )
        .load(&mut conn)
        .unwrap();
        for row in rows {
            *sum.entry(row.what).or_insert(0) += row.n;
        }
        samples += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut mean: Vec<(String, f64)> = sum
        .into_iter()
        .map(|(what, n)| (what, n as f64 / f64::from(samples.max(1))))
        .collect();
    mean.sort_by(|a, b| b.1.total_cmp(&a.1));
    mean
}

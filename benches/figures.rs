//! The dashboard's figures and the year's exports at a million lots, measured through the HTTP
//! API of the release binary.
//!
//! Loads the park of `common/park.rs`: 23 enterprises, a contract with thresholds, a warehouse of three zones and
//! `--lots` lots spread over the last two years straight into the database (batched multi-row
//! inserts): every lot's movements in and, for the lots older than 60 days, out of the stock;
//! one pickup request, collection and manifest per category and day, each manifest signed
//! through confirm, take-over, receipt and completion; the inventory and zone fill of the lots
//! still stored. Then it starts `wastetrack serve` (the binary built with the bench) on that
//! database as a separate process, times each figures endpoint (p50 and p95 over 40 requests, or
//! `--iterations`, after 3 to warm up) and, for each export of a full year (the park's ledger, the lots; CSV and
//! xlsx), the time, the size and the server's resident memory (sampled every 5 ms) at its peak.
//! Prints Markdown tables.
//!
//! ```sh
//! cargo bench --bench figures                                  # SQLite, 1 000 000 lots
//! cargo bench --bench figures -- --lots 200000 --iterations 20
//! cargo bench --bench figures -- --database-url postgres://postgres@127.0.0.1:5432/bench
//! ```
//! A PostgreSQL database given by URL must exist and be empty.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::park::{DAYS, PASSWORD, load};
use common::{arg, free_port, login, percentile, start_server, status_kib, time_get};
use futures_util::StreamExt;

fn main() {
    let iterations: usize = arg("--iterations")
        .map(|r| r.parse().expect("--iterations N"))
        .unwrap_or(40);
    let lots: u64 = arg("--lots")
        .map(|r| r.parse().expect("--lots N"))
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temporary folder");
    let (url, backend) = common::database(dir.path());
    let (
        common::Prepared {
            db,
            now,
            rt,
            admin_id,
        },
        world,
        driver_id,
    ) = common::park::set_up(&url);

    eprintln!("loading {lots} lots into {backend} …");
    let started = Instant::now();
    let loaded = load(
        &mut db.get().unwrap(),
        &world,
        &admin_id,
        &driver_id,
        lots,
        1,
        now,
    );
    let (requests, movements) = (loaded.pickup_count(), loaded.movements);
    let load_time = started.elapsed();
    drop(db);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = rt.block_on(start_server(&url, port, &[("WASTETRACK_WORKERS", "1")]));
    let pid = server.0.id();
    let mut report = String::new();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let office = login(&client, &base, "office", PASSWORD).await;
        let park = &world.park;
        let tz = chrono_tz::Asia::Shanghai;
        let this_month = now.with_timezone(&tz).format("%Y-%m").to_string();
        let year_ago = (now - chrono::Duration::days(335)).with_timezone(&tz).format("%Y-%m").to_string();
        let two_years_ago = (now - chrono::Duration::days(DAYS)).with_timezone(&tz).format("%Y-%m").to_string();
        let three_years_ago = (now - chrono::Duration::days(1065)).with_timezone(&tz).format("%Y-%m").to_string();
        let months12 = format!("from={year_ago}&to={this_month}");
        let queries: Vec<(String, String)> = vec![
            ("stock".into(), "stock".into()),
            ("latency, 12 months".into(), format!("latency?{months12}")),
            ("latency, 36 months".into(), format!("latency?from={three_years_ago}&to={this_month}")),
            ("volumes by month, 12 months".into(), format!("volumes?by=month&{months12}")),
            ("volumes by month, 25 months (every lot)".into(), format!("volumes?by=month&from={two_years_ago}&to={this_month}")),
            ("volumes by code, 12 months".into(), format!("volumes?by=code&{months12}")),
            ("volumes by enterprise, 12 months".into(), format!("volumes?by=enterprise&{months12}")),
            ("volumes by disposer, 12 months".into(), format!("volumes?by=disposer&{months12}")),
            ("volumes by enterprise, this month".into(), format!("volumes?by=enterprise&from={this_month}&to={this_month}")),
        ];
        writeln!(report, "\n{lots} lots on {backend} ({movements} stock movements, {requests} pickups and manifests); loaded in {:.0} s\n", load_time.as_secs_f64()).unwrap();
        writeln!(report, "| figures (`/parks/{{id}}/figures/…`) | p50 ms | p95 ms | max ms |").unwrap();
        writeln!(report, "|---|---:|---:|---:|").unwrap();
        for (name, query) in &queries {
            let url = format!("{base}/api/v1/parks/{park}/figures/{query}");
            let (times, _) = time_get(&client, &url, &office, iterations).await;
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            writeln!(
                report,
                "| {name} | {:.1} | {:.1} | {:.1} |",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().unwrap())
            )
            .unwrap();
            eprintln!("  {name} done");
        }

        let first = (now - chrono::Duration::days(365)).with_timezone(&tz).date_naive();
        let last = now.with_timezone(&tz).date_naive();
        let year = format!("from={first}&to={last}");
        let exports = [
            ("park ledger, hazardous, CSV", format!("parks/{park}/ledger/export.csv?kind=hazardous&{year}")),
            ("park ledger, hazardous, xlsx", format!("parks/{park}/ledger/export.xlsx?kind=hazardous&{year}")),
            ("lots, CSV", format!("lots/export.csv?{year}")),
            ("lots, xlsx", format!("lots/export.xlsx?{year}")),
        ];
        let idle = status_kib(pid, "VmRSS:");
        writeln!(report, "\nExports of a year ({first} to {last}); the server's resident memory was {} MiB before the first\n", idle / 1024).unwrap();
        writeln!(report, "| export | rows | MiB sent | seconds | server's peak resident memory, MiB |").unwrap();
        writeln!(report, "|---|---:|---:|---:|---:|").unwrap();
        for (name, path) in exports {
            let token = login(&client, &base, "office", PASSWORD).await;
            let peak = Arc::new(AtomicU64::new(0));
            let done = Arc::new(AtomicBool::new(false));
            let sampler = {
                let (peak, done) = (peak.clone(), done.clone());
                std::thread::spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(5));
                    }
                })
            };
            let t = Instant::now();
            let r = client
                .get(format!("{base}/api/v1/{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::OK, "{name}");
            let mut bytes = 0u64;
            let mut lines = 0u64;
            let mut body = r.bytes_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.unwrap();
                bytes += chunk.len() as u64;
                lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            }
            let took = t.elapsed();
            done.store(true, Ordering::Relaxed);
            sampler.join().unwrap();
            let rows = if name.ends_with("CSV") {
                lines.saturating_sub(1).to_string()
            } else {
                "(as CSV)".to_owned()
            };
            writeln!(
                report,
                "| {name} | {rows} | {:.1} | {:.1} | {} |",
                bytes as f64 / 1_048_576.0,
                took.as_secs_f64(),
                peak.load(Ordering::Relaxed) / 1024
            )
            .unwrap();
            eprintln!("  {name} done");
        }
        writeln!(
            report,
            "\nthe server's peak resident memory over the whole run (VmHWM): {} MiB",
            status_kib(pid, "VmHWM:") / 1024
        )
        .unwrap();
    });
    drop(server);
    println!("{report}");
}

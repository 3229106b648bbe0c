//! Weighings under load, measured through the HTTP API of the release server.
//!
//! Starts `wastetrack serve` as its own process on a new database, registers a park with 100
//! enterprises, a contract whose threshold is never reached and a zone that never fills, then
//! sends weighings (`POST /api/v1/lots`, each with its own `Idempotency-Key`) from 16 and from 64
//! concurrent clients for `--seconds` each: first with a handful of lots waiting in the pickup
//! group, then again after `--waiting` more lots wait in it. Prints a Markdown table of
//! throughput and latencies, the SQL statements per weighing the server reports in
//! `Server-Timing`, and the server's peak resident memory; on SQLite, the database's bytes per
//! lot once its log is checkpointed into it.
//!
//! Then a mixed load, for `--seconds`: 64 clients of which half weigh (in turn into that group
//! and into a second one, HW49, whose threshold raises a request at every tonne), and an eighth
//! each read the park office's first page of lots, its first page of manifests, an inspector's
//! search of the city's manifests of one code, and one manifest by id; beside them one more
//! client collects every request raised, as the disposer does (schedules it, reads its lots,
//! collects them with their labels scanned and weighed out, which issues manifests). Then 64
//! clients read one manifest each after the other. Prints a table per operation.
//!
//! In the same run it times a raw baseline: the minimal weighing transaction (insert a lot, add
//! it to its group's running total, insert its event) sent straight to the same kind of
//! database without HTTP — one connection on SQLite, which has one writer, and as many
//! connections as clients on PostgreSQL — so that each result is also a ratio to what the
//! machine allows.
//!
//! For each run it also says where the time went (`common::cpu`): the CPU milliseconds per
//! request of the server, of the clients (this process) and of the rest of the machine, how busy
//! the cores were, and the server's busiest threads; on PostgreSQL, what the server's
//! connections were doing, sampled every 10 ms from `pg_stat_activity`. A thread at a whole core
//! while the machine has time to spare, or connections waiting on a lock, is the bottleneck.
//!
//! ```sh
//! cargo bench --bench weighing                                   # SQLite, 10 s per run
//! cargo bench --bench weighing -- --seconds 5 --waiting 2000
//! cargo bench --bench weighing -- --database-url postgres://postgres@127.0.0.1:5432/bench
//! ```
//! A PostgreSQL database given by URL must exist and be empty.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{arg, cpu, free_port, login, percentile, start_server, status_kib, uscc};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "bench admin password 2026";
const PASSWORD: &str = "bench password 2026";
const ENTERPRISES: u32 = 100;
const CATALOG: &str = "code,name_zh,characteristics
900-249-08,废矿物油,T/I
900-041-49,沾染危险废物的包装物,T/In
";
/// The mixed load's second group: HW49 into zone B1, a request raised at every tonne.
const MIX_CODE: &str = "900-041-49";
const MIX_THRESHOLD_GRAMS: i64 = 1_000_000;

struct Target {
    base: String,
    client: reqwest::Client,
    office: String,
    enterprises: Vec<String>,
    zone: String,
    keys: AtomicU64,
    /// The parties of the mixed load: the disposer's dispatcher, the carrier's driver with its
    /// vehicle, an inspector of the park's city, and the HW49 zone.
    dispatcher: String,
    driver: String,
    driver_id: String,
    carrier: String,
    vehicle: String,
    inspector: String,
    zone_b: String,
    /// The manifests issued by the mixed load's collections, read back by it.
    manifests: std::sync::Mutex<Vec<String>>,
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: &Value) -> Value {
    let r = client
        .post(url.clone())
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

async fn register(base: &str) -> Target {
    let client = reqwest::Client::new();
    let admin = login(&client, base, "admin", ADMIN_PASSWORD).await;
    let r = client
        .post(format!("{base}/api/v1/catalog/imports"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(CATALOG)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let at = |path: &str| format!("{base}/api/v1{path}");
    let park = id(post(
        &client,
        at("/parks"),
        &admin,
        // Hazardous waste enters the shared zone under the park's collection permit.
        &json!({"name": "Bench park", "region_code": "440307", "address": "Longgang",
            "collection_permit_number": "440300-HW-2020-001", "permit_valid_from": "2020-01-01",
            "permit_valid_until": "2099-12-31", "permit_scope": ["HW08", "HW49"]}),
    )
    .await);
    // A label's sequence of the day has three digits: 999 hazardous lots per enterprise, code
    // and day. The weighings rotate over enough enterprises for the whole run.
    let mut enterprises = Vec::new();
    for n in 0..ENTERPRISES {
        let body = json!({"park_id": park, "name": format!("Bench enterprise {n}"), "uscc": uscc(10 + n).as_str(),
            "contact_name": "Chen Jie", "contact_phone": "13800138000", "joined_on": "2020-01-01"});
        enterprises.push(id(post(&client, at("/enterprises"), &admin, &body).await));
    }
    let disposer = id(post(&client, at("/disposers"), &admin,
        &json!({"name": "Bench disposer", "uscc": uscc(2).as_str(), "region_code": "440310", "address": "Pingshan"})).await);
    post(&client, at(&format!("/disposers/{disposer}/licences")), &admin,
        &json!({"number": "L-1", "issuing_authority": "GDEE", "valid_from": "2020-01-01", "valid_to": "2099-12-31",
            "annual_capacity_grams": 1_000_000_000_000_000i64, "scope": ["HW08", "HW49"]})).await;
    post(&client, at("/contracts"), &admin,
        &json!({"park_id": park, "disposer_id": disposer, "number": "C-1", "valid_from": "2020-01-01", "valid_to": "2099-12-31",
            "max_storage_days": 365, "pickup_zone_percent": 100,
            "members": enterprises.iter().map(|e| json!({"enterprise_id": e})).collect::<Vec<_>>(),
            "prices": [{"target": "HW08", "fen_per_tonne": 280_000}, {"target": "HW49", "fen_per_tonne": 350_000}],
            "thresholds": [{"target": "HW08", "threshold_grams": 1_000_000_000_000_000i64},
                {"target": "HW49", "threshold_grams": MIX_THRESHOLD_GRAMS}]})).await;
    let warehouse = id(post(
        &client,
        at("/warehouses"),
        &admin,
        &json!({"park_id": park, "name": "No. 1", "address": "C2"}),
    )
    .await);
    let zone = id(post(&client, at(&format!("/warehouses/{warehouse}/zones")), &admin,
        &json!({"name": "A1", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 1_000_000_000_000_000i64})).await);
    let zone_b = id(post(&client, at(&format!("/warehouses/{warehouse}/zones")), &admin,
        &json!({"name": "B1", "kind": "hazardous", "categories": ["HW49"], "capacity_grams": 1_000_000_000_000_000i64})).await);
    let carrier = id(post(&client, at("/carriers"), &admin,
        &json!({"name": "Bench carrier", "uscc": uscc(3).as_str(), "region_code": "440307", "transport_permit_number": "粤交运440300001"})).await);
    let vehicle = id(post(&client, at("/vehicles"), &admin,
        &json!({"operator_id": carrier, "plate": "粤B·12345", "dangerous_goods_permit_number": "440300012345"})).await);
    let bureau = id(post(
        &client,
        at("/bureaus"),
        &admin,
        &json!({"name": "Shenzhen bureau", "jurisdiction": "4403"}),
    )
    .await);
    let mut driver_id = String::new();
    for (org, username, role) in [
        (&park, "office", "park_office"),
        (&disposer, "dispatch", "disposer_dispatcher"),
        (&carrier, "driver", "driver"),
        (&bureau, "inspector", "inspector"),
    ] {
        let user = id(post(&client, at("/users"), &admin,
            &json!({"organization_id": org, "username": username, "display_name": username, "role": role, "password": PASSWORD})).await);
        if role == "driver" {
            driver_id = user;
        }
    }
    let token = |username| login(&client, base, username, PASSWORD);
    let (office, dispatcher, driver, inspector) = (
        token("office").await,
        token("dispatch").await,
        token("driver").await,
        token("inspector").await,
    );
    Target {
        base: base.to_owned(),
        client,
        office,
        enterprises,
        zone,
        keys: AtomicU64::new(0),
        dispatcher,
        driver,
        driver_id,
        carrier,
        vehicle,
        inspector,
        zone_b,
        manifests: std::sync::Mutex::new(Vec::new()),
    }
}

/// One weighing of 10 kg of `code` into `zone`: its latency, status and the statements the
/// server reports.
async fn weigh_into(t: &Target, code: &str, zone: &str) -> (Duration, u16, u64) {
    let key = t.keys.fetch_add(1, Ordering::Relaxed);
    let enterprise = &t.enterprises[key as usize % t.enterprises.len()];
    let body = json!({"enterprise_id": enterprise, "waste_code": code, "physical_form": "liquid",
        "container_type": "drum", "container_count": 1, "container_litres": 200, "zone_id": zone,
        "gross_grams": 30_000, "tare_grams": 20_000, "scale_id": "SCALE-01",
        "captured_at": (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339()});
    let started = Instant::now();
    let r = t
        .client
        .post(format!("{}/api/v1/lots", t.base))
        .bearer_auth(&t.office)
        .header("idempotency-key", format!("bench-{key}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let statements = r
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("desc=\"").nth(1))
        .and_then(|v| v.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let _ = r.bytes().await;
    (started.elapsed(), status.as_u16(), statements)
}

/// One weighing into the group no run fills: its latency and the statements it took.
async fn weigh(t: &Target) -> (Duration, u64) {
    let (elapsed, status, statements) = weigh_into(t, "900-249-08", &t.zone).await;
    assert_eq!(status, 201, "a weighing failed");
    (elapsed, statements)
}

struct Run {
    /// Lots waiting in the group when the run began.
    waiting: u64,
    clients: usize,
    count: usize,
    per_second: f64,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    statements: u64,
    /// Where the CPU went, and on PostgreSQL what the server's connections were doing.
    cpu: cpu::Use,
    waits: Vec<(String, f64)>,
}

/// Runs `work` while measuring the machine's CPU and, on PostgreSQL (`pg`), sampling what the
/// server's connections do.
async fn measured<T>(
    pid: u32,
    pg: Option<&str>,
    work: impl std::future::Future<Output = T>,
) -> (T, cpu::Use, Vec<(String, f64)>) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = pg.map(|url| {
        let (url, stop) = (url.to_owned(), stop.clone());
        std::thread::spawn(move || cpu::sample_waits(&url, &stop))
    });
    let meter = cpu::Meter::start(pid);
    let out = work.await;
    let used = meter.stop();
    stop.store(true, Ordering::Relaxed);
    let waits = sampler.map_or_else(Vec::new, |s| s.join().unwrap());
    (out, used, waits)
}

async fn measured_run(
    t: &Arc<Target>,
    clients: usize,
    seconds: u64,
    pid: u32,
    pg: Option<&str>,
) -> Run {
    let (r, cpu, waits) = measured(pid, pg, run(t, clients, seconds)).await;
    Run { cpu, waits, ..r }
}

async fn run(t: &Arc<Target>, clients: usize, seconds: u64) -> Run {
    let waiting = t.keys.load(Ordering::Relaxed);
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let t = t.clone();
            actix_web::rt::spawn(async move {
                let mut out = Vec::new();
                while Instant::now() < until {
                    out.push(weigh(&t).await);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let statements = all.iter().map(|(_, s)| *s).max().unwrap_or(0);
    let mut latencies: Vec<Duration> = all.into_iter().map(|(d, _)| d).collect();
    latencies.sort();
    Run {
        waiting,
        clients,
        count: latencies.len(),
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p95: percentile(&latencies, 0.95),
        p99: percentile(&latencies, 0.99),
        statements,
        cpu: cpu::Use::default(),
        waits: Vec::new(),
    }
}

/// What a client of the mixed load does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    /// The park office weighs a lot in (with an `Idempotency-Key`), in turn into each group.
    Weighing,
    /// The park office's first page of lots.
    OfficeLots,
    /// The park office's first page of manifests.
    OfficeManifests,
    /// An inspector's search: the city's manifests of one code.
    InspectorSearch,
    /// One manifest read by id.
    OneManifest,
    /// A pickup collected: scheduled, its labels read and scanned, weighed out, manifests issued.
    Collection,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Weighing => "weighing (`POST /lots`, half into the group that raises requests)",
            Op::OfficeLots => "park office: a page of lots",
            Op::OfficeManifests => "park office: a page of manifests",
            Op::InspectorSearch => "inspector: manifests of one code",
            Op::OneManifest => "one manifest (`GET /manifests/{id}`)",
            Op::Collection => "collection (schedule, read, `collect`)",
        }
    }

    /// The mixed load's share of clients: half weigh, an eighth each read lots, manifests,
    /// an inspector's search and one manifest.
    fn of_client(n: usize) -> Op {
        match n % 8 {
            0..=3 => Op::Weighing,
            4 => Op::OfficeLots,
            5 => Op::OfficeManifests,
            6 => Op::InspectorSearch,
            _ => Op::OneManifest,
        }
    }
}

/// Sends a request and reads its body to the end: its latency, status and body (read as JSON
/// only by the callers that need it, as the clients share the server's cores).
async fn send(request: reqwest::RequestBuilder, token: &str) -> (Duration, u16, Vec<u8>) {
    let started = Instant::now();
    let r = request.bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    (started.elapsed(), status, body)
}

async fn get(t: &Target, path: &str, token: &str) -> (Duration, u16, Vec<u8>) {
    send(t.client.get(format!("{}/api/v1{path}", t.base)), token).await
}

async fn post_to(t: &Target, path: &str, token: &str, body: &Value) -> (Duration, u16, Value) {
    let (elapsed, status, body) = send(
        t.client.post(format!("{}/api/v1{path}", t.base)).json(body),
        token,
    )
    .await;
    (elapsed, status, json_of(&body))
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Client operation number `n` of kind `op`: its latency and status.
async fn operate(t: &Target, op: Op, n: u64) -> (Duration, u16) {
    let (elapsed, status) = match op {
        Op::Weighing => {
            let (code, zone) = if n.is_multiple_of(2) {
                ("900-249-08", &t.zone)
            } else {
                (MIX_CODE, &t.zone_b)
            };
            let (elapsed, status, _) = weigh_into(t, code, zone).await;
            (elapsed, status)
        }
        Op::OfficeLots => {
            let (elapsed, status, _) = get(t, "/lots?limit=50", &t.office).await;
            (elapsed, status)
        }
        Op::OfficeManifests => {
            let (elapsed, status, _) = get(t, "/manifests?limit=50", &t.office).await;
            (elapsed, status)
        }
        Op::InspectorSearch => {
            let path = format!("/manifests?limit=50&waste_code={MIX_CODE}");
            let (elapsed, status, _) = get(t, &path, &t.inspector).await;
            (elapsed, status)
        }
        Op::OneManifest => {
            let id = {
                let manifests = t.manifests.lock().unwrap();
                manifests[n as usize % manifests.len()].clone()
            };
            let (elapsed, status, _) = get(t, &format!("/manifests/{id}"), &t.office).await;
            (elapsed, status)
        }
        Op::Collection => unreachable!("the collector collects"),
    };
    (elapsed, status)
}

/// Collects every open request, as the disposer's dispatcher and driver do: schedules it for
/// today, reads the lots waiting in it, and collects them with every label scanned and their
/// weight weighed out; none is begun at or after `until`. Each collection's latency (from
/// scheduling to the manifests issued) and the status of its last step (an answer other than
/// 2xx ends that collection and is counted as an error); the manifests are kept for the readers.
async fn collect_open(t: &Target, until: Instant) -> Vec<(Duration, u16)> {
    let started = Instant::now();
    let (_, status, page) = get(t, "/pickup-requests?open=true&limit=50", &t.dispatcher).await;
    if status != 200 {
        return vec![(started.elapsed(), status)];
    }
    let page = json_of(&page);
    let mut done = Vec::new();
    for request in page["items"].as_array().unwrap() {
        if Instant::now() >= until {
            break;
        }
        let id = request["id"].as_str().unwrap();
        let started = Instant::now();
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let schedule = json!({"scheduled_on": today.to_string(), "carrier_id": t.carrier,
            "vehicle_id": t.vehicle, "driver_id": t.driver_id});
        let (_, status, body) = post_to(
            t,
            &format!("/pickup-requests/{id}/schedule"),
            &t.dispatcher,
            &schedule,
        )
        .await;
        if status != 200 {
            eprintln!("schedule {id}: {status} {body}");
            done.push((started.elapsed(), status));
            continue;
        }
        let (_, status, request) = get(t, &format!("/pickup-requests/{id}"), &t.driver).await;
        if status != 200 {
            done.push((started.elapsed(), status));
            continue;
        }
        let request = json_of(&request);
        let (mut lot_ids, mut labels, mut grams) = (Vec::new(), Vec::new(), 0_i64);
        for lot in request["lots"].as_array().unwrap() {
            if lot["status"] == "stored" {
                lot_ids.push(lot["lot_id"].clone());
                labels.push(lot["label_code"].clone());
                grams += lot["net_grams"].as_i64().unwrap();
            }
        }
        let collect = json!({"lot_ids": lot_ids, "vehicle_id": t.vehicle, "scale_id": "SCALE-02",
            "captured_at": (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339(),
            "gross_grams": 8_000_000 + grams, "tare_grams": 8_000_000, "scanned_labels": labels});
        let (_, status, body) = post_to(
            t,
            &format!("/pickup-requests/{id}/collect"),
            &t.driver,
            &collect,
        )
        .await;
        if status == 201 {
            let mut manifests = t.manifests.lock().unwrap();
            for m in body["manifests"].as_array().unwrap() {
                manifests.push(m["id"].as_str().unwrap().to_owned());
            }
        } else {
            eprintln!("collect {id}: {status} {body}");
        }
        done.push((started.elapsed(), status));
    }
    done
}

/// What one kind of operation did in a run.
struct OpRun {
    op: Op,
    clients: usize,
    count: usize,
    errors: usize,
    per_second: f64,
    p50: Duration,
    p95: Duration,
    p99: Duration,
}

/// Runs `clients` clients, client `n` doing `of_client(n)` over and over, for `seconds` (and,
/// with `collector`, one more client collecting every request the weighings raise); returns
/// what each kind of operation did.
async fn mixed(
    t: &Arc<Target>,
    clients: usize,
    seconds: u64,
    of_client: fn(usize) -> Op,
    collector: bool,
) -> Vec<OpRun> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks: Vec<_> = (0..clients)
        .map(|c| {
            let t = t.clone();
            actix_web::rt::spawn(async move {
                let op = of_client(c);
                let mut out = Vec::new();
                let mut n = 0_u64;
                while Instant::now() < until {
                    out.push((op, operate(&t, op, n).await));
                    n += 1;
                }
                out
            })
        })
        .collect();
    if collector {
        let t = t.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let mut out = Vec::new();
            while Instant::now() < until {
                let done = collect_open(&t, until).await;
                if done.is_empty() {
                    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
                }
                out.extend(done.into_iter().map(|d| (Op::Collection, d)));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut ops: Vec<Op> = all.iter().map(|(op, _)| *op).collect();
    ops.sort();
    ops.dedup();
    ops.into_iter()
        .map(|op| {
            let mut latencies: Vec<Duration> = all
                .iter()
                .filter(|(o, _)| *o == op)
                .map(|(_, (d, _))| *d)
                .collect();
            latencies.sort();
            let errors = all
                .iter()
                .filter(|(o, (_, status))| *o == op && !(200..300).contains(status))
                .count();
            OpRun {
                op,
                clients: if op == Op::Collection {
                    1
                } else {
                    (0..clients).filter(|&c| of_client(c) == op).count()
                },
                count: latencies.len(),
                errors,
                per_second: latencies.len() as f64 / elapsed,
                p50: percentile(&latencies, 0.50),
                p95: percentile(&latencies, 0.95),
                p99: percentile(&latencies, 0.99),
            }
        })
        .collect()
}

/// Weighs into the mixed load's group until its threshold raises a request, and collects it:
/// the first manifests, for the readers.
async fn first_collection(t: &Target) {
    for _ in 0..=MIX_THRESHOLD_GRAMS / 10_000 {
        let (_, status, _) = weigh_into(t, MIX_CODE, &t.zone_b).await;
        assert_eq!(status, 201, "a weighing failed");
    }
    let done = collect_open(t, Instant::now() + Duration::from_secs(60)).await;
    assert!(
        done.iter().any(|(_, status)| *status == 201) && !t.manifests.lock().unwrap().is_empty(),
        "the threshold raised a request and it was collected"
    );
}

/// The tables of the raw baseline, in a database of their own (SQLite) or beside the server's.
const RAW_TABLES: &str = "
    CREATE TABLE raw_lots (id TEXT PRIMARY KEY, enterprise_id TEXT NOT NULL,
        net_grams BIGINT NOT NULL, captured_at TEXT NOT NULL);
    CREATE TABLE raw_waiting (group_key TEXT PRIMARY KEY, grams BIGINT NOT NULL, lots BIGINT NOT NULL);
    CREATE TABLE raw_events (lot_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX raw_events_lot ON raw_events (lot_id);
    INSERT INTO raw_waiting VALUES ('bench', 0, 0);";

/// One minimal weighing transaction on `$conn`, its statements written with `$p1`…`$p4` as the
/// backend's placeholders.
macro_rules! raw_weighing {
    ($conn:expr, $transaction:ident, $n:expr, [$p1:literal, $p2:literal, $p3:literal, $p4:literal]) => {{
        let id = format!("raw-{}", $n);
        $conn
            .$transaction(|c| {
                diesel::sql_query(concat!(
                    "INSERT INTO raw_lots (id, enterprise_id, net_grams, captured_at) VALUES (",
                    $p1,
                    ", ",
                    $p2,
                    ", ",
                    $p3,
                    ", ",
                    $p4,
                    ")"
                ))
                .bind::<Text, _>(&id)
                .bind::<Text, _>("enterprise")
                .bind::<BigInt, _>(10_000_i64)
                .bind::<Text, _>("2026-11-30T08:00:00Z")
                .execute(c)?;
                diesel::sql_query(concat!(
                    "UPDATE raw_waiting SET grams = grams + ",
                    $p1,
                    ", lots = lots + 1 WHERE group_key = ",
                    $p2
                ))
                .bind::<BigInt, _>(10_000_i64)
                .bind::<Text, _>("bench")
                .execute(c)?;
                diesel::sql_query(concat!(
                    "INSERT INTO raw_events (lot_id, kind, body) VALUES (",
                    $p1,
                    ", 'weighed_in', ",
                    $p2,
                    ")"
                ))
                .bind::<Text, _>(&id)
                .bind::<Text, _>(r#"{"net_grams":10000,"zone":"A1","by":"office"}"#)
                .execute(c)
            })
            .unwrap();
    }};
}

/// The raw baseline: minimal weighing transactions per second for `seconds`.
fn raw_baseline(url: &str, dir: &std::path::Path, clients: usize, seconds: u64) -> f64 {
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let done = AtomicU64::new(0);
    if url.starts_with("postgres") {
        let mut setup = diesel::PgConnection::establish(url).unwrap();
        setup.batch_execute(RAW_TABLES).unwrap();
        std::thread::scope(|scope| {
            for client in 0..clients {
                let done = &done;
                scope.spawn(move || {
                    let mut conn = diesel::PgConnection::establish(url).unwrap();
                    let mut n = 0_u64;
                    while Instant::now() < until {
                        raw_weighing!(
                            conn,
                            transaction,
                            format!("{client}-{n}"),
                            ["$1", "$2", "$3", "$4"]
                        );
                        n += 1;
                    }
                    done.fetch_add(n, Ordering::Relaxed);
                });
            }
        });
    } else {
        // The server's settings: WAL, synchronous NORMAL; one writer.
        let mut conn =
            diesel::SqliteConnection::establish(dir.join("raw.db").to_str().unwrap()).unwrap();
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .unwrap();
        conn.batch_execute(RAW_TABLES).unwrap();
        let mut n = 0_u64;
        while Instant::now() < until {
            raw_weighing!(conn, immediate_transaction, n, ["?", "?", "?", "?"]);
            n += 1;
        }
        done.store(n, Ordering::Relaxed);
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// On PostgreSQL, the server's connections' mean count in each state, as a list item's
/// continuation; nothing on SQLite.
fn describe_waits(waits: &[(String, f64)]) -> String {
    if waits.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = waits
        .iter()
        .filter(|(_, n)| *n >= 0.05)
        .map(|(what, n)| format!("{n:.1} {what}"))
        .collect();
    format!(
        "  - the server's PostgreSQL connections, on average: {}\n",
        parts.join("; ")
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let seconds: u64 = arg("--seconds").map_or(10, |s| s.parse().unwrap());
    let waiting: usize = arg("--waiting").map_or(10_000, |s| s.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (url, backend) = common::database(dir.path());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let rt = actix_web::rt::System::new();
    let server = rt.block_on(start_server(
        &url,
        port,
        &[
            ("WASTETRACK_SERVER_TIMING", "true"),
            ("WASTETRACK_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ],
    ));
    let pid = server.0.id();
    let report = rt.block_on(async {
        let t = Arc::new(register(&base).await);
        let idle_kib = status_kib(pid, "VmRSS:");
        // Warm up, then measure with few lots waiting.
        run(&t, 4, 1).await;
        let pg = url.starts_with("postgres").then_some(url.as_str());
        let mut runs = vec![
            measured_run(&t, 16, seconds, pid, pg).await,
            measured_run(&t, 64, seconds, pid, pg).await,
        ];
        eprintln!("loading {waiting} more waiting lots …");
        let before = t.keys.load(Ordering::Relaxed) as usize;
        while (t.keys.load(Ordering::Relaxed) as usize) < before + waiting {
            run(&t, 16, 1).await;
        }
        runs.push(measured_run(&t, 64, seconds, pid, pg).await);
        // The mixed load, then one manifest read by 64 clients.
        first_collection(&t).await;
        let (mix, mix_cpu, mix_waits) =
            measured(pid, pg, mixed(&t, 64, seconds, Op::of_client, true)).await;
        let (one_manifest, one_cpu, one_waits) =
            measured(pid, pg, mixed(&t, 64, seconds, |_| Op::OneManifest, false)).await;
        let peak_kib = status_kib(pid, "VmHWM:");
        // The server idles meanwhile; the baseline has the machine to itself.
        let raw_clients = if backend == "SQLite" { 1 } else { 64 };
        let raw = raw_baseline(&url, dir.path(), raw_clients, seconds);
        let mut report = format!(
            "weighings on {backend}, {seconds} s per run (`cargo bench --bench weighing`)\n\n\
             | lots waiting in the group at the start | clients | weighings | req/s | p50 ms | p95 ms | p99 ms | statements | ÷ raw |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        );
        for r in &runs {
            report.push_str(&format!(
                "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {:.2} |\n",
                r.waiting, r.clients, r.count, r.per_second, ms(r.p50), ms(r.p95), ms(r.p99), r.statements,
                r.per_second / raw
            ));
        }
        report.push_str("\nwhere the time went\n\n");
        for r in &runs {
            report.push_str(&format!(
                "- {} clients, {} lots waiting: {}\n",
                r.clients,
                r.waiting,
                r.cpu.describe(r.count)
            ));
            report.push_str(&describe_waits(&r.waits));
        }
        let requests = |ops: &[OpRun]| ops.iter().map(|o| o.count).sum::<usize>();
        report.push_str(&format!("- the mix: {}\n", mix_cpu.describe(requests(&mix))));
        report.push_str(&describe_waits(&mix_waits));
        report.push_str(&format!(
            "- one manifest: {}\n",
            one_cpu.describe(requests(&one_manifest))
        ));
        report.push_str(&describe_waits(&one_waits));
        report.push_str(&format!(
            "\nthe mixed load on {backend}: 64 clients and a collector for {seconds} s, then 64 clients reading one manifest ({} manifests by then)\n\n\
             | operation | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
            t.manifests.lock().unwrap().len()
        ));
        for r in mix.iter().chain(&one_manifest) {
            report.push_str(&format!(
                "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |\n",
                r.op.name(), r.clients, r.count, r.per_second, ms(r.p50), ms(r.p95), ms(r.p99), r.errors
            ));
        }
        report.push_str(&format!(
            "\nraw baseline: {raw:.0} minimal weighing transactions per second ({raw_clients} connection{}, no HTTP)\n",
            if raw_clients == 1 { "" } else { "s" }
        ));
        report.push_str(&format!(
            "\nserver resident memory: {:.0} MiB idle after registration, {:.0} MiB at its peak\n",
            idle_kib as f64 / 1024.0,
            peak_kib as f64 / 1024.0
        ));
        if let Some(path) = url.strip_prefix("sqlite://") {
            // The log copied into the database and emptied, so that the size is the data's.
            diesel::SqliteConnection::establish(path)
                .unwrap()
                .batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
            let size = |p: String| std::fs::metadata(p).map_or(0, |m| m.len());
            let bytes = size(path.to_owned()) + size(format!("{path}-wal"));
            let lots = t.keys.load(Ordering::Relaxed).max(1);
            report.push_str(&format!(
                "database file: {:.1} MiB for {lots} lots, {:.0} bytes per lot (with their events, stock movements and idempotency keys)\n",
                bytes as f64 / 1_048_576.0,
                bytes as f64 / lots as f64
            ));
        }
        report
    });
    drop(server);
    println!("{report}");
}

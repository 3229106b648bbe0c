//! Lists of lots at millions of rows, measured through the HTTP API.
//!
//! Loads a park with 23 enterprises, a contract and three zones, inserts `--rows` lots spread
//! over two years (most collected, some stored, a few voided), starts the real server on that
//! database, and times each list query a park office or an enterprise sends. Prints a Markdown
//! table of latencies.
//!
//! ```sh
//! cargo bench --bench lots                                  # SQLite, 2 000 000 lots
//! cargo bench --bench lots -- --rows 500000
//! cargo bench --bench lots -- --database-url postgres://postgres@127.0.0.1:5432/bench
//! ```
//! A PostgreSQL database given by URL must exist and be empty.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{NaiveDate, Utc};
use common::{arg, percentile, uscc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use secrecy::SecretString;
use serde_json::{Value, json};
use wastetrack::config::Settings;
use wastetrack::db::{DbConn, write_transaction};
use wastetrack::domain::identity::{NewPassword, Role, Username};
use wastetrack::domain::lot::LotStatus;
use wastetrack::domain::region::RegionCode;
use wastetrack::domain::waste::{CatalogRef, Category, WasteKind};
use wastetrack::identity::service::{NewUser, create_user};
use wastetrack::lots::store::LotRow;
use wastetrack::registry::contracts::service::{
    self as contracts, NewContract, NewMember, NewPrice,
};
use wastetrack::registry::directory::service::{self as directory, NewLicence, NewParty};
use wastetrack::registry::parks::service::{self as parks, NewEnterprise, NewPark};
use wastetrack::registry::parks::store as park_store;
use wastetrack::registry::warehouses::service::{self as warehouses, NewZone};
use wastetrack::registry::warehouses::store as warehouse_store;

const PASSWORD: &str = "bench password 2026";
const CATALOG: &str = "code,name_zh,characteristics
900-249-08,废矿物油,T/I
900-041-49,沾染危险废物的包装物,T/In
S59,其他工业固体废物,
900-003-S59,废金属边角料,
";
const CODES: [(&str, &str, &str); 3] = [
    ("900-249-08", "HW08", "hazardous"),
    ("900-041-49", "HW49", "hazardous"),
    ("900-003-S59", "S59", "general"),
];
const ITERATIONS: usize = 40;

struct World {
    park: String,
    enterprises: Vec<String>,
    contract: String,
    warehouse: String,
    zones: Vec<String>,
}

fn build_world(conn: &mut DbConn, by: &str) -> World {
    let now = wastetrack::clock::Clock::system().now();
    write_transaction(conn, |conn| {
        wastetrack::registry::catalog::service::import(
            conn,
            now,
            by,
            CATALOG.as_bytes(),
            None,
            false,
        )?;
        let park = parks::create_park(
            conn,
            now,
            by,
            NewPark {
                name: "Bench park".into(),
                region_code: RegionCode::parse("r", "440307").unwrap(),
                address: "Longgang".into(),
                time_zone: chrono_tz::Asia::Shanghai,
                uscc: None,
                permit: Default::default(),
                collection_permit_number: None,
                require_official_number: false,
                label_scan_general: true,
            },
        )?;
        let park_row = park_store::find_park(conn, &park.id)?.unwrap();
        let mut enterprises = Vec::new();
        for n in 1..=23 {
            let e = parks::create_enterprise(
                conn,
                now,
                by,
                &park_row,
                NewEnterprise {
                    name: format!("Enterprise {n}"),
                    uscc: uscc(n),
                    contact_name: "Chen".into(),
                    contact_phone: "13800138000".into(),
                    joined_on: Some(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
                },
            )?;
            enterprises.push(e.id);
        }
        let disposer = directory::create_disposer(
            conn,
            now,
            by,
            NewParty {
                name: "Disposer".into(),
                uscc: uscc(900),
                region_code: RegionCode::parse("r", "440310").unwrap(),
            },
            "Pingshan".into(),
        )?;
        directory::add_licence(
            conn,
            now,
            by,
            &disposer.id,
            NewLicence {
                number: "L".into(),
                issuing_authority: "GDEE".into(),
                valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                valid_to: NaiveDate::from_ymd_opt(2035, 1, 1).unwrap(),
                annual_capacity_grams: 1_000_000_000_000,
                scope: vec![
                    CatalogRef::parse("s", "HW08").unwrap(),
                    CatalogRef::parse("s", "HW49").unwrap(),
                ],
            },
        )?;
        let price = |t: &str| NewPrice {
            target: CatalogRef::parse("t", t).unwrap(),
            fen_per_tonne: 300_000,
            effective_from: None,
        };
        let contract = contracts::create(
            conn,
            now,
            by,
            &park_row,
            NewContract {
                number: "BENCH-1".into(),
                disposer_id: disposer.id,
                valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                valid_to: NaiveDate::from_ymd_opt(2035, 1, 1).unwrap(),
                max_storage_days: 365,
                pickup_zone_percent: 80,
                members: enterprises
                    .iter()
                    .map(|e| NewMember {
                        enterprise_id: e.clone(),
                        joined_on: None,
                    })
                    .collect(),
                prices: vec![price("HW08"), price("HW49"), price("900-003-S59")],
                thresholds: vec![],
            },
        )?;
        let w = warehouses::create_warehouse(
            conn,
            now,
            by,
            &park.id,
            park.region_code.clone(),
            "No. 1".into(),
            "C2".into(),
        )?;
        let warehouse = warehouse_store::find_warehouse(conn, &w.id)?.unwrap();
        let mut zones = Vec::new();
        for (name, category, kind) in [
            ("A1", "HW08", WasteKind::Hazardous),
            ("A2", "HW49", WasteKind::Hazardous),
            ("G1", "S59", WasteKind::General),
        ] {
            let z = warehouses::add_zone(
                conn,
                now,
                by,
                &warehouse,
                NewZone {
                    name: name.into(),
                    kind,
                    categories: vec![Category::parse("c", category).unwrap()],
                    capacity_grams: i64::MAX / 4,
                    enterprise_id: None,
                },
            )?;
            zones.push(z.id);
        }
        Ok::<_, wastetrack::error::ApiError>(World {
            park: park.id,
            enterprises,
            contract: contract.summary.id,
            warehouse: w.id,
            zones,
        })
    })
    .expect("the bench world")
}

/// Inserts `rows` lots over the last two years; returns the id of the one in the middle.
fn insert_lots(conn: &mut DbConn, world: &World, by: &str, rows: usize) -> String {
    let now = Utc::now();
    let span = Duration::from_secs(730 * 86_400);
    let start = now - span;
    let step = span.as_nanos() / rows as u128;
    let mut middle = String::new();
    let batch = 1_000;
    let mut i = 0;
    while i < rows {
        let chunk: Vec<LotRow> = (i..(i + batch).min(rows))
            .map(|n| {
                let at = start + chrono::Duration::nanoseconds((step * n as u128) as i64);
                let ts = uuid::Timestamp::from_unix(
                    uuid::NoContext,
                    at.timestamp() as u64,
                    at.timestamp_subsec_nanos(),
                );
                let id = format!("lot_{}", uuid::Uuid::new_v7(ts).simple());
                if n == rows / 2 {
                    middle = id.clone();
                }
                let (code, category, kind) = CODES[n % 3];
                let age_days = (now - at).num_days();
                let status = if n % 50 == 7 {
                    LotStatus::Voided
                } else if age_days > 60 {
                    LotStatus::Collected
                } else {
                    LotStatus::Stored
                };
                LotRow {
                    id: id.into(),
                    park_id: world.park.clone(),
                    enterprise_id: world.enterprises[n % world.enterprises.len()].clone(),
                    contract_id: world.contract.clone(),
                    route: "warehouse".into(),
                    status,
                    waste_code: code.into(),
                    kind: kind.into(),
                    category: category.into(),
                    physical_form: "solid".into(),
                    container_type: "drum".into(),
                    container_count: 1,
                    container_litres: Some(200),
                    warehouse_id: Some(world.warehouse.clone()),
                    zone_id: Some(world.zones[n % 3].clone()),
                    gross_grams: Some(120_000),
                    tare_grams: Some(20_000),
                    net_grams: 100_000,
                    weight_source: "scale".into(),
                    scale_id: Some("SCALE-01".into()),
                    captured_at: at.naive_utc(),
                    received_at: at.naive_utc(),
                    recorded_by: by.into(),
                    produced_on: at.date_naive(),
                    main_components: None,
                    note: None,
                    label_code: None,
                    voided_at: None,
                    void_reason: None,
                    created_at: at.naive_utc(),
                    updated_at: at.naive_utc(),
                    pickup_request_id: None,
                }
            })
            .collect();
        // Batch inserts are backend-specific SQL: run them on the concrete connection.
        write_transaction(conn, |conn| {
            let insert = diesel::insert_into(wastetrack::db::schema::lots::table).values(&chunk);
            match conn {
                DbConn::Pg(c) => insert.execute(c),
                DbConn::Sqlite(c) => insert.execute(c),
            }
        })
        .expect("insert lots");
        i += batch;
        if i % 200_000 == 0 {
            eprintln!("  {i} lots");
        }
    }
    conn.batch_execute("ANALYZE").expect("analyze");
    middle
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let rows: usize = arg("--rows")
        .map(|r| r.parse().expect("--rows N"))
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().expect("temporary folder");
    let (url, backend) = common::database(dir.path());
    let common::Prepared {
        db,
        now,
        rt,
        admin_id,
    } = common::prepare(&url, 4, PASSWORD);
    let world = build_world(&mut db.get().unwrap(), &admin_id);
    rt.block_on(async {
        for (username, role, org) in [
            ("office", Role::ParkOffice, world.park.clone()),
            (
                "producer",
                Role::EnterpriseUser,
                world.enterprises[6].clone(),
            ),
        ] {
            create_user(
                &db,
                now,
                NewUser {
                    organization_id: org,
                    username: Username::parse("u", username).unwrap(),
                    display_name: username.into(),
                    role,
                    password: NewPassword::parse("p", PASSWORD).unwrap(),
                    qualification: None,
                },
            )
            .await
            .expect("user");
        }
    });

    eprintln!("inserting {rows} lots into {backend} …");
    let started = Instant::now();
    let middle = insert_lots(&mut db.get().unwrap(), &world, &admin_id, rows);
    let load = started.elapsed();
    drop(db);

    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        database_url: url.clone(),
        workers: 1,
        log_filter: "warn".into(),
        ..Settings::default()
    };
    settings.auth.jwt_secret = Some(SecretString::from(
        "a bench signing secret of 32 bytes or more",
    ));
    rt.block_on(async move {
        let app = wastetrack::startup::Application::build(settings).await.expect("server");
        let base = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let login = |user: &'static str| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let tokens: Value = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"username": user, "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                tokens["access_token"].as_str().unwrap().to_owned()
            }
        };
        let office = login("office").await;
        let producer = login("producer").await;
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&middle);
        let day = (Utc::now() - chrono::Duration::days(365)).with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        let queries: Vec<(&str, String, &String)> = vec![
            ("first page", "limit=50".into(), &office),
            ("page in the middle (cursor)", format!("limit=50&cursor={cursor}"), &office),
            ("status=stored", "status=stored&limit=50".into(), &office),
            ("status=voided", "status=voided&limit=50".into(), &office),
            ("zone + status=stored", format!("zone_id={}&status=stored&limit=50", world.zones[1]), &office),
            ("waste_code", "waste_code=900-041-49&limit=50".into(), &office),
            ("enterprise_id", format!("enterprise_id={}&limit=50", world.enterprises[3]), &office),
            ("enterprise_id + status=stored", format!("enterprise_id={}&status=stored&limit=50", world.enterprises[3]), &office),
            ("waste_code + status=stored", "waste_code=900-041-49&status=stored&limit=50".into(), &office),
            ("one day of reception, a year ago", format!("received_from={day}&received_to={day}&limit=50"), &office),
            ("enterprise's own lots", "limit=50".into(), &producer),
            ("enterprise's own, stored", "status=stored&limit=50".into(), &producer),
        ];
        println!("\n{rows} lots on {backend}; loaded in {:.1} s; {ITERATIONS} requests per query, pages of 50\n", load.as_secs_f64());
        println!("| query | items | p50 ms | p95 ms | max ms |");
        println!("|---|---:|---:|---:|---:|");
        for (name, query, token) in queries {
            let url = format!("{base}/api/v1/lots?{query}");
            let mut times = Vec::with_capacity(ITERATIONS);
            let mut items = 0;
            for _ in 0..ITERATIONS + 3 {
                let t = Instant::now();
                let r = client.get(&url).bearer_auth(token).send().await.unwrap();
                assert_eq!(r.status(), reqwest::StatusCode::OK, "{name}");
                let body: Value = r.json().await.unwrap();
                times.push(t.elapsed());
                items = body["items"].as_array().map_or(0, Vec::len);
            }
            let mut times: Vec<Duration> = times.split_off(3);
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "| {name} | {items} | {:.1} | {:.1} | {:.1} |",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().unwrap())
            );
        }
        if let Some(rss) = peak_rss_mib() {
            println!("\npeak resident memory of the benchmark process (loader and server): {rss:.0} MiB");
        }
    });
}

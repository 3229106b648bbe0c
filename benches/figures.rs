//! The dashboard's figures and the year's exports at a million lots, measured through the HTTP
//! API of the release binary.
//!
//! Loads a park with 23 enterprises, a contract with thresholds, a warehouse of three zones and
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

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use common::{arg, free_port, percentile, start_server, status_kib, uscc};
use diesel::connection::SimpleConnection;
use futures_util::StreamExt;
use serde_json::{Value, json};
use wastetrack::db::{Db, DbConn, write_transaction};
use wastetrack::domain::identity::{NewPassword, Role, Username};
use wastetrack::domain::region::RegionCode;
use wastetrack::domain::waste::{CatalogRef, Category, WasteKind};
use wastetrack::identity::service::{NewUser, create_user};
use wastetrack::registry::contracts::service::{
    self as contracts, NewContract, NewMember, NewPrice, NewThreshold,
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
const DAYS: i64 = 730;
const BATCH: usize = 1_000;

struct World {
    park: String,
    enterprises: Vec<String>,
    disposer: String,
    licence: String,
    contract: String,
    warehouse: String,
    zones: Vec<String>,
    vehicle: String,
}

fn build_world(conn: &mut DbConn, by: &str, now: DateTime<Utc>) -> World {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
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
                collection_permit_number: Some("440300-HW-2020-001".into()),
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
                    joined_on: Some(day(2020, 1, 1)),
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
        let licence = directory::add_licence(
            conn,
            now,
            by,
            &disposer.id,
            NewLicence {
                number: "L".into(),
                issuing_authority: "GDEE".into(),
                valid_from: day(2020, 1, 1),
                valid_to: day(2035, 1, 1),
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
        let threshold = |t: &str| NewThreshold {
            target: CatalogRef::parse("t", t).unwrap(),
            threshold_grams: 2_000_000_000,
            effective_from: None,
        };
        let contract = contracts::create(
            conn,
            now,
            by,
            &park_row,
            NewContract {
                number: "BENCH-1".into(),
                disposer_id: disposer.id.clone(),
                valid_from: day(2020, 1, 1),
                valid_to: day(2035, 1, 1),
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
                thresholds: vec![threshold("HW08"), threshold("HW49"), threshold("S59")],
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
                    capacity_grams: 5_000_000_000_000,
                    enterprise_id: None,
                },
            )?;
            zones.push(z.id);
        }
        let vehicle = directory::add_vehicle(
            conn,
            now,
            by,
            &disposer.id,
            "粤B12345".into(),
            ("440300012345".into(), None),
        )?;
        Ok::<_, wastetrack::error::ApiError>(World {
            park: park.id,
            enterprises,
            disposer: disposer.id,
            licence: licence.id,
            contract: contract.summary.id,
            warehouse: w.id,
            zones,
            vehicle: vehicle.id,
        })
    })
    .expect("the bench world")
}

/// A timestamp as both backends take it (and as diesel writes it to SQLite).
fn ts(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%F %T%.f"))
}

fn id(prefix: &str, at: NaiveDateTime, n: u64) -> String {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.and_utc().timestamp() as u64,
        at.and_utc().timestamp_subsec_nanos(),
    );
    let mut bytes = *uuid::Uuid::new_v7(ts).as_bytes();
    bytes[8..16].copy_from_slice(&n.to_be_bytes());
    format!("{prefix}_{}", uuid::Uuid::from_bytes(bytes).simple())
}

fn insert(conn: &mut DbConn, table: &str, columns: &str, rows: &[String]) {
    for chunk in rows.chunks(BATCH) {
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", chunk.join(","));
        conn.batch_execute(&sql).expect(table);
    }
}

/// One pickup of one category on one day: its request, collection, manifest and number.
struct Pickup {
    request: String,
    collected_at: NaiveDateTime,
    number: String,
}

/// Loads the lots, their movements, the pickups and manifests; returns how many of each.
fn load(
    conn: &mut DbConn,
    world: &World,
    user: &str,
    driver: &str,
    lots: u64,
    now: DateTime<Utc>,
) -> (u64, u64, u64) {
    let start = (now - chrono::Duration::days(DAYS))
        .naive_utc()
        .with_nanosecond(0)
        .unwrap();
    let step_us = (DAYS as u128 * 86_400_000_000) / u128::from(lots);
    let collected_before = (now - chrono::Duration::days(60)).naive_utc();
    let day_of = |t: NaiveDateTime| (t - start).num_days();

    // One pickup per category and day of the lots collected: raised the next morning, collected
    // 6 to 54 hours later; its manifest taken over an hour after collection and received 2 to
    // 30 hours after that.
    let days_collected = day_of(collected_before) + 1;
    let mut pickups: Vec<Vec<Pickup>> = Vec::new();
    let (mut requests, mut collections, mut manifests, mut signatures) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (c, (code, category, kind)) in CODES.iter().enumerate() {
        let mut of_category = Vec::new();
        for d in 0..days_collected {
            let n = (d as u64) * 3 + c as u64;
            let raised = start + chrono::Duration::days(d + 1) + chrono::Duration::hours(1);
            let collected = raised + chrono::Duration::hours(6 + (n % 49) as i64);
            let taken = collected + chrono::Duration::hours(1);
            let received = taken + chrono::Duration::hours(2 + (n % 29) as i64);
            let request = id("pkr", raised, n);
            let collection = id("col", collected, n);
            let manifest = id("man", collected, n);
            let number = if *kind == "hazardous" {
                format!("{}4403{:06}", collected.format("%Y"), n)
            } else {
                format!("G{}4403{:06}", collected.format("%Y"), n)
            };
            requests.push(format!(
                "({r}, {p}, {k}, {dsp}, 'warehouse', {w}, '{category}', 'collected', 'weight', 'bench', NULL, '{day}', {dsp}, {v}, {drv}, {u}, {raised}, {raised}, {collected}, {u}, {collected})",
                r = q(&request), p = q(&world.park), k = q(&world.contract), dsp = q(&world.disposer),
                w = q(&world.warehouse), day = collected.date(), v = q(&world.vehicle), drv = q(driver), u = q(user),
                raised = ts(raised), collected = ts(collected),
            ));
            collections.push(format!(
                "({col}, {r}, {p}, {dsp}, {v}, {drv}, 'SCALE-02', NULL, NULL, 1000000, {at}, {drv}, {at})",
                col = q(&collection), r = q(&request), p = q(&world.park), dsp = q(&world.disposer),
                v = q(&world.vehicle), drv = q(driver), at = ts(collected),
            ));
            manifests.push(format!(
                "({m}, '{number}', '{kind}', {col}, {p}, '440307', 'completed', 'park_warehouse', {p}, {dsp}, {v}, {drv}, {dsp}, {lic}, '{code}', '{category}', 'solid', 'drum', 'see the label', 1000000, 1000000, 1000000, 0, 'accepted', 'D10', NULL, 1, {at}, {at})",
                m = q(&manifest), col = q(&collection), p = q(&world.park), dsp = q(&world.disposer),
                v = q(&world.vehicle), drv = q(driver),
                lic = if *kind == "hazardous" { q(&world.licence) } else { "NULL".into() },
                at = ts(collected),
            ));
            for (s, (step, by, org, role, at)) in [
                ("confirm", user, &world.park, "park_office", collected),
                ("take_over", driver, &world.disposer, "driver", taken),
                (
                    "receive",
                    user,
                    &world.disposer,
                    "disposer_dispatcher",
                    received,
                ),
                (
                    "complete",
                    user,
                    &world.disposer,
                    "disposer_dispatcher",
                    received,
                ),
            ]
            .into_iter()
            .enumerate()
            {
                signatures.push(format!(
                    "({}, {}, '{step}', {}, {}, '{role}', {}, NULL)",
                    q(&id("sig", at, n * 4 + s as u64)),
                    q(&manifest),
                    q(by),
                    q(org),
                    ts(at)
                ));
            }
            of_category.push(Pickup {
                request,
                collected_at: collected,
                number,
            });
        }
        pickups.push(of_category);
    }
    write_transaction(conn, |conn| {
        insert(conn, "pickup_requests", "id, park_id, contract_id, disposer_id, route, warehouse_id, category, status, trigger_kind, trigger_detail, open_key, scheduled_on, carrier_id, vehicle_id, driver_id, created_by, created_at, updated_at, closed_at, closed_by, scheduled_at", &requests);
        insert(conn, "collections", "id, request_id, park_id, carrier_id, vehicle_id, driver_id, scale_id, gross_grams, tare_grams, net_grams, captured_at, recorded_by, created_at", &collections);
        insert(conn, "manifests", "id, number, kind, collection_id, park_id, region_code, status, consignor_type, consignor_id, carrier_id, vehicle_id, driver_id, receiver_id, licence_id, waste_code, category, physical_form, packaging, emergency_measures, inbound_grams, outbound_grams, received_grams, refused_grams, decision, treatment, receipt_due_on, version, created_at, updated_at", &manifests);
        insert(conn, "manifest_signatures", "id, manifest_id, step, user_id, organization_id, role, at, data", &signatures);
        Ok::<_, diesel::result::Error>(())
    })
    .expect("pickups");
    let pickup_count = requests.len() as u64;

    let mut movements_count = 0u64;
    let mut n = 0u64;
    while n < lots {
        let end = (n + BATCH as u64).min(lots);
        let (mut lot_rows, mut movement_rows) = (Vec::new(), Vec::new());
        for i in n..end {
            let at = start + chrono::Duration::microseconds((step_us * u128::from(i)) as i64);
            let lot = id("lot", at, i);
            let c = (i % 3) as usize;
            let (code, category, kind) = CODES[c];
            let enterprise = &world.enterprises[(i % 23) as usize];
            let zone = &world.zones[c];
            let grams = 50_000 + (i % 200) as i64 * 1_000;
            let voided = i % 50 == 7;
            let pickup =
                (!voided && at < collected_before).then(|| &pickups[c][day_of(at) as usize]);
            let status = if voided {
                "voided"
            } else if pickup.is_some() {
                "collected"
            } else {
                "stored"
            };
            lot_rows.push(format!(
                "({l}, {p}, {e}, {k}, 'warehouse', '{status}', '{code}', '{kind}', '{category}', 'solid', 'drum', 1, 200, {w}, {z}, {gross}, 20000, {grams}, 'scale', 'SCALE-01', {at}, {at}, {u}, '{day}', {voided_at}, {void_reason}, {at}, {at}, {request})",
                l = q(&lot), p = q(&world.park), e = q(enterprise), k = q(&world.contract), w = q(&world.warehouse),
                z = q(zone), gross = grams + 20_000, u = q(user), day = at.date(), at = ts(at),
                voided_at = if voided { ts(at + chrono::Duration::hours(1)) } else { "NULL".into() },
                void_reason = if voided { "'entered twice'" } else { "NULL" },
                request = pickup.map_or("NULL".into(), |p| q(&p.request)),
            ));
            let mut movement = |m: &str, g: i64, l: i32, when: NaiveDateTime, doc: Option<&str>| {
                movement_rows.push(format!(
                    "({}, {}, {}, {}, {}, {}, {}, '{code}', '{kind}', '{category}', '{m}', {g}, {l}, {}, {}, {}, {}, {}, {})",
                    q(&id("mov", when, i * 2 + u64::from(m != "in"))),
                    q(&world.park), q(&world.warehouse), q(zone), q(enterprise), q(&world.contract), q(&lot),
                    ts(when), ts(when),
                    doc.map_or("NULL".into(), q),
                    if doc.is_some() { q(&world.disposer) } else { "NULL".into() },
                    if doc.is_some() { "'Disposer'".to_owned() } else { "NULL".into() },
                    q(user),
                ));
            };
            movement("in", grams, 1, at, None);
            if voided {
                movement("void", -grams, -1, at + chrono::Duration::hours(1), None);
            } else if let Some(p) = pickup {
                movement("out", -grams, -1, p.collected_at, Some(&p.number));
            }
        }
        movements_count += movement_rows.len() as u64;
        write_transaction(conn, |conn| {
            insert(conn, "lots", "id, park_id, enterprise_id, contract_id, route, status, waste_code, kind, category, physical_form, container_type, container_count, container_litres, warehouse_id, zone_id, gross_grams, tare_grams, net_grams, weight_source, scale_id, captured_at, received_at, recorded_by, produced_on, voided_at, void_reason, created_at, updated_at, pickup_request_id", &lot_rows);
            insert(conn, "stock_movements", "id, park_id, warehouse_id, zone_id, enterprise_id, contract_id, lot_id, waste_code, kind, category, movement, grams, lots, at, recorded_at, document_number, receiver_id, receiver_name, by_user", &movement_rows);
            Ok::<_, diesel::result::Error>(())
        })
        .expect("lots");
        n = end;
        if n.is_multiple_of(100_000) {
            eprintln!("  {n} lots");
        }
    }
    // The stock of what is still stored, as lots::stock keeps it.
    let updated = ts(now.naive_utc());
    conn.batch_execute(&format!(
        "INSERT INTO inventory (zone_id, contract_id, waste_code, grams, lots, updated_at) \
         SELECT zone_id, contract_id, waste_code, SUM(net_grams), COUNT(*), {updated} FROM lots \
         WHERE status = 'stored' GROUP BY zone_id, contract_id, waste_code; \
         UPDATE zones SET stored_grams = (SELECT COALESCE(SUM(grams), 0) FROM inventory WHERE inventory.zone_id = zones.id);"
    ))
    .expect("inventory");
    let pg = matches!(conn, DbConn::Pg(_));
    // Loading a thousand lots per statement rewrites each day's totals (`lot_volumes`) many
    // times in one transaction, leaving PostgreSQL a table of dead row versions a weighing
    // never would (one lot per transaction, whose old version is pruned in its page): compact
    // it as the steady state would have it.
    if pg {
        // VACUUM runs outside a transaction: one statement per call.
        conn.batch_execute("VACUUM FULL lot_volumes")
            .expect("compact");
    }
    conn.batch_execute(if pg { "VACUUM ANALYZE" } else { "ANALYZE" })
        .expect("analyze");
    (pickup_count, pickup_count, movements_count)
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn main() {
    let iterations: usize = arg("--iterations")
        .map(|r| r.parse().expect("--iterations N"))
        .unwrap_or(40);
    let lots: u64 = arg("--lots")
        .map(|r| r.parse().expect("--lots N"))
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temporary folder");
    let (url, backend) = common::database(dir.path());
    let db = Db::connect(&url, 2).expect("database");
    let now = wastetrack::clock::Clock::system().now();
    wastetrack::startup::prepare_database(&db, now, Some(PASSWORD)).expect("migrations");
    let rt = actix_web::rt::System::new();
    let admin_id = {
        let mut conn = db.get().unwrap();
        wastetrack::identity::store::find_user_by_username(&mut conn, "admin")
            .unwrap()
            .unwrap()
            .id
    };
    let world = build_world(&mut db.get().unwrap(), &admin_id, now);
    let driver_id = rt.block_on(async {
        for (username, role, org) in [
            ("office", Role::ParkOffice, world.park.clone()),
            ("dispatch", Role::DisposerDispatcher, world.disposer.clone()),
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
        create_user(
            &db,
            now,
            NewUser {
                organization_id: world.disposer.clone(),
                username: Username::parse("u", "driver").unwrap(),
                display_name: "driver".into(),
                role: Role::Driver,
                password: NewPassword::parse("p", PASSWORD).unwrap(),
                qualification: None,
            },
        )
        .await
        .expect("driver")
        .id
    });

    eprintln!("loading {lots} lots into {backend} …");
    let started = Instant::now();
    let (requests, _, movements) = load(
        &mut db.get().unwrap(),
        &world,
        &admin_id,
        &driver_id,
        lots,
        now,
    );
    let load_time = started.elapsed();
    drop(db);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = rt.block_on(start_server(&url, port, &[("WASTETRACK_WORKERS", "1")]));
    let pid = server.0.id();
    let mut report = String::new();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let login = || {
            let client = client.clone();
            let base = base.clone();
            async move {
                let tokens: Value = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"username": "office", "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                tokens["access_token"].as_str().unwrap().to_owned()
            }
        };
        let office = login().await;
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
            let mut times = Vec::with_capacity(iterations);
            for _ in 0..iterations + 3 {
                let t = Instant::now();
                let r = client.get(&url).bearer_auth(&office).send().await.unwrap();
                assert_eq!(r.status(), reqwest::StatusCode::OK, "{name}");
                let _: Value = r.json().await.unwrap();
                times.push(t.elapsed());
            }
            let mut times = times.split_off(3);
            times.sort();
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
            let token = login().await;
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

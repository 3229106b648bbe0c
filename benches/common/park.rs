//! A park with two years of history, loaded straight into the database for the benchmarks that
//! read it back through the API: 23 enterprises in one contract, a disposer with its licence and
//! vehicle, a warehouse of three zones, a bureau over the park's city, the lots and their stock
//! movements, and the pickups (request, collection, manifest signed through completion) that
//! collected them. Rows go in as multi-row inserts of [`BATCH`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::connection::SimpleConnection;
use wastetrack::db::{Db, DbConn, write_transaction};
use wastetrack::domain::identity::{NewPassword, Role, Username};
use wastetrack::domain::region::{Jurisdiction, RegionCode};
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

use super::uscc;

pub const PASSWORD: &str = "bench password 2026";
const CATALOG: &str = "code,name_zh,characteristics
900-249-08,废矿物油,T/I
900-041-49,沾染危险废物的包装物,T/In
S59,其他工业固体废物,
900-003-S59,废金属边角料,
";
pub const CODES: [(&str, &str, &str); 3] = [
    ("900-249-08", "HW08", "hazardous"),
    ("900-041-49", "HW49", "hazardous"),
    ("900-003-S59", "S59", "general"),
];
pub const DAYS: i64 = 730;
pub const BATCH: usize = 1_000;

pub struct World {
    pub park: String,
    pub enterprises: Vec<String>,
    pub disposer: String,
    pub licence: String,
    pub contract: String,
    pub warehouse: String,
    pub zones: Vec<String>,
    pub vehicle: String,
    /// An environment bureau whose jurisdiction (4403) holds the park.
    pub bureau: String,
}

pub fn build_world(conn: &mut DbConn, by: &str, now: DateTime<Utc>) -> World {
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
        let bureau = directory::create_bureau(
            conn,
            now,
            by,
            "Shenzhen bureau".into(),
            Jurisdiction::parse("j", "4403").unwrap(),
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
            bureau: bureau.id,
        })
    })
    .expect("the bench world")
}

/// A timestamp as both backends take it (and as diesel writes it to SQLite).
pub fn ts(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%F %T%.f"))
}

pub fn id(prefix: &str, at: NaiveDateTime, n: u64) -> String {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.and_utc().timestamp() as u64,
        at.and_utc().timestamp_subsec_nanos(),
    );
    let mut bytes = *uuid::Uuid::new_v7(ts).as_bytes();
    bytes[8..16].copy_from_slice(&n.to_be_bytes());
    format!("{prefix}_{}", uuid::Uuid::from_bytes(bytes).simple())
}

pub fn insert(conn: &mut DbConn, table: &str, columns: &str, rows: &[String]) {
    for chunk in rows.chunks(BATCH) {
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", chunk.join(","));
        conn.batch_execute(&sql).expect(table);
    }
}

/// One pickup of one category on one day: its request, collection, manifest and number.
pub struct Pickup {
    pub request: String,
    pub manifest: String,
    pub collected_at: NaiveDateTime,
    pub number: String,
}

/// What [`load`] wrote besides the lots.
pub struct Loaded {
    /// The pickups of each category (in `CODES` order), `per_day` a day.
    pub pickups: Vec<Vec<Pickup>>,
    pub movements: u64,
}

impl Loaded {
    pub fn pickup_count(&self) -> u64 {
        self.pickups.iter().map(|p| p.len() as u64).sum()
    }
}

/// Loads `lots` lots spread over the last two years, their movements, and `per_day` pickups
/// (request, collection, manifest signed through completion) a day for each category, which
/// collect the lots older than 60 days (the request's and the manifest's lots recorded).
pub fn load(
    conn: &mut DbConn,
    world: &World,
    user: &str,
    driver: &str,
    lots: u64,
    per_day: u64,
    now: DateTime<Utc>,
) -> Loaded {
    let start = (now - chrono::Duration::days(DAYS))
        .naive_utc()
        .with_nanosecond(0)
        .unwrap();
    let step_us = (DAYS as u128 * 86_400_000_000) / u128::from(lots);
    let collected_before = (now - chrono::Duration::days(60)).naive_utc();
    let day_of = |t: NaiveDateTime| (t - start).num_days();

    // `per_day` pickups per category and day of the lots collected: raised the next morning,
    // collected 6 to 54 hours later; the manifest taken over an hour after collection and
    // received 2 to 30 hours after that.
    let days_collected = day_of(collected_before) + 1;
    let mut pickups: Vec<Vec<Pickup>> = Vec::new();
    let (mut requests, mut collections, mut manifests, mut signatures) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (c, (code, category, kind)) in CODES.iter().enumerate() {
        let mut of_category = Vec::new();
        for slot in 0..(days_collected as u64 * per_day) {
            let d = (slot / per_day) as i64;
            let n = slot * 3 + c as u64;
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
                manifest,
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

    let mut movements_count = 0u64;
    let mut n = 0u64;
    while n < lots {
        let end = (n + BATCH as u64).min(lots);
        let (mut lot_rows, mut movement_rows, mut request_lots, mut manifest_lots) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in n..end {
            let at = start + chrono::Duration::microseconds((step_us * u128::from(i)) as i64);
            let lot = id("lot", at, i);
            let c = (i % 3) as usize;
            let (code, category, kind) = CODES[c];
            let enterprise = &world.enterprises[(i % 23) as usize];
            let zone = &world.zones[c];
            let grams = 50_000 + (i % 200) as i64 * 1_000;
            let voided = i % 50 == 7;
            let pickup = (!voided && at < collected_before)
                .then(|| &pickups[c][(day_of(at) as u64 * per_day + (i / 3) % per_day) as usize]);
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
                request_lots.push(format!(
                    "({}, {}, {}, {})",
                    q(&p.request),
                    q(&lot),
                    q(enterprise),
                    ts(at)
                ));
                manifest_lots.push(format!(
                    "({}, {}, {}, {grams})",
                    q(&p.manifest),
                    q(&lot),
                    q(enterprise)
                ));
            }
        }
        movements_count += movement_rows.len() as u64;
        write_transaction(conn, |conn| {
            insert(conn, "lots", "id, park_id, enterprise_id, contract_id, route, status, waste_code, kind, category, physical_form, container_type, container_count, container_litres, warehouse_id, zone_id, gross_grams, tare_grams, net_grams, weight_source, scale_id, captured_at, received_at, recorded_by, produced_on, voided_at, void_reason, created_at, updated_at, pickup_request_id", &lot_rows);
            insert(conn, "stock_movements", "id, park_id, warehouse_id, zone_id, enterprise_id, contract_id, lot_id, waste_code, kind, category, movement, grams, lots, at, recorded_at, document_number, receiver_id, receiver_name, by_user", &movement_rows);
            insert(conn, "pickup_request_lots", "request_id, lot_id, enterprise_id, added_at", &request_lots);
            insert(conn, "manifest_lots", "manifest_id, lot_id, enterprise_id, inbound_grams", &manifest_lots);
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
    Loaded {
        pickups,
        movements: movements_count,
    }
}

pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
/// Signs up the people the benchmarks sign in as, all with [`PASSWORD`]: `office` (the park
/// office), `dispatch` and `driver` (the disposer), `enterprise` (the first enterprise) and
/// `inspector` (the bureau). Returns the driver's user id.
pub fn create_users(
    db: &Db,
    rt: &actix_web::rt::SystemRunner,
    now: DateTime<Utc>,
    world: &World,
) -> String {
    rt.block_on(async {
        let mut driver = String::new();
        for (username, role, org) in [
            ("office", Role::ParkOffice, &world.park),
            ("dispatch", Role::DisposerDispatcher, &world.disposer),
            ("driver", Role::Driver, &world.disposer),
            ("enterprise", Role::EnterpriseUser, &world.enterprises[0]),
            ("inspector", Role::Inspector, &world.bureau),
        ] {
            let user = create_user(
                db,
                now,
                NewUser {
                    organization_id: org.clone(),
                    username: Username::parse("u", username).unwrap(),
                    display_name: username.into(),
                    role,
                    password: NewPassword::parse("p", PASSWORD).unwrap(),
                    qualification: None,
                },
            )
            .await
            .expect(username);
            if role == Role::Driver {
                driver = user.id;
            }
        }
        driver
    })
}

/// The database at `url` migrated, the park built and its people signed up; the driver's id.
pub fn set_up(url: &str) -> (super::Prepared, World, String) {
    let prepared = super::prepare(url, 2, PASSWORD);
    let world = build_world(
        &mut prepared.db.get().unwrap(),
        &prepared.admin_id,
        prepared.now,
    );
    let driver_id = create_users(&prepared.db, &prepared.rt, prepared.now, &world);
    (prepared, world, driver_id)
}

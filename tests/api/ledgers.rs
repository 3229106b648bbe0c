//! Ledgers (台账) through the API: totals against the lots, the month-to-month chain across a
//! month's and a year's end in Shanghai time, the warehouse's closing stock against its
//! inventory, business dates around midnight in the park's time zone, the CSV and xlsx exports
//! read back, access by role, and a property test over random sequences of weighings,
//! corrections, voids, collections and days passing.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, Duration, NaiveDate};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, access_token, assert_problem, error_fields, time_travel};
use crate::pickups::{PASSWORD, Park, park, post, requests, weighing};

/// Weighs `grams` for enterprise A captured at `captured_at` (RFC 3339); returns the lot.
async fn weigh_at(app: &TestApp, p: &Park, grams: i64, captured_at: &str) -> Value {
    let mut body = weighing(p, &p.enterprise_a, 1);
    body["gross_grams"] = json!(grams + 20_000);
    body["tare_grams"] = json!(20_000);
    body["captured_at"] = json!(captured_at);
    let r = post(app, "/api/v1/lots", &p.office, &body).await;
    let status = r.status();
    let lot: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{lot}");
    lot
}

/// Weighs `grams` captured five minutes before the clock's instant.
async fn weigh_g(app: &TestApp, p: &Park, grams: i64) -> Value {
    let at = (app.now() - Duration::minutes(5)).to_rfc3339();
    weigh_at(app, p, grams, &at).await
}

async fn correct(app: &TestApp, p: &Park, lot: &str, grams: i64) -> StatusCode {
    let body =
        json!({"gross_grams": grams + 20_000, "tare_grams": 20_000, "reason": "weighed again"});
    post(
        app,
        &format!("/api/v1/lots/{lot}/corrections"),
        &p.office,
        &body,
    )
    .await
    .status()
}

async fn void(app: &TestApp, p: &Park, lot: &str) -> StatusCode {
    post(
        app,
        &format!("/api/v1/lots/{lot}/void"),
        &p.office,
        &json!({"reason": "entered twice"}),
    )
    .await
    .status()
}

/// Schedules (for today) and collects every open request at the clock's instant; returns the
/// number of collections.
async fn collect_open(app: &TestApp, p: &Park) -> usize {
    let mut collected = 0;
    for request in requests(app, &p.dispatcher, "?open=true").await {
        let id = request["id"].as_str().unwrap();
        let body = json!({"scheduled_on": app.today().to_string(), "carrier_id": p.carrier,
            "vehicle_id": p.vehicle, "driver_id": p.driver_id});
        let r = post(
            app,
            &format!("/api/v1/pickup-requests/{id}/schedule"),
            &p.dispatcher,
            &body,
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "schedule at {}", app.now());
        let scans = crate::manifests::scans(app, &p.office, id).await;
        let body = json!({"vehicle_id": p.vehicle, "scale_id": "SCALE-02", "captured_at": app.now_rfc3339(),
            "gross_grams": 20_000_000, "tare_grams": 8_000_000, "scanned_labels": scans});
        let r = post(
            app,
            &format!("/api/v1/pickup-requests/{id}/collect"),
            &p.driver,
            &body,
        )
        .await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "collect at {}: {text}",
            app.now()
        );
        collected += 1;
    }
    collected
}

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, token).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

async fn ledger(app: &TestApp, token: &str, holder: &str, query: &str) -> Value {
    get_ok(
        app,
        &format!("/api/v1/{holder}/ledger?kind=hazardous&{query}"),
        token,
    )
    .await
}

fn g(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

/// Every line of a ledger, following the cursor.
async fn lines(app: &TestApp, token: &str, holder: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/{holder}/ledger/lines?kind=hazardous&{query}&limit=3");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get_ok(app, &path, token).await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// All lots of the park office, of a status.
async fn lots(app: &TestApp, p: &Park, query: &str) -> Vec<Value> {
    let page = get_ok(app, &format!("/api/v1/lots?limit=200&{query}"), &p.office).await;
    assert!(page["next_cursor"].is_null(), "more than one page");
    page["items"].as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn one(lot: &Value) -> Vec<String> {
    vec![lot["id"].as_str().unwrap().to_owned()]
}

fn net_sum(items: &[Value]) -> i64 {
    items.iter().map(|l| l["net_grams"].as_i64().unwrap()).sum()
}

/// The months from `first` to `last`, as `YYYY-MM`.
fn months(first: NaiveDate, last: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (first.year(), first.month());
    while (y, m) <= (last.year(), last.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The chain and the inventory: each month's closing is the next one's opening, each month's
/// closing is its opening plus its movements (and the sum of its lines), the closing of today
/// is the warehouse's inventory now and the stored lots' weight.
async fn check_invariants(app: &TestApp, p: &Park, first: NaiveDate) {
    let wh = format!("warehouses/{}", p.warehouse);
    let mut previous: Option<Value> = None;
    for month in months(first, app.today()) {
        let l = ledger(app, &p.office, &wh, &format!("month={month}")).await;
        let t = &l["totals"];
        assert_eq!(
            g(t, "closing_grams"),
            g(t, "opening_grams") + g(t, "in_grams") + g(t, "corrections_grams")
                - g(t, "out_grams")
                - g(t, "voids_grams"),
            "{month}: {t}"
        );
        let moved: i64 = lines(app, &p.office, &wh, &format!("month={month}"))
            .await
            .iter()
            .map(|m| g(m, "grams"))
            .sum();
        assert_eq!(
            moved,
            g(t, "closing_grams") - g(t, "opening_grams"),
            "{month}"
        );
        if let Some(prev) = &previous {
            assert_eq!(
                g(&prev["totals"], "closing_grams"),
                g(t, "opening_grams"),
                "into {month}"
            );
            assert_eq!(
                g(&prev["totals"], "closing_lots"),
                g(t, "opening_lots"),
                "into {month}"
            );
            for line in prev["lines"].as_array().unwrap() {
                let next = l["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|n| n["waste_code"] == line["waste_code"]);
                let opening = next.map_or(0, |n| g(n, "opening_grams"));
                assert_eq!(
                    g(line, "closing_grams"),
                    opening,
                    "{} into {month}",
                    line["waste_code"]
                );
            }
        }
        previous = Some(l);
    }
    let today = app.today();
    let l = ledger(app, &p.office, &wh, &format!("from={today}&to={today}")).await;
    let inventory = get_ok(
        app,
        &format!("/api/v1/warehouses/{}/inventory", p.warehouse),
        &p.office,
    )
    .await;
    let stored: i64 = inventory["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| g(z, "stored_grams"))
        .sum();
    let stored_lots: i64 = inventory["zones"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|z| z["lines"].as_array().unwrap().iter().map(|l| g(l, "lots")))
        .sum();
    assert_eq!(g(&l["totals"], "closing_grams"), stored, "at {}", app.now());
    assert_eq!(
        g(&l["totals"], "closing_lots"),
        stored_lots,
        "at {}",
        app.now()
    );
    let stored_lots = lots(app, p, "status=stored").await;
    assert_eq!(g(&l["totals"], "closing_grams"), net_sum(&stored_lots));
    assert_eq!(g(&l["totals"], "closing_lots"), stored_lots.len() as i64);
    // The park's ledger sums its warehouses (one here); the enterprise's its lots (all of A).
    let park_l = ledger(
        app,
        &p.office,
        &format!("parks/{}", p.park),
        &format!("from={today}&to={today}"),
    )
    .await;
    assert_eq!(park_l["totals"], l["totals"]);
    let ent_l = ledger(
        app,
        &p.office,
        &format!("enterprises/{}", p.enterprise_a),
        &format!("from={today}&to={today}"),
    )
    .await;
    assert_eq!(ent_l["totals"], l["totals"]);
}

backend_tests! {
    async fn months_chain_across_a_month_and_a_year_end_and_totals_equal_the_lots(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2026-11-28T10:00:00+08:00");
        let p = park(&app, 500, 80).await;

        // 23:59 on 30 November in Shanghai, weighed in after midnight: November's.
        app.stand_at("2026-12-01T00:05:00+08:00");
        let nov = weigh_at(&app, &p, 100_000, "2026-11-30T23:59:00+08:00").await;
        let dec1 = weigh_g(&app, &p, 200_000).await; // 00:00 on 1 December
        assert_eq!(correct(&app, &p, nov["id"].as_str().unwrap(), 120_000).await, StatusCode::OK);
        app.stand_at("2026-12-31T23:50:00+08:00");
        let dec31 = weigh_g(&app, &p, 150_000).await;
        assert_eq!(void(&app, &p, dec1["id"].as_str().unwrap()).await, StatusCode::OK);
        // Just after midnight of the new year: a weighing crosses the threshold, all is collected.
        app.stand_at("2027-01-01T00:10:00+08:00");
        let jan = weigh_g(&app, &p, 600_000).await;
        assert!(jan["pickup_request_id"].is_string());
        assert_eq!(collect_open(&app, &p).await, 1);

        let wh = format!("warehouses/{}", p.warehouse);
        let november = ledger(&app, &p.office, &wh, "month=2026-11").await;
        let december = ledger(&app, &p.office, &wh, "month=2026-12").await;
        let january = ledger(&app, &p.office, &wh, "month=2027-01").await;
        let totals = |l: &Value| -> [i64; 11] {
            let t = &l["totals"];
            ["opening_grams", "opening_lots", "in_grams", "in_lots", "out_grams", "out_lots", "corrections_grams",
             "voids_grams", "voids_lots", "closing_grams", "closing_lots"].map(|f| g(t, f))
        };
        assert_eq!(totals(&november), [0, 0, 100_000, 1, 0, 0, 0, 0, 0, 100_000, 1]);
        assert_eq!(totals(&december), [100_000, 1, 350_000, 2, 0, 0, 20_000, 200_000, 1, 270_000, 2]);
        assert_eq!(totals(&january), [270_000, 2, 600_000, 1, 870_000, 3, 0, 0, 0, 0, 0]);
        assert_eq!(december["start"], "2026-11-30T16:00:00Z");
        assert_eq!(december["end"], "2026-12-31T16:00:00Z");
        assert_eq!(december["time_zone"], "Asia/Shanghai");
        assert_eq!(january["lines"][0]["waste_code"], "900-249-08");
        assert_eq!(january["lines"][0]["category"], "HW08");

        // Over the whole range: what came in and was corrected is every lot's weight; what left
        // is the voided and the collected lots'.
        let all = ledger(&app, &p.office, &wh, "from=2026-11-28&to=2027-01-01").await;
        let every = lots(&app, &p, "").await;
        assert_eq!(g(&all["totals"], "in_grams") + g(&all["totals"], "corrections_grams"), net_sum(&every));
        assert_eq!(g(&all["totals"], "voids_grams"), net_sum(&lots(&app, &p, "status=voided").await));
        assert_eq!(g(&all["totals"], "out_grams"), net_sum(&lots(&app, &p, "status=collected").await));
        assert_eq!(g(&all["totals"], "in_lots"), every.len() as i64);

        // January's lines: the weighing in, then the three lots out, with the manifest number and
        // the receiver, each traceable to its lot.
        let jan_lines = lines(&app, &p.office, &wh, "month=2027-01").await;
        assert_eq!(jan_lines.len(), 4);
        assert_eq!(jan_lines[0]["movement"], "in");
        assert_eq!(jan_lines[0]["lot_id"], jan["id"]);
        assert_eq!(jan_lines[0]["business_date"], "2027-01-01");
        let out: Vec<&Value> = jan_lines.iter().filter(|l| l["movement"] == "out").collect();
        assert_eq!(out.len(), 3);
        let mut out_lots: Vec<String> = out.iter().map(|l| l["lot_id"].as_str().unwrap().to_owned()).collect();
        out_lots.sort();
        assert_eq!(out_lots, ids(&[nov.clone(), dec31.clone(), jan.clone()]));
        for l in &out {
            assert!(l["document_number"].as_str().unwrap().starts_with("WT-"), "{l}");
            assert_eq!(l["receiver_id"], p.disposer.as_str());
            assert_eq!(l["receiver_name"], "Dongjiang");
            assert_eq!(l["lots"], -1);
        }
        let dec_lines = lines(&app, &p.office, &wh, "month=2026-12").await;
        let kinds: Vec<&str> = dec_lines.iter().map(|l| l["movement"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["in", "correction", "in", "void"]);
        assert_eq!(dec_lines[1]["grams"], 20_000);
        assert_eq!(dec_lines[3]["grams"], -200_000);
        assert_eq!(dec_lines[3]["lot_id"], dec1["id"]);

        // The park's and the enterprise's ledgers agree; general waste has its own (empty) one.
        let park_l = ledger(&app, &p.office, &format!("parks/{}", p.park), "month=2026-12").await;
        assert_eq!(park_l["totals"], december["totals"]);
        let ent_b = ledger(&app, &p.office, &format!("enterprises/{}", p.enterprise_b), "month=2026-12").await;
        assert_eq!(g(&ent_b["totals"], "closing_grams"), 0);
        assert!(ent_b["lines"].as_array().unwrap().is_empty());
        let general = get_ok(&app, &format!("/api/v1/{wh}/ledger?kind=general&month=2026-12"), &p.office).await;
        assert!(general["lines"].as_array().unwrap().is_empty());

        check_invariants(&app, &p, NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()).await;
    }

    async fn business_dates_are_capture_dates_in_the_park_zone(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2026-10-20T10:00:00+08:00");
        let p = park(&app, 5_000, 80).await;
        // Synced in November: weighed one minute before and at midnight of 1 November in Shanghai.
        app.stand_at("2026-11-02T10:00:00+08:00");
        let october = weigh_at(&app, &p, 10_000, "2026-10-31T23:59:00+08:00").await;
        let november = weigh_at(&app, &p, 20_000, "2026-11-01T00:00:00+08:00").await;
        assert_eq!(ids(&lots(&app, &p, "from=2026-10-01&to=2026-10-31").await), one(&october));
        assert_eq!(ids(&lots(&app, &p, "from=2026-10-31&to=2026-10-31").await), one(&october));
        assert_eq!(ids(&lots(&app, &p, "from=2026-11-01&to=2026-11-30").await), one(&november));
        assert_eq!(ids(&lots(&app, &p, "to=2026-10-31").await), one(&october));
        // Instants as they are (`to` exclusive).
        assert_eq!(
            ids(&lots(&app, &p, "from=2026-10-31T15:59:00Z&to=2026-10-31T16:00:00Z").await),
            one(&october)
        );
        // The reception time stays visible for audit, and filterable.
        assert_eq!(ids(&lots(&app, &p, "received_from=2026-11-02").await), ids(&[october.clone(), november.clone()]));
        assert!(lots(&app, &p, "received_to=2026-11-01").await.is_empty());
        assert!(lots(&app, &p, "received_from=2026-11-03").await.is_empty());
        let problem = assert_problem(app.get("/api/v1/lots?received_from=", &p.office).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["received_from"]);
        let problem = assert_problem(app.get("/api/v1/lots?from=31.10.2026", &p.office).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["from"]);

        // The ledgers date them the same way.
        let wh = format!("warehouses/{}", p.warehouse);
        let oct = ledger(&app, &p.office, &wh, "month=2026-10").await;
        assert_eq!((g(&oct["totals"], "in_grams"), g(&oct["totals"], "closing_grams")), (10_000, 10_000));
        let nov = ledger(&app, &p.office, &wh, "month=2026-11").await;
        assert_eq!((g(&nov["totals"], "opening_grams"), g(&nov["totals"], "in_grams")), (10_000, 20_000));
        let oct_lines = lines(&app, &p.office, &wh, "month=2026-10").await;
        assert_eq!(oct_lines.len(), 1);
        assert_eq!(oct_lines[0]["lot_id"], october["id"]);
        assert_eq!(oct_lines[0]["business_date"], "2026-10-31");
        assert_eq!(oct_lines[0]["at"], "2026-10-31T15:59:00Z");
        assert_eq!(oct_lines[0]["recorded_at"], "2026-11-02T02:00:00Z");
        let day = ledger(&app, &p.office, &wh, "from=2026-11-01&to=2026-11-01").await;
        assert_eq!((g(&day["totals"], "opening_grams"), g(&day["totals"], "in_grams")), (10_000, 20_000));

        // Bad periods, each named; a month before the park existed is refused as for statements.
        for (query, field, code) in [
            ("month=2026-09", "month", "before_park"),
            ("month=2026-13", "month", "invalid"),
            ("from=2026-11-01", "to", "required"),
            ("to=2026-11-01", "from", "required"),
            ("from=2026-11-02&to=2026-11-01", "to", "before_from"),
            ("from=2026-11-01&to=2027-11-05", "to", "range_too_long"),
            ("from=2026-11-xx&to=2026-11-01", "from", "invalid"),
            ("month=2026-11&from=2026-11-01&to=2026-11-02", "month", "exclusive"),
            ("", "month", "required"),
        ] {
            let r = app.get(&format!("/api/v1/{wh}/ledger?kind=hazardous&{query}"), &p.office).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), [field], "{query}");
            assert_eq!(problem["errors"][0]["code"], code, "{query}");
        }
        for (query, code) in [("month=2026-11", "required"), ("kind=all&month=2026-11", "invalid")] {
            let r = app.get(&format!("/api/v1/{wh}/ledger?{query}"), &p.office).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), ["kind"], "{query}");
            assert_eq!(problem["errors"][0]["code"], code);
        }
    }

    async fn exports_read_back(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2026-11-28T10:00:00+08:00");
        let p = park(&app, 500, 80).await;
        app.stand_at("2026-11-29T10:00:00+08:00");
        let mut body = weighing(&p, &p.enterprise_a, 1);
        body["gross_grams"] = json!(143_456);
        body["tare_grams"] = json!(20_000);
        body["scale_id"] = json!("=HYPERLINK(1)");
        let r = post(&app, "/api/v1/lots", &p.office, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let small: Value = r.json().await.unwrap();
        weigh_g(&app, &p, 600_000).await;
        assert_eq!(collect_open(&app, &p).await, 1);
        let wh = format!("warehouses/{}", p.warehouse);

        // The ledger as CSV: a byte-order mark, Chinese headers with the unit, summary rows, then
        // one row per movement with the lot, the manifest and the receiver.
        let r = app.get(&format!("/api/v1/{wh}/ledger/export.csv?kind=hazardous&month=2026-11"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("ledger-warehouse-hazardous-2026-11-01-2026-11-30.csv"));
        let text = r.text().await.unwrap();
        assert!(text.starts_with('\u{feff}'));
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(headers[6], "重量（千克，保留3位小数）");
        assert_eq!(headers[11], "联单/转移记录编号");
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        let summary: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "汇总").collect();
        assert_eq!(summary.len(), 6);
        let item = |label: &str, what: &str| rows.iter().find(|r| r[0] == label && r[5] == what).unwrap().clone();
        assert_eq!(item("汇总", "入库")[6], "723.456");
        assert_eq!(item("汇总", "入库")[7], "2");
        assert_eq!(item("合计", "出库")[6], "723.456");
        assert_eq!(item("合计", "期末库存")[6], "0.000");
        let detail: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "明细").collect();
        assert_eq!(detail.len(), 4);
        let small_in = detail.iter().find(|r| r[8] == small["id"].as_str().unwrap() && r[5] == "入库").unwrap();
        assert_eq!(small_in[6], "123.456");
        assert_eq!(small_in[1], "2026-11-29");
        let small_out = detail.iter().find(|r| r[8] == small["id"].as_str().unwrap() && r[5] == "出库").unwrap();
        assert_eq!(small_out[6], "-123.456");
        assert!(small_out[11].starts_with("WT-"), "{small_out:?}");
        assert_eq!(small_out[12], "Dongjiang");
        // People read names, not ids: the enterprise, the warehouse, who recorded it.
        assert_eq!((small_in[9].as_str(), small_in[10].as_str(), small_in[13].as_str()), ("Huaxin Electronics", "No. 1", "office"));

        // The same as xlsx.
        let r = app.get(&format!("/api/v1/{wh}/ledger/export.xlsx?kind=hazardous&month=2026-11"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.get((0, 6)), Some(&Data::String("重量（千克，保留3位小数）".to_owned())));
        assert_eq!(sheet.height(), 1 + rows.len());
        let found = sheet.rows().any(|row| {
            row[0] == Data::String("明细".to_owned())
                && row[8] == Data::String(small["id"].as_str().unwrap().to_owned())
                && matches!(row[6], Data::Float(f) if (f - 123.456).abs() < 1e-9)
        });
        assert!(found, "the lot's line in the workbook");

        // The lot list, with the same filters as GET /lots; text a spreadsheet would run is text.
        let r = app.get("/api/v1/lots/export.csv?from=2026-11-29&to=2026-11-29", &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(headers[0], "批次编号");
        assert_eq!(headers[16], "净重（千克，保留3位小数）");
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        assert_eq!(rows.len(), 2);
        let row = rows.iter().find(|r| r[0] == small["id"].as_str().unwrap()).unwrap();
        assert_eq!((row[16].as_str(), row[18].as_str(), row[19].as_str()), ("123.456", "'=HYPERLINK(1)", "2026-11-29"));
        assert_eq!(&row[1..4], ["Longgang park", "Huaxin Electronics", "C-1"]);
        assert_eq!(&row[12..14], ["No. 1", "A1"]);
        let r = app.get("/api/v1/lots/export.csv?from=2026-11-30", &p.office).await;
        let text = r.text().await.unwrap();
        assert_eq!(text.trim_start_matches('\u{feff}').lines().count(), 1, "the header only");
        let r = app.get("/api/v1/lots/export.xlsx?status=collected", &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.height(), 3);
        let problem = assert_problem(app.get("/api/v1/lots/export.csv?status=lost", &p.office).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["status"]);
        // The enterprise exports its own lots; another its none.
        let text = app.get("/api/v1/lots/export.csv", &p.producer_b).await.text().await.unwrap();
        assert_eq!(text.trim_start_matches('\u{feff}').lines().count(), 1);

        // The manifest list.
        let r = app.get("/api/v1/manifests/export.csv", &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!((&headers[0], &headers[1]), ("跟踪编号", "联单编号（全国系统）"));
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], small_out[11]);
        assert_eq!(rows[0][1], "", "no official number recorded yet");
        assert_eq!(&rows[0][2..4], ["危险废物", "待移出人确认"], "kind and state in Chinese words");
        assert_eq!(rows[0][13], "723.456");
        // The park consigns under its collection permit.
        assert_eq!(&rows[0][4..9], ["Longgang park", "Longgang park", "Lvyun Transport", "粤B12345", "Dongjiang"]);
        let r = app.get("/api/v1/manifests/export.xlsx", &p.dispatcher).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        assert_eq!(book.worksheet_range_at(0).unwrap().unwrap().height(), 2);
    }

    async fn ledgers_are_read_by_the_park_office_the_enterprise_and_the_inspectors(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        weigh_g(&app, &p, 100_000).await;
        let bureau = app.create_bureau(&p.admin, "Shenzhen bureau", "4403").await;
        app.create_user(&p.admin, &bureau, "inspector03", "inspector", PASSWORD).await;
        let other_bureau = app.create_bureau(&p.admin, "Guangzhou bureau", "4401").await;
        app.create_user(&p.admin, &other_bureau, "inspector01", "inspector", PASSWORD).await;
        let other_park = app.create_park(&p.admin, "Panyu park", "440113").await;
        app.create_user(&p.admin, &other_park, "office_b", "park_office", PASSWORD).await;
        let token = |name: &'static str| { let app = &app; async move { access_token(&app.login(name, PASSWORD).await) } };
        let inspector = token("inspector03").await;
        let far_inspector = token("inspector01").await;
        let other_office = token("office_b").await;
        let month = app.today().format("%Y-%m").to_string();
        let holders = [
            format!("parks/{}", p.park),
            format!("warehouses/{}", p.warehouse),
            format!("enterprises/{}", p.enterprise_a),
        ];
        // Per holder: park office, inspector of the region, enterprise A, enterprise B,
        // dispatcher, driver, inspector elsewhere, another park's office.
        let expect: [[u16; 8]; 3] = [
            [200, 200, 404, 404, 404, 404, 404, 404],
            [200, 200, 404, 404, 404, 404, 404, 404],
            [200, 200, 200, 404, 404, 404, 404, 404],
        ];
        let tokens = [&p.office, &inspector, &p.producer_a, &p.producer_b, &p.dispatcher, &p.driver, &far_inspector, &other_office];
        for (holder, row) in holders.iter().zip(expect) {
            for suffix in ["", "/lines", "/export.csv", "/export.xlsx"] {
                for (who, (token, want)) in tokens.iter().zip(row).enumerate() {
                    let path = format!("/api/v1/{holder}/ledger{suffix}?kind=hazardous&month={month}");
                    let r = app.get(&path, token).await;
                    assert_eq!(r.status().as_u16(), want, "{path} as #{who}");
                    if want == 404 {
                        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
                    }
                }
            }
        }
        // An id that names nothing answers as another tenant's does.
        let r = app.get(&format!("/api/v1/warehouses/wh_nothing/ledger?kind=hazardous&month={month}"), &p.office).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        // What the inspector reads is what the office reads.
        let a = ledger(&app, &p.office, &holders[0], &format!("month={month}")).await;
        let b = ledger(&app, &inspector, &holders[0], &format!("month={month}")).await;
        assert_eq!(a, b);
        assert_eq!(g(&a["totals"], "closing_grams"), 100_000);
    }

    async fn the_migration_rebuilds_the_movements_the_service_writes(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2026-11-28T10:00:00+08:00");
        let p = park(&app, 500, 80).await;
        app.stand_at("2026-11-29T10:00:00+08:00");
        let a = weigh_g(&app, &p, 100_000).await;
        let b = weigh_g(&app, &p, 200_000).await;
        app.advance(Duration::hours(3));
        assert_eq!(correct(&app, &p, a["id"].as_str().unwrap(), 130_000).await, StatusCode::OK);
        assert_eq!(void(&app, &p, b["id"].as_str().unwrap()).await, StatusCode::OK);
        app.advance(Duration::days(2));
        weigh_g(&app, &p, 450_000).await;
        app.advance(Duration::hours(1));
        assert_eq!(collect_open(&app, &p).await, 1);
        weigh_g(&app, &p, 50_000).await;

        let comparable = |lines: Vec<Value>| {
            let mut rows: Vec<String> = lines
                .into_iter()
                .map(|mut l| {
                    let o = l.as_object_mut().unwrap();
                    o.remove("id");
                    o.remove("recorded_at");
                    l.to_string()
                })
                .collect();
            rows.sort();
            rows
        };
        let wh = format!("warehouses/{}", p.warehouse);
        let live = comparable(lines(&app, &p.office, &wh, "from=2026-11-28&to=2026-12-31").await);
        assert_eq!(live.len(), 8, "{live:#?}");

        // The migration's backfill, run again on an emptied table, gives the same movements.
        let (dir, url) = match backend {
            Backend::Sqlite => ("sqlite", app.database_url().to_owned()),
            Backend::Postgres => ("postgres", app.database_url().to_owned()),
        };
        let up = std::fs::read_to_string(format!(
            "{}/migrations/{dir}/2026-11-29-000007_ledger/up.sql",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let backfill = &up[up.find("INSERT INTO stock_movements").unwrap()..];
        let sql = format!("DELETE FROM stock_movements;\n{backfill}");
        match backend {
            Backend::Sqlite => {
                let path = url.strip_prefix("sqlite://").unwrap();
                SqliteConnection::establish(path).unwrap().batch_execute(&sql).unwrap();
            }
            Backend::Postgres => PgConnection::establish(&url).unwrap().batch_execute(&sql).unwrap(),
        }
        let rebuilt = comparable(lines(&app, &p.office, &wh, "from=2026-11-28&to=2026-12-31").await);
        assert_eq!(rebuilt, live);
        check_invariants(&app, &p, NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()).await;
    }

    async fn a_corrected_capture_time_moves_the_lot_in_the_ledger(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2026-10-20T10:00:00+08:00");
        let p = park(&app, 5_000, 80).await;
        app.stand_at("2026-11-02T10:00:00+08:00");
        // Weighed on a device whose clock was a minute behind: 31 October, 23:59 in Shanghai.
        let lot = weigh_at(&app, &p, 10_000, "2026-10-31T23:59:00+08:00").await;
        let id = lot["id"].as_str().unwrap();
        let wh = format!("warehouses/{}", p.warehouse);
        let oct = ledger(&app, &p.office, &wh, "month=2026-10").await;
        assert_eq!(g(&oct["totals"], "in_grams"), 10_000);
        let body = json!({"gross_grams": 31_000, "tare_grams": 20_000, "captured_at": "2026-11-01T00:00:30+08:00",
            "reason": "the scale's clock was a minute slow"});
        let r = post(&app, &format!("/api/v1/lots/{id}/corrections"), &p.office, &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        // The lot now entered on 1 November, at its corrected weight (the correction dated now).
        let oct = ledger(&app, &p.office, &wh, "month=2026-10").await;
        assert_eq!((g(&oct["totals"], "in_grams"), g(&oct["totals"], "closing_grams")), (0, 0));
        assert!(lines(&app, &p.office, &wh, "month=2026-10").await.is_empty());
        let nov = ledger(&app, &p.office, &wh, "month=2026-11").await;
        let t = &nov["totals"];
        assert_eq!(
            (g(t, "opening_grams"), g(t, "in_grams"), g(t, "corrections_grams"), g(t, "closing_grams")),
            (0, 10_000, 1_000, 11_000)
        );
        let nov_lines = lines(&app, &p.office, &wh, "month=2026-11").await;
        let entered: Vec<(&str, &str, &str)> = nov_lines
            .iter()
            .map(|l| (l["movement"].as_str().unwrap(), l["at"].as_str().unwrap(), l["business_date"].as_str().unwrap()))
            .collect();
        assert_eq!(
            entered,
            [("in", "2026-10-31T16:00:30Z", "2026-11-01"), ("correction", "2026-11-02T02:00:00Z", "2026-11-02")]
        );
        // A later correction back to October moves it back, the earlier correction with it
        // only where it would precede the entry (here it does not).
        let body = json!({"gross_grams": 31_000, "tare_grams": 20_000, "captured_at": "2026-10-31T23:00:00+08:00",
            "reason": "the first time was right after all"});
        let r = post(&app, &format!("/api/v1/lots/{id}/corrections"), &p.office, &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        let oct = ledger(&app, &p.office, &wh, "month=2026-10").await;
        assert_eq!((g(&oct["totals"], "in_grams"), g(&oct["totals"], "closing_grams")), (10_000, 10_000));
        check_invariants(&app, &p, NaiveDate::from_ymd_opt(2026, 10, 20).unwrap()).await;
    }

    async fn random_sequences_keep_the_chain_and_the_inventory(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        // Late December: the days passing cross a month's and a year's end.
        app.stand_at("2026-12-20T12:00:00+08:00");
        let first = app.today();
        let p = park(&app, 500, 80).await;
        let mut runner = TestRunner::deterministic();
        let ops = proptest::collection::vec(op(), 10..18);
        for _ in 0..3 {
            let sequence = ops.new_tree(&mut runner).unwrap().current();
            for o in sequence {
                run(&app, &p, o).await;
            }
            check_invariants(&app, &p, first).await;
        }
    }
}

/// One step of a random sequence.
#[derive(Debug, Clone)]
enum Op {
    Weigh(i64),
    Correct(usize, i64),
    /// The capture time of a stored lot corrected to minutes before the clock's instant.
    Redate(usize, i64),
    Void(usize),
    Collect,
    /// Hours pass.
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1..=400_000i64).prop_map(Op::Weigh),
        2 => (0..20usize, 1..=400_000i64).prop_map(|(i, g)| Op::Correct(i, g)),
        1 => (0..20usize, 1..=600i64).prop_map(|(i, m)| Op::Redate(i, m)),
        1 => (0..20usize).prop_map(Op::Void),
        2 => Just(Op::Collect),
        2 => (1..=120i64).prop_map(Op::Advance),
    ]
}

async fn run(app: &TestApp, p: &Park, o: Op) {
    match o {
        Op::Weigh(grams) => {
            let stored = net_sum(&lots(app, p, "status=stored").await);
            if stored + grams <= 9_000_000 {
                weigh_g(app, p, grams).await;
            }
        }
        Op::Correct(i, grams) => {
            let stored = lots(app, p, "status=stored").await;
            if let Some(lot) = stored.get(i % stored.len().max(1)) {
                let status = correct(app, p, lot["id"].as_str().unwrap(), grams).await;
                assert!(
                    matches!(status, StatusCode::OK | StatusCode::CONFLICT),
                    "{status}"
                );
            }
        }
        Op::Redate(i, minutes) => {
            let stored = lots(app, p, "status=stored").await;
            if let Some(lot) = stored.get(i % stored.len().max(1)) {
                let at = (app.now() - Duration::minutes(minutes)).to_rfc3339();
                let body = json!({"gross_grams": lot["gross_grams"], "tare_grams": lot["tare_grams"],
                    "captured_at": at, "reason": "the scale's clock was wrong"});
                let id = lot["id"].as_str().unwrap();
                let status = post(
                    app,
                    &format!("/api/v1/lots/{id}/corrections"),
                    &p.office,
                    &body,
                )
                .await
                .status();
                assert!(
                    matches!(status, StatusCode::OK | StatusCode::CONFLICT),
                    "{status}"
                );
            }
        }
        Op::Void(i) => {
            let stored = lots(app, p, "status=stored").await;
            if let Some(lot) = stored.get(i % stored.len().max(1)) {
                assert_eq!(
                    void(app, p, lot["id"].as_str().unwrap()).await,
                    StatusCode::OK
                );
            }
        }
        Op::Collect => {
            collect_open(app, p).await;
        }
        Op::Advance(hours) => app.advance(Duration::hours(hours)),
    }
}

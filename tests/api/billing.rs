//! Billing by actual weight: a price change in the middle of the month, voided and corrected
//! lots before and after issue, notes, a price corrected afterwards, partial payments and
//! over-payment, the remittance to the disposer, and the exports parsed back.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields, time_travel};
use crate::pickups::{park, post, weighing};

/// When October 2026's statements are issued: 10:00 on Monday 2 November in Shanghai, the
/// month having ended there.
const ISSUED_AT: &str = "2026-11-02T10:00:00+08:00";

/// Stands the server's clock at noon in Shanghai on `day` (YYYY-MM-DD): what is registered or
/// weighed then belongs to that day in the park's time zone.
fn stand_at_noon(app: &TestApp, day: &str) {
    app.stand_at(&format!("{day}T12:00:00+08:00"));
}

/// A park registered on 10 October 2026 whose enterprise A has one 300 kg lot (HW08 at 2 800
/// yuan/t) weighed that day, billed on October's statement of 84 000 fen, issued at
/// [`ISSUED_AT`], where the clock then stands. The server must be started with
/// [`time_travel`], for the park's tokens to outlive the jump.
async fn billed_park(app: &TestApp) -> (crate::pickups::Park, String) {
    stand_at_noon(app, "2026-10-10");
    let p = park(app, 100_000, 100).await;
    let r = app
        .post_json(
            "/api/v1/lots",
            Some(&p.office),
            &weighing(&p, &p.enterprise_a, 300),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.stand_at(ISSUED_AT);
    let r = post(
        app,
        "/api/v1/statements",
        &p.office,
        &json!({"enterprise_id": p.enterprise_a, "period": "2026-10"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let statement: Value = r.json().await.unwrap();
    assert_eq!(statement["total_fen"], 84_000);
    (p, statement["id"].as_str().unwrap().to_owned())
}

async fn json_of(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, token).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.json().await.unwrap()
}

async fn assert_refused(r: reqwest::Response, field: &str, what: &str) {
    let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(
        error_fields(&problem),
        vec![field.to_owned()],
        "{what}: {problem}"
    );
}

backend_tests! {
    async fn a_month_is_billed_by_actual_weight_once_and_settled(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        // The park is registered on 1 October 2026. No threshold is crossed here: 100 t.
        stand_at_noon(&app, "2026-10-01");
        let p = park(&app, 100_000, 100).await;
        let period = "2026-10";
        // HW08 costs 2 800 yuan/t, then 3 000 from the 16th; S59 scrap is bought at 1 200 yuan/t.
        let r = post(&app, &format!("/api/v1/contracts/{}/prices", p.contract), &p.admin,
            &json!({"target": "HW08", "fen_per_tonne": 300_000, "effective_from": "2026-10-16"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let general = app.created_id(&format!("/api/v1/warehouses/{}/zones", p.warehouse), &p.admin,
            &json!({"name": "G1", "kind": "general", "capacity_grams": 10_000_000})).await;
        let lot = |body: Value| {
            let app = &app;
            let office = p.office.clone();
            async move {
                let r = app.post_json("/api/v1/lots", Some(&office), &body).await;
                assert_eq!(r.status(), StatusCode::CREATED);
                r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
            }
        };
        // Each lot is weighed at noon on its day of October.
        stand_at_noon(&app, "2026-10-03");
        let other = lot(weighing(&p, &p.enterprise_b, 10)).await;
        stand_at_noon(&app, "2026-10-05");
        let l3 = lot(weighing(&p, &p.enterprise_a, 100)).await;
        stand_at_noon(&app, "2026-10-10");
        let l1 = lot(weighing(&p, &p.enterprise_a, 300)).await;
        stand_at_noon(&app, "2026-10-12");
        let mut scrap = weighing(&p, &p.enterprise_a, 50);
        scrap["waste_code"] = json!("900-003-S59");
        scrap["zone_id"] = json!(general);
        scrap["physical_form"] = json!("solid");
        let l5 = lot(scrap).await;
        stand_at_noon(&app, "2026-10-20");
        let l2 = lot(weighing(&p, &p.enterprise_a, 250)).await;
        // Before issue, that day: L3 is voided, L2 corrected to 240 kg.
        let r = post(&app, &format!("/api/v1/lots/{l3}/void"), &p.office, &json!({"reason": "duplicate"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = post(&app, &format!("/api/v1/lots/{l2}/corrections"), &p.office,
            &json!({"gross_grams": 260_000, "tare_grams": 20_000, "reason": "scale not zeroed"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        // Issuing: the park office only, once, for a month that has ended (not yet on October's
        // last second; on 2 November).
        let issue = json!({"enterprise_id": p.enterprise_a, "period": period});
        app.stand_at("2026-10-31T23:59:59+08:00");
        let r = post(&app, "/api/v1/statements", &p.office, &issue).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["period"]);
        app.stand_at(ISSUED_AT);
        let r = post(&app, "/api/v1/statements", &p.producer_a, &issue).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_a, "period": "2026-11"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["period"]);
        let r = post(&app, "/api/v1/statements", &p.office, &issue).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let statement: Value = r.json().await.unwrap();
        let sid = statement["id"].as_str().unwrap().to_owned();
        let lines = statement["lines"].as_array().unwrap();
        let amount = |lot: &str| lines.iter().find(|l| l["lot_id"] == lot).map(|l| l["amount_fen"].as_i64().unwrap());
        assert_eq!(amount(&l1), Some(84_000), "300 kg at 2 800 yuan/t (before the 16th)");
        assert_eq!(amount(&l2), Some(72_000), "240 kg, corrected, at 3 000 yuan/t (from the 16th)");
        assert_eq!(amount(&l5), Some(-6_000), "50 kg bought at 1 200 yuan/t: a credit");
        assert_eq!(amount(&l3), None, "voided before issue: not billed");
        assert_eq!(amount(&other), None, "another enterprise's lot");
        assert_eq!(lines.len(), 3);
        let sum: i64 = lines.iter().map(|l| l["amount_fen"].as_i64().unwrap()).sum();
        assert_eq!(statement["total_fen"], sum);
        assert_eq!(statement["total_fen"], 150_000);
        let hw: Value = statement["totals_by_code"].as_array().unwrap().iter().find(|t| t["waste_code"] == "900-249-08").unwrap().clone();
        assert_eq!(hw["grams"], 540_000);
        assert_eq!(hw["amount_fen"], 156_000);
        let r = post(&app, "/api/v1/statements", &p.office, &issue).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;

        // After issue: the statement never changes; a void and a correction become notes.
        let r = post(&app, &format!("/api/v1/lots/{l1}/void"), &p.office, &json!({"reason": "belongs to Bolin"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = post(&app, &format!("/api/v1/lots/{l2}/corrections"), &p.office,
            &json!({"gross_grams": 280_000, "tare_grams": 20_000, "reason": "re-weighed"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let after: Value = app.get(&format!("/api/v1/statements/{sid}"), &p.office).await.json().await.unwrap();
        assert_eq!(after["total_fen"], 150_000);
        assert_eq!(after["lines"], statement["lines"]);
        let notes: Vec<i64> = after["notes"].as_array().unwrap().iter().map(|n| n["amount_fen"].as_i64().unwrap()).collect();
        assert_eq!(notes, vec![-84_000, 6_000], "a credit for the void, a debit for 20 kg more");
        assert_eq!(after["amount_due_fen"], 72_000);

        // A price corrected for a past day: repricing notes the difference, once.
        let r = post(&app, &format!("/api/v1/contracts/{}/prices", p.contract), &p.admin,
            &json!({"target": "HW08", "fen_per_tonne": 310_000, "effective_from": "2026-10-18"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = post(&app, &format!("/api/v1/statements/{sid}/reprice"), &p.office, &json!({})).await;
        let repriced: Value = r.json().await.unwrap();
        assert_eq!(repriced["notes"].as_array().unwrap().last().unwrap()["amount_fen"], 2_600, "260 kg × 100 yuan/t more");
        let audited = crate::audit::entries(&app, &p.admin).await;
        assert!(audited.iter().any(|e| e["action"] == "POST /api/v1/statements/{id}/reprice"
            && e["object"].as_str().is_some_and(|o| o.contains(sid.as_str()))), "the repricing is audited");
        let r = post(&app, &format!("/api/v1/statements/{sid}/reprice"), &p.office, &json!({})).await;
        let again: Value = r.json().await.unwrap();
        assert_eq!(again["notes"].as_array().unwrap().len(), 3, "nothing billed twice");
        assert_eq!(again["amount_due_fen"], 74_600);
        // A correction after the reprice is settled at the price now in force: 10 kg less at
        // 3 100 yuan/t.
        let r = post(&app, &format!("/api/v1/lots/{l2}/corrections"), &p.office,
            &json!({"gross_grams": 270_000, "tare_grams": 20_000, "reason": "re-weighed again"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let settled: Value = app.get(&format!("/api/v1/statements/{sid}"), &p.office).await.json().await.unwrap();
        assert_eq!(settled["notes"].as_array().unwrap().last().unwrap()["amount_fen"], -3_100);
        assert_eq!(settled["amount_due_fen"], 71_500);

        // Payments: partial, then more than owed.
        let pay = |amount: i64| json!({"enterprise_id": p.enterprise_a, "amount_fen": amount, "paid_on": app.day(0), "reference": "bank"});
        let r = post(&app, "/api/v1/payments", &p.producer_a, &pay(1)).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, "/api/v1/payments", &p.office, &pay(0)).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["amount_fen"]);
        assert_eq!(post(&app, "/api/v1/payments", &p.office, &pay(30_000)).await.status(), StatusCode::CREATED);
        let balance: Value = app.get(&format!("/api/v1/enterprises/{}/balance", p.enterprise_a), &p.producer_a).await.json().await.unwrap();
        assert_eq!(balance["billed_fen"], 150_000);
        assert_eq!(balance["notes_fen"], -78_500);
        assert_eq!(balance["paid_fen"], 30_000);
        assert_eq!(balance["balance_fen"], 41_500);
        let owed_by_age: i64 = balance["ageing"].as_array().unwrap().iter().map(|b| b["amount_fen"].as_i64().unwrap()).sum();
        assert_eq!(owed_by_age, 41_500);
        assert_eq!(post(&app, "/api/v1/payments", &p.office, &pay(50_000)).await.status(), StatusCode::CREATED);
        let balance: Value = app.get(&format!("/api/v1/enterprises/{}/balance", p.enterprise_a), &p.office).await.json().await.unwrap();
        assert_eq!(balance["balance_fen"], -8_500, "over-paid");
        assert_eq!(balance["credit_fen"], 8_500);
        let r = app.get(&format!("/api/v1/enterprises/{}/balance", p.enterprise_a), &p.producer_b).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // The remittance to the disposer: billed, collected, outstanding.
        let query = format!("?period={period}&park_id={}&disposer_id={}", p.park, p.disposer);
        let remit: Value = app.get(&format!("/api/v1/remittances{query}"), &p.office).await.json().await.unwrap();
        assert_eq!(remit["billed_fen"], 71_500);
        assert_eq!(remit["collected_fen"], 71_500);
        assert_eq!(remit["outstanding_fen"], 0);
        assert_eq!(remit["owed_to_disposer_fen"], 71_500);
        let theirs: Value = app.get(&format!("/api/v1/remittances?period={period}&park_id={}", p.park), &p.dispatcher).await.json().await.unwrap();
        assert_eq!(theirs["billed_fen"], 71_500);
        let r = app.get(&format!("/api/v1/remittances{query}"), &p.producer_a).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let elsewhere = app.create_park(&p.admin, "Another park", "440307").await;
        let r = app.get(&format!("/api/v1/remittances?period={period}&park_id={elsewhere}"), &p.dispatcher).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // Exports, parsed back: CSV and Excel, Chinese headers, yuan to two decimals.
        let r = app.get(&format!("/api/v1/statements/{sid}/export.csv"), &p.producer_a).await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(headers, ["类型", "批次编号", "废物代码", "计费日期", "重量（千克）", "单价（元/吨）", "金额（元）"]);
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        let row_l1 = rows.iter().find(|r| r[1] == l1).unwrap();
        assert_eq!((row_l1[4].as_str(), row_l1[5].as_str(), row_l1[6].as_str()), ("300.000", "2800.00", "840.00"));
        let total = rows.iter().find(|r| r[0] == "合计").unwrap();
        assert_eq!(total[6], "1500.00");
        let due = rows.iter().find(|r| r[0] == "应付").unwrap();
        assert_eq!(due[6], "715.00");
        assert!(rows.iter().any(|r| r[0] == "贷项通知" && r[6] == "-840.00"));

        let r = app.get(&format!("/api/v1/statements/{sid}/export.xlsx"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap().to_vec();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.get((0, 6)), Some(&Data::String("金额（元）".to_owned())));
        let fen = |c: Option<&Data>| match c {
            Some(Data::Float(f)) => (f * 100.0).round() as i64,
            other => panic!("not a number: {other:?}"),
        };
        let l1_row = (1..sheet.height()).find(|r| sheet.get((*r, 1)) == Some(&Data::String(l1.clone()))).unwrap();
        assert_eq!(fen(sheet.get((l1_row, 6))), 84_000);
        let total_row = (1..sheet.height()).find(|r| sheet.get((*r, 0)) == Some(&Data::String("合计".to_owned()))).unwrap();
        assert_eq!(fen(sheet.get((total_row, 6))), 150_000);

        let r = app.get(&format!("/api/v1/remittances/export.csv{query}"), &p.dispatcher).await;
        let text = r.text().await.unwrap();
        assert!(text.starts_with("\u{feff}企业,对账单号,应收（元）,已收（元）,未收（元）"), "a BOM for Excel: {text}");
        assert!(text.contains(",715.00,715.00,0.00"), "{text}");
        let r = app.get(&format!("/api/v1/remittances/export.xlsx{query}"), &p.dispatcher).await;
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.get((0, 2)), Some(&Data::String("应收（元）".to_owned())));

        // Who sees statements: the enterprise its own, the park office all; nobody else.
        for token in [&p.producer_b, &p.dispatcher] {
            let r = app.get(&format!("/api/v1/statements/{sid}"), token).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            let r = app.get(&format!("/api/v1/statements/{sid}/export.csv"), token).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        let mine: Value = app.get("/api/v1/statements", &p.producer_a).await.json().await.unwrap();
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
        // The list shows the statement without its lines: their count and totals per code, as
        // the statement itself adds them up.
        let full: Value = app.get(&format!("/api/v1/statements/{sid}"), &p.producer_a).await.json().await.unwrap();
        let listed = &mine["items"][0];
        assert!(listed.get("lines").is_none(), "a list leaves the lines out: {listed}");
        assert_eq!(listed["line_count"], full["lines"].as_array().unwrap().len(), "{listed} {full}");
        assert!(!full["totals_by_code"].as_array().unwrap().is_empty(), "{full}");
        for key in ["totals_by_code", "total_fen", "notes", "notes_fen", "amount_due_fen", "number", "period"] {
            assert_eq!(listed[key], full[key], "{key}");
        }
        let theirs: Value = app.get("/api/v1/statements", &p.producer_b).await.json().await.unwrap();
        assert!(theirs["items"].as_array().unwrap().is_empty());
        let r = app.get("/api/v1/statements", &p.dispatcher).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;

        // B's statement: issued alone, deterministic, its lot billed once.
        let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_b, "period": period})).await;
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["lines"].as_array().unwrap().len(), 1);
        assert_eq!(b["total_fen"], 2_800);
    }

    async fn door_lots_are_billed_by_the_drivers_weighing_and_months_in_order(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        // The park is registered on 1 September 2026.
        stand_at_noon(&app, "2026-09-01");
        let p = park(&app, 100_000, 100).await;
        // A lot of September, not yet billed: that month is issued first.
        stand_at_noon(&app, "2026-09-05");
        let r = app.post_json("/api/v1/lots", Some(&p.office), &weighing(&p, &p.enterprise_a, 10)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // Scrap declared at the door (250 kg estimated) on 10 October, and collected that day:
        // the driver weighs 240 kg.
        stand_at_noon(&app, "2026-10-10");
        let r = post(&app, "/api/v1/lots/declarations", &p.producer_a, &json!({"enterprise_id": p.enterprise_a,
            "waste_code": "900-003-S59", "physical_form": "solid", "container_type": "bag", "container_count": 4,
            "estimated_grams": 250_000})).await;
        let declared: Value = r.json().await.unwrap();
        let request = declared["pickup_request_id"].as_str().expect("200 kg of S59 reached").to_owned();
        let schedule = json!({"scheduled_on": app.day(0), "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id});
        assert_eq!(post(&app, &format!("/api/v1/pickup-requests/{request}/schedule"), &p.dispatcher, &schedule).await.status(), StatusCode::OK);
        let collect = json!({"vehicle_id": p.vehicle, "scale_id": "PHONE-7", "captured_at": app.now().to_rfc3339(),
            "gross_grams": 8_241_000, "tare_grams": 8_000_000, "scanned_labels": crate::manifests::scans(&app, &p.office, &request).await,
            "door_weighings": [{"lot_id": declared["id"], "gross_grams": 242_000, "tare_grams": 2_000}]});
        assert_eq!(post(&app, &format!("/api/v1/pickup-requests/{request}/collect"), &p.driver, &collect).await.status(), StatusCode::CREATED);

        app.stand_at(ISSUED_AT);
        let period = "2026-10";
        let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_a, "period": period})).await;
        let problem = assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        assert!(problem["detail"].as_str().unwrap().contains("请先开具该月的"), "{problem}");
        let earlier = "2026-09";
        let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_a, "period": earlier})).await;
        let first: Value = r.json().await.unwrap();
        assert_eq!(first["total_fen"], 2_800);
        let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_a, "period": period})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let second: Value = r.json().await.unwrap();
        let lines = second["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "each lot billed once: {lines:?}");
        assert_eq!(lines[0]["lot_id"], declared["id"]);
        assert_eq!(lines[0]["grams"], 240_000, "the driver's weighing, not the estimate");
        assert_eq!(lines[0]["amount_fen"], -28_800, "bought at 1 200 yuan/t: a credit");
        assert_eq!(second["total_fen"], -28_800);
        // A partial payment of the first month; the second month is a credit.
        let r = post(&app, "/api/v1/payments", &p.office, &json!({"enterprise_id": p.enterprise_a, "amount_fen": 1_000, "paid_on": app.day(0)})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let balance: Value = app.get(&format!("/api/v1/enterprises/{}/balance", p.enterprise_a), &p.office).await.json().await.unwrap();
        assert_eq!(balance["balance_fen"], 2_800 - 28_800 - 1_000);
        let remit: Value = app.get(&format!("/api/v1/remittances?period={earlier}&park_id={}&disposer_id={}", p.park, p.disposer), &p.office).await.json().await.unwrap();
        assert_eq!(remit["billed_fen"], 2_800);
    }

    async fn prices_beyond_their_bounds_are_refused_for_every_i64_and_change_nothing(backend: Backend) {
        use wastetrack::domain::units::MAX_FEN_PER_TONNE as MAX;
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 100_000, 100).await;
        let path = format!("/api/v1/contracts/{}", p.contract);
        let before = json_of(&app, &path, &p.admin).await;
        for bad in [i64::MIN, i64::MIN + 1, -MAX - 1, MAX + 1, i64::MAX] {
            let r = post(&app, &format!("{path}/prices"), &p.admin, &json!({"target": "HW08", "fen_per_tonne": bad})).await;
            assert_refused(r, "fen_per_tonne", &bad.to_string()).await;
        }
        assert_eq!(json_of(&app, &path, &p.admin).await, before, "nothing changed");
        // A new contract is checked the same way, line by line.
        let other = app.create_enterprise(&p.admin, &p.park, "Third Ltd").await;
        let contract = |price: i64| json!({"park_id": p.park, "disposer_id": p.disposer, "number": "C-2",
            "valid_from": app.day(-1), "valid_to": app.day(300), "max_storage_days": 180, "members": [{"enterprise_id": other}],
            "prices": [{"target": "HW08", "fen_per_tonne": price}]});
        let listed = json_of(&app, "/api/v1/contracts", &p.admin).await["items"].as_array().unwrap().len();
        for bad in [i64::MIN, -MAX - 1, MAX + 1, i64::MAX] {
            let r = post(&app, "/api/v1/contracts", &p.admin, &contract(bad)).await;
            assert_refused(r, "prices[0].fen_per_tonne", &bad.to_string()).await;
        }
        assert_eq!(json_of(&app, "/api/v1/contracts", &p.admin).await["items"].as_array().unwrap().len(), listed);
        // The bounds themselves, and a price of -1 (a disposer buying), are accepted.
        for (i, good) in [-MAX, -1, MAX].into_iter().enumerate() {
            let r = post(&app, &format!("{path}/prices"), &p.admin,
                &json!({"target": "S59", "fen_per_tonne": good, "effective_from": app.day(i as i64 + 10)})).await;
            assert_eq!(r.status(), StatusCode::OK, "{good}");
        }
        let prices = json_of(&app, &path, &p.admin).await["prices"].as_array().unwrap().clone();
        let mut set: Vec<i64> = prices.iter().filter(|q| q["target"] == "S59").map(|q| q["fen_per_tonne"].as_i64().unwrap()).collect();
        set.sort();
        assert_eq!(set, vec![-MAX, -1, MAX]);
    }

    async fn note_and_payment_amounts_beyond_their_bounds_are_refused_and_totals_never_wrap(backend: Backend) {
        use wastetrack::domain::billing::MAX_FEN as MAX;
        let app = TestApp::spawn_with(backend, time_travel).await;
        let (p, sid) = billed_park(&app).await;
        let path = format!("/api/v1/statements/{sid}");
        let balance_path = format!("/api/v1/enterprises/{}/balance", p.enterprise_a);
        let statement = json_of(&app, &path, &p.office).await;
        let balance = json_of(&app, &balance_path, &p.office).await;
        for bad in [i64::MIN, i64::MIN + 1, -MAX - 1, 0, MAX + 1, i64::MAX] {
            let r = post(&app, &format!("{path}/notes"), &p.office, &json!({"amount_fen": bad, "reason": "bounds"})).await;
            assert_refused(r, "amount_fen", &bad.to_string()).await;
        }
        for bad in [i64::MIN, -1, 0, MAX + 1, i64::MAX] {
            let r = post(&app, "/api/v1/payments", &p.office,
                &json!({"enterprise_id": p.enterprise_a, "amount_fen": bad, "paid_on": app.day(-1)})).await;
            assert_refused(r, "amount_fen", &bad.to_string()).await;
        }
        assert_eq!(json_of(&app, &path, &p.office).await, statement, "nothing changed");
        assert_eq!(json_of(&app, &balance_path, &p.office).await, balance, "nothing changed");

        // The reported case: after i64::MIN was refused, a credit of 1 fen is just that.
        let r = post(&app, &format!("{path}/notes"), &p.office, &json!({"amount_fen": -1, "reason": "rounding"})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // The bounds themselves are accepted and add up exactly.
        for good in [MAX, -MAX] {
            let r = post(&app, &format!("{path}/notes"), &p.office, &json!({"amount_fen": good, "reason": "bounds"})).await;
            assert_eq!(r.status(), StatusCode::CREATED, "{good}");
        }
        let r = post(&app, "/api/v1/payments", &p.office, &json!({"enterprise_id": p.enterprise_a, "amount_fen": MAX, "paid_on": app.day(-1)})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let after = json_of(&app, &path, &p.office).await;
        assert_eq!(after["notes_fen"], -1);
        assert_eq!(after["amount_due_fen"], 83_999);
        let balance = json_of(&app, &balance_path, &p.office).await;
        assert_eq!(balance["notes_fen"], -1);
        assert_eq!(balance["paid_fen"], MAX);
        assert_eq!(balance["balance_fen"], 83_999 - MAX);
        assert_eq!(balance["credit_fen"], MAX - 83_999);
    }

    async fn a_note_or_payment_that_would_take_the_billing_out_of_range_is_refused(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let (p, sid) = billed_park(&app).await;
        // Years of notes, in one row: the enterprise's billing is now 1 000 fen short of the
        // largest amount. The one write to the database here, for a state no API call can
        // produce (no note is this large); the row is dated as a note made now would be.
        let office = json_of(&app, "/api/v1/me", &p.office).await["user"]["id"].as_str().unwrap().to_owned();
        {
            use diesel::prelude::*;
            use wastetrack::db::schema::billing_notes;
            let db = wastetrack::db::Db::connect(app.database_url(), 1).unwrap();
            let mut conn = db.get().unwrap();
            diesel::insert_into(billing_notes::table)
                .values((
                    billing_notes::id.eq("bnt_history"),
                    billing_notes::statement_id.eq(&sid),
                    billing_notes::enterprise_id.eq(&p.enterprise_a),
                    billing_notes::park_id.eq(&p.park),
                    billing_notes::disposer_id.eq(&p.disposer),
                    billing_notes::period.eq(app.today().format("%Y-%m").to_string()),
                    billing_notes::amount_fen.eq(i64::MAX - 84_000 - 1_000),
                    billing_notes::reason.eq("history"),
                    billing_notes::created_at.eq(app.now().naive_utc()),
                    billing_notes::created_by.eq(&office),
                ))
                .execute(&mut *conn)
                .unwrap();
        }
        let path = format!("/api/v1/statements/{sid}");
        let balance_path = format!("/api/v1/enterprises/{}/balance", p.enterprise_a);
        let statement = json_of(&app, &path, &p.office).await;
        assert_eq!(statement["amount_due_fen"], i64::MAX - 1_000);
        let balance = json_of(&app, &balance_path, &p.office).await;
        // Debits and credits alike would take the sum of the amounts past the range.
        for amount in [1_001i64, -1_001, 10_000_000] {
            let r = post(&app, &format!("{path}/notes"), &p.office, &json!({"amount_fen": amount, "reason": "more"})).await;
            assert_refused(r, "amount_fen", &amount.to_string()).await;
            let r = post(&app, "/api/v1/payments", &p.office, &json!({"enterprise_id": p.enterprise_a, "amount_fen": amount.abs(), "paid_on": app.day(-1)})).await;
            assert_refused(r, "amount_fen", &amount.to_string()).await;
        }
        assert_eq!(json_of(&app, &path, &p.office).await, statement, "nothing changed");
        assert_eq!(json_of(&app, &balance_path, &p.office).await, balance, "nothing changed");
        // What still fits is taken, and shown exactly.
        let r = post(&app, &format!("{path}/notes"), &p.office, &json!({"amount_fen": 1_000, "reason": "last"})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let after: Value = r.json().await.unwrap();
        assert_eq!(after["amount_due_fen"], i64::MAX);
        let balance = json_of(&app, &balance_path, &p.office).await;
        assert_eq!(balance["balance_fen"], i64::MAX);
        assert_eq!(balance["ageing"].as_array().unwrap().iter().map(|b| b["amount_fen"].as_i64().unwrap() as i128).sum::<i128>(), i64::MAX as i128);
    }

    async fn statements_are_refused_for_months_before_the_park(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        // The park is registered on 15 October 2026; its statements are asked for in November.
        stand_at_noon(&app, "2026-10-15");
        let p = park(&app, 100_000, 100).await;
        app.stand_at(ISSUED_AT);
        for period in ["0000-01", "1999-12", "2026-09"] {
            let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_a, "period": period})).await;
            assert_refused(r, "period", period).await;
        }
        let listed = json_of(&app, "/api/v1/statements", &p.office).await;
        assert!(listed["items"].as_array().unwrap().is_empty(), "nothing issued: {listed}");
        // The month it opened in is billed.
        let r = post(&app, "/api/v1/statements", &p.office, &json!({"enterprise_id": p.enterprise_a, "period": "2026-10"})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

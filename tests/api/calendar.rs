//! The calendar's edges: each flow whose rule depends on the date is run with the server's
//! clock standing just before and just after the instants that matter — midnight in the park's
//! time zone (Asia/Shanghai, UTC+8) and midnight in UTC, a month's end, a year's end, and a
//! Friday before a weekend. The machine's own date, hour and time zone play no part.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields, time_travel};
use crate::manifests::with_permit;
use crate::pickups::{Park, park, post, requests, weigh, weighing};

/// Asks for a pickup on `day`; returns the response.
async fn schedule_on(app: &TestApp, p: &Park, request: &str, day: &str) -> reqwest::Response {
    let body = json!({"scheduled_on": day, "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id});
    post(
        app,
        &format!("/api/v1/pickup-requests/{request}/schedule"),
        &p.dispatcher,
        &body,
    )
    .await
}

async fn assert_refused_as_past(app: &TestApp, p: &Park, request: &str, day: &str) {
    let problem = assert_problem(
        schedule_on(app, p, request, day).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(
        error_fields(&problem),
        vec!["scheduled_on"],
        "{day} at {}",
        app.now()
    );
    assert_eq!(problem["errors"][0]["code"], "in_past");
}

async fn assert_scheduled(app: &TestApp, p: &Park, request: &str, day: &str) {
    let r = schedule_on(app, p, request, day).await;
    assert_eq!(r.status(), StatusCode::OK, "{day} at {}", app.now());
    assert_eq!(r.json::<Value>().await.unwrap()["scheduled_on"], day);
}

/// Enterprise A's lot of `net_kg` weighed at the clock's very instant.
async fn weigh_now(app: &TestApp, p: &Park, net_kg: i64) -> Value {
    let mut body = weighing(p, &p.enterprise_a, net_kg);
    body["captured_at"] = json!(app.now_rfc3339());
    let r = post(app, "/api/v1/lots", &p.office, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let lot: Value = r.json().await.unwrap();
    assert_eq!(lot["captured_at"], lot["received_at"]);
    lot
}

/// Weighs 600 kg (over the park's 500 kg threshold) at the clock's instant: a pickup request.
async fn raise(app: &TestApp, p: &Park) -> String {
    let lot = weigh(app, p, &p.enterprise_a, 600).await;
    lot["pickup_request_id"]
        .as_str()
        .expect("the threshold is crossed")
        .to_owned()
}

/// Raises, schedules and collects a pickup at the clock's instant; returns the manifest.
async fn collect(app: &TestApp, p: &Park) -> Value {
    let request = raise(app, p).await;
    let today = app.today().to_string();
    assert_scheduled(app, p, &request, &today).await;
    let scans = crate::manifests::scans(app, &p.office, &request).await;
    let body = json!({"vehicle_id": p.vehicle, "scale_id": "SCALE-02", "captured_at": app.now_rfc3339(),
        "gross_grams": 8_600_000, "tare_grams": 8_000_000, "scanned_labels": scans});
    let r = post(
        app,
        &format!("/api/v1/pickup-requests/{request}/collect"),
        &p.driver,
        &body,
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED, "collect at {}", app.now());
    let collection: Value = r.json().await.unwrap();
    collection["manifests"][0].clone()
}

/// Collects, then the consignor confirms and the driver takes the waste over, at the clock's
/// instant; returns the manifest after take-over.
pub async fn take_over(app: &TestApp, p: &Park) -> Value {
    let id = collect(app, p).await["id"].as_str().unwrap().to_owned();
    let r = post(
        app,
        &format!("/api/v1/manifests/{id}/confirm"),
        &p.office,
        &json!({}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = post(
        app,
        &format!("/api/v1/manifests/{id}/take-over"),
        &p.driver,
        &json!({}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The driver records the waste's arrival at the clock's instant; returns the manifest.
pub async fn arrive(app: &TestApp, p: &Park, id: &str) -> Value {
    let r = post(
        app,
        &format!("/api/v1/manifests/{id}/arrival"),
        &p.driver,
        &json!({}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "arrival at {}", app.now());
    r.json().await.unwrap()
}

/// Takes over and records the arrival at the clock's instant; returns the manifest.
async fn take_over_and_arrive(app: &TestApp, p: &Park) -> Value {
    let id = take_over(app, p).await["id"].as_str().unwrap().to_owned();
    arrive(app, p, &id).await
}

pub async fn manifest(app: &TestApp, p: &Park, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/manifests/{id}"), &p.office).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn issue(app: &TestApp, p: &Park, period: &str) -> reqwest::Response {
    post(
        app,
        "/api/v1/statements",
        &p.office,
        &json!({"enterprise_id": p.enterprise_a, "period": period}),
    )
    .await
}

fn lot_ids(statement: &Value) -> Vec<String> {
    statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the pickup requests of the park until `done` holds (the periodic check runs every
/// second), or gives up after `secs` seconds and returns what it saw.
async fn wait_for_requests(
    app: &TestApp,
    p: &Park,
    secs: u64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let list = requests(app, &p.office, "").await;
        if done(&list) || std::time::Instant::now() > deadline {
            return list;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

backend_tests! {
    async fn a_pickup_day_is_in_the_past_from_midnight_in_the_park_not_in_utc(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        let request = raise(&app, &p).await;

        // Thursday 26 November, one second before midnight in Shanghai (15:59:59 UTC).
        app.stand_at("2026-11-26T23:59:59+08:00");
        assert_refused_as_past(&app, &p, &request, "2026-11-25").await;
        assert_scheduled(&app, &p, &request, "2026-11-26").await;

        // Midnight in Shanghai: the 26th is yesterday there, though it is still the 26th in UTC.
        app.stand_at("2026-11-27T00:00:00+08:00");
        assert_refused_as_past(&app, &p, &request, "2026-11-26").await;
        assert_scheduled(&app, &p, &request, "2026-11-27").await;

        // Midnight in UTC is 08:00 in Shanghai: nothing changes at it.
        app.stand_at("2026-11-27T23:59:59Z");
        assert_refused_as_past(&app, &p, &request, "2026-11-27").await;
        assert_scheduled(&app, &p, &request, "2026-11-28").await;
        app.stand_at("2026-11-28T00:00:00Z");
        assert_refused_as_past(&app, &p, &request, "2026-11-27").await;
        assert_scheduled(&app, &p, &request, "2026-11-28").await;
    }

    async fn a_receipt_is_due_five_working_days_after_the_parks_arrival_day(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;

        // Arrived on Thursday 26 November at 23:59:59 in Shanghai: Friday, then Monday to
        // Thursday 3 December are the five working days (no calendar is held for 2026).
        app.stand_at("2026-11-26T23:59:59+08:00");
        let thursday = take_over_and_arrive(&app, &p).await;
        assert_eq!(thursday["receipt_due_on"], "2026-12-03");
        assert_eq!(thursday["receipt_due_assumed_years"], json!([2026]));
        // A second later it is Friday in Shanghai (still Thursday in UTC): the weekend is
        // skipped and the receipt is due on Friday 4 December.
        app.stand_at("2026-11-27T00:00:00+08:00");
        let friday = take_over_and_arrive(&app, &p).await;
        assert_eq!(friday["receipt_due_on"], "2026-12-04");
        // Arrived on Saturday: still Friday 4 December.
        app.stand_at("2026-11-28T09:00:00+08:00");
        let saturday = take_over_and_arrive(&app, &p).await;
        assert_eq!(saturday["receipt_due_on"], "2026-12-04");

        // Overdue from the first second of the day after the due day, in Shanghai.
        let (thursday, friday) = (thursday["id"].as_str().unwrap(), friday["id"].as_str().unwrap());
        app.stand_at("2026-12-03T23:59:59+08:00");
        assert_eq!(manifest(&app, &p, thursday).await["receipt_overdue"], false);
        app.stand_at("2026-12-04T00:00:00+08:00");
        assert_eq!(manifest(&app, &p, thursday).await["receipt_overdue"], true);
        assert_eq!(manifest(&app, &p, friday).await["receipt_overdue"], false);
        app.stand_at("2026-12-04T23:59:59+08:00");
        assert_eq!(manifest(&app, &p, friday).await["receipt_overdue"], false);
        app.stand_at("2026-12-05T00:00:00+08:00");
        assert_eq!(manifest(&app, &p, friday).await["receipt_overdue"], true);
    }

    async fn statements_bill_months_and_years_of_the_park_calendar(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 100_000, 100).await;

        // The last second of November and the first of December, in Shanghai (both on
        // 30 November in UTC).
        app.stand_at("2026-11-30T23:59:59+08:00");
        let november = weigh_now(&app, &p, 100).await["id"].as_str().unwrap().to_owned();
        app.stand_at("2026-12-01T00:00:00+08:00");
        let december = weigh_now(&app, &p, 200).await["id"].as_str().unwrap().to_owned();

        // Until December ends in Shanghai it cannot be billed; November can from its end.
        app.stand_at("2026-12-31T23:59:59+08:00");
        let problem = assert_problem(issue(&app, &p, "2026-12").await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "not_ended");
        let r = issue(&app, &p, "2026-11").await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let issued: Value = r.json().await.unwrap();
        assert_eq!(lot_ids(&issued), vec![november.clone()]);
        assert_eq!(issued["total_fen"], 28_000, "100 kg at 2 800 yuan/t");

        // The year ends in Shanghai at 16:00 UTC: December can be billed from then, with the
        // lot weighed at its first second.
        app.stand_at("2026-12-31T16:00:00Z");
        let r = issue(&app, &p, "2026-12").await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let issued: Value = r.json().await.unwrap();
        assert_eq!(lot_ids(&issued), vec![december]);
        assert_eq!(issued["period"], "2026-12");
        let problem = assert_problem(issue(&app, &p, "2027-01").await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "not_ended");
    }

    async fn manifest_numbers_start_again_with_the_parks_new_year(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;

        app.stand_at("2026-12-31T23:59:58+08:00");
        assert_eq!(collect(&app, &p).await["number"], "WT-20264403-000001");
        app.stand_at("2026-12-31T23:59:59+08:00");
        assert_eq!(collect(&app, &p).await["number"], "WT-20264403-000002");
        // Midnight in Shanghai (16:00 UTC on the 31st): a new year and a new series.
        app.stand_at("2027-01-01T00:00:00+08:00");
        assert_eq!(collect(&app, &p).await["number"], "WT-20274403-000001");
        // Midnight in UTC changes nothing.
        app.stand_at("2027-01-01T00:00:00Z");
        assert_eq!(collect(&app, &p).await["number"], "WT-20274403-000002");
    }

    async fn storage_age_calls_for_collection_when_its_days_have_passed(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            time_travel(s);
            s.notify.sweep_interval_secs = 1;
        })
        .await;
        let p = park(&app, 5_000, 100).await;
        // A 10-day limit: the oldest waiting lot calls for collection at 80 %, after 8 days.
        let r = app.patch_json(&format!("/api/v1/contracts/{}", p.contract), &p.admin, &json!({"max_storage_days": 10})).await;
        assert_eq!(r.status(), StatusCode::OK);
        // Weighed on a Friday evening; the eighth day ends over a weekend.
        app.stand_at("2026-11-27T18:00:00+08:00");
        let lot = weigh_now(&app, &p, 50).await;
        assert!(lot["pickup_request_id"].is_null());

        // One second short of eight days: the periodic checks (one a second, for three
        // seconds) call for nothing.
        app.stand_at("2026-12-05T17:59:59+08:00");
        let seen = wait_for_requests(&app, &p, 3, |_| false).await;
        assert!(seen.is_empty(), "{seen:?}");
        // Eight days to the second: the next check raises the request.
        app.advance(Duration::seconds(1));
        let seen = wait_for_requests(&app, &p, 15, |r| !r.is_empty()).await;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["trigger"], "storage_age");
    }
}

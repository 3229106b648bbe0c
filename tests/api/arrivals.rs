//! Arrival and receipt: the receiver's 5 working days run from the day the waste arrives
//! (运抵之日), counted on the working-day calendar the administrator keeps (a year without one
//! counted Monday to Friday, and the due date says so); a transfer that does not arrive within
//! the transport days is overdue; the arrival is recorded once, by the receiver's dispatcher or
//! the manifest's driver, within its bounds; a receipt without an arrival records one.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::calendar::{arrive, manifest, take_over};
use crate::helpers::{TestApp, assert_problem, error_fields, time_travel};
use crate::manifests::with_permit;
use crate::pickups::{inbox, park, post};

async fn put_calendar(app: &TestApp, token: &str, year: i32, body: &Value) -> reqwest::Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/calendar/{year}"),
        Some(token),
    )
    .json(body)
    .send()
    .await
    .unwrap()
}

fn arrival(id: &str) -> String {
    format!("/api/v1/manifests/{id}/arrival")
}

/// Polls the inbox until it holds `n` messages of `type` (the periodic check runs every
/// second), or gives up after 15 seconds and returns what it saw.
async fn wait_for(app: &TestApp, token: &str, query: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let seen = inbox(app, token, query).await;
        if seen.len() >= n || std::time::Instant::now() > deadline {
            return seen;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

backend_tests! {
    async fn the_receipt_is_due_five_working_days_after_arrival_on_the_calendar(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;

        // The administrator keeps 2026: Thursday 24 and Friday 25 December off, Saturday 26
        // worked. Nobody else may; a date outside the year, a weekday made a working day, a
        // day both, are refused naming it.
        let year_2026 = json!({"holidays": ["2026-12-24", "2026-12-25"], "workdays": ["2026-12-26"], "source": "the notice for 2026"});
        for token in [&p.office, &p.dispatcher, &p.driver, &p.producer_a] {
            assert_problem(put_calendar(&app, token, 2026, &year_2026).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let wrong = json!({"holidays": ["2026-12-25", "2027-01-01"], "workdays": ["2026-12-23", "2026-12-25"]});
        let problem = assert_problem(put_calendar(&app, &p.admin, 2026, &wrong).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["holidays[1]", "workdays[0]", "workdays[1]", "workdays[1]"]);
        let codes: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["other_year", "not_weekend", "not_weekend", "both"]);
        let r = put_calendar(&app, &p.admin, 2026, &year_2026).await;
        assert_eq!(r.status(), StatusCode::OK);
        // Everybody signed in reads it; a year not held is 404; 2025 is shipped.
        let kept: Value = app.get("/api/v1/calendar/2026", &p.driver).await.json().await.unwrap();
        assert_eq!(kept["holidays"], json!(["2026-12-24", "2026-12-25"]));
        assert_eq!(kept["workdays"], json!(["2026-12-26"]));
        assert_problem(app.get("/api/v1/calendar/2027", &p.office).await, StatusCode::NOT_FOUND, "not-found").await;
        let shipped: Value = app.get("/api/v1/calendar/2025", &p.office).await.json().await.unwrap();
        assert_eq!(shipped["holidays"].as_array().unwrap().len(), 28);
        assert_eq!(shipped["workdays"], json!(["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]));
        // The same year as CSV replaces it whole.
        let csv = "date,kind\n2026-12-24,holiday\n2026-12-25,holiday\n2026-12-26,workday\n";
        let r = app.request(Method::PUT, "/api/v1/calendar/2026", Some(&p.admin))
            .header("content-type", "text/csv").body(csv).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let kept: Value = r.json().await.unwrap();
        assert_eq!(kept["workdays"], json!(["2026-12-26"]));
        assert!(kept["source"].is_null(), "replaced whole");
        let r = app.request(Method::PUT, "/api/v1/calendar/2026", Some(&p.admin))
            .header("content-type", "text/csv").body("2026-12-24,holiday\n2026-12-32,holiday\n").send().await.unwrap();
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["line 2"]);
        // A CSV file names its notice in the query; a JSON body names it once.
        let r = app.request(Method::PUT, "/api/v1/calendar/2026?source=国务院办公厅通知（测试）", Some(&p.admin))
            .header("content-type", "text/csv").body(csv).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["source"], "国务院办公厅通知（测试）");
        let r = app.request(Method::PUT, "/api/v1/calendar/2026?source=a", Some(&p.admin))
            .json(&json!({"holidays": [], "workdays": [], "source": "b"})).send().await.unwrap();
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["source"]);
        let kept: Value = app.get("/api/v1/calendar/2026", &p.admin).await.json().await.unwrap();
        assert_eq!(kept["workdays"], json!(["2026-12-26"]), "a refused request changes nothing");

        // Taken over on Monday 21 December: it must arrive within three days.
        app.stand_at("2026-12-21T10:00:00+08:00");
        let first = take_over(&app, &p).await;
        assert_eq!(first["arrival_due_on"], "2026-12-24");
        assert!(first["receipt_due_on"].is_null());
        let first = first["id"].as_str().unwrap().to_owned();
        // Arrived on Tuesday 22 December at 9:00 (recorded at 10:00 by the driver's phone):
        // Wednesday 23, Saturday 26 (worked), Monday 28, Tuesday 29, Wednesday 30. Monday to
        // Friday alone would have said Tuesday 29.
        app.stand_at("2026-12-22T10:00:00+08:00");
        let r = post(&app, &arrival(&first), &p.driver, &json!({"arrived_at": "2026-12-22T09:00:00+08:00"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = r.json().await.unwrap();
        assert_eq!(m["arrived_at"], "2026-12-22T01:00:00Z");
        assert!(m["arrival_due_on"].is_null());
        assert_eq!(m["receipt_due_on"], "2026-12-30");
        assert!(m["receipt_due_assumed_years"].is_null(), "every year counted had a calendar");
        let explanation = m["receipt_due_explanation"].as_str().unwrap();
        assert!(explanation.starts_with("5 working days after 2026-12-22"), "{explanation}");
        assert!(explanation.contains("2026: the State Council's holiday calendar"), "{explanation}");

        // Arrived on Wednesday 30 December: Thursday 31, then 2027, which has no calendar:
        // Friday 1 January counts, then Monday 4 to Wednesday 6.
        app.stand_at("2026-12-30T15:00:00+08:00");
        let second = take_over(&app, &p).await["id"].as_str().unwrap().to_owned();
        let m = arrive(&app, &p, &second).await;
        assert_eq!(m["receipt_due_on"], "2027-01-06");
        assert_eq!(m["receipt_due_assumed_years"], json!([2027]));
        let explanation = m["receipt_due_explanation"].as_str().unwrap();
        assert!(explanation.contains("2026: the State Council's holiday calendar"), "{explanation}");
        assert!(explanation.contains("2027: no holiday calendar is held, so Monday to Friday were counted"), "{explanation}");

        // Overdue from the first second after the due day, in Shanghai.
        app.stand_at("2026-12-30T23:59:59+08:00");
        assert_eq!(manifest(&app, &p, &first).await["receipt_overdue"], false);
        app.stand_at("2026-12-31T00:00:00+08:00");
        assert_eq!(manifest(&app, &p, &first).await["receipt_overdue"], true);
        assert_eq!(manifest(&app, &p, &second).await["receipt_overdue"], false);
        // A calendar kept later does not move a due date already counted.
        let r = put_calendar(&app, &p.admin, 2027, &json!({"holidays": ["2027-01-01"], "workdays": []})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(manifest(&app, &p, &second).await["receipt_due_on"], "2027-01-06");
    }

    async fn an_arrival_is_recorded_once_by_the_receiver_or_the_driver_within_its_bounds(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        app.stand_at("2026-11-25T10:00:00+08:00");
        let id = take_over(&app, &p).await["id"].as_str().unwrap().to_owned();
        app.stand_at("2026-11-25T16:00:00+08:00");

        // Neither the consignor nor an enterprise nor the administrator records it; outsiders
        // do not see the manifest.
        for token in [&p.office, &p.producer_a, &p.admin] {
            assert_problem(post(&app, &arrival(&id), token, &json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        assert_problem(post(&app, &arrival(&id), &p.outsider_user, &json!({})).await, StatusCode::NOT_FOUND, "not-found").await;
        // Not in the future (beyond the devices' 10 minutes of drift), not before the take-over.
        for (at, code) in [("2026-11-25T16:11:00+08:00", "in_future"), ("2026-11-25T09:59:59+08:00", "before_take_over")] {
            let r = post(&app, &arrival(&id), &p.dispatcher, &json!({"arrived_at": at})).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), ["arrived_at"]);
            assert_eq!(problem["errors"][0]["code"], code);
        }
        // The receiver's dispatcher records it, by the server's clock when no time is given:
        // Wednesday 25 November, so due Wednesday 2 December. Once only.
        let r = post(&app, &arrival(&id), &p.dispatcher, &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = r.json().await.unwrap();
        assert_eq!(m["arrived_at"], "2026-11-25T08:00:00Z");
        assert_eq!(m["receipt_due_on"], "2026-12-02");
        assert_eq!(m["status"], "in_transit", "an arrival moves no status");
        let last = m["signatures"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["step"].as_str(), last["role"].as_str()), (Some("arrival"), Some("disposer_dispatcher")));
        assert_problem(post(&app, &arrival(&id), &p.driver, &json!({})).await, StatusCode::CONFLICT, "conflict").await;
        // Received: no arrival any more.
        let r = post(&app, &format!("/api/v1/manifests/{id}/receive"), &p.dispatcher, &json!({"received_grams": 600_000, "decision": "accepted"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let received: Value = r.json().await.unwrap();
        let steps: Vec<&str> = received["signatures"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
        assert_eq!(steps, ["confirm", "take_over", "arrival", "receive"], "the arrival recorded once");
        assert_eq!(received["receipt_due_on"], "2026-12-02");
        assert_problem(post(&app, &arrival(&id), &p.dispatcher, &json!({})).await, StatusCode::CONFLICT, "conflict").await;

        // A receipt with no arrival before it records the arrival then (a client that does not
        // record arrivals keeps working): due 5 working days after that day.
        app.stand_at("2026-11-27T11:00:00+08:00");
        let other = take_over(&app, &p).await["id"].as_str().unwrap().to_owned();
        let r = post(&app, &format!("/api/v1/manifests/{other}/receive"), &p.dispatcher, &json!({"received_grams": 600_000, "decision": "accepted"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = r.json().await.unwrap();
        assert_eq!(m["arrived_at"], "2026-11-27T03:00:00Z");
        assert_eq!(m["receipt_due_on"], "2026-12-04");
        let arrival_signature = m["signatures"].as_array().unwrap().iter().find(|s| s["step"] == "arrival").unwrap().clone();
        assert_eq!(arrival_signature["data"]["with_receipt"], true);
        assert_eq!(m["receipt_overdue"], false);
    }

    async fn a_transfer_that_does_not_arrive_within_the_transport_days_is_overdue(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            time_travel(s);
            s.notify.sweep_interval_secs = 1;
            s.manifest_transport_days = 1;
        })
        .await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        // Taken over on Wednesday 25 November: with one transport day, it must arrive by the
        // end of Thursday 26 in Shanghai.
        app.stand_at("2026-11-25T10:00:00+08:00");
        let m = take_over(&app, &p).await;
        assert_eq!(m["arrival_due_on"], "2026-11-26");
        let id = m["id"].as_str().unwrap().to_owned();
        app.stand_at("2026-11-26T23:59:59+08:00");
        assert_eq!(manifest(&app, &p, &id).await["receipt_overdue"], false);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(inbox(&app, &p.office, "?type=manifest.receipt_overdue").await.is_empty(), "not overdue yet");
        // From midnight it is overdue, and the park office and the receiver are told once.
        app.advance(Duration::seconds(1));
        assert_eq!(manifest(&app, &p, &id).await["receipt_overdue"], true);
        let told = wait_for(&app, &p.office, "?type=manifest.receipt_overdue", 1).await;
        assert_eq!(told.len(), 1, "the missing arrival was not told");
        assert_eq!(told[0]["data"]["arrived"], false);
        assert_eq!(told[0]["data"]["arrival_due_on"], "2026-11-26");
        assert_eq!(inbox(&app, &p.dispatcher, "?type=manifest.receipt_overdue").await.len(), 1);

        // It arrives late, on Friday 27 November: the receipt is due Friday 4 December and the
        // manifest is no longer overdue; from Saturday 5 December it is again, and told again.
        app.stand_at("2026-11-27T09:00:00+08:00");
        let m = arrive(&app, &p, &id).await;
        assert_eq!(m["receipt_due_on"], "2026-12-04");
        assert_eq!(m["receipt_overdue"], false);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(inbox(&app, &p.office, "?type=manifest.receipt_overdue").await.len(), 1, "told once");
        app.stand_at("2026-12-05T00:00:00+08:00");
        assert_eq!(manifest(&app, &p, &id).await["receipt_overdue"], true);
        let told = wait_for(&app, &p.office, "?type=manifest.receipt_overdue", 2).await;
        assert_eq!(told.len(), 2, "the late receipt was not told");
        assert!(told.iter().any(|m| m["data"]["arrived"] == true && m["data"]["receipt_due_on"] == "2026-12-04"), "{told:?}");
    }
}

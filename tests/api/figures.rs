//! A park's figures through the API: the stock against the zone's capacity and the contract's
//! threshold, volumes and latencies checked against lots, pickups and manifests recorded
//! through the API, months counted in Shanghai time around midnight at a month's end, the
//! bounds of the query, and who may read them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};
use crate::pickups::{PASSWORD, Park, park, post, weighing};

/// Stands at `at` (RFC 3339) and signs everybody in again: access tokens last 15 minutes.
async fn stand_at(app: &TestApp, p: &mut Park, at: &str) {
    app.stand_at(at);
    let token = |name: &'static str| async move { access_token(&app.login(name, PASSWORD).await) };
    p.office = token("office").await;
    p.dispatcher = token("dispatch").await;
    p.producer_a = token("producer_a").await;
    p.producer_b = token("producer_b").await;
    p.driver = token("driver").await;
}

/// Weighs `kg` of waste oil for `enterprise`, captured at `captured_at` (RFC 3339).
async fn weigh(app: &TestApp, p: &Park, enterprise: &str, kg: i64, captured_at: &str) -> String {
    let mut body = weighing(p, enterprise, kg);
    body["captured_at"] = json!(captured_at);
    let r = post(app, "/api/v1/lots", &p.office, &body).await;
    let status = r.status();
    let lot: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{lot}");
    lot["id"].as_str().unwrap().to_owned()
}

/// The park office raises a request for the warehouse's HW08 by hand; returns its id.
async fn raise(app: &TestApp, p: &Park) -> String {
    let body = json!({"contract_id": p.contract, "warehouse_id": p.warehouse, "category": "HW08"});
    let r = post(app, "/api/v1/pickup-requests", &p.office, &body).await;
    let status = r.status();
    let request: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{request}");
    request["id"].as_str().unwrap().to_owned()
}

/// Schedules the request for today and collects it at the clock's instant; returns the ids
/// of its manifests.
async fn collect(app: &TestApp, p: &Park, request: &str) -> Vec<String> {
    let body = json!({"scheduled_on": app.today().to_string(), "carrier_id": p.carrier,
        "vehicle_id": p.vehicle, "driver_id": p.driver_id});
    let r = post(
        app,
        &format!("/api/v1/pickup-requests/{request}/schedule"),
        &p.dispatcher,
        &body,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "schedule at {}", app.now());
    let scans = crate::manifests::scans(app, &p.office, request).await;
    let body = json!({"vehicle_id": p.vehicle, "scale_id": "SCALE-02", "captured_at": app.now_rfc3339(),
        "gross_grams": 8_600_000, "tare_grams": 8_000_000, "scanned_labels": scans});
    let r = post(
        app,
        &format!("/api/v1/pickup-requests/{request}/collect"),
        &p.driver,
        &body,
    )
    .await;
    let status = r.status();
    let collection: Value = r.json().await.unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "collect at {}: {collection}",
        app.now()
    );
    collection["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Signs a manifest's step with the token of the party it falls to.
async fn sign(app: &TestApp, token: &str, manifest: &str, step: &str, body: Value) {
    let r = post(
        app,
        &format!("/api/v1/manifests/{manifest}/{step}"),
        token,
        &body,
    )
    .await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{step} at {}: {text}", app.now());
}

/// Confirms a manifest as its consignor (the enterprise) and has the driver take it over.
async fn confirm_and_take_over(app: &TestApp, p: &Park, manifest: &str) {
    let m: Value = app
        .get(&format!("/api/v1/manifests/{manifest}"), &p.office)
        .await
        .json()
        .await
        .unwrap();
    let consignor = m["consignor"]["organization_id"].as_str().unwrap();
    let token = if consignor == p.enterprise_a {
        &p.producer_a
    } else if consignor == p.enterprise_b {
        &p.producer_b
    } else {
        &p.office
    };
    sign(app, token, manifest, "confirm", json!({})).await;
    sign(app, &p.driver, manifest, "take-over", json!({})).await;
}

async fn figures(app: &TestApp, token: &str, park: &str, what: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/parks/{park}/figures/{what}"), token)
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    body
}

/// `rows` of a volumes answer as (key, grams, lots).
fn rows(v: &Value) -> Vec<(String, i64, i64)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["grams"].as_i64().unwrap(),
                r["lots"].as_i64().unwrap(),
            )
        })
        .collect()
}

backend_tests! {
    async fn figures_add_up_the_lots_pickups_and_manifests_by_month_of_the_park(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // 23:00 on 31 October in Shanghai.
        app.stand_at("2026-10-31T15:00:00Z");
        let mut p = park(&app, 2000, 80).await;
        let a = p.enterprise_a.clone();
        let b = p.enterprise_b.clone();
        weigh(&app, &p, &a, 300, "2026-10-31T14:30:00Z").await;
        stand_at(&app, &mut p, "2026-10-31T16:05:00Z").await;
        // One second before midnight in Shanghai: October's; at midnight: November's.
        weigh(&app, &p, &a, 100, "2026-10-31T15:59:59Z").await;
        weigh(&app, &p, &b, 200, "2026-10-31T16:00:00Z").await;
        let voided = weigh(&app, &p, &a, 50, "2026-10-31T16:01:00Z").await;
        let r = post(&app, &format!("/api/v1/lots/{voided}/void"), &p.office, &json!({"reason": "entered twice"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        // The stock: 600 kg of HW08 in a zone of 10 t, against the contract's 2 t threshold.
        let stock = figures(&app, &p.office, &p.park, "stock").await;
        assert_eq!(stock["time_zone"], "Asia/Shanghai");
        assert_eq!(stock["today"], "2026-11-01");
        let w = &stock["warehouses"][0];
        assert_eq!(w["warehouse_id"], p.warehouse.as_str());
        assert_eq!(w["stored_grams"], 600_000);
        assert_eq!(w["zones"][0]["zone_id"], p.zone.as_str());
        assert_eq!(w["zones"][0]["capacity_grams"], 10_000_000);
        assert_eq!(w["zones"][0]["stored_grams"], 600_000);
        assert_eq!(w["zones"][0]["fill_percent"], 6);
        assert_eq!(w["zones"][0]["categories"], json!(["HW08"]));
        assert_eq!(
            w["categories"],
            json!([{"contract_id": p.contract, "category": "HW08", "kind": "hazardous", "stored_grams": 600_000,
                "stored_lots": 3, "threshold_grams": 2_000_000, "threshold_percent": 30}])
        );

        // Collected one second before midnight at November's end: a November pickup.
        stand_at(&app, &mut p, "2026-11-30T15:00:00Z").await;
        let first = raise(&app, &p).await;
        stand_at(&app, &mut p, "2026-11-30T15:59:59Z").await;
        // The park gives its collection permit up before the trip (the lots were taken in under
        // it): each enterprise consigns its own.
        let park_path = format!("/api/v1/parks/{}", p.park);
        let r = app.patch_json(&park_path, &p.office, &json!({"collection_permit_number": null})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let manifests = collect(&app, &p, &first).await;
        assert_eq!(manifests.len(), 2, "one manifest per consigning enterprise");
        for m in &manifests {
            confirm_and_take_over(&app, &p, m).await;
        }
        let stock = figures(&app, &p.office, &p.park, "stock").await;
        assert_eq!(stock["warehouses"][0]["stored_grams"], 0);
        assert_eq!(stock["warehouses"][0]["categories"], json!([]));

        // A lot of December, raised at once and collected two days later: a December pickup.
        stand_at(&app, &mut p, "2026-11-30T16:01:00Z").await;
        app.grant_permit(&p.office, &p.park).await;
        weigh(&app, &p, &a, 70, "2026-11-30T16:00:30Z").await;
        let second = raise(&app, &p).await;
        // Receipts 4 hours and 2 days after the take-over, both in December.
        stand_at(&app, &mut p, "2026-11-30T19:59:59Z").await;
        sign(&app, &p.dispatcher, &manifests[0], "receive", json!({"received_grams": 300_000, "decision": "accepted"})).await;
        stand_at(&app, &mut p, "2026-12-02T15:59:59Z").await;
        sign(&app, &p.dispatcher, &manifests[1], "receive", json!({"received_grams": 300_000, "decision": "accepted"})).await;
        stand_at(&app, &mut p, "2026-12-02T16:01:00Z").await;
        collect(&app, &p, &second).await;

        let latency = figures(&app, &p.office, &p.park, "latency?from=2026-10&to=2026-12").await;
        assert_eq!(latency["from"], "2026-10");
        assert_eq!(latency["to"], "2026-12");
        assert_eq!(
            latency["months"],
            json!([
                {"month": "2026-10", "start": "2026-09-30T16:00:00Z", "end": "2026-10-31T16:00:00Z",
                 "pickup": {"count": 0}, "receipt": {"count": 0}},
                {"month": "2026-11", "start": "2026-10-31T16:00:00Z", "end": "2026-11-30T16:00:00Z",
                 "pickup": {"count": 1, "mean_seconds": 3599, "max_seconds": 3599}, "receipt": {"count": 0}},
                {"month": "2026-12", "start": "2026-11-30T16:00:00Z", "end": "2026-12-31T16:00:00Z",
                 "pickup": {"count": 1, "mean_seconds": 172_800, "max_seconds": 172_800},
                 "receipt": {"count": 2, "mean_seconds": 93_600, "max_seconds": 172_800}}
            ])
        );

        // Volumes: the voided lot does not count; the lots collected still do.
        let by_month = figures(&app, &p.office, &p.park, "volumes?from=2026-10&to=2026-12&by=month").await;
        assert_eq!(
            rows(&by_month),
            vec![("2026-10".into(), 400_000, 2), ("2026-11".into(), 200_000, 1), ("2026-12".into(), 70_000, 1)]
        );
        assert_eq!(by_month["total_grams"], 670_000);
        assert_eq!(by_month["total_lots"], 4);
        assert_eq!(by_month["truncated"], false);
        assert_eq!(by_month["start"], "2026-09-30T16:00:00Z");
        assert_eq!(by_month["end"], "2026-12-31T16:00:00Z");
        let by_enterprise = figures(&app, &p.office, &p.park, "volumes?from=2026-10&to=2026-12&by=enterprise").await;
        assert_eq!(rows(&by_enterprise), vec![(a.clone(), 470_000, 3), (b.clone(), 200_000, 1)]);
        assert_eq!(by_enterprise["rows"][0]["name"], "Huaxin Electronics");
        let by_code = figures(&app, &p.office, &p.park, "volumes?from=2026-10&to=2026-12&by=code").await;
        assert_eq!(rows(&by_code), vec![("900-249-08".into(), 670_000, 4)]);
        assert!(by_code["rows"][0]["name"].as_str().unwrap().contains("废矿物油"));
        let by_disposer = figures(&app, &p.office, &p.park, "volumes?from=2026-10&to=2026-12&by=disposer").await;
        assert_eq!(rows(&by_disposer), vec![(p.disposer.clone(), 670_000, 4)]);
        assert_eq!(by_disposer["rows"][0]["name"], "Dongjiang");
        // November alone, in Shanghai: the lot weighed at midnight, not the one a second before.
        let november = figures(&app, &p.office, &p.park, "volumes?from=2026-11&to=2026-11&by=enterprise").await;
        assert_eq!(rows(&november), vec![(b.clone(), 200_000, 1)]);
        // Left out, the months are the last twelve, this one (December) included.
        let default = figures(&app, &p.office, &p.park, "volumes").await;
        assert_eq!(default["from"], "2026-01");
        assert_eq!(default["to"], "2026-12");
        assert_eq!(default["by"], "month");
        assert_eq!(default["rows"].as_array().unwrap().len(), 12);
        assert_eq!(default["total_grams"], 670_000);
    }

    async fn volumes_are_exact_off_the_parks_day_phase_and_after_its_time_zone_changes(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.stand_at("2026-06-20T12:00:00Z");
        let mut p = park(&app, 5000, 80).await;
        let a = p.enterprise_a.clone();
        let b = p.enterprise_b.clone();
        stand_at(&app, &mut p, "2026-07-01T12:00:00Z").await;
        // Around midnight of 1 July in Shanghai (16:00 UTC) and in New York (04:00 UTC in summer,
        // an hour before the 05:00 of its standard time).
        weigh(&app, &p, &a, 100, "2026-06-30T15:59:59Z").await;
        weigh(&app, &p, &b, 200, "2026-06-30T16:00:00Z").await;
        weigh(&app, &p, &a, 300, "2026-07-01T03:59:59Z").await;
        weigh(&app, &p, &b, 400, "2026-07-01T04:00:00Z").await;
        weigh(&app, &p, &a, 500, "2026-07-01T04:30:00Z").await;
        let months = |v: &Value| rows(v);
        let shanghai = figures(&app, &p.office, &p.park, "volumes?from=2026-06&to=2026-07&by=month").await;
        assert_eq!(months(&shanghai), vec![("2026-06".into(), 100_000, 1), ("2026-07".into(), 1_400_000, 4)]);
        let july = figures(&app, &p.office, &p.park, "volumes?from=2026-07&to=2026-07&by=enterprise").await;
        assert_eq!(rows(&july), vec![(a.clone(), 800_000, 2), (b.clone(), 600_000, 2)]);

        // The park moves to New York time: its totals are added up again by its days.
        p.admin = app.admin_token().await;
        let r = app.patch_json(&format!("/api/v1/parks/{}", p.park), &p.admin, &json!({"time_zone": "America/New_York"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        weigh(&app, &p, &b, 600, "2026-07-01T11:00:00Z").await;
        let new_york = figures(&app, &p.office, &p.park, "volumes?from=2026-06&to=2026-07&by=month").await;
        assert_eq!(new_york["start"], "2026-06-01T04:00:00Z");
        assert_eq!(months(&new_york), vec![("2026-06".into(), 600_000, 3), ("2026-07".into(), 1_500_000, 3)]);
        let july = figures(&app, &p.office, &p.park, "volumes?from=2026-07&to=2026-07&by=enterprise").await;
        assert_eq!(rows(&july), vec![(b.clone(), 1_000_000, 2), (a.clone(), 500_000, 1)]);
        let july = figures(&app, &p.office, &p.park, "volumes?from=2026-07&to=2026-07&by=code").await;
        assert_eq!(rows(&july), vec![("900-249-08".into(), 1_500_000, 3)]);

        // A correction moving a lot over the boundary and a void follow at once.
        let moved = weigh(&app, &p, &a, 700, "2026-07-01T10:00:00Z").await;
        let body = json!({"gross_grams": 720_000, "tare_grams": 20_000, "captured_at": "2026-07-01T03:00:00Z", "reason": "the scale's clock"});
        let r = post(&app, &format!("/api/v1/lots/{moved}/corrections"), &p.office, &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        let new_york = figures(&app, &p.office, &p.park, "volumes?from=2026-06&to=2026-07&by=month").await;
        assert_eq!(months(&new_york), vec![("2026-06".into(), 1_300_000, 4), ("2026-07".into(), 1_500_000, 3)]);
        let r = post(&app, &format!("/api/v1/lots/{moved}/void"), &p.office, &json!({"reason": "entered twice"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        // And back to Shanghai.
        let r = app.patch_json(&format!("/api/v1/parks/{}", p.park), &p.admin, &json!({"time_zone": "Asia/Shanghai"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let shanghai = figures(&app, &p.office, &p.park, "volumes?from=2026-06&to=2026-07&by=month").await;
        assert_eq!(months(&shanghai), vec![("2026-06".into(), 100_000, 1), ("2026-07".into(), 2_000_000, 5)]);
    }

    async fn figures_are_read_by_the_park_office_and_the_inspectors_of_its_region(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 2000, 80).await;
        let other_park = app.create_park(&p.admin, "Guangzhou park", "440106").await;
        app.create_user(&p.admin, &other_park, "office_b", "park_office", PASSWORD).await;
        let office_b = access_token(&app.login("office_b", PASSWORD).await);
        let shenzhen = app.create_bureau(&p.admin, "Shenzhen bureau", "4403").await;
        app.create_user(&p.admin, &shenzhen, "inspector_sz", "inspector", PASSWORD).await;
        let inspector_in = access_token(&app.login("inspector_sz", PASSWORD).await);
        let guangzhou = app.create_bureau(&p.admin, "Guangzhou bureau", "4401").await;
        app.create_user(&p.admin, &guangzhou, "inspector_gz", "inspector", PASSWORD).await;
        let inspector_out = access_token(&app.login("inspector_gz", PASSWORD).await);
        let ghost = "org_00000000000000000000000000000000";

        for what in ["stock", "latency", "volumes?by=code"] {
            for token in [&p.admin, &p.office, &inspector_in] {
                figures(&app, token, &p.park, what).await;
            }
            // Another park's office and an inspector elsewhere: as if the park did not exist.
            for token in [&office_b, &inspector_out] {
                let r = app.get(&format!("/api/v1/parks/{}/figures/{what}", p.park), token).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
                let r = app.get(&format!("/api/v1/parks/{ghost}/figures/{what}"), token).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            }
            // Enterprises, dispatchers and drivers read no park's figures, whichever the park.
            for token in [&p.producer_a, &p.dispatcher, &p.driver] {
                for park in [p.park.as_str(), ghost] {
                    let r = app.get(&format!("/api/v1/parks/{park}/figures/{what}"), token).await;
                    assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
                }
            }
        }
        let r = app.get(&format!("/api/v1/parks/{}/figures/stock", p.park), "not-a-token").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }

    async fn figures_refuse_bad_months_and_groupings_naming_the_field(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 2000, 80).await;
        for (query, fields) in [
            ("latency?from=2026-13", vec!["from"]),
            ("latency?from=2026-1&to=26-11", vec!["from", "to"]),
            ("latency?from=", vec!["from"]),
            ("latency?from=2026-11&to=2026-10", vec!["to"]),
            ("latency?from=2024-01&to=2027-01", vec!["to"]),
            ("volumes?by=colour", vec!["by"]),
            ("volumes?by=", vec!["by"]),
            ("volumes?from=2026-13&by=colour", vec!["from", "by"]),
        ] {
            let r = app.get(&format!("/api/v1/parks/{}/figures/{query}", p.park), &p.office).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), fields, "{query}");
        }
        // 36 months are fine.
        let v = figures(&app, &p.office, &p.park, "volumes?from=2024-01&to=2026-12&by=month").await;
        assert_eq!(v["rows"].as_array().unwrap().len(), 36);
    }
}

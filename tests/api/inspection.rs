//! The inspector's desk: the inspectors' scope on both sides of a transfer and across
//! jurisdictions (a park in one county, its disposal company in another), the lot filters
//! across every park of a jurisdiction, the traces of a lot and of a manifest, the anomaly
//! lists, and the storage-age alarm that reaches the inspectors when a lot passes its limit.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields, time_travel};
use crate::pickups::{PASSWORD, Park, inbox, park, weigh, weighing};

/// The inspectors of four bureaus: the park's county (Longgang, 440307), the disposal
/// company's county (Pingshan, 440310), the whole city (Shenzhen, 4403) and another city
/// (Guangzhou, 4401).
struct Inspectors {
    park_side: String,
    receiving_side: String,
    city: String,
    elsewhere: String,
}

async fn inspectors(app: &TestApp, p: &Park) -> Inspectors {
    let mut tokens = Vec::new();
    for (name, jurisdiction) in [
        ("longgang", "440307"),
        ("pingshan", "440310"),
        ("shenzhen", "4403"),
        ("guangzhou", "4401"),
    ] {
        let bureau = app
            .create_bureau(&p.admin, &format!("{name} bureau"), jurisdiction)
            .await;
        app.create_user(&p.admin, &bureau, name, "inspector", PASSWORD)
            .await;
        tokens.push(access_token(&app.login(name, PASSWORD).await));
    }
    let mut tokens = tokens.into_iter();
    let mut next = || tokens.next().unwrap();
    Inspectors {
        park_side: next(),
        receiving_side: next(),
        city: next(),
        elsewhere: next(),
    }
}

/// A second park in the same county, with its office, an enterprise in a contract with the
/// same disposal company, and one lot weighed in. Returns (park, office token, lot).
async fn second_park(app: &TestApp, p: &Park) -> (String, String, Value) {
    let park2 = app.create_park(&p.admin, "Pingdi park", "440307").await;
    let enterprise = app
        .create_enterprise(&p.admin, &park2, "Pingdi Plating")
        .await;
    let contract = json!({"park_id": park2, "disposer_id": p.disposer, "number": "C-2", "valid_from": app.day(-365),
        "valid_to": app.day(365), "max_storage_days": 180, "members": [{"enterprise_id": enterprise}],
        "prices": [{"target": "HW08", "fen_per_tonne": 280_000}]});
    app.created_id("/api/v1/contracts", &p.admin, &contract)
        .await;
    let warehouse = app
        .created_id(
            "/api/v1/warehouses",
            &p.admin,
            &json!({"park_id": park2, "name": "No. 2", "address": "D1"}),
        )
        .await;
    let zone = app
        .created_id(&format!("/api/v1/warehouses/{warehouse}/zones"), &p.admin,
            // The enterprise's own storage point: the park holds no collection permit.
            &json!({"name": "B1", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000,
                "enterprise_id": enterprise}))
        .await;
    app.create_user(&p.admin, &park2, "office2", "park_office", PASSWORD)
        .await;
    let office2 = access_token(&app.login("office2", PASSWORD).await);
    let mut body = weighing(p, &enterprise, 40);
    body["zone_id"] = json!(zone);
    let r = app.post_json("/api/v1/lots", Some(&office2), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    (park2, office2, r.json().await.unwrap())
}

/// Weighs two enterprises' lots (300 and 250 kg: the 500 kg threshold calls), schedules and
/// collects them (540 kg out) under the park's collection permit: returns the two lots and the
/// manifest's id.
async fn transfer(app: &TestApp, p: &Park) -> (Value, Value, String) {
    // The park's warehouse consigns: one manifest groups both enterprises' lots.
    crate::manifests::with_permit(app, p).await;
    let lot_a = weigh(app, p, &p.enterprise_a, 300).await;
    let lot_b = weigh(app, p, &p.enterprise_b, 250).await;
    let request = lot_b["pickup_request_id"]
        .as_str()
        .expect("a request")
        .to_owned();
    let body = json!({"scheduled_on": app.day(0), "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id});
    let r = app
        .post_json(
            &format!("/api/v1/pickup-requests/{request}/schedule"),
            Some(&p.dispatcher),
            &body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let scans = crate::manifests::scans(app, &p.office, &request).await;
    let out = json!({"vehicle_id": p.vehicle, "scale_id": "SCALE-02", "captured_at": app.now_rfc3339(),
        "gross_grams": 548_000, "tare_grams": 8_000, "scanned_labels": scans});
    let r = app
        .post_json(
            &format!("/api/v1/pickup-requests/{request}/collect"),
            Some(&p.driver),
            &out,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let collection: Value = r.json().await.unwrap();
    let manifest = collection["manifests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (lot_a, lot_b, manifest)
}

async fn step(app: &TestApp, token: &str, manifest: &str, step: &str, body: &Value) -> Value {
    let r = app
        .post_json(
            &format!("/api/v1/manifests/{manifest}/{step}"),
            Some(token),
            body,
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{step}: {body}");
    body
}

async fn items(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let r = app.get(path, token).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["items"].as_array().unwrap().clone()
}

async fn ids(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let mut ids: Vec<String> = items(app, token, path)
        .await
        .iter()
        .map(|i| {
            i["id"]
                .as_str()
                .or(i["subject_id"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    ids
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn status(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.get(path, token).await.status()
}

backend_tests! {
    async fn inspectors_see_a_transfer_from_both_sides_and_lots_only_in_their_parks(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let i = inspectors(&app, &p).await;
        let (park2, _office2, lot_c) = second_park(&app, &p).await;
        let (lot_a, lot_b, manifest) = transfer(&app, &p).await;
        let (lot_a, lot_b, lot_c) = (id(&lot_a), id(&lot_b), id(&lot_c));

        // The manifest: read, searched, printed and traced by both sides and the city, not by
        // another city.
        for token in [&i.park_side, &i.receiving_side, &i.city] {
            for path in ["", "/print.html", "/trace", "/versions", "/revisions"] {
                assert_eq!(status(&app, token, &format!("/api/v1/manifests/{manifest}{path}")).await, StatusCode::OK, "{path}");
            }
            assert_eq!(ids(&app, token, "/api/v1/manifests").await, vec![manifest.clone()]);
            assert_eq!(ids(&app, token, &format!("/api/v1/manifests?park_id={}", p.park)).await, vec![manifest.clone()]);
            assert!(ids(&app, token, &format!("/api/v1/manifests?park_id={park2}")).await.is_empty());
        }
        for path in ["", "/print.html", "/trace", "/versions"] {
            let r = app.get(&format!("/api/v1/manifests/{manifest}{path}"), &i.elsewhere).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        assert!(ids(&app, &i.elsewhere, "/api/v1/manifests").await.is_empty());
        let r = app.get("/api/v1/manifests/export.csv", &i.receiving_side).await;
        assert!(r.text().await.unwrap().lines().count() == 2, "the export follows the list's scope");
        // Reading is all an inspector does, on either side.
        for token in [&i.park_side, &i.receiving_side] {
            let r = app.post_json(&format!("/api/v1/manifests/{manifest}/confirm"), Some(token), &json!({})).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let r = app.post_json(&format!("/api/v1/manifests/{manifest}/confirm"), Some(&i.elsewhere), &json!({})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // The lots stay the park's: its county and city read them, the receiving side does not.
        for token in [&i.park_side, &i.city] {
            assert_eq!(ids(&app, token, "/api/v1/lots").await, sorted(vec![lot_a.clone(), lot_b.clone(), lot_c.clone()]));
            for lot in [&lot_a, &lot_c] {
                assert_eq!(status(&app, token, &format!("/api/v1/lots/{lot}")).await, StatusCode::OK);
                assert_eq!(status(&app, token, &format!("/api/v1/lots/{lot}/trace")).await, StatusCode::OK);
            }
        }
        for token in [&i.receiving_side, &i.elsewhere] {
            assert!(ids(&app, token, "/api/v1/lots").await.is_empty());
            for path in ["", "/trace", "/history", "/label.svg"] {
                let r = app.get(&format!("/api/v1/lots/{lot_a}{path}"), token).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            }
        }
        // The receiving side traces the manifest back to every lot and enterprise, without
        // reading the park's lots themselves.
        let trace: Value = app.get(&format!("/api/v1/manifests/{manifest}/trace"), &i.receiving_side).await.json().await.unwrap();
        let traced: Vec<&str> = trace["lots"].as_array().unwrap().iter().map(|l| l["lot_id"].as_str().unwrap()).collect();
        assert_eq!(sorted(traced.iter().map(|s| s.to_string()).collect()), sorted(vec![lot_a.clone(), lot_b.clone()]));
        assert!(trace["lots"].as_array().unwrap().iter().all(|l| l.get("lot").is_none()), "{trace}");
        assert_eq!(trace["enterprises"].as_array().unwrap().len(), 2);
        assert!(trace.get("pickup_request").is_none(), "the request is the park's");
        assert_eq!(trace["collection"]["net_grams"], 540_000);
        let trace: Value = app.get(&format!("/api/v1/manifests/{manifest}/trace"), &i.park_side).await.json().await.unwrap();
        assert!(trace["lots"].as_array().unwrap().iter().all(|l| l["lot"]["status"] == "collected"), "{trace}");
        assert_eq!(trace["pickup_request"]["status"], "collected");

        // The lot filters work across every park of the jurisdiction.
        let today = app.day(0);
        for (query, expected) in [
            (format!("?park_id={park2}"), vec![lot_c.clone()]),
            (format!("?park_id={}", p.park), sorted(vec![lot_a.clone(), lot_b.clone()])),
            (format!("?enterprise_id={}", p.enterprise_a), vec![lot_a.clone()]),
            ("?waste_code=900-249-08&status=collected".to_owned(), sorted(vec![lot_a.clone(), lot_b.clone()])),
            ("?status=stored".to_owned(), vec![lot_c.clone()]),
            (format!("?from={today}&to={today}"), sorted(vec![lot_a.clone(), lot_b.clone(), lot_c.clone()])),
            (format!("?to={}", app.day(-1)), vec![]),
            ("?flagged=true".to_owned(), vec![]),
            ("?flagged=false".to_owned(), sorted(vec![lot_a.clone(), lot_b.clone(), lot_c.clone()])),
        ] {
            assert_eq!(ids(&app, &i.park_side, &format!("/api/v1/lots{query}")).await, expected, "{query}");
        }

        // Received short beyond the tolerance: flagged, on both sides; its lots are found by the flag.
        step(&app, &p.office, &manifest, "confirm", &json!({})).await;
        step(&app, &p.driver, &manifest, "take-over", &json!({})).await;
        step(&app, &p.dispatcher, &manifest, "receive", &json!({"received_grams": 400_000, "decision": "accepted"})).await;
        assert_eq!(ids(&app, &i.park_side, "/api/v1/lots?flagged=true").await, sorted(vec![lot_a.clone(), lot_b.clone()]));
        assert_eq!(ids(&app, &i.park_side, "/api/v1/lots?flagged=false").await, vec![lot_c.clone()]);
        for token in [&i.park_side, &i.receiving_side, &i.city] {
            assert_eq!(ids(&app, token, "/api/v1/manifests?flagged=true").await, vec![manifest.clone()]);
        }
        assert!(ids(&app, &i.elsewhere, "/api/v1/manifests?flagged=true").await.is_empty());
        // Both sides are told of the flag, once; another city is not.
        for token in [&i.park_side, &i.receiving_side, &i.city] {
            assert_eq!(inbox(&app, token, "?type=manifest.flagged").await.len(), 1);
        }
        assert!(inbox(&app, &i.elsewhere, "").await.is_empty());
    }

    async fn a_trace_follows_a_lot_to_its_treatment_and_a_manifest_back_to_its_enterprises(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let stored = weigh(&app, &p, &p.enterprise_a, 100).await;
        let trace: Value = app.get(&format!("/api/v1/lots/{}/trace", id(&stored)), &p.office).await.json().await.unwrap();
        assert_eq!(trace["stage"], "stored");
        assert!(trace["pickup_requests"].as_array().unwrap().is_empty());
        assert!(trace.get("collection").is_none());

        let (lot_a, lot_b, manifest) = transfer(&app, &p).await;
        // The first lot (100 kg) was in the request too: three lots, two enterprises.
        let lot = |l: &Value| format!("/api/v1/lots/{}/trace", id(l));
        let trace: Value = app.get(&lot(&lot_a), &p.office).await.json().await.unwrap();
        assert_eq!(trace["stage"], "collected");
        assert_eq!(trace["lot"]["status"], "collected");
        assert_eq!(trace["pickup_requests"][0]["status"], "collected");
        assert_eq!(trace["collection"]["request_id"], trace["pickup_requests"][0]["id"]);
        assert_eq!(trace["manifests"][0]["id"], manifest.as_str());
        step(&app, &p.office, &manifest, "confirm", &json!({})).await;
        step(&app, &p.driver, &manifest, "take-over", &json!({})).await;
        assert_eq!(app.get(&lot(&lot_a), &p.office).await.json::<Value>().await.unwrap()["stage"], "in_transit");
        step(&app, &p.dispatcher, &manifest, "receive", &json!({"received_grams": 630_000, "decision": "accepted"})).await;
        step(&app, &p.dispatcher, &manifest, "complete", &json!({"treatment": "D10 incineration"})).await;
        let trace: Value = app.get(&lot(&lot_a), &p.office).await.json().await.unwrap();
        assert_eq!(trace["stage"], "completed");
        assert_eq!(trace["manifests"][0]["treatment"], "D10 incineration");
        assert_eq!(trace["manifests"][0]["decision"], "accepted");

        // An enterprise traces its own lot, sees only its own lots in the manifest, and not the
        // whole trip's weight; not the other enterprise's lot.
        let own: Value = app.get(&lot(&lot_a), &p.producer_a).await.json().await.unwrap();
        assert_eq!(own["stage"], "completed");
        assert_eq!(own["manifests"][0]["origins"].as_array().unwrap().len(), 2, "its two lots");
        assert!(own["collection"].get("net_grams").is_none());
        let r = app.get(&lot(&lot_b), &p.producer_a).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let m: Value = app.get(&format!("/api/v1/manifests/{manifest}/trace"), &p.producer_b).await.json().await.unwrap();
        assert_eq!(m["lots"].as_array().unwrap().len(), 1);
        assert_eq!(m["lots"][0]["lot_id"], lot_b["id"]);
        assert_eq!(m["enterprises"], json!([{"enterprise_id": p.enterprise_b, "name": "Bolin Machinery", "lots": 1, "inbound_grams": 250_000}]));
        assert!(m["collection"].get("net_grams").is_none());
        // The park office: every lot, both enterprises.
        let m: Value = app.get(&format!("/api/v1/manifests/{manifest}/trace"), &p.office).await.json().await.unwrap();
        assert_eq!(m["lots"].as_array().unwrap().len(), 3);
        assert_eq!(m["enterprises"].as_array().unwrap().len(), 2);
        let a = m["enterprises"].as_array().unwrap().iter().find(|e| e["enterprise_id"] == p.enterprise_a.as_str()).unwrap().clone();
        assert_eq!((a["lots"].clone(), a["inbound_grams"].clone()), (json!(2), json!(400_000)));
        // The driver reads the manifest of its trip, not the lots; an outsider nothing.
        assert_eq!(status(&app, &p.driver, &format!("/api/v1/manifests/{manifest}/trace")).await, StatusCode::OK);
        let d: Value = app.get(&format!("/api/v1/manifests/{manifest}/trace"), &p.driver).await.json().await.unwrap();
        assert!(d["lots"].as_array().unwrap().iter().all(|l| l.get("lot").is_none()));
        for path in [lot(&lot_a), format!("/api/v1/manifests/{manifest}/trace")] {
            let r = app.get(&path, &p.outsider_user).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        let r = app.get(&lot(&lot_a), &p.driver).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = app.get("/api/v1/lots/lot_0193f1c2a4b87d21a1c6e1f0b2d3c500/trace", &p.office).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
    }

    async fn anomaly_lists_cover_the_jurisdiction_and_both_sides_of_a_transfer(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 500, 80).await;
        let i = inspectors(&app, &p).await;
        let list = |kind: &str| format!("/api/v1/anomalies?kind={kind}");

        // Who reads them: inspectors and park offices; the other roles are refused.
        for token in [&p.producer_a, &p.dispatcher, &p.driver] {
            let r = app.get(&list("zone_full"), token).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        for (query, field) in [("?kind=everything", "kind"), ("?kind=idle_member&months=0", "months"), ("?kind=idle_member&months=25", "months"),
                               ("?kind=licence_expiring&within_days=366", "within_days"), ("?kind=zone_full&limit=0", "limit"), ("", "kind"),
                               ("?kind=zone_full&within_days=", "within_days")] {
            let r = app.get(&format!("/api/v1/anomalies{query}"), &i.park_side).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field], "{query}");
        }

        // A zone at 95 %: the park's county and the office see it; the receiving side does not.
        let small = app.created_id(&format!("/api/v1/warehouses/{}/zones", p.warehouse), &p.admin,
            &json!({"name": "A9", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 100_000})).await;
        let mut full = weighing(&p, &p.enterprise_a, 95);
        full["zone_id"] = json!(small);
        assert_eq!(app.post_json("/api/v1/lots", Some(&p.office), &full).await.status(), StatusCode::CREATED);
        for token in [&i.park_side, &i.city, &p.office] {
            let zones = items(&app, token, &list("zone_full")).await;
            assert_eq!(zones.len(), 1);
            assert_eq!(zones[0]["subject_id"], small.as_str());
            assert_eq!(zones[0]["park_id"], p.park.as_str());
            assert_eq!(zones[0]["detail"]["percent"], 95);
        }
        assert!(items(&app, &i.receiving_side, &list("zone_full")).await.is_empty());
        assert!(items(&app, &i.elsewhere, &list("zone_full")).await.is_empty());
        // Narrowed to a park: one the caller may read, else 404.
        assert_eq!(items(&app, &i.city, &format!("{}&park_id={}", list("zone_full"), p.park)).await.len(), 1);
        let r = app.get(&format!("{}&park_id={}", list("zone_full"), p.park), &i.elsewhere).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // A transfer (it takes the zone's lot too), taken over, then received short with a
        // partial refusal.
        let (lot_a, _, manifest) = transfer(&app, &p).await;
        step(&app, &p.office, &manifest, "confirm", &json!({})).await;
        step(&app, &p.driver, &manifest, "take-over", &json!({})).await;
        // Overdue: not recorded as arrived within the transport days after the take-over.
        app.advance(Duration::days(8));
        for token in [&i.park_side, &i.receiving_side, &i.city, &p.office] {
            assert_eq!(ids(&app, token, &list("receipt_overdue")).await, vec![manifest.clone()]);
        }
        assert!(ids(&app, &i.elsewhere, &list("receipt_overdue")).await.is_empty());
        step(&app, &p.dispatcher, &manifest, "receive",
            &json!({"received_grams": 400_000, "decision": "partially_refused", "refused_grams": 20_000,
                "refused_lots": [{"lot_id": lot_a["id"], "grams": 20_000}]})).await;
        assert!(ids(&app, &i.receiving_side, &list("receipt_overdue")).await.is_empty(), "received");
        for kind in ["mass_balance", "refusal_open"] {
            for token in [&i.park_side, &i.receiving_side, &i.city, &p.office] {
                let found = items(&app, token, &list(kind)).await;
                assert_eq!(found.len(), 1, "{kind}");
                assert_eq!(found[0]["subject_id"], manifest.as_str());
                assert_eq!(found[0]["disposer_id"], p.disposer.as_str());
            }
            assert!(items(&app, &i.elsewhere, &list(kind)).await.is_empty());
        }
        step(&app, &p.office, &manifest, "resolve", &json!({"resolution": "taken back and repacked"})).await;
        assert!(items(&app, &i.park_side, &list("refusal_open")).await.is_empty(), "resolved");

        // A licence of the disposal company ending in ten days: both sides see it.
        let licence = app.created_id(&format!("/api/v1/disposers/{}/licences", p.disposer), &p.admin,
            &json!({"number": "L-9", "issuing_authority": "GDEE", "valid_from": app.day(-300), "valid_to": app.day(10),
                "annual_capacity_grams": 1_000_000i64, "scope": ["HW08"]})).await;
        for token in [&i.park_side, &i.receiving_side, &p.office] {
            let found = items(&app, token, &list("licence_expiring")).await;
            assert_eq!(found.len(), 1, "L-1 ends in more than a year");
            assert_eq!(found[0]["subject_id"], licence.as_str());
            assert_eq!(found[0]["detail"]["days_left"], 10);
        }
        assert!(items(&app, &i.elsewhere, &list("licence_expiring")).await.is_empty());
        assert!(items(&app, &i.park_side, &format!("{}&within_days=5", list("licence_expiring"))).await.is_empty());
        // Twenty days on it has ended: still listed within 30 days, not within 5.
        app.advance(Duration::days(20));
        let found = items(&app, &i.park_side, &list("licence_expiring")).await;
        assert_eq!(found[0]["detail"]["expired"], true);
        assert!(items(&app, &i.park_side, &format!("{}&within_days=5", list("licence_expiring"))).await.is_empty());

        // Idle members: forty days on, nobody handed anything in for a month; within three
        // months both did.
        app.advance(Duration::days(40));
        let idle = |q: &str| format!("{}{q}", list("idle_member"));
        let found = items(&app, &p.office, &idle("&months=1")).await;
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(items(&app, &p.office, &idle("")).await.is_empty(), "lots within three months");
        weigh(&app, &p, &p.enterprise_a, 10).await;
        let found = items(&app, &i.park_side, &idle("&months=1")).await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["enterprise_id"], p.enterprise_b.as_str());
        assert_eq!(found[0]["detail"]["months"], 1);
        assert!(found[0]["detail"]["last_lot_at"].is_string());
        assert!(items(&app, &i.receiving_side, &idle("&months=1")).await.is_empty(), "members are the park's");

        // Storage past the contract's 180 days: the two lots weighed since.
        weigh(&app, &p, &p.enterprise_b, 20).await;
        assert!(items(&app, &i.park_side, &list("storage_overdue")).await.is_empty());
        app.advance(Duration::days(181));
        let found = items(&app, &i.park_side, &list("storage_overdue")).await;
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().all(|a| a["detail"]["max_storage_days"] == 180));
        // Paged like every list.
        let r = app.get(&format!("{}&limit=1", list("storage_overdue")), &i.city).await;
        let first: Value = r.json().await.unwrap();
        assert_eq!(first["items"].as_array().unwrap().len(), 1);
        let cursor = first["next_cursor"].as_str().expect("a second page").to_owned();
        let r = app.get(&format!("{}&limit=1&cursor={cursor}", list("storage_overdue")), &i.city).await;
        let second: Value = r.json().await.unwrap();
        assert_eq!(second["items"].as_array().unwrap().len(), 1);
        assert!(second.get("next_cursor").is_none());
        assert_ne!(first["items"][0]["subject_id"], second["items"][0]["subject_id"]);
        assert!(items(&app, &i.receiving_side, &list("storage_overdue")).await.is_empty());
    }

    async fn a_lot_past_its_storage_limit_alarms_the_inspectors_of_its_park(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 5000, 80).await;
        let i = inspectors(&app, &p).await;
        let lot = weigh(&app, &p, &p.enterprise_a, 50).await;
        let db = wastetrack::db::Db::connect(app.database_url(), 1).unwrap();
        let mut conn = db.get().unwrap();
        let sweep = |conn: &mut wastetrack::db::DbConn| wastetrack::lots::alarms::sweep(conn, app.now()).unwrap();
        let alarms = |token: &str| {
            let token = token.to_owned();
            let app = &app;
            async move { inbox(app, &token, "?type=alarm.storage_age").await }
        };
        // 150 of 180 days: the warning reaches the office and the enterprise only.
        app.advance(Duration::days(150));
        sweep(&mut conn);
        assert_eq!(alarms(&p.office).await.len(), 1);
        assert_eq!(alarms(&p.producer_a).await.len(), 1);
        for token in [&i.park_side, &i.city, &i.receiving_side, &i.elsewhere] {
            assert!(alarms(token).await.is_empty());
        }
        // The last second of the period: still only the warning.
        app.advance(Duration::days(30) - Duration::seconds(301));
        sweep(&mut conn);
        assert!(alarms(&i.park_side).await.is_empty());
        // 180 days: exceeded, told once to the inspectors whose jurisdiction covers the park.
        app.advance(Duration::seconds(2));
        sweep(&mut conn);
        sweep(&mut conn);
        for token in [&i.park_side, &i.city] {
            let told = alarms(token).await;
            assert_eq!(told.len(), 1, "told once");
            assert_eq!(told[0]["subject_id"], lot["id"]);
            assert_eq!(told[0]["data"]["level"], "exceeded");
        }
        for token in [&i.receiving_side, &i.elsewhere] {
            assert!(alarms(token).await.is_empty(), "not the park's jurisdiction");
        }
        assert_eq!(alarms(&p.office).await.len(), 2, "warning, then exceeded");
    }
}

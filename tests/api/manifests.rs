//! Pickup, outbound weighing and transfer manifests: the whole flow from several enterprises'
//! lots to the disposer and back, each signed step refusing the wrong role, the partial refusal
//! and the mass balance, revisions and versions, search and print, concurrent manifests with
//! gap-free numbers, and the refusals of a collection.

use chrono::{Datelike, FixedOffset};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields, time_travel};
use crate::pickups::{PASSWORD, Park, inbox, park, weigh};

/// The park's warehouse holds a collection permit: it is the consignor of what leaves.
pub async fn with_permit(app: &TestApp, p: &Park) {
    let r = app
        .patch_json(
            &format!("/api/v1/parks/{}", p.park),
            &p.admin,
            &json!({"collection_permit_number": "440300-HW-2026-012"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

pub async fn schedule(app: &TestApp, p: &Park, request: &str) {
    let body = json!({"scheduled_on": app.day(0), "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id});
    let r = app
        .post_json(
            &format!("/api/v1/pickup-requests/{request}/schedule"),
            Some(&p.dispatcher),
            &body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

pub fn outbound(p: &Park, net_kg: i64) -> Value {
    json!({"vehicle_id": p.vehicle, "scale_id": "SCALE-02", "captured_at": p.clock.now().to_rfc3339(),
        "gross_grams": net_kg * 1000 + 8_000_000, "tare_grams": 8_000_000})
}

/// What the driver scans at loading: the label of every container of the lots waiting in the
/// request (a hazardous container's digital code; a general one's QR code, its verification
/// URL), read by `token`.
pub async fn scans(app: &TestApp, token: &str, request: &str) -> Vec<String> {
    let r = app
        .get(&format!("/api/v1/pickup-requests/{request}"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let request: Value = r.json().await.unwrap();
    let mut codes = Vec::new();
    for lot in request["lots"].as_array().unwrap() {
        if lot["status"] != "stored" && lot["status"] != "declared" {
            continue;
        }
        let r = app
            .get(
                &format!(
                    "/api/v1/lots/{}/containers",
                    lot["lot_id"].as_str().unwrap()
                ),
                token,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        for c in r.json::<Value>().await.unwrap().as_array().unwrap() {
            codes.push(
                c["label_code"]
                    .as_str()
                    .or(c["verify_url"].as_str())
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    codes
}

/// The vehicle's outbound weighing, every label of the request scanned.
pub async fn loaded(app: &TestApp, p: &Park, request: &str, net_kg: i64) -> Value {
    let mut body = outbound(p, net_kg);
    body["scanned_labels"] = json!(scans(app, &p.office, request).await);
    body
}

/// Schedules the request that `last_lot` raised and collects it with every label scanned,
/// `net_kg` weighed out: the collection.
pub async fn collect_request(app: &TestApp, p: &Park, last_lot: &Value, net_kg: i64) -> Value {
    let request = last_lot["pickup_request_id"]
        .as_str()
        .expect("the lot raises a request")
        .to_owned();
    schedule(app, p, &request).await;
    let r = app
        .post_json(
            &format!("/api/v1/pickup-requests/{request}/collect"),
            Some(&p.driver),
            &loaded(app, p, &request, net_kg).await,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.post_json(path, Some(token), body).await
}

pub async fn manifest(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/manifests/{id}"), token).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The ids of every item of the list `/api/v1/{list}?{query}`, read page by page.
async fn pages_of(app: &TestApp, list: &str, token: String, query: String) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/{list}?{query}&cursor={c}"),
            None => format!("/api/v1/{list}?{query}"),
        };
        let r = app.get(&url, &token).await;
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let page: Value = r.json().await.unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
}

async fn search(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/manifests{query}"), token).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn year_prefix(app: &TestApp) -> String {
    let year = app
        .now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .year();
    format!("{year}4403")
}

backend_tests! {
    async fn the_whole_flow_traces_every_lot_from_the_enterprises_to_the_disposer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let bureau = app.create_bureau(&p.admin, "Longgang bureau", "4403").await;
        let elsewhere = app.create_bureau(&p.admin, "Guangzhou bureau", "4401").await;
        app.create_user(&p.admin, &bureau, "inspector", "inspector", PASSWORD).await;
        app.create_user(&p.admin, &elsewhere, "inspector2", "inspector", PASSWORD).await;
        let inspector = access_token(&app.login("inspector", PASSWORD).await);
        let inspector2 = access_token(&app.login("inspector2", PASSWORD).await);

        // Two enterprises weigh in; the threshold fires; the disposer schedules.
        let lot_a = weigh(&app, &p, &p.enterprise_a, 300).await;
        let lot_b = weigh(&app, &p, &p.enterprise_b, 250).await;
        let request = lot_b["pickup_request_id"].as_str().expect("a request").to_owned();
        schedule(&app, &p, &request).await;
        let collect = format!("/api/v1/pickup-requests/{request}/collect");
        let load = loaded(&app, &p, &request, 540).await;

        // Collecting refuses the wrong people, vehicles and drivers.
        let r = post(&app, &collect, &p.office, &load).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &collect, &p.outsider_user, &load).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let other = app.create_org(&p.admin, "carrier", "Other Transport").await;
        let other_vehicle = app.created_id("/api/v1/vehicles", &p.admin,
            &json!({"operator_id": other, "plate": "粤B·99999", "dangerous_goods_permit_number": "1"})).await;
        let other_driver = app.create_user(&p.admin, &other, "driver9", "driver", PASSWORD).await;
        let mut bad = load.clone();
        bad["vehicle_id"] = json!(other_vehicle);
        bad["driver_id"] = json!(other_driver);
        let r = post(&app, &collect, &p.dispatcher, &bad).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["vehicle_id", "driver_id"]);
        let mut someone_else = load.clone();
        someone_else["driver_id"] = json!(other_driver);
        let r = post(&app, &collect, &p.driver, &someone_else).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "not_you", "a driver records only their own collection");

        // The driver collects: 550 kg weighed in, 540 kg weighed out.
        let r = post(&app, &collect, &p.driver, &load).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        assert_eq!(collection["net_grams"], 540_000);
        assert_eq!(collection["lot_ids"].as_array().unwrap().len(), 2);
        let manifests = collection["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 1, "one manifest per trip and kind of waste");
        let number = manifests[0]["number"].as_str().unwrap().to_owned();
        assert_eq!(number, format!("WT-{}-000001", year_prefix(&app)));
        let id = manifests[0]["id"].as_str().unwrap().to_owned();

        // The lots left the stock; the request is collected and cannot be collected again.
        for lot in [&lot_a, &lot_b] {
            let now: Value = app.get(&format!("/api/v1/lots/{}", lot["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
            assert_eq!(now["status"], "collected");
        }
        let stock: Value = app.get(&format!("/api/v1/warehouses/{}/inventory", p.warehouse), &p.office).await.json().await.unwrap();
        assert_eq!(stock["zones"][0]["stored_grams"], 0);
        let r: Value = app.get(&format!("/api/v1/pickup-requests/{request}"), &p.office).await.json().await.unwrap();
        assert_eq!(r["status"], "collected");
        let r = post(&app, &collect, &p.driver, &load).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        assert_eq!(inbox(&app, &p.producer_a, "?type=pickup.collected").await.len(), 1);

        // The manifest: the warehouse as consignor, the carrier, the receiver, the lots it groups.
        let m = manifest(&app, &p.office, &id).await;
        assert_eq!(m["kind"], "hazardous");
        assert_eq!(m["status"], "draft");
        assert_eq!(m["consignor_type"], "park_warehouse");
        assert_eq!(m["consignor"]["organization_id"], p.park.as_str());
        assert_eq!(m["consignor"]["permit"], "440300-HW-2026-012");
        assert_eq!(m["carrier"]["organization_id"], p.carrier.as_str());
        assert_eq!(m["carrier"]["permit"], "粤交运440300001");
        assert_eq!(m["vehicle"]["plate"], "粤B12345");
        assert_eq!(m["driver"]["id"], p.driver_id.as_str());
        assert_eq!(m["receiver"]["organization_id"], p.disposer.as_str());
        assert_eq!(m["receiver"]["permit"], "L-1");
        assert_eq!(m["waste_code"], "900-249-08");
        assert_eq!(m["characteristics"], json!(["T", "I"]));
        assert_eq!(m["packaging"], "drum × 2");
        assert!(m["emergency_measures"].as_str().unwrap().contains("易燃性"));
        let origins = m["origins"].as_array().unwrap();
        assert_eq!(origins.len(), 2);
        let from_a = origins.iter().find(|o| o["enterprise_id"] == p.enterprise_a.as_str()).unwrap();
        assert_eq!(from_a["inbound_grams"], 300_000);
        assert_eq!(from_a["label_code"], lot_a["label_code"]);
        assert_eq!(m["mass_balance"]["inbound_grams"], 550_000);
        assert_eq!(m["mass_balance"]["outbound_grams"], 540_000);
        assert_eq!(m["mass_balance"]["flagged"], false);
        // The label's public page follows the container: collected on this manifest.
        let containers: Value = app.get(&format!("/api/v1/lots/{}/containers", lot_a["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        let url = containers[0]["verify_url"].as_str().unwrap();
        let public_page = app.url(&url[url.find("/api/").unwrap()..]);
        let public: Value = app.client.get(&public_page).send().await.unwrap().json().await.unwrap();
        assert_eq!((public["status"].as_str(), public["manifest_number"].as_str()), (Some("collected"), m["number"].as_str()));

        // Each step refuses the wrong role.
        let step = |s: &str| format!("/api/v1/manifests/{id}/{s}");
        for token in [&p.driver, &p.dispatcher, &p.producer_a] {
            let r = post(&app, &step("confirm"), token, &json!({})).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let r = post(&app, &step("confirm"), &p.outsider_user, &json!({})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = post(&app, &step("confirm"), &inspector, &json!({})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &step("take-over"), &p.driver, &json!({})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = post(&app, &step("confirm"), &p.office, &json!({})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "confirmed");
        for token in [&p.office, &p.dispatcher] {
            let r = post(&app, &step("take-over"), token, &json!({})).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        // Only the manifest's own driver signs for the carrier; another driver cannot even see it.
        app.create_user(&p.admin, &p.carrier, "driver2", "driver", PASSWORD).await;
        let driver2 = access_token(&app.login("driver2", PASSWORD).await);
        let r = post(&app, &step("take-over"), &driver2, &json!({})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = post(&app, &step("take-over"), &p.driver, &json!({})).await;
        let taken: Value = r.json().await.unwrap();
        assert_eq!(taken["status"], "in_transit");
        assert_eq!(taken["arrival_due_on"], app.day(3), "three transport days by default");
        assert!(taken["receipt_due_on"].is_null(), "due from the arrival");
        assert_eq!(taken["receipt_overdue"], false);
        let receipt = json!({"received_grams": 470_000, "decision": "partially_refused", "refused_grams": 50_000, "note": "two drums leaking",
            "refused_lots": [{"lot_id": lot_a["id"], "grams": 50_000}]});
        for token in [&p.office, &p.driver] {
            let r = post(&app, &step("receive"), token, &receipt).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let r = post(&app, &step("receive"), &p.dispatcher, &json!({"received_grams": 470_000, "decision": "partially_refused"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["refused_grams"]);

        // The receiver partially refuses; 470 kg received of 540 kg sent: the balance flags it.
        let r = post(&app, &step("receive"), &p.dispatcher, &receipt).await;
        assert_eq!(r.status(), StatusCode::OK);
        let received: Value = r.json().await.unwrap();
        let public: Value = app.client.get(&public_page).send().await.unwrap().json().await.unwrap();
        assert_eq!((public["status"].as_str(), public["manifest_number"].as_str()), (Some("received"), m["number"].as_str()));
        assert_eq!(received["status"], "received");
        assert_eq!(received["decision"], "partially_refused");
        assert_eq!(received["refused_grams"], 50_000);
        assert_eq!(received["case_status"], "open");
        assert_eq!(received["mass_balance"]["flagged"], true);
        assert!(received["mass_balance"]["detail"].as_str().unwrap().contains("received 470000 g"));
        assert_eq!(inbox(&app, &p.office, "?type=manifest.flagged").await.len(), 1);
        assert_eq!(inbox(&app, &p.office, "?type=manifest.refused").await.len(), 1);
        assert_eq!(inbox(&app, &p.producer_a, "?type=manifest.refused").await.len(), 1);
        assert_eq!(inbox(&app, &inspector, "?type=manifest.flagged").await.len(), 1);
        assert!(inbox(&app, &inspector2, "").await.is_empty(), "another jurisdiction is not told");

        // The park office resolves the case; then, not before, the receiver completes.
        let r = post(&app, &step("complete"), &p.dispatcher, &json!({"treatment": "D10"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = post(&app, &step("resolve"), &p.dispatcher, &json!({"resolution": "x"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &step("resolve"), &p.office, &json!({"resolution": "returned to Bolin, repacked"})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["case_status"], "resolved");
        let r = post(&app, &step("complete"), &p.office, &json!({"treatment": "D10"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &step("complete"), &p.dispatcher, &json!({"treatment": "D10 incineration"})).await;
        let done: Value = r.json().await.unwrap();
        assert_eq!(done["status"], "completed");
        let steps: Vec<&str> = done["signatures"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
        // No arrival was recorded before the receipt: it was recorded with it.
        assert_eq!(steps, vec!["confirm", "take_over", "arrival", "receive", "resolve", "complete"]);
        let roles: Vec<&str> = done["signatures"].as_array().unwrap().iter().map(|s| s["role"].as_str().unwrap()).collect();
        assert_eq!(roles, vec!["park_office", "driver", "disposer_dispatcher", "disposer_dispatcher", "park_office", "disposer_dispatcher"]);
        assert_eq!(done["signatures"][2]["data"]["with_receipt"], true);
        assert_eq!(done["arrived_at"], done["signatures"][3]["at"]);

        // Inspectors of the park's jurisdiction read and search; nobody else not party to it.
        assert_eq!(manifest(&app, &inspector, &id).await["number"], number.as_str());
        for query in [format!("?number={number}"), "?waste_code=900-249-08".to_owned(), "?status=completed".to_owned(),
                      format!("?party={}", p.enterprise_b), "?flagged=true".to_owned(), format!("?from={}&to={}", app.day(0), app.day(0))] {
            assert_eq!(search(&app, &inspector, &query).await.len(), 1, "{query}");
        }
        assert!(search(&app, &inspector, "?status=draft").await.is_empty());
        assert!(search(&app, &inspector, &format!("?from={}", app.day(1))).await.is_empty());
        assert!(search(&app, &inspector2, "").await.is_empty());
        let r = app.get(&format!("/api/v1/manifests/{id}"), &inspector2).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        assert_eq!(search(&app, &p.producer_a, "").await.len(), 1, "an originating enterprise");
        assert_eq!(search(&app, &p.driver, "").await.len(), 1);
        assert_eq!(search(&app, &p.dispatcher, "").await.len(), 1);
        assert!(search(&app, &p.outsider_user, "").await.is_empty());
        let r = app.get(&format!("/api/v1/manifests/{id}"), &p.outsider_user).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // The printable page.
        let r = app.get(&format!("/api/v1/manifests/{id}/print.html"), &inspector).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        crate::health::assert_page_is_locked_down(&r);
        let page = r.text().await.unwrap();
        assert!(page.contains(&number) && page.contains("<svg") && page.contains("危险废物转移联单"));

        // A change after signature is a revision the other signing parties approve.
        let revise = format!("/api/v1/manifests/{id}/revisions");
        let change = json!({"reason": "the scale ticket was misread", "changes": {"outbound_grams": 545_000}});
        let r = post(&app, &revise, &p.producer_a, &change).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &revise, &p.outsider_user, &change).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let inconsistent = json!({"reason": "r", "changes": {"refused_grams": 0}});
        let r = post(&app, &revise, &p.dispatcher, &inconsistent).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["changes.refused_grams"], "a partial refusal keeps a refused part");
        let r = post(&app, &revise, &p.driver, &change).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let revision: Value = r.json().await.unwrap();
        assert_eq!(revision["status"], "pending");
        let seen = manifest(&app, &p.driver, &id).await;
        assert_eq!(seen["pending_revision"]["id"], revision["id"], "the driver sees what awaits approval");
        assert_eq!(revision["needed"], json!(["consignor", "receiver"]), "the other parties whose step was signed");
        let approve = format!("{revise}/{}/approve", revision["id"].as_str().unwrap());
        let r = post(&app, &approve, &p.driver, &json!({})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &approve, &p.office, &json!({})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "pending");
        assert_eq!(manifest(&app, &p.office, &id).await["version"], 1);
        let r = post(&app, &approve, &p.dispatcher, &json!({})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "applied");
        let m = manifest(&app, &p.office, &id).await;
        assert_eq!(m["version"], 2);
        assert_eq!(m["mass_balance"]["outbound_grams"], 545_000);
        // Rejected: nothing changes.
        let r = post(&app, &revise, &p.office, &json!({"reason": "typo", "changes": {"packaging": "drum × 3"}})).await;
        let second: Value = r.json().await.unwrap();
        let r = post(&app, &format!("{revise}/{}/reject", second["id"].as_str().unwrap()), &p.dispatcher, &json!({})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "rejected");
        assert_eq!(manifest(&app, &p.office, &id).await["packaging"], "drum × 2");
        let versions: Value = app.get(&format!("/api/v1/manifests/{id}/versions"), &inspector).await.json().await.unwrap();
        let versions = versions.as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0]["data"]["mass_balance"]["outbound_grams"], 540_000);
        assert_eq!(versions[0]["data"]["mass_balance"]["received_grams"], 470_000, "the signed state is kept");
        let receipt_signed = versions[0]["data"]["signatures"].as_array().unwrap().iter()
            .find(|s| s["step"] == "receive").unwrap().clone();
        assert_eq!(receipt_signed["data"]["received_grams"], 470_000);
        assert_eq!(receipt_signed["data"]["decision"], "partially_refused");
        assert_eq!(versions[1]["data"]["mass_balance"]["outbound_grams"], 545_000);
        assert_eq!(versions[1]["data"]["mass_balance"]["flagged"], true, "a flag is never cleared by a revision");
        for path in ["versions", "revisions", "print.html"] {
            for token in [&p.outsider_user, &inspector2, &driver2] {
                let r = app.get(&format!("/api/v1/manifests/{id}/{path}"), token).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            }
        }
        // An enterprise sees its own lots among the origins, not the others'.
        let own = manifest(&app, &p.producer_a, &id).await;
        assert_eq!(own["origins"].as_array().unwrap().len(), 1);
        assert_eq!(own["origins"][0]["enterprise_id"], p.enterprise_a.as_str());
        let own_versions: Value = app.get(&format!("/api/v1/manifests/{id}/versions"), &p.producer_a).await.json().await.unwrap();
        assert_eq!(own_versions[0]["data"]["origins"].as_array().unwrap().len(), 1);
        let revisions: Value = app.get(&format!("/api/v1/manifests/{id}/revisions"), &p.producer_a).await.json().await.unwrap();
        assert_eq!(revisions.as_array().unwrap().len(), 2);
    }

    async fn a_party_pages_through_exactly_its_manifests(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 100, 80).await;
        with_permit(&app, &p).await;
        // Six warehouses, each with one request: A's lots alone, B's alone, or both.
        let (mut of_a, mut of_b, mut all) = (Vec::new(), Vec::new(), Vec::new());
        let mut requests_of_a = Vec::new();
        for (i, who) in ["a", "b", "ab", "b", "a", "ab"].into_iter().enumerate() {
            let warehouse = app.created_id("/api/v1/warehouses", &p.admin, &json!({"park_id": p.park, "name": format!("W{i}"), "address": "C"})).await;
            let zone = app.created_id(&format!("/api/v1/warehouses/{warehouse}/zones"), &p.admin,
                &json!({"name": "A", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000})).await;
            let mut last = Value::Null;
            for (enterprise, kg) in [(&p.enterprise_a, 'a'), (&p.enterprise_b, 'b')]
                .into_iter()
                .filter(|(_, c)| who.contains(*c))
                .map(|(e, _)| (e, if who.len() == 2 { 60 } else { 120 }))
            {
                let mut body = crate::pickups::weighing(&p, enterprise, kg);
                body["zone_id"] = json!(zone);
                let r = post(&app, "/api/v1/lots", &p.office, &body).await;
                assert_eq!(r.status(), StatusCode::CREATED);
                last = r.json().await.unwrap();
            }
            let collection = collect_request(&app, &p, &last, 120).await;
            let id = collection["manifests"][0]["id"].as_str().unwrap().to_owned();
            if who.contains('a') {
                of_a.push(id.clone());
                requests_of_a.push(last["pickup_request_id"].as_str().unwrap().to_owned());
            }
            if who.contains('b') {
                of_b.push(id.clone());
            }
            all.push(id);
        }
        of_a.sort();
        of_b.sort();
        requests_of_a.sort();
        all.sort();
        // Page by page, one or two at a time: each manifest once, in order, and no other.
        let pages = |token: String, query: String| pages_of(&app, "manifests", token, query);
        for limit in [1, 2, 50] {
            assert_eq!(pages_of(&app, "pickup-requests", p.producer_a.clone(), format!("limit={limit}")).await, requests_of_a, "A's requests, {limit} a page");
        }
        let status = app.get(&format!("/api/v1/pickup-requests/{}", requests_of_a[0]), &p.office).await.json::<Value>().await.unwrap()["status"].as_str().unwrap().to_owned();
        assert_eq!(pages_of(&app, "pickup-requests", p.producer_a.clone(), format!("limit=1&status={status}")).await, requests_of_a);
        assert!(pages_of(&app, "pickup-requests", p.producer_a.clone(), "limit=1&open=true".into()).await.is_empty());
        for limit in [1, 2, 50] {
            assert_eq!(pages(p.producer_a.clone(), format!("limit={limit}")).await, of_a, "A's own, {limit} a page");
            assert_eq!(pages(p.dispatcher.clone(), format!("limit={limit}")).await, all, "the receiver's, {limit} a page");
            assert_eq!(pages(p.admin.clone(), format!("party={}&limit={limit}", p.enterprise_a)).await, of_a, "party=A, {limit} a page");
            assert_eq!(pages(p.office.clone(), format!("party={}&limit={limit}", p.enterprise_b)).await, of_b, "the park's party=B, {limit} a page");
            assert_eq!(pages(p.office.clone(), format!("party={}&limit={limit}", p.disposer)).await, all, "the park's party=receiver, {limit} a page");
        }
        // Nobody else: an enterprise of the park without lots, another park's office asking
        // for this park's receiver or enterprise.
        assert!(pages(p.outsider_user.clone(), "limit=1".into()).await.is_empty());
        let other = app.create_park(&p.admin, "Other park", "440306").await;
        app.create_user(&p.admin, &other, "office2", "park_office", PASSWORD).await;
        let office2 = access_token(&app.login("office2", PASSWORD).await);
        for party in [&p.disposer, &p.enterprise_a] {
            assert!(pages(office2.clone(), format!("party={party}&limit=1")).await.is_empty());
        }
        // The same party with another filter takes the general query, and agrees.
        assert_eq!(pages(p.producer_a.clone(), "limit=1&waste_code=900-249-08".into()).await, of_a);
        let status = manifest(&app, &p.office, &all[0]).await["status"].as_str().unwrap().to_owned();
        assert_eq!(pages(p.admin.clone(), format!("party={}&limit=2&status={status}", p.enterprise_b)).await, of_b);
        assert_eq!(pages(p.admin.clone(), format!("party={}&limit=2&status=completed", p.enterprise_b)).await, Vec::<String>::new());
    }

    async fn manifest_numbers_are_unique_and_without_gaps_under_concurrency(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.workers = 4;
            s.database_max_connections = 8;
        })
        .await;
        let p = park(&app, 100, 80).await;
        with_permit(&app, &p).await;
        // Ten warehouses, each with a request of 150 kg, all scheduled.
        let mut requests = Vec::new();
        for i in 0..10 {
            let warehouse = app.created_id("/api/v1/warehouses", &p.admin, &json!({"park_id": p.park, "name": format!("W{i}"), "address": "C"})).await;
            let zone = app.created_id(&format!("/api/v1/warehouses/{warehouse}/zones"), &p.admin,
                &json!({"name": "A", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000})).await;
            let mut body = crate::pickups::weighing(&p, &p.enterprise_a, 150);
            body["zone_id"] = json!(zone);
            let lot: Value = post(&app, "/api/v1/lots", &p.office, &body).await.json().await.unwrap();
            let request = lot["pickup_request_id"].as_str().unwrap().to_owned();
            schedule(&app, &p, &request).await;
            requests.push(request);
        }
        let mut sends = Vec::new();
        for r in &requests {
            sends.push((format!("/api/v1/pickup-requests/{r}/collect"), loaded(&app, &p, r, 150).await));
        }
        let sends = sends.iter().map(|(path, body)| app.post_json(path, Some(&p.driver), body));
        let mut numbers = Vec::new();
        for r in futures_util::future::join_all(sends).await {
            assert_eq!(r.status(), StatusCode::CREATED);
            let c: Value = r.json().await.unwrap();
            numbers.extend(c["manifests"].as_array().unwrap().iter().map(|m| m["number"].as_str().unwrap().to_owned()));
        }
        numbers.sort();
        let expected: Vec<String> = (1..=10).map(|n| format!("WT-{}-{n:06}", year_prefix(&app))).collect();
        assert_eq!(numbers, expected, "unique, consecutive, from 1");
        assert_eq!(search(&app, &p.office, "").await.len(), 10);
    }

    async fn a_collection_checks_the_licence_and_weighs_door_lots(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.notify.sweep_interval_secs = 1;
            // The clock moves a week on, past the receipt's due day.
            time_travel(s);
        })
        .await;
        let p = park(&app, 500, 80).await;
        // A licence for HW49 that ended yesterday: lots of HW49 can no longer leave for this disposer.
        let old = json!({"number": "L-49", "issuing_authority": "GDEE", "valid_from": app.day(-400), "valid_to": app.day(-1),
            "annual_capacity_grams": 1_000_000_000i64, "scope": ["HW49"]});
        app.created_id(&format!("/api/v1/disposers/{}/licences", p.disposer), &p.admin, &old).await;
        let r = post(&app, &format!("/api/v1/contracts/{}/prices", p.contract), &p.admin,
            &json!({"target": "900-041-49", "fen_per_tonne": 500_000, "effective_from": app.day(-300)})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let rags = app.created_id(&format!("/api/v1/warehouses/{}/zones", p.warehouse), &p.admin,
            &json!({"name": "A4", "kind": "hazardous", "categories": ["HW49"], "capacity_grams": 1_000_000})).await;
        let mut body = crate::pickups::weighing(&p, &p.enterprise_a, 40);
        body["waste_code"] = json!("900-041-49");
        body["zone_id"] = json!(rags);
        assert_eq!(post(&app, "/api/v1/lots", &p.office, &body).await.status(), StatusCode::CREATED);
        let r = post(&app, "/api/v1/pickup-requests", &p.office, &json!({"contract_id": p.contract, "warehouse_id": p.warehouse, "category": "HW49"})).await;
        let request: Value = r.json().await.unwrap();
        let request = request["id"].as_str().unwrap().to_owned();
        schedule(&app, &p, &request).await;
        let r = post(&app, &format!("/api/v1/pickup-requests/{request}/collect"), &p.driver, &loaded(&app, &p, &request, 40).await).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "code_not_licensed", "{problem}");
        let stock: Value = app.get(&format!("/api/v1/warehouses/{}/inventory", p.warehouse), &p.office).await.json().await.unwrap();
        let a4 = stock["zones"].as_array().unwrap().iter().find(|z| z["zone_id"] == rags.as_str()).unwrap().clone();
        assert_eq!(a4["stored_grams"], 40_000, "a refused collection changes nothing");

        // General waste at the doors: the driver weighs each lot there. The park gives up its
        // collection permit (general waste needs none): the enterprise consigns.
        let r = app.patch_json(&format!("/api/v1/parks/{}", p.park), &p.admin, &json!({"collection_permit_number": null})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let declare = |kg: i64| json!({"enterprise_id": p.enterprise_a, "waste_code": "900-003-S59", "physical_form": "solid",
            "container_type": "bag", "container_count": 2, "estimated_grams": kg * 1000});
        let first: Value = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(150)).await.json().await.unwrap();
        let second: Value = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(60)).await.json().await.unwrap();
        let door = second["pickup_request_id"].as_str().unwrap().to_owned();
        schedule(&app, &p, &door).await;
        let collect = format!("/api/v1/pickup-requests/{door}/collect");
        let base = json!({"vehicle_id": p.vehicle, "scale_id": "PHONE-SCALE-7", "captured_at": app.now().to_rfc3339(),
            "gross_grams": 8_215_000, "tare_grams": 8_000_000, "scanned_labels": scans(&app, &p.office, &door).await});
        let r = post(&app, &collect, &p.driver, &base).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["door_weighings", "door_weighings"]);
        let mut weighed = base.clone();
        weighed["door_weighings"] = json!([
            {"lot_id": first["id"], "gross_grams": 142_500, "tare_grams": 2_500},
            {"lot_id": second["id"], "gross_grams": 71_000, "tare_grams": 1_000}
        ]);
        let r = post(&app, &collect, &p.driver, &weighed).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        assert_eq!(collection["net_grams"], 215_000, "the loaded vehicle, weighed out");
        assert_eq!(collection["manifests"][0]["inbound_grams"], 210_000, "the door weighings");
        let record = &collection["manifests"][0];
        assert_eq!(record["kind"], "general");
        assert!(record["number"].as_str().unwrap().starts_with(&format!("WT-G{}-", year_prefix(&app))));
        assert_eq!(record["consignor_id"], p.enterprise_a.as_str(), "no permit: the enterprise consigns");
        let lot: Value = app.get(&format!("/api/v1/lots/{}", first["id"].as_str().unwrap()), &p.producer_a).await.json().await.unwrap();
        assert_eq!(lot["status"], "collected");
        assert_eq!(lot["net_grams"], 140_000, "the driver's weighing replaces the estimate");
        assert_eq!(lot["weight_source"], "scale");
        let history: Value = app.get(&format!("/api/v1/lots/{}/history", first["id"].as_str().unwrap()), &p.producer_a).await.json().await.unwrap();
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["kind"], "collected");
        assert_eq!(last["data"]["net_grams_before"], 150_000);
        // The enterprise consigns: it confirms its own record; the park office may not.
        let id = record["id"].as_str().unwrap();
        let r = post(&app, &format!("/api/v1/manifests/{id}/confirm"), &p.office, &json!({})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &format!("/api/v1/manifests/{id}/confirm"), &p.producer_a, &json!({})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "confirmed");
        let r = app.get(&format!("/api/v1/manifests/{id}/print.html"), &p.producer_a).await;
        assert!(r.text().await.unwrap().contains("一般工业固体废物转移记录"));

        // Taken over and arrived on Wednesday 25 November: the receipt is due five working days
        // later, on Wednesday 2 December. Not received by the end of that day, it is overdue
        // from the next, and the park office and the receiver are told once.
        let r = post(&app, &format!("/api/v1/manifests/{id}/take-over"), &p.driver, &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = post(&app, &format!("/api/v1/manifests/{id}/arrival"), &p.dispatcher, &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let due = manifest(&app, &p.office, id).await["receipt_due_on"].as_str().unwrap().to_owned();
        assert_eq!(due, app.day(7));
        app.stand_at(&format!("{due}T23:59:59+08:00"));
        assert_eq!(manifest(&app, &p.office, id).await["receipt_overdue"], false);
        // The periodic check runs every second: on the due day's last second, it tells nobody.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(inbox(&app, &p.office, "?type=manifest.receipt_overdue").await.is_empty(), "not overdue yet");
        app.advance(chrono::Duration::seconds(1));
        assert_eq!(manifest(&app, &p.office, id).await["receipt_overdue"], true);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while inbox(&app, &p.office, "?type=manifest.receipt_overdue").await.is_empty() {
            assert!(std::time::Instant::now() < deadline, "the overdue receipt was not told");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert_eq!(inbox(&app, &p.office, "?type=manifest.receipt_overdue").await.len(), 1, "told once");
        assert_eq!(inbox(&app, &p.dispatcher, "?type=manifest.receipt_overdue").await.len(), 1);

        // Refused whole: nothing to complete; the case waits for the park office.
        let r = post(&app, &format!("/api/v1/manifests/{id}/receive"), &p.dispatcher, &json!({"received_grams": 214_000, "decision": "refused"})).await;
        let refused: Value = r.json().await.unwrap();
        assert_eq!(refused["refused_grams"], 214_000);
        assert_eq!(refused["case_status"], "open");
        let r = post(&app, &format!("/api/v1/manifests/{id}/complete"), &p.dispatcher, &json!({"treatment": "landfill"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
    }

    async fn a_serial_drawn_in_a_failed_transaction_is_given_back(backend: Backend) {
        use wastetrack::db::write_transaction;
        use wastetrack::manifests::store::next_serial;
        let app = TestApp::spawn(backend).await;
        // Straight to the store: no API call fails its transaction after drawing a serial.
        let db = wastetrack::db::Db::connect(app.database_url(), 1).unwrap();
        let mut conn = db.get().unwrap();
        let first = write_transaction(&mut conn, |c| next_serial(c, "20264403")).unwrap();
        assert_eq!(first, 1);
        let failed: Result<i64, wastetrack::error::ApiError> = write_transaction(&mut conn, |c| {
            assert_eq!(next_serial(c, "20264403")?, 2);
            Err(diesel::result::Error::RollbackTransaction.into())
        });
        assert!(failed.is_err());
        let next = write_transaction(&mut conn, |c| next_serial(c, "20264403")).unwrap();
        assert_eq!(next, 2, "no gap: the rolled-back serial is drawn again");
        let other = write_transaction(&mut conn, |c| next_serial(c, "20264401")).unwrap();
        assert_eq!(other, 1, "each city has its own series");
    }
}

//! Every PATCH endpoint: a field that may be cleared is cleared by an explicit `null` (absent
//! leaves it as it is), in the object read back, in its history and in what it decides; a
//! field that may not be cleared answers 422 naming it, and the refused request changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};
use crate::manifests::{manifest, with_permit};
use crate::pickups::{PASSWORD, Park, park, post, weigh, weighing};

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app.get(path, token).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.json().await.unwrap()
}

/// The versions of an object, oldest first.
async fn versions(app: &TestApp, token: &str, history: &str) -> Vec<Value> {
    read(app, token, history).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn patch(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    let r = app.patch_json(path, token, body).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "PATCH {path} {body}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// `null` for each of `fields`, sent beside a valid `change`, is refused with 422 naming the
/// field; every path of `reads` (the object, its history) reads the same after.
async fn null_refused(
    app: &TestApp,
    token: &str,
    path: &str,
    change: &Value,
    fields: &[&str],
    reads: &[String],
) {
    for field in fields {
        let mut before = Vec::new();
        for r in reads {
            before.push(read(app, token, r).await);
        }
        let mut body = change.clone();
        body[*field] = Value::Null;
        let r = app.patch_json(path, token, &body).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(
            error_fields(&problem),
            vec![(*field).to_owned()],
            "PATCH {path} {body}"
        );
        assert_eq!(
            problem["errors"][0]["code"], "not_nullable",
            "PATCH {path} {body}"
        );
        for (r, was) in reads.iter().zip(&before) {
            assert_eq!(
                &read(app, token, r).await,
                was,
                "PATCH {path} {body} was refused, yet {r} changed"
            );
        }
    }
}

/// Clears `field` of the object at `path` with `null`: the answer, the object read back and the
/// new last version of its history (one more) have it no more. Returns the object read back.
async fn clear(
    app: &TestApp,
    token: &str,
    path: &str,
    history: Option<&str>,
    field: &str,
) -> Value {
    let set = read(app, token, path).await;
    assert!(
        !set[field].is_null(),
        "{path}: {field} is set before it is cleared"
    );
    let count = match history {
        Some(h) => versions(app, token, h).await.len(),
        None => 0,
    };
    let answered = patch(app, token, path, &json!({ field: null })).await;
    assert!(
        answered[field].is_null(),
        "PATCH {path}: {field} cleared in the answer"
    );
    let stored = read(app, token, path).await;
    assert!(
        stored[field].is_null(),
        "GET {path}: {field} is still {}",
        stored[field]
    );
    assert_eq!(stored, answered, "GET {path} reads what PATCH answered");
    if let Some(h) = history {
        let all = versions(app, token, h).await;
        assert_eq!(all.len(), count + 1, "{h}: one version more");
        let last = &all[count]["data"];
        assert!(
            last[field].is_null(),
            "{h}: the last version shows {field} {}",
            last[field]
        );
        assert!(
            !all[count - 1]["data"][field].is_null(),
            "{h}: the version before still shows {field}"
        );
        let mut shown = last.clone();
        let mut now = stored.clone();
        for v in [&mut shown, &mut now] {
            v.as_object_mut().unwrap().remove("stored_grams");
        }
        assert_eq!(
            shown, now,
            "{h}: the last version is the object as it is now"
        );
    }
    stored
}

async fn schedule(app: &TestApp, p: &Park, request: &str) -> reqwest::Response {
    post(
        app,
        &format!("/api/v1/pickup-requests/{request}/schedule"),
        &p.dispatcher,
        &json!({"scheduled_on": app.day(1), "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id}),
    )
    .await
}

/// Two enterprises' lots cross the threshold; the request is scheduled and collected. Returns
/// the manifests issued, as read back.
async fn collect(app: &TestApp, p: &Park) -> Vec<Value> {
    let request = weigh_both(app, p).await;
    collect_request(app, p, &request).await
}

/// Both enterprises weigh in, into the shared zone (under the park's permit): the request.
async fn weigh_both(app: &TestApp, p: &Park) -> String {
    weigh(app, p, &p.enterprise_a, 300).await;
    let lot = weigh(app, p, &p.enterprise_b, 250).await;
    lot["pickup_request_id"]
        .as_str()
        .expect("a request")
        .to_owned()
}

/// The request collected, and the manifests issued, as read back.
async fn collect_request(app: &TestApp, p: &Park, request: &str) -> Vec<Value> {
    let request = request.to_owned();
    assert_eq!(schedule(app, p, &request).await.status(), StatusCode::OK);
    let r = post(
        app,
        &format!("/api/v1/pickup-requests/{request}/collect"),
        &p.driver,
        &json!({"vehicle_id": p.vehicle, "scale_id": "SCALE-02", "captured_at": app.now().to_rfc3339(),
            "gross_grams": 8_540_000, "tare_grams": 8_000_000,
            "scanned_labels": crate::manifests::scans(app, &p.office, &request).await}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let collection: Value = r.json().await.unwrap();
    let mut manifests = Vec::new();
    for m in collection["manifests"].as_array().unwrap() {
        manifests.push(manifest(app, &p.office, m["id"].as_str().unwrap()).await);
    }
    manifests
}

backend_tests! {
    async fn a_parks_permit_is_removed_with_null_and_the_enterprises_then_consign(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let path = format!("/api/v1/parks/{}", p.park);
        let history = format!("{path}/history");
        let set = read(&app, &p.office, &path).await;
        assert_eq!(set["collection_permit_number"], "440300-HW-2026-012");
        assert_eq!(set["consignor"], "park_warehouse");
        let manifests = collect(&app, &p).await;
        assert_eq!(manifests.len(), 1, "the warehouse groups both enterprises' lots");
        assert_eq!(manifests[0]["consignor_type"], "park_warehouse");

        null_refused(&app, &p.office, &path, &json!({"address": "No. 9 Baolong Road"}),
            &["name", "address", "time_zone"], &[path.clone(), history.clone()]).await;

        // The park's own office removes the permit: the park, its history and the next
        // collection (of lots taken in while it held one) all show the enterprises consigning.
        let request = weigh_both(&app, &p).await;
        let cleared = clear(&app, &p.office, &path, Some(&history), "collection_permit_number").await;
        assert_eq!(cleared["consignor"], "enterprise");
        assert_eq!(versions(&app, &p.office, &history).await.last().unwrap()["data"]["consignor"], "enterprise");
        let manifests = collect_request(&app, &p, &request).await;
        assert_eq!(manifests.len(), 2, "one manifest per enterprise");
        let mut consignors: Vec<&str> = manifests.iter().map(|m| m["consignor"]["organization_id"].as_str().unwrap()).collect();
        consignors.sort_unstable();
        let mut enterprises = vec![p.enterprise_a.as_str(), p.enterprise_b.as_str()];
        enterprises.sort_unstable();
        assert_eq!(consignors, enterprises);
        assert!(manifests.iter().all(|m| m["consignor_type"] == "enterprise"));

        // Absent leaves it as it is; a value sets it again.
        patch(&app, &p.office, &path, &json!({"address": "No. 9 Baolong Road"})).await;
        assert!(read(&app, &p.office, &path).await["collection_permit_number"].is_null());
        with_permit(&app, &p).await;
        assert_eq!(read(&app, &p.office, &path).await["consignor"], "park_warehouse");
    }

    async fn an_enterprises_departure_is_undone_with_null_and_it_may_join_a_contract_again(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let path = format!("/api/v1/enterprises/{}", p.outsider);
        let history = format!("{path}/history");
        patch(&app, &p.office, &path, &json!({"left_on": app.day(30)})).await;
        let members = format!("/api/v1/contracts/{}/members", p.contract);
        let join = json!({"enterprise_id": p.outsider, "joined_on": app.day(60)});
        let r = post(&app, &members, &p.office, &join).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "not_in_park", "it has left the park by then");

        null_refused(&app, &p.office, &path, &json!({"contact_name": "Li Na"}),
            &["name", "contact_name", "contact_phone"], &[path.clone(), history.clone()]).await;

        clear(&app, &p.office, &path, Some(&history), "left_on").await;
        let r = post(&app, &members, &p.office, &join).await;
        assert_eq!(r.status(), StatusCode::OK, "back in the park, it may join");
        let contract = read(&app, &p.office, &format!("/api/v1/contracts/{}", p.contract)).await;
        assert!(contract.to_string().contains(p.outsider.as_str()));
    }

    async fn a_warehouse_and_a_zone_are_reopened_with_null_and_take_lots_again(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let lot = weighing(&p, &p.enterprise_a, 10);
        for path in [format!("/api/v1/zones/{}", p.zone), format!("/api/v1/warehouses/{}", p.warehouse)] {
            let history = format!("{path}/history");
            patch(&app, &p.office, &path, &json!({"closed_on": app.day(-1)})).await;
            let r = post(&app, "/api/v1/lots", &p.office, &lot).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(problem["errors"][0]["code"], "closed", "{path} is closed");
            clear(&app, &p.office, &path, Some(&history), "closed_on").await;
            let r = post(&app, "/api/v1/lots", &p.office, &lot).await;
            assert_eq!(r.status(), StatusCode::CREATED, "{path} reopened takes lots");
        }
        let zone = format!("/api/v1/zones/{}", p.zone);
        null_refused(&app, &p.office, &zone, &json!({"name": "A2"}),
            &["name", "categories", "capacity_grams"], &[zone.clone(), format!("{zone}/history")]).await;
        let warehouse = format!("/api/v1/warehouses/{}", p.warehouse);
        null_refused(&app, &p.office, &warehouse, &json!({"address": "Building C3"}),
            &["name", "address"], &[warehouse.clone(), format!("{warehouse}/history")]).await;
    }

    async fn a_vehicle_is_put_back_in_service_with_null_and_may_be_scheduled_again(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        weigh(&app, &p, &p.enterprise_a, 300).await;
        let lot = weigh(&app, &p, &p.enterprise_b, 250).await;
        let request = lot["pickup_request_id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/vehicles/{}", p.vehicle);
        let history = format!("{path}/history");
        patch(&app, &p.admin, &path, &json!({"retired_on": app.day(0)})).await;
        let r = schedule(&app, &p, &request).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "retired");

        null_refused(&app, &p.admin, &path, &json!({"retired_on": app.day(0)}),
            &["dangerous_goods_permit_number"], &[path.clone(), history.clone()]).await;

        clear(&app, &p.admin, &path, Some(&history), "retired_on").await;
        assert_eq!(schedule(&app, &p, &request).await.status(), StatusCode::OK, "back in service");
    }

    async fn a_webhooks_description_is_removed_with_null_its_other_fields_refuse_null(backend: Backend) {
        // Nothing is sent: the endpoint is only edited.
        let app = TestApp::spawn_with(backend, |s| s.notify.background_enabled = false).await;
        let p = park(&app, 500, 80).await;
        let r = post(&app, "/api/v1/webhooks", &p.office,
            &json!({"url": "https://hooks.example.com/wastetrack", "description": "dispatch desk", "event_types": ["pickup.requested"]})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/webhooks/{id}");
        // Endpoints keep no history: the endpoint read back is the record.
        null_refused(&app, &p.office, &path, &json!({"description": "night desk"}),
            &["url", "event_types", "enabled"], std::slice::from_ref(&path)).await;
        let cleared = clear(&app, &p.office, &path, None, "description").await;
        assert_eq!(cleared["url"], "https://hooks.example.com/wastetrack");
        assert_eq!(cleared["event_types"], json!(["pickup.requested"]));
        assert_eq!(cleared["status"], "active");
    }

    async fn the_directory_contracts_and_users_have_nothing_to_clear_and_refuse_null(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let admin = p.admin.as_str();
        let disposer = format!("/api/v1/disposers/{}", p.disposer);
        null_refused(&app, admin, &disposer, &json!({"address": "No. 2 Huanbao Road"}),
            &["name", "address"], &[disposer.clone(), format!("{disposer}/history")]).await;
        let carrier = format!("/api/v1/carriers/{}", p.carrier);
        null_refused(&app, admin, &carrier, &json!({"name": "Lvyun Logistics"}),
            &["name", "transport_permit_number"], &[carrier.clone(), format!("{carrier}/history")]).await;
        let bureau = app.create_bureau(admin, "Longgang bureau", "4403").await;
        let bureau = format!("/api/v1/bureaus/{bureau}");
        null_refused(&app, admin, &bureau, &json!({"name": "Longgang office"}),
            &["name", "jurisdiction"], std::slice::from_ref(&bureau)).await;
        let contract = format!("/api/v1/contracts/{}", p.contract);
        null_refused(&app, &p.office, &contract, &json!({"max_storage_days": 90}),
            &["valid_to", "max_storage_days", "pickup_zone_percent"], &[contract.clone(), format!("{contract}/history")]).await;

        // A licence is only shortened: its new last day is required, never null.
        let licences = format!("/api/v1/disposers/{}/licences", p.disposer);
        let before = read(&app, admin, &licences).await;
        let licence = before[0]["id"].as_str().unwrap();
        let r = app.patch_json(&format!("/api/v1/licences/{licence}"), admin, &json!({"valid_to": null})).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["valid_to"]);
        assert_eq!(read(&app, admin, &licences).await, before);

        // A user's name, password and activation.
        let user = app.create_user(admin, &p.park, "clerk", "park_office", PASSWORD).await;
        let user = format!("/api/v1/users/{user}");
        null_refused(&app, admin, &user, &json!({"display_name": "Clerk Wang"}),
            &["display_name", "password", "active"], std::slice::from_ref(&user)).await;
        let clerk = access_token(&app.login("clerk", PASSWORD).await);
        assert_eq!(read(&app, &clerk, "/api/v1/me").await["user"]["display_name"], "clerk", "the same password, name and activation");
    }
}

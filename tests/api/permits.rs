//! Permits and parties: hazardous waste enters a shared zone only under the park's collection
//! permit, valid that day in the park's time zone and covering its code, within its annual
//! capacity; an enterprise's own zone takes only its lots, without a permit, and they leave
//! with the enterprise as consignor; the park's credit code, the escort and the addresses on
//! the manifest; the take-over refused once the vehicle's, the carrier's or the driver's papers
//! have expired.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields, time_travel};
use crate::manifests::{loaded, manifest, schedule};
use crate::pickups::{PASSWORD, Park, park, weighing};

async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.patch_json(path, token, &body).await;
    assert_eq!(r.status(), StatusCode::OK, "{path} {body}");
    r.json().await.unwrap()
}

/// Weighs `kg` of 900-249-08 of an enterprise into a zone, captured now.
pub async fn weigh_into(
    app: &TestApp,
    p: &Park,
    enterprise: &str,
    zone: &str,
    kg: i64,
) -> reqwest::Response {
    let mut body = weighing(p, enterprise, kg);
    body["zone_id"] = json!(zone);
    body["captured_at"] = json!(app.now_rfc3339());
    app.post_json("/api/v1/lots", Some(&p.office), &body).await
}

/// The validation problem's one error: (field, code).
async fn refused(r: reqwest::Response) -> (String, String) {
    let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(error_fields(&problem).len(), 1, "{problem}");
    let e = &problem["errors"][0];
    (
        e["field"].as_str().unwrap().to_owned(),
        e["code"].as_str().unwrap().to_owned(),
    )
}

/// An own zone of an enterprise in the park's warehouse.
pub async fn own_zone(app: &TestApp, p: &Park, enterprise: &str, name: &str) -> String {
    app.created_id(&format!("/api/v1/warehouses/{}/zones", p.warehouse), &p.admin,
        &json!({"name": name, "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000,
            "enterprise_id": enterprise})).await
}

backend_tests! {
    async fn a_shared_zone_takes_hazardous_waste_only_under_a_valid_covering_permit(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 100_000, 100).await;
        let path = format!("/api/v1/parks/{}", p.park);
        // Valid from tomorrow to 30 November (Shanghai), for HW08.
        let set = patch(&app, &p.admin, &path, json!({"collection_permit_number": "440300-HW-2026-012",
            "permit_valid_from": "2026-11-26", "permit_valid_until": "2026-11-30", "permit_scope": ["HW08"]})).await;
        assert_eq!(set["permit_scope"], json!(["HW08"]));
        assert_eq!(set["consignor"], "park_warehouse");

        // Not yet valid today (25 November).
        let (field, code) = refused(weigh_into(&app, &p, &p.enterprise_a, &p.zone, 10).await).await;
        assert_eq!((field.as_str(), code.as_str()), ("zone_id", "permit_not_yet_valid"));
        // Its last day, one minute before midnight in Shanghai: taken in.
        app.stand_at("2026-11-30T23:59:00+08:00");
        assert_eq!(weigh_into(&app, &p, &p.enterprise_a, &p.zone, 10).await.status(), StatusCode::CREATED);
        // The day after in the park's time zone (still 30 November in UTC): refused.
        app.stand_at("2026-12-01T00:01:00+08:00");
        let r = weigh_into(&app, &p, &p.enterprise_a, &p.zone, 10).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "zone_id");
        assert_eq!(problem["errors"][0]["code"], "permit_expired");
        let r = app.request(reqwest::Method::POST, "/api/v1/lots", Some(&p.office)).header("accept-language", "en")
            .json(&{ let mut b = weighing(&p, &p.enterprise_a, 10); b["captured_at"] = json!(app.now_rfc3339()); b }).send().await.unwrap();
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("expired after 2026-11-30"), "{problem}");

        // Renewed, but covering another code only: the lot's code is refused.
        patch(&app, &p.admin, &path, json!({"permit_valid_until": "2027-12-31", "permit_scope": ["900-041-49"]})).await;
        let (field, code) = refused(weigh_into(&app, &p, &p.enterprise_a, &p.zone, 10).await).await;
        assert_eq!((field.as_str(), code.as_str()), ("waste_code", "not_in_permit"));
        // Covering its category again: taken in.
        patch(&app, &p.admin, &path, json!({"permit_scope": ["HW08"]})).await;
        assert_eq!(weigh_into(&app, &p, &p.enterprise_a, &p.zone, 10).await.status(), StatusCode::CREATED);

        // The annual capacity counts the year's grams in the shared zones: 20 kg so far.
        patch(&app, &p.admin, &path, json!({"permit_annual_capacity_grams": 45_000})).await;
        assert_eq!(weigh_into(&app, &p, &p.enterprise_b, &p.zone, 25).await.status(), StatusCode::CREATED);
        let r = weigh_into(&app, &p, &p.enterprise_b, &p.zone, 1).await;
        let problem = assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        assert!(problem["detail"].as_str().is_some(), "{problem}");
        // A new year (in Shanghai) starts from nothing.
        app.stand_at("2027-01-01T00:05:00+08:00");
        assert_eq!(weigh_into(&app, &p, &p.enterprise_b, &p.zone, 1).await.status(), StatusCode::CREATED);

        // No permit at all: refused in the shared zone, taken in the enterprise's own zone.
        patch(&app, &p.admin, &path, json!({"collection_permit_number": null})).await;
        let (field, code) = refused(weigh_into(&app, &p, &p.enterprise_a, &p.zone, 10).await).await;
        assert_eq!((field.as_str(), code.as_str()), ("zone_id", "no_permit"));
        let own = own_zone(&app, &p, &p.enterprise_a, "E-A").await;
        assert_eq!(weigh_into(&app, &p, &p.enterprise_a, &own, 10).await.status(), StatusCode::CREATED);
        // Only that enterprise's lots enter it.
        let (field, code) = refused(weigh_into(&app, &p, &p.enterprise_b, &own, 10).await).await;
        assert_eq!((field.as_str(), code.as_str()), ("zone_id", "other_enterprise"));
        // Its assignment changes only while it is empty.
        let r = app.patch_json(&format!("/api/v1/zones/{own}"), &p.admin, &json!({"enterprise_id": p.enterprise_b})).await;
        let (field, code) = refused(r).await;
        assert_eq!((field.as_str(), code.as_str()), ("enterprise_id", "not_empty"));
    }

    async fn the_permit_and_the_zones_refuse_what_does_not_fit(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 100_000, 100).await;
        let path = format!("/api/v1/parks/{}", p.park);
        let cases = [
            (json!({"permit_valid_from": "2027-01-01", "permit_valid_until": "2026-01-01"}), "permit_valid_until", "before_start"),
            (json!({"permit_scope": ["S59"]}), "permit_scope[0]", "not_hazardous"),
            (json!({"permit_annual_capacity_grams": 0}), "permit_annual_capacity_grams", "out_of_range"),
            (json!({"collection_permit_number": null, "permit_scope": ["HW08"]}), "collection_permit_number", "required"),
            (json!({"uscc": "91350100M000100Y44"}), "uscc", "check_character"),
        ];
        for (body, field, code) in cases {
            let r = app.patch_json(&path, &p.admin, &body).await;
            let (f, c) = refused(r).await;
            assert_eq!((f.as_str(), c.as_str()), (field, code), "{body}");
        }
        // Nothing changed.
        let park: Value = app.get(&path, &p.office).await.json().await.unwrap();
        assert_eq!(park["permit_valid_from"], "2020-01-01");
        assert!(park.get("uscc").is_none());

        // A zone of an enterprise of another park is refused.
        let elsewhere = app.create_park(&p.admin, "Other park", "440307").await;
        let stranger = app.create_enterprise(&p.admin, &elsewhere, "Stranger Ltd").await;
        let r = app.post_json(&format!("/api/v1/warehouses/{}/zones", p.warehouse), Some(&p.admin),
            &json!({"name": "X", "kind": "hazardous", "capacity_grams": 1000, "enterprise_id": stranger})).await;
        let (f, c) = refused(r).await;
        assert_eq!((f.as_str(), c.as_str()), ("enterprise_id", "not_in_park"));

        // A dangerous-goods qualification is a driver's only.
        let office_user = app.create_user(&p.admin, &p.park, "office2", "park_office", PASSWORD).await;
        let r = app.patch_json(&format!("/api/v1/users/{office_user}"), &p.admin,
            &json!({"dangerous_goods_qualification": {"number": "Q-1", "valid_until": "2030-01-01"}})).await;
        let (f, c) = refused(r).await;
        assert_eq!((f.as_str(), c.as_str()), ("dangerous_goods_qualification", "not_a_driver"));
    }

    async fn lots_in_an_own_zone_leave_with_their_enterprise_as_consignor(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 100, 100).await;
        let path = format!("/api/v1/parks/{}", p.park);
        let set = patch(&app, &p.admin, &path, json!({"uscc": "12440300MB2C00005K"})).await;
        assert_eq!(set["uscc"], "12440300MB2C00005K");
        let own = own_zone(&app, &p, &p.enterprise_a, "E-A").await;
        assert_eq!(weigh_into(&app, &p, &p.enterprise_a, &own, 60).await.status(), StatusCode::CREATED);
        let r = weigh_into(&app, &p, &p.enterprise_b, &p.zone, 60).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let lot_b: Value = r.json().await.unwrap();
        let request = lot_b["pickup_request_id"].as_str().expect("a request").to_owned();

        // An escort of another organisation is refused; one of the carrier is recorded.
        let escort = app.create_user(&p.admin, &p.carrier, "escort", "driver", PASSWORD).await;
        let schedule_with = |escort: &str| json!({"scheduled_on": app.day(0), "carrier_id": p.carrier,
            "vehicle_id": p.vehicle, "driver_id": p.driver_id, "escort_id": escort});
        let at = format!("/api/v1/pickup-requests/{request}/schedule");
        let office_user = app.create_user(&p.admin, &p.park, "office2", "park_office", PASSWORD).await;
        let r = app.post_json(&at, Some(&p.dispatcher), &schedule_with(&office_user)).await;
        let (f, c) = refused(r).await;
        assert_eq!((f.as_str(), c.as_str()), ("escort_id", "not_of_carrier"));
        let r = app.post_json(&at, Some(&p.dispatcher), &schedule_with(&escort)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let scheduled: Value = r.json().await.unwrap();
        assert_eq!(scheduled["escort_id"], escort.as_str());

        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/collect"), Some(&p.driver), &loaded(&app, &p, &request, 118).await).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        let manifests = collection["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 2, "one per consignor: {collection}");
        let by = |consignor: &str| {
            manifests.iter().find(|m| m["consignor_id"] == consignor).unwrap_or_else(|| panic!("{consignor}"))["id"]
                .as_str().unwrap().to_owned()
        };
        let of_a = manifest(&app, &p.office, &by(&p.enterprise_a)).await;
        assert_eq!(of_a["consignor_type"], "enterprise", "the own zone's lots: the enterprise consigns");
        assert_eq!(of_a["origins"][0]["enterprise_id"], p.enterprise_a.as_str());
        let of_park = manifest(&app, &p.office, &by(&p.park)).await;
        assert_eq!(of_park["consignor_type"], "park_warehouse");
        assert_eq!(of_park["consignor"]["uscc"], "12440300MB2C00005K", "the park's credit code");
        assert_eq!(of_park["consignor"]["permit"], "440300-HW-2026-012");
        assert_eq!(of_park["origins"][0]["enterprise_id"], p.enterprise_b.as_str());
        for m in [&of_a, &of_park] {
            assert_eq!(m["escort"]["id"], escort.as_str());
            assert_eq!(m["escort"]["name"], "escort");
            assert_eq!(m["departure_address"], "C2", "the warehouse's address");
            assert_eq!(m["destination_address"], "Pingshan District, Shenzhen", "the receiver's address");
        }
        // The lots name their own manifests.
        let lot_a: Value = app.get(&format!("/api/v1/lots/{}", of_a["origins"][0]["lot_id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        assert_eq!(lot_a["status"], "collected");
        // The enterprise confirms its own manifest; the print page shows the parties' places.
        let producer_a = p.producer_a.clone();
        let r = app.post_json(&format!("/api/v1/manifests/{}/confirm", by(&p.enterprise_a)), Some(&producer_a), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let page = app.get(&format!("/api/v1/manifests/{}/print.html", by(&p.park)), &p.office).await.text().await.unwrap();
        for text in ["12440300MB2C00005K", "Pingshan District, Shenzhen", "押运员", "起运地", "目的地", ">escort<"] {
            assert!(page.contains(text), "{text} on the print page");
        }
    }

    async fn the_take_over_needs_valid_transport_papers(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 100, 100).await;
        let today = app.day(0);
        let tomorrow = app.day(1);
        let driver = format!("/api/v1/users/{}", p.driver_id);
        let vehicle = format!("/api/v1/vehicles/{}", p.vehicle);
        let carrier = format!("/api/v1/carriers/{}", p.carrier);
        let qualification = |until: &str| json!({"dangerous_goods_qualification": {"number": "440300199001011234", "valid_until": until}});
        let shown = patch(&app, &p.admin, &driver, qualification(&today)).await;
        assert_eq!(shown["dangerous_goods_qualification"]["valid_until"], today.as_str());
        let shown = patch(&app, &p.admin, &vehicle, json!({"dangerous_goods_permit_valid_until": today})).await;
        assert_eq!(shown["dangerous_goods_permit_valid_until"], today.as_str());
        let shown = patch(&app, &p.admin, &carrier, json!({"transport_permit_valid_until": today})).await;
        assert_eq!(shown["transport_permit_valid_until"], today.as_str());

        let r = weigh_into(&app, &p, &p.enterprise_a, &p.zone, 120).await;
        let lot: Value = r.json().await.unwrap();
        let request = lot["pickup_request_id"].as_str().expect("a request").to_owned();
        schedule(&app, &p, &request).await;
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/collect"), Some(&p.driver), &loaded(&app, &p, &request, 118).await).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        let id = collection["manifests"][0]["id"].as_str().unwrap().to_owned();
        let r = app.post_json(&format!("/api/v1/manifests/{id}/confirm"), Some(&p.office), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let take_over = format!("/api/v1/manifests/{id}/take-over");
        let english = |app: &TestApp| {
            app.request(reqwest::Method::POST, &take_over, Some(&p.driver)).header("accept-language", "en").json(&json!({})).send()
        };

        // The day after the papers' last day, in the park's time zone: refused, naming each.
        app.stand_at(&format!("{tomorrow}T00:01:00+08:00"));
        let problem = assert_problem(english(&app).await.unwrap(), StatusCode::CONFLICT, "conflict").await;
        let detail = problem["detail"].as_str().unwrap().to_owned();
        for what in ["vehicle", "transport permit", "qualification"] {
            assert!(detail.contains(what), "{what} in {detail}");
        }
        // Each paper alone.
        patch(&app, &p.admin, &vehicle, json!({"dangerous_goods_permit_valid_until": tomorrow})).await;
        patch(&app, &p.admin, &carrier, json!({"transport_permit_valid_until": tomorrow})).await;
        let problem = assert_problem(english(&app).await.unwrap(), StatusCode::CONFLICT, "conflict").await;
        let detail = problem["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("qualification of driver driver expired after"), "{detail}");
        assert!(!detail.contains("vehicle") && !detail.contains("carrier"), "{detail}");
        patch(&app, &p.admin, &driver, qualification(&tomorrow)).await;
        patch(&app, &p.admin, &vehicle, json!({"dangerous_goods_permit_valid_until": today})).await;
        let problem = assert_problem(english(&app).await.unwrap(), StatusCode::CONFLICT, "conflict").await;
        let detail = problem["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("permit of vehicle") && !detail.contains("qualification"), "{detail}");
        patch(&app, &p.admin, &vehicle, json!({"dangerous_goods_permit_valid_until": tomorrow})).await;
        patch(&app, &p.admin, &carrier, json!({"transport_permit_valid_until": today})).await;
        let problem = assert_problem(english(&app).await.unwrap(), StatusCode::CONFLICT, "conflict").await;
        let detail = problem["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("transport permit of carrier Lvyun Transport expired after"), "{detail}");
        // In Chinese too.
        let r = app.post_json(&take_over, Some(&p.driver), &json!({})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let m = manifest(&app, &p.office, &id).await;
        assert_eq!(m["status"], "confirmed", "nothing signed");

        // On the carrier permit's last day (a minute before midnight): taken over.
        app.stand_at(&format!("{today}T23:59:00+08:00"));
        let r = app.post_json(&take_over, Some(&p.driver), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn a_disposers_own_fleet_is_held_to_its_vehicle_and_driver(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        let p = park(&app, 100, 100).await;
        let today = app.day(0);
        let vehicle = app.created_id("/api/v1/vehicles", &p.admin, &json!({"operator_id": p.disposer, "plate": "粤B·77777",
            "dangerous_goods_permit_number": "440300077777", "dangerous_goods_permit_valid_until": today})).await;
        let driver_id = app.create_user(&p.admin, &p.disposer, "own.driver", "driver", PASSWORD).await;
        patch(&app, &p.admin, &format!("/api/v1/users/{driver_id}"),
            json!({"dangerous_goods_qualification": {"number": "Q-7", "valid_until": today}})).await;
        let own_driver = access_token(&app.login("own.driver", PASSWORD).await);

        let r = weigh_into(&app, &p, &p.enterprise_a, &p.zone, 120).await;
        let lot: Value = r.json().await.unwrap();
        let request = lot["pickup_request_id"].as_str().expect("a request").to_owned();
        let body = json!({"scheduled_on": today, "carrier_id": p.disposer, "vehicle_id": vehicle, "driver_id": driver_id});
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/schedule"), Some(&p.dispatcher), &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut out = loaded(&app, &p, &request, 118).await;
        out["vehicle_id"] = json!(vehicle);
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/collect"), Some(&own_driver), &out).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        let id = collection["manifests"][0]["id"].as_str().unwrap().to_owned();
        let r = app.post_json(&format!("/api/v1/manifests/{id}/confirm"), Some(&p.office), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);

        app.stand_at(&format!("{}T00:01:00+08:00", app.day(1)));
        let take_over = format!("/api/v1/manifests/{id}/take-over");
        let r = app.request(reqwest::Method::POST, &take_over, Some(&own_driver)).header("accept-language", "en")
            .json(&json!({})).send().await.unwrap();
        let problem = assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("vehicle") && detail.contains("qualification") && !detail.contains("carrier"), "{detail}");
        // Renewed: taken over.
        let later = app.day(365);
        patch(&app, &p.admin, &format!("/api/v1/vehicles/{vehicle}"), json!({"dangerous_goods_permit_valid_until": later})).await;
        patch(&app, &p.admin, &format!("/api/v1/users/{driver_id}"),
            json!({"dangerous_goods_qualification": {"number": "Q-8", "valid_until": later}})).await;
        let r = app.post_json(&take_over, Some(&own_driver), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}

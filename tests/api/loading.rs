//! Loading at collection: each manifest's outbound figure weighed by itself, or marked as the
//! vehicle's weighing shared (in the manifest, its print, the export and the collection); the
//! door weighings with their own scale and time; every container's label scanned (hazardous
//! waste always, general waste unless the park turned the check off).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields};
use crate::manifests::{manifest, scans, schedule, with_permit};
use crate::pickups::{Park, park, weighing};

async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.post_json(path, Some(token), body).await
}

/// A lot of `code` weighed into the warehouse by the park office.
async fn weigh_code(app: &TestApp, p: &Park, enterprise: &str, code: &str, kg: i64) -> Value {
    let mut body = weighing(p, enterprise, kg);
    body["waste_code"] = json!(code);
    let r = post(app, "/api/v1/lots", &p.office, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// The park office raises a request for the warehouse's HW08 and the carrier is scheduled.
async fn raise_hw08(app: &TestApp, p: &Park) -> String {
    let r = post(
        app,
        "/api/v1/pickup-requests",
        &p.office,
        &json!({"contract_id": p.contract, "warehouse_id": p.warehouse, "category": "HW08"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let request = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    schedule(app, p, &request).await;
    request
}

/// A device's time, `minutes` before the clock, in whole seconds.
fn minutes_ago(p: &Park, minutes: i64) -> String {
    (p.clock.now() - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

fn weighed(code: &str, scale: &str, at: &str, net_kg: i64) -> Value {
    json!({"waste_code": code, "scale_id": scale, "captured_at": at,
        "gross_grams": net_kg * 1000 + 3_000_000, "tare_grams": 3_000_000})
}

fn by_code<'a>(manifests: &'a Value, code: &str) -> &'a Value {
    manifests
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["waste_code"] == code)
        .unwrap_or_else(|| panic!("{code} in {manifests}"))
}

backend_tests! {
    async fn each_manifest_takes_its_own_weighing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5_000, 100).await;
        with_permit(&app, &p).await;
        let oil = weigh_code(&app, &p, &p.enterprise_a, "900-249-08", 300).await;
        weigh_code(&app, &p, &p.enterprise_b, "900-214-08", 200).await;
        let request = raise_hw08(&app, &p).await;
        let collect = format!("/api/v1/pickup-requests/{request}/collect");
        let (at_oil, at_engine) = (minutes_ago(&p, 4), minutes_ago(&p, 2));
        let base = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": minutes_ago(&p, 1),
            "scanned_labels": scans(&app, &p.office, &request).await});

        // One manifest weighed while the other is not: refused, naming the one left out.
        let mut one = base.clone();
        one["manifest_weighings"] = json!([weighed("900-249-08", "SCALE-A", &at_oil, 295)]);
        let problem = assert_problem(post(&app, &collect, &p.driver, &one).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["manifest_weighings"]);
        assert_eq!(problem["errors"][0]["code"], "missing");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("900-214-08"), "{problem}");
        // A weighing of a code that does not leave on this trip: refused, naming it.
        let mut stray = base.clone();
        stray["manifest_weighings"] = json!([weighed("900-249-08", "SCALE-A", &at_oil, 295),
            weighed("900-214-08", "SCALE-B", &at_engine, 150), weighed("900-041-49", "SCALE-C", &at_engine, 10)]);
        let problem = assert_problem(post(&app, &collect, &p.driver, &stray).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["manifest_weighings[2]"]);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("900-041-49"), "{problem}");
        // Neither the vehicle nor the manifests weighed: the vehicle's weighing is asked for.
        let problem = assert_problem(post(&app, &collect, &p.driver, &base).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["gross_grams"]);
        let lot: Value = app.get(&format!("/api/v1/lots/{}", oil["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        assert_eq!(lot["status"], "stored", "a refused collection changes nothing");

        // Each manifest weighed by itself, without the vehicle's weighing.
        let mut both = base.clone();
        both["manifest_weighings"] = json!([weighed("900-214-08", "SCALE-B", &at_engine, 150),
            weighed("900-249-08", "SCALE-A", &at_oil, 295)]);
        let r = post(&app, &collect, &p.driver, &both).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        assert_eq!(collection["net_grams"], 445_000, "the manifests' weighings together");
        assert!(collection.get("gross_grams").is_none(), "{collection}");
        let (m_oil, m_engine) = (by_code(&collection["manifests"], "900-249-08"), by_code(&collection["manifests"], "900-214-08"));
        assert_eq!((m_oil["outbound_grams"].as_i64(), m_oil["outbound_basis"].as_str()), (Some(295_000), Some("weighed")));
        assert_eq!((m_engine["outbound_grams"].as_i64(), m_engine["outbound_basis"].as_str()), (Some(150_000), Some("weighed")));
        // The mass balance takes each manifest's own weighing: 295 kg of 300 kg is within the
        // tolerance, 150 kg of 200 kg is not (shared in proportion, both would be 11 % short).
        assert_eq!(m_oil["flagged"], false);
        assert_eq!(m_engine["flagged"], true);

        let oil_manifest = manifest(&app, &p.office, m_oil["id"].as_str().unwrap()).await;
        assert_eq!(oil_manifest["outbound_basis"], "weighed");
        assert_eq!(oil_manifest["outbound_scale_id"], "SCALE-A");
        assert_eq!(instant(&oil_manifest["outbound_captured_at"]), instant(&json!(at_oil)));
        assert_eq!(oil_manifest["mass_balance"]["outbound_grams"], 295_000);
        let engine = manifest(&app, &p.office, m_engine["id"].as_str().unwrap()).await;
        assert_eq!(engine["outbound_scale_id"], "SCALE-B");
        assert_eq!(instant(&engine["outbound_captured_at"]), instant(&json!(at_engine)));
        assert!(engine["mass_balance"]["flagged"].as_bool().unwrap());
        let page = app.get(&format!("/api/v1/manifests/{}/print.html", m_engine["id"].as_str().unwrap()), &p.office).await.text().await.unwrap();
        assert!(page.contains("称重（SCALE-B"), "{page}");
        assert!(!page.contains("分摊"), "{page}");
    }

    async fn several_consignors_of_a_code_are_named(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // The park's collection permit ends after the weigh-ins: each enterprise consigns its
        // own manifest of the code.
        let p = park(&app, 5_000, 100).await;
        weigh_code(&app, &p, &p.enterprise_a, "900-249-08", 300).await;
        weigh_code(&app, &p, &p.enterprise_b, "900-249-08", 200).await;
        let request = raise_hw08(&app, &p).await;
        let r = app.patch_json(&format!("/api/v1/parks/{}", p.park), &p.admin, &json!({"collection_permit_number": null})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let collect = format!("/api/v1/pickup-requests/{request}/collect");
        let at = minutes_ago(&p, 2);
        let mut body = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": at,
            "manifest_weighings": [weighed("900-249-08", "SCALE-A", &at, 290)], "scanned_labels": scans(&app, &p.office, &request).await});
        let problem = assert_problem(post(&app, &collect, &p.driver, &body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem)[0], "manifest_weighings[0].consignor_id", "{problem}");
        let mut a = weighed("900-249-08", "SCALE-A", &at, 290);
        a["consignor_id"] = json!(p.enterprise_a);
        let mut b = weighed("900-249-08", "SCALE-A", &at, 195);
        b["consignor_id"] = json!(p.enterprise_b);
        body["manifest_weighings"] = json!([a, b]);
        let r = post(&app, &collect, &p.driver, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        let of = |org: &str| collection["manifests"].as_array().unwrap().iter().find(|m| m["consignor_id"] == org).unwrap().clone();
        assert_eq!(of(&p.enterprise_a)["outbound_grams"], 290_000);
        assert_eq!(of(&p.enterprise_b)["outbound_grams"], 195_000);
        assert!(collection["manifests"].as_array().unwrap().iter().all(|m| m["outbound_basis"] == "weighed"));
    }

    async fn a_shared_vehicle_weighing_is_marked_allocated(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5_000, 100).await;
        with_permit(&app, &p).await;
        weigh_code(&app, &p, &p.enterprise_a, "900-249-08", 300).await;
        weigh_code(&app, &p, &p.enterprise_b, "900-214-08", 200).await;
        let request = raise_hw08(&app, &p).await;
        let at = minutes_ago(&p, 1);
        let body = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": at,
            "gross_grams": 8_490_000, "tare_grams": 8_000_000, "scanned_labels": scans(&app, &p.office, &request).await});
        let r = post(&app, &format!("/api/v1/pickup-requests/{request}/collect"), &p.driver, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        let (m_oil, m_engine) = (by_code(&collection["manifests"], "900-249-08"), by_code(&collection["manifests"], "900-214-08"));
        assert_eq!((m_oil["outbound_grams"].as_i64(), m_engine["outbound_grams"].as_i64()), (Some(294_000), Some(196_000)));
        assert!([m_oil, m_engine].iter().all(|m| m["outbound_basis"] == "allocated"), "{collection}");
        let oil = manifest(&app, &p.office, m_oil["id"].as_str().unwrap()).await;
        assert_eq!(oil["outbound_basis"], "allocated");
        assert!(oil.get("outbound_scale_id").is_none() && oil.get("outbound_captured_at").is_none(), "{oil}");
        // The print says so next to the figure, and never calls it weighed.
        let page = app.get(&format!("/api/v1/manifests/{}/print.html", m_oil["id"].as_str().unwrap()), &p.office).await.text().await.unwrap();
        assert!(page.contains("294.000 kg（0.294000 吨） — 分摊（按入库重量分摊整车称重"), "{page}");
        assert!(!page.contains("称重（"), "{page}");
        // So does the export of the manifest list, beside the outbound weight.
        let text = app.get("/api/v1/manifests/export.csv", &p.office).await.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {headers:?}"));
        let (basis, scale) = (column("出库重量依据"), column("出库称重设备"));
        assert_eq!(basis, column("出库重量（千克，保留3位小数）") + 1);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r[basis].starts_with("分摊") && r[scale].is_empty()), "{rows:?}");

        // A trip with one manifest: the vehicle's weighing is that manifest's own.
        weigh_code(&app, &p, &p.enterprise_a, "900-249-08", 100).await;
        let request = raise_hw08(&app, &p).await;
        let body = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": at,
            "gross_grams": 8_099_000, "tare_grams": 8_000_000, "scanned_labels": scans(&app, &p.office, &request).await});
        let r = post(&app, &format!("/api/v1/pickup-requests/{request}/collect"), &p.driver, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        assert_eq!(collection["manifests"][0]["outbound_basis"], "weighed");
        let only = manifest(&app, &p.office, collection["manifests"][0]["id"].as_str().unwrap()).await;
        assert_eq!(only["outbound_scale_id"], "TRUCK-SCALE");
        assert_eq!(instant(&only["outbound_captured_at"]), instant(&json!(at)));
    }

    async fn door_weighings_keep_their_own_scale_and_time(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let declare = |kg: i64| json!({"enterprise_id": p.enterprise_a, "waste_code": "900-003-S59", "physical_form": "solid",
            "container_type": "bag", "container_count": 1, "estimated_grams": kg * 1000});
        let first: Value = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(150)).await.json().await.unwrap();
        let second: Value = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(60)).await.json().await.unwrap();
        let door = second["pickup_request_id"].as_str().unwrap().to_owned();
        schedule(&app, &p, &door).await;
        let (at_door, at_truck) = (minutes_ago(&p, 40), minutes_ago(&p, 1));
        let body = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": at_truck,
            "gross_grams": 8_215_000, "tare_grams": 8_000_000, "scanned_labels": scans(&app, &p.office, &door).await, "door_weighings": [
                {"lot_id": first["id"], "gross_grams": 142_500, "tare_grams": 2_500, "scale_id": "HANGING-3", "captured_at": at_door},
                {"lot_id": second["id"], "gross_grams": 71_000, "tare_grams": 1_000}]});
        let collect = format!("/api/v1/pickup-requests/{door}/collect");
        // A door weighing's time is checked as the collection's is.
        let mut old = body.clone();
        old["door_weighings"][0]["captured_at"] = json!(minutes_ago(&p, 60 * 24 * 40));
        let problem = assert_problem(post(&app, &collect, &p.driver, &old).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["door_weighings[0].captured_at"]);
        let r = post(&app, &collect, &p.driver, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let lot = |id: &Value| { let app = &app; let id = id.as_str().unwrap().to_owned(); let token = p.office.clone();
            async move { app.get(&format!("/api/v1/lots/{id}"), &token).await.json::<Value>().await.unwrap() } };
        let weighed_at_door = lot(&first["id"]).await;
        assert_eq!(weighed_at_door["net_grams"], 140_000);
        assert_eq!(weighed_at_door["scale_id"], "HANGING-3", "its own scale, not the vehicle's");
        assert_eq!(instant(&weighed_at_door["captured_at"]), instant(&json!(at_door)));
        let defaulted = lot(&second["id"]).await;
        assert_eq!(defaulted["scale_id"], "TRUCK-SCALE", "the collection's scale when none is given");
        assert_eq!(instant(&defaulted["captured_at"]), instant(&json!(at_truck)));
        let history: Value = app.get(&format!("/api/v1/lots/{}/history", first["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["data"]["door_weighing"]["scale_id"], "HANGING-3", "{last}");
    }

    async fn every_container_label_is_scanned_at_loading(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5_000, 100).await;
        with_permit(&app, &p).await;
        let one = weigh_code(&app, &p, &p.enterprise_a, "900-249-08", 300).await;
        let mut body = weighing(&p, &p.enterprise_b, 200);
        body["container_count"] = json!(2);
        let r = post(&app, "/api/v1/lots", &p.office, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let two: Value = r.json().await.unwrap();
        let request = raise_hw08(&app, &p).await;
        let containers = |lot: &Value| { let app = &app; let id = lot["id"].as_str().unwrap().to_owned(); let token = p.office.clone();
            async move { app.get(&format!("/api/v1/lots/{id}/containers"), &token).await.json::<Value>().await.unwrap() } };
        let (of_one, of_two) = (containers(&one).await, containers(&two).await);
        let code = |c: &Value| c["label_code"].as_str().unwrap().to_owned();
        let collect = format!("/api/v1/pickup-requests/{request}/collect");
        let base = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": minutes_ago(&p, 1),
            "gross_grams": 8_490_000, "tare_grams": 8_000_000});

        // No scan at all: the scans are required for hazardous waste.
        let problem = assert_problem(post(&app, &collect, &p.driver, &base).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["scanned_labels"]);
        assert_eq!(problem["errors"][0]["code"], "required");
        // The second container of the second lot not scanned: refused, naming the lot and its label.
        let mut partly = base.clone();
        partly["scanned_labels"] = json!([code(&of_one[0]), code(&of_two[0])]);
        let problem = assert_problem(post(&app, &collect, &p.driver, &partly).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["scanned_labels"]);
        assert_eq!(problem["errors"][0]["code"], "not_scanned");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(two["id"].as_str().unwrap()) && message.contains(&code(&of_two[1])), "{problem}");
        assert!(!message.contains(&code(&of_two[0])), "{problem}");
        // A label of no container of this collection: refused, naming it.
        let stranger = "91440300MA5F0001819002490820261128999";
        let mut unknown = base.clone();
        unknown["scanned_labels"] = json!([code(&of_one[0]), code(&of_two[0]), code(&of_two[1]), stranger]);
        let problem = assert_problem(post(&app, &collect, &p.driver, &unknown).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["scanned_labels[3]"]);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains(stranger), "{problem}");
        let lot: Value = app.get(&format!("/api/v1/lots/{}", one["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        assert_eq!(lot["status"], "stored", "a refused collection changes nothing");

        // Every label scanned — by its digital code, or by its QR code (the verification URL).
        let mut all = base.clone();
        all["scanned_labels"] = json!([code(&of_one[0]), of_two[0]["verify_url"], code(&of_two[1])]);
        let r = post(&app, &collect, &p.driver, &all).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    async fn a_park_may_leave_general_waste_unscanned(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5_000, 80).await;
        let declare = |kg: i64| json!({"enterprise_id": p.enterprise_a, "waste_code": "900-003-S59", "physical_form": "solid",
            "container_type": "bag", "container_count": 1, "estimated_grams": kg * 1000});
        let first: Value = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(150)).await.json().await.unwrap();
        let second: Value = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(60)).await.json().await.unwrap();
        let door = second["pickup_request_id"].as_str().unwrap().to_owned();
        schedule(&app, &p, &door).await;
        let body = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": minutes_ago(&p, 1),
            "gross_grams": 8_215_000, "tare_grams": 8_000_000, "door_weighings": [
                {"lot_id": first["id"], "gross_grams": 142_500, "tare_grams": 2_500},
                {"lot_id": second["id"], "gross_grams": 71_000, "tare_grams": 1_000}]});
        let collect = format!("/api/v1/pickup-requests/{door}/collect");
        // By default general waste is checked too.
        let problem = assert_problem(post(&app, &collect, &p.driver, &body).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["scanned_labels"]);

        // The park turns the check off for general waste: collected without a scan.
        let r = app.patch_json(&format!("/api/v1/parks/{}", p.park), &p.admin, &json!({"label_scan_general": false})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["label_scan_general"], false);
        let r = post(&app, &collect, &p.driver, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);

        // Hazardous waste is still checked.
        weigh_code(&app, &p, &p.enterprise_a, "900-249-08", 100).await;
        let request = raise_hw08(&app, &p).await;
        let out = json!({"vehicle_id": p.vehicle, "scale_id": "TRUCK-SCALE", "captured_at": minutes_ago(&p, 1),
            "gross_grams": 8_100_000, "tare_grams": 8_000_000});
        let problem = assert_problem(post(&app, &format!("/api/v1/pickup-requests/{request}/collect"), &p.driver, &out).await,
            StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["scanned_labels"]);
    }
}

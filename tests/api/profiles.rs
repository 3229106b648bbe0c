//! Enterprises' compliance through the API: the waste profile and its versions, the flag on a
//! lot whose code the profile does not list (and its anomaly list), the five haves computed
//! from the data (each true and false) or recorded by the park office, who may read and write
//! them, and the monthly trends against hand-computed figures around a month's end in Shanghai
//! time, against the profile's expectation and the year before, with their exports.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields, time_travel};
use crate::pickups::{PASSWORD, Park, park, post, weighing};

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.request(Method::PUT, path, Some(token))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn ok_json(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn profile_path(enterprise: &str) -> String {
    format!("/api/v1/enterprises/{enterprise}/profile")
}

/// A profile of waste oil only (300 kg a month), with or without a person and a storage point.
fn oil_profile(person: bool, point: bool) -> Value {
    let mut body = json!({"wastes": [
        {"waste_code": "900-249-08", "grams_per_month": 300_000, "handling": "park_warehouse"}]});
    if person {
        body["person_in_charge"] = json!("Chen Jie");
    }
    if point {
        body["storage_points"] = json!([{"name": "Oil cabinet", "location": "Building 3, east door", "capacity_grams": 500_000}]);
    }
    body
}

/// Weighs `kg` of `code` for `enterprise` into `zone`, captured now; returns the lot.
async fn weigh_code(
    app: &TestApp,
    p: &Park,
    enterprise: &str,
    code: &str,
    zone: &str,
    kg: i64,
    components: Option<&str>,
) -> Value {
    let mut body = weighing(p, enterprise, kg);
    body["waste_code"] = json!(code);
    body["zone_id"] = json!(zone);
    if let Some(c) = components {
        body["main_components"] = json!(c);
    }
    let r = post(app, "/api/v1/lots", &p.office, &body).await;
    let status = r.status();
    let lot: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{lot}");
    lot
}

async fn anomalies(app: &TestApp, token: &str) -> Vec<String> {
    let page = ok_json(
        app.get("/api/v1/anomalies?kind=outside_profile&limit=200", token)
            .await,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["kind"], "outside_profile");
            a["subject_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The have named `have` of a five-haves view.
fn have<'a>(view: &'a Value, have: &str) -> &'a Value {
    view["haves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["have"] == have)
        .unwrap_or_else(|| panic!("no {have} in {view}"))
}

async fn five_haves(app: &TestApp, token: &str, enterprise: &str) -> Value {
    ok_json(
        app.get(
            &format!("/api/v1/enterprises/{enterprise}/five-haves"),
            token,
        )
        .await,
    )
    .await
}

/// An inspector of the park's district (440307 lies in 4403) and one elsewhere (4401).
async fn inspectors(app: &TestApp, p: &Park) -> (String, String) {
    let here = app.create_bureau(&p.admin, "Longgang bureau", "4403").await;
    let there = app
        .create_bureau(&p.admin, "Guangzhou bureau", "4401")
        .await;
    app.create_user(&p.admin, &here, "inspector_here", "inspector", PASSWORD)
        .await;
    app.create_user(&p.admin, &there, "inspector_there", "inspector", PASSWORD)
        .await;
    (
        access_token(&app.login("inspector_here", PASSWORD).await),
        access_token(&app.login("inspector_there", PASSWORD).await),
    )
}

/// Another park with its office; returns the office's token.
async fn other_office(app: &TestApp, p: &Park) -> String {
    let park = app.create_park(&p.admin, "Pingshan park", "440310").await;
    app.create_user(&p.admin, &park, "office_two", "park_office", PASSWORD)
        .await;
    access_token(&app.login("office_two", PASSWORD).await)
}

backend_tests! {
    async fn a_lot_outside_the_profile_is_flagged_one_inside_it_or_without_a_profile_is_not(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 1_000_000, 100).await;
        let profile = ok_json(put(&app, &profile_path(&p.enterprise_a), &p.office, &oil_profile(true, false)).await).await;
        assert_eq!(profile["version"], 1);
        assert_eq!(profile["wastes"][0]["category"], "HW08");

        let inside = weigh_code(&app, &p, &p.enterprise_a, "900-249-08", &p.zone, 10, None).await;
        assert!(inside.get("outside_profile").is_none(), "{inside}");
        let outside = weigh_code(&app, &p, &p.enterprise_a, "900-214-08", &p.zone, 10, None).await;
        assert_eq!(outside["outside_profile"], true, "{outside}");
        // Enterprise B has no profile: nothing to be outside of.
        let no_profile = weigh_code(&app, &p, &p.enterprise_b, "900-214-08", &p.zone, 10, None).await;
        assert!(no_profile.get("outside_profile").is_none(), "{no_profile}");

        let id = |lot: &Value| lot["id"].as_str().unwrap().to_owned();
        let read = ok_json(app.get(&format!("/api/v1/lots/{}", id(&outside)), &p.producer_a).await).await;
        assert_eq!(read["outside_profile"], true);
        let read = ok_json(app.get(&format!("/api/v1/lots/{}", id(&inside)), &p.office).await).await;
        assert!(read.get("outside_profile").is_none());
        let list = ok_json(app.get(&format!("/api/v1/lots?enterprise_id={}", p.enterprise_a), &p.office).await).await;
        let flagged: Vec<&str> = list["items"].as_array().unwrap().iter()
            .filter(|l| l["outside_profile"] == true).map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(flagged, [id(&outside).as_str()]);

        // The park office finds it among the anomalies; an enterprise never reads them.
        assert_eq!(anomalies(&app, &p.office).await, [id(&outside)]);
        let r = app.get("/api/v1/anomalies?kind=outside_profile", &p.producer_a).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        // Another park's office sees none of it.
        let office_two = other_office(&app, &p).await;
        assert!(anomalies(&app, &office_two).await.is_empty());

        // A declaration at the door is flagged alike, by the enterprise's own hand.
        let declaration = json!({"enterprise_id": p.enterprise_a, "waste_code": "900-003-S59", "physical_form": "solid",
            "container_type": "bulk", "container_count": 1, "estimated_grams": 850_000});
        let r = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declaration).await;
        let status = r.status();
        let declared: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{declared}");
        assert_eq!(declared["outside_profile"], true);
        let mut expected = vec![id(&outside), id(&declared)];
        expected.sort();
        assert_eq!(anomalies(&app, &p.office).await, expected);
        let r = post(&app, &format!("/api/v1/lots/{}/void", id(&declared)), &p.producer_a, &json!({"reason": "not ours"})).await;
        ok_json(r).await;

        // Voided, it is no longer an anomaly.
        let r = post(&app, &format!("/api/v1/lots/{}/void", id(&outside)), &p.office, &json!({"reason": "wrong code"})).await;
        let voided = ok_json(r).await;
        assert_eq!(voided["outside_profile"], true, "the flag stays on the lot");
        assert!(anomalies(&app, &p.office).await.is_empty());
    }

    async fn a_profile_is_versioned_validated_and_kept_by_its_park_office(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 1_000_000, 100).await;
        let path = profile_path(&p.enterprise_a);
        let r = app.get(&path, &p.office).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        let first = ok_json(put(&app, &path, &p.office, &oil_profile(true, true)).await).await;
        app.advance(chrono::Duration::minutes(10));
        let mut second_body = oil_profile(false, false);
        second_body["wastes"].as_array_mut().unwrap().push(
            json!({"waste_code": "900-003-S59", "grams_per_month": 0, "handling": "recycler"}));
        let second = ok_json(put(&app, &path, &p.office, &second_body).await).await;
        assert_eq!(second["version"], 2);
        assert!(second.get("person_in_charge").is_none());
        assert_eq!(second["storage_points"], json!([]));
        let codes: Vec<&str> = second["wastes"].as_array().unwrap().iter().map(|w| w["waste_code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["900-003-S59", "900-249-08"]);
        assert_eq!(ok_json(app.get(&path, &p.producer_a).await).await, second);

        // Every version stays readable, with who stored it and when.
        let versions = ok_json(app.get(&format!("{path}/versions"), &p.office).await).await;
        let items = versions["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["data"], first);
        assert_eq!(items[1]["data"], second);
        assert_eq!(items[0]["recorded_by"], first["updated_by"]);
        assert_eq!(items[0]["recorded_at"], first["updated_at"]);
        let as_of = first["updated_at"].as_str().unwrap();
        let then = ok_json(app.get(&format!("{path}/versions?as_of={as_of}"), &p.producer_a).await).await;
        assert_eq!(then["items"][0]["data"]["version"], 1);

        // Every bad field is named.
        let bad = json!({"person_phone": "not a phone", "wastes": [
            {"waste_code": "900-249-99", "grams_per_month": 1, "handling": "park_warehouse"},
            {"waste_code": "900-001-08", "grams_per_month": -1, "handling": "burned"},
            {"waste_code": "900-249-08", "grams_per_month": 1, "handling": "recycler"},
            {"waste_code": "900-249-08", "grams_per_month": 1, "handling": "recycler"}],
            "storage_points": [{"name": " ", "location": "Gate", "capacity_grams": 0}]});
        let problem = assert_problem(put(&app, &path, &p.office, &bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let mut fields = error_fields(&problem);
        fields.sort();
        assert_eq!(fields, ["person_phone", "storage_points[0].capacity_grams", "storage_points[0].name",
            "wastes[0].waste_code", "wastes[1].grams_per_month", "wastes[1].handling", "wastes[3].waste_code"]);
        // A code of the right shape that the catalog lacks.
        let unknown = json!({"wastes": [{"waste_code": "900-001-08", "grams_per_month": 1, "handling": "own_contract"}]});
        let problem = assert_problem(put(&app, &path, &p.office, &unknown).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["wastes[0].waste_code"]);
        assert_eq!(problem["errors"][0]["code"], "unknown_code");
        assert_eq!(ok_json(app.get(&path, &p.office).await).await["version"], 2, "nothing stored");

        // Readers without the right to write get 403; other tenants 404.
        let (inspector, inspector_elsewhere) = inspectors(&app, &p).await;
        let body = oil_profile(true, true);
        for token in [&p.producer_a, &inspector] {
            assert_eq!(app.get(&path, token).await.status(), StatusCode::OK);
            assert_problem(put(&app, &path, token, &body).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let office_two = other_office(&app, &p).await;
        for token in [&p.producer_b, &p.dispatcher, &p.driver, &inspector_elsewhere, &office_two] {
            assert_problem(app.get(&path, token).await, StatusCode::NOT_FOUND, "not-found").await;
            assert_problem(put(&app, &path, token, &body).await, StatusCode::NOT_FOUND, "not-found").await;
            assert_problem(app.get(&format!("{path}/versions"), token).await, StatusCode::NOT_FOUND, "not-found").await;
        }
        assert_eq!(ok_json(app.get(&path, &p.office).await).await["version"], 2);
    }

    async fn each_have_is_computed_from_the_data_or_taken_from_the_record(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 1_000_000, 100).await;
        // Nothing known yet: only the contract is answered by the data, for A (a member) and
        // the outsider (not one).
        let a = five_haves(&app, &p.office, &p.enterprise_a).await;
        for h in ["person_in_charge", "storage_point", "sorting", "labels"] {
            assert_eq!(have(&a, h)["source"], "none", "{h}: {a}");
            assert_eq!(have(&a, h)["met"], false);
        }
        assert_eq!((have(&a, "contract")["met"].clone(), have(&a, "contract")["source"].clone()), (json!(true), json!("data")));
        assert_eq!(a["met"], 1);
        let outsider = five_haves(&app, &p.office, &p.outsider).await;
        assert_eq!(have(&outsider, "contract")["computed"], false);
        assert_eq!(outsider["met"], 0);

        // A profile with a person and a storage point; B's without either.
        ok_json(put(&app, &profile_path(&p.enterprise_a), &p.office, &oil_profile(true, true)).await).await;
        ok_json(put(&app, &profile_path(&p.enterprise_b), &p.office, &oil_profile(false, false)).await).await;
        // A hands in waste oil of its profile with its main components; B a code outside
        // its profile, without them.
        weigh_code(&app, &p, &p.enterprise_a, "900-249-08", &p.zone, 20, Some("mineral oil 90%")).await;
        weigh_code(&app, &p, &p.enterprise_b, "900-214-08", &p.zone, 20, None).await;

        let a = five_haves(&app, &p.office, &p.enterprise_a).await;
        let b = five_haves(&app, &p.office, &p.enterprise_b).await;
        for h in ["person_in_charge", "storage_point", "sorting", "labels", "contract"] {
            assert_eq!(have(&a, h)["computed"], true, "A {h}: {a}");
            assert_eq!(have(&a, h)["met"], true, "A {h}");
        }
        assert_eq!(a["met"], 5);
        for h in ["person_in_charge", "storage_point", "sorting", "labels"] {
            assert_eq!(have(&b, h)["computed"], false, "B {h}: {b}");
            assert_eq!(have(&b, h)["source"], "data");
        }
        assert_eq!(have(&b, "sorting")["facts"]["outside_profile"], 1);
        assert_eq!(have(&b, "labels")["facts"]["without_main_components"], 1);
        assert_eq!(have(&a, "person_in_charge")["facts"]["person_in_charge"], "Chen Jie");
        assert_eq!(b["met"], 1);

        // The park office records what it saw where the data says nothing (the outsider has
        // handed in nothing); where the data answers, the record is shown but the data counts.
        let sorting = |e: &str| format!("/api/v1/enterprises/{e}/five-haves/sorting");
        let record = json!({"met": true, "note": "sorted bins seen at the visit"});
        let outsider = ok_json(put(&app, &sorting(&p.outsider), &p.office, &record).await).await;
        let s = have(&outsider, "sorting");
        assert_eq!((s["met"].clone(), s["source"].clone()), (json!(true), json!("record")));
        assert_eq!(s["record"]["note"], "sorted bins seen at the visit");
        assert!(s["record"]["recorded_by"].as_str().unwrap().starts_with("usr_"));
        assert_eq!(outsider["met"], 1);
        let b = ok_json(put(&app, &sorting(&p.enterprise_b), &p.office, &record).await).await;
        let s = have(&b, "sorting");
        assert_eq!((s["met"].clone(), s["source"].clone(), s["record"]["met"].clone()), (json!(false), json!("data"), json!(true)));
        // Recorded again, the latest record counts.
        let outsider = ok_json(put(&app, &sorting(&p.outsider), &p.office, &json!({"met": false})).await).await;
        assert_eq!(have(&outsider, "sorting")["met"], false);
        assert!(have(&outsider, "sorting")["record"].get("note").is_none());

        // Bad haves and notes are named.
        let r = put(&app, &format!("/api/v1/enterprises/{}/five-haves/tidiness", p.outsider), &p.office, &record).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), ["have"]);
        let r = put(&app, &sorting(&p.outsider), &p.office, &json!({"met": true, "note": "x".repeat(501)})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), ["note"]);

        // The park's list: fewest first, most first, by name, only those missing one.
        let list = |q: &str| {
            let (app, office, park) = (&app, p.office.clone(), p.park.clone());
            let q = q.to_owned();
            async move { ok_json(app.get(&format!("/api/v1/parks/{park}/five-haves{q}"), &office).await).await }
        };
        let names = |v: &Value| -> Vec<(String, i64)> {
            v["enterprises"].as_array().unwrap().iter()
                .map(|e| (e["name"].as_str().unwrap().to_owned(), e["met"].as_i64().unwrap())).collect()
        };
        assert_eq!(names(&list("").await), [("Outside Ltd".to_owned(), 0), ("Bolin Machinery".to_owned(), 1), ("Huaxin Electronics".to_owned(), 5)]);
        assert_eq!(names(&list("?sort=-haves").await)[0], ("Huaxin Electronics".to_owned(), 5));
        assert_eq!(names(&list("?sort=name").await)[0].0, "Bolin Machinery");
        assert_eq!(names(&list("?missing=contract").await), [("Outside Ltd".to_owned(), 0)]);
        let r = app.get(&format!("/api/v1/parks/{}/five-haves?sort=best&missing=luck", p.park), &p.office).await;
        let mut fields = error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await);
        fields.sort();
        assert_eq!(fields, ["missing", "sort"]);

        // Who reads and who writes.
        let (inspector, inspector_elsewhere) = inspectors(&app, &p).await;
        let office_two = other_office(&app, &p).await;
        let own = format!("/api/v1/enterprises/{}/five-haves", p.enterprise_a);
        for token in [&p.producer_a, &inspector] {
            assert_eq!(app.get(&own, token).await.status(), StatusCode::OK);
            let r = put(&app, &sorting(&p.enterprise_a), token, &record).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        for token in [&p.producer_b, &p.dispatcher, &inspector_elsewhere, &office_two] {
            assert_problem(app.get(&own, token).await, StatusCode::NOT_FOUND, "not-found").await;
            let r = put(&app, &sorting(&p.enterprise_a), token, &record).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        let park_list = format!("/api/v1/parks/{}/five-haves", p.park);
        assert_eq!(app.get(&park_list, &inspector).await.status(), StatusCode::OK);
        for token in [&p.producer_a, &p.dispatcher] {
            assert_problem(app.get(&park_list, token).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        for token in [&inspector_elsewhere, &office_two] {
            assert_problem(app.get(&park_list, token).await, StatusCode::NOT_FOUND, "not-found").await;
        }
    }

    async fn trends_add_up_months_of_shanghai_against_the_profile_and_the_year_before(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2025-10-01T02:00:00Z");
        let p = park(&app, 1_000_000, 100).await;
        // A general zone for scrap, and a contract of the outsider's own that runs long enough
        // for both years: waste oil priced, scrap bought by the disposer (a negative price).
        let general = app.created_id(&format!("/api/v1/warehouses/{}/zones", p.warehouse), &p.admin,
            &json!({"name": "G1", "kind": "general", "categories": ["S59"], "capacity_grams": 10_000_000})).await;
        let contract = json!({"park_id": p.park, "disposer_id": p.disposer, "number": "C-2", "valid_from": "2025-10-01", "valid_to": "2027-12-31",
            "max_storage_days": 365, "pickup_zone_percent": 100, "members": [{"enterprise_id": p.outsider}],
            "prices": [{"target": "HW08", "fen_per_tonne": 280_000}, {"target": "900-003-S59", "fen_per_tonne": -120_000}]});
        app.created_id("/api/v1/contracts", &p.admin, &contract).await;
        let profile = json!({"wastes": [
            {"waste_code": "900-249-08", "grams_per_month": 300_000, "handling": "park_warehouse"},
            {"waste_code": "900-003-S59", "grams_per_month": 500_000, "handling": "recycler"}]});
        ok_json(put(&app, &profile_path(&p.outsider), &p.office, &profile).await).await;

        // Each lot is captured at `at` (UTC) and sent five minutes later.
        let lot = |enterprise: String, code: &'static str, zone: String, kg: i64, at: &'static str| {
            let (app, p) = (&app, &p);
            async move {
                let at = crate::helpers::instant(at);
                app.clock.set(at + chrono::Duration::minutes(5));
                let mut body = weighing(p, &enterprise, kg);
                body["waste_code"] = json!(code);
                body["zone_id"] = json!(zone);
                body["captured_at"] = json!(at.to_rfc3339());
                if code.ends_with("S59") {
                    body["physical_form"] = json!("solid");
                }
                let r = post(app, "/api/v1/lots", &p.office, &body).await;
                let status = r.status();
                let lot: Value = r.json().await.unwrap();
                assert_eq!(status, StatusCode::CREATED, "{lot}");
            }
        };
        let (o, a, hw, s) = (p.outsider.clone(), p.enterprise_a.clone(), p.zone.clone(), general.clone());
        // A year before: 23:30 on 31 October in Shanghai, then 00:30 on 1 November (still
        // October in UTC); and A's 70 kg, which counts for the park only.
        lot(o.clone(), "900-249-08", hw.clone(), 100, "2025-10-31T15:30:00Z").await;
        lot(o.clone(), "900-249-08", hw.clone(), 200, "2025-10-31T16:30:00Z").await;
        lot(a.clone(), "900-249-08", hw.clone(), 70, "2025-10-31T16:40:00Z").await;
        // This year: 23:50 on 31 October, 00:10 on 1 November, and scrap in mid-November.
        lot(o.clone(), "900-249-08", hw.clone(), 40, "2026-10-31T15:50:00Z").await;
        lot(o.clone(), "900-249-08", hw.clone(), 150, "2026-10-31T16:10:00Z").await;
        lot(o.clone(), "900-003-S59", s.clone(), 60, "2026-11-15T02:00:00Z").await;
        app.stand_at("2026-11-20T02:00:00Z");

        let path = format!("/api/v1/enterprises/{}/trends?from=2026-10&to=2026-11", p.outsider);
        let t = ok_json(app.get(&path, &p.office).await).await;
        assert_eq!(t["by"], "code");
        let months = t["months"].as_array().unwrap();
        assert_eq!(months.len(), 2);
        let (oct, nov) = (&months[0], &months[1]);
        assert_eq!((oct["month"].clone(), oct["start"].clone(), oct["end"].clone()),
            (json!("2026-10"), json!("2026-09-30T16:00:00Z"), json!("2026-10-31T16:00:00Z")));
        let row = |m: &Value, key: &str| m["rows"].as_array().unwrap().iter().find(|r| r["key"] == key).cloned()
            .unwrap_or_else(|| panic!("no {key} in {m}"));
        let figures = |v: &Value| ["grams", "lots", "last_year_grams", "expected_grams", "recycled_grams", "disposed_grams"]
            .map(|f| v[f].as_i64().unwrap_or(-1));
        assert_eq!(figures(&row(oct, "900-249-08")), [40_000, 1, 100_000, 300_000, 0, 40_000]);
        assert_eq!(figures(&row(oct, "900-003-S59")), [0, 0, 0, 500_000, 0, 0]);
        assert_eq!(figures(oct), [40_000, 1, 100_000, 800_000, 0, 40_000]);
        assert_eq!((oct["recycled_percent"].clone(), oct["change_percent"].clone()), (json!(0), json!(-60)));
        assert_eq!(figures(&row(nov, "900-249-08")), [150_000, 1, 200_000, 300_000, 0, 150_000]);
        assert_eq!(figures(&row(nov, "900-003-S59")), [60_000, 1, 0, 500_000, 60_000, 0]);
        assert_eq!(row(nov, "900-003-S59")["name"], "废金属边角料");
        assert_eq!(figures(nov), [210_000, 2, 200_000, 800_000, 60_000, 150_000]);
        // 60 of 210 kg recycled: 28.57 %, rounded down; 10 kg more than 200: +5 %.
        assert_eq!((nov["recycled_percent"].clone(), nov["change_percent"].clone()), (json!(28), json!(5)));
        assert_eq!([t["grams"].clone(), t["last_year_grams"].clone(), t["expected_grams"].clone(), t["recycled_grams"].clone(), t["disposed_grams"].clone()],
            [json!(250_000), json!(300_000), json!(1_600_000), json!(60_000), json!(190_000)]);

        // The park by category: A's lot of a year before counts too.
        let park_path = format!("/api/v1/parks/{}/trends?from=2026-10&to=2026-11&by=category", p.park);
        let t = ok_json(app.get(&park_path, &p.office).await).await;
        let nov = &t["months"][1];
        assert_eq!(figures(&row(nov, "HW08")), [150_000, 1, 270_000, 300_000, 0, 150_000]);
        assert_eq!(figures(&row(nov, "S59")), [60_000, 1, 0, 500_000, 60_000, 0]);
        // (210 − 270) / 270 = −22.2 %: toward zero.
        assert_eq!(nov["change_percent"], -22);
        assert!(t.get("enterprise_id").is_none());

        // Waste the profile hands to a recycler counts as recycled whatever its price; scrap
        // still counts by its negative price when the profile no longer says recycler.
        let profile = json!({"wastes": [
            {"waste_code": "900-249-08", "grams_per_month": 300_000, "handling": "recycler"},
            {"waste_code": "900-003-S59", "grams_per_month": 500_000, "handling": "own_contract"}]});
        ok_json(put(&app, &profile_path(&p.outsider), &p.office, &profile).await).await;
        let t = ok_json(app.get(&path, &p.office).await).await;
        let nov = &t["months"][1];
        assert_eq!(figures(&row(nov, "900-249-08")), [150_000, 1, 200_000, 300_000, 150_000, 0]);
        assert_eq!(figures(&row(nov, "900-003-S59")), [60_000, 1, 0, 500_000, 60_000, 0]);
        assert_eq!(nov["recycled_percent"], 100);
        // The park's recycler is the outsider's alone: A's waste oil is disposed.
        let t = ok_json(app.get(&park_path.replace("by=category", "by=code").replace("from=2026-10", "from=2025-11").replace("to=2026-11", "to=2025-11"), &p.office).await).await;
        assert_eq!(figures(&row(&t["months"][0], "900-249-08")), [270_000, 2, 0, 300_000, 200_000, 70_000]);
        ok_json(put(&app, &profile_path(&p.outsider), &p.office, &json!({"wastes": [
            {"waste_code": "900-249-08", "grams_per_month": 300_000, "handling": "park_warehouse"},
            {"waste_code": "900-003-S59", "grams_per_month": 500_000, "handling": "recycler"}]})).await).await;

        // The exports: CSV with a byte-order mark and Chinese headers, kilograms with three
        // decimals, each month's total; and a workbook.
        let r = app.get(&path.replace("/trends?", "/trends/export.csv?"), &p.outsider_user).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "月份,废物代码或类别,名称,本月重量（千克，保留3位小数）,批次数,去年同月重量（千克，保留3位小数）,预计重量（千克，保留3位小数）,回收利用重量（千克，保留3位小数）,处置重量（千克，保留3位小数）");
        assert!(lines.contains(&"2026-10,合计,,40.000,1,100.000,800.000,0.000,40.000"), "{text}");
        assert!(lines.contains(&"2026-11,900-003-S59,废金属边角料,60.000,1,0.000,500.000,60.000,0.000"), "{text}");
        assert!(lines.contains(&"2026-11,合计,,210.000,2,200.000,800.000,60.000,150.000"), "{text}");
        assert_eq!(lines.len(), 1 + 3 + 3, "{text}");
        let r = app.get(&park_path.replace("/trends?", "/trends/export.xlsx?"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));

        // Who reads them, and bad months.
        assert_eq!(app.get(&path, &p.outsider_user).await.status(), StatusCode::OK);
        assert_problem(app.get(&path, &p.producer_a).await, StatusCode::NOT_FOUND, "not-found").await;
        assert_problem(app.get(&park_path, &p.outsider_user).await, StatusCode::FORBIDDEN, "forbidden").await;
        let office_two = other_office(&app, &p).await;
        assert_problem(app.get(&park_path, &office_two).await, StatusCode::NOT_FOUND, "not-found").await;
        let r = app.get(&format!("/api/v1/parks/{}/trends?from=2026-13&by=month", p.park), &p.office).await;
        let mut fields = error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await);
        fields.sort();
        assert_eq!(fields, ["by", "from"]);
    }
}

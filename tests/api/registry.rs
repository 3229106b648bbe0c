//! Parks, enterprises, the directory and warehouses: validation and history.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields};

backend_tests! {
    async fn a_fleet_is_a_carriers_or_a_disposal_companys_and_no_other_id_names_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = app.create_park(&admin, "Longgang park", "440307").await;
        let carrier = app.create_org(&admin, "carrier", "Lvyun Transport").await;
        let disposer = app.create_disposer(&admin, "Dongjiang").await;
        for fleet in [&carrier, &disposer] {
            let r = app.get(&format!("/api/v1/fleets/{fleet}/drivers"), &admin).await;
            assert_eq!(r.status(), StatusCode::OK, "{fleet}");
        }
        // An organisation of another kind, and an id that names nothing.
        for id in [park.as_str(), "org_00000000000000000000000000000000"] {
            let r = app.get(&format!("/api/v1/fleets/{id}/drivers"), &admin).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
    }

    async fn credit_codes_are_checked_and_the_right_check_character_named(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = app.create_park(&admin, "Longgang park", "440307").await;
        let enterprise = |uscc: &str| json!({"park_id": park, "name": "Huaxin", "uscc": uscc, "contact_name": "Chen", "contact_phone": "13800138000"});

        // The standard's own example, with its last character changed from 3 to 4.
        let r = app.post_json("/api/v1/enterprises", Some(&admin), &enterprise("91350100M000100Y44")).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["uscc"]);
        assert_eq!(problem["errors"][0]["code"], "check_character");
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("“3”"), "{problem}");

        for (bad, code) in [("91350100M000100Y4", "invalid_length"), ("91350100M0001O0Y43", "invalid_character")] {
            let r = app.post_json("/api/v1/enterprises", Some(&admin), &enterprise(bad)).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(problem["errors"][0]["code"], code, "{bad}");
        }

        // Valid codes (lower case accepted and normalised); a second enterprise with the same one is refused.
        let r = app.post_json("/api/v1/enterprises", Some(&admin), &enterprise("91350100m000100y43")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["uscc"], "91350100M000100Y43");
        let r = app.post_json("/api/v1/enterprises", Some(&admin), &enterprise("91350100M000100Y43")).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "taken");
        let r = app.post_json("/api/v1/enterprises", Some(&admin), &enterprise("91130200699229617X")).await;
        assert_eq!(r.status(), StatusCode::CREATED);

        // Disposers and carriers are checked the same way.
        let r = app
            .post_json("/api/v1/disposers", Some(&admin), &json!({"name": "D", "uscc": "91130200699229617Y", "region_code": "440310", "address": "x"}))
            .await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("“X”"), "{problem}");
    }

    async fn the_organisation_code_inside_a_credit_code_is_checked_too(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = app.create_park(&admin, "Longgang park", "440307").await;
        let listed = |path: &'static str| {
            let app = &app;
            let admin = admin.clone();
            async move { app.get(&format!("{path}?limit=200"), &admin).await.json::<Value>().await.unwrap()["items"].as_array().unwrap().len() }
        };
        let before = (listed("/api/v1/enterprises").await, listed("/api/v1/disposers").await, listed("/api/v1/carriers").await);
        // Character 17 of the standard's examples changed, and character 18 made right for the
        // changed code: only the organisation code's check (GB 11714) catches them.
        for (bad, expected) in [("91350100M000100Y56", '4'), ("9113020069922961X2", '7')] {
            let bodies = [
                ("/api/v1/enterprises", json!({"park_id": park, "name": "Huaxin", "uscc": bad, "contact_name": "Chen", "contact_phone": "13800138000"})),
                ("/api/v1/disposers", json!({"name": "D", "uscc": bad, "region_code": "440310", "address": "x"})),
                ("/api/v1/carriers", json!({"name": "C", "uscc": bad, "region_code": "440307", "transport_permit_number": "粤交运440300001"})),
            ];
            for (path, body) in bodies {
                let r = app.post_json(path, Some(&admin), &body).await;
                let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
                assert_eq!(error_fields(&problem), vec!["uscc"], "{path} {bad}");
                assert_eq!(problem["errors"][0]["code"], "organization_check_character", "{problem}");
                let message = problem["errors"][0]["message"].as_str().unwrap();
                assert!(message.contains(&format!("“{expected}”")), "{message}");
            }
        }
        let after = (listed("/api/v1/enterprises").await, listed("/api/v1/disposers").await, listed("/api/v1/carriers").await);
        assert_eq!(after, before, "nothing registered");
    }

    async fn parks_validate_region_time_zone_and_decide_the_consignor(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let r = app
            .post_json("/api/v1/parks", Some(&admin), &json!({"name": "P", "region_code": "440307", "address": "Longgang", "collection_permit_number": "440300-HW-0012"}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let park: Value = r.json().await.unwrap();
        assert_eq!(park["time_zone"], "Asia/Shanghai");
        assert_eq!(park["consignor"], "park_warehouse");
        let id = park["id"].as_str().unwrap();

        let updated: Value = app
            .patch_json(&format!("/api/v1/parks/{id}"), &admin, &json!({"collection_permit_number": null, "time_zone": "Asia/Urumqi"}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(updated["consignor"], "enterprise");
        assert_eq!(updated["time_zone"], "Asia/Urumqi");
        assert!(updated.get("collection_permit_number").is_none());

        let r = app.post_json("/api/v1/parks", Some(&admin), &json!({"name": "P", "region_code": "44030", "address": "x"})).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["region_code"]);
    }

    async fn history_answers_what_was_true_on_a_past_day(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = app.create_park(&admin, "Park", "440307").await;
        let enterprise = app.create_enterprise(&admin, &park, "Old name Ltd").await;
        let before_rename = app.now();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let r = app
            .patch_json(&format!("/api/v1/enterprises/{enterprise}"), &admin, &json!({"name": "New name Ltd", "contact_phone": "0755-86001234"}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app.patch_json(&format!("/api/v1/enterprises/{enterprise}"), &admin, &json!({"left_on": "2026-12-31"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        let history: Value = app.get(&format!("/api/v1/enterprises/{enterprise}/history"), &admin).await.json().await.unwrap();
        let versions = history["items"].as_array().unwrap();
        assert_eq!(versions.len(), 3);
        assert_eq!(versions[0]["data"]["name"], "Old name Ltd");
        assert_eq!(versions[1]["data"]["name"], "New name Ltd");
        assert_eq!(versions[2]["data"]["left_on"], "2026-12-31");
        assert!(versions.iter().all(|v| v["recorded_by"].is_string()));

        let as_of = before_rename.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
        let then: Value = app.get(&format!("/api/v1/enterprises/{enterprise}/history?as_of={as_of}"), &admin).await.json().await.unwrap();
        assert_eq!(then["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(then["items"][0]["data"]["name"], "Old name Ltd");
        assert_eq!(then["items"][0]["data"]["contact_phone"], "13800138000");

        let before_creation: Value = app.get(&format!("/api/v1/enterprises/{enterprise}/history?as_of=2000-01-01T00:00:00Z"), &admin).await.json().await.unwrap();
        assert_eq!(before_creation["items"].as_array().map(Vec::len), Some(0));
        let r = app.get(&format!("/api/v1/enterprises/{enterprise}/history?as_of=yesterday"), &admin).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["as_of"]);

        // Leaving is recorded with a date, and the enterprise is still there.
        let r = app.patch_json(&format!("/api/v1/enterprises/{enterprise}"), &admin, &json!({"left_on": "2019-06-01"})).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["left_on"]);
        let current: Value = app.get(&format!("/api/v1/enterprises/{enterprise}"), &admin).await.json().await.unwrap();
        assert_eq!(current["name"], "New name Ltd");
        assert_eq!(current["left_on"], "2026-12-31");
    }

    async fn zones_hold_one_kind_of_waste_and_known_categories(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = app.create_park(&admin, "Park", "440307").await;
        let warehouse = app.created_id("/api/v1/warehouses", &admin, &json!({"park_id": park, "name": "No. 1", "address": "C2"})).await;
        let zones = format!("/api/v1/warehouses/{warehouse}/zones");
        let zone = app.created_id(&zones, &admin, &json!({"name": "A1", "kind": "hazardous", "categories": ["HW08", "hw49"], "capacity_grams": 5_000_000_000i64})).await;
        let view: Value = app.get(&format!("/api/v1/zones/{zone}"), &admin).await.json().await.unwrap();
        assert_eq!(view["categories"], json!(["HW08", "HW49"]));

        let cases = [
            (json!({"name": "B1", "kind": "hazardous", "categories": ["S17"], "capacity_grams": 1000}), "categories[0]", "wrong_kind"),
            (json!({"name": "B1", "kind": "general", "categories": ["HW08"], "capacity_grams": 1000}), "categories[0]", "wrong_kind"),
            (json!({"name": "B1", "kind": "hazardous", "categories": ["HW41"], "capacity_grams": 1000}), "categories[0]", "invalid_category"),
            (json!({"name": "B1", "kind": "general", "categories": ["S17"], "capacity_grams": 1000}), "categories[0]", "unknown_code"),
            (json!({"name": "B1", "kind": "hazardous", "capacity_grams": 0}), "capacity_grams", "out_of_range"),
            (json!({"name": "A1", "kind": "hazardous", "capacity_grams": 1000}), "name", "taken"),
        ];
        for (body, field, code) in cases {
            let r = app.post_json(&zones, Some(&admin), &body).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field.to_owned()], "{body}");
            assert_eq!(problem["errors"][0]["code"], code, "{body}");
        }
        let listed: Value = app.get(&zones, &admin).await.json().await.unwrap();
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "refused zones were not stored");

        let general = app.created_id(&zones, &admin, &json!({"name": "G1", "kind": "general", "capacity_grams": 1000})).await;
        let closed: Value = app.patch_json(&format!("/api/v1/zones/{general}"), &admin, &json!({"closed_on": "2026-12-31"})).await.json().await.unwrap();
        assert_eq!(closed["closed_on"], "2026-12-31");
    }

    async fn vehicles_have_valid_plates_unique_in_service(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let carrier = app.create_org(&admin, "carrier", "Lvyun Transport").await;
        let park = app.create_park(&admin, "Park", "440307").await;
        let vehicle = json!({"operator_id": carrier, "plate": "粤B·12345", "dangerous_goods_permit_number": "440300012345"});
        let id = app.created_id("/api/v1/vehicles", &admin, &vehicle).await;
        let r = app.post_json("/api/v1/vehicles", Some(&admin), &vehicle).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "taken");
        let r = app.post_json("/api/v1/vehicles", Some(&admin), &json!({"operator_id": carrier, "plate": "B12345", "dangerous_goods_permit_number": "1"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["plate"]);
        let r = app.post_json("/api/v1/vehicles", Some(&admin), &json!({"operator_id": park, "plate": "粤B54321", "dangerous_goods_permit_number": "1"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["operator_id"]);

        // Retired, the plate is free again; the old vehicle stays on record.
        let r = app.patch_json(&format!("/api/v1/vehicles/{id}"), &admin, &json!({"retired_on": "2026-11-30"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        app.created_id("/api/v1/vehicles", &admin, &vehicle).await;
        let all: Value = app.get(&format!("/api/v1/vehicles?operator_id={carrier}"), &admin).await.json().await.unwrap();
        assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
        let history: Value = app.get(&format!("/api/v1/vehicles/{id}/history"), &admin).await.json().await.unwrap();
        assert_eq!(history["items"].as_array().map(Vec::len), Some(2));
    }
}

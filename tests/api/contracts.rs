//! "1+N" contracts: licence coverage, dated prices, thresholds and memberships, expiry alerts.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};

const CATALOG: &str = "code,name_zh,characteristics
900-249-08,废矿物油及沾染矿物油的废弃包装物,T/I
900-214-08,废润滑油,T/I
900-041-49,含有或沾染毒性危险废物的废弃包装物,T/In
S59,其他工业固体废物,
900-099-S59,其他工业固体废物,
";

struct World {
    admin: String,
    office: String,
    park: String,
    enterprise: String,
    disposer: String,
}

const PASSWORD: &str = "a long password";

/// A park with an office user and an enterprise, a disposer licensed for HW08 during 2026,
/// and a small catalog.
async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    let r = app
        .request(Method::POST, "/api/v1/catalog/imports", Some(&admin))
        .header("content-type", "text/csv")
        .body(CATALOG)
        .send()
        .await
        .unwrap();
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["rejected"], 0, "{report}");
    let park = app.create_park(&admin, "Longgang park", "440307").await;
    let enterprise = app
        .create_enterprise(&admin, &park, "Huaxin Electronics")
        .await;
    let disposer = app.create_disposer(&admin, "Dongjiang Disposal").await;
    licence(
        app,
        &admin,
        &disposer,
        "L-2026",
        "2026-01-01",
        "2026-12-31",
        &["HW08"],
    )
    .await;
    app.create_user(&admin, &park, "office", "park_office", PASSWORD)
        .await;
    let office = access_token(&app.login("office", PASSWORD).await);
    World {
        admin,
        office,
        park,
        enterprise,
        disposer,
    }
}

async fn licence(
    app: &TestApp,
    admin: &str,
    disposer: &str,
    number: &str,
    from: &str,
    to: &str,
    scope: &[&str],
) -> String {
    let body = json!({"number": number, "issuing_authority": "广东省生态环境厅", "valid_from": from, "valid_to": to,
        "annual_capacity_grams": 30_000_000_000i64, "scope": scope});
    app.created_id(
        &format!("/api/v1/disposers/{disposer}/licences"),
        admin,
        &body,
    )
    .await
}

fn contract(w: &World, number: &str, from: &str, to: &str, prices: Value) -> Value {
    json!({"park_id": w.park, "disposer_id": w.disposer, "number": number, "valid_from": from, "valid_to": to,
        "max_storage_days": 180, "members": [{"enterprise_id": w.enterprise}], "prices": prices,
        "thresholds": [{"target": "HW08", "threshold_grams": 2_000_000}]})
}

async fn contracts_listed(app: &TestApp, token: &str) -> usize {
    let page: Value = app
        .get("/api/v1/contracts", token)
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().map_or(0, Vec::len)
}

backend_tests! {
    async fn a_contract_needs_a_licence_covering_each_priced_hazardous_code(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let refused = [
            (json!([{"target": "HW49", "fen_per_tonne": 500_000}]), "prices[0].target", "not_licensed"),
            (json!([{"target": "900-041-49", "fen_per_tonne": 500_000}]), "prices[0].target", "not_licensed"),
            (json!([{"target": "HW08", "fen_per_tonne": 1}, {"target": "HW08", "fen_per_tonne": 2, "effective_from": "2027-01-01"}]), "prices[1].target", "not_licensed"),
            (json!([{"target": "900-999-08", "fen_per_tonne": 1}]), "prices[0].target", "unknown_code"),
            (json!([{"target": "HW08", "fen_per_tonne": 1, "effective_from": "2025-12-31"}]), "prices[0].effective_from", "out_of_period"),
            (json!([{"target": "HW4", "fen_per_tonne": 1}]), "prices[0].target", "invalid_code"),
        ];
        for (prices, field, code) in refused {
            let r = app.post_json("/api/v1/contracts", Some(&w.office), &contract(&w, "C-1", "2026-01-01", "2027-06-30", prices.clone())).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field.to_owned()], "{prices}");
            assert_eq!(problem["errors"][0]["code"], code, "{prices}");
        }
        assert_eq!(contracts_listed(&app, &w.office).await, 0, "nothing of a refused contract is stored");

        // Covered hazardous prices, and general waste (no licence needed) bought by the disposer.
        let prices = json!([
            {"target": "HW08", "fen_per_tonne": 350_000},
            {"target": "900-249-08", "fen_per_tonne": 300_000, "effective_from": "2026-03-01"},
            {"target": "900-099-S59", "fen_per_tonne": -120_000}
        ]);
        let r = app.post_json("/api/v1/contracts", Some(&w.office), &contract(&w, "C-1", "2026-01-01", "2026-12-31", prices)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["members"][0]["enterprise_id"], w.enterprise);
        assert_eq!(created["members"][0]["joined_on"], "2026-01-01");
        assert_eq!(created["prices"].as_array().map(Vec::len), Some(3));
        assert_eq!(created["thresholds"][0]["threshold_grams"], 2_000_000);

        // A licence that starts later makes the later price possible.
        let id = created["id"].as_str().unwrap();
        let r = app.post_json(&format!("/api/v1/contracts/{id}/prices"), Some(&w.office), &json!({"target": "HW49", "fen_per_tonne": 1, "effective_from": "2026-06-01"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["target"]);
        licence(&app, &w.admin, &w.disposer, "L-2026-B", "2026-05-01", "2026-12-31", &["HW49"]).await;
        let r = app.post_json(&format!("/api/v1/contracts/{id}/prices"), Some(&w.office), &json!({"target": "HW49", "fen_per_tonne": 1, "effective_from": "2026-06-01"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        // Duplicate number in the park; inconsistent period; storage over a year.
        let r = app.post_json("/api/v1/contracts", Some(&w.office), &contract(&w, "C-1", "2026-01-01", "2026-12-31", json!([]))).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["number"]);
        let mut bad = contract(&w, "C-2", "2026-12-31", "2026-01-01", json!([]));
        bad["max_storage_days"] = json!(400);
        let r = app.post_json("/api/v1/contracts", Some(&w.office), &bad).await;
        let mut fields = error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await);
        fields.sort();
        assert_eq!(fields, vec!["max_storage_days", "valid_to"]);
    }

    async fn the_terms_in_force_on_a_day_follow_dates_and_specificity(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let prices = json!([{"target": "HW08", "fen_per_tonne": 350_000}, {"target": "900-249-08", "fen_per_tonne": 300_000, "effective_from": "2026-03-01"}]);
        let id = app.created_id("/api/v1/contracts", &w.office, &contract(&w, "C-1", "2026-01-01", "2026-12-31", prices)).await;
        let r = app.post_json(&format!("/api/v1/contracts/{id}/prices"), Some(&w.office), &json!({"target": "HW08", "fen_per_tonne": 400_000, "effective_from": "2026-07-01"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app.post_json(&format!("/api/v1/contracts/{id}/thresholds"), Some(&w.office), &json!({"target": "900-249-08", "threshold_grams": 500_000, "effective_from": "2026-09-01"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        let terms = |code: &str, on: &str| format!("/api/v1/contracts/{id}/terms?code={code}&on={on}");
        let price_on = |v: &Value| v["price"]["fen_per_tonne"].as_i64();
        let cases = [
            ("900-249-08", "2026-02-01", Some(350_000), Some(2_000_000)),
            ("900-249-08", "2026-03-01", Some(300_000), Some(2_000_000)),
            ("900-249-08", "2026-08-01", Some(300_000), Some(2_000_000)),
            ("900-249-08", "2026-09-01", Some(300_000), Some(500_000)),
            ("900-214-08", "2026-08-01", Some(400_000), Some(2_000_000)),
            ("900-214-08", "2026-06-30", Some(350_000), Some(2_000_000)),
            ("900-041-49", "2026-08-01", None, None),
            ("900-214-08", "2027-01-01", None, None),
        ];
        for (code, on, price, threshold) in cases {
            let v: Value = app.get(&terms(code, on), &w.office).await.json().await.unwrap();
            assert_eq!(price_on(&v), price, "{code} on {on}: {v}");
            assert_eq!(v["threshold"]["threshold_grams"].as_i64(), threshold, "{code} on {on}: {v}");
            assert_eq!(v["in_force"], on < "2027-01-01", "{code} on {on}");
        }
        let r = app.get(&format!("/api/v1/contracts/{id}/terms?code=HW08"), &w.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["code"]);

        // A price for the same target and day twice is refused; the contract's history has every version.
        let r = app.post_json(&format!("/api/v1/contracts/{id}/prices"), Some(&w.office), &json!({"target": "HW08", "fen_per_tonne": 1, "effective_from": "2026-07-01"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["effective_from"]);
        let history: Value = app.get(&format!("/api/v1/contracts/{id}/history"), &w.office).await.json().await.unwrap();
        let versions = history["items"].as_array().unwrap();
        assert_eq!(versions.len(), 3);
        assert_eq!(versions[0]["data"]["prices"].as_array().map(Vec::len), Some(2));
        assert_eq!(versions[2]["data"]["thresholds"].as_array().map(Vec::len), Some(2));
    }

    async fn enterprises_join_and_leave_with_effective_dates(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let id = app.created_id("/api/v1/contracts", &w.office, &contract(&w, "C-1", "2026-01-01", "2026-12-31", json!([]))).await;
        let members = format!("/api/v1/contracts/{id}/members");
        let second = app.create_enterprise(&w.admin, &w.park, "Second Ltd").await;
        let elsewhere_park = app.create_park(&w.admin, "Other park", "440106").await;
        let elsewhere = app.create_enterprise(&w.admin, &elsewhere_park, "Elsewhere Ltd").await;

        let r = app.post_json(&members, Some(&w.office), &json!({"enterprise_id": elsewhere})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["enterprise_id"]);
        let r = app.post_json(&members, Some(&w.office), &json!({"enterprise_id": w.enterprise, "joined_on": "2026-05-01"})).await;
        assert_eq!(problem_code(r).await, "already_member");
        let r = app.post_json(&members, Some(&w.office), &json!({"enterprise_id": second, "joined_on": "2027-01-01"})).await;
        assert_eq!(problem_code(r).await, "out_of_period");
        let r = app.post_json(&members, Some(&w.office), &json!({"enterprise_id": second, "joined_on": "2026-04-01"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        let leave = format!("/api/v1/contracts/{id}/members/{second}/leave");
        let r = app.post_json(&leave, Some(&w.office), &json!({"left_on": "2026-03-01"})).await;
        assert_eq!(problem_code(r).await, "before_joining");
        let r = app.post_json(&leave, Some(&w.office), &json!({"left_on": "2026-09-01"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app.post_json(&leave, Some(&w.office), &json!({"left_on": "2026-10-01"})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = app.post_json(&members, Some(&w.office), &json!({"enterprise_id": second, "joined_on": "2026-11-01"})).await;
        assert_eq!(r.status(), StatusCode::OK, "rejoining after leaving");

        let view: Value = app.get(&format!("/api/v1/contracts/{id}"), &w.office).await.json().await.unwrap();
        let spans: Vec<(String, Value)> = view["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["enterprise_id"] == second.as_str())
            .map(|m| (m["joined_on"].as_str().unwrap().to_owned(), m["left_on"].clone()))
            .collect();
        assert_eq!(spans, vec![("2026-04-01".to_owned(), json!("2026-09-01")), ("2026-11-01".to_owned(), Value::Null)]);

        // The enterprise user reads the contracts it is party to, and only those.
        app.create_user(&w.admin, &second, "second.user", "enterprise_user", PASSWORD).await;
        let second_user = access_token(&app.login("second.user", PASSWORD).await);
        assert_eq!(contracts_listed(&app, &second_user).await, 1);
        assert_eq!(app.get(&format!("/api/v1/contracts/{id}"), &second_user).await.status(), StatusCode::OK);
        let r = app.post_json(&members, Some(&second_user), &json!({"enterprise_id": second})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;

        // An enterprise cannot leave the park while a membership runs past that day.
        let r = app.patch_json(&format!("/api/v1/enterprises/{second}"), &w.admin, &json!({"left_on": "2026-12-01"})).await;
        assert_eq!(problem_code(r).await, "member_of_contract");
        let r = app.post_json(&format!("/api/v1/contracts/{id}/members/{second}/leave"), Some(&w.office), &json!({"left_on": "2026-11-30"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app.patch_json(&format!("/api/v1/enterprises/{second}"), &w.admin, &json!({"left_on": "2026-12-01"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        // Only the disposal company's dispatchers read its contracts; its drivers do not.
        app.create_user(&w.admin, &w.disposer, "disposer.driver", "driver", PASSWORD).await;
        let driver = access_token(&app.login("disposer.driver", PASSWORD).await);
        assert_problem(app.get(&format!("/api/v1/contracts/{id}"), &driver).await, StatusCode::NOT_FOUND, "not-found").await;
        let r = app.get(&format!("/api/v1/contracts/{id}/terms"), &w.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["code"]);

        // Shortening the contract before a recorded membership is refused.
        let r = app.patch_json(&format!("/api/v1/contracts/{id}"), &w.office, &json!({"valid_to": "2026-10-01"})).await;
        assert_eq!(problem_code(r).await, "rules_after_end");
        let r = app.patch_json(&format!("/api/v1/contracts/{id}"), &w.office, &json!({"valid_to": "2027-12-31", "max_storage_days": 90})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn licences_and_contracts_about_to_expire_are_alerted_to_those_concerned(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app).await;
        let today = app.today();
        let day = |d: i64| (today + Duration::days(d)).to_string();
        let soon = licence(&app, &w.admin, &w.disposer, "L-SOON", &day(-300), &day(10), &["HW08"]).await;
        let later = licence(&app, &w.admin, &w.disposer, "L-LATER", &day(-300), &day(100), &["HW08"]).await;
        licence(&app, &w.admin, &w.disposer, "L-PAST", &day(-300), &day(-1), &["HW08"]).await;
        let body = json!({"park_id": w.park, "disposer_id": w.disposer, "number": "C-SOON", "valid_from": day(-30),
            "valid_to": day(20), "max_storage_days": 90, "members": [{"enterprise_id": w.enterprise}]});
        let contract = app.created_id("/api/v1/contracts", &w.office, &body).await;

        // Only what this test made counts: the fixture's own licence ends on a fixed date.
        let ours = [soon.clone(), contract.clone(), later.clone()];
        let alerts = |token: String, query: &'static str| {
            let app = &app;
            let ours = ours.clone();
            async move {
                let v: Value = app.get(&format!("/api/v1/alerts/expirations{query}"), &token).await.json().await.unwrap();
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| (a["kind"].as_str().unwrap().to_owned(), a["id"].as_str().unwrap().to_owned(), a["days_left"].as_i64().unwrap()))
                    .filter(|(_, id, _)| ours.contains(id))
                    .collect::<Vec<_>>()
            }
        };
        let expected = vec![("licence".to_owned(), soon.clone(), 10), ("contract".to_owned(), contract.clone(), 20)];
        assert_eq!(alerts(w.office.clone(), "").await, expected);
        assert_eq!(alerts(w.admin.clone(), "?within_days=30").await, expected);
        assert_eq!(alerts(w.office.clone(), "?within_days=365").await.len(), 3);

        // The disposer sees its licence and contract; another park's office sees nothing of them.
        let disposer_org = w.disposer.clone();
        app.create_user(&w.admin, &disposer_org, "dispatch", "disposer_dispatcher", PASSWORD).await;
        let dispatcher = access_token(&app.login("dispatch", PASSWORD).await);
        assert_eq!(alerts(dispatcher, "").await, expected);
        let other_park = app.create_park(&w.admin, "Other park", "440106").await;
        app.create_user(&w.admin, &other_park, "other.office", "park_office", PASSWORD).await;
        let other = access_token(&app.login("other.office", PASSWORD).await);
        assert_eq!(alerts(other, "").await, vec![]);
        let r = app.get("/api/v1/alerts/expirations?within_days=0", &w.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["within_days"]);

        // A licence is shortened, never lengthened.
        let r = app.patch_json(&format!("/api/v1/licences/{soon}"), &w.admin, &json!({"valid_to": day(200)})).await;
        assert_eq!(problem_code(r).await, "out_of_range");
        let r = app.patch_json(&format!("/api/v1/licences/{soon}"), &w.admin, &json!({"valid_to": day(5)})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}

async fn problem_code(r: reqwest::Response) -> String {
    let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    problem["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

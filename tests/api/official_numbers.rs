//! The official manifest number: the service keeps its own tracking number, in a form that
//! cannot pass for the official one, and records the number the national information system
//! assigned when the consignor filed the manifest there — checked, unique, fixed once signed,
//! searchable, printed, and required before take-over where the park says so.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields};
use crate::manifests::{collect_request, manifest, with_permit};
use crate::pickups::{Park, park, weigh};

/// Weighs in past the threshold, schedules and collects: the id of the one manifest.
async fn collected(app: &TestApp, p: &Park) -> String {
    weigh(app, p, &p.enterprise_a, 300).await;
    let lot = weigh(app, p, &p.enterprise_b, 250).await;
    let collection = collect_request(app, p, &lot, 540).await;
    collection["manifests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn record(app: &TestApp, token: &str, id: &str, number: &str) -> reqwest::Response {
    app.request(
        reqwest::Method::PUT,
        &format!("/api/v1/manifests/{id}/official-number"),
        Some(token),
    )
    .json(&json!({"official_number": number}))
    .send()
    .await
    .unwrap()
}

async fn step(app: &TestApp, token: &str, id: &str, step: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/manifests/{id}/{step}"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn search(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/manifests?{query}"), token).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    let page: Value = r.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    async fn the_consignor_records_the_official_number_beside_the_tracking_number(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let id = collected(&app, &p).await;
        let m = manifest(&app, &p.office, &id).await;
        let tracking = m["number"].as_str().unwrap().to_owned();
        assert!(tracking.starts_with("WT-") && !tracking.chars().all(|c| c.is_ascii_digit()), "{tracking}");
        assert!(m.get("official_number").is_none(), "none until filed: {m}");

        // Bad numbers name the field and change nothing.
        for (bad, code) in [("2026440300012", "invalid"), ("20214403000123", "invalid_year"), ("20269903000123", "unknown_province"), ("20264403000000", "invalid_serial"), (tracking.as_str(), "invalid")] {
            let problem = assert_problem(record(&app, &p.office, &id, bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec!["official_number"], "{bad}");
            assert_eq!(problem["errors"][0]["code"], code, "{bad}");
        }
        // Only the consignor's signer records it; others who may read get 403, strangers 404.
        assert_problem(record(&app, &p.driver, &id, "20264403000123").await, StatusCode::FORBIDDEN, "forbidden").await;
        assert_problem(record(&app, &p.dispatcher, &id, "20264403000123").await, StatusCode::FORBIDDEN, "forbidden").await;
        assert_problem(record(&app, &p.outsider_user, &id, "20264403000123").await, StatusCode::NOT_FOUND, "not-found").await;
        assert!(manifest(&app, &p.office, &id).await.get("official_number").is_none());

        // Recorded, with spaces trimmed; a draft's number may be corrected.
        let r = record(&app, &p.office, &id, " 20264403000122 ").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["official_number"], "20264403000122");
        let r = record(&app, &p.office, &id, "20264403000123").await;
        assert_eq!(r.status(), StatusCode::OK);
        let m = manifest(&app, &p.office, &id).await;
        assert_eq!(m["official_number"], "20264403000123");
        assert_eq!(m["number"], tracking.as_str(), "the tracking number stays");
        let recorded: Vec<&Value> = m["signatures"].as_array().unwrap().iter().filter(|s| s["step"] == "official_number").collect();
        assert_eq!(recorded.len(), 2, "who recorded it and when is kept: {m}");
        assert_eq!(recorded[1]["data"]["official_number"], "20264403000123");

        // Searchable by either number; printed with both.
        assert_eq!(search(&app, &p.office, "official_number=20264403000123").await, vec![id.clone()]);
        assert!(search(&app, &p.office, "official_number=20264403000122").await.is_empty());
        assert_eq!(search(&app, &p.office, &format!("number={tracking}")).await, vec![id.clone()]);
        let problem = assert_problem(app.get("/api/v1/manifests?official_number=abc", &p.office).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["official_number"]);
        let page = app.get(&format!("/api/v1/manifests/{id}/print.html"), &p.office).await.text().await.unwrap();
        assert!(page.contains("20264403000123") && page.contains(&tracking), "both numbers are printed");

        // Once signed, the number never changes; the same number again is no change.
        assert_eq!(step(&app, &p.office, &id, "confirm").await.status(), StatusCode::OK);
        assert_eq!(record(&app, &p.office, &id, "20264403000123").await.status(), StatusCode::OK);
        assert_problem(record(&app, &p.office, &id, "20264403000124").await, StatusCode::CONFLICT, "conflict").await;
        assert_eq!(manifest(&app, &p.office, &id).await["official_number"], "20264403000123");
    }

    async fn one_official_number_names_one_manifest(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let first = collected(&app, &p).await;
        let second = collected(&app, &p).await;
        assert_ne!(first, second);
        assert_eq!(record(&app, &p.office, &first, "20264403000200").await.status(), StatusCode::OK);
        assert_problem(record(&app, &p.office, &second, "20264403000200").await, StatusCode::CONFLICT, "conflict").await;
        assert!(manifest(&app, &p.office, &second).await.get("official_number").is_none());
        // Numbers recorded for two manifests at once: exactly one gets it.
        let (a, b) = tokio::join!(
            record(&app, &p.office, &second, "20264403000300"),
            record(&app, &p.office, &first, "20264403000300"),
        );
        let mut statuses = vec![a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT]);
        let holders = search(&app, &p.office, "official_number=20264403000300").await;
        assert_eq!(holders.len(), 1, "one manifest holds the number: {holders:?}");
    }

    async fn a_park_may_require_the_official_number_before_take_over(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let r = app.patch_json(&format!("/api/v1/parks/{}", p.park), &p.admin, &json!({"require_official_number": true})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["require_official_number"], true);
        let id = collected(&app, &p).await;
        assert_eq!(step(&app, &p.office, &id, "confirm").await.status(), StatusCode::OK);
        let problem = assert_problem(step(&app, &p.driver, &id, "take-over").await, StatusCode::CONFLICT, "conflict").await;
        assert!(problem["detail"].as_str().unwrap().contains("official-number"), "{problem}");
        assert_eq!(manifest(&app, &p.office, &id).await["status"], "confirmed", "nothing moved");
        // Filed after the consignor's signature: recorded once, then the carrier takes over.
        assert_eq!(record(&app, &p.office, &id, "20264403000777").await.status(), StatusCode::OK);
        assert_eq!(step(&app, &p.driver, &id, "take-over").await.status(), StatusCode::OK);
        assert_eq!(manifest(&app, &p.office, &id).await["status"], "in_transit");
    }
}

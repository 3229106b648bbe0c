//! Request rate limits for every client: per address and per access token, 429 with
//! `Retry-After`, documented on every operation of the API; probes are never limited.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem};

backend_tests! {
    async fn a_client_past_its_address_limit_gets_429_and_others_go_on(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.trust_forwarded_for = true;
            s.rate_limit.per_address_per_minute = 5;
        })
        .await;
        let from = |address: &'static str| {
            app.request(reqwest::Method::GET, "/api/v1/openapi.json", None)
                .header("x-forwarded-for", address)
                .send()
        };
        for _ in 0..5 {
            assert_eq!(from("198.51.100.1").await.unwrap().status(), StatusCode::OK);
        }
        let refused = from("198.51.100.1").await.unwrap();
        let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let problem = assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
        assert!(problem["detail"].as_str().unwrap().contains("此地址的请求过多"), "{problem}");
        // Another client is not affected, nor are the probes of the limited one.
        assert_eq!(from("203.0.113.9").await.unwrap().status(), StatusCode::OK);
        for path in ["/healthz", "/readyz"] {
            let r = app.client.get(app.url(path)).header("x-forwarded-for", "198.51.100.1").send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
        }
    }

    async fn a_token_past_its_limit_gets_429_and_a_rejected_request_changes_nothing(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.rate_limit.per_token_per_minute = 4).await;
        let admin = access_token(&app.login("admin", crate::helpers::ADMIN_PASSWORD).await);
        let other = access_token(&app.login("admin", crate::helpers::ADMIN_PASSWORD).await);
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/me", &admin).await.status(), StatusCode::OK);
        }
        let org = app.create_park(&admin, "Limited Park", "440307").await;
        let refused = app.post_json("/api/v1/parks", Some(&admin), &json!({"name": "Refused Park", "region_code": "440307", "address": "x"})).await;
        assert!(refused.headers().contains_key("retry-after"));
        assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
        // Another token (another session) goes on, and sees that the refused park was not made.
        let parks: Value = app.get("/api/v1/parks?limit=100", &other).await.json().await.unwrap();
        let names: Vec<&str> = parks["items"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        assert!(names.contains(&"Limited Park") && !names.contains(&"Refused Park"), "{names:?} {org}");
    }
}

/// Every operation of the API documents the 429 of the limits; the probes do not.
#[test]
fn every_api_operation_documents_429() {
    let doc: Value =
        serde_json::from_str(&wastetrack::openapi::document().to_pretty_json().unwrap()).unwrap();
    let mut api = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let documented = op["responses"].get("429").is_some();
            if path.starts_with("/api/") {
                assert!(documented, "{method} {path} lacks 429");
                api += 1;
            } else if path != "/metrics" {
                assert!(!documented, "{method} {path} is not limited");
            }
        }
    }
    assert!(api > 100);
}

use reqwest::StatusCode;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{TestApp, TestDb, test_settings};

backend_tests! {
    async fn probes_answer_on_a_fresh_database(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let health = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        assert!(health.headers().contains_key("x-request-id"));
        assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");

        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK);
        assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
    }

    async fn migrations_apply_to_an_empty_database_once(backend: Backend) {
        let db = TestDb::create_empty(backend);
        let pool = wastetrack::db::Db::connect(db.url(), 1).unwrap();
        let mut conn = pool.get().unwrap();
        assert!(wastetrack::db::has_pending_migrations(&mut conn).unwrap(), "an empty database lacks migrations");
        let applied = wastetrack::db::run_migrations(&mut conn).unwrap();
        assert!(!applied.is_empty(), "migrations were applied");
        assert!(!wastetrack::db::has_pending_migrations(&mut conn).unwrap());
        assert!(wastetrack::db::run_migrations(&mut conn).unwrap().is_empty(), "a second run applies nothing");
        drop(conn);
        drop(pool);

        // The server starts on the migrated database and reports ready.
        let settings = test_settings(&db);
        let app = TestApp::start(db, settings).await;
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK);
    }

    async fn request_ids_are_unique_per_request(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5 {
            let response = app.client.get(app.url("/healthz")).send().await.unwrap();
            let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
            assert!(seen.insert(id), "request ids repeat");
        }
    }
}

/// An HTML page or an SVG picture of the service: not sniffed, no script, nothing loaded from
/// elsewhere, never framed.
pub fn assert_page_is_locked_down(r: &reqwest::Response) {
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{csp} lacks {directive}");
    }
    assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'unsafe-inline'"));
    assert_eq!(h["x-frame-options"], "DENY");
}

/// JSON answers and problem documents are not sniffed either, and carry no page policy.
#[actix_web::test]
async fn every_answer_says_nosniff() {
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    for path in [
        "/healthz",
        "/api/v1/me",
        "/api/v1/no-such-thing",
        "/api/v1/openapi.json",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert!(
            !r.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
}

//! `/metrics`: the Prometheus text format with the service's figures, served to the allowed
//! addresses or with the token, refused to others.
//!
//! The registry is the process's, shared by every test server of this suite: the tests look
//! for series and for counters that grew, never for absolute counts.

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem};
use crate::pickups::{park, weigh};
use crate::receiver::Receiver;

const TOKEN: &str = "a metrics token of some length";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let request = app.client.get(app.url("/metrics"));
    match token {
        Some(t) => request.bearer_auth(t),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

/// The value of one series (`name{labels}`) in a scrape, or 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

backend_tests! {
    async fn metrics_count_requests_logins_transactions_triggers_and_deliveries(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.notify.webhook_allowed_hosts = "127.0.0.1".to_owned();
            s.notify.poll_interval_ms = 50;
        })
        .await;
        let before = scrape(&app, None).await;
        assert_eq!(before.status(), StatusCode::OK, "this machine reads the metrics by default");
        assert!(before.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let before = before.text().await.unwrap();

        let healthz = r#"wastetrack_http_requests_total{method="GET",route="/healthz",status="200"}"#;
        app.client.get(app.url("/healthz")).send().await.unwrap();
        let wrong = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": "not the password"})).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let lot_route = r#"wastetrack_http_requests_total{method="GET",route="/api/v1/lots/{id}",status="404"}"#;
        let admin = app.admin_token().await;
        app.get("/api/v1/lots/lot_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", &admin).await;

        // A weighing over the threshold raises a request, told by webhook.
        let receiver = Receiver::start(200).await;
        let p = park(&app, 500, 80).await;
        crate::pickups::subscribe(&app, &p.dispatcher, &receiver.url("/in"), &["pickup.requested"]).await;
        weigh(&app, &p, &p.enterprise_a, 600).await;
        receiver.wait_for(30, "the webhook", |r| !r.is_empty()).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let delivered = r#"wastetrack_webhook_delivery_attempts_total{outcome="delivered"}"#;
        let mut after = scrape(&app, None).await.text().await.unwrap();
        while value(&after, delivered) <= value(&before, delivered) {
            assert!(std::time::Instant::now() < deadline, "no delivery counted:\n{after}");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
            after = scrape(&app, None).await.text().await.unwrap();
        }

        for series in [
            healthz,
            lot_route,
            r#"wastetrack_login_failures_total{method="password",reason="credentials"}"#,
            r#"wastetrack_db_write_transaction_seconds_count{outcome="committed"}"#,
            "wastetrack_db_pool_wait_seconds_count",
        ] {
            assert!(value(&after, series) > value(&before, series), "{series} did not grow:\n{after}");
        }
        let raised: f64 = after
            .lines()
            .filter(|l| l.starts_with("wastetrack_pickup_requests_raised_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(raised >= 1.0, "{after}");
        assert!(after.contains(r#"wastetrack_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.001"}"#));
        assert!(value(&after, "wastetrack_db_pool_connections_max") >= 1.0);
        assert!(after.contains("wastetrack_db_pool_connections_in_use "));
        assert!(after.contains("wastetrack_outbox_pending_deliveries "));
        // Paths never become labels: the lot's id is not in the scrape.
        assert!(!after.contains("lot_0193f1c2a4b87d21a1c6e1f0b2d3c4e5"));
    }

    async fn metrics_are_refused_to_other_addresses_without_the_token(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.metrics.allowed_addresses = "10.0.0.0/8, 192.168.1.7".to_owned();
            s.metrics.token = Some(SecretString::from(TOKEN));
        })
        .await;
        assert_problem(scrape(&app, None).await, StatusCode::FORBIDDEN, "forbidden").await;
        assert_problem(scrape(&app, Some("not the metrics token")).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        // An API access token is not the metrics token.
        let admin = app.admin_token().await;
        assert_problem(scrape(&app, Some(&admin)).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let ok = scrape(&app, Some(TOKEN)).await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert!(ok.text().await.unwrap().contains("wastetrack_http_requests_total"));
    }
}

#[test]
fn bad_metrics_settings_are_refused_at_start() {
    use wastetrack::metrics::Access;
    assert!(Access::parse("127.0.0.1, ::1, 10.0.0.0/8", None).is_ok());
    assert!(Access::parse("", None).is_ok());
    assert!(Access::parse("localhost", None).is_err());
    assert!(Access::parse("10.0.0.0/33", None).is_err());
    assert!(Access::parse("", Some(SecretString::from("short"))).is_err());
}

/// Every series the sample Grafana dashboard (`deploy/grafana/wastetrack.json`) queries is one
/// the service exports.
#[actix_web::test]
async fn the_grafana_dashboard_queries_only_exported_metrics() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/wastetrack.json"
    ))
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    app.client.get(app.url("/healthz")).send().await.unwrap();
    let scraped = scrape(&app, None).await.text().await.unwrap();
    let exported: std::collections::BTreeSet<&str> = scraped
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if let Some(name) = word.strip_prefix("wastetrack_") {
                    let base = ["_bucket", "_count", "_sum"]
                        .iter()
                        .find_map(|s| name.strip_suffix(s))
                        .unwrap_or(name);
                    // Counters without a sample yet still have their # TYPE line.
                    assert!(
                        exported.contains(format!("wastetrack_{base}").as_str()),
                        "{word} in {:?} is not exported:\n{scraped}",
                        panel["title"]
                    );
                    queried += 1;
                }
            }
        }
    }
    assert!(queried >= 10);
}

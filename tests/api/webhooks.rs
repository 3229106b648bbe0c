//! Webhooks: Standard Webhooks signatures checked by an independent verifier, secret rotation,
//! delivery after the receiver was down, only 2xx counting, redirects not followed, 410 and
//! sustained failure disabling the endpoint (and telling its owner), redelivery, refused
//! internal addresses, and who may manage endpoints.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields};
use crate::pickups::{Park, inbox, park, subscribe, weigh};
use crate::receiver::Receiver;

/// Local receivers allowed, fast polling and retries.
fn fast(s: &mut wastetrack::config::Settings) {
    s.notify.webhook_allowed_hosts = "127.0.0.1".to_owned();
    s.notify.poll_interval_ms = 50;
    s.notify.webhook_retry_schedule_secs = "1,1,1,1,1,1,1,1,1".to_owned();
    s.notify.webhook_timeout_secs = 2;
    s.notify.webhook_connect_timeout_secs = 1;
    s.notify.webhook_claim_lease_secs = 5;
}

/// Raises a pickup request (one `pickup.requested` message to the disposer); returns its id.
async fn raise(app: &TestApp, p: &Park) -> String {
    let lot = weigh(app, p, &p.enterprise_a, 600).await;
    lot["pickup_request_id"].as_str().unwrap().to_owned()
}

async fn deliveries(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/webhooks/{endpoint}/deliveries"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

async fn endpoint(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/webhooks/{id}"), token)
        .await
        .json()
        .await
        .unwrap()
}

/// Polls until `done` holds for the endpoint's deliveries (at most `secs` seconds).
async fn wait_deliveries(
    app: &TestApp,
    token: &str,
    id: &str,
    secs: u64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let list = deliveries(app, token, id).await;
        if done(&list) {
            return list;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries: {list:?}");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

backend_tests! {
    async fn deliveries_are_signed_and_secrets_rotate_without_a_gap(backend: Backend) {
        let app = TestApp::spawn_with(backend, fast).await;
        let p = park(&app, 500, 80).await;
        let receiver = Receiver::start(204).await;
        let (id, secret) = subscribe(&app, &p.dispatcher, &receiver.url("/in"), &["*"]).await;
        assert!(secret.starts_with("whsec_"));
        let shown = endpoint(&app, &p.dispatcher, &id).await;
        assert!(shown.get("secret").is_none(), "the secret is shown once: {shown}");

        let request = raise(&app, &p).await;
        let got = receiver.wait_for(20, "one delivery", |r| r.len() == 1).await;
        got[0].verify(&secret).expect("the independent verifier accepts the signature");
        assert!(got[0].verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err(), "another secret does not verify");
        assert_eq!(got[0].header("content-type"), Some("application/json"));
        assert!(got[0].id().starts_with("msg_"));
        let body = got[0].json();
        assert_eq!(body["type"], "pickup.requested");
        assert_eq!(body["data"]["id"], request.as_str());
        // A tampered body fails.
        let mut tampered = got[0].clone();
        tampered.body = br#"{"type":"pickup.requested"}"#.to_vec();
        assert!(tampered.verify(&secret).is_err());

        // Rotation: the new secret is shown once; during the overlap both verify.
        let r = app.post_json(&format!("/api/v1/webhooks/{id}/rotate-secret"), Some(&p.dispatcher), &json!({"keep_previous_hours": 1})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let rotated: Value = r.json().await.unwrap();
        let new_secret = rotated["secret"].as_str().unwrap().to_owned();
        assert_ne!(new_secret, secret);
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/accept"), Some(&p.dispatcher), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let got = receiver.wait_for(20, "the second delivery", |r| r.len() == 2).await;
        assert_eq!(got[1].type_(), "pickup.accepted");
        assert_eq!(got[1].header("webhook-signature").unwrap().split(' ').count(), 2);
        got[1].verify(&new_secret).expect("the new secret verifies");
        got[1].verify(&secret).expect("the previous secret still verifies during the overlap");
        let r = app.post_json(&format!("/api/v1/webhooks/{id}/rotate-secret"), Some(&p.dispatcher), &json!({"keep_previous_hours": 0})).await;
        let newest = r.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/cancel"), Some(&p.office), &json!({"reason": "r"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let got = receiver.wait_for(20, "the third delivery", |r| r.len() == 3).await;
        got[2].verify(&newest).expect("the newest secret verifies");
        assert!(got[2].verify(&new_secret).is_err(), "no overlap asked: the previous secret is gone");

        let list = deliveries(&app, &p.dispatcher, &id).await;
        assert_eq!(list.len(), 3);
        assert!(list.iter().all(|d| d["status"] == "delivered" && d["attempts"] == 1 && d["last_status"] == 204));
    }

    async fn a_receiver_that_was_down_gets_the_message_later(backend: Backend) {
        let app = TestApp::spawn_with(backend, fast).await;
        let p = park(&app, 500, 80).await;
        let mut receiver = Receiver::reserve(200);
        let (id, secret) = subscribe(&app, &p.dispatcher, &receiver.url("/in"), &["pickup.requested"]).await;
        raise(&app, &p).await;
        // Connections are refused: attempts fail and are retried.
        let failing = wait_deliveries(&app, &p.dispatcher, &id, 20, |d| d.len() == 1 && d[0]["attempts"].as_i64() >= Some(2)).await;
        assert_eq!(failing[0]["status"], "pending");
        assert!(failing[0]["last_error"].as_str().unwrap().contains("connect"), "{failing:?}");
        let one: Value = app.get(&format!("/api/v1/webhooks/{id}/deliveries/{}", failing[0]["id"].as_str().unwrap()), &p.dispatcher).await.json().await.unwrap();
        assert!(one["log"].as_array().unwrap().len() >= 2);
        assert!(endpoint(&app, &p.dispatcher, &id).await.get("failing_since").is_some());
        // Then a 503 for a while: still not delivered.
        receiver.set_status(503);
        receiver.listen();
        receiver.wait_for(20, "a 503", |r| !r.is_empty()).await;
        receiver.set_status(200);
        let got = receiver.wait_for(20, "the delivery", |r| r.iter().any(|x| x.answered == 200)).await;
        let ids: Vec<String> = got.iter().map(|r| r.id()).collect();
        assert!(ids.iter().all(|i| *i == ids[0]), "the same webhook-id on every attempt");
        got.last().unwrap().verify(&secret).expect("signed");
        let done = wait_deliveries(&app, &p.dispatcher, &id, 10, |d| d[0]["status"] == "delivered").await;
        assert_eq!(done[0]["last_status"], 200);
        let log: Value = app.get(&format!("/api/v1/webhooks/{id}/deliveries/{}", done[0]["id"].as_str().unwrap()), &p.dispatcher).await.json().await.unwrap();
        let log = log["log"].as_array().unwrap();
        assert!(log.iter().any(|a| a["http_status"] == 503));
        assert_eq!(log.last().unwrap()["http_status"], 200);
        assert!(endpoint(&app, &p.dispatcher, &id).await.get("failing_since").is_none(), "a success clears it");
        receiver.stop().await;
    }

    async fn gone_disables_the_endpoint_and_tells_its_owner(backend: Backend) {
        let app = TestApp::spawn_with(backend, fast).await;
        let p = park(&app, 500, 80).await;
        let receiver = Receiver::start(410).await;
        let (id, _) = subscribe(&app, &p.dispatcher, &receiver.url("/in"), &["pickup.requested"]).await;
        raise(&app, &p).await;
        let list = wait_deliveries(&app, &p.dispatcher, &id, 20, |d| d.len() == 1 && d[0]["status"] == "failed").await;
        assert_eq!(list[0]["attempts"], 1, "410 is not retried");
        let e = endpoint(&app, &p.dispatcher, &id).await;
        assert_eq!(e["status"], "disabled");
        assert!(e["disabled_reason"].as_str().unwrap().contains("410"));
        let told = inbox(&app, &p.dispatcher, "?type=webhook.").await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0]["subject_id"], id.as_str());
        let delivery = list[0]["id"].as_str().unwrap();
        let redeliver = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver");
        let r = app.post_json(&redeliver, Some(&p.dispatcher), &json!({})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        // Re-enabled and redelivered by hand.
        receiver.set_status(200);
        let r = app.patch_json(&format!("/api/v1/webhooks/{id}"), &p.dispatcher, &json!({"enabled": true})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "active");
        let r = app.post_json(&redeliver, Some(&p.dispatcher), &json!({})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        wait_deliveries(&app, &p.dispatcher, &id, 20, |d| d[0]["status"] == "delivered").await;
        assert_eq!(receiver.received().len(), 2);
        // The redelivery asked for is in the audit chain; the refused one is not.
        let audited = crate::audit::entries(&app, &p.admin).await;
        let action = "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver";
        assert_eq!(audited.iter().filter(|e| e["action"] == action).count(), 1);
    }

    async fn sustained_failure_disables_and_redirects_are_not_followed(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            fast(s);
            s.notify.webhook_disable_after_secs = 2;
        })
        .await;
        let p = park(&app, 500, 80).await;
        let receiver = Receiver::start(307).await;
        let (id, _) = subscribe(&app, &p.dispatcher, &receiver.url("/in"), &["*"]).await;
        raise(&app, &p).await;
        let list = wait_deliveries(&app, &p.dispatcher, &id, 30, |d| d.len() == 1 && d[0]["status"] == "failed").await;
        assert_eq!(list[0]["last_status"], 307);
        let e = endpoint(&app, &p.dispatcher, &id).await;
        assert_eq!(e["status"], "disabled");
        assert!(e["disabled_reason"].as_str().unwrap().contains("failed since"), "{e}");
        assert!(receiver.received().iter().all(|r| r.path == "/in"), "the redirect was not followed");
        assert_eq!(inbox(&app, &p.dispatcher, "?type=webhook.endpoint_disabled").await.len(), 1);
    }

    async fn internal_addresses_are_refused(backend: Backend) {
        // Only 127.0.0.1 is allowed, by address: a name resolving to it is still refused.
        let app = TestApp::spawn_with(backend, fast).await;
        let p = park(&app, 500, 80).await;
        for url in ["http://10.0.0.8/hook", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
                    "http://[::1]:8080/", "http://[fd12::1]/", "http://0.0.0.0/", "http://[::ffff:10.1.1.1]/",
                    "ftp://example.com/", "http://user:pw@example.com/"] {
            let r = app.post_json("/api/v1/webhooks", Some(&p.dispatcher), &json!({"url": url})).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec!["url"], "{url}");
        }
        let receiver = Receiver::start(200).await;
        let (id, _) = subscribe(&app, &p.dispatcher, &format!("http://localhost:{}/in", receiver.port), &["*"]).await;
        raise(&app, &p).await;
        let list = wait_deliveries(&app, &p.dispatcher, &id, 20, |d| d.len() == 1 && d[0]["attempts"].as_i64() >= Some(1)).await;
        let error = list[0]["last_error"].as_str().unwrap();
        assert!(error.contains("localhost resolves to") && error.contains("loopback"), "{error}");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(receiver.received().is_empty(), "nothing reached the internal address");
        // Changing the URL to an internal address is refused too.
        let r = app.patch_json(&format!("/api/v1/webhooks/{id}"), &p.dispatcher, &json!({"url": "http://10.0.0.1/"})).await;
        assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    }

    async fn endpoints_belong_to_their_organisation(backend: Backend) {
        let app = TestApp::spawn_with(backend, fast).await;
        let p = park(&app, 500, 80).await;
        let r = app.post_json("/api/v1/webhooks", Some(&p.driver), &json!({"url": "https://example.com/h"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.post_json("/api/v1/webhooks", Some(&p.office), &json!({"url": "https://example.com/h", "event_types": ["pickup.nope"]})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["event_types"]);
        let (id, _) = subscribe(&app, &p.office, "https://example.com/h", &["pickup.requested"]).await;
        for path in [format!("/api/v1/webhooks/{id}"), format!("/api/v1/webhooks/{id}/deliveries")] {
            let r = app.get(&path, &p.dispatcher).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        let r = app.patch_json(&format!("/api/v1/webhooks/{id}"), &p.producer_a, &json!({"enabled": false})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let mine: Value = app.get("/api/v1/webhooks", &p.office).await.json().await.unwrap();
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
        let theirs: Value = app.get("/api/v1/webhooks", &p.dispatcher).await.json().await.unwrap();
        assert!(theirs["items"].as_array().unwrap().is_empty());
        let types: Value = app.get("/api/v1/webhooks/types", &p.office).await.json().await.unwrap();
        assert!(types["types"].as_array().unwrap().contains(&json!("pickup.requested")));
    }
}

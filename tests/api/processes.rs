//! Real server processes around one database: a dispatcher killed in the middle of a delivery
//! loses nothing once a process runs again, and two processes on one PostgreSQL raise one
//! request and send one notification per crossing.

use std::process::{Child, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::binary::{command_for, free_port, wait_until_healthy};
use crate::helpers::{Backend, JWT_SECRET, TestApp};
use crate::pickups::{inbox, park, requests, subscribe, weigh, weighing};
use crate::receiver::Receiver;

/// A `wastetrack serve` process, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts a process on the app's database whose clock shows what the app's shows.
    async fn start(app: &TestApp) -> Self {
        let port = free_port();
        let child = command_for(app.database_url(), port)
            .env("WASTETRACK_CLOCK_START_AT", app.now_rfc3339())
            .env("WASTETRACK_WORKERS", "2")
            .env("WASTETRACK_AUTH__JWT_SECRET", JWT_SECRET)
            .env("WASTETRACK_NOTIFY__WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
            .env("WASTETRACK_NOTIFY__POLL_INTERVAL_MS", "50")
            .env("WASTETRACK_NOTIFY__WEBHOOK_TIMEOUT_SECS", "3")
            .env("WASTETRACK_NOTIFY__WEBHOOK_CLAIM_LEASE_SECS", "4")
            .env(
                "WASTETRACK_NOTIFY__WEBHOOK_RETRY_SCHEDULE_SECS",
                "1,1,1,1,1",
            )
            .env("WASTETRACK_NOTIFY__SWEEP_INTERVAL_SECS", "3600")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wastetrack starts");
        wait_until_healthy(port).await;
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The in-process app only prepares the data: its own dispatcher is off.
fn setup_only(s: &mut wastetrack::config::Settings) {
    s.notify.background_enabled = false;
    s.notify.webhook_allowed_hosts = "127.0.0.1".to_owned();
}

backend_tests! {
    async fn a_dispatcher_killed_mid_delivery_loses_nothing(backend: Backend) {
        let app = TestApp::spawn_with(backend, setup_only).await;
        let p = park(&app, 500, 80).await;
        let receiver = Receiver::start(200).await;
        receiver.hold_next();
        let (endpoint, secret) = subscribe(&app, &p.dispatcher, &receiver.url("/in"), &["*"]).await;
        // Three messages wait for the disposer: requested, accepted, scheduled.
        let lot = weigh(&app, &p, &p.enterprise_a, 600).await;
        let request = lot["pickup_request_id"].as_str().unwrap().to_owned();
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/accept"), Some(&p.dispatcher), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let schedule = json!({"scheduled_on": app.day(1), "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id});
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/schedule"), Some(&p.dispatcher), &schedule).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(receiver.received().is_empty());

        let mut first = Server::start(&app).await;
        let held = receiver.wait_for(30, "a delivery to arrive", |r| !r.is_empty()).await[0].id();
        first.kill();
        let _second = Server::start(&app).await;
        let got = receiver
            .wait_for(60, "every message answered 200", |r| {
                let mut ok: Vec<String> = r.iter().filter(|x| x.answered == 200).map(|x| x.id()).collect();
                ok.sort();
                ok.dedup();
                ok.len() == 3
            })
            .await;
        assert!(got.iter().any(|r| r.answered == 200 && r.id() == held), "the message held when the process died was sent again");
        for r in got.iter().filter(|r| r.answered == 200) {
            r.verify(&secret).expect("signed");
        }
        let list: serde_json::Value = app.get(&format!("/api/v1/webhooks/{endpoint}/deliveries"), &p.dispatcher).await.json().await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut list = list;
        while list["items"].as_array().unwrap().iter().any(|d| d["status"] != "delivered") {
            assert!(std::time::Instant::now() < deadline, "{list}");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
            list = app.get(&format!("/api/v1/webhooks/{endpoint}/deliveries"), &p.dispatcher).await.json().await.unwrap();
        }
        assert_eq!(list["items"].as_array().unwrap().len(), 3);
    }
}

/// Two server processes on one PostgreSQL, weighings sent to both at once: one request, one
/// message per party, one webhook delivery.
#[actix_web::test]
async fn two_processes_on_one_postgres_raise_one_request_and_send_one_notification() {
    if !Backend::postgres_configured() {
        return;
    }
    let app = TestApp::spawn_with(Backend::Postgres, setup_only).await;
    let p = park(&app, 1000, 80).await;
    let receiver = Receiver::start(200).await;
    subscribe(
        &app,
        &p.dispatcher,
        &receiver.url("/in"),
        &["pickup.requested"],
    )
    .await;
    let servers = [Server::start(&app).await, Server::start(&app).await];
    let client = reqwest::Client::new();
    let sends = (0..40).map(|i| {
        let enterprise = if i % 2 == 0 {
            &p.enterprise_a
        } else {
            &p.enterprise_b
        };
        client
            .post(format!("{}/api/v1/lots", servers[i % 2].base))
            .bearer_auth(&p.office)
            .json(&weighing(&p, enterprise, 100))
            .send()
    });
    for r in futures_util::future::join_all(sends).await {
        assert_eq!(r.unwrap().status(), StatusCode::CREATED);
    }
    let all = requests(&app, &p.office, "").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["lot_count"], 40);
    assert_eq!(
        inbox(&app, &p.dispatcher, "?type=pickup.requested")
            .await
            .len(),
        1
    );
    assert_eq!(
        inbox(&app, &p.office, "?type=pickup.requested").await.len(),
        1
    );
    receiver
        .wait_for(30, "the delivery", |r| !r.is_empty())
        .await;
    // Both dispatchers poll every 50 ms: give a duplicate every chance to show.
    actix_web::rt::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 1, "one delivery");
}

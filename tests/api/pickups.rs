//! Pickup requests: the threshold rules raise exactly one request per crossing (also under
//! concurrent weighings), later lots join it, the rule re-arms after a cancellation or a
//! decline; the disposer accepts, schedules or declines; the parties see the status in their
//! inboxes and over webhooks; each step refuses the wrong role.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};
use crate::receiver::Receiver;

pub const PASSWORD: &str = "a long password";
const CATALOG: &str = "code,name_zh,characteristics
900-249-08,其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物,T/I
900-214-08,车辆、机械维修和拆解过程中产生的废发动机油、制动器油,T/I
900-041-49,含有或沾染毒性、感染性危险废物的废弃的包装物、容器、过滤吸附介质,T/In
S59,其他工业固体废物,
900-003-S59,废金属边角料,
";

/// A park with its office, two enterprises in a contract whose HW08 threshold is
/// `threshold_kg`, a third outside it, a licensed disposer with its dispatcher, a carrier with
/// a vehicle and a driver, and a warehouse with a 10 t HW08 zone.
#[allow(dead_code)]
pub struct Park {
    /// The server's clock, for times a device would send.
    pub clock: wastetrack::clock::Clock,
    pub admin: String,
    pub office: String,
    pub dispatcher: String,
    pub producer_a: String,
    pub producer_b: String,
    pub outsider_user: String,
    pub driver: String,
    pub park: String,
    pub enterprise_a: String,
    pub enterprise_b: String,
    pub outsider: String,
    pub disposer: String,
    pub carrier: String,
    pub vehicle: String,
    pub driver_id: String,
    pub contract: String,
    pub warehouse: String,
    pub zone: String,
}

pub async fn park(app: &TestApp, threshold_kg: i64, zone_percent: i64) -> Park {
    let admin = app.admin_token().await;
    let r = app
        .request(Method::POST, "/api/v1/catalog/imports", Some(&admin))
        .header("content-type", "text/csv")
        .body(CATALOG)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let park = app.create_park(&admin, "Longgang park", "440307").await;
    // The warehouse's shared zone takes hazardous waste under the park's collection permit.
    app.grant_permit(&admin, &park).await;
    let enterprise_a = app
        .create_enterprise(&admin, &park, "Huaxin Electronics")
        .await;
    let enterprise_b = app
        .create_enterprise(&admin, &park, "Bolin Machinery")
        .await;
    let outsider = app.create_enterprise(&admin, &park, "Outside Ltd").await;
    let disposer = app.create_disposer(&admin, "Dongjiang").await;
    let licence = json!({"number": "L-1", "issuing_authority": "GDEE", "valid_from": app.day(-400), "valid_to": app.day(400),
        "annual_capacity_grams": 1_000_000_000_000i64, "scope": ["HW08"]});
    app.created_id(
        &format!("/api/v1/disposers/{disposer}/licences"),
        &admin,
        &licence,
    )
    .await;
    let contract = json!({"park_id": park, "disposer_id": disposer, "number": "C-1", "valid_from": app.day(-365), "valid_to": app.day(365),
        "max_storage_days": 180, "pickup_zone_percent": zone_percent,
        "members": [{"enterprise_id": enterprise_a}, {"enterprise_id": enterprise_b}],
        "prices": [{"target": "HW08", "fen_per_tonne": 280_000}, {"target": "900-003-S59", "fen_per_tonne": -120_000}],
        "thresholds": [{"target": "HW08", "threshold_grams": threshold_kg * 1000}, {"target": "S59", "threshold_grams": 200_000}]});
    let contract = app.created_id("/api/v1/contracts", &admin, &contract).await;
    let warehouse = app
        .created_id(
            "/api/v1/warehouses",
            &admin,
            &json!({"park_id": park, "name": "No. 1", "address": "C2"}),
        )
        .await;
    let zone = app
        .created_id(
            &format!("/api/v1/warehouses/{warehouse}/zones"),
            &admin,
            &json!({"name": "A1", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000}),
        )
        .await;
    let carrier = app.create_org(&admin, "carrier", "Lvyun Transport").await;
    let vehicle = app
        .created_id(
            "/api/v1/vehicles",
            &admin,
            &json!({"operator_id": carrier, "plate": "粤B·12345", "dangerous_goods_permit_number": "440300012345"}),
        )
        .await;
    let users = [
        (&park, "office", "park_office"),
        (&disposer, "dispatch", "disposer_dispatcher"),
        (&enterprise_a, "producer_a", "enterprise_user"),
        (&enterprise_b, "producer_b", "enterprise_user"),
        (&outsider, "outsider", "enterprise_user"),
    ];
    for (org, name, role) in users {
        app.create_user(&admin, org, name, role, PASSWORD).await;
    }
    let driver_id = app
        .create_user(&admin, &carrier, "driver", "driver", PASSWORD)
        .await;
    let token = |name: &'static str| async move { access_token(&app.login(name, PASSWORD).await) };
    Park {
        clock: app.clock.clone(),
        office: token("office").await,
        dispatcher: token("dispatch").await,
        producer_a: token("producer_a").await,
        producer_b: token("producer_b").await,
        outsider_user: token("outsider").await,
        driver: token("driver").await,
        admin,
        park,
        enterprise_a,
        enterprise_b,
        outsider,
        disposer,
        carrier,
        vehicle,
        driver_id,
        contract,
        warehouse,
        zone,
    }
}

pub fn weighing(p: &Park, enterprise: &str, net_kg: i64) -> Value {
    json!({"enterprise_id": enterprise, "waste_code": "900-249-08", "physical_form": "liquid", "container_type": "drum",
        "container_count": 1, "container_litres": 200, "zone_id": p.zone, "gross_grams": net_kg * 1000 + 20_000, "tare_grams": 20_000,
        "scale_id": "SCALE-01", "captured_at": (p.clock.now() - Duration::minutes(5)).to_rfc3339()})
}

pub async fn weigh(app: &TestApp, p: &Park, enterprise: &str, net_kg: i64) -> Value {
    let r = app
        .post_json(
            "/api/v1/lots",
            Some(&p.office),
            &weighing(p, enterprise, net_kg),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

pub async fn requests(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/pickup-requests{query}"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

pub async fn inbox(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/inbox{query}"), token).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

pub async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let r = app
        .post_json(
            "/api/v1/webhooks",
            Some(token),
            &json!({"url": url, "event_types": types}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

pub async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.post_json(path, Some(token), body).await
}

fn allow_local(s: &mut wastetrack::config::Settings) {
    s.notify.webhook_allowed_hosts = "127.0.0.1".to_owned();
    s.notify.poll_interval_ms = 50;
}

backend_tests! {
    async fn a_crossing_raises_one_request_that_later_lots_join(backend: Backend) {
        let app = TestApp::spawn_with(backend, allow_local).await;
        let p = park(&app, 500, 80).await;
        let receiver = Receiver::start(200).await;
        let (_, secret) = subscribe(&app, &p.dispatcher, &receiver.url("/hooks"), &["pickup.requested"]).await;

        let first = weigh(&app, &p, &p.enterprise_a, 300).await;
        assert!(first.get("pickup_request_id").is_none(), "below the threshold: {first}");
        assert!(requests(&app, &p.office, "").await.is_empty());

        let second = weigh(&app, &p, &p.enterprise_a, 250).await;
        let id = second["pickup_request_id"].as_str().expect("the crossing lot is in a request").to_owned();
        assert!(inbox(&app, &p.producer_b, "").await.is_empty(), "B has no lot in it yet");
        let third = weigh(&app, &p, &p.enterprise_b, 100).await;
        assert_eq!(third["pickup_request_id"], id.as_str(), "a later lot joins the open request");

        let all = requests(&app, &p.office, "").await;
        assert_eq!(all.len(), 1, "{all:?}");
        let request: Value = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.office).await.json().await.unwrap();
        assert_eq!(request["status"], "requested");
        assert_eq!(request["trigger"], "weight");
        assert_eq!(request["route"], "warehouse");
        assert_eq!(request["category"], "HW08");
        assert_eq!(request["total_grams"], 650_000);
        assert_eq!(request["lot_count"], 3);
        assert_eq!(request["lots"].as_array().unwrap().len(), 3);
        assert!(request["trigger_detail"].as_str().unwrap().contains("550000 g of HW08"), "{request}");

        // An enterprise sees the request with its own lots only, and not the others' figures;
        // outsiders do not see it.
        let mine: Value = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.producer_a).await.json().await.unwrap();
        assert_eq!(mine["total_grams"], 550_000);
        assert!(!mine["trigger_detail"].as_str().unwrap().contains("550000"), "{mine}");
        assert!(mine["lots"].as_array().unwrap().iter().all(|l| l["enterprise_id"] == p.enterprise_a.as_str()));
        let r = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.outsider_user).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        assert!(requests(&app, &p.outsider_user, "").await.is_empty());
        assert_eq!(requests(&app, &p.producer_b, "").await.len(), 1);
        let r = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.driver).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // Exactly one message per party, and one signed webhook delivery.
        for token in [&p.office, &p.dispatcher, &p.producer_a, &p.producer_b] {
            let messages = inbox(&app, token, "?type=pickup.").await;
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert_eq!(messages[0]["type"], "pickup.requested");
            assert_eq!(messages[0]["subject_id"], id.as_str());
        }
        let b_message = &inbox(&app, &p.producer_b, "").await[0];
        assert_eq!(b_message["data"]["total_grams"], 100_000, "told when its first lot joined, of its own lots only");
        let r = app.get("/api/v1/inbox", &p.driver).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert!(inbox(&app, &p.outsider_user, "").await.is_empty());
        receiver.wait_for(20, "the pickup.requested delivery", |r| !r.is_empty()).await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
        let got = receiver.received();
        assert_eq!(got.len(), 1, "one delivery");
        got[0].verify(&secret).expect("the signature verifies");
        assert_eq!(got[0].type_(), "pickup.requested");
        assert_eq!(got[0].json()["data"]["id"], id.as_str());
        assert_eq!(got[0].json()["data"]["total_grams"], 550_000, "as it was when raised");
    }

    async fn the_disposer_accepts_schedules_or_declines_and_the_rule_re_arms(backend: Backend) {
        // The periodic check runs every second: it must not re-raise a cancelled request.
        let app = TestApp::spawn_with(backend, |s| s.notify.sweep_interval_secs = 1).await;
        let p = park(&app, 500, 80).await;
        let lot = weigh(&app, &p, &p.enterprise_a, 600).await;
        let id = lot["pickup_request_id"].as_str().unwrap().to_owned();
        let path = |step: &str| format!("/api/v1/pickup-requests/{id}/{step}");

        // Wrong roles: the office and enterprises may read but not dispatch.
        for token in [&p.office, &p.producer_a] {
            let r = post(&app, &path("accept"), token, &json!({})).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let r = post(&app, &path("accept"), &p.outsider_user, &json!({})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = post(&app, &path("cancel"), &p.dispatcher, &json!({"reason": "no"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;

        let r = post(&app, &path("accept"), &p.dispatcher, &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let accepted: Value = r.json().await.unwrap();
        assert_eq!(accepted["status"], "accepted");
        let r = post(&app, &path("accept"), &p.dispatcher, &json!({})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;

        // Scheduling checks the day, the vehicle and the driver against the carrier.
        let other_carrier = app.create_org(&p.admin, "carrier", "Other Transport").await;
        let schedule = json!({"scheduled_on": app.day(2), "carrier_id": p.carrier, "vehicle_id": p.vehicle, "driver_id": p.driver_id});
        let mut bad = schedule.clone();
        bad["scheduled_on"] = json!(app.day(-1));
        bad["carrier_id"] = json!(other_carrier);
        let r = post(&app, &path("schedule"), &p.dispatcher, &bad).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["scheduled_on", "vehicle_id", "driver_id"]);
        let r = post(&app, &path("schedule"), &p.office, &schedule).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, &path("schedule"), &p.dispatcher, &schedule).await;
        assert_eq!(r.status(), StatusCode::OK);
        let scheduled: Value = r.json().await.unwrap();
        assert_eq!(scheduled["status"], "scheduled");
        assert_eq!(scheduled["scheduled_on"], app.day(2));
        assert_eq!(scheduled["driver_id"], p.driver_id.as_str());

        // The office, the enterprise and the driver see it scheduled.
        for token in [&p.office, &p.producer_a, &p.driver] {
            let seen = requests(&app, token, "?open=true").await;
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0]["status"], "scheduled");
        }
        let types: Vec<String> = inbox(&app, &p.producer_a, "").await.iter().map(|m| m["type"].as_str().unwrap().to_owned()).collect();
        assert_eq!(types, vec!["pickup.scheduled", "pickup.accepted", "pickup.requested"], "newest first");
        assert_eq!(inbox(&app, &p.outsider_user, "").await.len(), 0);

        // A scheduled request is not declined; the office cancels it, and its lots wait again.
        let r = post(&app, &path("decline"), &p.dispatcher, &json!({"reason": "truck broke down"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = post(&app, &path("cancel"), &p.office, &json!({"reason": ""})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["reason"]);
        let r = post(&app, &path("cancel"), &p.office, &json!({"reason": "the enterprise takes it back"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let cancelled: Value = r.json().await.unwrap();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["reason"], "the enterprise takes it back");
        let lot_now: Value = app.get(&format!("/api/v1/lots/{}", lot["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        assert!(lot_now.get("pickup_request_id").is_none(), "{lot_now}");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert!(requests(&app, &p.office, "?open=true").await.is_empty(), "the cancelled lots do not call again by themselves");

        // The rule re-arms: the next lot raises a new request with both lots.
        let next = weigh(&app, &p, &p.enterprise_b, 10).await;
        let second = next["pickup_request_id"].as_str().expect("a new request").to_owned();
        assert_ne!(second, id);
        let r: Value = app.get(&format!("/api/v1/pickup-requests/{second}"), &p.office).await.json().await.unwrap();
        assert_eq!(r["total_grams"], 610_000);
        // Declined with a reason: the parties see it, and the lots wait again.
        let r = post(&app, &format!("/api/v1/pickup-requests/{second}/decline"), &p.dispatcher, &json!({"reason": "licence under review"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let seen: Value = app.get(&format!("/api/v1/pickup-requests/{second}"), &p.producer_b).await.json().await.unwrap();
        assert_eq!(seen["status"], "declined");
        assert_eq!(seen["reason"], "licence under review");
        assert_eq!(inbox(&app, &p.producer_b, "?type=pickup.declined").await.len(), 1);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert_eq!(requests(&app, &p.office, "?open=true").await.len(), 0, "nor do declined ones");

        // The office can still call them by hand; voiding every lot then cancels the request.
        let raise = json!({"contract_id": p.contract, "warehouse_id": p.warehouse, "category": "HW08"});
        let r = post(&app, "/api/v1/pickup-requests", &p.office, &raise).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let third: Value = r.json().await.unwrap();
        assert_eq!(third["total_grams"], 610_000);
        for l in third["lots"].as_array().unwrap() {
            let r = post(&app, &format!("/api/v1/lots/{}/void", l["lot_id"].as_str().unwrap()), &p.office, &json!({"reason": "mislabelled"})).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        let emptied: Value = app.get(&format!("/api/v1/pickup-requests/{}", third["id"].as_str().unwrap()), &p.office).await.json().await.unwrap();
        assert_eq!(emptied["status"], "cancelled");
        assert_eq!(emptied["reason"], "every lot of the request was voided");
        assert_eq!(requests(&app, &p.office, "?open=true").await.len(), 0);
        assert_eq!(requests(&app, &p.office, "?status=cancelled").await.len(), 2);
        assert_eq!(requests(&app, &p.office, "?status=declined").await.len(), 1);
    }

    async fn the_office_raises_by_hand_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let raise = json!({"contract_id": p.contract, "warehouse_id": p.warehouse, "category": "HW08", "note": "space needed"});
        let r = post(&app, "/api/v1/pickup-requests", &p.office, &raise).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["category"], "nothing waits");
        let lot = weigh(&app, &p, &p.enterprise_a, 100).await;
        assert!(lot.get("pickup_request_id").is_none());
        let r = post(&app, "/api/v1/pickup-requests", &p.producer_a, &raise).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = post(&app, "/api/v1/pickup-requests", &p.office, &json!({"contract_id": p.contract, "category": "HW99"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["category"]);
        let r = post(&app, "/api/v1/pickup-requests", &p.office, &raise).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let raised: Value = r.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/pickup-requests/{}", raised["id"].as_str().unwrap()));
        assert_eq!(raised["trigger"], "manual");
        assert_eq!(raised["note"], "space needed");
        assert_eq!(raised["total_grams"], 100_000);
        let r = post(&app, "/api/v1/pickup-requests", &p.office, &raise).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
    }

    async fn a_zone_filled_to_its_share_raises_a_request(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Weight threshold far away; the zone (10 t) calls at 5 %.
        let p = park(&app, 100_000, 5).await;
        let lot = weigh(&app, &p, &p.enterprise_a, 400).await;
        assert!(lot.get("pickup_request_id").is_none());
        let lot = weigh(&app, &p, &p.enterprise_a, 100).await;
        let id = lot["pickup_request_id"].as_str().expect("at 5 % of 10 t").to_owned();
        let r: Value = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.office).await.json().await.unwrap();
        assert_eq!(r["trigger"], "zone_capacity");
        assert_eq!(r["lot_count"], 2);
    }

    async fn declarations_at_the_door_are_called_per_park(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let declare = |kg: i64| json!({"enterprise_id": p.enterprise_a, "waste_code": "900-003-S59", "physical_form": "solid",
            "container_type": "bag", "container_count": 3, "estimated_grams": kg * 1000});
        let r = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(150)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let first: Value = r.json().await.unwrap();
        assert!(first.get("pickup_request_id").is_none());
        let r = post(&app, "/api/v1/lots/declarations", &p.producer_a, &declare(60)).await;
        let second: Value = r.json().await.unwrap();
        let id = second["pickup_request_id"].as_str().expect("200 kg of S59 reached").to_owned();
        let r: Value = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.producer_a).await.json().await.unwrap();
        assert_eq!(r["route"], "door");
        assert!(r.get("warehouse_id").is_none());
        assert_eq!(r["category"], "S59");
        assert_eq!(r["total_grams"], 210_000);
    }

    async fn concurrent_weighings_raise_one_request_and_one_notification(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            allow_local(s);
            s.workers = 4;
            s.database_max_connections = 8;
        })
        .await;
        let p = park(&app, 1000, 80).await;
        let receiver = Receiver::start(200).await;
        subscribe(&app, &p.office, &receiver.url("/office"), &["pickup.requested"]).await;
        subscribe(&app, &p.dispatcher, &receiver.url("/dispatch"), &["*"]).await;
        // 30 lots of 100 kg at once: the threshold (1 t) is crossed by the 10th to commit.
        let bodies: Vec<Value> = (0..30)
            .map(|i| {
                let enterprise = if i % 2 == 0 { &p.enterprise_a } else { &p.enterprise_b };
                weighing(&p, enterprise, 100)
            })
            .collect();
        let sends = bodies
            .iter()
            .map(|body| app.post_json("/api/v1/lots", Some(&p.office), body));
        let responses = futures_util::future::join_all(sends).await;
        assert!(responses.iter().all(|r| r.status() == StatusCode::CREATED));
        let open = requests(&app, &p.office, "").await;
        assert_eq!(open.len(), 1, "one request: {open:?}");
        assert_eq!(open[0]["lot_count"], 30, "every lot in it");
        for token in [&p.office, &p.dispatcher] {
            assert_eq!(inbox(&app, token, "?type=pickup.requested").await.len(), 1);
        }
        receiver.wait_for(20, "both deliveries", |r| r.len() >= 2).await;
        actix_web::rt::time::sleep(std::time::Duration::from_secs(1)).await;
        let got = receiver.received();
        let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(got.len(), 2, "one delivery per endpoint: {paths:?}");
        assert!(paths.contains(&"/office") && paths.contains(&"/dispatch"));
    }

    async fn the_inbox_pages_and_keeps_read_state_per_organisation(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 100, 80).await;
        // Three crossings: raise, then cancel (re-arm) and cross again, twice.
        for _ in 0..3 {
            let lot = weigh(&app, &p, &p.enterprise_a, 150).await;
            let id = lot["pickup_request_id"].as_str().unwrap().to_owned();
            let r = post(&app, &format!("/api/v1/pickup-requests/{id}/cancel"), &p.office, &json!({"reason": "test"})).await;
            assert_eq!(r.status(), StatusCode::OK);
            let lot_id = lot["id"].as_str().unwrap();
            let r = post(&app, &format!("/api/v1/lots/{lot_id}/void"), &p.office, &json!({"reason": "test"})).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        let unread: Value = app.get("/api/v1/inbox/unread-count", &p.producer_a).await.json().await.unwrap();
        assert_eq!(unread["unread"], 6, "3 requested + 3 cancelled");
        let page: Value = app.get("/api/v1/inbox?limit=4", &p.producer_a).await.json().await.unwrap();
        let first: Vec<Value> = page["items"].as_array().unwrap().clone();
        assert_eq!(first.len(), 4);
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest = inbox(&app, &p.producer_a, &format!("?limit=4&cursor={cursor}")).await;
        assert_eq!(rest.len(), 2);
        let ids: Vec<&str> = first.iter().chain(rest.iter()).map(|m| m["id"].as_str().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(ids, sorted, "newest first, no overlap");

        let one = first[0]["id"].as_str().unwrap();
        let r = post(&app, &format!("/api/v1/inbox/{one}/read"), &p.producer_a, &json!({})).await;
        let read: Value = r.json().await.unwrap();
        assert_eq!(read["read"], true);
        let r = post(&app, &format!("/api/v1/inbox/{one}/read"), &p.producer_b, &json!({})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        assert_eq!(inbox(&app, &p.producer_a, "?unread=true").await.len(), 5);
        let r = post(&app, "/api/v1/inbox/read", &p.producer_a, &json!({"up_to": first[2]["id"]})).await;
        let marked: Value = r.json().await.unwrap();
        assert_eq!(marked["marked"], 4, "the given message and the older unread ones");
        let r = post(&app, "/api/v1/inbox/read", &p.producer_a, &json!({})).await;
        let marked: Value = r.json().await.unwrap();
        assert_eq!(marked["marked"], 1);
        let unread: Value = app.get("/api/v1/inbox/unread-count", &p.producer_a).await.json().await.unwrap();
        assert_eq!(unread["unread"], 0);
        // The office's inbox is its own: still unread.
        assert_eq!(inbox(&app, &p.office, "?unread=true&type=pickup.").await.len(), 6);
    }

    async fn time_and_the_periodic_check_call_for_collection_and_tell_alarms_once(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.notify.sweep_interval_secs = 1).await;
        let p = park(&app, 5000, 80).await;
        // A 10-day storage limit: a lot weighed 9 days ago is past the 80 % mark at once.
        let r = app.patch_json(&format!("/api/v1/contracts/{}", p.contract), &p.admin, &json!({"max_storage_days": 10})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut old = weighing(&p, &p.enterprise_a, 50);
        old["captured_at"] = json!((app.now() - Duration::days(9)).to_rfc3339());
        let r = app.post_json("/api/v1/lots", Some(&p.office), &old).await;
        let lot: Value = r.json().await.unwrap();
        let id = lot["pickup_request_id"].as_str().expect("the age rule is crossed").to_owned();
        let request: Value = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.office).await.json().await.unwrap();
        assert_eq!(request["trigger"], "storage_age");

        // A small zone filled to 95 %, and a licence ending in 20 days.
        let small = app
            .created_id(&format!("/api/v1/warehouses/{}/zones", p.warehouse), &p.admin,
                &json!({"name": "A9", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 100_000}))
            .await;
        let mut full = weighing(&p, &p.enterprise_b, 95);
        full["zone_id"] = json!(small);
        assert_eq!(app.post_json("/api/v1/lots", Some(&p.office), &full).await.status(), StatusCode::CREATED);
        let licence = json!({"number": "L-2", "issuing_authority": "GDEE", "valid_from": app.day(-10), "valid_to": app.day(20),
            "annual_capacity_grams": 1_000_000i64, "scope": ["HW08"]});
        app.created_id(&format!("/api/v1/disposers/{}/licences", p.disposer), &p.admin, &licence).await;

        // Waiting lots below the threshold, then a lower threshold: the periodic check raises.
        let r = app.post_json("/api/v1/lots/declarations", Some(&p.producer_a), &json!({"enterprise_id": p.enterprise_a,
            "waste_code": "900-003-S59", "physical_form": "solid", "container_type": "bag", "container_count": 1,
            "estimated_grams": 50_000})).await;
        let declared: Value = r.json().await.unwrap();
        assert!(declared.get("pickup_request_id").is_none());
        let r = app.post_json(&format!("/api/v1/contracts/{}/thresholds", p.contract), Some(&p.admin),
            &json!({"target": "S59", "threshold_grams": 40_000, "effective_from": app.day(0)})).await;
        assert_eq!(r.status(), StatusCode::OK);

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let wanted = ["alarm.storage_age", "alarm.capacity", "licence.expiring", "pickup.requested"];
        loop {
            let types: Vec<String> = inbox(&app, &p.office, "").await.iter().map(|m| m["type"].as_str().unwrap().to_owned()).collect();
            let door = requests(&app, &p.office, "?open=true").await.iter().any(|r| r["route"] == "door");
            if door && wanted.iter().all(|w| types.iter().any(|t| t == w)) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "office inbox: {types:?}");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // The request the periodic check opened is in the audit chain, with no person as actor.
        let audited = crate::audit::entries(&app, &p.admin).await;
        let door_request = requests(&app, &p.office, "?open=true").await.into_iter().find(|r| r["route"] == "door").unwrap();
        let entry = audited.iter().find(|e| e["action"] == "periodic check: pickup rules").expect("an entry of the periodic check");
        assert_eq!(entry["object"], format!("/api/v1/pickup-requests/{}", door_request["id"].as_str().unwrap()));
        assert!(entry.get("user_id").is_none_or(Value::is_null), "{entry}");
        // Several more checks run: each condition was told once.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
        let office = inbox(&app, &p.office, "").await;
        let count = |list: &[Value], t: &str| list.iter().filter(|m| m["type"] == t).count();
        assert_eq!(count(&office, "alarm.storage_age"), 1);
        assert_eq!(count(&office, "alarm.capacity"), 1);
        assert_eq!(count(&office, "licence.expiring"), 1);
        // The lot filling A9 joined the open HW08 request of the warehouse; the door lots got one.
        assert_eq!(count(&office, "pickup.requested"), 2, "age, then door");
        let joined: Value = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.office).await.json().await.unwrap();
        assert_eq!(joined["lot_count"], 2);
        let producer = inbox(&app, &p.producer_a, "?type=alarm.").await;
        assert_eq!(producer.len(), 1, "its own lot's age alarm: {producer:?}");
        assert_eq!(producer[0]["subject_id"], lot["id"]);
        assert_eq!(inbox(&app, &p.producer_b, "?type=alarm.").await.len(), 0, "zones are the park's business");
        let disposer = inbox(&app, &p.dispatcher, "?type=licence.").await;
        assert_eq!(disposer.len(), 1);
        assert_eq!(disposer[0]["data"]["days_left"], 20);
        assert_eq!(inbox(&app, &p.outsider_user, "").await.len(), 0);
    }
}

backend_tests! {
    async fn a_lot_gone_from_the_group_no_longer_ages_it(backend: Backend) {
        // The group's running totals remember when its oldest lot was weighed even after that
        // lot leaves; the storage-age rule then reads the lots themselves before calling.
        let app = TestApp::spawn(backend).await;
        let mut p = park(&app, 500, 100).await;
        let old = weigh(&app, &p, &p.enterprise_a, 10).await;
        app.advance(Duration::days(150));
        p.office = access_token(&app.login("office", PASSWORD).await);
        let r = post(&app, &format!("/api/v1/lots/{}/void", old["id"].as_str().unwrap()), &p.office,
            &json!({"reason": "weighed twice"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let young = weigh(&app, &p, &p.enterprise_a, 10).await;
        assert!(young.get("pickup_request_id").is_none(), "no lot waiting is old: {young}");
        assert!(requests(&app, &p.office, "").await.is_empty());
        // A lot that is old and still waits does call.
        app.advance(Duration::days(150));
        p.office = access_token(&app.login("office", PASSWORD).await);
        let third = weigh(&app, &p, &p.enterprise_b, 10).await;
        assert!(third["pickup_request_id"].is_string(), "the young lot is now 150 days old: {third}");
        let all = requests(&app, &p.office, "").await;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0]["trigger"], "storage_age");
    }
}

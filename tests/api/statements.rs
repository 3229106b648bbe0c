//! The cost of requests in SQL statements, read from the `Server-Timing` header: a weighing
//! executes a fixed number of statements whatever waits in its pickup group, whatever the open
//! request holds and however much history the park has. A change that adds a statement to the
//! weighing fails here; if it is worth it, raise the budget and the README's figure with it.

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::pickups::{park, weighing};

/// Statements of one weighing into a group where nothing crosses a rule, and of one that joins
/// the group's open request (the README states them). One of them inserts the lot's containers
/// (their codes and label tokens), however many; one reads the enterprise's waste profile for
/// the lot's flag; two append the audit entry (read the chain's head, insert). On PostgreSQL
/// two more: the pickup group's and the audit chain's advisory locks.
fn weighing_budget(backend: Backend, joining: bool) -> u64 {
    let sqlite = if joining { 24 } else { 22 };
    match backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => sqlite + 2,
    }
}

/// The statements a response reports: `db;dur=<ms>;desc="<n> statements"`.
fn statements(r: &Response) -> u64 {
    let header = r
        .headers()
        .get("server-timing")
        .expect("a Server-Timing header")
        .to_str()
        .unwrap();
    let desc = header.split("desc=\"").nth(1).expect("a description");
    desc.split(' ').next().unwrap().parse().expect("a count")
}

async fn weigh(
    app: &TestApp,
    p: &crate::pickups::Park,
    kg: i64,
    key: Option<&str>,
) -> (u64, Value) {
    let mut request = app
        .request(reqwest::Method::POST, "/api/v1/lots", Some(&p.office))
        .json(&weighing(p, &p.enterprise_a, kg));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let n = statements(&r);
    (n, r.json().await.unwrap())
}

backend_tests! {
    async fn a_weighing_costs_the_same_statements_however_much_waits(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.server_timing = true).await;
        // A threshold no weighing here reaches, and a zone share never crossed.
        let p = park(&app, 1_000_000, 100).await;
        let mut costs = Vec::new();
        for _ in 0..30 {
            costs.push(weigh(&app, &p, 10, None).await.0);
        }
        eprintln!("statements per weighing: {costs:?}");
        // The first weighing of the day opens the day's label sequence and the inventory row.
        assert!(costs[1..].iter().all(|c| *c == costs[1]), "flat as lots wait: {costs:?}");
        let budget = weighing_budget(backend, false);
        assert!(costs[1] <= budget, "{} statements; the budget is {budget}", costs[1]);
        let (with_key, _) = weigh(&app, &p, 10, Some("key-1")).await;
        eprintln!("with an Idempotency-Key: {with_key}");
        // The key: read it, claim it and commit the claim, then store the answer with the
        // weighing — none of it a scan of the keys kept (their purge is the periodic check's).
        assert!(with_key <= costs[1] + 5, "{with_key} statements with a key, {} without", costs[1]);
    }

    async fn joining_an_open_request_costs_the_same_however_large_it_is(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.server_timing = true).await;
        let p = park(&app, 50, 100).await;
        let (_, first) = weigh(&app, &p, 30, None).await;
        assert!(first.get("pickup_request_id").is_none());
        let (opening, second) = weigh(&app, &p, 30, None).await;
        let request = second["pickup_request_id"].as_str().expect("the crossing opens a request").to_owned();
        let mut costs = Vec::new();
        for _ in 0..20 {
            let (n, lot) = weigh(&app, &p, 10, None).await;
            assert_eq!(lot["pickup_request_id"], request.as_str(), "later lots join the open request");
            costs.push(n);
        }
        eprintln!("opening: {opening}; joining: {costs:?}");
        assert!(costs.iter().all(|c| *c == costs[0]), "flat as the request grows: {costs:?}");
        let budget = weighing_budget(backend, true);
        assert!(costs[0] <= budget, "{} statements; the budget is {budget}", costs[0]);
    }

    async fn manifest_and_request_reads_cost_the_same_statements_whatever_the_page_holds(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.server_timing = true).await;
        let p = park(&app, 50, 100).await;
        crate::manifests::with_permit(&app, &p).await;
        let mut ids = Vec::new();
        let mut costs = Vec::new();
        for round in 0..3 {
            // Round r collects 3 + 2r lots of 20 kg: manifests of growing size.
            let mut request = None;
            for _ in 0..3 + 2 * round {
                let (_, lot) = weigh(&app, &p, 20, None).await;
                request = lot["pickup_request_id"].as_str().map(str::to_owned);
            }
            let request = request.expect("the lots are in a request");
            crate::manifests::schedule(&app, &p, &request).await;
            let kg = 20 * (3 + 2 * round);
            let r = app
                .post_json(&format!("/api/v1/pickup-requests/{request}/collect"), Some(&p.driver), &crate::manifests::loaded(&app, &p, &request, kg).await)
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let collection: Value = r.json().await.unwrap();
            ids.push(collection["manifests"][0]["id"].as_str().unwrap().to_owned());
            let list = app.get("/api/v1/manifests?limit=50", &p.office).await;
            assert_eq!(list.status(), StatusCode::OK);
            let listed = statements(&list);
            let page: Value = list.json().await.unwrap();
            assert_eq!(page["items"].as_array().unwrap().len(), round as usize + 1);
            let one = app.get(&format!("/api/v1/manifests/{}", ids[round as usize]), &p.office).await;
            assert_eq!(one.status(), StatusCode::OK);
            let headers = one.headers().clone();
            let read = statements(&one);
            let manifest: Value = one.json().await.unwrap();
            assert_eq!(manifest["origins"].as_array().unwrap().len(), 3 + 2 * round as usize, "{headers:?}");
            let requests = app.get("/api/v1/pickup-requests?limit=50", &p.office).await;
            assert_eq!(requests.status(), StatusCode::OK);
            let requests_listed = statements(&requests);
            let page: Value = requests.json().await.unwrap();
            assert_eq!(page["items"].as_array().unwrap().len(), round as usize + 1);
            assert_eq!(page["items"][round as usize]["lot_count"], 3 + 2 * round);
            costs.push((listed, read, requests_listed));
        }
        eprintln!("(manifests listed, one manifest read, pickup requests listed) per round: {costs:?}");
        assert!(costs.iter().all(|c| *c == costs[0]), "flat as manifests and their lots grow: {costs:?}");
    }

    async fn statement_lists_cost_the_same_statements_whatever_they_hold(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            crate::helpers::time_travel(s);
            s.server_timing = true;
        })
        .await;
        app.stand_at("2026-10-01T12:00:00+08:00");
        let p = park(&app, 1_000_000, 100).await;
        app.stand_at("2026-10-10T12:00:00+08:00");
        // October: two lots of A, five of B.
        for (enterprise, n) in [(&p.enterprise_a, 2), (&p.enterprise_b, 5)] {
            for _ in 0..n {
                let r = app.post_json("/api/v1/lots", Some(&p.office), &weighing(&p, enterprise, 10)).await;
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        }
        app.stand_at("2026-11-02T12:00:00+08:00");
        let office = crate::helpers::access_token(&app.login("office", crate::pickups::PASSWORD).await);
        let mut costs = Vec::new();
        for enterprise in [&p.enterprise_a, &p.enterprise_b] {
            let body = serde_json::json!({"enterprise_id": enterprise, "period": "2026-10"});
            let r = app.post_json("/api/v1/statements", Some(&office), &body).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let list = app.get("/api/v1/statements?limit=50", &office).await;
            assert_eq!(list.status(), StatusCode::OK);
            costs.push(statements(&list));
            let page: Value = list.json().await.unwrap();
            assert_eq!(page["items"].as_array().unwrap().len(), costs.len());
        }
        eprintln!("statements listed: {costs:?}");
        assert_eq!(costs[0], costs[1], "one statement or two, of two lots or five: the same queries");
    }

    async fn server_timing_is_off_by_default(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 50, 100).await;
        let r = app.post_json("/api/v1/lots", Some(&p.office), &weighing(&p, &p.enterprise_a, 10)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert!(r.headers().get("server-timing").is_none());
    }
}

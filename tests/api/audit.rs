//! The audit chain and the manifests' copies of record: every change appends a linked entry in
//! its own transaction; an entry altered or removed in the database is named by the verification
//! (over HTTP and on the command line); concurrent writers still make one unbroken chain; each
//! signed step of a manifest keeps its canonical JSON and hash, returned byte for byte later.
//!
//! That every state-changing endpoint leaves an entry is checked where every endpoint is called:
//! at the end of `examples.rs`, against the document's operations.

use std::process::Command;

use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;
use wastetrack::db::{Db, DbConn};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem};
use crate::manifests::{loaded, schedule, with_permit};
use crate::pickups::{PASSWORD, park, weigh, weighing};

/// Every entry of the chain the token may read, oldest first.
pub async fn entries(app: &TestApp, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit/entries?limit=200&cursor={c}"),
            None => "/api/v1/audit/entries?limit=200".to_owned(),
        };
        let r = app.get(&path, token).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let page: Value = r.json().await.unwrap();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    all.reverse();
    all
}

async fn verify(app: &TestApp, admin: &str) -> Value {
    let r = app.get("/api/v1/audit/verify", admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Runs SQL on the test's database behind the service's back, as someone with access to it.
fn tamper(app: &TestApp, sql: &str) {
    let db = Db::connect(app.database_url(), 1).unwrap();
    let mut conn = db.get().unwrap();
    match &mut *conn {
        DbConn::Pg(c) => diesel::sql_query(sql).execute(c),
        DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c),
    }
    .unwrap();
}

/// `wastetrack audit verify` on the test's database: its exit status and output.
fn verify_on_the_command_line(app: &TestApp) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wastetrack"))
        .env_clear()
        .env("WASTETRACK_DATABASE_URL", app.database_url())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

backend_tests! {
    async fn changes_are_chained_read_by_scope_and_a_broken_link_is_named(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let bureau = app.create_bureau(&p.admin, "Longgang bureau", "4403").await;
        let elsewhere = app.create_bureau(&p.admin, "Guangzhou bureau", "4401").await;
        let inspector_id = app.create_user(&p.admin, &bureau, "inspector", "inspector", PASSWORD).await;
        app.create_user(&p.admin, &elsewhere, "inspector2", "inspector", PASSWORD).await;
        let inspector = access_token(&app.login("inspector", PASSWORD).await);
        let inspector2 = access_token(&app.login("inspector2", PASSWORD).await);
        let r = app.post_json("/api/v1/auth/login", None, &json!({"username": "inspector", "password": "wrong password"})).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let lot = weigh(&app, &p, &p.enterprise_a, 100).await;
        let lot_id = lot["id"].as_str().unwrap();
        let r = app.post_json(&format!("/api/v1/lots/{lot_id}/void"), Some(&p.office), &json!({"reason": "weighed twice"})).await;
        assert_eq!(r.status(), StatusCode::OK);

        // Every entry, in order, linked to the one before.
        let all = entries(&app, &p.admin).await;
        let mut prev = "0".repeat(64);
        for (i, e) in all.iter().enumerate() {
            assert_eq!(e["seq"], i as i64 + 1);
            assert_eq!(e["prev_hash"], prev.as_str());
            prev = e["hash"].as_str().unwrap().to_owned();
        }
        // The weighing: who, what, where, the request, the object created.
        let weighed = all.iter().find(|e| e["action"] == "POST /api/v1/lots").unwrap();
        assert_eq!(weighed["object"], format!("/api/v1/lots/{lot_id}"));
        assert_eq!(weighed["role"], "park_office");
        assert_eq!(weighed["organization_id"], p.park.as_str());
        assert_eq!(weighed["park_id"], p.park.as_str());
        assert_eq!(weighed["summary"]["request"]["enterprise_id"], p.enterprise_a.as_str());
        assert!(weighed["request_id"].as_str().is_some_and(|id| !id.is_empty()));
        let voided = all.iter().find(|e| e["action"] == "POST /api/v1/lots/{id}/void").unwrap();
        assert_eq!(voided["summary"]["request"]["reason"], "weighed twice");
        // Logins, failed ones too; never a password.
        let logins: Vec<&Value> = all.iter().filter(|e| e["action"] == "POST /api/v1/auth/login").collect();
        let successes = logins.iter()
            .filter(|e| e["summary"]["change"]["event"] == "login" && e["user_id"] == inspector_id.as_str())
            .inspect(|e| assert_eq!(e["role"], "inspector"))
            .count();
        let attempts = logins.iter().filter(|e| e["object"] == "/api/v1/auth/login/inspector").count();
        assert_eq!(attempts, successes + 1, "the failed attempt is kept");
        assert!(logins.iter().all(|e| e["summary"]["request"]["password"] == "(withheld)"));
        assert!(!serde_json::to_string(&all).unwrap().contains(PASSWORD));
        // Users made by the administrator.
        assert!(all.iter().any(|e| e["action"] == "POST /api/v1/users" && e["role"] == "platform_admin"));

        // The park office reads its park's entries; the inspector of its region too; others none.
        let office = entries(&app, &p.office).await;
        assert!(!office.is_empty() && office.iter().all(|e| e["park_id"] == p.park.as_str()));
        assert!(office.iter().any(|e| e["action"] == "POST /api/v1/lots/{id}/void"));
        let inspected = entries(&app, &inspector).await;
        assert_eq!(inspected.len(), office.len());
        assert!(entries(&app, &inspector2).await.is_empty());
        for token in [&p.producer_a, &p.dispatcher, &p.driver] {
            let r = app.get("/api/v1/audit/entries", token).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        for token in [&p.office, &inspector] {
            let r = app.get("/api/v1/audit/verify", token).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }

        // Intact.
        let report = verify(&app, &p.admin).await;
        assert_eq!(report["intact"], true, "{report}");
        assert_eq!(report["first_seq"], 1);
        assert_eq!(report["anchor"], "0".repeat(64));
        let head = report["head_seq"].as_i64().unwrap();
        assert!(head >= all.len() as i64);
        let (ok, out) = verify_on_the_command_line(&app);
        assert!(ok, "{out}");

        // Someone with access to the database rewrites what the office did: the entry is named.
        let void_seq = voided["seq"].as_i64().unwrap();
        tamper(&app, &format!("UPDATE audit_entries SET summary = '{{\"request\":{{\"reason\":\"never happened\"}}}}' WHERE seq = {void_seq}"));
        let report = verify(&app, &p.admin).await;
        assert_eq!(report["intact"], false);
        assert_eq!(report["first_broken"], json!({"seq": void_seq, "reason": "altered"}), "{report}");
        let (ok, out) = verify_on_the_command_line(&app);
        assert!(!ok, "{out}");
        assert!(out.contains(&format!("entry {void_seq}")), "{out}");

        // Covering it up by rehashing the entry breaks the next link instead.
        tamper(&app, &format!("UPDATE audit_entries SET summary = (SELECT summary FROM audit_entries WHERE seq = 1), \
            hash = (SELECT hash FROM audit_entries WHERE seq = 1) WHERE seq = {void_seq}"));
        let report = verify(&app, &p.admin).await;
        assert_eq!(report["intact"], false);
        let broken = &report["first_broken"];
        assert!(broken["seq"] == void_seq || broken["seq"] == void_seq + 1, "{report}");

        // An entry removed: the gap is named.
        let first = all[2]["seq"].as_i64().unwrap();
        tamper(&app, &format!("DELETE FROM audit_entries WHERE seq = {first}"));
        let report = verify(&app, &p.admin).await;
        assert_eq!(report["first_broken"], json!({"seq": first + 1, "reason": "missing"}), "{report}");
    }

    async fn concurrent_writers_make_one_unbroken_chain(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5_000, 100).await;
        let before = verify(&app, &p.admin).await["head_seq"].as_i64().unwrap();
        // Weighings from two enterprises and other writes, all at once.
        let writers = 24;
        let requests = (0..writers).map(|i| {
            let (app, p) = (&app, &p);
            async move {
                let enterprise = if i % 2 == 0 { &p.enterprise_a } else { &p.enterprise_b };
                if i % 3 == 0 {
                    app.post_json("/api/v1/enterprises", Some(&p.office),
                        &json!({"park_id": p.park, "name": format!("Concurrent Co. {i}"), "uscc": crate::helpers::next_uscc(),
                            "contact_name": "Chen Jie", "contact_phone": "13800138000", "joined_on": "2020-01-01"})).await
                } else {
                    app.post_json("/api/v1/lots", Some(&p.office), &weighing(p, enterprise, 10 + i)).await
                }
            }
        });
        let answers = futures_util::future::join_all(requests).await;
        let accepted = answers.iter().filter(|r| r.status().is_success()).count() as i64;
        assert!(accepted >= writers - 2, "{:?}", answers.iter().map(|r| r.status()).collect::<Vec<_>>());
        let report = verify(&app, &p.admin).await;
        assert_eq!(report["intact"], true, "{report}");
        assert_eq!(report["head_seq"].as_i64().unwrap(), before + accepted, "one entry per accepted write: {report}");
        let all = entries(&app, &p.admin).await;
        assert_eq!(all.len() as i64, before + accepted);
        for pair in all.windows(2) {
            assert_eq!(pair[1]["seq"].as_i64(), pair[0]["seq"].as_i64().map(|s| s + 1));
            assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        }
    }

    async fn each_signed_step_keeps_its_copy_of_record(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        weigh(&app, &p, &p.enterprise_a, 300).await;
        let lot = weigh(&app, &p, &p.enterprise_b, 250).await;
        let request = lot["pickup_request_id"].as_str().unwrap().to_owned();
        schedule(&app, &p, &request).await;
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/collect"), Some(&p.driver), &loaded(&app, &p, &request, 540).await).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let collection: Value = r.json().await.unwrap();
        let id = collection["manifests"][0]["id"].as_str().unwrap().to_owned();
        let step = |s: &str| format!("/api/v1/manifests/{id}/{s}");
        let r = app.post_json(&step("confirm"), Some(&p.office), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = app.post_json(&step("take-over"), Some(&p.driver), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let taken: Value = r.json().await.unwrap();
        let signatures = taken["signatures"].as_array().unwrap();
        assert_eq!(signatures.len(), 2);
        let signed = signatures[1]["document_sha256"].as_str().unwrap().to_owned();
        assert_ne!(signatures[0]["document_sha256"].as_str(), Some(signed.as_str()));

        // The copy of record of version 1: the manifest as the driver signed it, byte for byte,
        // its hash in the headers, with the signature and in the audit chain.
        let r = app.get(&step("versions/1"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let digest = r.headers()["repr-digest"].to_str().unwrap().to_owned();
        let body = r.bytes().await.unwrap();
        assert_eq!(sha256_hex(&body), signed);
        assert_eq!(etag, format!("\"{signed}\""));
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(digest.strip_prefix("sha-256=:").and_then(|d| d.strip_suffix(':')).unwrap())
            .unwrap();
        assert_eq!(raw.iter().map(|b| format!("{b:02x}")).collect::<String>(), signed);
        let document: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(document["status"], "in_transit");
        assert_eq!(document["id"], id.as_str());
        assert_eq!(document["signatures"][1]["step"], "take_over");
        // Read again later: the same bytes.
        let again = app.get(&step("versions/1"), &p.dispatcher).await.bytes().await.unwrap();
        assert_eq!(again, body);
        let listed: Value = app.get(&step("versions"), &p.office).await.json().await.unwrap();
        assert_eq!(listed[0]["sha256"], signed.as_str());
        let all = entries(&app, &p.admin).await;
        let entry = all.iter().find(|e| e["action"] == "POST /api/v1/manifests/{id}/take-over").unwrap();
        assert_eq!(entry["summary"]["change"]["document_sha256"], signed.as_str());
        assert_eq!(entry["object"], format!("/api/v1/manifests/{id}"));
        assert_eq!(entry["park_id"], p.park.as_str());
        assert_eq!(entry["role"], "driver");

        // Every copy, numbered from the issue on: each signature's hash is one of them, and each
        // answers with the bytes its hash was taken of.
        let mut copies = Vec::new();
        for seq in 1.. {
            let r = app.get(&step(&format!("records/{seq}")), &p.office).await;
            if r.status() == StatusCode::NOT_FOUND {
                break;
            }
            assert_eq!(r.status(), StatusCode::OK);
            let etag = r.headers()["etag"].to_str().unwrap().trim_matches('"').to_owned();
            assert_eq!(sha256_hex(&r.bytes().await.unwrap()), etag);
            copies.push(etag);
        }
        assert_eq!(copies.len(), 3, "the issue, the confirmation, the take-over");
        for s in signatures {
            assert!(copies.contains(&s["document_sha256"].as_str().unwrap().to_owned()));
        }
        assert_eq!(copies.last(), Some(&signed));

        // A revision adds a version; the one it replaces is kept as it stood, not rewritten.
        let r = app.post_json(&step("revisions"), Some(&p.driver), &json!({"reason": "ticket misread", "changes": {"outbound_grams": 545_000}})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let revision: Value = r.json().await.unwrap();
        let r = app.post_json(&step(&format!("revisions/{}/approve", revision["id"].as_str().unwrap())), Some(&p.office), &json!({})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "applied");
        let first: Value = serde_json::from_slice(&app.get(&step("versions/1"), &p.office).await.bytes().await.unwrap()).unwrap();
        assert_eq!(first["mass_balance"]["outbound_grams"], 540_000);
        assert_eq!(first["version"], 1);
        let second = app.get(&step("versions/2"), &p.office).await;
        assert_eq!(second.status(), StatusCode::OK);
        let second: Value = second.json().await.unwrap();
        assert_eq!(second["mass_balance"]["outbound_grams"], 545_000);

        // The whole copy is not for an enterprise, which sees only its own lots.
        let r = app.get(&step("versions/1"), &p.producer_a).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.get(&step("versions/1"), &p.outsider_user).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        for missing in ["versions/3", "versions/0", "versions/x"] {
            let r = app.get(&step(missing), &p.office).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        assert_eq!(verify(&app, &p.admin).await["intact"], true);
    }
}

//! Patrols: a finding recorded by the park office, answered by its enterprise with a photo
//! (read back byte for byte), closed and reopened; refused uploads (a type not accepted, a
//! body that lies about its type, too large, empty) that leave nothing stored; the isolation
//! of patrols, findings and photos between enterprises, parks and jurisdictions; an overdue
//! finding listed and told once from midnight in the park's time zone; feedback in the same
//! thread model.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields, time_travel};
use crate::pickups::{PASSWORD, Park, inbox, park};

/// 5 MiB: the largest photo.
const MAX_PHOTO: usize = 5 * 1024 * 1024;

/// `len` bytes that begin as a JPEG (`FF D8 FF E0`) and go on with varied bytes.
fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut x: u32 = 2_463_534_242;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x & 0xFF) as u8);
    }
    bytes.truncate(len);
    bytes
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend(jpeg(64).into_iter().skip(4));
    bytes
}

async fn upload(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(Method::POST, path, Some(token))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The inspectors of the park's county (Longgang, 440307) and of another city (Guangzhou,
/// 4401), and a second park in Guangzhou with its office.
struct Others {
    inspector: String,
    inspector_elsewhere: String,
    office_elsewhere: String,
}

async fn others(app: &TestApp, p: &Park) -> Others {
    let mut tokens = Vec::new();
    for (name, jurisdiction) in [("longgang", "440307"), ("guangzhou", "4401")] {
        let bureau = app
            .create_bureau(&p.admin, &format!("{name} bureau"), jurisdiction)
            .await;
        app.create_user(&p.admin, &bureau, name, "inspector", PASSWORD)
            .await;
        tokens.push(access_token(&app.login(name, PASSWORD).await));
    }
    let park2 = app.create_park(&p.admin, "Huangpu park", "440112").await;
    app.create_user(&p.admin, &park2, "office2", "park_office", PASSWORD)
        .await;
    let office_elsewhere = access_token(&app.login("office2", PASSWORD).await);
    let mut tokens = tokens.into_iter();
    Others {
        inspector: tokens.next().unwrap(),
        inspector_elsewhere: tokens.next().unwrap(),
        office_elsewhere,
    }
}

/// The office records a patrol of `enterprise` today with one finding due in `days` days;
/// returns the patrol.
async fn patrol(app: &TestApp, p: &Park, enterprise: &str, days: i64) -> Value {
    let body = json!({"enterprise_id": enterprise, "patrolled_on": app.day(0), "people": ["张伟", "李娜"],
        "checklist": [{"item": "危险废物贮存场所标识", "result": "not_ok"}, {"item": "台账记录", "result": "ok"}],
        "findings": [{"description": "废油桶未贴危险废物标签", "severity": "major", "deadline": app.day(days)}]});
    let r = app
        .post_json("/api/v1/patrols", Some(&p.office), &body)
        .await;
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let patrol: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{patrol}");
    assert_eq!(
        location.unwrap(),
        format!("/api/v1/patrols/{}", patrol["id"].as_str().unwrap())
    );
    patrol
}

fn first_finding(patrol: &Value) -> String {
    patrol["findings"][0]["id"].as_str().unwrap().to_owned()
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    let r = app.get(path, token).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = app.post_json(path, Some(token), &body).await;
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

backend_tests! {
    async fn a_finding_is_answered_with_a_photo_then_closed_and_reopened(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let patrol = patrol(&app, &p, &p.enterprise_a, 14).await;
        assert_eq!(patrol["park_id"], p.park.as_str());
        assert_eq!(patrol["enterprise_id"], p.enterprise_a.as_str());
        assert_eq!(patrol["people"], json!(["张伟", "李娜"]));
        assert_eq!(patrol["checklist"][0]["result"], "not_ok");
        assert_eq!(patrol["findings"][0]["status"], "open");
        assert_eq!(patrol["findings"][0]["deadline"], app.day(14));
        let finding = first_finding(&patrol);
        let path = format!("/api/v1/findings/{finding}");

        // The enterprise reads its patrol and the finding, and answers with a photo.
        let seen = get(&app, &format!("/api/v1/patrols/{}", patrol["id"].as_str().unwrap()), &p.producer_a).await;
        assert_eq!(seen["findings"][0]["id"], finding.as_str());
        let photo = jpeg(300_000);
        let r = upload(&app, &format!("{path}/photos"), &p.producer_a, "image/jpeg", photo.clone()).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let kept: Value = r.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/photos/{}", kept["id"].as_str().unwrap()));
        assert_eq!(kept["content_type"], "image/jpeg");
        assert_eq!(kept["byte_size"], 300_000);
        assert_eq!(kept["sha256"], wastetrack::domain::digest::sha256_hex(&photo));
        assert_eq!(kept["organization_id"], p.enterprise_a.as_str());
        let (status, answered) = post(&app, &format!("{path}/answer"), &p.producer_a,
            json!({"text": "已按 HJ 1276-2022 补贴标签，见照片"})).await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        assert_eq!(answered["status"], "answered");
        let kinds: Vec<&str> = answered["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "answer"]);
        assert_eq!(answered["photos"][0]["id"], kept["id"]);

        // The photo reads back byte for byte, as an image that cannot run anything.
        for token in [&p.office, &p.producer_a] {
            let r = app.get(&location, token).await;
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()["content-type"], "image/jpeg");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
            assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"), "{csp}");
            assert_eq!(r.bytes().await.unwrap().as_ref(), photo.as_slice());
        }
        // A PNG and a WebP are kept too, by the office.
        let r = upload(&app, &format!("{path}/photos"), &p.office, "image/png", png()).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let webp = [&b"RIFF\x24\0\0\0WEBPVP8 "[..], &jpeg(40)[4..]].concat();
        let r = upload(&app, &format!("{path}/photos"), &p.office, "image/webp", webp.clone()).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let kept_webp: Value = r.json().await.unwrap();
        let r = app.get(kept_webp["url"].as_str().unwrap(), &p.producer_a).await;
        assert_eq!(r.headers()["content-type"], "image/webp");
        assert_eq!(r.bytes().await.unwrap().as_ref(), webp.as_slice());

        // Only the office closes; closed, it takes no answer, photo or second closing.
        let r = app.post_json(&format!("{path}/close"), Some(&p.producer_a), &json!({})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let (status, closed) = post(&app, &format!("{path}/close"), &p.office, json!({"note": "现场复查已整改"})).await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        assert_eq!(closed["status"], "closed");
        assert!(closed["closed_at"].is_string());
        let r = app.post_json(&format!("{path}/close"), Some(&p.office), &json!({})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = app.post_json(&format!("{path}/answer"), Some(&p.producer_a), &json!({"text": "again"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = upload(&app, &format!("{path}/photos"), &p.producer_a, "image/jpeg", jpeg(100)).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;

        // Reopened: open again, answerable again; an open finding is not reopened.
        let r = app.post_json(&format!("{path}/reopen"), Some(&p.producer_a), &json!({"reason": "no"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let (status, reopened) = post(&app, &format!("{path}/reopen"), &p.office, json!({"reason": "标签信息不全"})).await;
        assert_eq!(status, StatusCode::OK, "{reopened}");
        assert_eq!(reopened["status"], "open");
        assert!(reopened.get("closed_at").is_none());
        let kinds: Vec<&str> = reopened["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "answer", "closed", "reopened"]);
        assert_eq!(reopened["messages"][3]["text"], "标签信息不全");
        let r = app.post_json(&format!("{path}/reopen"), Some(&p.office), &json!({"reason": "again"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let (status, _) = post(&app, &format!("{path}/answer"), &p.producer_a, json!({"text": "补齐废物代码"})).await;
        assert_eq!(status, StatusCode::OK);

        // Each change of state is in the audit chain, the photo under its own URL.
        let entries = crate::audit::entries(&app, &p.admin).await;
        let photo_entry = entries.iter().find(|e| e["action"] == "POST /api/v1/findings/{id}/photos").unwrap();
        assert_eq!(photo_entry["object"], location.as_str());
        assert_eq!(photo_entry["summary"]["change"]["sha256"], kept["sha256"]);
        for action in ["POST /api/v1/patrols", "POST /api/v1/findings/{id}/answer",
                       "POST /api/v1/findings/{id}/close", "POST /api/v1/findings/{id}/reopen"] {
            assert!(entries.iter().any(|e| e["action"] == action), "{action}");
        }

        // A warehouse's finding concerns no enterprise: the office, which runs it, answers.
        let body = json!({"warehouse_id": p.warehouse, "patrolled_on": app.day(0), "people": ["王芳"],
            "findings": [{"description": "应急物资不足", "deadline": app.day(7)}]});
        let (status, at_warehouse) = post(&app, "/api/v1/patrols", &p.office, body).await;
        assert_eq!(status, StatusCode::CREATED, "{at_warehouse}");
        assert!(at_warehouse.get("enterprise_id").is_none());
        let finding = first_finding(&at_warehouse);
        let r = app.get(&format!("/api/v1/findings/{finding}"), &p.producer_a).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let (status, _) = post(&app, &format!("/api/v1/findings/{finding}/answer"), &p.office, json!({"text": "已补充"})).await;
        assert_eq!(status, StatusCode::OK);

        // What a patrol must say.
        let refused = [
            (json!({"enterprise_id": p.enterprise_a, "warehouse_id": p.warehouse, "patrolled_on": app.day(0), "people": ["A"]}), "warehouse_id"),
            (json!({"patrolled_on": app.day(0), "people": ["A"]}), "enterprise_id"),
            (json!({"enterprise_id": p.enterprise_a, "patrolled_on": app.day(0), "people": []}), "people"),
            (json!({"enterprise_id": p.enterprise_a, "patrolled_on": app.day(1), "people": ["A"]}), "patrolled_on"),
            (json!({"enterprise_id": p.enterprise_a, "patrolled_on": app.day(0), "people": ["A"],
                "findings": [{"description": "x", "deadline": app.day(-1)}]}), "findings[0].deadline"),
        ];
        for (body, field) in refused {
            let r = app.post_json("/api/v1/patrols", Some(&p.office), &body).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), [field], "{body}");
        }
        let patrols = get(&app, "/api/v1/patrols", &p.office).await;
        assert_eq!(patrols["items"].as_array().unwrap().len(), 2, "nothing refused was kept");
    }

    async fn refused_uploads_leave_nothing_stored(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let finding = first_finding(&patrol(&app, &p, &p.enterprise_a, 14).await);
        let photos = format!("/api/v1/findings/{finding}/photos");
        let gif = b"GIF89a\x01\0\x01\0\0\0\0;".to_vec();
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
        let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
            ("image/gif", gif.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            ("image/svg+xml", svg.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            ("application/octet-stream", jpeg(100), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            // The header says PNG; the bytes are a JPEG, a GIF, an SVG.
            ("image/png", jpeg(100), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            ("image/png", gif, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            ("image/png", svg, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            ("image/jpeg", jpeg(MAX_PHOTO + 1), StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
            ("image/jpeg", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        ];
        for (content_type, body, status, slug) in cases {
            let len = body.len();
            let r = upload(&app, &photos, &p.producer_a, content_type, body).await;
            assert_eq!(r.status(), status, "{content_type}, {len} bytes");
            let problem = assert_problem(r, status, slug).await;
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                assert_eq!(error_fields(&problem), ["body"]);
            }
        }
        // Too large without a declared length (chunked): refused as it grows.
        let chunks = futures_util::stream::iter(
            (0..6).map(|_| Ok::<_, std::io::Error>(jpeg(1024 * 1024))),
        );
        let r = app.request(Method::POST, &photos, Some(&p.producer_a))
            .header("content-type", "image/jpeg")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await;
        if let Ok(r) = r {
            assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        }
        // Those who may read but not write, and those who may not read.
        let r = upload(&app, &photos, &o.inspector, "image/jpeg", jpeg(100)).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        for token in [&p.producer_b, &p.outsider_user, &o.office_elsewhere, &o.inspector_elsewhere, &p.dispatcher] {
            let r = upload(&app, &photos, token, "image/jpeg", jpeg(100)).await;
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        let kept = get(&app, &format!("/api/v1/findings/{finding}"), &p.office).await;
        assert!(kept["photos"].as_array().unwrap().is_empty(), "{kept}");
        // Exactly the limit is kept.
        let r = upload(&app, &photos, &p.producer_a, "image/jpeg", jpeg(MAX_PHOTO)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let kept = get(&app, &format!("/api/v1/findings/{finding}"), &p.office).await;
        assert_eq!(kept["photos"].as_array().unwrap().len(), 1);
        assert_eq!(kept["photos"][0]["byte_size"], MAX_PHOTO);
    }

    async fn patrols_findings_and_photos_are_isolated_between_tenants(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let patrol_a = patrol(&app, &p, &p.enterprise_a, 14).await;
        let patrol_path = format!("/api/v1/patrols/{}", patrol_a["id"].as_str().unwrap());
        let finding = first_finding(&patrol_a);
        let finding_path = format!("/api/v1/findings/{finding}");
        let r = upload(&app, &format!("{finding_path}/photos"), &p.office, "image/jpeg", jpeg(1000)).await;
        let photo_path = r.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
        // B's own patrol, for the lists.
        patrol(&app, &p, &p.enterprise_b, 14).await;

        // Readers: the office, the enterprise, the inspector of the park's county.
        for token in [&p.office, &p.producer_a, &o.inspector] {
            for path in [&patrol_path, &finding_path, &photo_path] {
                assert_eq!(app.get(path, token).await.status(), StatusCode::OK, "{path}");
            }
        }
        // Another enterprise of the park, one outside the contract, another park's office,
        // an inspector elsewhere, a disposer: as if nothing were there.
        for token in [&p.producer_b, &p.outsider_user, &o.office_elsewhere, &o.inspector_elsewhere, &p.dispatcher, &p.driver] {
            for path in [&patrol_path, &finding_path, &photo_path] {
                let r = app.get(path, token).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            }
            for (path, body) in [(format!("{finding_path}/answer"), json!({"text": "t"})),
                                 (format!("{finding_path}/close"), json!({})),
                                 (format!("{finding_path}/reopen"), json!({"reason": "r"}))] {
                let r = app.post_json(&path, Some(token), &body).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            }
        }
        // The inspector reads and never writes.
        for (path, body) in [(format!("{finding_path}/answer"), json!({"text": "t"})),
                             (format!("{finding_path}/close"), json!({}))] {
            let r = app.post_json(&path, Some(&o.inspector), &body).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }
        // Patrols are recorded by the office of the enterprise's own park only.
        let body = json!({"enterprise_id": p.enterprise_a, "patrolled_on": app.day(0), "people": ["A"]});
        for (token, status) in [(&p.producer_a, StatusCode::FORBIDDEN), (&o.inspector, StatusCode::FORBIDDEN),
                                (&p.producer_b, StatusCode::NOT_FOUND), (&o.office_elsewhere, StatusCode::NOT_FOUND)] {
            let r = app.post_json("/api/v1/patrols", Some(token), &body).await;
            assert_eq!(r.status(), status);
        }
        // Lists: each its own.
        let count = |v: &Value| v["items"].as_array().unwrap().len();
        assert_eq!(count(&get(&app, "/api/v1/patrols", &p.office).await), 2);
        assert_eq!(count(&get(&app, "/api/v1/patrols", &o.inspector).await), 2);
        let own = get(&app, "/api/v1/patrols", &p.producer_a).await;
        assert_eq!(count(&own), 1);
        assert_eq!(own["items"][0]["id"], patrol_a["id"]);
        assert_eq!(count(&get(&app, "/api/v1/patrols", &p.outsider_user).await), 0);
        assert_eq!(count(&get(&app, "/api/v1/patrols", &o.office_elsewhere).await), 0);
        assert_eq!(count(&get(&app, "/api/v1/patrols", &o.inspector_elsewhere).await), 0);
        let r = app.get("/api/v1/patrols", &p.dispatcher).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    }

    async fn an_overdue_finding_is_listed_and_told_once_from_midnight_in_the_park(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2026-11-20T10:00:00+08:00");
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let body = json!({"enterprise_id": p.enterprise_a, "patrolled_on": "2026-11-20", "people": ["张伟"],
            "findings": [{"description": "标签缺失", "deadline": "2026-11-30"},
                         {"description": "台账不全", "deadline": "2026-12-05"},
                         {"description": "分类混放", "deadline": "2026-11-30"}]});
        let (status, patrol) = post(&app, "/api/v1/patrols", &p.office, body).await;
        assert_eq!(status, StatusCode::CREATED, "{patrol}");
        let id = |i: usize| patrol["findings"][i]["id"].as_str().unwrap().to_owned();
        let (due, later, closed) = (id(0), id(1), id(2));
        // Answered is not rectified yet; closed is.
        let (status, _) = post(&app, &format!("/api/v1/findings/{due}/answer"), &p.producer_a, json!({"text": "整改中"})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = post(&app, &format!("/api/v1/findings/{closed}/close"), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::OK);

        let db = wastetrack::db::Db::connect(app.database_url(), 1).unwrap();
        let mut conn = db.get().unwrap();
        let anomalies = |token: &str| {
            let token = token.to_owned();
            let app = &app;
            async move {
                let page = get(app, "/api/v1/anomalies?kind=finding_overdue", &token).await;
                page["items"].as_array().unwrap().clone()
            }
        };
        let told = |token: &str| {
            let token = token.to_owned();
            let app = &app;
            async move { inbox(app, &token, "?type=finding.overdue").await }
        };

        // The deadline's last second in Shanghai (15:59:59 UTC): not overdue yet.
        app.stand_at("2026-11-30T23:59:59+08:00");
        assert!(anomalies(&p.office).await.is_empty());
        assert_eq!(wastetrack::patrols::service::tell_overdue(&mut conn, app.now()).unwrap(), 0);
        assert_eq!(get(&app, &format!("/api/v1/findings/{due}"), &p.office).await["overdue"], false);

        // Midnight in Shanghai, still the 30th in UTC: overdue.
        app.stand_at("2026-12-01T00:00:00+08:00");
        for token in [&p.office, &o.inspector] {
            let found = anomalies(token).await;
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0]["subject_id"], due.as_str());
            assert_eq!(found[0]["kind"], "finding_overdue");
            assert_eq!(found[0]["enterprise_id"], p.enterprise_a.as_str());
            assert_eq!(found[0]["park_id"], p.park.as_str());
            assert_eq!(found[0]["since"], "2026-12-01");
            assert_eq!(found[0]["detail"]["deadline"], "2026-11-30");
            assert_eq!(found[0]["detail"]["status"], "answered");
        }
        for token in [&o.inspector_elsewhere, &o.office_elsewhere] {
            assert!(anomalies(token).await.is_empty());
        }
        let r = app.get("/api/v1/anomalies?kind=finding_overdue", &p.producer_a).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(get(&app, &format!("/api/v1/findings/{due}"), &p.producer_a).await["overdue"], true);
        assert_eq!(get(&app, &format!("/api/v1/findings/{later}"), &p.producer_a).await["overdue"], false);

        // Told once, to the office and the enterprise.
        assert_eq!(wastetrack::patrols::service::tell_overdue(&mut conn, app.now()).unwrap(), 1);
        assert_eq!(wastetrack::patrols::service::tell_overdue(&mut conn, app.now()).unwrap(), 0);
        app.advance(chrono::Duration::days(1));
        assert_eq!(wastetrack::patrols::service::tell_overdue(&mut conn, app.now()).unwrap(), 0);
        for token in [&p.office, &p.producer_a] {
            let messages = told(token).await;
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert_eq!(messages[0]["subject_id"], due.as_str());
            assert_eq!(messages[0]["type"], "finding.overdue");
        }
        for token in [&p.producer_b, &o.office_elsewhere] {
            assert!(told(token).await.is_empty());
        }
        // Closed, it leaves the list.
        let (status, _) = post(&app, &format!("/api/v1/findings/{due}/close"), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert!(anomalies(&p.office).await.is_empty());
    }

    async fn feedback_goes_through_a_thread_with_photos(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let r = app.post_json("/api/v1/feedback", Some(&p.office), &json!({"subject": "s", "text": "t"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let (status, opened) = post(&app, "/api/v1/feedback", &p.producer_a,
            json!({"subject": "危险废物收运时间", "text": "本月废油桶较多，能否提前安排收运？"})).await;
        assert_eq!(status, StatusCode::CREATED, "{opened}");
        assert_eq!(opened["kind"], "feedback");
        assert_eq!(opened["status"], "open");
        assert_eq!(opened["park_id"], p.park.as_str());
        assert_eq!(opened["enterprise_id"], p.enterprise_a.as_str());
        let path = format!("/api/v1/feedback/{}", opened["id"].as_str().unwrap());

        let listed = get(&app, "/api/v1/feedback", &p.office).await;
        assert_eq!(listed["items"][0]["id"], opened["id"]);
        assert!(get(&app, "/api/v1/feedback", &p.producer_b).await["items"].as_array().unwrap().is_empty());
        assert!(get(&app, "/api/v1/feedback", &o.office_elsewhere).await["items"].as_array().unwrap().is_empty());

        let (status, answered) = post(&app, &format!("{path}/messages"), &p.office, json!({"text": "下周二安排收运"})).await;
        assert_eq!(status, StatusCode::OK, "{answered}");
        assert_eq!(answered["status"], "answered");
        let (status, again) = post(&app, &format!("{path}/messages"), &p.producer_a, json!({"text": "好的，谢谢"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["status"], "open");
        let r = upload(&app, &format!("{path}/photos"), &p.producer_a, "image/png", png()).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let photo: Value = r.json().await.unwrap();
        let photo_path = photo["url"].as_str().unwrap().to_owned();
        let r = app.get(&photo_path, &p.office).await;
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.bytes().await.unwrap().as_ref(), png().as_slice());

        // The inspector reads; others get nothing.
        get(&app, &path, &o.inspector).await;
        let r = app.post_json(&format!("{path}/messages"), Some(&o.inspector), &json!({"text": "t"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        for token in [&p.producer_b, &o.office_elsewhere, &o.inspector_elsewhere] {
            for target in [&path, &photo_path] {
                let r = app.get(target, token).await;
                assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
            }
        }
        // A finding's id is not feedback, and feedback's is not a finding.
        let r = app.get(&format!("/api/v1/findings/{}", opened["id"].as_str().unwrap()), &p.office).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // The office closes it; then nobody writes in it.
        let r = app.post_json(&format!("{path}/close"), Some(&p.producer_a), &json!({})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let (status, closed) = post(&app, &format!("{path}/close"), &p.office, json!({"note": "已安排"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(closed["status"], "closed");
        let kinds: Vec<&str> = closed["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["opened", "message", "message", "closed"]);
        let r = app.post_json(&format!("{path}/messages"), Some(&p.producer_a), &json!({"text": "t"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = upload(&app, &format!("{path}/photos"), &p.producer_a, "image/png", png()).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;

        let closed_list = get(&app, "/api/v1/feedback?status=closed", &p.producer_a).await;
        assert_eq!(closed_list["items"].as_array().unwrap().len(), 1);
        assert!(get(&app, "/api/v1/feedback?status=open", &p.producer_a).await["items"].as_array().unwrap().is_empty());
        let r = app.get("/api/v1/feedback?status=pending", &p.office).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["status"]);
    }

    async fn patrols_are_listed_by_enterprise_warehouse_and_day(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Early morning of the 30th in Shanghai: still the 29th in UTC.
        app.stand_at("2026-11-30T06:00:00+08:00");
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let mut ids = Vec::new();
        for (target, id, day) in [("enterprise_id", &p.enterprise_a, "2026-11-20"), ("warehouse_id", &p.warehouse, "2026-11-25"),
                                  ("enterprise_id", &p.enterprise_b, "2026-11-30"), ("enterprise_id", &p.enterprise_a, "2026-11-30")] {
            let body = json!({target: id, "patrolled_on": day, "people": ["张伟"]});
            let (status, patrol) = post(&app, "/api/v1/patrols", &p.office, body).await;
            assert_eq!(status, StatusCode::CREATED, "{patrol}");
            ids.push(patrol["id"].as_str().unwrap().to_owned());
        }
        let listed = |v: Value| -> Vec<String> {
            v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
        };
        let ea = p.enterprise_a.clone();
        let wh = p.warehouse.clone();
        let cases: Vec<(String, Vec<&String>)> = vec![
            (format!("enterprise_id={ea}"), vec![&ids[0], &ids[3]]),
            (format!("warehouse_id={wh}"), vec![&ids[1]]),
            ("from=2026-11-25&to=2026-11-25".to_owned(), vec![&ids[1]]),
            ("from=2026-11-21".to_owned(), vec![&ids[1], &ids[2], &ids[3]]),
            ("to=2026-11-25".to_owned(), vec![&ids[0], &ids[1]]),
            // The park's today, the 30th, is a day of patrols though UTC is still on the 29th.
            ("from=2026-11-30&to=2026-11-30".to_owned(), vec![&ids[2], &ids[3]]),
            (format!("enterprise_id={ea}&from=2026-11-21"), vec![&ids[3]]),
            (format!("enterprise_id={ea}&warehouse_id={wh}"), vec![]),
            ("from=2026-12-01".to_owned(), vec![]),
        ];
        for (query, expected) in &cases {
            let found = listed(get(&app, &format!("/api/v1/patrols?{query}"), &p.office).await);
            assert_eq!(&found.iter().collect::<Vec<_>>(), expected, "{query}");
            // The inspector of the park's county reads the same.
            let found = listed(get(&app, &format!("/api/v1/patrols?{query}"), &o.inspector).await);
            assert_eq!(&found.iter().collect::<Vec<_>>(), expected, "{query}");
        }
        // Paged with the filter kept.
        let first = get(&app, "/api/v1/patrols?from=2026-11-21&limit=2", &p.office).await;
        assert_eq!(listed(first.clone()), [ids[1].clone(), ids[2].clone()]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = get(&app, &format!("/api/v1/patrols?from=2026-11-21&limit=2&cursor={cursor}"), &p.office).await;
        assert_eq!(listed(second.clone()), [ids[3].clone()]);
        assert!(second["next_cursor"].is_null());

        // Another park's office, an inspector elsewhere: nothing, whatever the filter; an
        // enterprise sees only its own patrols even when it names another.
        for token in [&o.office_elsewhere, &o.inspector_elsewhere] {
            for query in [format!("enterprise_id={ea}"), format!("warehouse_id={wh}"), "from=2026-11-01&to=2026-11-30".to_owned()] {
                assert!(listed(get(&app, &format!("/api/v1/patrols?{query}"), token).await).is_empty(), "{query}");
            }
        }
        assert!(listed(get(&app, &format!("/api/v1/patrols?enterprise_id={ea}"), &p.producer_b).await).is_empty());
        assert_eq!(listed(get(&app, "/api/v1/patrols?from=2026-11-30", &p.producer_b).await), [ids[2].clone()]);

        // Bad days are refused naming the field.
        for (query, field) in [("from=2026-13-01", "from"), ("to=30.11.2026", "to"), ("from=", "from"),
                               ("from=2026-11-30T00:00:00Z", "from"), ("from=2026-11-30&to=2026-11-29", "to")] {
            let r = app.get(&format!("/api/v1/patrols?{query}"), &p.office).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), [field], "{query}");
        }
    }

    async fn feedback_is_listed_by_status_page_by_page(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let mut ids = Vec::new();
        for (token, subject) in [(&p.producer_a, "一"), (&p.producer_a, "二"), (&p.producer_b, "三"), (&p.producer_a, "四")] {
            let (status, opened) = post(&app, "/api/v1/feedback", token, json!({"subject": subject, "text": "t"})).await;
            assert_eq!(status, StatusCode::CREATED, "{opened}");
            ids.push(opened["id"].as_str().unwrap().to_owned());
        }
        // The office answers the second and the third, and closes the fourth.
        for id in [&ids[1], &ids[2]] {
            let (status, _) = post(&app, &format!("/api/v1/feedback/{id}/messages"), &p.office, json!({"text": "好"})).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = post(&app, &format!("/api/v1/feedback/{}/close", ids[3]), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let listed = |v: &Value| -> Vec<String> {
            v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
        };
        for (token, status, expected) in [
            (&p.office, "open", vec![&ids[0]]),
            (&p.office, "answered", vec![&ids[1], &ids[2]]),
            (&p.office, "closed", vec![&ids[3]]),
            (&o.inspector, "answered", vec![&ids[1], &ids[2]]),
            (&p.producer_a, "answered", vec![&ids[1]]),
            (&p.producer_b, "answered", vec![&ids[2]]),
            (&p.producer_b, "closed", vec![]),
            (&o.office_elsewhere, "answered", vec![]),
            (&o.inspector_elsewhere, "open", vec![]),
        ] {
            let found = listed(&get(&app, &format!("/api/v1/feedback?status={status}"), token).await);
            assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{status}");
        }
        let first = get(&app, "/api/v1/feedback?status=answered&limit=1", &p.office).await;
        assert_eq!(listed(&first), [ids[1].clone()]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = get(&app, &format!("/api/v1/feedback?status=answered&limit=1&cursor={cursor}"), &p.office).await;
        assert_eq!(listed(&second), [ids[2].clone()]);
        assert!(second["next_cursor"].is_null());
        let r = app.get("/api/v1/feedback?status=", &p.office).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["status"]);
    }

    async fn each_side_is_told_once_of_findings_and_feedback(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.notify.webhook_allowed_hosts = "127.0.0.1".to_owned();
            s.notify.poll_interval_ms = 50;
        }).await;
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let receiver = crate::receiver::Receiver::start(200).await;
        let (_, secret) = crate::pickups::subscribe(&app, &p.producer_a, &receiver.url("/a"),
            &["finding.recorded", "finding.closed", "finding.reopened", "feedback.message"]).await;
        // Every type for each party, as (type, subject) pairs.
        let told = |token: String| {
            let app = &app;
            async move {
                inbox(app, &token, "").await.into_iter()
                    .filter(|m| m["type"].as_str().unwrap().starts_with("finding.") || m["type"].as_str().unwrap().starts_with("feedback."))
                    .map(|m| (m["type"].as_str().unwrap().to_owned(), m["subject_id"].as_str().unwrap().to_owned()))
                    .collect::<Vec<_>>()
            }
        };
        let pair = |t: &str, id: &str| (t.to_owned(), id.to_owned());

        let patrol_a = patrol(&app, &p, &p.enterprise_a, 14).await;
        let finding = first_finding(&patrol_a);
        // A warehouse's finding concerns no enterprise: nobody is told, and the office answering
        // it tells nobody either.
        let body = json!({"warehouse_id": p.warehouse, "patrolled_on": app.day(0), "people": ["王芳"],
            "findings": [{"description": "应急物资不足", "deadline": app.day(7)}]});
        let (status, at_warehouse) = post(&app, "/api/v1/patrols", &p.office, body).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = post(&app, &format!("/api/v1/findings/{}/answer", first_finding(&at_warehouse)), &p.office, json!({"text": "已补充"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(told(p.producer_a.clone()).await, [pair("finding.recorded", &finding)]);
        assert!(told(p.office.clone()).await.is_empty());

        let path = format!("/api/v1/findings/{finding}");
        let (status, _) = post(&app, &format!("{path}/answer"), &p.producer_a, json!({"text": "已补贴标签"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(told(p.office.clone()).await, [pair("finding.answered", &finding)]);
        let (status, _) = post(&app, &format!("{path}/close"), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = post(&app, &format!("{path}/reopen"), &p.office, json!({"reason": "标签信息不全"})).await;
        assert_eq!(status, StatusCode::OK);
        // A refused step (closing twice) tells nothing.
        let (status, _) = post(&app, &format!("{path}/close"), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = post(&app, &format!("{path}/close"), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);

        // Feedback: the office is told when the enterprise opens or writes, the enterprise when
        // the office answers; closing tells nobody.
        let (status, opened) = post(&app, "/api/v1/feedback", &p.producer_a, json!({"subject": "收运时间", "text": "能否提前？"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let fbk = opened["id"].as_str().unwrap().to_owned();
        for (token, text) in [(&p.office, "下周二"), (&p.producer_a, "好的")] {
            let (status, _) = post(&app, &format!("/api/v1/feedback/{fbk}/messages"), token, json!({"text": text})).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = post(&app, &format!("/api/v1/feedback/{fbk}/close"), &p.office, json!({})).await;
        assert_eq!(status, StatusCode::OK);

        let mut to_a = told(p.producer_a.clone()).await;
        to_a.sort();
        let mut expected = vec![pair("finding.recorded", &finding), pair("finding.closed", &finding), pair("finding.reopened", &finding),
                                pair("finding.closed", &finding), pair("feedback.message", &fbk)];
        expected.sort();
        assert_eq!(to_a, expected);
        let mut to_office = told(p.office.clone()).await;
        to_office.sort();
        let mut expected = vec![pair("finding.answered", &finding), pair("feedback.message", &fbk), pair("feedback.message", &fbk)];
        expected.sort();
        assert_eq!(to_office, expected);
        for token in [&p.producer_b, &o.office_elsewhere, &o.inspector, &p.dispatcher] {
            assert!(told(token.clone()).await.is_empty());
        }

        // The enterprise's webhook gets the same five, signed.
        receiver.wait_for(40, "five deliveries", |r| r.len() >= 5).await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let got = receiver.received();
        assert_eq!(got.len(), 5);
        got[0].verify(&secret).expect("the signature verifies");
        let recorded = got.iter().find(|g| g.type_() == "finding.recorded").unwrap();
        assert_eq!(recorded.json()["data"]["finding_id"], finding.as_str());
        assert_eq!(recorded.json()["data"]["patrol_id"], patrol_a["id"]);
        let types: Value = app.get("/api/v1/webhooks/types", &p.office).await.json().await.unwrap();
        for t in ["finding.recorded", "finding.answered", "finding.closed", "finding.reopened", "feedback.message"] {
            assert!(types["types"].as_array().unwrap().contains(&json!(t)), "{t}");
        }
    }

    async fn the_office_adds_findings_to_a_patrol(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 5000, 80).await;
        let o = others(&app, &p).await;
        let patrol = patrol(&app, &p, &p.enterprise_a, 14).await;
        let id = patrol["id"].as_str().unwrap();
        let path = format!("/api/v1/patrols/{id}/findings");
        let one = json!({"findings": [{"description": "应急池液位计损坏", "severity": "minor", "deadline": app.day(0)}]});

        // Readers who may not add: 403; others: 404; nothing added.
        for (token, status) in [(&p.producer_a, StatusCode::FORBIDDEN), (&o.inspector, StatusCode::FORBIDDEN),
                                (&p.producer_b, StatusCode::NOT_FOUND), (&o.office_elsewhere, StatusCode::NOT_FOUND),
                                (&o.inspector_elsewhere, StatusCode::NOT_FOUND), (&p.dispatcher, StatusCode::NOT_FOUND)] {
            let r = app.post_json(&path, Some(token), &one).await;
            assert_eq!(r.status(), status);
        }
        let r = app.post_json("/api/v1/patrols/pat_nosuch/findings", Some(&p.office), &one).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        // The bounds of a patrol's recording: 1 to 10, described, due not before its day.
        let long = "长".repeat(501);
        let eleven: Vec<Value> = (0..11).map(|i| json!({"description": format!("f{i}"), "deadline": app.day(1)})).collect();
        for (body, fields) in [
            (json!({"findings": []}), vec!["findings"]),
            (json!({"findings": eleven}), vec!["findings"]),
            (json!({"findings": [{"description": " ", "deadline": app.day(1)}, {"description": long, "deadline": app.day(1)}]}),
             vec!["findings[0].description", "findings[1].description"]),
            (json!({"findings": [{"description": "ok", "deadline": app.day(1)}, {"description": "late", "deadline": app.day(-1)}]}),
             vec!["findings[1].deadline"]),
        ] {
            let r = app.post_json(&path, Some(&p.office), &body).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), fields);
        }
        assert_eq!(get(&app, &format!("/api/v1/patrols/{id}"), &p.office).await["findings"].as_array().unwrap().len(), 1);
        assert!(told(&app, &p.producer_a).await.len() == 1, "only the first finding was told");

        // Added: the patrol with both findings, in order; the enterprise told of the new one.
        let r = app.post_json(&path, Some(&p.office), &one).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/api/v1/patrols/{id}"));
        let added: Value = r.json().await.unwrap();
        let findings = added["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0]["id"], patrol["findings"][0]["id"]);
        assert_eq!(findings[1]["description"], "应急池液位计损坏");
        assert_eq!(findings[1]["severity"], "minor");
        assert_eq!(findings[1]["deadline"], app.day(0));
        assert_eq!(findings[1]["status"], "open");
        let new_finding = findings[1]["id"].as_str().unwrap();
        let thread = get(&app, &format!("/api/v1/findings/{new_finding}"), &p.producer_a).await;
        assert_eq!(thread["patrol_id"], id);
        assert_eq!(thread["enterprise_id"], p.enterprise_a.as_str());
        let messages = told(&app, &p.producer_a).await;
        assert_eq!(messages.len(), 2);
        assert!(messages.iter().any(|m| m["subject_id"] == new_finding));
        assert!(told(&app, &p.producer_b).await.is_empty());
        let entries = crate::audit::entries(&app, &p.admin).await;
        let entry = entries.iter().find(|e| e["action"] == "POST /api/v1/patrols/{id}/findings").unwrap();
        assert_eq!(entry["object"], format!("/api/v1/patrols/{id}"));

        // At most 50 in all: 2 + 4 × 10 + 8 fit, one more does not.
        let ten = json!({"findings": (0..10).map(|i| json!({"description": format!("f{i}"), "deadline": app.day(1)})).collect::<Vec<_>>()});
        for _ in 0..4 {
            assert_eq!(app.post_json(&path, Some(&p.office), &ten).await.status(), StatusCode::CREATED);
        }
        let eight = json!({"findings": (0..8).map(|i| json!({"description": format!("g{i}"), "deadline": app.day(1)})).collect::<Vec<_>>()});
        assert_eq!(app.post_json(&path, Some(&p.office), &eight).await.status(), StatusCode::CREATED);
        let r = app.post_json(&path, Some(&p.office), &one).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        assert_eq!(get(&app, &format!("/api/v1/patrols/{id}"), &p.office).await["findings"].as_array().unwrap().len(), 50);
    }
}

async fn told(app: &TestApp, token: &str) -> Vec<Value> {
    inbox(app, token, "?type=finding.recorded").await
}

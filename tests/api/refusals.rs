//! Refusals traced to lots: the receiver names the lots it refuses (or a whole refusal refuses
//! them all, a partial refusal of one lot that lot), each enterprise sees its share, the
//! inspectors of both sides are told, the mass balance weighs the refused part, and the park
//! office resolves the case by returning or forwarding the refused lots under a new manifest
//! that follows the refused one.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};
use crate::manifests::{collect_request, loaded, manifest, schedule, with_permit};
use crate::pickups::{PASSWORD, Park, inbox, park, weigh};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Two enterprises' lots (A 300 kg, B 250 kg) collected on one manifest (the park's warehouse
/// consigns), 550 kg weighed out, confirmed and taken over. Returns the manifest's id and the
/// two lots' ids.
async fn in_transit(app: &TestApp, p: &Park) -> (String, String, String) {
    with_permit(app, p).await;
    let lot_a = id(&weigh(app, p, &p.enterprise_a, 300).await);
    let lot_b = weigh(app, p, &p.enterprise_b, 250).await;
    let collection = collect_request(app, p, &lot_b, 550).await;
    let manifests = collection["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1);
    let manifest = id(&manifests[0]);
    sign(app, &manifest, "confirm", &p.office).await;
    sign(app, &manifest, "take-over", &p.driver).await;
    (manifest, lot_a, id(&lot_b))
}

async fn sign(app: &TestApp, manifest: &str, step: &str, token: &str) -> Value {
    let r = app
        .post_json(
            &format!("/api/v1/manifests/{manifest}/{step}"),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{step}");
    r.json().await.unwrap()
}

async fn receive(app: &TestApp, p: &Park, manifest: &str, body: &Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/manifests/{manifest}/receive"),
        Some(&p.dispatcher),
        body,
    )
    .await
}

async fn resolve(app: &TestApp, p: &Park, manifest: &str, body: &Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/manifests/{manifest}/resolve"),
        Some(&p.office),
        body,
    )
    .await
}

/// An inspector of a new bureau whose jurisdiction is `prefix`.
async fn inspector(app: &TestApp, p: &Park, name: &str, prefix: &str) -> String {
    let bureau = app
        .create_bureau(&p.admin, &format!("Bureau {name}"), prefix)
        .await;
    app.create_user(&p.admin, &bureau, name, "inspector", PASSWORD)
        .await;
    access_token(&app.login(name, PASSWORD).await)
}

/// A disposal company licensed for `scope`, with a dispatcher named `user`.
async fn disposer(
    app: &TestApp,
    p: &Park,
    name: &str,
    scope: &str,
    user: &str,
) -> (String, String) {
    let org = app.create_disposer(&p.admin, name).await;
    let licence = json!({"number": format!("L-{name}"), "issuing_authority": "GDEE", "valid_from": app.day(-30), "valid_to": app.day(300),
        "annual_capacity_grams": 1_000_000_000i64, "scope": [scope]});
    app.created_id(
        &format!("/api/v1/disposers/{org}/licences"),
        &p.admin,
        &licence,
    )
    .await;
    app.create_user(&p.admin, &org, user, "disposer_dispatcher", PASSWORD)
        .await;
    (org, access_token(&app.login(user, PASSWORD).await))
}

fn shares(m: &Value) -> Vec<(String, i64)> {
    m["refusal"]["by_enterprise"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["enterprise_id"].as_str().unwrap().to_owned(),
                s["grams"].as_i64().unwrap(),
            )
        })
        .collect()
}

backend_tests! {
    async fn a_partial_refusal_names_its_lots_and_each_enterprise_sees_its_share(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        // The park is in 440307, the receiver registered in 440310.
        let departure = inspector(&app, &p, "departure", "440307").await;
        let receiving = inspector(&app, &p, "receiving", "440310").await;
        let unrelated = inspector(&app, &p, "unrelated", "4401").await;
        let (m, lot_a, lot_b) = in_transit(&app, &p).await;
        let stray = id(&weigh(&app, &p, &p.enterprise_a, 10).await);

        // Several lots: a partial refusal names them.
        let partial = |lots: Value| json!({"received_grams": 550_000, "decision": "partially_refused", "refused_grams": 80_000, "refused_lots": lots});
        let r = receive(&app, &p, &m, &json!({"received_grams": 550_000, "decision": "partially_refused", "refused_grams": 80_000})).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["refused_lots"]);
        assert_eq!(problem["errors"][0]["code"], "required");
        let r = receive(&app, &p, &m, &partial(json!([]))).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["refused_lots"]);
        // The lots' grams must add up to the refused grams.
        let r = receive(&app, &p, &m, &partial(json!([{"lot_id": lot_a, "grams": 50_000}, {"lot_id": lot_b, "grams": 20_000}]))).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["refused_lots"]);
        assert_eq!(problem["errors"][0]["code"], "sum_mismatch");
        // Each a lot of the manifest, once, at most its inbound grams.
        let r = receive(&app, &p, &m, &partial(json!([{"lot_id": lot_a, "grams": 50_000}, {"lot_id": stray, "grams": 30_000}]))).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["refused_lots[1].lot_id"]);
        assert_eq!(problem["errors"][0]["code"], "not_on_manifest");
        let r = receive(&app, &p, &m, &partial(json!([{"lot_id": lot_a, "grams": 50_000}, {"lot_id": lot_a, "grams": 30_000}]))).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["refused_lots[1].lot_id"]);
        assert_eq!(problem["errors"][0]["code"], "duplicate");
        let r = receive(&app, &p, &m, &partial(json!([{"lot_id": lot_b, "grams": 250_001}, {"lot_id": lot_a, "grams": 0}]))).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["refused_lots[0].grams", "refused_lots[1].grams"]);
        let r = receive(&app, &p, &m, &json!({"received_grams": 550_000, "decision": "accepted", "refused_lots": [{"lot_id": lot_a, "grams": 1}]})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["refused_lots"]);
        // A refused receipt changed nothing; nobody was told.
        assert_eq!(manifest(&app, &p.office, &m).await["status"], "in_transit");
        assert!(inbox(&app, &p.office, "?type=manifest.refused").await.is_empty());

        let r = receive(&app, &p, &m, &partial(json!([{"lot_id": lot_b, "grams": 30_000}, {"lot_id": lot_a, "grams": 50_000}]))).await;
        assert_eq!(r.status(), StatusCode::OK);
        let received: Value = r.json().await.unwrap();
        assert_eq!(received["case_status"], "open");
        let lots = received["refusal"]["lots"].as_array().unwrap();
        assert_eq!(lots.len(), 2);
        let of = |lot: &str| lots.iter().find(|l| l["lot_id"] == lot).unwrap().clone();
        assert_eq!((of(&lot_a)["grams"].as_i64(), of(&lot_a)["enterprise_id"].as_str()), (Some(50_000), Some(p.enterprise_a.as_str())));
        assert_eq!((of(&lot_b)["grams"].as_i64(), of(&lot_b)["enterprise_id"].as_str()), (Some(30_000), Some(p.enterprise_b.as_str())));
        let mut expected = vec![(p.enterprise_a.clone(), 50_000), (p.enterprise_b.clone(), 30_000)];
        expected.sort();
        assert_eq!(shares(&received), expected);
        let signed = received["signatures"].as_array().unwrap().iter().find(|s| s["step"] == "receive").unwrap().clone();
        assert_eq!(signed["data"]["refused_lots"].as_array().unwrap().len(), 2, "the receipt signs the refused lots");
        // The refused part arrived: the balance weighs it, nothing is lost.
        assert_eq!(received["mass_balance"]["refused_grams"], 80_000);
        assert_eq!(received["mass_balance"]["accepted_grams"], 470_000);
        assert_eq!(received["mass_balance"]["flagged"], false);

        // An enterprise sees its own refused lot and share, not the other's.
        let own = manifest(&app, &p.producer_a, &m).await;
        assert_eq!(own["refusal"]["lots"].as_array().unwrap().len(), 1);
        assert_eq!(own["refusal"]["lots"][0]["lot_id"], lot_a.as_str());
        assert_eq!(shares(&own), vec![(p.enterprise_a.clone(), 50_000)]);
        let versions: Value = app.get(&format!("/api/v1/manifests/{m}/versions"), &p.producer_b).await.json().await.unwrap();
        let latest = &versions.as_array().unwrap().last().unwrap()["data"];
        assert_eq!(shares(latest), vec![(p.enterprise_b.clone(), 30_000)], "nor in a version's copy");
        let told = inbox(&app, &p.producer_a, "?type=manifest.refused").await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0]["data"]["refused_lots"].as_array().unwrap().len(), 1, "its own lots only");
        assert_eq!(inbox(&app, &p.office, "?type=manifest.refused").await[0]["data"]["refused_lots"].as_array().unwrap().len(), 2);

        // The inspectors of both sides are told; another jurisdiction's are not.
        assert_eq!(inbox(&app, &departure, "?type=manifest.refused").await.len(), 1, "the park's side");
        assert_eq!(inbox(&app, &receiving, "?type=manifest.refused").await.len(), 1, "the receiving side");
        assert!(inbox(&app, &unrelated, "").await.is_empty(), "an unrelated region");

        // The refused grams are the lots': a revision does not change them.
        let r = app.post_json(&format!("/api/v1/manifests/{m}/revisions"), Some(&p.dispatcher),
            &json!({"reason": "misread", "changes": {"refused_grams": 70_000}})).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["code"], "refused_lots_recorded");
    }

    async fn a_whole_refusal_refuses_every_lot_and_a_single_lot_is_implied(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (m, lot_a, lot_b) = in_transit(&app, &p).await;
        // 540 kg arrive of the 550 kg weighed in: the lots' shares are scaled to it.
        let r = receive(&app, &p, &m, &json!({"received_grams": 540_000, "decision": "refused"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let refused: Value = r.json().await.unwrap();
        let lots = refused["refusal"]["lots"].as_array().unwrap();
        let grams = |lot: &str| lots.iter().find(|l| l["lot_id"] == lot).unwrap()["grams"].as_i64().unwrap();
        // 540 000 × 300/550 = 294 545.45…, × 250/550 = 245 454.54…: the larger remainder gets the gram.
        assert_eq!((grams(&lot_a), grams(&lot_b)), (294_545, 245_455));
        assert_eq!(refused["mass_balance"]["refused_grams"], 540_000);
        assert_eq!(refused["mass_balance"]["accepted_grams"], 0);
        assert_eq!(refused["mass_balance"]["flagged"], false, "a refusal is no loss");

        // A manifest of one lot: a partial refusal refuses that lot.
        let lot = weigh(&app, &p, &p.enterprise_a, 500).await;
        let request = lot["pickup_request_id"].as_str().expect("a request").to_owned();
        schedule(&app, &p, &request).await;
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/collect"), Some(&p.driver), &loaded(&app, &p, &request, 500).await).await;
        let collection: Value = r.json().await.unwrap();
        let single = id(&collection["manifests"][0]);
        sign(&app, &single, "confirm", &p.office).await;
        sign(&app, &single, "take-over", &p.driver).await;
        let r = receive(&app, &p, &single, &json!({"received_grams": 400_000, "decision": "partially_refused", "refused_grams": 100_000})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let received: Value = r.json().await.unwrap();
        assert_eq!(received["refusal"]["lots"], json!([{"lot_id": id(&lot), "enterprise_id": p.enterprise_a, "grams": 100_000}]));
        // 400 kg received of 500 kg sent, 100 kg of it refused: flagged, and the finding says so.
        assert_eq!(received["mass_balance"]["flagged"], true);
        let detail = received["mass_balance"]["detail"].as_str().unwrap();
        assert!(detail.contains("300000 g accepted + 100000 g refused"), "{detail}");
    }

    async fn the_park_office_forwards_refused_lots_under_a_new_manifest(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (m, lot_a, lot_b) = in_transit(&app, &p).await;
        let r = receive(&app, &p, &m, &json!({"received_grams": 550_000, "decision": "partially_refused", "refused_grams": 80_000,
            "refused_lots": [{"lot_id": lot_a, "grams": 50_000}, {"lot_id": lot_b, "grams": 30_000}]})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let (unlicensed, _) = disposer(&app, &p, "Rags", "HW49", "rags").await;
        let (other, other_dispatcher) = disposer(&app, &p, "Huizhou", "HW08", "huizhou").await;

        let forward = |to: &str| json!({"action": "forward", "receiver_id": to});
        let r = resolve(&app, &p, &m, &forward(&unlicensed)).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["receiver_id"]);
        assert_eq!(problem["errors"][0]["code"], "code_not_licensed");
        let r = resolve(&app, &p, &m, &forward(&p.disposer)).await;
        assert_eq!(assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await["errors"][0]["code"], "same_receiver");
        let r = resolve(&app, &p, &m, &forward(&p.enterprise_a)).await;
        assert_eq!(assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await["errors"][0]["code"], "not_a_disposer");
        let r = resolve(&app, &p, &m, &json!({"action": "forward"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["receiver_id"]);
        let r = resolve(&app, &p, &m, &json!({"action": "return", "receiver_id": other})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["receiver_id"]);
        let r = resolve(&app, &p, &m, &json!({})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["resolution"]);
        let r = app.post_json(&format!("/api/v1/manifests/{m}/resolve"), Some(&p.dispatcher), &forward(&other)).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        // Nothing changed by the refused resolutions.
        let first = manifest(&app, &p.office, &m).await;
        assert_eq!(first["case_status"], "open");
        assert!(first.get("followed_by").is_none());
        let listed: Value = app.get("/api/v1/manifests", &p.office).await.json().await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        let r = resolve(&app, &p, &m, &forward(&other)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let first: Value = r.json().await.unwrap();
        assert_eq!(first["case_status"], "resolved");
        let followers = first["followed_by"].as_array().unwrap();
        assert_eq!(followers.len(), 1);
        assert_eq!(followers[0]["reason"], "forward");
        let next_id = followers[0]["id"].as_str().unwrap().to_owned();
        let number = first["number"].as_str().unwrap();
        let serial: u32 = number.rsplit('-').next().unwrap().parse().unwrap();
        let expected = format!("{}-{:06}", number.rsplit_once('-').unwrap().0, serial + 1);
        assert_eq!(followers[0]["number"], expected.as_str(), "the next serial of the same counter");
        let signed = first["signatures"].as_array().unwrap().iter().find(|s| s["step"] == "resolve").unwrap().clone();
        assert_eq!(signed["data"]["action"], "forward");
        assert_eq!(signed["data"]["manifest_id"], next_id.as_str());

        // The new manifest: the refused lots at their refused grams, to the other receiver.
        let next = manifest(&app, &p.office, &next_id).await;
        assert_eq!(next["follows"], json!({"id": m, "number": number, "reason": "forward"}));
        assert_eq!(next["status"], "draft");
        assert_eq!(next["receiver"]["organization_id"], other.as_str());
        assert_eq!(next["receiver"]["permit"], "L-Huizhou");
        // From the receiver that refused it to the other; the quantity the receiver weighed.
        assert_eq!(next["departure_address"], "Pingshan District, Shenzhen", "{next}");
        assert_eq!(next["destination_address"], "Pingshan District, Shenzhen", "{next}");
        assert_eq!(next["outbound_basis"], "weighed");
        // Both prints name the other end of the chain, and the refused shares.
        let print = |id: String| { let app = &app; let token = p.office.clone(); async move {
            app.get(&format!("/api/v1/manifests/{id}/print.html"), &token).await.text().await.unwrap() } };
        let page = print(m.clone()).await;
        assert!(page.contains(&format!("拒收部分由联单 {expected} 转至其他接受人")), "{page}");
        assert!(page.contains("其中拒收") && page.contains("50.000 kg") && page.contains("30.000 kg"), "{page}");
        let page = print(next_id.clone()).await;
        assert!(page.contains(&format!("本联单处理联单 {number} 的拒收（转至其他接受人）")), "{page}");
        assert_eq!(next["consignor"]["organization_id"], p.park.as_str());
        assert_eq!(next["mass_balance"]["inbound_grams"], 80_000);
        assert_eq!(next["mass_balance"]["outbound_grams"], 80_000);
        let origins = next["origins"].as_array().unwrap();
        let grams = |lot: &str| origins.iter().find(|o| o["lot_id"] == lot).unwrap()["inbound_grams"].as_i64().unwrap();
        assert_eq!((origins.len(), grams(&lot_a), grams(&lot_b)), (2, 50_000, 30_000));
        // Seen from either end by the enterprises whose lots it carries.
        assert_eq!(manifest(&app, &p.producer_b, &m).await["followed_by"][0]["id"], next_id.as_str());
        let theirs = manifest(&app, &p.producer_b, &next_id).await;
        assert_eq!(theirs["follows"]["id"], m.as_str());
        assert_eq!(theirs["origins"].as_array().unwrap().len(), 1);
        let r: Value = app.get(&format!("/api/v1/manifests?party={}", p.enterprise_b), &p.producer_b).await.json().await.unwrap();
        assert_eq!(r["items"].as_array().unwrap().len(), 2, "both manifests carry its lot");

        // It goes through its own steps, its receiver signing the receipt.
        sign(&app, &next_id, "confirm", &p.office).await;
        let taken = sign(&app, &next_id, "take-over", &p.driver).await;
        assert_eq!(taken["status"], "in_transit");
        // The receiver that refused it is no party to it.
        let r = receive(&app, &p, &next_id, &json!({"received_grams": 80_000, "decision": "accepted"})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = app.post_json(&format!("/api/v1/manifests/{next_id}/receive"), Some(&other_dispatcher),
            &json!({"received_grams": 80_000, "decision": "accepted"})).await;
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "received");
        // The first is completed for what it accepted.
        let r = app.post_json(&format!("/api/v1/manifests/{m}/complete"), Some(&p.dispatcher), &json!({"treatment": "D10"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        // Resolved once.
        let r = resolve(&app, &p, &m, &json!({"action": "return"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
    }

    async fn the_park_office_returns_refused_waste_to_the_consignor(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (m, _, _) = in_transit(&app, &p).await;
        let r = receive(&app, &p, &m, &json!({"received_grams": 550_000, "decision": "refused", "note": "wrong code"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = resolve(&app, &p, &m, &json!({"action": "return", "resolution": "back to the warehouse for sorting"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let first: Value = r.json().await.unwrap();
        assert_eq!(first["case_resolution"], "back to the warehouse for sorting");
        assert_eq!(first["followed_by"][0]["reason"], "return");
        let back_id = first["followed_by"][0]["id"].as_str().unwrap().to_owned();
        let back = manifest(&app, &p.office, &back_id).await;
        assert_eq!(back["follows"]["id"], m.as_str());
        assert_eq!(back["follows"]["reason"], "return");
        // Returned: the consignor (the park's warehouse) receives it.
        assert_eq!(back["receiver"]["organization_id"], p.park.as_str());
        assert_eq!(back["destination_address"], "Longgang District, Shenzhen", "back to the park: {back}");
        assert_eq!(back["mass_balance"]["inbound_grams"], 550_000);
        sign(&app, &back_id, "confirm", &p.office).await;
        sign(&app, &back_id, "take-over", &p.driver).await;
        let r = receive(&app, &p, &back_id, &json!({"received_grams": 550_000, "decision": "accepted"})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        let r = app.post_json(&format!("/api/v1/manifests/{back_id}/receive"), Some(&p.driver),
            &json!({"received_grams": 550_000, "decision": "accepted"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.post_json(&format!("/api/v1/manifests/{back_id}/receive"), Some(&p.office),
            &json!({"received_grams": 549_000, "decision": "accepted"})).await;
        let received: Value = r.json().await.unwrap();
        assert_eq!(received["status"], "received");
        assert_eq!(received["mass_balance"]["flagged"], false);
        // The first, refused whole, is never completed: its case is resolved.
        let r = app.post_json(&format!("/api/v1/manifests/{m}/complete"), Some(&p.dispatcher), &json!({"treatment": "D10"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
    }
}

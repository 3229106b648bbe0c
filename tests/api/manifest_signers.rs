//! Who signs for which party of a manifest, when the disposal company collects with its own
//! fleet (its driver signs for the carrier, its dispatcher for the receiver: one organisation,
//! two parties) and when a separate carrier does. At every stage: who may sign the step, who
//! may propose a revision, whose approval each revision needs and who may give it; every
//! refused attempt changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem};
use crate::manifests::{manifest, with_permit};
use crate::pickups::{PASSWORD, Park, inbox, park, post, weigh};

/// A user taking part, by name (for the messages) and token.
#[derive(Clone, Copy)]
struct Who<'a> {
    name: &'a str,
    token: &'a str,
}

/// The fleet that collects: its organisation, vehicle, the manifest's driver and another
/// driver of the same organisation.
struct Fleet {
    carrier: String,
    vehicle: String,
    driver_id: String,
    driver: String,
    other_driver: String,
}

async fn own_fleet(app: &TestApp, p: &Park) -> Fleet {
    let vehicle = app
        .created_id(
            "/api/v1/vehicles",
            &p.admin,
            &json!({"operator_id": p.disposer, "plate": "粤B·67890", "dangerous_goods_permit_number": "440300067890"}),
        )
        .await;
    let driver_id = app
        .create_user(&p.admin, &p.disposer, "own.driver", "driver", PASSWORD)
        .await;
    app.create_user(&p.admin, &p.disposer, "own.driver2", "driver", PASSWORD)
        .await;
    Fleet {
        carrier: p.disposer.clone(),
        vehicle,
        driver_id,
        driver: access_token(&app.login("own.driver", PASSWORD).await),
        other_driver: access_token(&app.login("own.driver2", PASSWORD).await),
    }
}

async fn separate_carrier(app: &TestApp, p: &Park) -> Fleet {
    app.create_user(&p.admin, &p.carrier, "driver2", "driver", PASSWORD)
        .await;
    Fleet {
        carrier: p.carrier.clone(),
        vehicle: p.vehicle.clone(),
        driver_id: p.driver_id.clone(),
        driver: p.driver.clone(),
        other_driver: access_token(&app.login("driver2", PASSWORD).await),
    }
}

/// Everything a refused attempt must leave as it was: the manifest (status, version,
/// signatures, pending revision), its revisions and versions, and the park office's inbox.
async fn state(app: &TestApp, reader: &str, id: &str) -> Value {
    let revisions: Value = app
        .get(&format!("/api/v1/manifests/{id}/revisions"), reader)
        .await
        .json()
        .await
        .unwrap();
    let versions: Value = app
        .get(&format!("/api/v1/manifests/{id}/versions"), reader)
        .await
        .json()
        .await
        .unwrap();
    json!({
        "manifest": manifest(app, reader, id).await,
        "revisions": revisions,
        "versions": versions,
        "inbox": inbox(app, reader, "").await,
    })
}

fn slug(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::CONFLICT => "conflict",
        _ => "validation",
    }
}

/// Each of `refused` POSTs `body` to `path` and is answered `status`; nothing changes.
async fn refused(
    app: &TestApp,
    reader: &str,
    id: &str,
    path: &str,
    body: &Value,
    refused: &[(Who<'_>, StatusCode)],
) {
    for (who, status) in refused {
        let before = state(app, reader, id).await;
        let r = post(app, path, who.token, body).await;
        assert_eq!(
            r.status(),
            *status,
            "POST {path} by the {} must be {status}",
            who.name
        );
        assert_problem(r, *status, slug(*status)).await;
        assert_eq!(
            state(app, reader, id).await,
            before,
            "POST {path} refused to the {} changed something",
            who.name
        );
    }
}

/// Signs `step` as `signer` after each of `others` was refused; checks the signature records
/// the step, the user's role and organisation.
#[allow(clippy::too_many_arguments)]
async fn sign(
    app: &TestApp,
    reader: &str,
    id: &str,
    step: &str,
    body: &Value,
    others: &[(Who<'_>, StatusCode)],
    signer: Who<'_>,
    signed_as: (&str, &str),
) {
    let path = format!("/api/v1/manifests/{id}/{step}");
    refused(app, reader, id, &path, body, others).await;
    let r = post(app, &path, signer.token, body).await;
    assert_eq!(r.status(), StatusCode::OK, "{step} by the {}", signer.name);
    let signed: Value = r.json().await.unwrap();
    let last = signed["signatures"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["step"], step.replace('-', "_"));
    assert_eq!(
        last["role"], signed_as.0,
        "{step} is signed in the signer's role"
    );
    assert_eq!(
        last["organization_id"], signed_as.1,
        "{step} is signed for the signer's organisation"
    );
}

/// One revision: `proposer` proposes a new packaging; it needs the approval of exactly the
/// parties `needed` (in the order consignor, carrier, receiver); each of `refused_approvers` is
/// refused, approving and rejecting, without any change; then each of `approvers` (with the
/// party it approves for) approves in turn and the revision applies with the last (or is
/// rejected by the first, when `reject`).
#[allow(clippy::too_many_arguments)]
async fn revise(
    app: &TestApp,
    reader: &str,
    id: &str,
    proposer: Who<'_>,
    needed: &[&str],
    refused_approvers: &[(Who<'_>, StatusCode)],
    approvers: &[(Who<'_>, &str)],
    reject: bool,
) {
    let before = manifest(app, reader, id).await;
    let version = before["version"].as_i64().unwrap();
    let packaging = format!("drum × {}", version + 10);
    let r = post(
        app,
        &format!("/api/v1/manifests/{id}/revisions"),
        proposer.token,
        &json!({"reason": format!("proposed by the {}", proposer.name), "changes": {"packaging": packaging}}),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "a revision proposed by the {}",
        proposer.name
    );
    let revision: Value = r.json().await.unwrap();
    assert_eq!(
        revision["needed"],
        json!(needed),
        "the approvals a revision by the {} needs",
        proposer.name
    );
    assert_eq!(revision["approved"], json!([]));
    if needed.is_empty() {
        assert_eq!(
            revision["status"], "applied",
            "no other party signed: applied at once"
        );
        let after = manifest(app, reader, id).await;
        assert_eq!(after["version"], version + 1);
        assert_eq!(after["packaging"], packaging.as_str());
        return;
    }
    assert_eq!(revision["status"], "pending");
    let rid = revision["id"].as_str().unwrap();
    for decision in ["approve", "reject"] {
        let path = format!("/api/v1/manifests/{id}/revisions/{rid}/{decision}");
        refused(app, reader, id, &path, &json!({}), refused_approvers).await;
    }
    for (i, (approver, _)) in approvers.iter().enumerate() {
        let decision = if reject { "reject" } else { "approve" };
        let r = post(
            app,
            &format!("/api/v1/manifests/{id}/revisions/{rid}/{decision}"),
            approver.token,
            &json!({}),
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{decision} by the {}",
            approver.name
        );
        let decided: Value = r.json().await.unwrap();
        let after = manifest(app, reader, id).await;
        if reject {
            assert_eq!(decided["status"], "rejected");
            assert_eq!(
                after["version"], version,
                "a rejected revision changes nothing"
            );
            assert_eq!(after["packaging"], before["packaging"]);
            return;
        }
        if i + 1 < approvers.len() {
            assert_eq!(
                decided["status"], "pending",
                "approved by the {} alone, the revision still waits for the others",
                approver.name
            );
            let so_far: Vec<&str> = approvers[..=i].iter().map(|(_, party)| *party).collect();
            assert_eq!(decided["approved"], json!(so_far));
            assert_eq!(after["version"], version);
            assert_eq!(after["packaging"], before["packaging"]);
        } else {
            assert_eq!(
                decided["status"], "applied",
                "approved by every party needed"
            );
            assert_eq!(after["version"], version + 1);
            assert_eq!(after["packaging"], packaging.as_str());
            let versions: Value = app
                .get(&format!("/api/v1/manifests/{id}/versions"), reader)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(versions.as_array().unwrap().len() as i64, version + 1);
        }
    }
}

/// Collects a trip with `fleet`, then walks the manifest through every step, checking at each
/// stage who may sign, propose and approve.
#[rustfmt::skip]
async fn walk(app: &TestApp, p: &Park, fleet: &Fleet) {
    with_permit(app, p).await;
    weigh(app, p, &p.enterprise_a, 300).await;
    let lot = weigh(app, p, &p.enterprise_b, 250).await;
    let request = lot["pickup_request_id"].as_str().expect("a request").to_owned();
    let r = post(app, &format!("/api/v1/pickup-requests/{request}/schedule"), &p.dispatcher,
        &json!({"scheduled_on": app.day(1), "carrier_id": fleet.carrier, "vehicle_id": fleet.vehicle, "driver_id": fleet.driver_id})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = post(app, &format!("/api/v1/pickup-requests/{request}/collect"), &fleet.driver,
        &json!({"vehicle_id": fleet.vehicle, "scale_id": "SCALE-02", "captured_at": app.now().to_rfc3339(),
            "gross_grams": 8_540_000, "tare_grams": 8_000_000,
            "scanned_labels": crate::manifests::scans(app, &p.office, &request).await})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let collection: Value = r.json().await.unwrap();
    let id = collection["manifests"][0]["id"].as_str().unwrap().to_owned();
    let id = id.as_str();
    let m = manifest(app, &p.office, id).await;
    assert_eq!(m["carrier"]["organization_id"], fleet.carrier.as_str());
    assert_eq!(m["receiver"]["organization_id"], p.disposer.as_str());

    let office = Who { name: "park office (consignor)", token: &p.office };
    let driver = Who { name: "manifest's driver (carrier)", token: &fleet.driver };
    let dispatcher = Who { name: "disposer's dispatcher (receiver)", token: &p.dispatcher };
    let producer = Who { name: "originating enterprise", token: &p.producer_a };
    let other_driver = Who { name: "another driver of the carrier", token: &fleet.other_driver };
    let outsider = Who { name: "enterprise outside the contract", token: &p.outsider_user };
    const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
    const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
    let reader = p.office.as_str();
    let propose = format!("/api/v1/manifests/{id}/revisions");
    let change = json!({"reason": "the packaging was miscounted", "changes": {"packaging": "drum × 9"}});
    let (consignor, carrier, receiver) = ((office, "consignor"), (driver, "carrier"), (dispatcher, "receiver"));

    // Draft: nobody has signed, so nobody may revise.
    refused(app, reader, id, &propose, &change, &[
        (office, FORBIDDEN), (driver, FORBIDDEN), (dispatcher, FORBIDDEN), (producer, FORBIDDEN),
        (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ]).await;
    sign(app, reader, id, "confirm", &json!({}), &[
        (driver, FORBIDDEN), (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], office, ("park_office", &p.park)).await;

    // Confirmed: the consignor alone has signed; its revision applies at once.
    refused(app, reader, id, &propose, &change, &[
        (driver, FORBIDDEN), (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ]).await;
    revise(app, reader, id, office, &[], &[], &[], false).await;
    sign(app, reader, id, "take-over", &json!({}), &[
        (office, FORBIDDEN), (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], driver, ("driver", &fleet.carrier)).await;
    // The driver records the arrival (the receiver's dispatcher may too); nobody else may. An
    // arrival moves no status and makes no party a signer of a step.
    sign(app, reader, id, "arrival", &json!({}), &[
        (office, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], driver, ("driver", &fleet.carrier)).await;
    let r = post(app, &format!("/api/v1/manifests/{id}/arrival"), dispatcher.token, &json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "recorded once");

    // In transit: the consignor and the carrier have signed, the receiver not yet (with its own
    // fleet, the disposer's dispatcher is still no signer).
    refused(app, reader, id, &propose, &change, &[
        (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ]).await;
    revise(app, reader, id, office, &["carrier"], &[
        (office, FORBIDDEN), (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], &[carrier], false).await;
    revise(app, reader, id, driver, &["consignor"], &[
        (driver, FORBIDDEN), (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], &[consignor], false).await;
    sign(app, reader, id, "receive", &json!({"received_grams": 538_000, "decision": "accepted"}), &[
        (office, FORBIDDEN), (driver, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], dispatcher, ("disposer_dispatcher", &p.disposer)).await;

    // Received: all three parties have signed; each revision needs the two others, each
    // approving for itself (with its own fleet, the dispatcher never for the carrier).
    refused(app, reader, id, &propose, &change, &[
        (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ]).await;
    revise(app, reader, id, office, &["carrier", "receiver"], &[
        (office, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], &[carrier, receiver], false).await;
    revise(app, reader, id, office, &["carrier", "receiver"], &[], &[receiver, carrier], false).await;
    revise(app, reader, id, driver, &["consignor", "receiver"], &[
        (driver, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], &[consignor, receiver], false).await;
    revise(app, reader, id, dispatcher, &["consignor", "carrier"], &[
        (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], &[consignor, carrier], false).await;
    // While a revision waits, the next step waits too.
    let r = post(app, &propose, dispatcher.token, &change).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let waiting: Value = r.json().await.unwrap();
    refused(app, reader, id, &format!("/api/v1/manifests/{id}/complete"), &json!({"treatment": "D10"}), &[
        (dispatcher, StatusCode::CONFLICT),
    ]).await;
    let r = post(app, &format!("{propose}/{}/reject", waiting["id"].as_str().unwrap()), driver.token, &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    sign(app, reader, id, "complete", &json!({"treatment": "D10 incineration"}), &[
        (office, FORBIDDEN), (driver, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND), (outsider, NOT_FOUND),
    ], dispatcher, ("disposer_dispatcher", &p.disposer)).await;

    // Completed: the same three signers; a rejection by any one party needed ends a revision.
    revise(app, reader, id, dispatcher, &["consignor", "carrier"], &[
        (dispatcher, FORBIDDEN), (producer, FORBIDDEN), (other_driver, NOT_FOUND),
    ], &[carrier], true).await;
    revise(app, reader, id, driver, &["consignor", "receiver"], &[(driver, FORBIDDEN)], &[receiver], true).await;
    revise(app, reader, id, office, &["carrier", "receiver"], &[(office, FORBIDDEN)], &[carrier, receiver], false).await;
    let done = manifest(app, reader, id).await;
    assert_eq!(done["status"], "completed");
    let steps: Vec<&str> = done["signatures"].as_array().unwrap().iter()
        .map(|s| s["step"].as_str().unwrap())
        .filter(|s| ["confirm", "take_over", "receive", "complete"].contains(s))
        .collect();
    assert_eq!(steps, vec!["confirm", "take_over", "receive", "complete"]);
}

backend_tests! {
    async fn with_its_own_fleet_the_disposer_signs_proposes_and_approves_only_as_the_receiver(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let fleet = own_fleet(&app, &p).await;
        assert_eq!(fleet.carrier, p.disposer, "the disposer carries its own waste");
        walk(&app, &p, &fleet).await;
    }

    async fn with_a_separate_carrier_each_party_signs_proposes_and_approves_for_itself(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let fleet = separate_carrier(&app, &p).await;
        walk(&app, &p, &fleet).await;
    }
}

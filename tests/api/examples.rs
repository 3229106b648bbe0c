//! Every example of the OpenAPI document is accepted: each request body example, and each
//! query-parameter example, is sent to a live server, as a user allowed to do it, in a small
//! world of real objects, and must get a 2xx status the operation documents.
//!
//! Examples name other objects by made-up ids (`org_0193…`, `con_0193…`). Each is replaced by
//! the id of a real object of the same kind: named by its field (`park_id`, `enterprise_id`,
//! `operator_id`, …; `org_` ids are of several kinds, so the field decides), and in the path by
//! the collection it follows (`/contracts/{id}` takes a contract). A step may point a field at
//! another object of the kind, where the example's effect calls for one (a contract's new member
//! must not be a member yet). Values relative to today are replaced too, each where it is sent
//! and with the reason; every other value is sent as the document shows it.
//!
//! The steps run in an order that gives each example the state it needs (a pickup scheduled
//! before it is collected, a manifest received before its case is resolved). The test fails if
//! an example is refused, and if an operation with an example is in no step.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, test_epoch, time_travel};
use crate::wechat::StandIn;

const PASSWORD: &str = "a long password";
const CATALOG: &str = "code,name_zh,characteristics
900-249-08,其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物,T/I
900-041-49,含有或沾染毒性、感染性危险废物的废弃的包装物、容器、过滤吸附介质,T/In
S59,其他工业固体废物,
900-003-S59,废金属边角料,
";

/// Operations whose example is not sent, with the reason. Empty: every example is sent.
const NOT_SENT: &[(&str, &str)] = &[];

/// State-changing operations without a body that this walk does not call, with the reason; the
/// audit chain is checked for every other one.
const NOT_CALLED: &[(&str, &str)] = &[
    (
        "POST /api/v1/statements/{id}/reprice",
        "a statement repriced after a price change: billing.rs checks its entry",
    ),
    (
        "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        "a delivery needs a receiver: webhooks.rs checks its entry",
    ),
];

/// Ids of the world's objects, by the field that names them.
type Ids = HashMap<&'static str, String>;

/// The field naming an object of the collection a path segment names.
fn field_of_collection(segment: &str) -> Option<&'static str> {
    Some(match segment {
        "bureaus" => "bureau_id",
        "carriers" => "carrier_id",
        "contracts" => "contract_id",
        "disposers" => "disposer_id",
        "enterprises" => "enterprise_id",
        "licences" => "licence_id",
        "lots" => "lot_id",
        "manifests" => "manifest_id",
        "parks" => "park_id",
        "pickup-requests" => "request_id",
        "patrols" => "patrol_id",
        "findings" => "finding_id",
        "feedback" => "feedback_id",
        "photos" => "photo_id",
        "statements" => "statement_id",
        "users" => "user_id",
        "vehicles" => "vehicle_id",
        "warehouses" => "warehouse_id",
        "webhooks" => "webhook_id",
        "zones" => "zone_id",
        _ => return None,
    })
}

/// The field whose value replaces an example's id: the field itself, or for ids named by a
/// more general field, the kind they stand for.
fn field_for(key: &str) -> &str {
    match key {
        // A vehicle's operator is a carrier (or a disposal company's own fleet).
        "operator_id" => "carrier_id",
        // The inbox is read up to a message.
        "up_to" => "message_id",
        other => other,
    }
}

/// Whether a string is an id: a lowercase prefix, `_`, and 32 hexadecimal digits.
fn is_id(s: &str) -> bool {
    s.split_once('_').is_some_and(|(prefix, hex)| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && hex.len() == 32
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// Replaces every id in an example by the world's id for its field.
fn substitute(value: &mut Value, key: &str, ids: &Ids, operation: &str) {
    match value {
        Value::String(s) if is_id(s) => {
            let field = field_for(key);
            *s = ids
                .get(field)
                .unwrap_or_else(|| panic!("{operation}: no object of the world for {key} ({s})"))
                .clone();
        }
        Value::Array(items) => {
            for item in items {
                substitute(item, key, ids, operation);
            }
        }
        Value::Object(fields) => {
            for (k, v) in fields.iter_mut() {
                substitute(v, k, ids, operation);
            }
        }
        _ => {}
    }
}

/// A path template with its parameters replaced by the world's ids: `{id}` by the object of the
/// collection before it, `{name}` by the field `name`.
fn concrete(template: &str, ids: &Ids) -> String {
    let segments: Vec<&str> = template.split('/').collect();
    let mut out = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            out.push((*segment).to_owned());
            continue;
        };
        let field = if param == "id" {
            field_of_collection(segments[i - 1])
                .unwrap_or_else(|| panic!("{template}: no kind for {{id}}"))
        } else {
            param
        };
        out.push(
            ids.get(field)
                .unwrap_or_else(|| panic!("{template}: no object of the world for {field}"))
                .clone(),
        );
    }
    out.join("/")
}

struct Examples<'a> {
    app: &'a TestApp,
    doc: Value,
    sent: BTreeSet<String>,
}

impl Examples<'_> {
    fn operation(&self, method: &Method, template: &str) -> &Value {
        let op = &self.doc["paths"][template][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in the document");
        op
    }

    /// The example request body of an operation, with its content type.
    fn example(&self, method: &Method, template: &str) -> (String, Value) {
        let op = self.operation(method, template);
        let content = op["requestBody"]["content"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {template} has no request body"));
        let (content_type, media) = content.iter().next().unwrap();
        let example = media.get("example").cloned().unwrap_or_else(|| {
            let schema = &media["schema"];
            let schema = match schema["$ref"].as_str() {
                Some(r) => &self.doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
                None => schema,
            };
            schema["example"].clone()
        });
        assert!(!example.is_null(), "{method} {template} has no example");
        (content_type.clone(), example)
    }

    /// Sends an operation's example as `token`, with ids from `ids` and `adjust` applied, and
    /// asserts a documented 2xx status. Returns the response body (JSON, or null).
    async fn send(
        &mut self,
        method: Method,
        template: &str,
        token: Option<&str>,
        ids: &Ids,
        adjust: impl FnOnce(&mut Value),
    ) -> Value {
        let name = format!("{method} {template}");
        let (content_type, mut body) = self.example(&method, template);
        substitute(&mut body, "", ids, &name);
        adjust(&mut body);
        let path = concrete(template, ids);
        let mut request = self.app.request(method.clone(), &path, token);
        request = if content_type == "application/json" {
            request.json(&body)
        } else if content_type.starts_with("image/") {
            // An image's example is a description: the bytes sent begin as the type named.
            let image: &[u8] = match content_type.as_str() {
                "image/png" => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
                "image/webp" => b"RIFF\x24\0\0\0WEBPVP8 ",
                _ => &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'],
            };
            request
                .header("content-type", content_type.as_str())
                .body(image.to_vec())
        } else {
            request
                .header("content-type", content_type.as_str())
                .body(body.as_str().unwrap_or_default().to_owned())
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let documented = self.documented_success(&method, template);
        assert!(
            documented.contains(&status.as_u16()),
            "{name}: the example was answered {status}, not one of {documented:?}: {text}\nexample sent: {body}"
        );
        self.sent.insert(name.clone());
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        // The answer matches the schema the document gives it.
        let schema = &self.operation(&method, template)["responses"][status.as_str()]["content"]["application/json"]
            ["schema"];
        if schema.is_object() {
            let mut wrong = Vec::new();
            crate::openapi::violations(&self.doc, schema, &answer, &name, &mut wrong);
            assert!(
                wrong.is_empty(),
                "{name}: the answer violates its schema:\n{}\n{answer}",
                wrong.join("\n")
            );
        }
        answer
    }

    fn documented_success(&self, method: &Method, template: &str) -> Vec<u16> {
        self.operation(method, template)["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|s| s.starts_with('2'))
            .map(|s| s.parse().unwrap())
            .collect()
    }

    /// Sends the query-parameter examples of an operation (a GET) as `token`.
    async fn send_query(&mut self, template: &str, token: &str, ids: &Ids) {
        let name = format!("GET {template}");
        let op = self.operation(&Method::GET, template);
        let query: Vec<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| {
                let example = p.get("example").or_else(|| p["schema"].get("example"))?;
                let value = match example {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some(format!("{}={value}", p["name"].as_str().unwrap()))
            })
            .collect();
        assert!(!query.is_empty(), "{name} has no query example");
        let path = format!("{}?{}", concrete(template, ids), query.join("&"));
        let response = self.app.get(&path, token).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let documented = self.documented_success(&Method::GET, template);
        assert!(
            documented.contains(&status.as_u16()),
            "{name}: the example {path} was answered {status}, not one of {documented:?}: {text}"
        );
        self.sent.insert(name);
    }

    /// Every operation with a request body example or a query-parameter example.
    fn with_examples(&self) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let body = op["requestBody"]["content"].is_object();
                let query = op["parameters"].as_array().into_iter().flatten().any(|p| {
                    p["in"] == "query"
                        && (p.get("example").is_some() || p["schema"].get("example").is_some())
                });
                if body || query {
                    all.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        all
    }
}

fn with(ids: &Ids, overrides: &[(&'static str, &str)]) -> Ids {
    let mut ids = ids.clone();
    for (k, v) in overrides {
        ids.insert(k, (*v).to_owned());
    }
    ids
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

backend_tests! {
    async fn every_example_of_the_document_is_accepted(backend: Backend) {
        // WeChat sign-in answers through its stand-in.
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, |s| {
            wechat.configure(s);
            // No webhook leaves the test, and no periodic check runs between the steps.
            s.notify.background_enabled = false;
            // The world is made weeks before the examples' day.
            time_travel(s);
        })
        .await;
        let r = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let doc: Value = r.json().await.unwrap();
        let mut ex = Examples { app: &app, doc, sent: BTreeSet::new() };

        // The world: a park in use for some weeks, its enterprises, a licensed disposer under
        // contract, a carrier with a vehicle and a driver, a warehouse with an HW08 zone, and a
        // user of each role. It is made at noon in Shanghai on the 15th of the month the
        // statement example bills (a month that ended before the park's registration day could
        // not be billed), and a lot is weighed then, for that statement to bill.
        let (_, statement_example) = ex.example(&Method::POST, "/api/v1/statements");
        let period = statement_example["period"].as_str().unwrap();
        let (year, month) = period.split_once('-').unwrap();
        let in_period = NaiveDate::from_ymd_opt(year.parse().unwrap(), month.parse().unwrap(), 15).unwrap();
        app.stand_at(&format!("{in_period}T12:00:00+08:00"));
        let admin = app.admin_token().await;
        let r = app.request(Method::POST, "/api/v1/catalog/imports", Some(&admin))
            .header("content-type", "text/csv").body(CATALOG).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let park = app.create_park(&admin, "Longgang park", "440307").await;
        let enterprise = app.create_enterprise(&admin, &park, "Huaxin Electronics").await;
        let other_enterprise = app.create_enterprise(&admin, &park, "Bolin Machinery").await;
        let disposer = app.create_disposer(&admin, "Dongjiang").await;
        // The licence and the contract start before the examples' fixed dates (a threshold from
        // 2026-01-01), so that those stay within them as time passes.
        let licence = json!({"number": "L-1", "issuing_authority": "GDEE", "valid_from": "2024-01-01", "valid_to": app.day(400),
            "annual_capacity_grams": 1_000_000_000_000i64, "scope": ["HW08", "HW49", "HW12"]});
        app.created_id(&format!("/api/v1/disposers/{disposer}/licences"), &admin, &licence).await;
        let carrier = app.create_org(&admin, "carrier", "Lvyun Transport").await;
        let vehicle = app.created_id("/api/v1/vehicles", &admin,
            &json!({"operator_id": carrier, "plate": "粤B·54321", "dangerous_goods_permit_number": "440300054321"})).await;
        let contract = json!({"park_id": park, "disposer_id": disposer, "number": "C-1", "valid_from": "2025-01-01", "valid_to": app.day(365),
            "max_storage_days": 180, "members": [{"enterprise_id": enterprise}],
            "prices": [{"target": "HW08", "fen_per_tonne": 280_000}, {"target": "900-041-49", "fen_per_tonne": 500_000},
                       {"target": "S59", "fen_per_tonne": -120_000}],
            "thresholds": [{"target": "HW08", "threshold_grams": 100_000_000}]});
        let contract = app.created_id("/api/v1/contracts", &admin, &contract).await;
        let warehouse = app.created_id("/api/v1/warehouses", &admin, &json!({"park_id": park, "name": "No. 1", "address": "C2"})).await;
        // The enterprise's own storage points (the park holds no collection permit): it is the
        // consignor of its manifests.
        let zone = app.created_id(&format!("/api/v1/warehouses/{warehouse}/zones"), &admin,
            &json!({"name": "A1", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000,
                "enterprise_id": enterprise})).await;
        app.create_user(&admin, &park, "office", "park_office", PASSWORD).await;
        app.create_user(&admin, &enterprise, "producer", "enterprise_user", PASSWORD).await;
        app.create_user(&admin, &disposer, "dispatch", "disposer_dispatcher", PASSWORD).await;
        let driver_id = app.create_user(&admin, &carrier, "driver", "driver", PASSWORD).await;
        let office = access_token(&app.login("office", PASSWORD).await);
        let producer = access_token(&app.login("producer", PASSWORD).await);
        let dispatcher = access_token(&app.login("dispatch", PASSWORD).await);
        let driver = access_token(&app.login("driver", PASSWORD).await);
        let mut ids: Ids = HashMap::from([
            ("park_id", park.clone()),
            ("organization_id", park.clone()),
            ("enterprise_id", enterprise.clone()),
            ("disposer_id", disposer.clone()),
            ("carrier_id", carrier.clone()),
            ("vehicle_id", vehicle.clone()),
            ("driver_id", driver_id.clone()),
            ("contract_id", contract.clone()),
            ("warehouse_id", warehouse.clone()),
            ("zone_id", zone.clone()),
        ]);
        // A second warehouse, whose lot of a past month waits there for no pickup: in the
        // first, its age would call one as months pass.
        let archive = app.created_id("/api/v1/warehouses", &admin, &json!({"park_id": park, "name": "No. 2", "address": "C3"})).await;
        let archive_zone = app.created_id(&format!("/api/v1/warehouses/{archive}/zones"), &admin,
            &json!({"name": "B1", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 10_000_000,
                "enterprise_id": enterprise})).await;
        let weigh = |kg: i64, zone: &str| {
            let (app, office, enterprise, zone) = (&app, office.clone(), enterprise.clone(), zone.to_owned());
            async move {
                let body = json!({"enterprise_id": enterprise, "waste_code": "900-249-08", "physical_form": "liquid",
                    "container_type": "drum", "container_count": 1, "container_litres": 200, "zone_id": zone,
                    "gross_grams": kg * 1000 + 20_000, "tare_grams": 20_000, "scale_id": "SCALE-01",
                    "captured_at": (app.now() - Duration::minutes(5)).to_rfc3339()});
                let r = app.post_json("/api/v1/lots", Some(&office), &body).await;
                assert_eq!(r.status(), StatusCode::CREATED);
                id(&r.json::<Value>().await.unwrap())
            }
        };
        // The lot the statement example bills, weighed on the 15th of its month.
        weigh(100, &archive_zone).await;
        // Then the examples' day: the tests' first day, the clock running. A lot to void.
        app.clock.run_from(test_epoch());
        let lot_to_void = weigh(50, &zone).await;

        // Users and sign-in: the example user signs in, refreshes, changes its password, and is
        // deactivated.
        let user = ex.send(Method::POST, "/api/v1/users", Some(&admin), &ids, |_| {}).await;
        ids.insert("user_id", id(&user));
        let tokens = ex.send(Method::POST, "/api/v1/auth/login", None, &ids, |_| {}).await;
        // A refresh token is a secret of the session, not something an example can show.
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let tokens = ex.send(Method::POST, "/api/v1/auth/refresh", None, &ids, |b| b["refresh_token"] = json!(refresh)).await;
        let signed_in = access_token(&tokens);
        ex.send(Method::POST, "/api/v1/auth/password", Some(&signed_in), &ids, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/users/{id}", Some(&admin), &ids, |_| {}).await;

        // The registry: each new object, then the change of it.
        let new_park = ex.send(Method::POST, "/api/v1/parks", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/parks/{id}", Some(&admin), &with(&ids, &[("park_id", &id(&new_park))]), |_| {}).await;
        let new_enterprise = id(&ex.send(Method::POST, "/api/v1/enterprises", Some(&admin), &ids, |_| {}).await);
        ex.send(Method::PATCH, "/api/v1/enterprises/{id}", Some(&admin), &with(&ids, &[("enterprise_id", &new_enterprise)]), |_| {}).await;
        let new_disposer = ex.send(Method::POST, "/api/v1/disposers", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/disposers/{id}", Some(&admin), &with(&ids, &[("disposer_id", &id(&new_disposer))]), |_| {}).await;
        let new_licence = ex.send(Method::POST, "/api/v1/disposers/{id}/licences", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/licences/{id}", Some(&admin), &with(&ids, &[("licence_id", &id(&new_licence))]), |_| {}).await;
        let new_carrier = ex.send(Method::POST, "/api/v1/carriers", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/carriers/{id}", Some(&admin), &with(&ids, &[("carrier_id", &id(&new_carrier))]), |_| {}).await;
        let new_vehicle = ex.send(Method::POST, "/api/v1/vehicles", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/vehicles/{id}", Some(&admin), &with(&ids, &[("vehicle_id", &id(&new_vehicle))]), |_| {}).await;
        let bureau = ex.send(Method::POST, "/api/v1/bureaus", Some(&admin), &ids, |_| {}).await;
        ids.insert("bureau_id", id(&bureau));
        ex.send(Method::PATCH, "/api/v1/bureaus/{id}", Some(&admin), &ids, |_| {}).await;
        let new_warehouse = id(&ex.send(Method::POST, "/api/v1/warehouses", Some(&admin), &ids, |_| {}).await);
        let in_new_warehouse = with(&ids, &[("warehouse_id", &new_warehouse)]);
        ex.send(Method::PATCH, "/api/v1/warehouses/{id}", Some(&admin), &in_new_warehouse, |_| {}).await;
        let new_zone = ex.send(Method::POST, "/api/v1/warehouses/{id}/zones", Some(&admin), &in_new_warehouse, |_| {}).await;
        ex.send(Method::PATCH, "/api/v1/zones/{id}", Some(&admin), &with(&ids, &[("zone_id", &id(&new_zone))]), |_| {}).await;

        // Contracts: the example contract binds the other enterprise (the first is in the
        // world's contract, and one contract per code keeps its lots unambiguous); a third
        // enterprise joins it and leaves again (not the example's new enterprise, whose
        // memberships end when it leaves the park).
        let new_contract = id(&ex.send(Method::POST, "/api/v1/contracts", Some(&admin), &with(&ids, &[("enterprise_id", &other_enterprise)]), |_| {}).await);
        let third = app.create_enterprise(&admin, &park, "Kexing Plastics").await;
        let on_new_contract = with(&ids, &[("contract_id", &new_contract), ("enterprise_id", &third)]);
        ex.send(Method::PATCH, "/api/v1/contracts/{id}", Some(&admin), &on_new_contract, |_| {}).await;
        ex.send(Method::POST, "/api/v1/contracts/{id}/members", Some(&admin), &on_new_contract, |_| {}).await;
        ex.send(Method::POST, "/api/v1/contracts/{id}/members/{enterprise_id}/leave", Some(&admin), &on_new_contract, |_| {}).await;
        ex.send(Method::POST, "/api/v1/contracts/{id}/prices", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/contracts/{id}/thresholds", Some(&admin), &ids, |_| {}).await;

        // Lots. A capture time must be recent (at most 30 days old, 10 minutes ahead): the
        // example's is replaced by one of five minutes ago.
        let recent = || json!((app.now() - Duration::minutes(5)).to_rfc3339());
        let lot = id(&ex.send(Method::POST, "/api/v1/lots", Some(&office), &ids, |b| b["captured_at"] = recent()).await);
        ex.send(Method::POST, "/api/v1/lots/{id}/corrections", Some(&office), &with(&ids, &[("lot_id", &lot)]), |_| {}).await;
        ex.send(Method::POST, "/api/v1/lots/{id}/void", Some(&office), &with(&ids, &[("lot_id", &lot_to_void)]), |_| {}).await;
        ex.send(Method::POST, "/api/v1/lots/declarations", Some(&producer), &ids, |_| {}).await;

        // A pickup raised by hand, scheduled for today or later (the example's day is replaced by
        // today: a past day is refused), collected by the driver (a recent capture time), and
        // its manifest signed, received with a partial refusal, resolved, completed, revised.
        let request = id(&ex.send(Method::POST, "/api/v1/pickup-requests", Some(&office), &ids, |_| {}).await);
        ids.insert("request_id", request.clone());
        ex.send(Method::POST, "/api/v1/pickup-requests/{id}/schedule", Some(&dispatcher), &ids, |b| b["scheduled_on"] = json!(app.day(0))).await;
        // The labels the driver scans are those of the request's lots.
        let scans = crate::manifests::scans(&app, &office, &request).await;
        let collection = ex.send(Method::POST, "/api/v1/pickup-requests/{id}/collect", Some(&driver), &ids, |b| {
            b["captured_at"] = recent();
            b["scanned_labels"] = json!(scans);
        }).await;
        let manifest = id(&collection["manifests"][0]);
        ids.insert("manifest_id", manifest.clone());
        ex.send(Method::PUT, "/api/v1/manifests/{id}/official-number", Some(&producer), &ids, |_| {}).await;
        for (step, token) in [("confirm", &producer), ("take-over", &driver)] {
            let r = app.post_json(&format!("/api/v1/manifests/{manifest}/{step}"), Some(token), &json!({})).await;
            assert_eq!(r.status(), StatusCode::OK, "{step}");
        }
        // The arrival: its time is replaced by the clock's (not before the take-over, not in
        // the future).
        ex.send(Method::POST, "/api/v1/manifests/{id}/arrival", Some(&driver), &ids, |b| b["arrived_at"] = json!(app.now().to_rfc3339())).await;
        ex.send(Method::POST, "/api/v1/manifests/{id}/receive", Some(&dispatcher), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/manifests/{id}/resolve", Some(&office), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/manifests/{id}/complete", Some(&dispatcher), &ids, |_| {}).await;
        let revision = id(&ex.send(Method::POST, "/api/v1/manifests/{id}/revisions", Some(&dispatcher), &ids, |_| {}).await);
        // The consignor approves the revision, the carrier rejects it.
        for (decision, token) in [("approve", &producer), ("reject", &driver)] {
            let r = app.post_json(&format!("/api/v1/manifests/{manifest}/revisions/{revision}/{decision}"), Some(token), &json!({})).await;
            assert_eq!(r.status(), StatusCode::OK, "{decision}");
        }
        // Two more requests by hand: one the park office cancels, one the disposer declines.
        for (step, token) in [("cancel", &office), ("decline", &dispatcher)] {
            weigh(200, &zone).await;
            let raise = json!({"contract_id": contract, "warehouse_id": warehouse, "category": "HW08"});
            let r = app.post_json("/api/v1/pickup-requests", Some(&office), &raise).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let request = id(&r.json::<Value>().await.unwrap());
            ex.send(Method::POST, &format!("/api/v1/pickup-requests/{{id}}/{step}"), Some(token), &with(&ids, &[("request_id", &request)]), |_| {}).await;
        }

        // One more the disposer accepts.
        weigh(200, &zone).await;
        let raise = json!({"contract_id": contract, "warehouse_id": warehouse, "category": "HW08"});
        let r = app.post_json("/api/v1/pickup-requests", Some(&office), &raise).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let request = id(&r.json::<Value>().await.unwrap());
        let r = app.post_json(&format!("/api/v1/pickup-requests/{request}/accept"), Some(&dispatcher), &json!({})).await;
        assert_eq!(r.status(), StatusCode::OK, "accept");

        // Billing: the statement of the example's month, a note on it, a payment.
        let statement = ex.send(Method::POST, "/api/v1/statements", Some(&office), &ids, |_| {}).await;
        assert_eq!(statement["lines"].as_array().map(Vec::len), Some(1), "{statement}");
        ids.insert("statement_id", id(&statement));
        ex.send(Method::POST, "/api/v1/statements/{id}/notes", Some(&office), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/payments", Some(&office), &ids, |_| {}).await;

        // Compliance: the enterprise's waste profile (its codes in the catalog), and the park
        // office's record of one of its five haves.
        ex.send(Method::PUT, "/api/v1/enterprises/{id}/profile", Some(&office), &ids, |_| {}).await;
        ex.send(Method::PUT, "/api/v1/enterprises/{id}/five-haves/{have}", Some(&office), &with(&ids, &[("have", "sorting")]), |_| {}).await;

        // Notifications: a webhook (not called: no dispatcher runs here), and the inbox read up
        // to its latest message.
        let webhook = ex.send(Method::POST, "/api/v1/webhooks", Some(&office), &ids, |_| {}).await;
        ids.insert("webhook_id", id(&webhook));
        ex.send(Method::PATCH, "/api/v1/webhooks/{id}", Some(&office), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/webhooks/{id}/rotate-secret", Some(&office), &ids, |_| {}).await;
        let inbox: Value = app.get("/api/v1/inbox", &office).await.json().await.unwrap();
        let latest = inbox["items"].as_array().and_then(|m| m.last()).map(id).expect("the office was told of the pickups");
        ids.insert("message_id", latest);
        ex.send(Method::POST, "/api/v1/inbox/read", Some(&office), &ids, |_| {}).await;

        // Patrols: the office records one; the enterprise answers its finding with a photo;
        // the office closes and reopens it. Feedback: the enterprise writes, the office
        // answers, the enterprise adds a photo, the office closes it.
        let patrol = ex.send(Method::POST, "/api/v1/patrols", Some(&office), &ids, |_| {}).await;
        ids.insert("patrol_id", id(&patrol));
        ids.insert("finding_id", patrol["findings"][0]["id"].as_str().unwrap().to_owned());
        ex.send(Method::POST, "/api/v1/patrols/{id}/findings", Some(&office), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/findings/{id}/photos", Some(&producer), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/findings/{id}/answer", Some(&producer), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/findings/{id}/close", Some(&office), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/findings/{id}/reopen", Some(&office), &ids, |_| {}).await;
        let feedback = ex.send(Method::POST, "/api/v1/feedback", Some(&producer), &ids, |_| {}).await;
        ids.insert("feedback_id", id(&feedback));
        ex.send(Method::POST, "/api/v1/feedback/{id}/messages", Some(&office), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/feedback/{id}/photos", Some(&producer), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/feedback/{id}/close", Some(&office), &ids, |_| {}).await;

        // WeChat: the administrator links a WeChat account, which then signs in.
        ex.send(Method::POST, "/api/v1/auth/wechat/link", Some(&admin), &ids, |_| {}).await;
        ex.send(Method::POST, "/api/v1/auth/wechat/login", None, &ids, |_| {}).await;
        let r = app.request(Method::DELETE, "/api/v1/auth/wechat/link", Some(&admin)).send().await.unwrap();
        assert!(r.status().is_success(), "unlink: {}", r.status());
        let message = ids["message_id"].clone();
        let r = app.post_json(&format!("/api/v1/inbox/{message}/read"), Some(&office), &json!({})).await;
        assert!(r.status().is_success(), "read one: {}", r.status());
        let spare = access_token(&app.login("office", PASSWORD).await);
        let r = app.post_json("/api/v1/auth/logout", Some(&spare), &json!({})).await;
        assert!(r.status().is_success(), "logout: {}", r.status());

        // The working-day calendar: the example keeps a year.
        ex.send(Method::PUT, "/api/v1/calendar/{year}", Some(&admin), &with(&ids, &[("year", "2027")]), |_| {}).await;

        // The catalog, last: the example adds a code.
        ex.send(Method::POST, "/api/v1/catalog/imports", Some(&admin), &ids, |_| {}).await;

        // Query-parameter examples: every list, as a user who reads it.
        for op in ex.with_examples() {
            let Some(template) = op.strip_prefix("GET ") else { continue };
            let token = match template {
                "/api/v1/inbox" | "/api/v1/webhooks" | "/api/v1/webhooks/{id}/deliveries" => &office,
                _ => &admin,
            };
            ex.send_query(template, token, &ids).await;
        }

        let mut missing: Vec<String> = ex.with_examples().difference(&ex.sent).cloned().collect();
        missing.retain(|op| !NOT_SENT.iter().any(|(n, _)| n == op));
        assert!(missing.is_empty(), "operations whose example no step sends: {missing:#?}");

        // Every state-changing operation of the document left its entry in the audit chain
        // (named by its route), and the chain is intact.
        let chained: BTreeSet<String> = crate::audit::entries(&app, &admin).await.iter()
            .map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        let mut unaudited = Vec::new();
        for (path, item) in ex.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys().filter(|m| *m != "get") {
                let op = format!("{} {path}", method.to_uppercase());
                if !chained.contains(&op) && !NOT_CALLED.iter().any(|(n, _)| *n == op) {
                    unaudited.push(op);
                }
            }
        }
        assert!(unaudited.is_empty(), "state-changing operations without an audit entry: {unaudited:#?}");
        let report: Value = app.get("/api/v1/audit/verify", &admin).await.json().await.unwrap();
        assert_eq!(report["intact"], true, "{report}");
    }
}

#[test]
fn ids_are_recognised_and_substituted_by_field() {
    assert!(is_id("org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5"));
    assert!(!is_id("org_…"));
    assert!(!is_id("91440300MA5F000181"));
    let ids: Ids = HashMap::from([
        ("carrier_id", "org_real".to_owned()),
        ("zone_id", "zone_real".to_owned()),
    ]);
    let mut body = json!({"operator_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ec", "lines": [{"zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1"}], "plate": "粤B12345"});
    substitute(&mut body, "", &ids, "test");
    assert_eq!(
        body,
        json!({"operator_id": "org_real", "lines": [{"zone_id": "zone_real"}], "plate": "粤B12345"})
    );
    assert_eq!(
        concrete("/api/v1/zones/{id}/history", &ids),
        "/api/v1/zones/zone_real/history"
    );
}

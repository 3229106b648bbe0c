//! The committed OpenAPI document is the one the code generates, and the one it serves.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

fn generated() -> String {
    wastetrack::openapi::document()
        .to_pretty_json()
        .expect("the document renders")
}

#[test]
fn the_committed_document_matches_the_code() {
    let generated = generated();
    if std::env::var("WASTETRACK_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(COMMITTED, format!("{generated}\n")).expect("openapi/openapi.json written");
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` \
         (or WASTETRACK_UPDATE_OPENAPI=1 cargo test openapi) and commit the result"
    );
}

#[test]
fn every_operation_is_tagged_summarised_and_answers_errors_as_problems() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 10);
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let name = format!("{method} {path}");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name} has no tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name} has no summary"
            );
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    let response = match response["$ref"].as_str() {
                        Some(r) => {
                            &doc["components"]["responses"]
                                [r.rsplit('/').next().unwrap_or_default()]
                        }
                        None => response,
                    };
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{name} {status} is not a problem"
                    );
                }
            }
        }
    }
}

/// Whether a schema (following references, arrays and pages) carries an example.
fn has_example(doc: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 6 {
        return false;
    }
    if schema.get("example").is_some() || schema.get("examples").is_some() {
        return true;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return has_example(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    if schema["type"] == "array" {
        return has_example(doc, &schema["items"], depth + 1);
    }
    if let Some(items) = schema["properties"].get("items") {
        return has_example(doc, items, depth + 1);
    }
    false
}

#[test]
fn every_request_and_success_body_has_an_example() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let mut bodies: Vec<(String, &Value)> = Vec::new();
            if let Some(content) = op["requestBody"]["content"].as_object() {
                bodies.extend(content.values().map(|c| ("request".to_owned(), c)));
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                if let (true, Some(content)) =
                    (status.starts_with('2'), response["content"].as_object())
                {
                    bodies.extend(content.values().map(|c| (status.clone(), c)));
                }
            }
            for (which, content) in bodies {
                if content.get("example").is_none() && !has_example(&doc, &content["schema"], 0) {
                    missing.push(format!("{method} {path} {which}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "bodies without an example: {missing:#?}"
    );
}

#[actix_web::test]
async fn the_served_document_is_the_committed_one() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served: Value = response.json().await.unwrap();
    let generated: Value = serde_json::from_str(&generated()).unwrap();
    assert_eq!(served, generated);
}

#[test]
fn every_paged_list_documents_the_422_of_a_bad_limit_or_cursor() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let mut undocumented = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        let paged = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "limit" && p["in"] == "query");
        if paged && op["responses"].get("422").is_none() {
            undocumented.push(path.clone());
        }
    }
    assert!(
        undocumented.is_empty(),
        "lists that do not document the 422 of a bad limit or cursor: {undocumented:#?}"
    );
}

/// A small JSON Schema validator for the keywords this document uses (`$ref` to components,
/// `type`, `enum`, `pattern`, lengths, ranges, `required`, `properties`,
/// `additionalProperties: false`, `items`, `oneOf`/`anyOf`/`allOf`, `format` date and
/// date-time): enough to check the examples against their schemas without a dependency.
pub fn violations(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        let target = &doc["components"]["schemas"][name];
        assert!(target.is_object(), "{at}: unresolved {reference}");
        violations(doc, target, value, at, out);
    }
    let type_ok = |t: &str| match t {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t)) {
        out.push(format!("{at}: {value} is not of type {types:?}"));
        return;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {values:?}"));
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count();
        if let Some(pattern) = schema["pattern"].as_str() {
            let re = regex::Regex::new(pattern).expect("a valid pattern");
            if !re.is_match(s) {
                out.push(format!("{at}: {s:?} does not match {pattern}"));
            }
        }
        if schema["minLength"]
            .as_u64()
            .is_some_and(|m| (len as u64) < m)
        {
            out.push(format!(
                "{at}: {s:?} is shorter than {}",
                schema["minLength"]
            ));
        }
        if schema["maxLength"]
            .as_u64()
            .is_some_and(|m| (len as u64) > m)
        {
            out.push(format!(
                "{at}: {s:?} is longer than {}",
                schema["maxLength"]
            ));
        }
        match schema["format"].as_str() {
            Some("date") if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() => {
                out.push(format!("{at}: {s:?} is not a date"));
            }
            Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
                out.push(format!("{at}: {s:?} is not a date-time"));
            }
            _ => {}
        }
    }
    if let Some(n) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|m| n < m) {
            out.push(format!("{at}: {n} is below {}", schema["minimum"]));
        }
        if schema["maximum"].as_f64().is_some_and(|m| n > m) {
            out.push(format!("{at}: {n} is above {}", schema["maximum"]));
        }
    }
    if let Some(object) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                out.push(format!("{at}: {name} is missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (key, v) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => violations(doc, property, v, &format!("{at}.{key}"), out),
                None if schema["additionalProperties"] == false => {
                    out.push(format!("{at}: {key} is not a property"));
                }
                None => {
                    if let Some(additional) = schema["additionalProperties"].as_object() {
                        let additional = Value::Object(additional.clone());
                        violations(doc, &additional, v, &format!("{at}.{key}"), out);
                    }
                }
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            violations(doc, items, v, &format!("{at}[{i}]"), out);
        }
    }
    for sub in schema["allOf"].as_array().into_iter().flatten() {
        violations(doc, sub, value, at, out);
    }
    for (keyword, wanted) in [("oneOf", Some(1)), ("anyOf", None)] {
        if let Some(subs) = schema[keyword].as_array() {
            let matching = subs
                .iter()
                .filter(|sub| {
                    let mut inner = Vec::new();
                    violations(doc, sub, value, at, &mut inner);
                    inner.is_empty()
                })
                .count();
            let ok = match wanted {
                Some(n) => matching == n,
                None => matching > 0,
            };
            if !ok {
                out.push(format!("{at}: {value} matches {matching} of the {keyword}"));
            }
        }
    }
}

#[test]
fn every_example_validates_against_its_own_schema() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let mut out = Vec::new();
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        if let Some(example) = schema.get("example") {
            checked += 1;
            violations(&doc, schema, example, &format!("schema {name}"), &mut out);
        }
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            for (content_type, media) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                if let Some(example) = media.get("example")
                    && content_type.ends_with("json")
                {
                    checked += 1;
                    violations(
                        &doc,
                        &media["schema"],
                        example,
                        &format!("{name} request"),
                        &mut out,
                    );
                }
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                let Some(example) = param
                    .get("example")
                    .or_else(|| param["schema"].get("example"))
                else {
                    continue;
                };
                checked += 1;
                // Query examples are text on the wire; numbers and booleans are checked as such.
                violations(
                    &doc,
                    &param["schema"],
                    example,
                    &format!("{name} {}", param["name"]),
                    &mut out,
                );
            }
        }
    }
    assert!(checked > 50, "only {checked} examples");
    assert!(
        out.is_empty(),
        "examples that violate their schemas:\n{}",
        out.join("\n")
    );
}

#[test]
fn the_schemas_state_the_constraints_the_server_checks() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        resolved(&doc, &schemas["LotView"]["properties"]["status"])["enum"],
        serde_json::json!(["stored", "declared", "voided", "collected"])
    );
    assert_eq!(
        schemas["WeighInRequest"]["properties"]["waste_code"]["pattern"],
        "^[0-9]{3}-[0-9]{3}-(0[1-9]|[1-3][0-9]|40|4[5-9]|50|S(0[1-9]|[1-9][0-9]))$"
    );
    assert_eq!(
        schemas["WeighInRequest"]["properties"]["gross_grams"]["minimum"],
        1
    );
    assert_eq!(
        schemas["CreateEnterpriseRequest"]["properties"]["uscc"]["pattern"],
        "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
    );
    assert_eq!(
        schemas["IssueRequest"]["properties"]["period"]["pattern"],
        "^[0-9]{4}-(0[1-9]|1[0-2])$"
    );
    assert_eq!(
        schemas["RotateRequest"]["properties"]["keep_previous_hours"]["maximum"],
        168
    );
    let within = doc["paths"]["/api/v1/alerts/expirations"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "within_days"))
        .expect("within_days");
    assert_eq!(
        (
            within["schema"]["minimum"].clone(),
            within["schema"]["maximum"].clone()
        ),
        (serde_json::json!(1), serde_json::json!(365))
    );
    // Every required text of a request is non-empty.
    for (name, schema) in schemas.as_object().expect("schemas") {
        if !name.ends_with("Request") {
            continue;
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            let property = &schema["properties"][required.as_str().unwrap_or_default()];
            if property["type"] == "string"
                && property.get("format").is_none()
                && property.get("enum").is_none()
            {
                assert!(
                    property["minLength"].as_u64() >= Some(1),
                    "{name}.{required}"
                );
            }
        }
    }
}

/// The schema `schema` stands for: following a reference, and for an optional value the
/// alternative that is not null.
fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return resolved(doc, &doc["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alternatives) = schema[key].as_array()
            && let Some(value) = alternatives.iter().find(|a| a["type"] != "null")
        {
            return resolved(doc, value);
        }
    }
    schema
}

#[test]
fn every_status_is_a_named_schema_listing_its_values() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let schemas = &doc["components"]["schemas"];
    let lot = serde_json::json!(["stored", "declared", "voided", "collected"]);
    let request = serde_json::json!([
        "requested",
        "accepted",
        "scheduled",
        "collected",
        "declined",
        "cancelled"
    ]);
    let manifest = serde_json::json!(["draft", "confirmed", "in_transit", "received", "completed"]);
    let delivery = serde_json::json!(["pending", "delivered", "failed"]);
    let thread = serde_json::json!(["open", "answered", "closed"]);
    for (schema, field, name, values) in [
        ("LotView", "status", "LotStatus", &lot),
        ("RequestLot", "status", "LotStatus", &lot),
        ("RequestView", "status", "RequestStatus", &request),
        ("ManifestView", "status", "ManifestStatus", &manifest),
        ("ManifestSummary", "status", "ManifestStatus", &manifest),
        (
            "ManifestView",
            "case_status",
            "CaseStatus",
            &serde_json::json!(["open", "resolved"]),
        ),
        (
            "RevisionView",
            "status",
            "RevisionStatus",
            &serde_json::json!(["pending", "applied", "rejected"]),
        ),
        ("DeliveryView", "status", "DeliveryStatus", &delivery),
        (
            "EndpointView",
            "status",
            "EndpointStatus",
            &serde_json::json!(["active", "disabled"]),
        ),
        ("ThreadSummary", "status", "ThreadStatus", &thread),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert!(
            property
                .to_string()
                .contains(&format!("\"#/components/schemas/{name}\"")),
            "{schema}.{field} is not a {name}: {property}"
        );
        let status = resolved(&doc, property);
        assert_eq!(status["type"], "string", "{schema}.{field}");
        assert_eq!(&status["enum"], values, "{schema}.{field}");
    }
    for (path, values) in [
        ("/api/v1/lots", &lot),
        ("/api/v1/lots/export.csv", &lot),
        ("/api/v1/pickup-requests", &request),
        ("/api/v1/manifests", &manifest),
        ("/api/v1/feedback", &thread),
    ] {
        let status = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "status"))
            .unwrap_or_else(|| panic!("{path} takes no status"));
        assert_eq!(&resolved(&doc, &status["schema"])["enum"], values, "{path}");
    }
}

#[test]
fn every_link_names_an_operation_and_its_real_parameters() {
    let doc: Value = serde_json::from_str(&generated()).expect("JSON");
    let mut operations = std::collections::BTreeMap::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            operations.insert(
                op["operationId"].as_str().expect("operationId").to_owned(),
                op.clone(),
            );
        }
    }
    let names = |op: &Value, location: &str| -> Vec<String> {
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == location)
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    };
    let mut links = 0;
    let mut created_without_link = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            for (status, response) in op["responses"].as_object().expect("responses") {
                let response_links = response["links"].as_object();
                if method == "post"
                    && status == "201"
                    && response_links.is_none_or(|l| l.is_empty())
                {
                    created_without_link.push(name.clone());
                }
                for (link_name, link) in response_links.into_iter().flatten() {
                    links += 1;
                    let target_id = link["operationId"].as_str().unwrap_or_default();
                    let target = operations.get(target_id).unwrap_or_else(|| {
                        panic!("{name} {status} {link_name}: no operation {target_id}")
                    });
                    let mut wanted = names(target, "path");
                    for (param, expression) in link["parameters"].as_object().expect("parameters") {
                        let Some(position) = wanted.iter().position(|p| p == param) else {
                            panic!(
                                "{name} {status} {link_name}: {target_id} has no path parameter {param}"
                            );
                        };
                        wanted.remove(position);
                        let expression = expression.as_str().expect("an expression");
                        if let Some(from) = expression.strip_prefix("$request.path.") {
                            assert!(
                                names(op, "path").iter().any(|p| p == from),
                                "{name}: no path parameter {from}"
                            );
                        } else {
                            let pointer = expression
                                .strip_prefix("$response.body#")
                                .expect("a body pointer");
                            let example = response["content"]["application/json"]["schema"]["$ref"]
                                .as_str()
                                .map(|r| {
                                    &doc["components"]["schemas"]
                                        [r.rsplit('/').next().unwrap_or_default()]["example"]
                                })
                                .expect("a schema");
                            assert!(
                                example.pointer(pointer).is_some_and(Value::is_string),
                                "{name} {status} {link_name}: {pointer} names nothing in the example {example}"
                            );
                        }
                    }
                    assert!(
                        wanted.is_empty(),
                        "{name} {status} {link_name}: {target_id}'s {wanted:?} not given"
                    );
                }
            }
        }
    }
    // Creations that make nothing one can address afterwards by an id (the WeChat link is the
    // signed-in user's own, at the same path: GET and DELETE /auth/wechat/link).
    created_without_link.retain(|n| {
        ![
            "POST /api/v1/payments",
            "POST /api/v1/statements/{id}/notes",
            "POST /api/v1/auth/wechat/link",
        ]
        .contains(&n.as_str())
    });
    assert!(
        created_without_link.is_empty(),
        "created objects without links: {created_without_link:#?}"
    );
    assert!(links > 100, "{links} links");
    let link_of = |path: &str, method: &str, status: &str, target: &str| {
        doc["paths"][path][method]["responses"][status]["links"]
            .get(target)
            .is_some()
    };
    assert!(
        link_of("/api/v1/lots", "post", "201", "label_svg"),
        "lot → label"
    );
    assert!(
        link_of("/api/v1/pickup-requests", "post", "201", "collect"),
        "request → collect"
    );
    assert!(
        link_of(
            "/api/v1/pickup-requests/{id}/collect",
            "post",
            "201",
            "manifests_get"
        ),
        "collection → manifest"
    );
    assert!(
        link_of("/api/v1/manifests/{id}", "get", "200", "take_over"),
        "manifest → step"
    );
    assert!(
        link_of("/api/v1/manifests/{id}", "get", "200", "print"),
        "manifest → print"
    );
}

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

//! Every shared error status the document claims is one the server answers: for each, the
//! operations that document it are taken from the generated document, and the status is
//! provoked on each of them on a live server. And every status the server answers to these
//! requests is documented on the operation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token};

/// An id of the right shape that names nothing.
const NO_SUCH_ID: &str = "zzz_0193a8f0c2d47e8b9a1c2d3e4f5a6b7c";
/// A waste code of the right shape that is in no catalog.
const NO_SUCH_CODE: &str = "999-999-08";
/// A year of the right range whose working-day calendar is not held.
const NO_SUCH_YEAR: &str = "2099";

/// Operations with a path parameter that answer an administrator 2xx for an object that does
/// not exist, with the reason.
const NO_404_FOR_ADMINISTRATORS: &[(&str, &str)] = &[
    (
        "list_drivers",
        "an administrator may read every fleet, and a fleet that does not exist has no drivers; \
         others are answered 404 for a fleet they may not see",
    ),
    (
        "put_year",
        "a year of the working-day calendar is kept whole: putting a year not held creates it",
    ),
];

/// One operation of the document.
struct Op {
    method: Method,
    template: String,
    op: Value,
}

impl Op {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// The path with every parameter replaced by a value naming nothing (an id, or a waste
    /// code of the right shape), and the required query parameters given their examples.
    fn path(&self) -> String {
        self.path_with(|segment| match segment {
            "{code}" => NO_SUCH_CODE,
            "{year}" => NO_SUCH_YEAR,
            _ => NO_SUCH_ID,
        })
    }

    fn path_with<'a>(&'a self, value: impl Fn(&'a str) -> &'a str) -> String {
        let path = self
            .template
            .split('/')
            .map(|s| if s.starts_with('{') { value(s) } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let required: Vec<String> = self.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .filter_map(|p| {
                let value = match p.get("example").or_else(|| p["schema"].get("example"))? {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some(format!(
                    "{}={value}",
                    p["name"].as_str().unwrap_or_default()
                ))
            })
            .collect();
        if required.is_empty() {
            path
        } else {
            format!("{path}?{}", required.join("&"))
        }
    }

    fn documents(&self, status: StatusCode) -> bool {
        self.op["responses"].get(status.as_str()).is_some()
    }

    fn secured(&self) -> bool {
        self.op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()))
    }

    fn body_type(&self) -> Option<String> {
        self.op["requestBody"]["content"]
            .as_object()
            .and_then(|c| c.keys().next().cloned())
    }

    fn params(&self, location: &str) -> Vec<String> {
        self.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == location)
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// The example request body, as sent by the examples test (made-up ids left as they are).
    fn example(&self, doc: &Value) -> Value {
        let Some(content) = self.body_type() else {
            return Value::Null;
        };
        let media = &self.op["requestBody"]["content"][&content];
        media.get("example").cloned().unwrap_or_else(|| {
            let schema = &media["schema"];
            match schema["$ref"].as_str() {
                Some(r) => {
                    doc["components"]["schemas"][r.rsplit('/').next().unwrap()]["example"].clone()
                }
                None => schema["example"].clone(),
            }
        })
    }
}

fn operations(doc: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            ops.push(Op {
                method: method.to_uppercase().parse().expect("method"),
                template: template.clone(),
                op: op.clone(),
            });
        }
    }
    ops
}

fn document() -> Value {
    serde_json::to_value(wastetrack::openapi::document()).expect("the document as JSON")
}

/// Sends a request and checks its answer: `expected`, a problem document, and documented.
async fn expect(
    app: &TestApp,
    op: &Op,
    request: reqwest::RequestBuilder,
    expected: StatusCode,
    what: &str,
    failures: &mut Vec<String>,
) {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            failures.push(format!("{} ({what}): not answered: {e}", op.name()));
            return;
        }
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    if status != expected {
        failures.push(format!(
            "{} ({what}): answered {status}, not {expected}: {text}",
            op.name()
        ));
    } else if !op.documents(status) {
        failures.push(format!(
            "{} ({what}): answered {status}, which it does not document",
            op.name()
        ));
    } else if content_type != "application/problem+json" {
        failures.push(format!(
            "{} ({what}): answered {status} as {content_type}",
            op.name()
        ));
    }
    let _ = app;
}

fn report(what: &str, tried: usize, failures: Vec<String>) {
    assert!(tried > 0, "{what}: no operation to try");
    assert!(
        failures.is_empty(),
        "{what}: {} of {tried} operations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

backend_tests! {
    async fn every_authenticated_operation_answers_401_without_a_token(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter().filter(|op| op.secured()) {
            tried += 1;
            let mut request = app.request(op.method.clone(), &op.path(), None);
            if op.body_type().is_some() {
                request = request.json(&op.example(&doc));
            }
            expect(&app, op, request, StatusCode::UNAUTHORIZED, "no token", &mut failures).await;
            let bad = app
                .request(op.method.clone(), &op.path(), Some("not.a.token"));
            expect(&app, op, bad, StatusCode::UNAUTHORIZED, "a malformed token", &mut failures)
                .await;
        }
        report("401", tried, failures);
    }

    async fn every_operation_with_a_body_answers_415_to_another_content_type(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter().filter(|op| op.body_type().is_some()) {
            tried += 1;
            assert!(op.documents(StatusCode::UNSUPPORTED_MEDIA_TYPE), "{} does not document 415", op.name());
            let request = app
                .request(op.method.clone(), &op.path(), Some(&admin))
                .header("content-type", "application/xml")
                .body("<lot/>");
            expect(&app, op, request, StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/xml", &mut failures).await;
        }
        report("415", tried, failures);
    }

    async fn every_operation_with_a_body_answers_413_to_a_body_over_the_limit(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter() {
            let Some(content_type) = op.body_type() else { continue };
            tried += 1;
            assert!(op.documents(StatusCode::PAYLOAD_TOO_LARGE), "{} does not document 413", op.name());
            // Over the JSON limit (64 KiB), a photo's (5 MiB) and the catalog import's (4 MiB).
            let size = match content_type.as_str() {
                "application/json" => 65 * 1024,
                t if t.starts_with("image/") => wastetrack::domain::photo::MAX_PHOTO_BYTES + 1,
                _ => 4 * 1024 * 1024 + 1,
            };
            let request = app
                .request(op.method.clone(), &op.path(), Some(&admin))
                .header("content-type", content_type)
                .body(" ".repeat(size));
            expect(&app, op, request, StatusCode::PAYLOAD_TOO_LARGE, "a body over the limit", &mut failures).await;
        }
        report("413", tried, failures);
    }

    async fn every_json_operation_answers_400_to_malformed_json_and_422_to_an_unknown_field(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter().filter(|op| op.body_type().as_deref() == Some("application/json")) {
            tried += 1;
            let token = if op.secured() { Some(admin.as_str()) } else { None };
            let malformed = app
                .request(op.method.clone(), &op.path(), token)
                .header("content-type", "application/json")
                .body("{\"name\": ");
            expect(&app, op, malformed, StatusCode::BAD_REQUEST, "malformed JSON", &mut failures).await;
            let mut example = op.example(&doc);
            example["not_a_field_of_any_request"] = json!(1);
            let unknown = app.request(op.method.clone(), &op.path(), token).json(&example);
            expect(&app, op, unknown, StatusCode::UNPROCESSABLE_ENTITY, "an unknown field", &mut failures).await;
        }
        report("400 and 422 of a JSON body", tried, failures);
    }

    async fn every_operation_reading_the_idempotency_key_answers_400_to_a_bad_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter().filter(|op| op.params("header").iter().any(|h| h == "Idempotency-Key")) {
            tried += 1;
            for key in ["", "a key with spaces", &"k".repeat(256)] {
                let mut request = app
                    .request(op.method.clone(), &op.path(), Some(&admin))
                    .header("idempotency-key", key);
                if op.body_type().is_some() {
                    request = request.json(&op.example(&doc));
                }
                expect(&app, op, request, StatusCode::BAD_REQUEST, &format!("Idempotency-Key {key:?}"), &mut failures).await;
            }
        }
        report("400 of a bad Idempotency-Key", tried, failures);
    }

    async fn every_operation_with_query_parameters_answers_422_to_a_bad_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter() {
            let query = op.params("query");
            let Some(first) = query.first() else { continue };
            tried += 1;
            // The same parameter twice is refused whatever its type, before any other check.
            let path = format!("{}?{first}=1&{first}=2", op.path());
            let mut request = app.request(op.method.clone(), &path, Some(&admin));
            if let Some(content_type) = op.body_type() {
                request = request.header("content-type", content_type).body("");
            }
            expect(&app, op, request, StatusCode::UNPROCESSABLE_ENTITY, "a parameter given twice", &mut failures).await;
        }
        report("422 of a query parameter", tried, failures);
    }

    async fn every_operation_with_a_path_parameter_answers_404_for_an_object_that_does_not_exist(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter().filter(|op| !op.params("path").is_empty()) {
            if NO_404_FOR_ADMINISTRATORS.iter().any(|(id, _)| op.op["operationId"] == *id) {
                continue;
            }
            tried += 1;
            let mut request = app.request(op.method.clone(), &op.path(), Some(&admin));
            if op.body_type().as_deref() == Some("application/json") {
                request = request.json(&op.example(&doc));
            } else if op.body_type().is_some_and(|t| t.starts_with("image/")) {
                // A photo upload: a body that is an image of the type named.
                request = request.header("content-type", "image/jpeg").body(vec![0xFF, 0xD8, 0xFF, 0xE0]);
            }
            expect(&app, op, request, StatusCode::NOT_FOUND, "an object that does not exist", &mut failures).await;
        }
        report("404", tried, failures);
    }

    async fn text_with_a_nul_character_in_the_path_is_answered_with_a_documented_status(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let (mut tried, mut failures) = (0, Vec::new());
        for op in operations(&doc).iter().filter(|op| !op.params("path").is_empty()) {
            if NO_404_FOR_ADMINISTRATORS.iter().any(|(id, _)| op.op["operationId"] == *id) {
                continue;
            }
            tried += 1;
            let mut request = app.request(op.method.clone(), &op.path_with(|s| if s == "{code}" { "999-999-0%00" } else { "a%00b" }), Some(&admin));
            if op.body_type().as_deref() == Some("application/json") {
                request = request.json(&op.example(&doc));
            } else if op.body_type().is_some_and(|t| t.starts_with("image/")) {
                // A photo upload: a body that is an image of the type named.
                request = request.header("content-type", "image/jpeg").body(vec![0xFF, 0xD8, 0xFF, 0xE0]);
            }
            let response = request.send().await.expect("answered");
            let status = response.status();
            // PostgreSQL refuses the text (400); SQLite finds nothing (404); a waste code with a
            // NUL is not a waste code (422).
            let expected = [StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND, StatusCode::UNPROCESSABLE_ENTITY];
            if !expected.contains(&status) || !op.documents(status) {
                failures.push(format!("{}: NUL in the path answered {status}", op.name()));
            }
        }
        report("NUL in the path", tried, failures);
    }

    async fn catalog_imports_are_refused_with_403_to_others_than_administrators(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let org = app.create_org(&admin, "park", "Office").await;
        app.create_user(&admin, &org, "office.user", "park_office", "a long password").await;
        let token = access_token(&app.login("office.user", "a long password").await);
        let mut failures = Vec::new();
        let ops = operations(&doc);
        let get_import = ops
            .iter()
            .find(|op| op.op["operationId"] == "get_import")
            .expect("get_import");
        let request = app.request(Method::GET, &get_import.path(), Some(&token));
        expect(&app, get_import, request, StatusCode::FORBIDDEN, "not an administrator", &mut failures).await;
        report("403", 1, failures);
    }

    async fn changing_a_password_answers_429_after_too_many_wrong_current_passwords(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let doc = document();
        let ops = operations(&doc);
        let op = ops
            .iter()
            .find(|op| op.op["operationId"] == "change_password")
            .expect("change_password");
        let body = json!({"current_password": "not the password", "new_password": "a longer passphrase 2026"});
        let mut last = StatusCode::OK;
        for _ in 0..20 {
            last = app.post_json("/api/v1/auth/password", Some(&admin), &body).await.status();
            if last == StatusCode::TOO_MANY_REQUESTS {
                break;
            }
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
        let mut failures = Vec::new();
        let request = app.request(Method::POST, "/api/v1/auth/password", Some(&admin)).json(&body);
        expect(&app, op, request, StatusCode::TOO_MANY_REQUESTS, "too many wrong passwords", &mut failures).await;
        report("429", 1, failures);
    }
}

#[test]
fn shared_statuses_are_declared_once_and_referenced_where_the_operation_can_answer_them() {
    let doc = document();
    let responses = doc["components"]["responses"]
        .as_object()
        .expect("responses");
    for (name, response) in responses {
        assert_eq!(
            response["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{name}"
        );
    }
    let mut missing = Vec::new();
    for op in operations(&doc) {
        let query = !op.params("query").is_empty();
        let path = !op.params("path").is_empty();
        let key = op.params("header").iter().any(|h| h == "Idempotency-Key");
        let body = op.body_type();
        let json = body.as_deref() == Some("application/json");
        let id = op.op["operationId"].as_str().unwrap_or_default();
        let mut wanted = vec![];
        if body.is_some() || query || path || key {
            wanted.push("400");
        }
        if op.secured() {
            wanted.push("401");
        }
        if path {
            wanted.push("404");
        }
        if body.is_some() {
            wanted.extend(["413", "415"]);
        }
        if json || query || key {
            wanted.push("422");
        }
        if !["healthz", "serve"].contains(&id) {
            wanted.extend(["500", "503"]);
        }
        for status in wanted {
            if op.op["responses"].get(status).is_none() {
                missing.push(format!("{} {status}", op.name()));
            }
        }
        for (status, response) in op.op["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                let reference = response["$ref"].as_str().unwrap_or_default();
                let name = reference.strip_prefix("#/components/responses/");
                assert!(
                    name.is_some_and(|n| responses.contains_key(n)),
                    "{} {status} is not a reference to a shared response: {response}",
                    op.name()
                );
            }
        }
    }
    assert!(missing.is_empty(), "undocumented statuses: {missing:#?}");
}

#[test]
fn operation_ids_are_unique() {
    let doc = document();
    let mut seen = std::collections::BTreeMap::new();
    for op in operations(&doc) {
        let id = op.op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no operationId", op.name()))
            .to_owned();
        if let Some(other) = seen.insert(id.clone(), op.name()) {
            panic!("{id} names both {other} and {}", op.name());
        }
    }
}

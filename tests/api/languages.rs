//! Problem documents speak Chinese by default and English where the client asks for it, from
//! one catalogue; their `type`, status, field names and field codes are the same in both.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_in_chinese, has_chinese};

/// Sends `request` in the language `accept` (none when `None`) and returns the problem, its
/// status and its `Content-Language`.
async fn problem(
    request: reqwest::RequestBuilder,
    accept: Option<&str>,
) -> (StatusCode, String, Value) {
    let request = match accept {
        Some(language) => request.header("accept-language", language),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let vary = response
        .headers()
        .get("vary")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let language = response
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert!(
        vary.contains("accept-language"),
        "Vary names Accept-Language: {vary:?}"
    );
    (status, language, body)
}

/// A request that can be sent again.
type Request<'a> = Box<dyn Fn() -> reqwest::RequestBuilder + 'a>;

/// The parts of a problem that never depend on the language.
fn invariant(problem: &Value) -> Value {
    let fields: Vec<Value> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| json!([e["field"], e["code"]]))
        .collect();
    json!({"type": problem["type"], "status": problem["status"], "errors": fields})
}

fn english(problem: &Value) {
    for text in [&problem["title"], &problem["detail"]] {
        let text = text.as_str().unwrap_or("");
        assert!(
            !text.is_empty() && !has_chinese(text),
            "{text:?} should be English in {problem}"
        );
    }
    for error in problem["errors"].as_array().into_iter().flatten() {
        assert!(
            !has_chinese(error["message"].as_str().unwrap_or("")),
            "{problem}"
        );
    }
}

backend_tests! {
    async fn field_messages_in_chinese_by_default_and_english_when_asked(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let body = json!({"name": "x".repeat(201), "region_code": "990307", "address": "Longgang"});
        let send = || app.request(Method::POST, "/api/v1/parks", Some(&admin)).json(&body);

        let (status, language, zh) = problem(send(), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(language, "zh-CN");
        assert_in_chinese(&zh);
        assert_eq!(zh["title"], "请求参数未通过校验", "{zh}");

        let (_, language, en) = problem(send(), Some("en")).await;
        assert_eq!(language, "en");
        english(&en);
        assert_eq!(en["title"], "Your request parameters didn't validate", "{en}");

        // The same problem: the type, the status, every field and its code.
        assert_eq!(invariant(&zh), invariant(&en));
        assert!(!invariant(&zh)["errors"].as_array().unwrap().is_empty());
        // A message's numbers are carried into the translation.
        let message = |p: &Value, field: &str| {
            p["errors"].as_array().unwrap().iter().find(|e| e["field"] == field).map(|e| e["message"].as_str().unwrap().to_owned()).unwrap()
        };
        assert_eq!(message(&en, "name"), "must be at most 200 characters");
        assert_eq!(message(&zh, "name"), "最多 200 个字符");
        assert_eq!(message(&zh, "region_code"), "99 不是 GB/T 2260 中的省级代码");
    }

    async fn the_language_is_negotiated_by_quality(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let cases = [
            (Some("en-GB,en;q=0.9"), "en"),
            (Some("fr-FR,en;q=0.5,zh;q=0.3"), "en"),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), "zh-CN"),
            (Some("zh-TW"), "zh-CN"),
            (Some("de"), "zh-CN"),
            (Some("*"), "zh-CN"),
            (Some("en;q=0,zh"), "zh-CN"),
            (Some("not a language ;;"), "zh-CN"),
            (None, "zh-CN"),
        ];
        for (accept, expected) in cases {
            let request = app.request(Method::GET, "/api/v1/lots", None);
            let (status, language, body) = problem(request, accept).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(language, expected, "for {accept:?}");
            if expected == "en" {
                english(&body);
                assert_eq!(body["title"], "Authentication is required");
            } else {
                assert_in_chinese(&body);
                assert_eq!(body["title"], "需要登录认证");
            }
            assert_eq!(body["type"], "urn:wastetrack:problem:unauthenticated");
        }
    }

    async fn every_kind_of_problem_speaks_both_languages(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.body_limit_bytes = 1024).await;
        let admin = app.admin_token().await;
        let requests: Vec<(&str, Request<'_>)> = vec![
            ("malformed JSON (400)", Box::new(|| app.request(Method::POST, "/api/v1/parks", Some(&admin)).header("content-type", "application/json").body("{"))),
            ("bad token (401)", Box::new(|| app.request(Method::GET, "/api/v1/lots", Some("not-a-token")))),
            ("unknown path (404)", Box::new(|| app.request(Method::GET, "/api/v1/no-such-thing", Some(&admin)))),
            ("unknown object (404)", Box::new(|| app.request(Method::GET, "/api/v1/parks/park_missing", Some(&admin)))),
            ("wrong method (405)", Box::new(|| app.request(Method::DELETE, "/api/v1/parks", Some(&admin)))),
            ("too large (413)", Box::new(|| app.request(Method::POST, "/api/v1/parks", Some(&admin)).header("content-type", "application/json").body(format!("{{\"name\":\"{}\"}}", "x".repeat(2000))))),
            ("not JSON (415)", Box::new(|| app.request(Method::POST, "/api/v1/parks", Some(&admin)).header("content-type", "text/plain").body("x"))),
            ("bad query (422)", Box::new(|| app.request(Method::GET, "/api/v1/parks?limit=0", Some(&admin)))),
            ("empty query (422)", Box::new(|| app.request(Method::GET, "/api/v1/parks?cursor=", Some(&admin)))),
            ("wrong type (422)", Box::new(|| app.request(Method::POST, "/api/v1/parks", Some(&admin)).json(&json!({"name": 42, "region_code": "440307", "address": "x"})))),
        ];
        for (what, request) in requests {
            let (status_zh, language_zh, zh) = problem(request(), None).await;
            let (status_en, language_en, en) = problem(request(), Some("en-US")).await;
            assert!(status_zh.is_client_error(), "{what}: {status_zh}");
            assert_eq!(status_zh, status_en, "{what}");
            assert_eq!((language_zh.as_str(), language_en.as_str()), ("zh-CN", "en"), "{what}");
            assert_in_chinese(&zh);
            english(&en);
            assert_eq!(invariant(&zh), invariant(&en), "{what}");
        }
    }
}

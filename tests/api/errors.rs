//! Every kind of bad input gets a 4xx problem document, never a 500, HTML or plain text, and
//! a rejected request changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields};

backend_tests! {
    async fn malformed_json_is_400(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        for body in ["{", "", "{\"name\": \"park\", \"region_code\": }", "[1,2", "{\"name\":\"x\"} trailing"] {
            let response = app
                .request(Method::POST, "/api/v1/parks", Some(&admin))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_problem(response, StatusCode::BAD_REQUEST, "malformed-request").await;
        }
    }

    async fn wrong_content_type_is_415(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
            let mut request = app.request(Method::POST, "/api/v1/auth/login", None).body(r#"{"username":"admin","password":"x"}"#);
            if let Some(ct) = content_type {
                request = request.header("content-type", ct);
            }
            let response = request.send().await.unwrap();
            assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type").await;
        }
    }

    async fn a_body_over_the_limit_is_413(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.body_limit_bytes = 1024).await;
        let big = json!({"username": "admin", "password": "x".repeat(2000)});
        let response = app.post_json("/api/v1/auth/login", None, &big).await;
        assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;

        // Without a Content-Length (chunked), the limit holds while reading.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(b"{\"username\":\"admin\",\"password\":\"".to_vec()), Ok(vec![b'x'; 4096]), Ok(b"\"}".to_vec())];
        let response = app
            .request(Method::POST, "/api/v1/auth/login", None)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
            .send()
            .await
            .unwrap();
        assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;
    }

    async fn unknown_missing_and_mistyped_fields_are_422_naming_the_field(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = |extra: Value| {
            let mut body = json!({"name": "A park", "region_code": "440307", "address": "Longgang"});
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() {
                    body.as_object_mut().unwrap().remove(k);
                } else {
                    body[k] = v.clone();
                }
            }
            body
        };
        let cases = [
            (park(json!({"colour": "green"})), "colour", "unknown_field"),
            (park(json!({"region_code": null})), "region_code", "required"),
            (park(json!({"name": 42})), "name", "invalid_type"),
            (park(json!({"region_code": "990307"})), "region_code", "unknown_province"),
            (park(json!({"time_zone": "Mars/Olympus"})), "time_zone", "invalid"),
            (park(json!({"name": "  "})), "name", "required"),
            (park(json!({"name": "x".repeat(201)})), "name", "too_long"),
        ];
        for (body, field, code) in cases {
            let response = app.post_json("/api/v1/parks", Some(&admin), &body).await;
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field.to_owned()], "{body}");
            assert_eq!(problem["errors"][0]["code"], code, "{body}");
        }
        // Several bad fields are reported together.
        let response = app
            .post_json(
                "/api/v1/users",
                Some(&admin),
                &json!({"organization_id": "org_x", "username": "a b", "display_name": "", "role": "driver", "password": "short"}),
            )
            .await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let mut fields = error_fields(&problem);
        fields.sort();
        assert_eq!(fields, vec!["display_name", "password", "username"]);
    }

    async fn bad_query_parameters_are_422_naming_the_parameter(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        for (query, field) in [("limit=0", "limit"), ("limit=1000", "limit"), ("limit=abc", "limit"), ("cursor=%25%25", "cursor"), ("kind=volcano", "kind")] {
            let response = app.get(&format!("/api/v1/organizations?{query}"), &admin).await;
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field.to_owned()], "{query}");
        }
    }

    async fn empty_list_parameters_are_422_naming_them_on_every_list(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let lists = ["/api/v1/organizations", "/api/v1/users", "/api/v1/parks", "/api/v1/enterprises", "/api/v1/disposers",
            "/api/v1/carriers", "/api/v1/vehicles", "/api/v1/bureaus", "/api/v1/warehouses", "/api/v1/contracts",
            "/api/v1/catalog/categories", "/api/v1/catalog/codes", "/api/v1/catalog/imports", "/api/v1/lots",
            "/api/v1/manifests", "/api/v1/pickup-requests", "/api/v1/statements", "/api/v1/inbox", "/api/v1/webhooks"];
        for list in lists {
            // Left out, the parameters take their defaults.
            let r = app.get(list, &admin).await;
            assert_eq!(r.status(), StatusCode::OK, "{list}");
            for (query, fields) in [("limit=", vec!["limit"]), ("cursor=", vec!["cursor"]), ("limit=%20", vec!["limit"]),
                ("limit=&cursor=", vec!["limit", "cursor"])] {
                let r = app.get(&format!("{list}?{query}"), &admin).await;
                let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
                assert_eq!(error_fields(&problem), fields, "{list}?{query}");
                assert!(problem["errors"].as_array().unwrap().iter().all(|e| e["code"] == "empty"), "{problem}");
            }
        }
        // The lists' shared filters follow the same rule.
        for (path, field) in [("/api/v1/lots?from=", "from"), ("/api/v1/manifests?to=", "to"), ("/api/v1/lots?status=", "status")] {
            let r = app.get(path, &admin).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field.to_owned()], "{path}");
        }
    }

    async fn nul_characters_and_junk_cursors_are_refused_not_failed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        // An id with a NUL names nothing: 404 (SQLite) or 400 (PostgreSQL refuses such text).
        for path in ["/api/v1/parks/%00", "/api/v1/contracts/%00/terms?code=900-041-49"] {
            let r = app.get(path, &admin).await;
            assert!(r.status().is_client_error(), "{path}: {}", r.status());
            assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
        }
        // As a filter it matches nothing, or is refused; never a server error.
        for path in ["/api/v1/enterprises?park_id=%00", "/api/v1/lots?zone_id=a%00b"] {
            let r = app.get(path, &admin).await;
            assert!(r.status() == StatusCode::OK || r.status() == StatusCode::BAD_REQUEST, "{path}: {}", r.status());
        }
        for cursor in ["AA", "AQ"] {
            let r = app.get(&format!("/api/v1/parks?cursor={cursor}"), &admin).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec!["cursor"]);
        }
        let r = app.post_json("/api/v1/enterprises", Some(&admin), &json!({"park_id": "x\u{0}y", "name": "n", "uscc": "91350100M000100Y43", "contact_name": "c", "contact_phone": "13800138000"})).await;
        assert!(r.status().is_client_error(), "{}", r.status());
        let r = app.get("/api/v1/catalog/codes?include_withdrawn=maybe", &admin).await;
        assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    }

    async fn wrong_paths_are_404_and_wrong_methods_405(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/nothing", "/api/v1/nothing", "/api/v2/users", "/api/v1/users/usr_x/extra"] {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            assert_problem(response, StatusCode::NOT_FOUND, "not-found").await;
        }
        // `/` is the console's: it sends whoever is not signed in to its sign-in page.
        let response = app.client.get(app.url("/")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/signin?next=%2F");
        let cases = [
            (Method::DELETE, "/api/v1/users", "GET, POST"),
            (Method::PUT, "/api/v1/users/usr_x", "GET, PATCH"),
            (Method::GET, "/api/v1/auth/login", "POST"),
            (Method::POST, "/healthz", "GET"),
        ];
        for (method, path, allow) in cases {
            let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
            assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
            assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;
        }
    }

    async fn a_rejected_request_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let org = app.create_org(&admin, "park", "Longgang park").await;
        let user = app.create_user(&admin, &org, "wang.fang", "park_office", "first password 1").await;

        // Same username, another password: refused, and the stored user is unchanged.
        let response = app
            .post_json(
                "/api/v1/users",
                Some(&admin),
                &json!({"organization_id": org, "username": "Wang.Fang", "display_name": "Impostor", "role": "park_office", "password": "second password 2"}),
            )
            .await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["username"]);
        let stored: Value = app.get(&format!("/api/v1/users/{user}"), &admin).await.json().await.unwrap();
        assert_eq!(stored["display_name"], "wang.fang");
        app.login("wang.fang", "first password 1").await;

        // A role that does not fit the organisation: refused, no user created.
        let response = app
            .post_json(
                "/api/v1/users",
                Some(&admin),
                &json!({"organization_id": org, "username": "driver.li", "display_name": "Li", "role": "driver", "password": "a long password"}),
            )
            .await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["role"]);
        let users: Value = app.get(&format!("/api/v1/users?organization_id={org}"), &admin).await.json().await.unwrap();
        assert_eq!(users["items"].as_array().map(Vec::len), Some(1));
    }
}

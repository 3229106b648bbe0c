//! Organisations and users: the administrator's endpoints and who may use them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem};

const PASSWORD: &str = "a good long password";

backend_tests! {
    async fn an_administrator_creates_organisations_and_users(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let org_id = app.create_org(&admin, "enterprise", "Huaxin Electronics").await;
        let org: Value = app.get(&format!("/api/v1/organizations/{org_id}"), &admin).await.json().await.unwrap();
        assert_eq!(org["kind"], "enterprise");
        assert_eq!(org["name"], "Huaxin Electronics");
        assert!(org_id.starts_with("org_"));
        let all: Value = app.get("/api/v1/organizations?kind=enterprise", &admin).await.json().await.unwrap();
        assert_eq!(all["items"].as_array().map(Vec::len), Some(1));

        let user_id = app.create_user(&admin, &org_id, "Chen.Jie", "enterprise_user", PASSWORD).await;
        let user: Value = app.get(&format!("/api/v1/users/{user_id}"), &admin).await.json().await.unwrap();
        assert_eq!(user["username"], "chen.jie");
        assert_eq!(user["role"], "enterprise_user");
        assert_eq!(user["active"], true);
        assert!(user.get("password_hash").is_none() && user.get("password").is_none());

        let tokens = app.login("chen.jie", PASSWORD).await;
        let me: Value = app.get("/api/v1/me", &access_token(&tokens)).await.json().await.unwrap();
        assert_eq!(me["organization"]["id"], org_id);

        // Users need an existing organisation.
        let response = app
            .post_json("/api/v1/users", Some(&admin), &json!({"organization_id": "org_missing", "username": "ghost", "display_name": "G", "role": "inspector", "password": PASSWORD}))
            .await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "organization_id");
    }

    async fn roles_must_fit_the_organisation_kind(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let carrier = app.create_org(&admin, "carrier", "Carrier").await;
        let disposer = app.create_org(&admin, "disposal_company", "Disposer").await;
        let bureau = app.create_org(&admin, "environment_bureau", "Bureau").await;
        app.create_user(&admin, &carrier, "driver.a", "driver", PASSWORD).await;
        app.create_user(&admin, &disposer, "driver.b", "driver", PASSWORD).await;
        app.create_user(&admin, &disposer, "dispatch", "disposer_dispatcher", PASSWORD).await;
        app.create_user(&admin, &bureau, "inspector", "inspector", PASSWORD).await;
        for (org, role) in [(&carrier, "inspector"), (&bureau, "driver"), (&disposer, "park_office"), (&bureau, "platform_admin")] {
            let response = app
                .post_json("/api/v1/users", Some(&admin), &json!({"organization_id": org, "username": "misfit", "display_name": "M", "role": role, "password": PASSWORD}))
                .await;
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(problem["errors"][0]["field"], "role", "{role}");
        }
    }

    async fn only_administrators_manage_and_nobody_sees_other_tenants(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let park = app.create_org(&admin, "park", "Park A").await;
        let other_park = app.create_org(&admin, "park", "Park B").await;
        let enterprise = app.create_org(&admin, "enterprise", "Enterprise").await;
        let office_user = app.create_user(&admin, &park, "office", "park_office", PASSWORD).await;
        let colleague = app.create_user(&admin, &park, "colleague", "park_office", PASSWORD).await;
        let stranger = app.create_user(&admin, &other_park, "stranger", "park_office", PASSWORD).await;
        app.create_user(&admin, &enterprise, "producer", "enterprise_user", PASSWORD).await;

        for username in ["office", "producer"] {
            let token = access_token(&app.login(username, PASSWORD).await);
            // No management of organisations or users.
            let r = app.post_json("/api/v1/parks", Some(&token), &json!({"name": "Mine", "region_code": "440307", "address": "x"})).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
            assert_problem(app.get("/api/v1/organizations", &token).await, StatusCode::FORBIDDEN, "forbidden").await;
            let r = app
                .post_json("/api/v1/users", Some(&token), &json!({"organization_id": park, "username": "new.one", "display_name": "N", "role": "park_office", "password": PASSWORD}))
                .await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
            let r = app.patch_json(&format!("/api/v1/users/{colleague}"), &token, &json!({"active": false})).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
            assert_problem(app.get("/api/v1/users", &token).await, StatusCode::FORBIDDEN, "forbidden").await;
            // Other tenants' objects are invisible (404, as if absent).
            assert_problem(app.get(&format!("/api/v1/organizations/{other_park}"), &token).await, StatusCode::NOT_FOUND, "not-found").await;
            assert_problem(app.get(&format!("/api/v1/users/{stranger}"), &token).await, StatusCode::NOT_FOUND, "not-found").await;
            let r = app.get(&format!("/api/v1/users?organization_id={other_park}"), &token).await;
            assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        }

        // A park office reads its own organisation and colleagues.
        let office = access_token(&app.login("office", PASSWORD).await);
        assert_eq!(app.get(&format!("/api/v1/organizations/{park}"), &office).await.status(), StatusCode::OK);
        assert_eq!(app.get(&format!("/api/v1/users/{colleague}"), &office).await.status(), StatusCode::OK);
        let page: Value = app.get(&format!("/api/v1/users?organization_id={park}"), &office).await.json().await.unwrap();
        let mut ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
        ids.sort();
        let mut expected = vec![office_user.as_str(), colleague.as_str()];
        expected.sort();
        assert_eq!(ids, expected);
    }

    async fn deactivating_a_user_ends_its_sessions_and_logins(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let org = app.create_org(&admin, "carrier", "Carrier").await;
        let driver = app.create_user(&admin, &org, "driver.zhao", "driver", PASSWORD).await;
        let token = access_token(&app.login("driver.zhao", PASSWORD).await);
        assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);

        let updated: Value = app.patch_json(&format!("/api/v1/users/{driver}"), &admin, &json!({"active": false})).await.json().await.unwrap();
        assert_eq!(updated["active"], false);
        assert!(updated["deactivated_at"].is_string());
        assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::UNAUTHORIZED);
        let login = app.post_json("/api/v1/auth/login", None, &json!({"username": "driver.zhao", "password": PASSWORD})).await;
        assert_problem(login, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        let updated: Value = app
            .patch_json(&format!("/api/v1/users/{driver}"), &admin, &json!({"active": true, "password": "a reset password", "display_name": "Zhao Lei"}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(updated["active"], true);
        assert_eq!(updated["display_name"], "Zhao Lei");
        app.login("driver.zhao", "a reset password").await;

        // An administrator cannot lock itself out.
        let me: Value = app.get("/api/v1/me", &admin).await.json().await.unwrap();
        let own_id = me["user"]["id"].as_str().unwrap();
        let r = app.patch_json(&format!("/api/v1/users/{own_id}"), &admin, &json!({"active": false})).await;
        assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let r = app.patch_json("/api/v1/users/usr_missing", &admin, &json!({"display_name": "X"})).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
    }

    async fn lists_page_with_cursors_in_creation_order(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let mut created = Vec::new();
        for i in 0..7 {
            created.push(app.create_org(&admin, "enterprise", &format!("Enterprise {i}")).await);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &cursor {
                Some(c) => format!("/api/v1/organizations?kind=enterprise&limit=3&cursor={c}"),
                None => "/api/v1/organizations?kind=enterprise&limit=3".to_owned(),
            };
            let page: Value = app.get(&query, &admin).await.json().await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, created, "every enterprise once, oldest first");
    }
}

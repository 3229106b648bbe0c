//! Login, refresh rotation and reuse detection, logout, password change, throttling.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{ADMIN_PASSWORD, TestApp, access_token, assert_problem};

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

fn refresh_token(tokens: &Value) -> String {
    tokens["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

backend_tests! {
    async fn login_returns_tokens_that_identify_the_user(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let tokens = app.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(tokens["token_type"], "Bearer");
        assert!(tokens["expires_in"].as_i64().is_some_and(|s| s > 0 && s <= 900));
        assert!(tokens["refresh_expires_in"].as_i64().is_some_and(|s| s > 900));
        let me: Value = app.get("/api/v1/me", &access_token(&tokens)).await.json().await.unwrap();
        assert_eq!(me["user"]["username"], "admin");
        assert_eq!(me["user"]["role"], "platform_admin");
        assert_eq!(me["organization"]["kind"], "platform");

        // Usernames are case-insensitive.
        app.login("  ADMIN ", ADMIN_PASSWORD).await;
    }

    async fn wrong_credentials_are_401_without_saying_which(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let wrong_password = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": "not it at all"})).await;
        let a = assert_problem(wrong_password, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let unknown_user = app.post_json("/api/v1/auth/login", None, &json!({"username": "nobody", "password": "not it at all"})).await;
        let b = assert_problem(unknown_user, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_eq!(a["detail"], b["detail"]);
        let no_token = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(no_token.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
        assert_problem(no_token, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }

    async fn refresh_rotates_and_a_reused_token_revokes_the_family(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.login("admin", ADMIN_PASSWORD).await;

        let response = refresh(&app, &refresh_token(&first)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let second: Value = response.json().await.unwrap();
        assert_ne!(refresh_token(&second), refresh_token(&first), "a new refresh token");
        assert_eq!(app.get("/api/v1/me", &access_token(&second)).await.status(), StatusCode::OK);

        // Another login is another family, untouched by what follows.
        let other = app.login("admin", ADMIN_PASSWORD).await;

        // The first refresh token was rotated: presenting it again is reuse.
        assert_problem(refresh(&app, &refresh_token(&first)).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        // The whole family is revoked: the newest refresh token and its access token die too.
        assert_problem(refresh(&app, &refresh_token(&second)).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_problem(app.get("/api/v1/me", &access_token(&second)).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_eq!(app.get("/api/v1/me", &access_token(&other)).await.status(), StatusCode::OK);
        assert_eq!(refresh(&app, &refresh_token(&other)).await.status(), StatusCode::OK);

        // A token never issued is refused.
        assert_problem(refresh(&app, "made-up-token").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }

    async fn concurrent_refreshes_with_one_token_let_at_most_one_through(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let tokens = app.login("admin", ADMIN_PASSWORD).await;
        let token = refresh_token(&tokens);
        let attempts = (0..8).map(|_| refresh(&app, &token));
        let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert!(ok <= 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
        // The token was used more than once, so its family is revoked.
        assert_eq!(app.get("/api/v1/me", &access_token(&tokens)).await.status(), StatusCode::UNAUTHORIZED);
    }

    async fn logout_ends_the_session(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let tokens = app.login("admin", ADMIN_PASSWORD).await;
        let access = access_token(&tokens);
        let response = app.request(Method::POST, "/api/v1/auth/logout", Some(&access)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_problem(app.get("/api/v1/me", &access).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_problem(refresh(&app, &refresh_token(&tokens)).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let again = app.request(Method::POST, "/api/v1/auth/logout", Some(&access)).send().await.unwrap();
        assert_problem(again, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }

    async fn changing_the_password_ends_other_sessions(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let here = access_token(&app.login("admin", ADMIN_PASSWORD).await);
        let elsewhere = access_token(&app.login("admin", ADMIN_PASSWORD).await);

        let wrong = app
            .post_json("/api/v1/auth/password", Some(&here), &json!({"current_password": "not the password", "new_password": "a brand new passphrase"}))
            .await;
        let problem = assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "current_password");
        let too_short = app
            .post_json("/api/v1/auth/password", Some(&here), &json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}))
            .await;
        let problem = assert_problem(too_short, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "new_password");

        let ok = app
            .post_json("/api/v1/auth/password", Some(&here), &json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new passphrase"}))
            .await;
        assert_eq!(ok.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/me", &here).await.status(), StatusCode::OK);
        assert_eq!(app.get("/api/v1/me", &elsewhere).await.status(), StatusCode::UNAUTHORIZED);
        let old = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        app.login("admin", "a brand new passphrase").await;
    }

    async fn failed_logins_throttle_the_guesser_not_the_accounts_owner(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.trust_forwarded_for = true;
            s.auth.login_max_failures_per_account = 3;
            s.auth.login_max_failures_per_address = 100;
        })
        .await;
        let admin = app.admin_token().await;
        let org = app.create_org(&admin, "park", "Park").await;
        app.create_user(&admin, &org, "victim", "park_office", "victim password 1").await;
        app.create_user(&admin, &org, "bystander", "park_office", "bystander password").await;
        let login_from = |address: &'static str, username: &'static str, password: &'static str| {
            app.request(reqwest::Method::POST, "/api/v1/auth/login", None)
                .header("x-forwarded-for", address)
                .json(&json!({"username": username, "password": password}))
                .send()
        };
        const GUESSER: &str = "198.51.100.1";
        for _ in 0..3 {
            let response = login_from(GUESSER, "victim", "guess guess guess").await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        // Past the limit the guesser's address is refused even the right password, before it
        // is checked.
        let response = login_from(GUESSER, "VICTIM", "victim password 1").await.unwrap();
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");
        assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
        // The owner, from elsewhere, is not locked out by the guesses.
        let owner = login_from("203.0.113.9", "victim", "victim password 1").await.unwrap();
        assert_eq!(owner.status(), StatusCode::OK);
        // Other accounts from the guesser's address are not affected (only its own limit is).
        let other = login_from(GUESSER, "bystander", "bystander password").await.unwrap();
        assert_eq!(other.status(), StatusCode::OK);
    }

    async fn guessable_passwords_are_refused_where_passwords_are_chosen(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let org = app.create_org(&admin, "park", "Park").await;
        let weak = app.post_json("/api/v1/users", Some(&admin), &json!({"organization_id": org, "username": "weak.user", "display_name": "Weak", "role": "park_office", "password": "password1234"})).await;
        let problem = assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "password");
        assert_eq!(problem["errors"][0]["code"], "too_weak");
        let id = app.create_user(&admin, &org, "strong.user", "park_office", "tiger marble quietly 47").await;
        let patch = app.patch_json(&format!("/api/v1/users/{id}"), &admin, &json!({"password": "qwertyuiop123"})).await;
        assert_problem(patch, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let token = access_token(&app.login("strong.user", "tiger marble quietly 47").await);
        let change = app.post_json("/api/v1/auth/password", Some(&token), &json!({"current_password": "tiger marble quietly 47", "new_password": "1234567890"})).await;
        let problem = assert_problem(change, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(problem["errors"][0]["field"], "new_password");
        // Nothing changed: the password still works.
        app.login("strong.user", "tiger marble quietly 47").await;
    }

    async fn attempts_sent_at_once_are_throttled_like_attempts_one_by_one(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.auth.login_max_failures_per_account = 5;
            s.database_max_connections = 8;
        })
        .await;
        let wrong = json!({"username": "admin", "password": "guess guess guess"});
        let attempts = (0..20).map(|_| app.post_json("/api/v1/auth/login", None, &wrong));
        let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
        let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
        let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!((checked, throttled), (5, 15), "{statuses:?}");
        let r = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    async fn behind_a_proxy_the_address_is_the_one_the_proxy_appended(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.trust_forwarded_for = true;
            s.auth.login_max_failures_per_address = 3;
            s.auth.login_max_failures_per_account = 100;
        })
        .await;
        // The client forges the first entries; the proxy's own entry stays the same.
        for i in 0..3 {
            let r = app
                .request(reqwest::Method::POST, "/api/v1/auth/login", None)
                .header("x-forwarded-for", format!("10.0.0.{i}, 203.0.113.7"))
                .json(&json!({"username": format!("user{i}"), "password": "guess guess guess"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        let r = app
            .request(reqwest::Method::POST, "/api/v1/auth/login", None)
            .header("x-forwarded-for", "10.9.9.9, 203.0.113.7")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
        // Another client behind the same proxy is not affected.
        let r = app
            .request(reqwest::Method::POST, "/api/v1/auth/login", None)
            .header("x-forwarded-for", "203.0.113.8")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn wrong_current_passwords_are_throttled(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.auth.login_max_failures_per_account = 3).await;
        let token = access_token(&app.login("admin", ADMIN_PASSWORD).await);
        for _ in 0..3 {
            let r = app
                .post_json("/api/v1/auth/password", Some(&token), &json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}))
                .await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let r = app
            .post_json("/api/v1/auth/password", Some(&token), &json!({"current_password": ADMIN_PASSWORD, "new_password": "a brand new passphrase"}))
            .await;
        assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
    }

    async fn failed_logins_are_throttled_per_address(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.auth.login_max_failures_per_account = 100;
            s.auth.login_max_failures_per_address = 4;
        })
        .await;
        for i in 0..4 {
            let response = app
                .post_json("/api/v1/auth/login", None, &json!({"username": format!("user{i}"), "password": "guess guess guess"}))
                .await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let response = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": ADMIN_PASSWORD})).await;
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
    }

    async fn a_successful_login_clears_the_account_failures(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.auth.login_max_failures_per_account = 3).await;
        for _ in 0..2 {
            let response = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": "wrong wrong wrong"})).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        app.login("admin", ADMIN_PASSWORD).await;
        for _ in 0..2 {
            let response = app.post_json("/api/v1/auth/login", None, &json!({"username": "admin", "password": "wrong wrong wrong"})).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        app.login("admin", ADMIN_PASSWORD).await;
    }
}

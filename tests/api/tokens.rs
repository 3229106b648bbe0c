//! Access tokens that must be refused: expired, tampered, for another audience or issuer,
//! unsigned (`alg: none`), signed with another algorithm or an unknown key, missing claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{ADMIN_PASSWORD, JWT_SECRET, TestApp, access_token, assert_problem};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("claims")
}

fn sign(claims: &Value, alg: Algorithm, kid: &str, secret: &str) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signed")
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let response = app.get("/api/v1/me", token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

backend_tests! {
    async fn forged_and_stale_tokens_are_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let good = access_token(&app.login("admin", ADMIN_PASSWORD).await);
        let claims = claims_of(&good);
        let now = app.now().timestamp();

        // Our own signing reproduces a valid token: the refusals below are for the stated reason.
        let resigned = sign(&claims, Algorithm::HS256, "k1", JWT_SECRET);
        assert_eq!(app.get("/api/v1/me", &resigned).await.status(), StatusCode::OK, "control");

        let with = |changes: Value| {
            let mut c = claims.clone();
            for (k, v) in changes.as_object().expect("object") {
                c[k] = v.clone();
            }
            c
        };
        let expired = sign(&with(json!({"iat": now - 7200, "exp": now - 3600})), Algorithm::HS256, "k1", JWT_SECRET);
        assert_refused(&app, &expired, "expired").await;
        let audience = sign(&with(json!({"aud": "another-api"})), Algorithm::HS256, "k1", JWT_SECRET);
        assert_refused(&app, &audience, "wrong audience").await;
        let issuer = sign(&with(json!({"iss": "someone-else"})), Algorithm::HS256, "k1", JWT_SECRET);
        assert_refused(&app, &issuer, "wrong issuer").await;
        let other_key = sign(&claims, Algorithm::HS256, "k1", "another secret that is long enough!!");
        assert_refused(&app, &other_key, "signed with another key").await;
        let unknown_kid = sign(&claims, Algorithm::HS256, "k9", JWT_SECRET);
        assert_refused(&app, &unknown_kid, "unknown key id").await;
        let other_alg = sign(&claims, Algorithm::HS512, "k1", JWT_SECRET);
        assert_refused(&app, &other_alg, "another algorithm").await;
        for missing in ["exp", "iat", "iss", "aud", "sub"] {
            let mut c = claims.clone();
            c.as_object_mut().expect("object").remove(missing);
            assert_refused(&app, &sign(&c, Algorithm::HS256, "k1", JWT_SECRET), missing).await;
        }
        let other_user = sign(&with(json!({"sub": "usr_someoneelse"})), Algorithm::HS256, "k1", JWT_SECRET);
        assert_refused(&app, &other_user, "a session that is not the subject's").await;

        // Tampered: the payload changed after signing.
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&with(json!({"exp": now + 999_999}))).expect("json"));
        assert_refused(&app, &parts.join("."), "tampered payload").await;

        // Unsigned: alg none with an empty signature.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
        assert_refused(&app, &format!("{header}.{payload}."), "alg none").await;

        for junk in ["", "abc", "a.b.c", &"x".repeat(5000)] {
            let response = app.client.get(app.url("/api/v1/me")).header("authorization", format!("Bearer {junk}")).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "junk {junk:.20}");
        }
        let basic = app.client.get(app.url("/api/v1/me")).basic_auth("admin", Some(ADMIN_PASSWORD)).send().await.unwrap();
        assert_eq!(basic.status(), StatusCode::UNAUTHORIZED, "basic auth is not a bearer token");
    }

    async fn a_retired_key_still_verifies_while_a_new_one_signs(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.auth.jwt_key_id = "k2".to_owned();
            s.auth.jwt_secret = Some("the new signing secret, 32 bytes or more".into());
            s.auth.jwt_retired_keys = Some(format!("k1={JWT_SECRET}").into());
        })
        .await;
        let fresh = access_token(&app.login("admin", ADMIN_PASSWORD).await);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(fresh.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["kid"], "k2");
        assert_eq!(header["alg"], "HS256");
        let old = sign(&claims_of(&fresh), Algorithm::HS256, "k1", JWT_SECRET);
        assert_eq!(app.get("/api/v1/me", &old).await.status(), StatusCode::OK);
    }
}

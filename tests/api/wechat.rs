//! WeChat sign-in for the mini-program, against the stand-in for WeChat's code2session endpoint
//! (`wastetrack wechat-stand-in`): linking, signing in, unlinking, an unknown WeChat account,
//! WeChat's error codes and a timeout, throttling, and the setting that turns it on.

use std::net::TcpListener;
use std::process::{Child, Command};

use actix_web::dev::ServerHandle;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use wastetrack::config::Settings;

use crate::backend_tests;
use crate::binary::free_port;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};

const APPID: &str = "wx-test-appid";
const SECRET: &str = "wechat-test-secret-never-logged";
const PASSWORD: &str = "a long enough password";

/// The stand-in for WeChat, in this process.
pub(crate) struct StandIn {
    url: String,
    handle: ServerHandle,
}

impl StandIn {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = wastetrack::auth::wechat_stand_in::server(
            listener,
            APPID.to_owned(),
            SECRET.to_owned(),
        )
        .unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/sns/jscode2session"),
            handle,
        }
    }
}

impl StandIn {
    /// Points a server's settings at this stand-in.
    pub(crate) fn configure(&self, s: &mut Settings) {
        wechat_at(&self.url, SECRET)(s);
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn wechat_at(url: &str, secret: &str) -> impl FnOnce(&mut Settings) {
    let (url, secret) = (url.to_owned(), secret.to_owned());
    move |s: &mut Settings| {
        s.wechat.appid = Some(APPID.to_owned());
        s.wechat.secret = Some(SecretString::from(secret));
        s.wechat.code2session_url = url;
        s.wechat.timeout_ms = 1000;
    }
}

async fn wechat_login(app: &TestApp, code: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/wechat/login", None, &json!({"code": code}))
        .await
}

async fn link(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/wechat/link",
        Some(token),
        &json!({"code": code}),
    )
    .await
}

async fn unlink(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::DELETE, "/api/v1/auth/wechat/link", Some(token))
        .send()
        .await
        .unwrap()
}

/// An inspector of a new bureau: (user id, access token).
async fn new_user(app: &TestApp, admin: &str, username: &str) -> (String, String) {
    let bureau = app
        .create_bureau(admin, &format!("Bureau of {username}"), "4403")
        .await;
    let id = app
        .create_user(admin, &bureau, username, "inspector", PASSWORD)
        .await;
    let token = access_token(&app.login(username, PASSWORD).await);
    (id, token)
}

async fn user_count(app: &TestApp, admin: &str) -> usize {
    let users: Value = app
        .get("/api/v1/users?limit=200", admin)
        .await
        .json()
        .await
        .unwrap();
    users["items"].as_array().unwrap().len()
}

backend_tests! {
    async fn a_linked_wechat_account_signs_in_until_it_is_unlinked(backend: Backend) {
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, wechat_at(&wechat.url, SECRET)).await;
        let admin = app.admin_token().await;
        let (_, token) = new_user(&app, &admin, "zhang.wei").await;

        let status: Value = app.get("/api/v1/auth/wechat/link", &token).await.json().await.unwrap();
        assert_eq!(status, json!({"linked": false, "linked_at": null}));
        let linked = link(&app, &token, "user-zhangwei.1").await;
        assert_eq!(linked.status(), StatusCode::CREATED);
        assert_eq!(linked.headers()["location"], "/api/v1/auth/wechat/link");
        let linked: Value = linked.json().await.unwrap();
        assert_eq!(linked["linked"], true);
        let at = crate::helpers::instant(linked["linked_at"].as_str().unwrap());
        assert!((app.now() - at).num_seconds().unsigned_abs() < 5, "linked at the server's instant: {at}");
        let status: Value = app.get("/api/v1/auth/wechat/link", &token).await.json().await.unwrap();
        assert_eq!(status, linked);

        // A new code of the same WeChat user signs in as that user, with the usual tokens and
        // nothing of WeChat's session.
        let signed_in = wechat_login(&app, "user-zhangwei.2").await;
        assert_eq!(signed_in.status(), StatusCode::OK);
        let text = signed_in.text().await.unwrap();
        assert!(!text.contains("session_key") && !text.contains("openid"), "{text}");
        let tokens: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(tokens["token_type"], "Bearer");
        let me: Value = app.get("/api/v1/me", &access_token(&tokens)).await.json().await.unwrap();
        assert_eq!(me["user"]["username"], "zhang.wei");
        let refreshed = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": tokens["refresh_token"]})).await;
        assert_eq!(refreshed.status(), StatusCode::OK, "a WeChat session refreshes like any other");

        // A code works once.
        let again = wechat_login(&app, "user-zhangwei.2").await;
        let problem = assert_problem(again, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), ["code"]);
        assert_eq!(problem["errors"][0]["code"], "used");

        // Unlinked, the WeChat account signs in no more; unlinking twice is 404.
        assert_eq!(unlink(&app, &token).await.status(), StatusCode::NO_CONTENT);
        let after = wechat_login(&app, "user-zhangwei.3").await;
        assert_problem(after, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_problem(unlink(&app, &token).await, StatusCode::NOT_FOUND, "not-found").await;
        let status: Value = app.get("/api/v1/auth/wechat/link", &token).await.json().await.unwrap();
        assert_eq!(status["linked"], false);
    }

    async fn an_unknown_wechat_account_gets_a_clear_answer_and_no_account(backend: Backend) {
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, wechat_at(&wechat.url, SECRET)).await;
        let admin = app.admin_token().await;
        let users = user_count(&app, &admin).await;
        let response = wechat_login(&app, "user-stranger.1").await;
        let problem = assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(problem["detail"].as_str().unwrap().contains("POST /auth/wechat/link"), "{problem}");
        assert_eq!(user_count(&app, &admin).await, users, "no account was made");

        // A deactivated user's WeChat account signs in no more either.
        let (id, token) = new_user(&app, &admin, "li.na").await;
        assert_eq!(link(&app, &token, "user-lina.1").await.status(), StatusCode::CREATED);
        assert_eq!(wechat_login(&app, "user-lina.2").await.status(), StatusCode::OK);
        let r = app.patch_json(&format!("/api/v1/users/{id}"), &admin, &json!({"active": false})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_problem(wechat_login(&app, "user-lina.3").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }

    async fn one_wechat_account_per_user_and_one_user_per_wechat_account(backend: Backend) {
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, wechat_at(&wechat.url, SECRET)).await;
        let admin = app.admin_token().await;
        let (_, a) = new_user(&app, &admin, "user.a").await;
        let (_, b) = new_user(&app, &admin, "user.b").await;
        assert_eq!(link(&app, &a, "user-wa.1").await.status(), StatusCode::CREATED);
        assert_problem(link(&app, &a, "user-wb.1").await, StatusCode::CONFLICT, "conflict").await;
        assert_problem(link(&app, &b, "user-wa.2").await, StatusCode::CONFLICT, "conflict").await;
        assert_eq!(link(&app, &b, "user-wb.2").await.status(), StatusCode::CREATED);
        let tokens: Value = wechat_login(&app, "user-wb.3").await.json().await.unwrap();
        let me: Value = app.get("/api/v1/me", &access_token(&tokens)).await.json().await.unwrap();
        assert_eq!(me["user"]["username"], "user.b");
        let tokens: Value = wechat_login(&app, "user-wa.3").await.json().await.unwrap();
        let me: Value = app.get("/api/v1/me", &access_token(&tokens)).await.json().await.unwrap();
        assert_eq!(me["user"]["username"], "user.a");

        // Two users linking one WeChat account at once: one link.
        let (_, c) = new_user(&app, &admin, "user.c").await;
        let (_, d) = new_user(&app, &admin, "user.d").await;
        let (rc, rd) = tokio::join!(link(&app, &c, "user-wc.1"), link(&app, &d, "user-wc.2"));
        let mut statuses = [rc.status(), rd.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);

        // Linking needs a signed-in user.
        let anonymous = app.post_json("/api/v1/auth/wechat/link", None, &json!({"code": "user-wd.1"})).await;
        assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }

    async fn wechat_refusals_and_silence_become_clear_answers(backend: Backend) {
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, wechat_at(&wechat.url, SECRET)).await;
        let cases = [
            ("err-40029", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ("not-a-code-wechat-knows", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ("err-40163", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ("err-45011", StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
            ("err-40226", StatusCode::FORBIDDEN, "forbidden"),
            ("err--1", StatusCode::SERVICE_UNAVAILABLE, "service-unavailable"),
            ("err-40125", StatusCode::SERVICE_UNAVAILABLE, "service-unavailable"),
            ("garbage", StatusCode::SERVICE_UNAVAILABLE, "service-unavailable"),
            ("slow-3000-late.1", StatusCode::SERVICE_UNAVAILABLE, "service-unavailable"),
        ];
        for (code, status, slug) in cases {
            let response = wechat_login(&app, code).await;
            let retry_after = response.headers().get("retry-after").cloned();
            let problem = assert_problem(response, status, slug).await;
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                assert_eq!(error_fields(&problem), ["code"], "{code}");
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(retry_after.unwrap(), "60");
            }
            if code.starts_with("slow") {
                assert!(problem["detail"].as_str().unwrap().contains("未及时应答"), "{problem}");
            }
            assert!(!problem.to_string().contains(SECRET));
        }
        // Codes that are never sent to WeChat.
        for code in [String::new(), "x".repeat(129), "码".repeat(129), "bad\ncode".to_owned()] {
            let problem = assert_problem(wechat_login(&app, &code).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), ["code"]);
        }
        let missing = app.post_json("/api/v1/auth/wechat/login", None, &json!({})).await;
        assert!(missing.status().is_client_error());
    }

    async fn a_wrong_appsecret_is_told_to_the_operator_not_the_user(backend: Backend) {
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, wechat_at(&wechat.url, "not-the-secret")).await;
        let problem = assert_problem(wechat_login(&app, "user-zhangwei.1").await, StatusCode::SERVICE_UNAVAILABLE, "service-unavailable").await;
        assert!(problem["detail"].as_str().unwrap().contains("微信配置"), "{problem}");
        assert!(!problem.to_string().contains("not-the-secret"));
    }

    async fn unknown_wechat_accounts_are_throttled_per_address(backend: Backend) {
        let wechat = StandIn::start();
        let configure = wechat_at(&wechat.url, SECRET);
        let app = TestApp::spawn_with(backend, |s| {
            configure(s);
            s.auth.login_max_failures_per_address = 2;
        })
        .await;
        for n in 0..2 {
            let response = wechat_login(&app, &format!("user-guess{n}.1")).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let response = wechat_login(&app, "user-guess2.1").await;
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
    }

    async fn wechat_sign_in_is_off_until_configured(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let problem = assert_problem(wechat_login(&app, "user-zhangwei.1").await, StatusCode::SERVICE_UNAVAILABLE, "service-unavailable").await;
        assert!(problem["detail"].as_str().unwrap().contains("未配置微信登录"), "{problem}");
        let admin = app.admin_token().await;
        let status: Value = app.get("/api/v1/auth/wechat/link", &admin).await.json().await.unwrap();
        assert_eq!(status["linked"], false);
        assert_problem(link(&app, &admin, "user-zhangwei.1").await, StatusCode::SERVICE_UNAVAILABLE, "service-unavailable").await;
    }
}

/// The stand-in as a new user runs it (`wastetrack wechat-stand-in`), and a server pointed at
/// it by the settings the README names: a mini-program user links and signs in.
struct StandInProcess(Child);

impl Drop for StandInProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[actix_web::test]
async fn the_readme_walk_through_signs_a_mini_program_user_in_against_the_stand_in() {
    let port = free_port();
    let _stand_in = StandInProcess(
        Command::new(env!("CARGO_BIN_EXE_wastetrack"))
            .args(["wechat-stand-in", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}/sns/jscode2session");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while client.get(&url).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stand-in did not start"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The README's settings: the stand-in's default AppID and AppSecret.
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, |s| {
        s.wechat.appid = Some("wx-stand-in".to_owned());
        s.wechat.secret = Some(SecretString::from("stand-in-secret"));
        s.wechat.code2session_url = url.clone();
    })
    .await;
    let admin = app.admin_token().await;
    assert_eq!(
        link(&app, &admin, "user-admin.1").await.status(),
        StatusCode::CREATED
    );
    let tokens: Value = wechat_login(&app, "user-admin.2")
        .await
        .json()
        .await
        .unwrap();
    let me: Value = app
        .get("/api/v1/me", &access_token(&tokens))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "admin");
}

/// The AppSecret is never shown with the settings.
#[test]
fn the_appsecret_is_redacted_from_the_settings() {
    let mut settings = Settings::default();
    settings.wechat.secret = Some(SecretString::from(SECRET));
    let shown = serde_json::to_string(&settings).unwrap();
    assert!(!shown.contains(SECRET) && shown.contains("[redacted]"));
    assert!(!format!("{settings:?}").contains(SECRET));
}

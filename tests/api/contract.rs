//! The contract test: with `WASTETRACK_CONTRACT=1`, `tests/contract/run.sh` drives a live
//! server on each backend with schemathesis, generating requests from the OpenAPI document at a
//! fixed seed, and fails on any 5xx, undocumented status, response off its schema, valid
//! request refused or invalid request accepted. It needs python3 and (once, to install
//! schemathesis into target/contract-venv) PyPI, so it is skipped otherwise.
//!
//! The server has a small world, so that the ids a run creates and follows through the
//! document's links lead to real objects: a park with an enterprise, a disposal company and a
//! carrier; WeChat sign-in answers through its stand-in. Requests carry an administrator's
//! token.

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::wechat::StandIn;

backend_tests! {
    async fn the_server_keeps_the_contract_of_its_document(backend: Backend) {
        if std::env::var("WASTETRACK_CONTRACT").ok().as_deref() != Some("1") {
            eprintln!("contract test skipped: set WASTETRACK_CONTRACT=1 to run it (needs python3)");
            return;
        }
        let wechat = StandIn::start();
        let app = TestApp::spawn_with(backend, |s| {
            wechat.configure(s);
            // No webhook leaves the test.
            s.notify.background_enabled = false;
        })
        .await;
        let admin = app.admin_token().await;
        let park = app.create_park(&admin, "Longgang park", "440307").await;
        app.grant_permit(&admin, &park).await;
        app.create_enterprise(&admin, &park, "Huaxin Electronics").await;
        app.create_disposer(&admin, "Dongjiang").await;
        app.create_org(&admin, "carrier", "Lvyun Transport").await;

        let script = format!("{}/tests/contract/run.sh", env!("CARGO_MANIFEST_DIR"));
        let base = app.base.clone();
        // The server and the WeChat stand-in answer on this thread's runtime: the script runs
        // on another.
        let output = actix_web::rt::task::spawn_blocking(move || {
            std::process::Command::new("bash").arg(script).arg(base).arg(admin).output()
        })
        .await
        .expect("the script's thread")
        .expect("bash runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the contract test failed on {backend:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("{backend:?}:\n{stdout}");
    }
}

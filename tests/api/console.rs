//! The web console, driven through a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, through WebDriver) against the real server: sign in, weigh in, see the
//! gauge move, field errors beside their fields, the language switch, sign out, and what each
//! role may see. The forms' tokens and the session cookie are checked over plain HTTP.
//!
//! The screenshots in the README are taken here: `WASTETRACK_UPDATE_SCREENSHOTS=1` writes them
//! to `tests/screenshots/` (the SQLite run); otherwise they go to `target/console-screenshots/`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::pickups::{PASSWORD, Park, park, weigh};
use crate::printing::tool;

/// A chromedriver of its own and a headless Chromium session through it; both end on drop.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// Ends the driver and the browser it started: they share the driver's process group, so
    /// nothing of them outlives the test, passed or failed.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// `None` where Chromium or its driver is missing (a failure under CI).
    async fn start() -> Option<Self> {
        let chromium = tool(
            "WASTETRACK_TEST_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        )?;
        let chromedriver = tool("WASTETRACK_TEST_CHROMEDRIVER", &["chromedriver"])?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--disable-quic", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.path().display())],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        client,
                        driver,
                        _profile: profile,
                    });
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session: {last:?}");
    }

    async fn go(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.unwrap();
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    async fn fill(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    async fn choose(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        field.select_by_value(value).await.unwrap();
    }

    async fn submit(&self, form: &str) {
        self.click_through(Locator::Css(&format!("{form} button[type=submit]")))
            .await;
    }

    async fn submit_link(&self, css: &str) {
        self.click_through(Locator::Css(css)).await;
    }

    async fn follow(&self, link_text: &str) {
        self.click_through(Locator::LinkText(link_text)).await;
    }

    /// Clicks what `target` finds and waits for the page it leads to.
    async fn click_through(&self, target: Locator<'_>) {
        let page = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(target)
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.loaded_after(page).await;
    }

    /// Waits until the page `before` is gone and the next one has loaded.
    async fn loaded_after(&self, before: fantoccini::elements::Element) {
        for _ in 0..200 {
            if before.tag_name().await.is_err() {
                let state = self
                    .client
                    .execute("return document.readyState", vec![])
                    .await
                    .unwrap();
                if state == "complete" {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the next page did not load within 10 s");
    }

    async fn sign_in(&self, app: &TestApp, username: &str) {
        self.go(app, "/signin").await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.submit("form[action='/signin']").await;
    }

    async fn sign_out(&self) {
        self.submit("form[action='/signout']").await;
    }

    /// A screenshot of the page: to `tests/screenshots/` when asked, else under `target/`.
    async fn screenshot(&self, name: &str, backend: Backend) {
        let png = self.client.screenshot().await.unwrap();
        let update = std::env::var("WASTETRACK_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = if update && matches!(backend, Backend::Sqlite) {
            root.join("tests/screenshots")
        } else {
            root.join(format!("target/console-screenshots/{backend:?}"))
        };
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

async fn lots_of(app: &TestApp, p: &Park) -> Vec<Value> {
    let r = app.get("/api/v1/lots", &p.office).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The value of the zone's gauge, in grams.
async fn gauge(b: &Browser, zone: &str) -> String {
    let meter = b
        .client
        .find(Locator::Css(&format!("meter#zone-{zone}")))
        .await
        .unwrap();
    meter.attr("value").await.unwrap().unwrap_or_default()
}

backend_tests! {
    async fn a_park_office_signs_in_weighs_in_and_sees_the_gauge_move(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;

        // Not signed in: the sign-in page, in Chinese, and back to the page asked for.
        b.go(&app, "/dashboard").await;
        assert_eq!(b.path().await, "/signin?next=%2Fdashboard");
        assert_eq!(b.text("button[type=submit]").await, "登录");
        b.screenshot("signin", backend).await;
        b.fill("#username", "office").await;
        b.fill("#password", "not the password").await;
        b.submit("form[action='/signin']").await;
        assert!(b.text("#signin-error").await.contains("用户名或密码"), "a wrong password is said so");
        b.fill("#username", "office").await;
        b.fill("#password", PASSWORD).await;
        b.submit("form[action='/signin']").await;
        assert_eq!(b.path().await, "/dashboard");
        assert_eq!(b.text("h1").await, "仓库概况");
        assert_eq!(gauge(&b, &p.zone).await, "0");
        assert!(b.exists("#no-alarms").await && b.exists("#no-requests").await);

        // A weighing with tare above gross: the API's message beside the field, nothing stored.
        b.go(&app, "/lots/new").await;
        b.choose("#enterprise_id", &p.enterprise_a).await;
        b.fill("#waste_code", "900-249-08").await;
        b.choose("#zone_id", &p.zone).await;
        b.choose("#physical_form", "liquid").await;
        b.choose("#container_type", "drum").await;
        b.fill("#container_count", "2").await;
        b.fill("#gross_kg", "10").await;
        b.fill("#tare_kg", "20.5").await;
        b.fill("#scale_id", "SCALE-01").await;
        b.submit("#weigh-in").await;
        assert_eq!(b.path().await, "/lots");
        let message = b.text(".field.invalid p.error").await;
        assert!(crate::helpers::has_chinese(&message), "the message is in Chinese: {message}");
        assert!(lots_of(&app, &p).await.is_empty(), "a refused weighing stores nothing");
        b.screenshot("weigh-in-refused", backend).await;

        // Corrected: recorded, confirmed, listed with the enterprise's name and the weight in kg.
        b.fill("#gross_kg", "350.5").await;
        b.fill("#tare_kg", "20.5").await;
        b.submit("#weigh-in").await;
        let lots = lots_of(&app, &p).await;
        assert_eq!(lots.len(), 1);
        assert_eq!(lots[0]["net_grams"], 330_000);
        assert_eq!(lots[0]["container_count"], 2);
        let id = lots[0]["id"].as_str().unwrap();
        assert_eq!(b.path().await, format!("/lots?weighed={id}"));
        assert!(b.text("#weighed").await.contains(id));
        let row = b.text(&format!("tr[data-lot='{id}']")).await;
        for shown in ["Huaxin Electronics", "900-249-08", "330 kg", "在库"] {
            assert!(row.contains(shown), "the row shows {shown:?}: {row}");
        }
        b.screenshot("lots", backend).await;

        // The gauge moved by the net weight.
        b.go(&app, "/dashboard").await;
        assert_eq!(gauge(&b, &p.zone).await, "330000");
        assert!(b.text(&format!("[data-zone='{}'] .stored", p.zone)).await.starts_with("330 kg / 10.000 t"));
        // The category against the contract's pickup threshold (500 kg of HW08).
        let category = b.client.find(Locator::Css(&format!("meter#category-{}-HW08", p.contract))).await.unwrap();
        assert_eq!(category.attr("value").await.unwrap().as_deref(), Some("330000"));
        assert_eq!(category.attr("max").await.unwrap().as_deref(), Some("500000"));
        assert!(b.text("[data-category='HW08'] .stored").await.starts_with("330 kg / 500 kg"));
        b.screenshot("dashboard", backend).await;

        // The lot's labels print from the list; the charts show the volume by code and enterprise.
        b.go(&app, &format!("/lots?weighed={id}")).await;
        b.submit_link("#print-labels").await;
        let labels = b.text("body").await;
        assert!(labels.contains(lots[0]["label_code"].as_str().unwrap()) && labels.contains("危险废物"), "{labels}");
        b.go(&app, "/figures").await;
        assert!(b.text("svg#by-code g[data-key='900-249-08']").await.contains("330 kg"));
        assert!(b.text(&format!("svg#by-enterprise g[data-key='{}']", p.enterprise_a)).await.contains("Huaxin Electronics"));
        assert!(b.text("#total").await.contains("330 kg"));
        b.screenshot("charts", backend).await;
        b.go(&app, "/dashboard").await;

        // English by the switch, kept across pages.
        b.follow("English").await;
        assert_eq!(b.path().await, "/dashboard");
        assert_eq!(b.text("h1").await, "Warehouse");
        b.go(&app, "/lots").await;
        assert_eq!(b.text("h1").await, "Lots");
        assert!(b.text(&format!("tr[data-lot='{id}']")).await.contains("stored"));
        b.follow("中文").await;
        assert_eq!(b.text("h1").await, "废物批次");

        // Signed out: the session is over for the console.
        b.sign_out().await;
        assert_eq!(b.path().await, "/signin");
        b.go(&app, "/lots").await;
        assert_eq!(b.path().await, "/signin?next=%2Flots");
    }

    async fn an_enterprise_sees_its_own_lots_and_not_the_warehouse(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let own = weigh(&app, &p, &p.enterprise_a, 120).await;
        let other = weigh(&app, &p, &p.enterprise_b, 130).await;
        b.sign_in(&app, "producer_a").await;
        assert_eq!(b.path().await, "/lots", "an enterprise starts at its lots");
        assert!(b.exists(&format!("tr[data-lot='{}']", own["id"].as_str().unwrap())).await);
        assert!(!b.exists(&format!("tr[data-lot='{}']", other["id"].as_str().unwrap())).await, "another enterprise's lot is not shown");
        assert!(!b.exists("a[href='/dashboard']").await && !b.exists("a[href='/lots/new']").await);
        b.go(&app, "/dashboard").await;
        assert_eq!(b.text("h1").await, "无权执行此操作");
        assert!(b.text(".problem").await.contains("园区管理机构"));
        b.go(&app, "/lots/new").await;
        assert_eq!(b.text("h1").await, "无权执行此操作");
        assert!(!b.exists("#weigh-in").await, "no weigh-in form for an enterprise");
        // The filters are the API's: a bad date is named beside its field.
        b.go(&app, "/lots?from=yesterday").await;
        assert!(b.exists(".field.invalid #from").await);

        // General waste declared at its door: hazardous waste is refused with the API's reason
        // and nothing stored; general waste with an estimate is declared, and listed.
        b.go(&app, "/lots/declare").await;
        assert!(!b.exists("#enterprise_id").await, "an enterprise declares its own");
        b.fill("#waste_code", "900-249-08").await;
        b.choose("#physical_form", "solid").await;
        b.choose("#container_type", "bag").await;
        b.fill("#estimated_kg", "120.5").await;
        b.submit("#declare").await;
        let refusal = b.text("main").await;
        assert!(b.exists("#form-error").await || b.exists(".field.invalid #waste_code").await, "{refusal}");
        let declared = || {
            let (app, token) = (&app, p.producer_a.clone());
            async move {
                app.get("/api/v1/lots?route=door", &token).await.json::<Value>().await.unwrap()["items"]
                    .as_array().unwrap().clone()
            }
        };
        assert!(declared().await.is_empty(), "a refused declaration stores nothing");
        b.fill("#waste_code", "900-003-S59").await;
        b.fill("#estimated_kg", "120,5").await;
        b.submit("#declare").await;
        assert!(b.exists(".field.invalid #estimated_kg").await, "a comma in kg is named");
        b.fill("#estimated_kg", "120.5").await;
        b.submit("#declare").await;
        let lots = declared().await;
        assert_eq!(lots.len(), 1);
        assert_eq!((lots[0]["status"].as_str(), lots[0]["net_grams"].as_i64()), (Some("declared"), Some(120_500)));
        let lot = lots[0]["id"].as_str().unwrap();
        assert!(b.text("#weighed").await.starts_with("已申报"), "{}", b.text("#weighed").await);
        assert!(b.text(&format!("tr[data-lot='{lot}']")).await.contains("已申报"));
    }
}

backend_tests! {
    async fn a_pickup_raised_by_the_threshold_is_accepted_and_scheduled_with_the_fleet(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        weigh(&app, &p, &p.enterprise_a, 300).await;
        let lot = weigh(&app, &p, &p.enterprise_b, 250).await;
        let id = lot["pickup_request_id"].as_str().expect("the threshold raised a request").to_owned();
        let row = format!("tr[data-request='{id}']");

        // The park office sees it open on its dashboard.
        b.sign_in(&app, "office").await;
        assert_eq!(b.path().await, "/dashboard");
        assert!(b.text(&row).await.contains("已申请"));
        b.sign_out().await;

        // The disposal company starts at its requests, accepts, then schedules with its fleet.
        b.sign_in(&app, "dispatch").await;
        assert_eq!(b.path().await, "/pickups");
        let listed = b.text(&row).await;
        assert!(listed.contains("550 kg") && listed.contains("已申请"), "{listed}");
        b.go(&app, &format!("/pickups/{id}")).await;
        assert!(!b.exists("#schedule").await, "no schedule before it is accepted");
        b.submit("#accept").await;
        assert_eq!(b.text("#status").await, "已接受");
        let day = app.day(1);
        let set_day = |value: String| {
            b.client.execute("document.getElementById('scheduled_on').value = arguments[0]", vec![json!(value)])
        };
        set_day(day.clone()).await.unwrap();
        b.choose("#carrier_id", &p.carrier).await;
        b.choose("#driver_id", &p.driver_id).await;
        b.submit("#schedule").await;
        assert!(b.exists(".field.invalid #vehicle_id").await, "the missing vehicle is named beside its field");
        let stored = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.dispatcher).await.json::<Value>().await.unwrap();
        assert_eq!(stored["status"], "accepted", "a refused schedule changes nothing");
        set_day(day.clone()).await.unwrap();
        b.choose("#vehicle_id", &p.vehicle).await;
        b.submit("#schedule").await;
        assert_eq!(b.path().await, format!("/pickups/{id}"));
        assert_eq!(b.text("#status").await, "已排期");
        assert_eq!(b.text("#scheduled-on").await, day);
        b.screenshot("pickup-scheduled", backend).await;
        let stored = app.get(&format!("/api/v1/pickup-requests/{id}"), &p.dispatcher).await.json::<Value>().await.unwrap();
        assert_eq!(stored["status"], "scheduled");
        assert_eq!(stored["vehicle_id"], p.vehicle.as_str());
        assert_eq!(stored["driver_id"], p.driver_id.as_str());

        // An enterprise reads the request of its lot and may take no step on it.
        b.sign_out().await;
        b.sign_in(&app, "producer_b").await;
        b.go(&app, &format!("/pickups/{id}")).await;
        assert_eq!(b.text("#status").await, "已排期");
        assert!(!b.exists("#accept").await && !b.exists("#schedule").await && !b.exists("#cancel").await && !b.exists("#decline").await);
        // An enterprise with no lot in the request does not see it.
        b.sign_out().await;
        b.sign_in(&app, "outsider").await;
        assert_eq!(b.path().await, "/lots", "signed in");
        b.go(&app, &format!("/pickups/{id}")).await;
        assert_eq!(b.text("h1").await, "未找到");
        assert!(!b.exists("#status").await, "not visible to an outsider");
    }
}

/// A park's warehouse permit, two lots past the 500 kg threshold (300 and 250 kg) and their
/// collection: the second lot, the manifest's id and its number.
async fn collected(app: &TestApp, p: &Park) -> (Value, String, String) {
    crate::manifests::with_permit(app, p).await;
    weigh(app, p, &p.enterprise_a, 300).await;
    let lot = weigh(app, p, &p.enterprise_b, 250).await;
    let collection = crate::manifests::collect_request(app, p, &lot, 550).await;
    let id = collection["manifests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let number = crate::manifests::manifest(app, &p.office, &id).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    (lot, id, number)
}

backend_tests! {
    async fn a_collected_manifest_is_found_by_its_number_and_printed(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (_, id, number) = collected(&app, &p).await;

        b.sign_in(&app, "office").await;
        b.go(&app, "/manifests").await;
        assert!(b.text(&format!("tr[data-manifest='{id}']")).await.contains(&number));
        b.fill("#number", &number).await;
        b.submit("form[role=search]").await;
        assert_eq!(b.path().await, format!("/manifests?number={}&status=&waste_code=&from=&to=", number));
        let row = b.text(&format!("tr[data-manifest='{id}']")).await;
        assert!(row.contains("550 kg") && row.contains("待确认"), "{row}");
        b.screenshot("manifests", backend).await;
        b.fill("#number", "NO-SUCH-NUMBER").await;
        b.submit("form[role=search]").await;
        assert!(b.exists("#no-manifests").await);
        b.go(&app, &format!("/manifests/{id}/print")).await;
        let printed = b.text("body").await;
        assert!(printed.contains("危险废物转移联单") && printed.contains(&number), "{printed}");

        // An enterprise whose lot it carries finds it; one whose lot it does not, not.
        b.go(&app, "/lots").await;
        b.sign_out().await;
        b.sign_in(&app, "producer_a").await;
        b.go(&app, "/manifests").await;
        assert!(b.exists(&format!("tr[data-manifest='{id}']")).await);
        b.sign_out().await;
        b.sign_in(&app, "outsider").await;
        b.go(&app, "/manifests").await;
        assert!(b.exists("#no-manifests").await);
        b.go(&app, &format!("/manifests/{id}/print")).await;
        assert!(!b.text("body").await.contains(&number), "the print page is not shown to an outsider");
    }
}

backend_tests! {
    async fn a_manifest_is_signed_through_to_completion_by_each_party(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (_, id, _) = collected(&app, &p).await;
        let page = format!("/manifests/{id}");
        let stored = |token: String| {
            let (app, id) = (&app, id.clone());
            async move { crate::manifests::manifest(app, &token, &id).await }
        };

        // The consignor (the park office) confirms; a driver may not.
        b.sign_in(&app, "office").await;
        b.go(&app, &page).await;
        assert_eq!(b.text("#status").await, "待确认");
        b.submit("#step-confirm").await;
        assert_eq!(b.text("#status").await, "已确认");
        assert!(!b.exists("form[id^=step-]:not(#step-official-number)").await, "nothing more for the park office to sign");
        assert!(b.exists("#step-official-number").await, "but the national system's number to record");
        b.sign_out().await;
        b.sign_in(&app, "driver").await;
        assert_eq!(b.path().await, "/pickups", "a driver starts at its pickups");
        b.go(&app, &page).await;
        b.submit("#step-take-over").await;
        assert_eq!(b.text("#status").await, "运输中");
        b.sign_out().await;

        // The receiver: the arrival first; a refused receipt names its field and changes
        // nothing; then received and completed.
        b.sign_in(&app, "dispatch").await;
        b.go(&app, &page).await;
        b.submit("#step-arrival").await;
        assert!(!b.text("#arrived").await.is_empty(), "the arrival is recorded");
        assert!(!b.exists("#step-arrival").await, "once");
        b.fill("#received_kg", "549,5").await;
        b.submit("#step-receive").await;
        assert!(b.exists(".field.invalid #received_kg").await);
        assert_eq!(stored(p.dispatcher.clone()).await["status"], "in_transit");
        b.fill("#received_kg", "549.5").await;
        b.choose("#decision", "accepted").await;
        b.submit("#step-receive").await;
        assert_eq!(b.text("#status").await, "已接收");
        assert_eq!(b.text("#received").await, "549.5 kg");
        b.fill("#treatment", "D10 焚烧").await;
        b.submit("#step-complete").await;
        assert_eq!(b.text("#status").await, "已办结");
        let signed = b.text("ol.signatures").await;
        for step in ["确认移出", "承运接收", "接受人接收", "利用处置完毕"] {
            assert!(signed.contains(step), "{step} in {signed}");
        }
        b.screenshot("manifest-completed", backend).await;
        let m = stored(p.office.clone()).await;
        assert_eq!(m["status"], "completed");
        assert_eq!(m["treatment"], "D10 焚烧");
        assert_eq!(m["mass_balance"]["received_grams"], 549_500);
    }
}

backend_tests! {
    async fn a_partial_refusal_names_its_lot_and_the_park_office_returns_it(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (lot, id, _) = collected(&app, &p).await;
        let lot = lot["id"].as_str().unwrap();
        for (token, step) in [(&p.office, "confirm"), (&p.driver, "take-over")] {
            let r = app.post_json(&format!("/api/v1/manifests/{id}/{step}"), Some(token), &json!({})).await;
            assert_eq!(r.status(), StatusCode::OK, "{step}");
        }
        let page = format!("/manifests/{id}");

        // The receiver refuses the 250 kg lot of the 550 kg: named by its lot; a bad weight for
        // it is named above the lots and changes nothing.
        b.sign_in(&app, "dispatch").await;
        b.go(&app, &page).await;
        b.fill("#received_kg", "550").await;
        b.choose("#decision", "partially_refused").await;
        b.fill("#refused_kg", "250").await;
        b.fill(&format!("input[name='refused.{lot}']"), "250 kg").await;
        b.submit("#step-receive").await;
        assert!(b.exists("#refused_lots-error").await, "{}", b.text("main").await);
        assert_eq!(crate::manifests::manifest(&app, &p.office, &id).await["status"], "in_transit");
        b.fill(&format!("input[name='refused.{lot}']"), "250").await;
        b.submit("#step-receive").await;
        assert_eq!(b.text("#status").await, "已接收");
        assert!(b.text(&format!("#refused li[data-lot='{lot}']")).await.contains("250 kg"));
        assert!(b.text("#case").await.starts_with("待园区处理"));
        assert!(!b.exists("#step-resolve").await, "the receiver does not resolve the case");
        let m = crate::manifests::manifest(&app, &p.office, &id).await;
        assert_eq!(m["refusal"]["lots"][0]["lot_id"], lot);
        assert_eq!(m["refusal"]["lots"][0]["grams"], 250_000);
        b.sign_out().await;

        // The park office records the national system's number (a malformed one is named beside
        // its field), then returns the refused lot: the case is resolved and a new manifest follows.
        b.sign_in(&app, "office").await;
        b.go(&app, &page).await;
        b.fill("#official_number", "2026440300").await;
        b.submit("#step-official-number").await;
        assert!(b.exists(".field.invalid #official_number").await, "{}", b.text("main").await);
        b.fill("#official_number", "20264403000123").await;
        b.submit("#step-official-number").await;
        assert!(b.text("main").await.contains("20264403000123"));
        assert!(!b.exists("#step-official-number").await, "recorded on a signed manifest, it stays");
        assert_eq!(crate::manifests::manifest(&app, &p.office, &id).await["official_number"], "20264403000123");
        b.choose("#action", "other").await;
        b.submit("#step-resolve").await;
        assert!(b.exists(".field.invalid #resolution").await || b.exists("#step-error").await,
            "a resolution otherwise needs its text: {}", b.text("main").await);
        b.choose("#action", "return").await;
        b.submit("#step-resolve").await;
        assert!(b.text("#case").await.starts_with("已处理"), "{}", b.text("main").await);
        assert!(b.exists("#followers a").await, "the return's manifest follows");
        b.screenshot("manifest-refusal", backend).await;
        let m = crate::manifests::manifest(&app, &p.office, &id).await;
        assert_eq!(m["case_status"], "resolved");
        assert_eq!(m["followed_by"].as_array().unwrap().len(), 1);
    }
}

backend_tests! {
    async fn a_statement_is_issued_read_and_exported_and_the_enterprise_sees_its_balance(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn_with(backend, crate::helpers::time_travel).await;
        app.stand_at("2026-10-10T12:00:00+08:00");
        let p = park(&app, 100_000, 100).await;
        let lot = weigh(&app, &p, &p.enterprise_a, 300).await;
        app.stand_at("2026-11-02T10:00:00+08:00");

        b.sign_in(&app, "office").await;
        b.go(&app, "/statements").await;
        assert!(b.exists("#no-statements").await);
        b.choose("#enterprise_id", &p.enterprise_a).await;
        b.fill("#period", "2026-13").await;
        b.submit("#issue").await;
        assert!(b.exists(".field.invalid #period").await, "a month that is none is named");
        b.fill("#period", "2026-11").await;
        b.submit("#issue").await;
        assert!(b.exists("#issue-error").await || b.exists(".field.invalid #period").await,
            "a month not yet ended is refused: {}", b.text("main").await);
        let r = app.get("/api/v1/statements", &p.office).await.json::<Value>().await.unwrap();
        assert!(r["items"].as_array().unwrap().is_empty(), "refusals issue nothing");
        b.fill("#period", "2026-10").await;
        b.submit("#issue").await;
        let listed = app.get("/api/v1/statements", &p.office).await.json::<Value>().await.unwrap();
        let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(b.path().await, format!("/statements/{id}"));
        assert_eq!(b.text("#total").await, "¥840.00");
        assert!(b.text(&format!("tr[data-lot='{}']", lot["id"].as_str().unwrap())).await.contains("300 kg"));
        b.screenshot("statement", backend).await;

        // The export, downloaded with the browser's session, is the API's.
        let session = b.client.get_named_cookie("wt_session").await.unwrap().value().to_owned();
        let href = b.client.find(Locator::Css("#export-csv")).await.unwrap().attr("href").await.unwrap().unwrap();
        let r = app.client.get(app.url(&href)).header("cookie", format!("wt_session={session}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"statement-"));
        let csv = r.text().await.unwrap();
        let api = app.get(&format!("/api/v1/statements/{id}/export.csv"), &p.office).await.text().await.unwrap();
        assert_eq!(csv, api, "the console's export is the API's");
        let href = b.client.find(Locator::Css("#export-xlsx")).await.unwrap().attr("href").await.unwrap().unwrap();
        let r = app.client.get(app.url(&href)).header("cookie", format!("wt_session={session}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"), "an xlsx workbook");

        // A payment recorded against the enterprise's balance: a comma is named beside the
        // amount and nothing is recorded; then ¥500 of the ¥840 are paid.
        b.go(&app, "/statements").await;
        b.choose("#balance-enterprise", &p.enterprise_a).await;
        b.submit("#balance-form").await;
        assert_eq!(b.path().await, format!("/balances/{}", p.enterprise_a));
        assert_eq!(b.text("#balance-due").await, "¥840.00");
        b.fill("#amount_yuan", "5,00").await;
        b.fill("#reference", "银行转账 8812").await;
        b.submit("#pay").await;
        assert!(b.exists(".field.invalid #amount_yuan").await, "{}", b.text("main").await);
        let balance = || {
            let (app, token, id) = (&app, p.office.clone(), p.enterprise_a.clone());
            async move { app.get(&format!("/api/v1/enterprises/{id}/balance"), &token).await.json::<Value>().await.unwrap() }
        };
        assert_eq!(balance().await["paid_fen"], 0, "a refused payment records nothing");
        b.fill("#amount_yuan", "500").await;
        b.fill("#paid_on", "2026-11-02").await;
        b.submit("#pay").await;
        assert_eq!(b.path().await, format!("/balances/{}?paid=1", p.enterprise_a));
        assert_eq!(b.text("#paid-total").await, "¥500.00");
        assert_eq!(b.text("#balance-due").await, "¥340.00");
        assert!(b.text("#payments").await.contains("银行转账 8812"));
        let api = balance().await;
        assert_eq!((api["paid_fen"].as_i64(), api["balance_fen"].as_i64()), (Some(50_000), Some(34_000)));
        b.screenshot("balance", backend).await;

        // The remittance to the disposal company for October, and its export, are the API's.
        b.go(&app, "/remittances?period=2026-10").await;
        assert_eq!(b.text("#billed").await, "¥840.00");
        assert_eq!(b.text("#collected").await, "¥500.00");
        assert!(b.text(&format!("tr[data-enterprise='{}']", p.enterprise_a)).await.contains("¥340.00"));
        let href = b.client.find(Locator::Css("#export-csv")).await.unwrap().attr("href").await.unwrap().unwrap();
        let r = app.client.get(app.url(&href)).header("cookie", format!("wt_session={session}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let api = app.get(&format!("/api/v1/remittances/export.csv?period=2026-10&disposer_id={}", p.disposer), &p.office).await.text().await.unwrap();
        assert_eq!(r.text().await.unwrap(), api, "the console's remittance export is the API's");
        b.sign_out().await;
        b.sign_in(&app, "dispatch").await;
        b.go(&app, "/remittances?period=2026-10").await;
        assert_eq!(b.text("#owed").await, "¥500.00", "the disposal company reads what it is owed");
        b.screenshot("remittance", backend).await;

        // The enterprise reads its statement and its balance; another enterprise neither.
        b.sign_out().await;
        b.sign_in(&app, "producer_a").await;
        b.go(&app, "/statements").await;
        assert_eq!(b.text("#balance-due").await, "¥340.00");
        assert!(b.exists(&format!("tr[data-statement='{id}']")).await);
        assert!(!b.exists("#issue").await, "an enterprise issues nothing");
        b.sign_out().await;
        b.sign_in(&app, "producer_b").await;
        b.go(&app, "/statements").await;
        assert!(b.exists("#no-statements").await);
        b.go(&app, &format!("/statements/{id}")).await;
        assert_eq!(b.text("h1").await, "未找到");
        b.go(&app, &format!("/balances/{}", p.enterprise_a)).await;
        assert_eq!(b.text("h1").await, "未找到");
        b.go(&app, "/remittances?period=2026-10").await;
        assert_eq!(b.text("h1").await, "无权执行此操作", "an enterprise reads no remittance");
    }

    async fn the_ledgers_and_the_stock_over_time_are_the_apis(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn_with(backend, crate::helpers::time_travel).await;
        app.stand_at("2026-10-10T12:00:00+08:00");
        let p = park(&app, 100_000, 100).await;
        let lot = weigh(&app, &p, &p.enterprise_a, 300).await;
        let lot = lot["id"].as_str().unwrap();
        app.stand_at("2026-11-02T10:00:00+08:00");

        b.sign_in(&app, "office").await;
        b.go(&app, "/ledgers?month=2026-10").await;
        let row = b.text("tr[data-code='900-249-08']").await;
        assert!(row.starts_with("900-249-08 HW08 0 kg 300 kg 0 kg"), "opening 0, in 300 kg: {row}");
        assert!(b.text("#ledger-totals").await.contains("300 kg"));
        assert!(b.exists(&format!("tr[data-movement='in'][data-lot='{lot}']")).await);
        b.screenshot("ledger", backend).await;
        let session = b.client.get_named_cookie("wt_session").await.unwrap().value().to_owned();
        for (css, api) in [("#export-csv", "export.csv"), ("#export-xlsx", "export.xlsx")] {
            let href = b.client.find(Locator::Css(css)).await.unwrap().attr("href").await.unwrap().unwrap();
            let r = app.client.get(app.url(&href)).header("cookie", format!("wt_session={session}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let console = r.bytes().await.unwrap();
            let api = app.get(&format!("/api/v1/parks/{}/ledger/{api}?kind=hazardous&month=2026-10", p.park), &p.office).await.bytes().await.unwrap();
            if css == "#export-csv" {
                assert_eq!(console, api, "the console's ledger export is the API's");
            } else {
                assert!(console.starts_with(b"PK") && api.starts_with(b"PK"), "xlsx workbooks");
            }
        }
        // November: what October closed with opens it; the general ledger holds nothing.
        b.go(&app, "/ledgers").await;
        assert_eq!(b.client.find(Locator::Css("#month")).await.unwrap().attr("value").await.unwrap().as_deref(), Some("2026-11"));
        assert!(b.text("tr[data-code='900-249-08']").await.starts_with("900-249-08 HW08 300 kg 0 kg"));
        b.choose("#kind", "general").await;
        b.submit("#ledger-form").await;
        assert!(b.exists("#no-ledger-lines").await);
        // The warehouse's ledger, chosen on the page, holds the same lot.
        b.choose("#subject", &format!("warehouse:{}", p.warehouse)).await;
        b.choose("#kind", "hazardous").await;
        b.fill("#month", "2026-10").await;
        b.submit("#ledger-form").await;
        assert!(b.exists(&format!("tr[data-movement='in'][data-lot='{lot}']")).await);
        b.go(&app, "/ledgers?month=2026-13").await;
        assert_eq!(b.text("h1").await, "请求参数未通过校验");

        // Stock over time: nothing at September's end, 300 kg at October's and November's.
        b.go(&app, "/figures?from=2026-09&to=2026-11").await;
        assert!(b.text("svg#stock g[data-key='2026-09']").await.contains("0 kg"));
        assert!(b.text("svg#stock g[data-key='2026-10']").await.contains("300 kg"));
        assert!(b.text("svg#stock g[data-key='2026-11']").await.contains("300 kg"));

        // An enterprise reads its own ledger only.
        b.sign_out().await;
        b.sign_in(&app, "producer_a").await;
        b.go(&app, "/ledgers?month=2026-10").await;
        assert!(b.exists(&format!("tr[data-lot='{lot}']")).await);
        assert!(!b.exists("#subject").await, "an enterprise has no other ledger to choose");
        b.go(&app, &format!("/ledgers?month=2026-10&subject=park:{}", p.park)).await;
        assert_eq!(b.text("h1").await, "未找到");
        b.go(&app, "/lots").await;
        b.sign_out().await;
        b.sign_in(&app, "producer_b").await;
        b.go(&app, "/ledgers?month=2026-10").await;
        assert!(b.exists("#no-ledger-lines").await && b.exists("#no-movements").await);
        b.go(&app, &format!("/ledgers/export.csv?month=2026-10&subject=enterprise:{}", p.enterprise_a)).await;
        assert_eq!(b.text("h1").await, "未找到");
    }
}

backend_tests! {
    async fn an_inspector_finds_the_manifest_and_its_anomaly_in_its_jurisdiction_only(backend: Backend) {
        let Some(b) = Browser::start().await else { return };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        for (name, jurisdiction) in [("longgang", "440307"), ("guangzhou", "4401")] {
            let bureau = app.create_bureau(&p.admin, &format!("{name} bureau"), jurisdiction).await;
            app.create_user(&p.admin, &bureau, name, "inspector", PASSWORD).await;
        }
        let (lot, id, number) = collected(&app, &p).await;
        // Received 150 kg short: the mass balance flags it.
        for (token, step, body) in [
            (&p.office, "confirm", json!({})),
            (&p.driver, "take-over", json!({})),
            (&p.dispatcher, "receive", json!({"received_grams": 400_000, "decision": "accepted"})),
        ] {
            let r = app.post_json(&format!("/api/v1/manifests/{id}/{step}"), Some(token), &body).await;
            assert_eq!(r.status(), StatusCode::OK, "{step}");
        }

        b.sign_in(&app, "longgang").await;
        assert_eq!(b.path().await, "/parks", "an inspector starts at the parks of its district");
        let park_row = format!("tr[data-park='{}']", p.park);
        assert!(b.text(&park_row).await.contains("Longgang park"));
        b.submit_link(&format!("{park_row} a[href^='/figures']")).await;
        assert!(b.text("svg#by-code g[data-key='900-249-08']").await.contains("550 kg"), "the park's charts");
        b.go(&app, "/parks").await;
        b.submit_link(&format!("{park_row} a[href^='/ledgers']")).await;
        assert!(b.text("tr[data-movement='out']").await.contains(&number), "the park's ledger names the manifest");
        b.go(&app, "/parks").await;
        b.submit_link(&format!("{park_row} a[href^='/anomalies']")).await;
        assert!(b.exists(&format!("tr[data-subject='{id}']")).await, "the park's anomalies");
        b.go(&app, "/manifests").await;
        b.fill("#number", &number).await;
        b.submit("form[role=search]").await;
        b.client.find(Locator::LinkText(&number)).await.unwrap().click().await.unwrap();
        assert_eq!(b.text("#number").await, number);
        assert!(b.exists("#flagged").await, "the mass balance is flagged on the page");
        assert!(!b.exists("form[id^=step-]").await, "an inspector signs nothing");
        b.go(&app, "/anomalies?kind=mass_balance").await;
        let row = format!("tr[data-subject='{id}']");
        assert!(b.exists(&row).await, "the anomaly is listed");
        b.screenshot("anomalies", backend).await;
        // The lot's way, from its weighing to the manifest it left on.
        let lot_id = lot["id"].as_str().unwrap();
        b.go(&app, &format!("/lots/{lot_id}/trace")).await;
        assert_eq!(b.text("#stage").await, "已接收");
        assert!(b.text(&format!("li[data-manifest='{id}']")).await.contains(&number));
        assert!(b.exists("li[data-request]").await, "the pickup request it waited in");
        b.go(&app, "/anomalies?kind=storage_overdue").await;
        assert!(b.exists("#no-anomalies").await);
        b.go(&app, "/anomalies?kind=no_such_kind").await;
        assert_eq!(b.text("h1").await, "请求参数未通过校验");

        // Another jurisdiction's inspector finds neither.
        b.go(&app, "/manifests").await;
        b.sign_out().await;
        b.sign_in(&app, "guangzhou").await;
        assert!(b.exists("#no-parks").await);
        b.go(&app, &format!("/figures?park_id={}", p.park)).await;
        assert_eq!(b.text("h1").await, "未找到");
        b.go(&app, &format!("/ledgers?park_id={}", p.park)).await;
        assert_eq!(b.text("h1").await, "未找到");
        b.go(&app, &format!("/manifests?number={number}")).await;
        assert!(b.exists("#no-manifests").await);
        b.go(&app, "/anomalies?kind=mass_balance").await;
        assert!(b.exists("#no-anomalies").await);
        b.go(&app, &format!("/manifests/{id}")).await;
        assert_eq!(b.text("h1").await, "未找到");
        b.go(&app, &format!("/lots/{lot_id}/trace")).await;
        assert_eq!(b.text("h1").await, "未找到");
    }
}

/// The session cookie and a form's token, as a browser would hold them after signing in.
async fn signed_in(app: &TestApp, username: &str) -> (String, String) {
    let r = app.client.get(app.url("/signin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let nonce = cookie(&r, "wt_signin");
    let page = r.text().await.unwrap();
    let token = hidden(&page, "_csrf");
    let r = app
        .client
        .post(app.url("/signin"))
        .header("cookie", format!("wt_signin={nonce}"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("_csrf", &token),
            ("next", "/lots"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/lots");
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = set
        .iter()
        .find(|c| c.starts_with("wt_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(
        !session.contains("Secure"),
        "not Secure over plain HTTP: {session}"
    );
    let session = cookie(&r, "wt_session");
    let r = app
        .client
        .get(app.url("/lots/new"))
        .header("cookie", format!("wt_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let form = hidden(&r.text().await.unwrap(), "_csrf");
    (session, form)
}

fn cookie(r: &reqwest::Response, name: &str) -> String {
    let prefix = format!("{name}=");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            v.to_str()
                .ok()?
                .strip_prefix(&prefix)?
                .split(';')
                .next()
                .map(str::to_owned)
        })
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("cookie {name}"))
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

backend_tests! {
    async fn a_form_without_its_token_or_with_a_forged_cookie_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        let (session, token) = signed_in(&app, "office").await;
        let weighing = |csrf: &str| {
            vec![("_csrf", csrf.to_owned()), ("enterprise_id", p.enterprise_a.clone()), ("waste_code", "900-249-08".into()),
                 ("zone_id", p.zone.clone()), ("physical_form", "liquid".into()), ("container_type", "drum".into()),
                 ("container_count", "1".into()), ("gross_kg", "120".into()), ("tare_kg", "20".into()), ("scale_id", "S-1".into())]
        };
        let post = |cookie: String, form: Vec<(&'static str, String)>| {
            app.client.post(app.url("/lots")).header("cookie", cookie).form(&form).send()
        };
        // Without the token, with another session's token, with a forged cookie: refused.
        let r = post(format!("wt_session={session}"), weighing("")).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let (_, other_token) = signed_in(&app, "office").await;
        let r = post(format!("wt_session={session}"), weighing(&other_token)).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let (named, _seal) = session.rsplit_once('.').unwrap();
        let forged = format!("{named}.{}", "A".repeat(43));
        let r = post(format!("wt_session={forged}"), weighing(&token)).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/signin"));
        assert!(lots_of(&app, &p).await.is_empty(), "nothing was recorded");

        // With its token: recorded once.
        let r = post(format!("wt_session={session}"), weighing(&token)).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(lots_of(&app, &p).await.len(), 1);

        // The same form sent twice at once (its key, as the page gives it): one lot, and both
        // answers lead to it; a form with another key is another weighing.
        let keyed = |key: &str| {
            let mut form = weighing(&token);
            form.push(("key", key.to_owned()));
            form
        };
        let (first, second) = tokio::join!(
            post(format!("wt_session={session}"), keyed("form-1")),
            post(format!("wt_session={session}"), keyed("form-1")),
        );
        let places: Vec<String> = [first.unwrap(), second.unwrap()]
            .iter()
            .map(|r| {
                assert_eq!(r.status(), StatusCode::SEE_OTHER);
                r.headers()["location"].to_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(lots_of(&app, &p).await.len(), 2, "one more lot, not two");
        assert_eq!(places[0], places[1], "both answers name the same lot");
        let again = post(format!("wt_session={session}"), keyed("form-1")).await.unwrap();
        assert_eq!(again.headers()["location"].to_str().unwrap(), places[0], "a later retry too");
        // The same form sent again with another weight (the back button, edited) is refused,
        // not taken for the first.
        let mut changed = keyed("form-1");
        changed.retain(|(name, _)| *name != "gross_kg");
        changed.push(("gross_kg", "130".into()));
        let r = post(format!("wt_session={session}"), changed).await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap().contains("此表单已用其他内容提交过"));
        assert_eq!(lots_of(&app, &p).await.len(), 2, "nothing more recorded");
        post(format!("wt_session={session}"), keyed("form-2")).await.unwrap();
        assert_eq!(lots_of(&app, &p).await.len(), 3);

        // Sign-in takes the token of its own form with that form's nonce cookie, and only them.
        let r = app.client.get(app.url("/signin")).send().await.unwrap();
        let nonce = cookie(&r, "wt_signin");
        let signin_token = hidden(&r.text().await.unwrap(), "_csrf");
        let other_nonce = cookie(&app.client.get(app.url("/signin")).send().await.unwrap(), "wt_signin");
        for (jar, csrf) in [(None, &signin_token), (Some(&other_nonce), &signin_token), (Some(&nonce), &token)] {
            let mut request = app.client.post(app.url("/signin"));
            if let Some(n) = jar {
                request = request.header("cookie", format!("wt_signin={n}"));
            }
            let r = request
                .form(&[("username", "office"), ("password", PASSWORD), ("_csrf", csrf.as_str())])
                .send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
            assert!(!r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("wt_session=")));
        }
        let r = app.client.post(app.url("/signin")).header("cookie", format!("wt_signin={nonce}"))
            .form(&[("username", "office"), ("password", PASSWORD), ("_csrf", signin_token.as_str())])
            .send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "the right pair signs in");

        // A step of a pickup request without its token is refused too.
        let r = app.client.post(app.url("/pickups/req_none/accept")).header("cookie", format!("wt_session={session}"))
            .form(&[("_csrf", "")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // The API does not take the console's cookie, and a signed-out cookie opens nothing.
        let r = app.client.get(app.url("/api/v1/lots")).header("cookie", format!("wt_session={session}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = app.client.post(app.url("/signout")).header("cookie", format!("wt_session={session}"))
            .form(&[("_csrf", token.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = app.client.get(app.url("/lots")).header("cookie", format!("wt_session={session}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "the session ended with the sign-out");
    }
}

backend_tests! {
    async fn a_throttled_sign_in_says_when_to_try_again(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.auth.login_max_failures_per_account = 2;
        })
        .await;
        let _ = park(&app, 500, 80).await;
        let r = app.client.get(app.url("/signin")).send().await.unwrap();
        let nonce = cookie(&r, "wt_signin");
        let token = hidden(&r.text().await.unwrap(), "_csrf");
        let attempt = |password: &'static str| {
            app.client
                .post(app.url("/signin"))
                .header("cookie", format!("wt_signin={nonce}"))
                .form(&[("username", "office"), ("password", password), ("_csrf", token.as_str())])
                .send()
        };
        for _ in 0..2 {
            assert_eq!(attempt("a wrong guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        let r = attempt(PASSWORD).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "past the limit even the right password");
        let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(!r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("wt_session=")));
    }
}

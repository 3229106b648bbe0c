//! The printed manifest and the filing export: the print page speaks Chinese (states, forms,
//! packaging, decisions, steps, roles), names people and organisations, shows times in the
//! park's time zone, and renders in a real browser on one A4 page; the filing export holds every
//! field of the national electronic manifest, says which are missing, and is the consignor's.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem};
use crate::manifests::{collect_request, manifest, with_permit};
use crate::permits::{own_zone, weigh_into};
use crate::pickups::{Park, park, weigh};

/// Four lots of two enterprises past the threshold, scheduled and collected: the manifest's id.
async fn collected(app: &TestApp, p: &Park) -> String {
    weigh(app, p, &p.enterprise_a, 120).await;
    weigh(app, p, &p.enterprise_b, 130).await;
    weigh(app, p, &p.enterprise_a, 140).await;
    let lot = weigh(app, p, &p.enterprise_b, 150).await;
    let collection = collect_request(app, p, &lot, 538).await;
    assert_eq!(collection["manifests"].as_array().unwrap().len(), 1);
    collection["manifests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sign(app: &TestApp, token: &str, id: &str, step: &str, body: Value) {
    let r = app
        .post_json(
            &format!("/api/v1/manifests/{id}/{step}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{step}");
}

/// Through every step to completion, each signed by its party.
async fn completed(app: &TestApp, p: &Park, id: &str) {
    sign(app, &p.office, id, "confirm", json!({})).await;
    sign(app, &p.driver, id, "take-over", json!({})).await;
    sign(app, &p.dispatcher, id, "arrival", json!({})).await;
    sign(
        app,
        &p.dispatcher,
        id,
        "receive",
        json!({"received_grams": 537_500, "decision": "accepted"}),
    )
    .await;
    sign(
        app,
        &p.dispatcher,
        id,
        "complete",
        json!({"treatment": "D10 焚烧"}),
    )
    .await;
}

async fn print(app: &TestApp, token: &str, id: &str) -> String {
    let r = app
        .get(&format!("/api/v1/manifests/{id}/print.html"), token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// A program the rendering test needs: from its variable, else on the PATH. Missing, the test
/// is skipped with a notice — except under CI, where `.ci/run` installs it and a missing one is
/// a failure.
pub fn tool(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{} is needed by the browser tests (set {variable}); under CI it is a failure",
            names[0]
        );
        eprintln!(
            "SKIPPED: {} not found (set {variable}); the browser test did not run",
            names[0]
        );
    }
    found
}

fn run(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

backend_tests! {
    async fn the_printed_manifest_is_in_chinese_with_names_and_the_parks_time(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // 17:20 UTC on 30 November is 01:20 on 1 December in the park (Asia/Shanghai).
        app.stand_at("2026-11-30T17:20:00Z");
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let id = collected(&app, &p).await;
        sign(&app, &p.office, &id, "confirm", json!({})).await;
        sign(&app, &p.driver, &id, "take-over", json!({})).await;

        let m = manifest(&app, &p.office, &id).await;
        let confirm = &m["signatures"][0];
        assert_eq!(confirm["name"], "office", "{m}");
        assert_eq!(confirm["organization_name"], "Longgang park", "{m}");

        let page = print(&app, &p.office, &id).await;
        for text in [
            "危险废物转移联单",
            "运输中",                      // in_transit
            "液态",                        // liquid
            "桶 4 件",                     // drum × 4
            "园区贮存库（收集单位）",      // the park's warehouse as consignor
            "移出人确认",                  // the confirm step
            "承运人接收",                  // take-over
            "园区管理处",                  // the park office's role
            "驾驶员",
            "office",                      // signers by name…
            "driver",
            "Longgang park",               // …and their organisations
            "Lvyun Transport",
            "Huaxin Electronics",          // the enterprises of the lots, one line each
            "Bolin Machinery",
            "538.000 kg（0.538000 吨）",
            "2026-12-01 01:20",            // the park's time, not UTC
            "Asia/Shanghai",
            "（尚未录入全国系统联单编号）",
            m["number"].as_str().unwrap(),
        ] {
            assert!(page.contains(text), "the page shows {text:?}:\n{page}");
        }
        for raw in [">in_transit<", "take_over", "UTC", "2026-11-30 17:20", ">liquid<", "drum ×", "park_office"] {
            assert!(!page.contains(raw), "no raw {raw:?} on the page:\n{page}");
        }
        for c in m["characteristics"].as_array().unwrap() {
            let zh = match c.as_str().unwrap() {
                "T" => "毒性（T）", "C" => "腐蚀性（C）", "I" => "易燃性（I）", "R" => "反应性（R）", _ => "感染性（In）",
            };
            assert!(page.contains(zh), "{zh}");
        }

        // Received and completed: the decision, quantities and treatment in Chinese words.
        sign(&app, &p.dispatcher, &id, "arrival", json!({})).await;
        sign(&app, &p.dispatcher, &id, "receive", json!({"received_grams": 537_500, "decision": "accepted"})).await;
        sign(&app, &p.dispatcher, &id, "complete", json!({"treatment": "D10 焚烧"})).await;
        let page = print(&app, &p.office, &id).await;
        for text in ["利用处置完毕", "接受人接收", "运抵", "537.500 kg", "D10 焚烧", "利用处置单位", "Dongjiang"] {
            assert!(page.contains(text), "the page shows {text:?}:\n{page}");
        }
        assert!(!page.contains(">accepted<") && !page.contains(">completed<"));
    }

    async fn the_printed_manifest_renders_on_one_a4_page(backend: Backend) {
        let (Some(chromium), Some(pdfinfo), Some(pdftotext)) = (
            tool("WASTETRACK_TEST_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]),
            tool("WASTETRACK_TEST_PDFINFO", &["pdfinfo"]),
            tool("WASTETRACK_TEST_PDFTOTEXT", &["pdftotext"]),
        ) else {
            return;
        };
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let id = collected(&app, &p).await;
        completed(&app, &p, &id).await;
        let number = manifest(&app, &p.office, &id).await["number"].as_str().unwrap().to_owned();
        let page = print(&app, &p.office, &id).await;
        assert!(page.contains("<svg class=\"qrcode\"") && page.contains("<path class=\"qr\" d=\"M"), "the QR code: {page}");

        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("manifest.html");
        let pdf = dir.path().join("manifest.pdf");
        std::fs::write(&html, page).unwrap();
        let profile = dir.path().join("profile");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-pdf-header-footer".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--print-to-pdf={}", pdf.display()),
            format!("file://{}", html.display()),
        ];
        let (chromium, pdf_path) = (chromium.clone(), pdf.clone());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&chromium, &args);
            assert!(pdf_path.is_file(), "the browser printed the page");
        })
        .await
        .unwrap();
        // To look at it: WASTETRACK_TEST_PRINT_OUT=folder keeps the PDF there.
        if let Ok(out) = std::env::var("WASTETRACK_TEST_PRINT_OUT") {
            std::fs::copy(&pdf, Path::new(&out).join(format!("manifest-{backend:?}.pdf"))).unwrap();
            std::fs::copy(&html, Path::new(&out).join(format!("manifest-{backend:?}.html"))).unwrap();
        }
        let pdf = pdf.to_str().unwrap();
        let info = run(&pdfinfo, &[pdf]);
        assert!(info.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Pages:", "1"]), "one page:\n{info}");
        let size = info.lines().find(|l| l.starts_with("Page size:")).unwrap_or_default().to_owned();
        assert!(size.ends_with("(A4)"), "A4: {size}");
        let text = run(&pdftotext, &["-layout", pdf, "-"]);
        for shown in ["危险废物转移联单", number.as_str(), "利用处置完毕", "D10 焚烧", "Huaxin Electronics", "538.000 kg"] {
            assert!(text.contains(shown), "the rendered page shows {shown:?}:\n{text}");
        }
    }

    async fn the_filing_holds_every_field_of_the_national_form(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let id = collected(&app, &p).await;
        sign(&app, &p.office, &id, "confirm", json!({})).await;
        sign(&app, &p.driver, &id, "take-over", json!({})).await;

        let r = app.get(&format!("/api/v1/manifests/{id}/filing"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let filing: Value = r.json().await.unwrap();
        let value = |field: &str| -> Option<String> {
            let f = filing["fields"].as_array().unwrap().iter().find(|f| f["field"] == field)
                .unwrap_or_else(|| panic!("the filing has {field}: {filing}"));
            f["value"].as_str().map(str::to_owned)
        };
        let parts: Vec<&str> = filing["fields"].as_array().unwrap().iter().map(|f| f["part"].as_str().unwrap()).collect();
        let mut order = parts.clone();
        order.dedup();
        assert_eq!(order, vec!["移出信息", "运输信息", "接受信息"], "the form's three parts in order");
        assert_eq!(value("本系统跟踪编号"), filing["number"].as_str().map(str::to_owned));
        assert_eq!(value("移出人名称").as_deref(), Some("Longgang park"));
        assert_eq!(value("危险废物收集经营许可证编号").as_deref(), Some("440300-HW-2026-012"));
        assert_eq!(value("废物代码").as_deref(), Some("900-249-08"));
        assert_eq!(value("废物类别").as_deref(), Some("HW08"));
        assert_eq!(value("形态").as_deref(), Some("液态"));
        assert_eq!(value("包装数量").as_deref(), Some("4"));
        assert_eq!(value("移出量（吨）").as_deref(), Some("0.538000"));
        assert_eq!(value("车牌号").as_deref(), Some("粤B12345"));
        assert_eq!(value("道路危险货物运输证号").as_deref(), Some("440300012345"));
        assert_eq!(value("驾驶员").as_deref(), Some("driver"));
        assert_eq!(value("承运人名称").as_deref(), Some("Lvyun Transport"));
        assert_eq!(value("接受人名称").as_deref(), Some("Dongjiang"));
        assert!(value("运输起点").is_some() && value("运输终点").is_some(), "the park's and the receiver's addresses: {filing}");
        assert!(value("承运人接收时间").is_some() && value("移出人确认时间").is_some());
        // Not yet received: the receiving part waits, and says so.
        assert_eq!(value("接受量（吨）"), None);
        let missing: Vec<&str> = filing["missing"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        for field in ["联单编号", "接受量（吨）", "接受时间", "运抵时间"] {
            assert!(missing.contains(&field), "{field} is missing: {missing:?}");
        }
        assert!(!missing.contains(&"车牌号"));

        // The same as CSV, with a byte-order mark.
        let r = app.get(&format!("/api/v1/manifests/{id}/filing.csv"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("\u{feff}部分,字段,内容\n"), "{csv}");
        assert!(csv.contains("移出信息,移出量（吨）,0.538000\n"), "{csv}");
        let records = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes()).records().count();
        assert_eq!(records, parts.len(), "one line per field");

        // Received: the receiving part is filled in.
        sign(&app, &p.dispatcher, &id, "arrival", json!({})).await;
        sign(&app, &p.dispatcher, &id, "receive", json!({"received_grams": 537_500, "decision": "accepted"})).await;
        let filing: Value = app.get(&format!("/api/v1/manifests/{id}/filing"), &p.office).await.json().await.unwrap();
        let received = filing["fields"].as_array().unwrap().iter().find(|f| f["field"] == "接受量（吨）").unwrap();
        assert_eq!(received["value"], "0.537500");
        assert!(!filing["missing"].as_array().unwrap().iter().any(|f| f == "接受意见"));

        // The filing is the consignor's: an enterprise whose lots it holds reads the manifest
        // but not the filing; a stranger does not learn it exists.
        assert_eq!(app.get(&format!("/api/v1/manifests/{id}"), &p.producer_a).await.status(), StatusCode::OK);
        assert_problem(app.get(&format!("/api/v1/manifests/{id}/filing"), &p.producer_a).await, StatusCode::FORBIDDEN, "forbidden").await;
        assert_problem(app.get(&format!("/api/v1/manifests/{id}/filing.csv"), &p.outsider_user).await, StatusCode::NOT_FOUND, "not-found").await;
        assert_eq!(app.get(&format!("/api/v1/manifests/{id}/filing"), &p.dispatcher).await.status(), StatusCode::OK);
    }

    async fn an_enterprise_consignor_files_its_own_manifest(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Lots stored in the enterprise's own zone: the enterprise consigns them.
        let p = park(&app, 500, 80).await;
        let own = own_zone(&app, &p, &p.enterprise_a, "E-A").await;
        let id = {
            assert_eq!(weigh_into(&app, &p, &p.enterprise_a, &own, 300).await.status(), StatusCode::CREATED);
            let lot: Value = weigh_into(&app, &p, &p.enterprise_a, &own, 250).await.json().await.unwrap();
            let c = collect_request(&app, &p, &lot, 549).await;
            c["manifests"][0]["id"].as_str().unwrap().to_owned()
        };
        let r = app.get(&format!("/api/v1/manifests/{id}/filing"), &p.producer_a).await;
        assert_eq!(r.status(), StatusCode::OK);
        let filing: Value = r.json().await.unwrap();
        let fields = filing["fields"].as_array().unwrap();
        let value = |field: &str| fields.iter().find(|f| f["field"] == field).map(|f| f["value"].clone());
        assert_eq!(value("移出人名称"), Some(json!("Huaxin Electronics")));
        assert!(value("移出人统一社会信用代码").unwrap().is_string(), "{filing}");
        assert_eq!(value("危险废物收集经营许可证编号"), None, "no permit line for an enterprise");
        assert_problem(app.get(&format!("/api/v1/manifests/{id}/filing"), &p.producer_b).await, StatusCode::NOT_FOUND, "not-found").await;
    }

    async fn the_manifest_export_tells_the_arrival_deadline_from_the_receipts(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        app.stand_at("2026-12-01T02:00:00Z"); // a Tuesday in the park
        let p = park(&app, 500, 80).await;
        with_permit(&app, &p).await;
        let id = collected(&app, &p).await;
        let r = app.request(reqwest::Method::PUT, &format!("/api/v1/manifests/{id}/official-number"), Some(&p.office))
            .json(&json!({"official_number": "20264403000777"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        sign(&app, &p.office, &id, "confirm", json!({})).await;
        sign(&app, &p.driver, &id, "take-over", json!({})).await;
        let row = || async {
            let text = app.get("/api/v1/manifests/export.csv", &p.office).await.text().await.unwrap();
            let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
            let row: Vec<String> = reader.records().next().unwrap().unwrap().iter().map(str::to_owned).collect();
            headers.into_iter().zip(row).collect::<std::collections::HashMap<String, String>>()
        };
        let m = manifest(&app, &p.office, &id).await;
        let in_transit = row().await;
        assert_eq!(in_transit["联单编号（全国系统）"], "20264403000777");
        assert_eq!(in_transit["状态"], "运输中");
        assert_eq!(in_transit["物理形态"], "液态");
        assert_eq!(in_transit["包装方式"], "桶 4 件");
        assert_eq!(in_transit["应运抵日期"], m["arrival_due_on"].as_str().unwrap(), "{m}");
        assert_eq!(in_transit["接收确认期限"], "", "no receipt is due before the waste arrives");

        sign(&app, &p.dispatcher, &id, "arrival", json!({})).await;
        let m = manifest(&app, &p.office, &id).await;
        let arrived = row().await;
        assert_eq!(arrived["应运抵日期"], "");
        assert_eq!(arrived["接收确认期限"], m["receipt_due_on"].as_str().unwrap(), "{m}");
        assert_eq!(arrived["接收确认期限"], "2026-12-08", "5 working days after Tuesday 1 December");
    }
}

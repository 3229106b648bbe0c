//! The waste catalog: the built-in seed, the CSV import and its report, lookups.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};

async fn import(app: &TestApp, token: &str, query: &str, csv: &str) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/v1/catalog/imports{query}"),
        Some(token),
    )
    .header("content-type", "text/csv; charset=utf-8")
    .body(csv.to_owned())
    .send()
    .await
    .unwrap()
}

const EDITION: &str = "\u{feff}code,name_zh,characteristics,name_en
HW08,废矿物油与含矿物油废物,,waste mineral oil
900-249-08,其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物,\"T,I\",
900-041-49,含有或沾染毒性、感染性危险废物的废弃的包装物、容器、过滤吸附介质,T/In,
900-041-42,no such category,T,
900-252-12,,T,
900-300-34,废酸,X,
S59,其他工业固体废物,,
900-099-S59,其他工业固体废物,,
900-001-S17,a general code whose category is missing,,
900-002-S59,a general code with characteristics,T,
HW49,其他废物,T,
900-249-08,duplicate,T,
";

backend_tests! {
    async fn the_hw_categories_are_seeded(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let page: Value = app.get("/api/v1/catalog/categories?kind=hazardous&limit=200", &admin).await.json().await.unwrap();
        let codes: Vec<&str> = page["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes.len(), 46, "HW01–HW50 without HW41–HW44");
        assert!(codes.contains(&"HW08") && codes.contains(&"HW50") && !codes.contains(&"HW42"));
        let general: Value = app.get("/api/v1/catalog/categories?kind=general", &admin).await.json().await.unwrap();
        assert_eq!(general["items"].as_array().map(Vec::len), Some(0));
    }

    async fn an_import_applies_good_lines_and_reports_every_bad_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;

        // A dry run reports without storing.
        let r = import(&app, &admin, "?edition=2025&dry_run=true", EDITION).await;
        assert_eq!(r.status(), StatusCode::OK);
        let dry: Value = r.json().await.unwrap();
        assert_eq!(dry["dry_run"], true);
        assert!(dry.get("id").is_none());
        assert_problem(app.get("/api/v1/catalog/codes/900-249-08", &admin).await, StatusCode::NOT_FOUND, "not-found").await;

        let r = import(&app, &admin, "?edition=2025", EDITION).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["lines"], 12);
        assert_eq!(report["accepted"], 5, "{report}");
        assert_eq!(report["rejected"], 7, "{report}");
        assert_eq!(report["created"], 4, "900-249-08, 900-041-49, S59, 900-099-S59: {report}");
        assert_eq!(report["updated"], 1, "HW08 got an English name: {report}");
        let rejected: Vec<(u64, String)> = report["rejected_lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["line"].as_u64().unwrap(), l["column"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            rejected,
            vec![
                (5, "code".to_owned()),
                (6, "name_zh".to_owned()),
                (7, "characteristics".to_owned()),
                (10, "code".to_owned()),
                (11, "characteristics".to_owned()),
                (12, "characteristics".to_owned()),
                (13, "code".to_owned()),
            ]
        );
        assert_eq!(dry["rejected_lines"], report["rejected_lines"], "the dry run predicted the same");
        let stored: Value = app.get(&location, &admin).await.json().await.unwrap();
        assert_eq!(stored, report);

        let code: Value = app.get("/api/v1/catalog/codes/900-249-08", &admin).await.json().await.unwrap();
        assert_eq!(code["category"], "HW08");
        assert_eq!(code["characteristics"], serde_json::json!(["T", "I"]));
        assert_eq!(code["edition"], "2025");
        let general: Value = app.get("/api/v1/catalog/codes/900-099-S59", &admin).await.json().await.unwrap();
        assert_eq!(general["kind"], "general");

        // Importing the same file again changes nothing; a later edition withdraws a code.
        let again: Value = import(&app, &admin, "?edition=2025", EDITION).await.json().await.unwrap();
        assert_eq!((again["created"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(0), Some(5)));
        // A file without the name_en column leaves the English names alone.
        let r: Value = import(&app, &admin, "", "code,name_zh\nHW08,废矿物油与含矿物油废物\n").await.json().await.unwrap();
        assert_eq!(r["unchanged"], 1, "{r}");
        let categories: Value = app.get("/api/v1/catalog/categories?kind=hazardous&limit=200", &admin).await.json().await.unwrap();
        let hw08 = categories["items"].as_array().unwrap().iter().find(|c| c["code"] == "HW08").unwrap().clone();
        assert_eq!(hw08["name_en"], "waste mineral oil");
        let withdrawal = "code,name_zh,characteristics,withdrawn_on\n900-041-49,含有或沾染毒性、感染性危险废物的废弃的包装物、容器、过滤吸附介质,T/In,2026-01-01\n";
        let r: Value = import(&app, &admin, "?edition=2026", withdrawal).await.json().await.unwrap();
        assert_eq!(r["updated"], 1);
        let listed: Value = app.get("/api/v1/catalog/codes?category=HW49", &admin).await.json().await.unwrap();
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(0), "withdrawn codes are hidden by default");
        let listed: Value = app.get("/api/v1/catalog/codes?category=HW49&include_withdrawn=true", &admin).await.json().await.unwrap();
        assert_eq!(listed["items"][0]["withdrawn_on"], "2026-01-01");
        let search: Value = app.get("/api/v1/catalog/codes?q=%E5%BA%9F%E7%9F%BF%E7%89%A9%E6%B2%B9", &admin).await.json().await.unwrap();
        assert_eq!(search["items"].as_array().map(Vec::len), Some(1), "search by name: 废矿物油");
        let prefix: Value = app.get("/api/v1/catalog/codes?q=900-24", &admin).await.json().await.unwrap();
        assert_eq!(prefix["items"][0]["code"], "900-249-08");
        let imports: Value = app.get("/api/v1/catalog/imports", &admin).await.json().await.unwrap();
        assert_eq!(imports["items"].as_array().map(Vec::len), Some(4));
    }

    async fn unusable_files_are_refused_whole(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let r = import(&app, &admin, "", "code,name,colour\n900-249-08,x,y\n").await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert!(error_fields(&problem).iter().all(|f| f == "header"));
        assert_eq!(problem["errors"].as_array().map(Vec::len), Some(3), "name and colour unknown, name_zh missing: {problem}");
        let r = app
            .request(Method::POST, "/api/v1/catalog/imports", Some(&admin))
            .header("content-type", "text/csv")
            .body(vec![0xffu8, 0xfe, 0x00, 0x41])
            .send()
            .await
            .unwrap();
        assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let r = app.post_json("/api/v1/catalog/imports", Some(&admin), &serde_json::json!({"code": "x"})).await;
        assert_problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type").await;
        let huge = format!("code,name_zh\n{}", "HW08,x\n".repeat(700_000));
        let r = import(&app, &admin, "", &huge).await;
        assert_problem(r, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large").await;

        // Only administrators import; everybody signed in reads.
        let park = app.create_park(&admin, "Park", "440307").await;
        app.create_user(&admin, &park, "office", "park_office", "a long password").await;
        let office = access_token(&app.login("office", "a long password").await);
        assert_problem(import(&app, &office, "", "code,name_zh\nHW08,x\n").await, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(app.get("/api/v1/catalog/categories", &office).await.status(), StatusCode::OK);
        assert_problem(app.get("/api/v1/catalog/imports", &office).await, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app.get("/api/v1/catalog/codes/not-a-code", &office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["code"]);
    }
}

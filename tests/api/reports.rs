//! A park's report for the government through the API: its trends, patrols and five haves
//! against hand-computed figures, its CSV and Excel exports and its printed page, who reads it,
//! and bad months.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, assert_problem, error_fields, time_travel};
use crate::pickups::{PASSWORD, park, weigh};

async fn ok_json(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

backend_tests! {
    async fn a_report_adds_up_trends_patrols_and_the_five_haves_of_its_period(backend: Backend) {
        let app = TestApp::spawn_with(backend, time_travel).await;
        app.stand_at("2025-11-15T02:00:00Z");
        let p = park(&app, 1_000_000, 100).await;
        // A's profile: waste oil, 300 kg a month, with a person in charge and a storage point.
        let profile = json!({"person_in_charge": "Chen Jie", "wastes": [
            {"waste_code": "900-249-08", "grams_per_month": 300_000, "handling": "park_warehouse"}],
            "storage_points": [{"name": "Oil cabinet", "location": "Building 3", "capacity_grams": 500_000}]});
        let r = app.request(reqwest::Method::PUT, &format!("/api/v1/enterprises/{}/profile", p.enterprise_a), Some(&p.office))
            .json(&profile).send().await.unwrap();
        ok_json(r).await;
        // A year before: 70 kg in November 2025; this year 40 kg in October, 150 kg in November.
        weigh(&app, &p, &p.enterprise_a, 70).await;
        app.stand_at("2026-10-15T02:00:00Z");
        weigh(&app, &p, &p.enterprise_a, 40).await;
        app.stand_at("2026-11-15T02:00:00Z");
        weigh(&app, &p, &p.enterprise_a, 150).await;
        // A patrol of A on 20 November with two findings, the first closed.
        app.stand_at("2026-11-20T02:00:00Z");
        let body = json!({"enterprise_id": p.enterprise_a, "patrolled_on": app.day(0), "people": ["张伟"],
            "findings": [{"description": "废油桶未贴标签", "severity": "major", "deadline": app.day(14)},
                         {"description": "台账未及时登记", "deadline": app.day(3)}]});
        let r = app.post_json("/api/v1/patrols", Some(&p.office), &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let patrol: Value = r.json().await.unwrap();
        let first = patrol["findings"][0]["id"].as_str().unwrap().to_owned();
        let r = app.post_json(&format!("/api/v1/findings/{first}/close"), Some(&p.office), &json!({"note": "已整改"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        // On 30 November the second finding (due 23 November) is overdue.
        app.stand_at("2026-11-30T02:00:00Z");

        let path = format!("/api/v1/parks/{}/report?from=2026-10&to=2026-11", p.park);
        let report = ok_json(app.get(&path, &p.office).await).await;
        assert_eq!((report["park_id"].clone(), report["from"].clone(), report["to"].clone(), report["time_zone"].clone()),
            (json!(p.park), json!("2026-10"), json!("2026-11"), json!("Asia/Shanghai")));
        // The trends are the park's trends by code.
        let trends = ok_json(app.get(&format!("/api/v1/parks/{}/trends?from=2026-10&to=2026-11", p.park), &p.office).await).await;
        assert_eq!(report["trends"], trends);
        let figures = |v: &Value| ["grams", "lots", "last_year_grams", "expected_grams", "recycled_grams", "disposed_grams"]
            .map(|f| v[f].as_i64().unwrap_or(-1));
        let months = report["trends"]["months"].as_array().unwrap();
        assert_eq!(figures(&months[0]), [40_000, 1, 0, 300_000, 0, 40_000]);
        assert_eq!(figures(&months[1]), [150_000, 1, 70_000, 300_000, 0, 150_000]);
        // (150 − 70) / 70 = +114 %.
        assert_eq!(months[1]["change_percent"], 114);
        assert_eq!([&report["trends"]["grams"], &report["trends"]["last_year_grams"], &report["trends"]["expected_grams"]],
            [&json!(190_000), &json!(70_000), &json!(600_000)]);
        // One patrol, two findings, one closed, one open and overdue: 50 %.
        let patrols = &report["patrols"];
        let counts = |v: &Value| ["patrols", "findings", "closed", "open", "overdue", "rectification_percent"]
            .map(|f| v[f].as_i64().unwrap_or(-1));
        assert_eq!(counts(patrols), [1, 2, 1, 1, 1, 50]);
        assert!(patrols["rule"].as_str().unwrap().contains("rounded down"));
        let by = patrols["enterprises"].as_array().unwrap();
        assert_eq!(by.len(), 1);
        assert_eq!(by[0]["enterprise_id"], p.enterprise_a.as_str());
        assert_eq!(counts(&by[0]), [1, 2, 1, 1, 1, 50]);
        // The five haves of the park's three enterprises: only A has a person in charge and a
        // storage point, no lot has its label's data, and the contract (a year from 15 November
        // 2025) is no longer in force.
        let haves = &report["five_haves"];
        assert_eq!(haves["enterprises"], 3);
        let met = |have: &str| haves["haves"].as_array().unwrap().iter().find(|h| h["have"] == have).unwrap()["met"].as_i64().unwrap();
        assert_eq!([met("person_in_charge"), met("storage_point"), met("labels"), met("contract")], [1, 1, 0, 0]);
        let list = ok_json(app.get(&format!("/api/v1/parks/{}/five-haves", p.park), &p.office).await).await;
        for have in ["person_in_charge", "storage_point", "sorting", "labels", "contract"] {
            let counted = list["enterprises"].as_array().unwrap().iter()
                .filter(|e| e["haves"].as_array().unwrap().iter().any(|h| h["have"] == have && h["met"] == true)).count();
            assert_eq!(met(have), i64::try_from(counted).unwrap(), "{have}");
        }
        // A period without the patrol: none counted, no rate.
        let october = ok_json(app.get(&format!("/api/v1/parks/{}/report?from=2026-10&to=2026-10", p.park), &p.office).await).await;
        assert_eq!(october["patrols"]["findings"], 0);
        assert!(october["patrols"].get("rectification_percent").is_none());

        // The CSV: a byte-order mark, Chinese headers, the sections one after another.
        let r = app.get(&path.replace("/report?", "/report/export.csv?"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "园区固体废物管理报告");
        assert!(lines.contains(&"统计期间,2026-10 至 2026-11"), "{text}");
        assert!(lines.iter().any(|l| l.starts_with("2026-11,900-249-08,") && l.ends_with(",150.000,1,70.000,300.000,0.000,150.000")), "{text}");
        assert!(lines.contains(&"2026-10,合计,,40.000,1,0.000,300.000,0.000,40.000"), "{text}");
        assert!(lines.contains(&"合计,,,190.000,,70.000,600.000,0.000,190.000"), "{text}");
        assert!(lines.contains(&"全园区,,1,2,1,1,1,50"), "{text}");
        assert!(lines.contains(&"有负责人,1,3"), "{text}");
        assert!(lines.contains(&"有处置合同,0,3"), "{text}");
        let order: Vec<usize> = ["一、", "二、", "三、"].iter()
            .map(|s| lines.iter().position(|l| l.starts_with(s)).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");

        // The workbook reads back with the same rows.
        let r = app.get(&path.replace("/report?", "/report/export.xlsx?"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(sheet.get((0, 0)), Some(&Data::String("园区固体废物管理报告".to_owned())));
        assert!(sheet.rows().any(|row| row[0] == Data::String("全园区".to_owned())
            && matches!(row[3], Data::Float(f) if (f - 2.0).abs() < 1e-9)));
        assert!(sheet.rows().any(|row| row[0] == Data::String("合计".to_owned())
            && matches!(row[3], Data::Float(f) if (f - 190.0).abs() < 1e-9)));

        // The printed page: the park's name and the figures, with no script.
        let r = app.get(&path.replace("/report?", "/report/print?"), &p.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'none'"));
        let page = r.text().await.unwrap();
        let park_name = ok_json(app.get(&format!("/api/v1/parks/{}", p.park), &p.office).await).await["name"].as_str().unwrap().to_owned();
        assert!(page.contains(&park_name), "{page}");
        for figure in ["150.000", "190.000", "600.000", "50%", "有负责人"] {
            assert!(page.contains(figure), "{figure}");
        }

        // Who reads it: another park's office 404, an enterprise 403; bad months name the field.
        let other = app.create_park(&p.admin, "Pingshan park", "440310").await;
        app.create_user(&p.admin, &other, "office_two", "park_office", PASSWORD).await;
        let office_two = crate::helpers::access_token(&app.login("office_two", PASSWORD).await);
        for tail in ["/report?", "/report/export.csv?", "/report/export.xlsx?", "/report/print?"] {
            let path = path.replace("/report?", tail);
            assert_problem(app.get(&path, &office_two).await, StatusCode::NOT_FOUND, "not-found").await;
            assert_problem(app.get(&path, &p.producer_a).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        assert_eq!(app.get(&path, &p.admin).await.status(), StatusCode::OK);
        let r = app.get(&format!("/api/v1/parks/{}/report?from=2026-13", p.park), &p.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), ["from"]);
        let r = app.get(&format!("/api/v1/parks/{}/report?from=2026-10&to=2026-1", p.park), &p.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), ["to"]);
    }
}

//! Waste lots: weighing in and every refusal, labels (with the QR code decoded), inventory,
//! voids and corrections, idempotent retries, concurrent weighings, declarations, lists,
//! alarms, and who may see what.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{TestApp, access_token, assert_problem, error_fields};

const PASSWORD: &str = "a long password";
const CATALOG: &str = "code,name_zh,characteristics
900-249-08,其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物,T/I
900-041-49,含有或沾染毒性、感染性危险废物的废弃的包装物、容器、过滤吸附介质,T/In
900-252-12,使用油漆、有机溶剂进行喷漆、上漆过程中产生的废物,T/I
S59,其他工业固体废物,
900-003-S59,废金属边角料,
";

/// A park with its office, two enterprises (only the first in the contract), a licensed
/// disposer, a contract valid around today, and a warehouse with an HW08 zone (1 tonne), an
/// HW49 zone and a general zone.
#[allow(dead_code)]
struct World {
    clock: wastetrack::clock::Clock,
    admin: String,
    office: String,
    producer: String,
    park: String,
    enterprise: String,
    outsider: String,
    contract: String,
    disposer: String,
    warehouse: String,
    oil_zone: String,
    rag_zone: String,
    general_zone: String,
}

async fn world(app: &TestApp, max_storage_days: i64) -> World {
    let admin = app.admin_token().await;
    let r = app
        .request(Method::POST, "/api/v1/catalog/imports", Some(&admin))
        .header("content-type", "text/csv")
        .body(CATALOG)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let day = |d: i64| app.day(d);
    let park = app.create_park(&admin, "Longgang park", "440307").await;
    app.grant_permit(&admin, &park).await;
    let enterprise = app
        .create_enterprise(&admin, &park, "Huaxin Electronics")
        .await;
    let outsider = app
        .create_enterprise(&admin, &park, "Not In The Contract Ltd")
        .await;
    let disposer = app.create_disposer(&admin, "Dongjiang").await;
    let licence = json!({"number": "L-1", "issuing_authority": "GDEE", "valid_from": day(-400), "valid_to": day(400),
        "annual_capacity_grams": 1_000_000_000_000i64, "scope": ["HW08", "HW49", "HW12"]});
    app.created_id(
        &format!("/api/v1/disposers/{disposer}/licences"),
        &admin,
        &licence,
    )
    .await;
    let contract = json!({"park_id": park, "disposer_id": disposer, "number": "C-1", "valid_from": day(-365), "valid_to": day(365),
        "max_storage_days": max_storage_days, "members": [{"enterprise_id": enterprise}],
        "prices": [{"target": "HW08", "fen_per_tonne": 280_000}, {"target": "900-041-49", "fen_per_tonne": 500_000},
                   {"target": "900-003-S59", "fen_per_tonne": -120_000}]});
    let contract = app.created_id("/api/v1/contracts", &admin, &contract).await;
    let warehouse = app
        .created_id(
            "/api/v1/warehouses",
            &admin,
            &json!({"park_id": park, "name": "No. 1", "address": "C2"}),
        )
        .await;
    let zones = format!("/api/v1/warehouses/{warehouse}/zones");
    let oil_zone = app.created_id(&zones, &admin, &json!({"name": "A1", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 1_000_000})).await;
    let rag_zone = app.created_id(&zones, &admin, &json!({"name": "A2", "kind": "hazardous", "categories": ["HW49", "HW12"], "capacity_grams": 1_000_000})).await;
    let general_zone = app
        .created_id(
            &zones,
            &admin,
            &json!({"name": "G1", "kind": "general", "capacity_grams": 10_000_000}),
        )
        .await;
    app.create_user(&admin, &park, "office", "park_office", PASSWORD)
        .await;
    app.create_user(&admin, &enterprise, "producer", "enterprise_user", PASSWORD)
        .await;
    let office = access_token(&app.login("office", PASSWORD).await);
    let producer = access_token(&app.login("producer", PASSWORD).await);
    World {
        clock: app.clock.clone(),
        admin,
        office,
        producer,
        park,
        enterprise,
        outsider,
        contract,
        disposer,
        warehouse,
        oil_zone,
        rag_zone,
        general_zone,
    }
}

fn weighing(w: &World, code: &str, zone: &str, gross: i64, tare: i64) -> Value {
    json!({"enterprise_id": w.enterprise, "waste_code": code, "physical_form": "liquid", "container_type": "drum",
        "container_count": 1, "container_litres": 200, "zone_id": zone, "gross_grams": gross, "tare_grams": tare,
        "scale_id": "SCALE-01", "captured_at": (w.clock.now() - Duration::minutes(30)).to_rfc3339()})
}

async fn post_lot(
    app: &TestApp,
    token: &str,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut r = app
        .request(Method::POST, "/api/v1/lots", Some(token))
        .json(body);
    if let Some(key) = key {
        r = r.header("idempotency-key", key);
    }
    r.send().await.unwrap()
}

async fn inventory(app: &TestApp, w: &World) -> Value {
    app.get(
        &format!("/api/v1/warehouses/{}/inventory", w.warehouse),
        &w.office,
    )
    .await
    .json()
    .await
    .unwrap()
}

/// The zone's stored grams and its inventory lines as (code, grams, lots).
fn zone_stock(inv: &Value, zone: &str) -> (i64, Vec<(String, i64, i64)>) {
    let z = inv["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["zone_id"] == zone)
        .expect("zone in inventory");
    let lines = z["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["waste_code"].as_str().unwrap().to_owned(),
                l["grams"].as_i64().unwrap(),
                l["lots"].as_i64().unwrap(),
            )
        })
        .collect();
    (z["stored_grams"].as_i64().unwrap(), lines)
}

/// The words of a label, its text elements joined (a long value wraps over several).
fn label_text(svg: &str) -> String {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .map(|(_, rest)| rest.split("</text>").next().unwrap_or(""))
        })
        .collect()
}

/// Reads the QR code out of a label's SVG: the path of unit squares, rasterised and decoded.
fn decode_qr(svg: &str) -> String {
    let start = svg.find(r#"class="qr" d=""#).expect("a QR path") + r#"class="qr" d=""#.len();
    let d = &svg[start..start + svg[start..].find('"').unwrap()];
    let squares: Vec<(usize, usize)> = d
        .split('z')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let xy = s.trim_start_matches('M').trim_end_matches("h1v1h-1");
            let (x, y) = xy.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    let modules = squares.iter().map(|(x, y)| x.max(y) + 1).max().unwrap() + 2;
    let scale = 6;
    let side = modules * scale;
    let mut pixels = vec![255u8; side * side];
    for (x, y) in squares {
        for dy in 0..scale {
            for dx in 0..scale {
                pixels[(y * scale + dy) * side + x * scale + dx] = 0;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("the QR code decodes").1
}

backend_tests! {
    async fn a_weighing_makes_a_stored_lot_and_the_inventory_follows(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let r = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 352_500, 32_500), None).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let lot: Value = r.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/lots/{}", lot["id"].as_str().unwrap()));
        assert_eq!(lot["status"], "stored");
        assert_eq!(lot["net_grams"], 320_000);
        assert_eq!(lot["contract_id"], w.contract);
        assert_eq!(lot["category"], "HW08");
        assert_eq!(lot["weight_source"], "scale");
        assert!(lot["received_at"].as_str().unwrap() >= lot["captured_at"].as_str().unwrap());
        let code = lot["label_code"].as_str().unwrap();
        assert_eq!(code.len(), 37);
        let enterprise: Value = app.get(&format!("/api/v1/enterprises/{}", w.enterprise), &w.office).await.json().await.unwrap();
        assert!(code.starts_with(enterprise["uscc"].as_str().unwrap()));
        assert_eq!(&code[18..26], "90024908");
        assert!(code.ends_with("001"));

        let second: Value = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 101_000, 1_000), None).await.json().await.unwrap();
        assert!(second["label_code"].as_str().unwrap().ends_with("002"), "sequence of the day");
        let (stored, lines) = zone_stock(&inventory(&app, &w).await, &w.oil_zone);
        assert_eq!(stored, 420_000);
        assert_eq!(lines, vec![("900-249-08".to_owned(), 420_000, 2)]);
        let inv = inventory(&app, &w).await;
        let line = &inv["zones"].as_array().unwrap().iter().find(|z| z["zone_id"] == w.oil_zone.as_str()).unwrap()["lines"][0];
        assert_eq!(line["oldest_age_days"], 0);
        assert_eq!(line["contract_id"], w.contract);

        let fetched: Value = app.get(&location, &w.producer).await.json().await.unwrap();
        assert_eq!(fetched["id"], lot["id"], "the enterprise reads its lot");
        let history: Value = app.get(&format!("{location}/history"), &w.office).await.json().await.unwrap();
        assert_eq!(history[0]["kind"], "recorded");
    }

    async fn every_refusal_says_why_and_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 900_000, 0), None).await;
        let before = inventory(&app, &w).await;

        let mut outsider = weighing(&w, "900-249-08", &w.oil_zone, 1_000, 0);
        outsider["enterprise_id"] = json!(w.outsider);
        let mut future = weighing(&w, "900-249-08", &w.oil_zone, 1_000, 0);
        future["captured_at"] = json!((app.now() + Duration::hours(2)).to_rfc3339());
        let mut stale = weighing(&w, "900-249-08", &w.oil_zone, 1_000, 0);
        stale["captured_at"] = json!((app.now() - Duration::days(40)).to_rfc3339());
        let mut produced_later = weighing(&w, "900-249-08", &w.oil_zone, 1_000, 0);
        produced_later["produced_on"] = json!((app.now() + Duration::days(3)).date_naive().to_string());
        let mut mismatch = weighing(&w, "900-249-08", &w.oil_zone, 1_000, 100);
        mismatch["net_grams"] = json!(950);
        let refusals = [
            (weighing(&w, "900-252-12", &w.rag_zone, 1_000, 0), "waste_code", "not_covered"),
            (outsider, "enterprise_id", "not_in_contract"),
            (weighing(&w, "900-249-08", &w.general_zone, 1_000, 0), "zone_id", "wrong_kind"),
            (weighing(&w, "900-003-S59", &w.oil_zone, 1_000, 0), "zone_id", "wrong_kind"),
            (weighing(&w, "900-041-49", &w.oil_zone, 1_000, 0), "zone_id", "category_not_allowed"),
            (weighing(&w, "900-999-08", &w.oil_zone, 1_000, 0), "waste_code", "unknown_code"),
            (weighing(&w, "900-249-08", &w.oil_zone, 1_000, 1_000), "tare_grams", "implausible"),
            (weighing(&w, "900-249-08", &w.oil_zone, 0, 0), "gross_grams", "out_of_range"),
            (mismatch, "net_grams", "mismatch"),
            (produced_later, "produced_on", "in_future"),
            (weighing(&w, "900-249-08", &w.oil_zone, 9_000_000_000_000_000_000, 8_999_999_999_999_990_000), "gross_grams", "out_of_range"),
            (future, "captured_at", "in_future"),
            (stale, "captured_at", "too_old"),
        ];
        for (body, field, code) in refusals {
            let r = post_lot(&app, &w.office, &body, None).await;
            let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec![field.to_owned()], "{body}");
            assert_eq!(problem["errors"][0]["code"], code, "{body}");
        }
        // The zone holds 900 of 1000 kg-equivalent grams: 200 000 more would overflow it.
        let r = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 200_000, 0), None).await;
        let problem = assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        assert!(problem["detail"].as_str().unwrap().contains("A1"), "{problem}");
        assert_eq!(inventory(&app, &w).await, before, "no refused weighing touched the stock");
        let all: Value = app.get("/api/v1/lots", &w.office).await.json().await.unwrap();
        assert_eq!(all["items"].as_array().map(Vec::len), Some(1));

        // Only the park office records weighings.
        let r = post_lot(&app, &w.producer, &weighing(&w, "900-249-08", &w.oil_zone, 1_000, 0), None).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    }

    async fn labels_carry_the_standards_fields_and_a_qr_code_to_the_lot(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let mut body = weighing(&w, "900-041-49", &w.rag_zone, 25_400, 400);
        body["main_components"] = json!("废抹布、手套 & <油污>");
        let lot: Value = post_lot(&app, &w.office, &body, None).await.json().await.unwrap();
        let id = lot["id"].as_str().unwrap();
        let r = app.get(&format!("/api/v1/lots/{id}/label.svg"), &w.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"));
        crate::health::assert_page_is_locked_down(&r);
        let svg = r.text().await.unwrap();
        let text = label_text(&svg);
        for expected in [
            "危险废物",
            "废物名称：含有或沾染毒性",
            "废物类别：HW49",
            "废物代码：900-041-49",
            "废物形态：液态",
            "危险特性：T 毒性、In 感染性",
            "主要成分：废抹布、手套 &amp; &lt;油污&gt;",
            "有害成分：",
            "注意事项：避免接触和吸入",
            "产生/收集单位：Huaxin Electronics",
            "联系方式：13800138000",
            "产生日期：",
            "废物重量：25.000 kg（称重）",
            "备注：第 1/1 件",
        ] {
            assert!(text.contains(expected), "label lacks {expected}: {text}");
        }
        for c in ["T", "In"] {
            assert!(svg.contains(&format!(r#"class="pictogram" data-characteristic="{c}""#)), "pictogram {c}");
        }
        assert!(!svg.contains(r#"data-characteristic="C""#));
        assert!(svg.contains(r#"width="150mm""#), "200 L drums get the 150 mm label");
        let label_code = lot["label_code"].as_str().unwrap();
        assert!(text.contains(&format!("数字识别码：{label_code}")));

        // The QR code opens the container's public page, not the lot's record.
        let url = decode_qr(&svg);
        assert!(url.contains("/api/v1/verify/") && !url.contains(id) && !url.contains(label_code), "{url}");
        let path = &url[url.find("/api/").unwrap()..];
        let public: Value = app.client.get(app.url(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(public["label_code"], label_code);
        assert!(public.get("record").is_none());
        let record: Value = app.get(path, &w.office).await.json().await.unwrap();
        assert_eq!(record["record"]["id"], id, "a reader of the lot gets its full record");
        let lot_path = format!("/api/v1/lots/{id}");
        assert_eq!(app.client.get(app.url(&lot_path)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        let other_park = app.create_park(&w.admin, "Other", "440106").await;
        app.create_user(&w.admin, &other_park, "stranger", "park_office", PASSWORD).await;
        let stranger = access_token(&app.login("stranger", PASSWORD).await);
        let seen: Value = app.get(path, &stranger).await.json().await.unwrap();
        assert!(seen.get("record").is_none(), "the public part only: {seen}");
        assert_problem(app.get(&lot_path, &stranger).await, StatusCode::NOT_FOUND, "not-found").await;
        assert_problem(app.get(&format!("/api/v1/lots/{id}/label.svg"), &stranger).await, StatusCode::NOT_FOUND, "not-found").await;

        // Each size, with its minimum side and text, every field and a QR code that decodes.
        for (size, font) in [("100", "3.00"), ("150", "5.00"), ("200", "6.00")] {
            let label = app.get(&format!("/api/v1/lots/{id}/label.svg?size={size}"), &w.office).await.text().await.unwrap();
            assert!(label.contains(&format!(r#"width="{size}mm""#)) && label.contains(&format!(r#"font-size="{font}""#)), "{size}");
            let height: f64 = label.split(r#"height=""#).nth(1).unwrap().split("mm").next().unwrap().parse().unwrap();
            assert!(height >= size.parse::<f64>().unwrap(), "at least the standard's side: {height}");
            let words = label_text(&label);
            for field in ["废物名称", "废物类别", "废物代码", "废物形态", "危险特性", "主要成分", "有害成分", "注意事项", "数字识别码", "产生/收集单位", "联系人", "联系方式", "产生日期", "废物重量", "备注"] {
                assert!(words.contains(field), "{size} mm label lacks {field}: {words}");
            }
            assert!(words.replace(['\n', ' '], "").contains(label_code), "{size} mm: the code on one line");
            assert_eq!(decode_qr(&label), url);
        }
        let r = app.get(&format!("/api/v1/lots/{id}/label.svg?size=120"), &w.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["size"]);
        let r = app.get(&format!("/api/v1/lots/{id}/label.svg?container=2"), &w.office).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["container"]);
        let page = app.get(&format!("/api/v1/lots/{id}/label.html"), &w.office).await.text().await.unwrap();
        assert_eq!(page.matches("<svg").count(), 1, "one label for a 200 L drum");

        let general: Value = post_lot(&app, &w.office, &weighing(&w, "900-003-S59", &w.general_zone, 50_000, 0), None).await.json().await.unwrap();
        assert!(general.get("label_code").is_none());
        let svg = app.get(&format!("/api/v1/lots/{}/label.svg", general["id"].as_str().unwrap()), &w.office).await.text().await.unwrap();
        let text = label_text(&svg);
        assert!(text.contains("一般工业固体废物") && !text.contains("危险特性") && !text.contains("数字识别码"));
    }

    async fn every_container_has_its_own_code_weight_label_and_public_page(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.rate_limit.verify_per_address_per_minute = 40;
            s.database_max_connections = 8;
        }).await;
        let w = world(&app, 180).await;
        // Three 30 L cans weighed one by one, then two 1 000 L totes weighed together.
        let mut cans = weighing(&w, "900-041-49", &w.rag_zone, 25_400, 400);
        cans["container_count"] = json!(3);
        cans["container_litres"] = json!(30);
        cans["container_grams"] = json!([10_000, 7_000, 8_000]);
        cans["harmful_components"] = json!("苯系物");
        cans["precautions"] = json!("远离火源");
        let cans: Value = post_lot(&app, &w.office, &cans, None).await.json().await.unwrap();
        let mut totes = weighing(&w, "900-041-49", &w.rag_zone, 100_001, 0);
        totes["container_count"] = json!(2);
        totes["container_litres"] = json!(1_000);
        let totes: Value = post_lot(&app, &w.office, &totes, None).await.json().await.unwrap();

        let list = |id: String| { let app = &app; let token = w.office.clone(); async move {
            app.get(&format!("/api/v1/lots/{id}/containers"), &token).await.json::<Value>().await.unwrap()
        } };
        let can_list = list(cans["id"].as_str().unwrap().to_owned()).await;
        let tote_list = list(totes["id"].as_str().unwrap().to_owned()).await;
        let codes: Vec<&str> = can_list.as_array().unwrap().iter().chain(tote_list.as_array().unwrap()).map(|c| c["label_code"].as_str().unwrap()).collect();
        let sequences: Vec<&str> = codes.iter().map(|c| &c[34..]).collect();
        assert_eq!(sequences, vec!["001", "002", "003", "004", "005"], "the day's sequence counts containers");
        assert_eq!(cans["label_code"], codes[0], "the lot's code is its first container's");
        let weights: Vec<(i64, bool)> = can_list.as_array().unwrap().iter().chain(tote_list.as_array().unwrap())
            .map(|c| (c["grams"].as_i64().unwrap(), c["weight_shared"].as_bool().unwrap())).collect();
        assert_eq!(weights, vec![(10_000, false), (7_000, false), (8_000, false), (50_001, true), (50_000, true)]);

        // Each container's label, at each size: its own code, weight and QR code.
        let mut urls = Vec::new();
        for (lot, containers) in [(&cans, &can_list), (&totes, &tote_list)] {
            let id = lot["id"].as_str().unwrap();
            for c in containers.as_array().unwrap() {
                let n = c["position"].as_i64().unwrap();
                for size in ["100", "150", "200"] {
                    let svg = app.get(&format!("/api/v1/lots/{id}/label.svg?container={n}&size={size}"), &w.office).await.text().await.unwrap();
                    let text = label_text(&svg);
                    let code = c["label_code"].as_str().unwrap();
                    assert!(text.contains(&format!("数字识别码：{code}")), "{text}");
                    assert_eq!(decode_qr(&svg), c["verify_url"].as_str().unwrap());
                    let count = containers.as_array().unwrap().len();
                    assert!(text.contains(&format!("备注：第 {n}/{count} 件")), "{text}");
                    let kg = format!("{:.3} kg", c["grams"].as_f64().unwrap() / 1000.0);
                    assert!(text.contains(&format!("废物重量：{kg}")), "{text}");
                    assert_eq!(text.contains("均分"), c["weight_shared"].as_bool().unwrap(), "{text}");
                }
                urls.push(c["verify_url"].as_str().unwrap().to_owned());
            }
        }
        let can_svg = app.get(&format!("/api/v1/lots/{}/label.svg?container=2", cans["id"].as_str().unwrap()), &w.office).await.text().await.unwrap();
        let text = label_text(&can_svg);
        assert!(text.contains("有害成分：苯系物") && text.contains("注意事项：远离火源"), "{text}");
        assert!(can_svg.contains(r#"width="100mm""#), "30 L cans get the 100 mm label");
        // One label per can; two per tote, for its opposite sides.
        let page = app.get(&format!("/api/v1/lots/{}/label.html", cans["id"].as_str().unwrap()), &w.office).await.text().await.unwrap();
        assert_eq!(page.matches("<svg").count(), 3);
        let page = app.get(&format!("/api/v1/lots/{}/label.html", totes["id"].as_str().unwrap()), &w.office).await.text().await.unwrap();
        assert_eq!(page.matches("<svg").count(), 4);
        assert_eq!(page.matches(r#"data-container="2" data-copy="2""#).count(), 1);

        // The public page: what the label shows, and nothing more.
        let path = |url: &str| url[url.find("/api/").unwrap()..].to_owned();
        let public: Value = app.client.get(app.url(&path(&urls[1]))).send().await.unwrap().json().await.unwrap();
        let mut keys: Vec<&str> = public.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, vec!["category", "characteristics", "container", "containers", "grams", "kind", "label_code",
            "produced_on", "producer", "status", "waste_code", "waste_name", "weight_shared"]);
        assert_eq!(public["label_code"], codes[1]);
        assert_eq!((public["grams"].as_i64(), public["container"].as_i64(), public["status"].as_str()), (Some(7_000), Some(2), Some("stored")));
        assert_eq!(public["producer"], "Huaxin Electronics");
        assert_eq!(public["characteristics"], json!(["T", "In"]));
        let raw = public.to_string();
        for secret in ["13800138000", "fen", "price", "contract", cans["id"].as_str().unwrap(), codes[0], w.enterprise.as_str()] {
            assert!(!raw.contains(secret), "the public page shows {secret}: {raw}");
        }
        let r = app.client.get(app.url(&path(&urls[3]))).header("accept", "text/html").send().await.unwrap();
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = r.text().await.unwrap();
        assert!(html.contains(codes[3]) && html.contains("贮存中") && html.contains("批次重量均分"), "{html}");
        assert!(!html.contains("13800138000") && !html.contains(codes[4]), "{html}");
        // A digital code, a wrong token or a made-up one finds nothing.
        for bad in [codes[0].to_owned(), "AAAAAAAAAAAAAAAAAAAAAA".to_owned(), format!("{}x", &path(&urls[0])[15..])] {
            let r = app.client.get(app.url(&format!("/api/v1/verify/{bad}"))).send().await.unwrap();
            assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;
        }
        // Voided: the page says so.
        let r = app.post_json(&format!("/api/v1/lots/{}/void", totes["id"].as_str().unwrap()), Some(&w.office), &json!({"reason": "test"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let voided: Value = app.client.get(app.url(&path(&urls[4]))).send().await.unwrap().json().await.unwrap();
        assert_eq!(voided["status"], "voided");

        // Weights one by one must be one per container, positive, adding up to the net weight.
        for (grams, code) in [(json!([25_000]), "count_mismatch"), (json!([10_000, 7_000, 7_000]), "sum_mismatch"),
                              (json!([25_000, 0, 0]), "out_of_range")] {
            let mut body = weighing(&w, "900-041-49", &w.rag_zone, 25_400, 400);
            body["container_count"] = json!(3);
            body["container_grams"] = grams;
            let problem = assert_problem(post_lot(&app, &w.office, &body, None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
            assert_eq!(error_fields(&problem), vec!["container_grams"]);
            assert_eq!(problem["errors"][0]["code"], code);
        }

        // Concurrent weighings take disjoint, gap-free ranges of the day's sequence.
        let mut pair = weighing(&w, "900-041-49", &w.rag_zone, 2_000, 0);
        pair["container_count"] = json!(2);
        let posts = (0..6).map(|_| post_lot(&app, &w.office, &pair, None));
        let lots: Vec<reqwest::Response> = futures_util::future::join_all(posts).await;
        assert!(lots.iter().all(|r| r.status() == StatusCode::CREATED));
        let all: Value = app.get("/api/v1/lots?waste_code=900-041-49&limit=200", &w.office).await.json().await.unwrap();
        let mut seqs = Vec::new();
        for lot in all["items"].as_array().unwrap() {
            for c in list(lot["id"].as_str().unwrap().to_owned()).await.as_array().unwrap() {
                seqs.push(c["label_code"].as_str().unwrap()[34..].parse::<i32>().unwrap());
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=17).collect::<Vec<_>>(), "unique and without gaps");

        // Correcting the lot's weight: its containers' weights are shared from then on.
        let r = app.post_json(&format!("/api/v1/lots/{}/corrections", cans["id"].as_str().unwrap()), Some(&w.office),
            &json!({"gross_grams": 30_400, "tare_grams": 400, "reason": "reweighed"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let after = list(cans["id"].as_str().unwrap().to_owned()).await;
        assert_eq!(after[0]["grams"], 10_000);
        assert_eq!(after[0]["weight_shared"], true);
    }

    async fn the_warehouse_prints_its_zone_and_facility_signs(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let r = app.get(&format!("/api/v1/zones/{}/sign.svg", w.rag_zone), &w.office).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"));
        let svg = r.text().await.unwrap();
        let text = label_text(&svg);
        for expected in ["危险废物贮存分区标志", "分区名称：A2", "贮存废物类别：HW49、HW12", "贮存能力：1.000 t", "所属设施：No. 1", "管理单位：Longgang park", "您所在位置", "A1", "G1"] {
            assert!(text.contains(expected), "zone sign lacks {expected}: {text}");
        }
        assert_eq!(svg.matches(r#"class="zone here""#).count(), 1);
        let general = label_text(&app.get(&format!("/api/v1/zones/{}/sign.svg", w.general_zone), &w.office).await.text().await.unwrap());
        assert!(general.contains("一般工业固体废物贮存分区标志") && general.contains("不限类别"), "{general}");
        let facility = app.get(&format!("/api/v1/warehouses/{}/sign.svg", w.warehouse), &w.office).await.text().await.unwrap();
        let text = label_text(&facility);
        for expected in ["危险废物贮存设施", "单位名称：Longgang park", "设施名称：No. 1", "设施地址：C2", "HW08", "HW49、HW12", "贮存能力：2.000 t"] {
            assert!(text.contains(expected), "facility sign lacks {expected}: {text}");
        }
        assert!(facility.contains(r#"width="600mm""#) && facility.contains(r#"class="warning""#));
        assert_problem(app.get(&format!("/api/v1/zones/{}/sign.svg", w.rag_zone), &w.producer).await, StatusCode::NOT_FOUND, "not-found").await;
    }

    async fn the_public_page_is_rate_limited_per_address(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.rate_limit.verify_per_address_per_minute = 3).await;
        let w = world(&app, 180).await;
        let lot: Value = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 2_000, 0), None).await.json().await.unwrap();
        let containers: Value = app.get(&format!("/api/v1/lots/{}/containers", lot["id"].as_str().unwrap()), &w.office).await.json().await.unwrap();
        let url = containers[0]["verify_url"].as_str().unwrap();
        let path = &url[url.find("/api/").unwrap()..];
        for _ in 0..3 {
            assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), StatusCode::OK);
        }
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry >= 1);
        let problem = assert_problem(r, StatusCode::TOO_MANY_REQUESTS, "too-many-requests").await;
        assert!(problem["detail"].as_str().unwrap().contains("标签核验"), "{problem}");
        // The rest of the API is not held back by it.
        assert_eq!(app.get(&format!("/api/v1/lots/{}", lot["id"].as_str().unwrap()), &w.office).await.status(), StatusCode::OK);
    }

    async fn corrections_and_voids_keep_the_original_and_the_stock_exact(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let lot: Value = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 320_000, 20_000), None).await.json().await.unwrap();
        let id = lot["id"].as_str().unwrap();
        let other: Value = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 100_000, 0), None).await.json().await.unwrap();

        let correction = json!({"gross_grams": 330_000, "tare_grams": 20_000, "scale_id": "SCALE-02", "reason": "scale was not zeroed"});
        let r = app.post_json(&format!("/api/v1/lots/{id}/corrections"), Some(&w.office), &correction).await;
        assert_eq!(r.status(), StatusCode::OK);
        let corrected: Value = r.json().await.unwrap();
        assert_eq!(corrected["net_grams"], 310_000);
        assert_eq!(corrected["scale_id"], "SCALE-02");
        assert_eq!(zone_stock(&inventory(&app, &w).await, &w.oil_zone), (410_000, vec![("900-249-08".to_owned(), 410_000, 2)]));

        let history: Value = app.get(&format!("/api/v1/lots/{id}/history"), &w.office).await.json().await.unwrap();
        assert_eq!(history.as_array().map(Vec::len), Some(2));
        assert_eq!(history[1]["kind"], "corrected");
        assert_eq!(history[1]["reason"], "scale was not zeroed");
        assert_eq!(history[1]["data"]["before"]["net_grams"], 300_000);
        assert_eq!(history[1]["data"]["after"]["net_grams"], 310_000);

        // A correction that would overflow the zone is refused.
        let r = app.post_json(&format!("/api/v1/lots/{id}/corrections"), Some(&w.office), &json!({"gross_grams": 990_000, "tare_grams": 0, "reason": "x"})).await;
        assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        let r = app.post_json(&format!("/api/v1/lots/{id}/corrections"), Some(&w.office), &json!({"gross_grams": 1000, "reason": "x"})).await;
        assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let r = app.post_json(&format!("/api/v1/lots/{id}/corrections"), Some(&w.office), &json!({"estimated_grams": 5, "reason": "x"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["estimated_grams"]);
        // A zone's capacity cannot drop below what it holds.
        let r = app.patch_json(&format!("/api/v1/zones/{}", w.oil_zone), &w.office, &json!({"capacity_grams": 1_000})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["capacity_grams"]);
        let r = app.post_json(&format!("/api/v1/lots/{id}/void"), Some(&w.producer), &json!({"reason": "mine"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;

        let r = app.post_json(&format!("/api/v1/lots/{id}/void"), Some(&w.office), &json!({"reason": "entered for the wrong enterprise"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let voided: Value = r.json().await.unwrap();
        assert_eq!(voided["status"], "voided");
        assert_eq!(voided["void_reason"], "entered for the wrong enterprise");
        assert_eq!(zone_stock(&inventory(&app, &w).await, &w.oil_zone), (100_000, vec![("900-249-08".to_owned(), 100_000, 1)]));
        for (path, body) in [("void", json!({"reason": "again"})), ("corrections", correction.clone())] {
            let r = app.post_json(&format!("/api/v1/lots/{id}/{path}"), Some(&w.office), &body).await;
            assert_problem(r, StatusCode::CONFLICT, "conflict").await;
        }
        let still: Value = app.get(&format!("/api/v1/lots/{id}"), &w.office).await.json().await.unwrap();
        assert_eq!(still["net_grams"], 310_000, "the voided lot stays visible as it was");
        let voided_list: Value = app.get("/api/v1/lots?status=voided", &w.office).await.json().await.unwrap();
        assert_eq!(voided_list["items"].as_array().map(Vec::len), Some(1));
        let r = app.post_json(&format!("/api/v1/lots/{}/void", other["id"].as_str().unwrap()), Some(&w.office), &json!({"reason": "test"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(zone_stock(&inventory(&app, &w).await, &w.oil_zone), (0, vec![]));
    }

    async fn concurrent_voids_of_one_lot_take_it_out_of_stock_once(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.database_max_connections = 8).await;
        let w = world(&app, 180).await;
        let mut lots = Vec::new();
        for _ in 0..5 {
            let v: Value = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 100_000, 0), None).await.json().await.unwrap();
            lots.push(v["id"].as_str().unwrap().to_owned());
        }
        let voids: Vec<_> = lots
            .iter()
            .flat_map(|id| (0..6).map(move |_| id.clone()))
            .map(|id| {
                let app = &app;
                let office = w.office.clone();
                async move { app.post_json(&format!("/api/v1/lots/{id}/void"), Some(&office), &json!({"reason": "duplicate"})).await.status() }
            })
            .collect();
        let statuses = futures_util::future::join_all(voids).await;
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(ok, 5, "each lot voided once: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
        assert_eq!(zone_stock(&inventory(&app, &w).await, &w.oil_zone), (0, vec![]));
        for id in &lots {
            let history: Value = app.get(&format!("/api/v1/lots/{id}/history"), &w.office).await.json().await.unwrap();
            assert_eq!(history.as_array().unwrap().iter().filter(|e| e["kind"] == "voided").count(), 1);
        }
    }

    async fn a_key_is_kept_48_hours_then_forgotten_and_purged(backend: Backend) {
        let app = TestApp::spawn_with(backend, crate::helpers::time_travel).await;
        let w = world(&app, 180).await;
        let first = post_lot(&app, &w.office, &weighing(&w, "900-249-08", &w.oil_zone, 10_000, 0), Some("k-48")).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        // 47 hours later the key still names the first weighing: another body is refused.
        app.advance(Duration::hours(47));
        let other = weighing(&w, "900-249-08", &w.oil_zone, 20_000, 0);
        let r = post_lot(&app, &w.office, &other, Some("k-48")).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["Idempotency-Key"]);
        // Past 48 hours it is forgotten, purged or not: the same key is a new weighing.
        app.advance(Duration::hours(2));
        let r = post_lot(&app, &w.office, &other, Some("k-48")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert!(r.headers().get("idempotent-replayed").is_none());
        let again = post_lot(&app, &w.office, &other, Some("k-48")).await;
        assert_eq!(again.headers()["idempotent-replayed"], "true", "and kept again from then");
        // The periodic purge removes the keys past their retention, and only those.
        let keep = post_lot(&app, &w.office, &other, Some("k-new")).await;
        assert_eq!(keep.status(), StatusCode::CREATED);
        let db = wastetrack::db::Db::connect(app.database_url(), 1).unwrap();
        let mut conn = db.get().unwrap();
        let count = |conn: &mut wastetrack::db::DbConn| {
            use diesel::prelude::*;
            wastetrack::db::schema::idempotency_keys::table.count().get_result::<i64>(conn).unwrap()
        };
        let before = count(&mut conn);
        app.advance(Duration::hours(47));
        assert_eq!(wastetrack::idempotency::purge(&mut conn, app.now()).unwrap(), 0, "none is 48 hours old yet");
        app.advance(Duration::hours(2));
        assert_eq!(wastetrack::idempotency::purge(&mut conn, app.now()).unwrap() as i64, before);
        assert_eq!(count(&mut conn), 0);
    }

    async fn a_retried_submission_never_records_a_second_lot(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let body = weighing(&w, "900-249-08", &w.oil_zone, 10_000, 0);
        let first = post_lot(&app, &w.office, &body, Some("phone-42-capture-7")).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.unwrap();
        let replay = post_lot(&app, &w.office, &body, Some("phone-42-capture-7")).await;
        assert_eq!(replay.status(), StatusCode::CREATED);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        assert!(replay.headers()["location"].to_str().unwrap().ends_with(first["id"].as_str().unwrap()));
        let replayed: Value = replay.json().await.unwrap();
        assert_eq!(replayed, first);

        let mut other = body.clone();
        other["gross_grams"] = json!(20_000);
        let r = post_lot(&app, &w.office, &other, Some("phone-42-capture-7")).await;
        let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        assert_eq!(error_fields(&problem), vec!["Idempotency-Key"]);

        // Keys belong to their caller: the same key from the admin is another request.
        let r = post_lot(&app, &w.admin, &body, Some("phone-42-capture-7")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        // A refusal is replayed too.
        let bad = weighing(&w, "900-249-08", &w.general_zone, 1_000, 0);
        let a = post_lot(&app, &w.office, &bad, Some("bad-1")).await;
        let b = post_lot(&app, &w.office, &bad, Some("bad-1")).await;
        assert_eq!((a.status(), b.status()), (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(b.headers()["idempotent-replayed"], "true");
        let r = app.request(Method::POST, "/api/v1/lots", Some(&w.office)).header("idempotency-key", "").json(&body).send().await.unwrap();
        assert_problem(r, StatusCode::BAD_REQUEST, "malformed-request").await;

        // The same key sent by many retries at once still records one lot.
        let key_body = weighing(&w, "900-249-08", &w.oil_zone, 7_000, 0);
        let tries = (0..10).map(|_| post_lot(&app, &w.office, &key_body, Some("burst-1")));
        let answers = futures_util::future::join_all(tries).await;
        let mut ids = std::collections::BTreeSet::new();
        for r in answers {
            match r.status() {
                StatusCode::CREATED => {
                    let v: Value = r.json().await.unwrap();
                    ids.insert(v["id"].as_str().unwrap().to_owned());
                }
                StatusCode::CONFLICT => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(ids.len(), 1, "every success names the same lot");
        let lots: Value = app.get("/api/v1/lots?limit=200", &w.office).await.json().await.unwrap();
        assert_eq!(lots["items"].as_array().map(Vec::len), Some(3), "first, the admin's, and one from the burst");
        let (stored, _) = zone_stock(&inventory(&app, &w).await, &w.oil_zone);
        assert_eq!(stored, 10_000 + 10_000 + 7_000);
    }

    async fn a_key_still_in_progress_is_409_until_its_request_is_abandoned(backend: Backend) {
        use diesel::prelude::*;
        use wastetrack::db::schema::idempotency_keys as keys;
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let body = serde_json::to_vec(&weighing(&w, "900-249-08", &w.oil_zone, 5_000, 0)).unwrap();
        let me: Value = app.get("/api/v1/me", &w.office).await.json().await.unwrap();
        // The clock stands still from here, so that the claim's age is exact.
        app.clock.set(app.now());
        // A request with this key and these bytes is running elsewhere (another instance, say),
        // claimed now. The one write to the database here: no API call leaves a key claimed by
        // a request that is not running in this server.
        let fingerprint = format!("POST /api/v1/lots {}", wastetrack::domain::digest::sha256_hex(&body));
        let db = wastetrack::db::Db::connect(app.database_url(), 1).unwrap();
        let mut conn = db.get().unwrap();
        let now = app.now().naive_utc();
        diesel::insert_into(keys::table)
            .values((
                keys::user_id.eq(me["user"]["id"].as_str().unwrap()),
                keys::key.eq("running-1"),
                keys::fingerprint.eq(&fingerprint),
                keys::locked_at.eq(now),
                keys::created_at.eq(now),
            ))
            .execute(&mut *conn)
            .unwrap();
        let send = || app.request(Method::POST, "/api/v1/lots", Some(&w.office)).header("content-type", "application/json").header("idempotency-key", "running-1").body(body.clone()).send();
        assert_problem(send().await.unwrap(), StatusCode::CONFLICT, "conflict").await;
        let lots: Value = app.get("/api/v1/lots", &w.office).await.json().await.unwrap();
        assert_eq!(lots["items"].as_array().map(Vec::len), Some(0));
        // Still running 59 seconds later.
        app.advance(Duration::seconds(59));
        assert_problem(send().await.unwrap(), StatusCode::CONFLICT, "conflict").await;
        // A request marked running for over a minute died with its process: a retry takes over.
        app.advance(Duration::seconds(2));
        assert_eq!(send().await.unwrap().status(), StatusCode::CREATED);
        let replay = send().await.unwrap();
        assert_eq!(replay.status(), StatusCode::CREATED);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
    }

    async fn concurrent_weighings_leave_the_inventory_exact(backend: Backend) {
        let app = TestApp::spawn_with(backend, |s| s.database_max_connections = 8).await;
        let w = world(&app, 180).await;
        // Forty lots of various weights at once into one zone.
        let weights: Vec<i64> = (1..=40).map(|i| 1_000 + i * 37).collect();
        let bodies: Vec<Value> = weights.iter().map(|g| weighing(&w, "900-249-08", &w.oil_zone, *g, 0)).collect();
        let posts = bodies.iter().map(|b| post_lot(&app, &w.office, b, None));
        let statuses: Vec<StatusCode> = futures_util::future::join_all(posts).await.iter().map(|r| r.status()).collect();
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
        let total: i64 = weights.iter().sum();
        assert_eq!(zone_stock(&inventory(&app, &w).await, &w.oil_zone), (total, vec![("900-249-08".to_owned(), total, 40)]));

        // Twenty lots of 100 kg race for an empty 1 t zone: exactly ten get in.
        let rag = weighing(&w, "900-041-49", &w.rag_zone, 100_000, 0);
        let posts = (0..20).map(|_| post_lot(&app, &w.office, &rag, None));
        let results = futures_util::future::join_all(posts).await;
        let created = results.iter().filter(|r| r.status() == StatusCode::CREATED).count();
        let refused = results.iter().filter(|r| r.status() == StatusCode::CONFLICT).count();
        assert_eq!((created, refused), (10, 10), "the HW49 zone takes 10 of 20");
        let (rags, _) = zone_stock(&inventory(&app, &w).await, &w.rag_zone);
        assert_eq!(rags, 1_000_000);
        let labels: Value = app.get("/api/v1/lots?waste_code=900-041-49&limit=200", &w.office).await.json().await.unwrap();
        let mut codes: Vec<&str> = labels["items"].as_array().unwrap().iter().map(|l| l["label_code"].as_str().unwrap()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 10, "label codes are unique");
    }

    async fn declarations_wait_at_the_door_for_general_waste(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let declaration = |code: &str| json!({"enterprise_id": w.enterprise, "waste_code": code, "physical_form": "solid",
            "container_type": "bulk", "container_count": 1, "estimated_grams": 850_000});
        let r = app.post_json("/api/v1/lots/declarations", Some(&w.producer), &declaration("900-003-S59")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let lot: Value = r.json().await.unwrap();
        assert_eq!((lot["route"].as_str(), lot["status"].as_str(), lot["weight_source"].as_str()), (Some("door"), Some("declared"), Some("estimate")));
        assert!(lot.get("zone_id").is_none());
        let mut too_much = declaration("900-003-S59");
        too_much["estimated_grams"] = json!(200_000_000);
        let r = app.post_json("/api/v1/lots/declarations", Some(&w.producer), &too_much).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["estimated_grams"]);
        let r = app.post_json("/api/v1/lots/declarations", Some(&w.producer), &declaration("900-249-08")).await;
        assert_eq!(problem_code(r).await, "hazardous_at_door");
        let mut outsider = declaration("900-003-S59");
        outsider["enterprise_id"] = json!(w.outsider);
        let r = app.post_json("/api/v1/lots/declarations", Some(&w.office), &outsider).await;
        assert_eq!(problem_code(r).await, "not_in_contract");
        let r = app.post_json("/api/v1/lots/declarations", Some(&w.producer), &outsider).await;
        assert_problem(r, StatusCode::NOT_FOUND, "not-found").await;

        let id = lot["id"].as_str().unwrap();
        let r = app.post_json(&format!("/api/v1/lots/{id}/corrections"), Some(&w.producer), &json!({"gross_grams": 9, "tare_grams": 1, "reason": "x"})).await;
        assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec!["gross_grams"]);
        let r = app.post_json(&format!("/api/v1/lots/{id}/corrections"), Some(&w.producer), &json!({"estimated_grams": 900_000, "reason": "more than thought"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        let mine: Value = app.get("/api/v1/lots?route=door", &w.producer).await.json().await.unwrap();
        assert_eq!(mine["items"][0]["net_grams"], 900_000);
        let office_view: Value = app.get("/api/v1/lots?status=declared", &w.office).await.json().await.unwrap();
        assert_eq!(office_view["items"].as_array().map(Vec::len), Some(1));
        let r = app.post_json(&format!("/api/v1/lots/{id}/void"), Some(&w.producer), &json!({"reason": "sold it ourselves"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(zone_stock(&inventory(&app, &w).await, &w.general_zone), (0, vec![]), "declarations are not warehouse stock");
    }

    async fn lists_filter_and_show_each_party_only_its_lots(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 180).await;
        let mut ids = Vec::new();
        for (code, zone, g) in [("900-249-08", &w.oil_zone, 10_000), ("900-041-49", &w.rag_zone, 20_000), ("900-249-08", &w.oil_zone, 30_000)] {
            let v: Value = post_lot(&app, &w.office, &weighing(&w, code, zone, g, 0), None).await.json().await.unwrap();
            ids.push(v["id"].as_str().unwrap().to_owned());
        }
        let listed = |query: &'static str, token: String| {
            let app = &app;
            async move {
                let v: Value = app.get(&format!("/api/v1/lots{query}"), &token).await.json().await.unwrap();
                v["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(listed("", w.office.clone()).await, ids);
        assert_eq!(listed("?waste_code=900-249-08", w.office.clone()).await, vec![ids[0].clone(), ids[2].clone()]);
        let zone_query = format!("?zone_id={}", w.rag_zone);
        let v: Value = app.get(&format!("/api/v1/lots{zone_query}"), &w.office).await.json().await.unwrap();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
        let today = app.today();
        let v: Value = app.get(&format!("/api/v1/lots?from={today}&to={today}&status=stored"), &w.office).await.json().await.unwrap();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(3));
        let v: Value = app.get(&format!("/api/v1/lots?to={}", today - Duration::days(2)), &w.office).await.json().await.unwrap();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
        let page: Value = app.get("/api/v1/lots?limit=2", &w.office).await.json().await.unwrap();
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest: Value = app.get(&format!("/api/v1/lots?limit=2&cursor={cursor}"), &w.office).await.json().await.unwrap();
        assert_eq!(rest["items"][0]["id"], ids[2].as_str());
        assert_eq!(listed("", w.producer.clone()).await, ids, "the enterprise sees its own lots");
        for (query, field) in [("?status=lost", "status"), ("?from=yesterday", "from"), ("?waste_code=xyz", "waste_code"), ("?limit=500", "limit")] {
            let r = app.get(&format!("/api/v1/lots{query}"), &w.office).await;
            assert_eq!(error_fields(&assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await), vec![field.to_owned()]);
        }

        // Another park's office, another enterprise and a driver see none of them.
        let other_park = app.create_park(&w.admin, "Other", "440106").await;
        app.create_user(&w.admin, &other_park, "stranger", "park_office", PASSWORD).await;
        let stranger = access_token(&app.login("stranger", PASSWORD).await);
        assert!(listed("", stranger.clone()).await.is_empty());
        app.create_user(&w.admin, &w.outsider, "outsider", "enterprise_user", PASSWORD).await;
        assert!(listed("", access_token(&app.login("outsider", PASSWORD).await)).await.is_empty());
        for id in &ids {
            assert_problem(app.get(&format!("/api/v1/lots/{id}"), &stranger).await, StatusCode::NOT_FOUND, "not-found").await;
        }
        assert_problem(app.get(&format!("/api/v1/warehouses/{}/inventory", w.warehouse), &stranger).await, StatusCode::NOT_FOUND, "not-found").await;
        assert_problem(app.get(&format!("/api/v1/warehouses/{}/inventory", w.warehouse), &w.producer).await, StatusCode::NOT_FOUND, "not-found").await;
        // The disposal company sees the lots of its contracts, read-only.
        app.create_user(&w.admin, &w.disposer, "dispatch", "disposer_dispatcher", PASSWORD).await;
        let dispatcher = access_token(&app.login("dispatch", PASSWORD).await);
        assert_eq!(listed("", dispatcher.clone()).await, ids);
        assert_eq!(app.get(&format!("/api/v1/lots/{}", ids[0]), &dispatcher).await.status(), StatusCode::OK);
        let r = app.post_json(&format!("/api/v1/lots/{}/void", ids[0]), Some(&dispatcher), &json!({"reason": "no"})).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
        let other_disposer = app.create_disposer(&w.admin, "Other disposer").await;
        app.create_user(&w.admin, &other_disposer, "other.dispatch", "disposer_dispatcher", PASSWORD).await;
        assert!(listed("", access_token(&app.login("other.dispatch", PASSWORD).await)).await.is_empty());
        let bureau = app.create_bureau(&w.admin, "Longgang bureau", "440307").await;
        app.create_user(&w.admin, &bureau, "inspector", "inspector", PASSWORD).await;
        let inspector = access_token(&app.login("inspector", PASSWORD).await);
        assert_eq!(listed("", inspector.clone()).await, ids);
        let r = post_lot(&app, &inspector, &weighing(&w, "900-249-08", &w.oil_zone, 1_000, 0), None).await;
        assert_problem(r, StatusCode::FORBIDDEN, "forbidden").await;
    }

    async fn storage_and_capacity_alarms(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let w = world(&app, 10).await;
        let aged = |days: i64, grams: i64| {
            let mut b = weighing(&w, "900-249-08", &w.oil_zone, grams, 0);
            b["captured_at"] = json!((app.now() - Duration::days(days) - Duration::hours(1)).to_rfc3339());
            b
        };
        let young: Value = post_lot(&app, &w.office, &aged(7, 1_000), None).await.json().await.unwrap();
        let warned: Value = post_lot(&app, &w.office, &aged(8, 1_000), None).await.json().await.unwrap();
        let over: Value = post_lot(&app, &w.office, &aged(12, 1_000), None).await.json().await.unwrap();
        post_lot(&app, &w.office, &weighing(&w, "900-041-49", &w.rag_zone, 950_000, 0), None).await;

        let alarms: Value = app.get("/api/v1/alarms", &w.office).await.json().await.unwrap();
        let storage: Vec<(String, String)> = alarms["storage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["lot_id"].as_str().unwrap().to_owned(), a["level"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(storage, vec![(over["id"].as_str().unwrap().to_owned(), "exceeded".to_owned()), (warned["id"].as_str().unwrap().to_owned(), "warning".to_owned())]);
        assert!(!storage.iter().any(|(id, _)| id == young["id"].as_str().unwrap()));
        let capacity = alarms["capacity"].as_array().unwrap();
        assert_eq!(capacity.len(), 1);
        assert_eq!(capacity[0]["zone_id"], w.rag_zone.as_str());
        assert_eq!(capacity[0]["level"], "warning");

        // The enterprise sees its lots' ages but not the park's zones.
        let mine: Value = app.get("/api/v1/alarms", &w.producer).await.json().await.unwrap();
        assert_eq!(mine["storage"].as_array().map(Vec::len), Some(2));
        assert_eq!(mine["capacity"].as_array().map(Vec::len), Some(0));
        let inv = inventory(&app, &w).await;
        let oil = inv["zones"].as_array().unwrap().iter().find(|z| z["zone_id"] == w.oil_zone.as_str()).unwrap();
        assert_eq!(oil["lines"][0]["oldest_age_days"], 12);
    }
}

async fn problem_code(r: reqwest::Response) -> String {
    let problem = assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    problem["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

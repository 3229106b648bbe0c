//! Migrations only go forward, and carry the data with them: a database left at the first
//! migrations, with rows written there, is brought up to date by the binary at start, and
//! everything in it reads back through the API and takes new writes.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wastetrack::domain::ids::{new_id, new_id_at};

use crate::backend_tests;
use crate::binary::Serving;
use crate::helpers::{ADMIN_PASSWORD, TestDb, instant, next_uscc};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A database driven by hand, one migration at a time, as an older binary would have left it.
enum OldDatabase {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl OldDatabase {
    fn open(db: &TestDb) -> Self {
        match db {
            TestDb::Sqlite { url, .. } => {
                let path = url.strip_prefix("sqlite://").unwrap();
                let mut conn = SqliteConnection::establish(path).unwrap();
                conn.batch_execute("PRAGMA foreign_keys = ON;").unwrap();
                Self::Sqlite(conn)
            }
            TestDb::Postgres { url, .. } => Self::Postgres(PgConnection::establish(url).unwrap()),
        }
    }

    /// Applies the next migration; returns its version.
    fn migrate_one(&mut self) -> String {
        match self {
            Self::Sqlite(c) => c.run_next_migration(SQLITE_MIGRATIONS).unwrap().to_string(),
            Self::Postgres(c) => c
                .run_next_migration(POSTGRES_MIGRATIONS)
                .unwrap()
                .to_string(),
        }
    }

    fn execute(&mut self, sql: &str) {
        match self {
            Self::Sqlite(c) => c.batch_execute(sql),
            Self::Postgres(c) => c.batch_execute(sql),
        }
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "login of {username}");
    crate::helpers::access_token(&response.json().await.unwrap())
}

async fn get(client: &reqwest::Client, base: &str, path: &str, token: &str) -> Value {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

backend_tests! {
    async fn a_database_from_the_first_migrations_is_carried_forward_with_its_data(backend: Backend) {
        let db = TestDb::create_empty(backend);
        let mut old = OldDatabase::open(&db);
        let office_password = "park office password of old";
        let admin_hash = wastetrack::auth::password::hash(ADMIN_PASSWORD).unwrap();
        let office_hash = wastetrack::auth::password::hash(office_password).unwrap();
        let (platform, park, enterprise, disposer) = (new_id("org"), new_id("org"), new_id("org"), new_id("org"));
        let (admin, office) = (new_id("usr"), new_id("usr"));
        let (warehouse, zone, contract, member) = (new_id("wh"), new_id("zone"), new_id("con"), new_id("mem"));
        let weighed = instant("2026-11-24T02:00:00Z");
        let lot = new_id_at("lot", weighed);
        let event = new_id("evt");
        let uscc = next_uscc();
        let at = "'2026-11-20 02:00:00'";

        // The first migration: organisations and users.
        assert_eq!(old.migrate_one(), "20261128000001");
        old.execute(&format!(
            "INSERT INTO organizations (id, kind, name, created_at, updated_at) VALUES
               ('{platform}', 'platform', 'Platform operator', {at}, {at}),
               ('{park}', 'park', 'Old Park Office', {at}, {at}),
               ('{enterprise}', 'enterprise', 'Old Works Ltd', {at}, {at}),
               ('{disposer}', 'disposal_company', 'Old Disposer Co', {at}, {at});
             INSERT INTO users (id, organization_id, username, display_name, role, password_hash, created_at, updated_at) VALUES
               ('{admin}', '{platform}', 'admin', 'Platform administrator', 'platform_admin', '{admin_hash}', {at}, {at}),
               ('{office}', '{park}', 'office.old', 'Office of old', 'park_office', '{office_hash}', {at}, {at});"
        ));
        // The second: the registry, with the zones and contracts later migrations add to.
        assert_eq!(old.migrate_one(), "20261128000002");
        old.execute(&format!(
            "INSERT INTO parks (organization_id, region_code, address, time_zone, created_at, updated_at) VALUES
               ('{park}', '440307', 'Longgang District, Shenzhen', 'Asia/Shanghai', {at}, {at});
             INSERT INTO enterprises (organization_id, park_id, uscc, contact_name, contact_phone, joined_on, created_at, updated_at) VALUES
               ('{enterprise}', '{park}', '{uscc}', 'Chen Jie', '13800138000', '2025-01-01', {at}, {at});
             INSERT INTO disposers (organization_id, uscc, region_code, address, created_at, updated_at) VALUES
               ('{disposer}', '{}', '440310', 'Pingshan District, Shenzhen', {at}, {at});
             INSERT INTO warehouses (id, park_id, name, address, created_at, updated_at) VALUES
               ('{warehouse}', '{park}', 'No. 1', 'Building C2', {at}, {at});
             INSERT INTO zones (id, warehouse_id, name, kind, categories, capacity_grams, created_at, updated_at) VALUES
               ('{zone}', '{warehouse}', 'A1', 'hazardous', 'HW08', 5000000000, {at}, {at});
             INSERT INTO waste_categories (code, kind, name_zh, name_en, created_at, updated_at) VALUES
               ('HW08', 'hazardous', '废矿物油与含矿物油废物', 'waste mineral oil', {at}, {at});
             INSERT INTO waste_codes (code, kind, category, name_zh, characteristics, edition, created_at, updated_at) VALUES
               ('900-249-08', 'hazardous', 'HW08', '其他废矿物油', 'T,I', '2021', {at}, {at});
             INSERT INTO contracts (id, park_id, disposer_id, number, valid_from, valid_to, max_storage_days, created_at, updated_at) VALUES
               ('{contract}', '{park}', '{disposer}', 'OLD-2026-001', '2026-01-01', '2027-12-31', 180, {at}, {at});
             INSERT INTO contract_members (id, contract_id, enterprise_id, joined_on, created_at, updated_at) VALUES
               ('{member}', '{contract}', '{enterprise}', '2026-01-01', {at}, {at});",
            next_uscc()
        ));
        // The third: lots and their events, which a later migration rebuilds on SQLite.
        assert_eq!(old.migrate_one(), "20261128000003");
        let w = "'2026-11-24 02:00:00'";
        old.execute(&format!(
            "UPDATE zones SET stored_grams = 400000 WHERE id = '{zone}';
             INSERT INTO lots (id, park_id, enterprise_id, contract_id, route, status, waste_code, kind, category,
                               physical_form, container_type, container_count, container_litres, warehouse_id, zone_id,
                               gross_grams, tare_grams, net_grams, weight_source, scale_id, captured_at, received_at,
                               recorded_by, produced_on, note, created_at, updated_at) VALUES
               ('{lot}', '{park}', '{enterprise}', '{contract}', 'warehouse', 'stored', '900-249-08', 'hazardous', 'HW08',
                'liquid', 'drum', 2, 200, '{warehouse}', '{zone}',
                420000, 20000, 400000, 'scale', 'SCALE-01', {w}, {w},
                '{office}', '2026-11-20', 'weighed before the upgrade', {w}, {w});
             INSERT INTO lot_events (id, lot_id, kind, at, by_user, data) VALUES
               ('{event}', '{lot}', 'recorded', {w}, '{office}', '{{\"net_grams\": 400000}}');
             INSERT INTO inventory (zone_id, contract_id, waste_code, grams, lots, updated_at) VALUES
               ('{zone}', '{contract}', '900-249-08', 400000, 1, {w});"
        ));
        drop(old);

        // The binary applies the rest at start, and is ready.
        let server = Serving::start(db.url(), &[]).await;
        let (client, base) = (reqwest::Client::new(), server.base.clone());
        let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), StatusCode::OK);
        let admin_token = login(&client, &base, "admin", ADMIN_PASSWORD).await;
        let token = login(&client, &base, "office.old", office_password).await;
        let me = get(&client, &base, "/api/v1/me", &token).await;
        assert_eq!(me["user"]["organization_id"], park.as_str(), "{me}");

        let p = get(&client, &base, &format!("/api/v1/parks/{park}"), &admin_token).await;
        assert_eq!((p["name"].as_str(), p["region_code"].as_str()), (Some("Old Park Office"), Some("440307")), "{p}");
        let e = get(&client, &base, &format!("/api/v1/enterprises/{enterprise}"), &token).await;
        assert_eq!((e["name"].as_str(), e["uscc"].as_str()), (Some("Old Works Ltd"), Some(uscc.as_str())), "{e}");
        let c = get(&client, &base, &format!("/api/v1/contracts/{contract}"), &token).await;
        assert_eq!(c["number"], "OLD-2026-001", "{c}");
        // A column a later migration added, with its default.
        assert_eq!(c["pickup_zone_percent"], 80, "{c}");
        assert_eq!(c["members"].as_array().map(Vec::len), Some(1), "{c}");
        let z = get(&client, &base, &format!("/api/v1/zones/{zone}"), &token).await;
        assert_eq!(z["stored_grams"], 400000, "{z}");
        let l = get(&client, &base, &format!("/api/v1/lots/{lot}"), &token).await;
        assert_eq!((l["status"].as_str(), l["net_grams"].as_i64()), (Some("stored"), Some(400000)), "{l}");
        assert_eq!(l["note"], "weighed before the upgrade");
        assert!(l.get("pickup_request_id").is_none_or(Value::is_null), "{l}");
        let history = get(&client, &base, &format!("/api/v1/lots/{lot}/history"), &token).await;
        assert_eq!(history[0]["kind"], "recorded", "{history}");
        assert_eq!(history[0]["data"]["net_grams"], 400000, "{history}");
        let stock = get(&client, &base, &format!("/api/v1/warehouses/{warehouse}/inventory"), &token).await;
        assert!(stock.to_string().contains("400000"), "{stock}");
        // The ledger's movements were rebuilt from the lot: in on the day it was weighed.
        let ledger = format!("/api/v1/warehouses/{warehouse}/ledger?kind=hazardous&month=2026-11");
        let l = get(&client, &base, &ledger, &token).await;
        assert_eq!((l["totals"]["in_grams"].as_i64(), l["totals"]["closing_grams"].as_i64()), (Some(400000), Some(400000)), "{l}");
        let lines = get(&client, &base, &format!("/api/v1/warehouses/{warehouse}/ledger/lines?kind=hazardous&month=2026-11"), &token).await;
        assert_eq!(lines["items"][0]["lot_id"], lot.as_str(), "{lines}");
        assert_eq!(lines["items"][0]["at"], "2026-11-24T02:00:00Z", "{lines}");
        assert_eq!(lines["items"][0]["by_user"], office.as_str(), "{lines}");

        // The upgraded tables take writes: the lot is voided, its event joins the old one and
        // it leaves the zone's stock.
        let response = client
            .post(format!("{base}/api/v1/lots/{lot}/void"))
            .bearer_auth(&token)
            .json(&json!({"reason": "entered twice before the upgrade"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
        let history = get(&client, &base, &format!("/api/v1/lots/{lot}/history"), &token).await;
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["recorded", "voided"]);
        let z = get(&client, &base, &format!("/api/v1/zones/{zone}"), &token).await;
        assert_eq!(z["stored_grams"], 0, "{z}");
        let l = get(&client, &base, &ledger, &token).await;
        assert_eq!((l["totals"]["voids_grams"].as_i64(), l["totals"]["closing_grams"].as_i64()), (Some(400000), Some(0)), "{l}");
        server.stop();
    }
}

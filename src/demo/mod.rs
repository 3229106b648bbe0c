//! `wastetrack demo`: loads a realistic park into the configured database — the park office and
//! its shared warehouse, 23 enterprises with valid credit codes, a licensed disposal company, a
//! carrier with vehicles and drivers, an environment bureau, a "1+N" contract with prices and
//! thresholds, and users of every role — and prints how to sign in.
//!
//! The sample catalog (`catalog.csv`) holds common hazardous codes as published in the national
//! list (names abridged) and illustrative general-waste codes marked 演示; it is demo data, not a
//! reference edition.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{Db, DbConn, write_transaction};
use crate::domain::identity::{Role, Username};
use crate::domain::region::{Jurisdiction, RegionCode};
use crate::domain::uscc::{Uscc, complete};
use crate::domain::waste::CatalogRef;
use crate::domain::waste::{Category, WasteKind};
use crate::error::ApiError;
use crate::identity::service as identity;
use crate::identity::store as identity_store;
use crate::registry::catalog::service as catalog;
use crate::registry::contracts::service::{
    self as contracts, NewContract, NewMember, NewPrice, NewThreshold,
};
use crate::registry::directory::service::{self as directory, NewLicence, NewParty};
use crate::registry::parks::service::{self as parks, NewEnterprise, NewPark};
use crate::registry::parks::store as park_store;
use crate::registry::warehouses::service::{self as warehouses, NewZone};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password-2026";
const PARK_NAME: &str = "龙岗绿色科技园区管理处 (demo)";

const ENTERPRISES: [&str; 23] = [
    "深圳市华信精密电子有限公司",
    "深圳市龙腾五金制品有限公司",
    "深圳市鑫达塑胶模具有限公司",
    "深圳市宏图线路板有限公司",
    "深圳市恒远表面处理有限公司",
    "深圳市嘉美印刷包装有限公司",
    "深圳市科创新能源电池有限公司",
    "深圳市金辉家具制造有限公司",
    "深圳市瑞丰汽车零部件有限公司",
    "深圳市蓝海光电科技有限公司",
    "深圳市正泰精密机械有限公司",
    "深圳市永盛涂料有限公司",
    "深圳市博远医疗器械有限公司",
    "深圳市天成纺织印染有限公司",
    "深圳市星河电子材料有限公司",
    "深圳市广和食品包装有限公司",
    "深圳市东方激光设备有限公司",
    "深圳市新锐智能装备有限公司",
    "深圳市联合化工助剂有限公司",
    "深圳市顺达物流包装有限公司",
    "深圳市中科半导体封装有限公司",
    "深圳市百川环保设备有限公司",
    "深圳市精工钟表配件有限公司",
];

/// What the demo loaded, and who can sign in.
pub struct Loaded {
    pub already_present: bool,
    pub credentials: Vec<(String, &'static str, String)>,
}

/// A valid credit code for the demo (both check characters right), different for each `n`
/// below 100 000.
fn demo_uscc(n: u32) -> Result<Uscc, ApiError> {
    let code = complete(&format!("91440300MA5{n:05}"))
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("demo credit code")))?;
    Uscc::parse("uscc", &code)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("demo credit code: {}", e.message)))
}

fn field<T>(r: Result<T, crate::error::FieldError>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::Internal(anyhow::anyhow!("demo data {}: {}", e.field, e.message)))
}

fn day(s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("demo date {s}: {e}")))
}

/// Loads the demo into `db` unless its park is already there. Migrations, the catalog seed and
/// the administrator must exist (as after `wastetrack migrate` or a first `serve`).
pub fn load(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Loaded> {
    let mut conn = db.get()?;
    let admin = identity_store::find_user_by_username(
        &mut conn,
        identity::BOOTSTRAP_ADMIN_USERNAME,
    )?
    .ok_or_else(|| {
        anyhow::anyhow!(
            "no administrator: start the service once or run `wastetrack demo` after `migrate`"
        )
    })?;
    let already = identity_store::organization_named(&mut conn, "park", PARK_NAME)?;
    let mut credentials = Vec::new();
    if !already {
        let hash = crate::auth::password::hash(DEMO_PASSWORD)?;
        write_transaction(&mut conn, |conn| {
            build(conn, now, &admin.id, &hash, &mut credentials)
        })
        .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
    } else {
        credentials = demo_logins();
    }
    Ok(Loaded {
        already_present: already,
        credentials,
    })
}

fn demo_logins() -> Vec<(String, &'static str, String)> {
    let mut list = vec![
        (
            "park.office".to_owned(),
            "park_office",
            PARK_NAME.to_owned(),
        ),
        (
            "disposer.dispatch".to_owned(),
            "disposer_dispatcher",
            "深圳市东江环保处置有限公司 (demo)".to_owned(),
        ),
        (
            "inspector".to_owned(),
            "inspector",
            "深圳市生态环境局龙岗管理局 (demo)".to_owned(),
        ),
    ];
    for i in 1..=3 {
        list.push((
            format!("driver.{i}"),
            "driver",
            "深圳市绿运危险货物运输有限公司 (demo)".to_owned(),
        ));
    }
    for (i, name) in ENTERPRISES.iter().enumerate().take(3) {
        list.push((
            format!("enterprise.{}", i + 1),
            "enterprise_user",
            (*name).to_owned(),
        ));
    }
    list
}

fn build(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    password_hash: &str,
    credentials: &mut Vec<(String, &'static str, String)>,
) -> Result<(), ApiError> {
    let report = catalog::import(
        conn,
        now,
        by,
        include_bytes!("catalog.csv"),
        Some("demo".to_owned()),
        false,
    )?;
    if report.rejected > 0 {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "demo catalog rejected lines: {:?}",
            report.rejected_lines
        )));
    }

    let park = parks::create_park(
        conn,
        now,
        by,
        NewPark {
            name: PARK_NAME.to_owned(),
            region_code: field(RegionCode::parse("region_code", "440307"))?,
            address: "深圳市龙岗区宝龙街道绿色科技园".to_owned(),
            time_zone: chrono_tz::Asia::Shanghai,
            uscc: Some(demo_uscc(90000)?),
            collection_permit_number: Some("440300-SJ-2026-018".to_owned()),
            permit: parks::PermitDetails {
                valid_from: Some(day("2025-01-01")?),
                valid_until: Some(day("2030-12-31")?),
                scope: [
                    "HW06", "HW08", "HW09", "HW12", "HW17", "HW29", "HW31", "HW34", "HW35", "HW49",
                ]
                .iter()
                .map(|c| field(CatalogRef::parse("permit_scope", c)))
                .collect::<Result<Vec<_>, _>>()?,
                annual_capacity_grams: None,
            },
            require_official_number: false,
            label_scan_general: true,
        },
    )?;
    let park_row = park_store::find_park(conn, &park.id)?.ok_or(ApiError::NotFound("demo park"))?;

    let bureau = directory::create_bureau(
        conn,
        now,
        by,
        "深圳市生态环境局龙岗管理局 (demo)".to_owned(),
        field(Jurisdiction::parse("jurisdiction", "440307"))?,
    )?;

    let disposer = directory::create_disposer(
        conn,
        now,
        by,
        NewParty {
            name: "深圳市东江环保处置有限公司 (demo)".to_owned(),
            uscc: demo_uscc(90001)?,
            region_code: field(RegionCode::parse("r", "440310"))?,
        },
        "深圳市坪山区环保产业园".to_owned(),
    )?;
    let scope = [
        "HW06", "HW08", "HW09", "HW12", "HW17", "HW29", "HW31", "HW34", "HW35", "HW49",
    ]
    .iter()
    .map(|c| field(CatalogRef::parse("scope", c)))
    .collect::<Result<Vec<_>, _>>()?;
    directory::add_licence(
        conn,
        now,
        by,
        &disposer.id,
        NewLicence {
            number: "粤危废经第440300001号 (demo)".to_owned(),
            issuing_authority: "广东省生态环境厅".to_owned(),
            valid_from: day("2026-01-01")?,
            valid_to: day("2030-12-31")?,
            annual_capacity_grams: 30_000_000_000,
            scope,
        },
    )?;

    let carrier = directory::create_carrier(
        conn,
        now,
        by,
        NewParty {
            name: "深圳市绿运危险货物运输有限公司 (demo)".to_owned(),
            uscc: demo_uscc(90002)?,
            region_code: field(RegionCode::parse("r", "440307"))?,
        },
        (
            "粤交运管许可深字440300012345号".to_owned(),
            Some(day("2029-06-30")?),
        ),
    )?;
    for (i, plate) in ["粤B3H521", "粤B7K093", "粤BD61208"].iter().enumerate() {
        directory::add_vehicle(
            conn,
            now,
            by,
            &carrier.id,
            field(crate::domain::vehicle::parse_plate("plate", plate))?,
            (format!("4403000{}1234", i + 1), Some(day("2028-03-31")?)),
        )?;
    }

    let mut enterprise_ids = Vec::new();
    for (i, name) in ENTERPRISES.iter().enumerate() {
        let n = u32::try_from(i).unwrap_or(0) + 1;
        let e = parks::create_enterprise(
            conn,
            now,
            by,
            &park_row,
            NewEnterprise {
                name: (*name).to_owned(),
                uscc: demo_uscc(n)?,
                contact_name: format!("联系人{n:02}"),
                contact_phone: format!("1380013{n:04}"),
                joined_on: Some(day("2025-06-01")?),
            },
        )?;
        enterprise_ids.push(e.id);
    }

    let warehouse_row = {
        let w = warehouses::create_warehouse(
            conn,
            now,
            by,
            &park.id,
            park.region_code.clone(),
            "集中暂存仓库一号".to_owned(),
            "园区C2栋一层".to_owned(),
        )?;
        crate::registry::warehouses::store::find_warehouse(conn, &w.id)?
            .ok_or(ApiError::NotFound("demo warehouse"))?
    };
    let zones: [(&str, WasteKind, &[&str], i64); 5] = [
        (
            "A1 废矿物油区",
            WasteKind::Hazardous,
            &["HW08", "HW09"],
            5_000_000_000,
        ),
        (
            "A2 废漆渣与有机溶剂区",
            WasteKind::Hazardous,
            &["HW06", "HW12"],
            3_000_000_000,
        ),
        (
            "A3 废酸碱区",
            WasteKind::Hazardous,
            &["HW17", "HW34", "HW35"],
            2_000_000_000,
        ),
        (
            "A4 其他危险废物区",
            WasteKind::Hazardous,
            &["HW29", "HW31", "HW49"],
            3_000_000_000,
        ),
        ("G1 一般工业固废区", WasteKind::General, &[], 20_000_000_000),
    ];
    for (name, kind, categories, capacity) in zones {
        let categories = categories
            .iter()
            .map(|c| field(Category::parse("categories", c)))
            .collect::<Result<Vec<_>, _>>()?;
        warehouses::add_zone(
            conn,
            now,
            by,
            &warehouse_row,
            NewZone {
                name: name.to_owned(),
                kind,
                categories,
                capacity_grams: capacity,
                enterprise_id: None,
            },
        )?;
    }

    let price = |target: &str, fen: i64| -> Result<NewPrice, ApiError> {
        Ok(NewPrice {
            target: field(CatalogRef::parse("target", target))?,
            fen_per_tonne: fen,
            effective_from: None,
        })
    };
    let threshold = |target: &str, grams: i64| -> Result<NewThreshold, ApiError> {
        Ok(NewThreshold {
            target: field(CatalogRef::parse("target", target))?,
            threshold_grams: grams,
            effective_from: None,
        })
    };
    contracts::create(
        conn,
        now,
        by,
        &park_row,
        NewContract {
            number: "LG-2026-001".to_owned(),
            disposer_id: disposer.id.clone(),
            valid_from: day("2026-01-01")?,
            valid_to: day("2027-12-31")?,
            max_storage_days: 180,
            pickup_zone_percent: 80,
            members: enterprise_ids
                .iter()
                .map(|id| NewMember {
                    enterprise_id: id.clone(),
                    joined_on: None,
                })
                .collect(),
            prices: vec![
                price("HW08", 280_000)?,
                price("HW09", 350_000)?,
                price("HW12", 450_000)?,
                price("HW06", 400_000)?,
                price("HW17", 520_000)?,
                price("HW34", 300_000)?,
                price("HW35", 300_000)?,
                price("HW49", 480_000)?,
                price("900-041-49", 500_000)?,
                price("900-003-S59", -120_000)?,
                price("S59", 60_000)?,
            ],
            thresholds: vec![
                threshold("HW08", 2_000_000)?,
                threshold("HW12", 1_000_000)?,
                threshold("HW49", 1_000_000)?,
                threshold("S59", 5_000_000)?,
            ],
        },
    )?;

    for (username, role, org_id, org_name) in [
        (
            "park.office",
            Role::ParkOffice,
            park.id.clone(),
            park.name.clone(),
        ),
        (
            "disposer.dispatch",
            Role::DisposerDispatcher,
            disposer.id.clone(),
            disposer.name.clone(),
        ),
        (
            "inspector",
            Role::Inspector,
            bureau.id.clone(),
            bureau.name.clone(),
        ),
        (
            "driver.1",
            Role::Driver,
            carrier.id.clone(),
            carrier.name.clone(),
        ),
        (
            "driver.2",
            Role::Driver,
            carrier.id.clone(),
            carrier.name.clone(),
        ),
        (
            "driver.3",
            Role::Driver,
            carrier.id.clone(),
            carrier.name.clone(),
        ),
        (
            "enterprise.1",
            Role::EnterpriseUser,
            enterprise_ids[0].clone(),
            ENTERPRISES[0].to_owned(),
        ),
        (
            "enterprise.2",
            Role::EnterpriseUser,
            enterprise_ids[1].clone(),
            ENTERPRISES[1].to_owned(),
        ),
        (
            "enterprise.3",
            Role::EnterpriseUser,
            enterprise_ids[2].clone(),
            ENTERPRISES[2].to_owned(),
        ),
    ] {
        insert_user(conn, now, username, role, &org_id, password_hash)?;
        credentials.push((username.to_owned(), role.as_str(), org_name));
    }
    Ok(())
}

fn insert_user(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    username: &str,
    role: Role,
    organization_id: &str,
    password_hash: &str,
) -> Result<(), ApiError> {
    // The password hash is computed once for all demo users.
    let now = now.naive_utc();
    identity_store::insert_user(
        conn,
        &identity_store::UserRow {
            id: crate::domain::ids::new_id("usr"),
            organization_id: organization_id.to_owned(),
            username: field(Username::parse("username", username))?
                .as_str()
                .to_owned(),
            display_name: username.to_owned(),
            role: role.as_str().to_owned(),
            password_hash: password_hash.to_owned(),
            deactivated_at: None,
            created_at: now,
            updated_at: now,
            dg_qualification_number: None,
            dg_qualification_valid_until: None,
        },
    )?;
    Ok(())
}

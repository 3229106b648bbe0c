//! Conditions told once to the organisations concerned, found by the periodic check:
//! storage-age alarms (to the park office and the lot's enterprise), zone-capacity alarms (to
//! the park office; told again after the zone has gone below the warning level), and licences
//! ending within 30 days (to the disposal company and the park offices it serves).
//!
//! Each condition has a notice key; a condition whose key is already recorded is not told
//! again. The key is taken under a lock in the transaction that publishes the message, so two
//! server processes checking at once tell it once.

use chrono::Duration;
use serde_json::json;

use crate::auth::policy::LotScope;
use crate::db::{DbConn, write_transaction};
use crate::domain::lot::AlarmLevel;
use crate::error::ApiError;
use crate::notify::service::{Notice, publish_to_all};
use crate::notify::store;

/// Licences are announced this many days before they end.
pub const LICENCE_NOTICE_DAYS: i64 = 30;

fn level(l: AlarmLevel) -> &'static str {
    match l {
        AlarmLevel::Warning => "warning",
        AlarmLevel::Exceeded => "exceeded",
    }
}

/// Tells a condition once: records its key and publishes, in one transaction.
fn tell_once(
    conn: &mut DbConn,
    key: &str,
    audience: &[String],
    notice: &Notice<'_>,
) -> Result<bool, ApiError> {
    write_transaction(conn, |conn| {
        crate::db::lock_keys(conn, &[&format!("notice:{key}")])?;
        let now = crate::domain::time::now().naive_utc();
        if !store::insert_notice(conn, key, now)? {
            return Ok(false);
        }
        publish_to_all(conn, audience, notice)?;
        Ok(true)
    })
}

/// Runs every check once; returns how many messages were told.
pub fn sweep(conn: &mut DbConn) -> Result<usize, ApiError> {
    let mut told = 0;
    let alarms = crate::lots::service::alarms(conn, &LotScope::All)?;
    for a in &alarms.storage {
        let Some(lot) = crate::lots::store::find_lot(conn, &a.lot_id)? else {
            continue;
        };
        let key = format!("storage:{}:{}", a.lot_id, level(a.level));
        let notice = Notice {
            type_: "alarm.storage_age",
            subject_id: &a.lot_id,
            title: format!(
                "Lot of {} stored {} of {} days ({})",
                a.waste_code,
                a.days_stored,
                a.max_storage_days,
                level(a.level)
            ),
            data: serde_json::to_value(a).unwrap_or_default(),
        };
        if tell_once(
            conn,
            &key,
            &[lot.0.park_id.clone(), a.enterprise_id.clone()],
            &notice,
        )? {
            told += 1;
        }
    }
    let mut alarmed = Vec::new();
    for a in &alarms.capacity {
        let Some(warehouse) =
            crate::registry::warehouses::store::find_warehouse(conn, &a.warehouse_id)?
        else {
            continue;
        };
        let key = format!("capacity:{}:{}", a.zone_id, level(a.level));
        alarmed.push(key.clone());
        let notice = Notice {
            type_: "alarm.capacity",
            subject_id: &a.zone_id,
            title: format!(
                "Zone {} holds {} of {} g ({})",
                a.zone_name,
                a.stored_grams,
                a.capacity_grams,
                level(a.level)
            ),
            data: serde_json::to_value(a).unwrap_or_default(),
        };
        if tell_once(
            conn,
            &key,
            std::slice::from_ref(&warehouse.0.park_id),
            &notice,
        )? {
            told += 1;
        }
    }
    // A zone back below its warning level may alarm again later.
    for key in store::notices_with_prefix(conn, "capacity:")? {
        if !alarmed.contains(&key) {
            store::delete_notice(conn, &key)?;
        }
    }
    let today = crate::domain::time::now().date_naive();
    let ending = crate::registry::directory::store::licences_ending(
        conn,
        today,
        today + Duration::days(LICENCE_NOTICE_DAYS),
        None,
    )?;
    for (licence, disposer_name) in ending {
        let key = format!("licence:{}:{}", licence.id, licence.valid_to);
        let mut audience = vec![licence.disposer_id.clone()];
        audience.extend(crate::pickups::store::parks_of_disposer(
            conn,
            &licence.disposer_id,
        )?);
        let notice = Notice {
            type_: "licence.expiring",
            subject_id: &licence.id,
            title: format!(
                "Licence {} of {disposer_name} ends on {}",
                licence.number, licence.valid_to
            ),
            data: json!({
                "licence_id": licence.id,
                "number": licence.number,
                "disposer_id": licence.disposer_id,
                "disposer_name": disposer_name,
                "valid_to": licence.valid_to,
                "days_left": (licence.valid_to - today).num_days(),
            }),
        };
        if tell_once(conn, &key, &audience, &notice)? {
            told += 1;
        }
    }
    Ok(told)
}

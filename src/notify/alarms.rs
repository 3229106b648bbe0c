//! Conditions told once to the organisations concerned, found by the periodic check:
//! storage-age alarms (to the park office and the lot's enterprise), zone-capacity alarms (to
//! the park office; told again after the zone has gone below the warning level), and licences
//! ending within 30 days (to the disposal company and the park offices it serves).
//!
//! Each condition has a notice key; a condition whose key is already recorded is not told
//! again. The key is taken under a lock in the transaction that publishes the message, so two
//! server processes checking at once tell it once.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::auth::policy::LotScope;
use crate::db::{DbConn, write_transaction};
use crate::domain::lot::{AlarmLevel, capacity_alarm};
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
pub fn tell_once(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    key: &str,
    audience: &[String],
    notice: &Notice<'_>,
) -> Result<bool, ApiError> {
    write_transaction(conn, |conn| {
        crate::db::lock_keys(conn, &[&format!("notice:{key}")])?;
        if !store::insert_notice(conn, key, now.naive_utc())? {
            return Ok(false);
        }
        publish_to_all(conn, now, audience, notice)?;
        Ok(true)
    })
}

/// Lots examined per contract and check for the storage-age alarm, oldest first.
const LOTS_PER_CHECK: i64 = 5_000;

/// Runs every check once; returns how many messages were told.
pub fn sweep(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut told = 0;
    for (alarm, park_id) in
        crate::lots::service::storage_alarms(conn, now, &LotScope::All, LOTS_PER_CHECK)?
    {
        let key = format!("storage:{}:{}", alarm.lot_id, level(alarm.level));
        let notice = Notice {
            type_: "alarm.storage_age",
            subject_id: &alarm.lot_id,
            title: format!(
                "Lot of {} stored {} of {} days ({})",
                alarm.waste_code,
                alarm.days_stored,
                alarm.max_storage_days,
                level(alarm.level)
            ),
            data: serde_json::to_value(&alarm).unwrap_or_default(),
        };
        if tell_once(
            conn,
            now,
            &key,
            &[park_id, alarm.enterprise_id.clone()],
            &notice,
        )? {
            told += 1;
        }
    }
    let zones = crate::registry::warehouses::store::zones_near_capacity(
        conn,
        crate::domain::time::local_date(now, crate::domain::park::DEFAULT_TIME_ZONE),
        &LotScope::All,
        crate::domain::lot::CAPACITY_WARNING_PERCENT,
    )?;
    let mut alarmed = Vec::new();
    for zone in &zones {
        let Some(alarm) = capacity_alarm(zone.stored_grams, zone.capacity_grams) else {
            continue;
        };
        let Some(warehouse) =
            crate::registry::warehouses::store::find_warehouse(conn, &zone.warehouse_id)?
        else {
            continue;
        };
        alarmed.push(format!("capacity:{}:", zone.id));
        let key = format!("capacity:{}:{}", zone.id, level(alarm));
        let notice = Notice {
            type_: "alarm.capacity",
            subject_id: &zone.id,
            title: format!(
                "Zone {} holds {} of {} g ({})",
                zone.name,
                zone.stored_grams,
                zone.capacity_grams,
                level(alarm)
            ),
            data: json!({
                "zone_id": zone.id,
                "zone_name": zone.name,
                "warehouse_id": zone.warehouse_id,
                "stored_grams": zone.stored_grams,
                "capacity_grams": zone.capacity_grams,
                "level": level(alarm),
            }),
        };
        if tell_once(
            conn,
            now,
            &key,
            std::slice::from_ref(&warehouse.0.park_id),
            &notice,
        )? {
            told += 1;
        }
    }
    // A zone back below its warning level may alarm again later: its notices go, under the
    // same lock as the telling.
    for key in store::notices_with_prefix(conn, "capacity:")? {
        if !alarmed.iter().any(|zone| key.starts_with(zone.as_str())) {
            write_transaction(conn, |conn| {
                crate::db::lock_keys(conn, &[&format!("notice:{key}")])?;
                store::delete_notice(conn, &key)?;
                Ok::<_, ApiError>(())
            })?;
        }
    }
    told += crate::manifests::service::tell_overdue(conn, now)?;
    // Counted in the same zone as GET /expirations, so both give the same days left.
    let today = crate::domain::time::local_date(now, crate::domain::park::DEFAULT_TIME_ZONE);
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
        if tell_once(conn, now, &key, &audience, &notice)? {
            told += 1;
        }
    }
    Ok(told)
}

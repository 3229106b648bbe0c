//! The lots' conditions told once by the periodic check: storage-age alarms (to the park office
//! and the lot's enterprise; a lot past its whole storage period also to the inspectors whose
//! jurisdiction covers the park) and zone-capacity alarms (to the park office; told again after
//! the zone has gone below the warning level).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::auth::policy::LotScope;
use crate::db::DbConn;
use crate::domain::lot::{AlarmLevel, capacity_alarm};
use crate::error::ApiError;
use crate::notify::alarms::{forget_ended, tell_once};
use crate::notify::service::Notice;

fn level(l: AlarmLevel) -> &'static str {
    match l {
        AlarmLevel::Warning => "warning",
        AlarmLevel::Exceeded => "exceeded",
    }
}

/// Lots examined per contract and check for the storage-age alarm, oldest first.
const LOTS_PER_CHECK: i64 = 5_000;

/// Tells the storage-age and zone-capacity alarms not told yet; returns how many were told.
pub fn sweep(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut told = 0;
    // The bureaus over each park, looked up once per park and check.
    let mut inspectors: Vec<(String, Vec<String>)> = Vec::new();
    for (alarm, park_id) in
        crate::lots::service::storage_alarms(conn, now, &LotScope::All, LOTS_PER_CHECK)?
    {
        let mut audience = vec![park_id.clone(), alarm.enterprise_id.clone()];
        if alarm.level == AlarmLevel::Exceeded {
            let known = inspectors.iter().position(|(p, _)| *p == park_id);
            let index = match known {
                Some(i) => i,
                None => {
                    let park = crate::registry::parks::service::load_park(conn, &park_id)?;
                    let bureaus = crate::registry::directory::service::bureaus_over(
                        conn,
                        &park.park.region_code,
                    )?;
                    inspectors.push((park_id.clone(), bureaus));
                    inspectors.len() - 1
                }
            };
            audience.extend(inspectors[index].1.iter().cloned());
        }
        let key = format!("storage:{}:{}", alarm.lot_id, level(alarm.level));
        let notice = Notice {
            type_: "alarm.storage_age",
            subject_id: alarm.lot_id.as_str(),
            title: format!(
                "Lot of {} stored {} of {} days ({})",
                alarm.waste_code,
                alarm.days_stored,
                alarm.max_storage_days,
                level(alarm.level)
            ),
            data: serde_json::to_value(&alarm).unwrap_or_default(),
        };
        if tell_once(conn, now, &key, &audience, &notice)? {
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
            std::slice::from_ref(&warehouse.warehouse.park_id),
            &notice,
        )? {
            told += 1;
        }
    }
    // A zone back below its warning level may alarm again later.
    forget_ended(conn, "capacity:", &alarmed)?;
    Ok(told)
}

//! Use cases of the figures: whose park and whether the principal may read its figures, the
//! months asked for in the park's time zone, and the views built from the database's sums.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize, reads_figures};
use crate::db::DbConn;
use crate::domain::billing::Period;
use crate::domain::units::{OutOfRange, total};
use crate::error::{ApiError, FieldError, Validator};
use crate::figures::store::{self, LatencySums, VolumeKey};
use crate::http::query::start_of_day;
use crate::registry::contracts::store as contracts;
use crate::registry::parks::{service as parks, store::ParkRow};

/// The most months one request of latencies or volumes covers.
pub const MAX_MONTHS: u32 = 36;
/// The most groups a volumes answer lists (the totals count them all).
pub const MAX_GROUPS: usize = 200;
/// The months asked for when `from` and `to` are left out: the last twelve, this one included.
pub const DEFAULT_MONTHS: u32 = 12;
/// What volumes may be grouped by.
pub const VOLUME_KEYS: &[&str] = &["code", "enterprise", "disposer", "month"];

/// Loads the park and checks that the principal may read its figures.
pub fn load_park(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ParkRow, ApiError> {
    reads_figures(principal)?;
    let park = parks::load_park(conn, id)?;
    authorize(principal, Action::ReadFigures(parks::place(&park)))?;
    Ok(park.park)
}

/// The stock of a park's warehouses now, for a principal who reads the park's figures.
pub fn read_stock(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
) -> Result<StockFigures, ApiError> {
    let park = load_park(conn, principal, park_id)?;
    stock(conn, &park, now)
}

/// The latencies of the months `from` to `to` (checked against the park's today), for a
/// principal who reads the park's figures.
pub fn read_latency(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<LatencyFigures, ApiError> {
    let park = load_park(conn, principal, park_id)?;
    let months = months(from, to, park_today(&park, now))?;
    latency(conn, &park, months)
}

/// The volumes of the months `from` to `to` grouped `by` (checked against the park's today),
/// for a principal who reads the park's figures.
pub fn read_volumes(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    from: Option<&str>,
    to: Option<&str>,
    by: Option<&str>,
) -> Result<VolumeFigures, ApiError> {
    let park = load_park(conn, principal, park_id)?;
    let (months, by) = volume_query(from, to, by, park_today(&park, now))?;
    volumes(conn, &park, months, by)
}

/// What a park's charts show, over the same months `from` to `to` (checked against the park's
/// today): the stock at each month's end and the volumes by month, by code and by enterprise;
/// the park loaded and the principal checked once.
pub fn read_charts(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ParkCharts, ApiError> {
    let park = load_park(conn, principal, park_id)?;
    let months = months(from, to, park_today(&park, now))?;
    Ok(ParkCharts {
        stock: stock_history(conn, &park, months, now)?,
        by_month: volumes(conn, &park, months, VolumeKey::Month)?,
        by_code: volumes(conn, &park, months, VolumeKey::Code)?,
        by_enterprise: volumes(conn, &park, months, VolumeKey::Enterprise)?,
    })
}

/// A park's charts: [`read_charts`].
pub struct ParkCharts {
    pub stock: StockHistory,
    pub by_month: VolumeFigures,
    pub by_code: VolumeFigures,
    pub by_enterprise: VolumeFigures,
}

/// The park's date at `now`, in its time zone.
pub fn park_today(park: &ParkRow, now: DateTime<Utc>) -> NaiveDate {
    crate::domain::time::local_date(now, parks::park_time_zone(park))
}

/// Consecutive months of a park's time zone, `from` to `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Months {
    pub from: Period,
    pub to: Period,
}

impl Months {
    /// The months in order.
    pub fn each(self) -> Vec<Period> {
        let mut out = Vec::new();
        let mut m = self.from;
        while m <= self.to {
            out.push(m);
            m = next(m);
        }
        out
    }

    /// The first instant of each month, then the instant after the last (UTC, naive).
    pub fn bounds(self, tz: chrono_tz::Tz) -> Vec<NaiveDateTime> {
        let mut days: Vec<NaiveDate> = self
            .each()
            .into_iter()
            .filter_map(|m| m.first_day())
            .collect();
        days.extend(self.to.end());
        days.into_iter().map(|d| start_of_day(d, tz)).collect()
    }
}

fn next(m: Period) -> Period {
    if m.month == 12 {
        Period {
            year: m.year + 1,
            month: 1,
        }
    } else {
        Period {
            year: m.year,
            month: m.month + 1,
        }
    }
}

fn months_between(from: Period, to: Period) -> i64 {
    i64::from(to.year - from.year) * 12 + i64::from(to.month) - i64::from(from.month)
}

/// The months of `from` and `to` (`YYYY-MM`, in the park's time zone, inclusive, at most
/// [`MAX_MONTHS`]); left out, `to` is this month and `from` [`DEFAULT_MONTHS`] months back to it.
/// Given empty, either is refused like any bad value.
pub fn months(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<Months, ApiError> {
    let mut v = Validator::new();
    let m = months_in(&mut v, from, to, today);
    v.finish_with(|| m)
}

/// The months and the grouping of a volumes request, every bad field reported at once.
pub fn volume_query(
    from: Option<&str>,
    to: Option<&str>,
    by: Option<&str>,
    today: NaiveDate,
) -> Result<(Months, VolumeKey), ApiError> {
    let mut v = Validator::new();
    let m = months_in(&mut v, from, to, today);
    let by = match by.map(str::trim) {
        None => Some(VolumeKey::Month),
        Some("") => {
            v.push(crate::http::pagination::empty("by", "to group by month"));
            None
        }
        Some(raw) => v.check(volume_key(raw).ok_or_else(|| {
            FieldError::new(
                "by",
                "invalid",
                format!("must be one of: {}", VOLUME_KEYS.join(", ")),
            )
        })),
    };
    v.finish_with(|| Some((m?, by?)))
}

fn months_in(
    v: &mut Validator,
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Option<Months> {
    let mut month = |field: &str, raw: Option<&str>| -> Option<Option<Period>> {
        match raw {
            None => Some(None),
            Some(raw) => v
                .check(
                    Period::parse(raw)
                        .filter(|p| (1970..=9998).contains(&p.year))
                        .ok_or_else(|| {
                            FieldError::new(field, "invalid", "must be a month YYYY-MM")
                        }),
                )
                .map(Some),
        }
    };
    let from = month("from", from);
    let to = month("to", to);
    let (from, to) = (from?, to?);
    let to = to.unwrap_or_else(|| Period::of(today));
    let from = from.unwrap_or_else(|| {
        let mut f = to;
        for _ in 1..DEFAULT_MONTHS {
            f = f.previous();
        }
        f
    });
    let span = months_between(from, to);
    if span < 0 {
        v.push(FieldError::new(
            "to",
            "before_from",
            "must not be before from",
        ));
        return None;
    }
    if span >= i64::from(MAX_MONTHS) {
        v.push(FieldError::new(
            "to",
            "range_too_long",
            format!("figures cover at most {MAX_MONTHS} months: ask for several"),
        ));
        return None;
    }
    Some(Months { from, to })
}

fn out_of_range(e: OutOfRange) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("figures: {e}"))
}

/// `part` of `whole` in whole percent, rounded down; none when `whole` is not positive.
fn percent(part: i64, whole: i64) -> Option<i64> {
    if whole <= 0 {
        return None;
    }
    i64::try_from(i128::from(part) * 100 / i128::from(whole)).ok()
}

// ---------------------------------------------------------------------------------------------
// Stock

/// A zone: what it holds against its capacity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneFigures {
    pub zone_id: String,
    pub name: String,
    /// `hazardous` or `general`.
    pub kind: String,
    /// The categories the zone takes.
    pub categories: Vec<String>,
    pub capacity_grams: i64,
    pub stored_grams: i64,
    /// `stored_grams` in percent of `capacity_grams`, rounded down.
    pub fill_percent: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
}

/// What a warehouse stores of one category under one contract, against the contract's pickup
/// threshold for the category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryStockView {
    pub contract_id: String,
    pub category: String,
    /// `hazardous` or `general`.
    pub kind: String,
    pub stored_grams: i64,
    pub stored_lots: i64,
    /// The contract's weight threshold naming this category, in force today (absent when the
    /// contract has none; thresholds naming single codes are in the contract's terms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_grams: Option<i64>,
    /// `stored_grams` in percent of `threshold_grams`, rounded down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_percent: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseStock {
    pub warehouse_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    pub stored_grams: i64,
    pub capacity_grams: i64,
    pub zones: Vec<ZoneFigures>,
    /// Per contract and category, heaviest first within the warehouse's categories.
    pub categories: Vec<CategoryStockView>,
}

/// A park's stock now: per warehouse, each zone's fill and each category's grams against the
/// pickup threshold.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "time_zone": "Asia/Shanghai",
    "as_of": "2026-11-25T02:00:00Z", "today": "2026-11-25",
    "warehouses": [{
        "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0", "name": "No. 1 temporary store",
        "stored_grams": 1500000, "capacity_grams": 20000000,
        "zones": [{"zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1", "name": "A1", "kind": "hazardous",
            "categories": ["HW08"], "capacity_grams": 20000000, "stored_grams": 1500000, "fill_percent": 7}],
        "categories": [{"contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2", "category": "HW08",
            "kind": "hazardous", "stored_grams": 1500000, "stored_lots": 2,
            "threshold_grams": 2000000, "threshold_percent": 75}]
    }]
}))]
pub struct StockFigures {
    pub park_id: String,
    pub time_zone: String,
    /// The instant the figures describe.
    pub as_of: DateTime<Utc>,
    /// Today in the park's time zone: the day whose thresholds apply.
    pub today: NaiveDate,
    pub warehouses: Vec<WarehouseStock>,
}

/// The threshold in force on `day` among a contract's rules naming `category`: the latest one
/// already effective.
fn category_threshold(
    rules: &[contracts::ThresholdRow],
    category: &str,
    day: NaiveDate,
) -> Option<i64> {
    rules
        .iter()
        .filter(|r| r.target == category && r.effective_from <= day)
        .max_by_key(|r| (r.effective_from, r.created_at))
        .map(|r| r.threshold_grams)
}

pub fn stock(
    conn: &mut DbConn,
    park: &ParkRow,
    now: DateTime<Utc>,
) -> Result<StockFigures, ApiError> {
    let tz = parks::park_time_zone(park);
    let today = crate::domain::time::local_date(now, tz);
    let zones = store::zones_of_park(conn, &park.organization_id)?;
    let sums = store::stock_by_category(conn, &park.organization_id)?;
    let mut rules: std::collections::BTreeMap<String, Vec<contracts::ThresholdRow>> =
        std::collections::BTreeMap::new();
    for s in &sums {
        if !rules.contains_key(&s.contract_id) {
            let r = contracts::thresholds_of(conn, &s.contract_id)?;
            rules.insert(s.contract_id.clone(), r);
        }
    }
    let mut warehouses: Vec<WarehouseStock> = Vec::new();
    for z in zones {
        if warehouses
            .last()
            .is_none_or(|w| w.warehouse_id != z.warehouse_id)
        {
            warehouses.push(WarehouseStock {
                warehouse_id: z.warehouse_id.clone(),
                name: z.warehouse_name.clone(),
                closed_on: z.warehouse_closed_on,
                stored_grams: 0,
                capacity_grams: 0,
                zones: Vec::new(),
                categories: Vec::new(),
            });
        }
        let Some(w) = warehouses.last_mut() else {
            continue;
        };
        w.stored_grams = total([w.stored_grams, z.stored_grams]).map_err(out_of_range)?;
        w.capacity_grams = total([w.capacity_grams, z.capacity_grams]).map_err(out_of_range)?;
        w.zones.push(ZoneFigures {
            fill_percent: percent(z.stored_grams, z.capacity_grams).unwrap_or(0),
            zone_id: z.zone_id,
            name: z.zone_name,
            kind: z.kind,
            categories: z
                .categories
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            capacity_grams: z.capacity_grams,
            stored_grams: z.stored_grams,
            closed_on: z.zone_closed_on,
        });
    }
    for s in sums {
        let threshold = rules
            .get(&s.contract_id)
            .and_then(|r| category_threshold(r, &s.category, today));
        let view = CategoryStockView {
            threshold_percent: threshold.and_then(|t| percent(s.grams, t)),
            threshold_grams: threshold,
            contract_id: s.contract_id,
            category: s.category,
            kind: s.kind,
            stored_grams: s.grams,
            stored_lots: s.lots,
        };
        if let Some(w) = warehouses
            .iter_mut()
            .find(|w| w.warehouse_id == s.warehouse_id)
        {
            w.categories.push(view);
        }
    }
    for w in &mut warehouses {
        w.categories.sort_by(|a, b| {
            b.stored_grams
                .cmp(&a.stored_grams)
                .then(a.category.cmp(&b.category))
        });
    }
    Ok(StockFigures {
        park_id: park.organization_id.clone(),
        time_zone: tz.name().to_owned(),
        as_of: now,
        today,
        warehouses,
    })
}

// ---------------------------------------------------------------------------------------------
// Latency

/// Latencies of one kind in one month, in whole seconds.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct Latency {
    /// How many were completed in the month.
    pub count: i64,
    /// The mean, rounded down (absent when there were none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_seconds: Option<i64>,
    /// The longest (absent when there were none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthLatency {
    /// `YYYY-MM`, in the park's time zone.
    pub month: String,
    /// The instant the month starts.
    pub start: DateTime<Utc>,
    /// The instant the next month starts.
    pub end: DateTime<Utc>,
    /// From a pickup request being raised to the collection's capture time, for the
    /// collections of the month.
    pub pickup: Latency,
    /// From the carrier's take-over of a manifest to the receiver's receipt, for the receipts
    /// of the month.
    pub receipt: Latency,
}

/// Pickup and receipt latency per month of the park's time zone.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "time_zone": "Asia/Shanghai",
    "from": "2026-10", "to": "2026-11",
    "months": [
        {"month": "2026-10", "start": "2026-09-30T16:00:00Z", "end": "2026-10-31T16:00:00Z",
         "pickup": {"count": 0}, "receipt": {"count": 0}},
        {"month": "2026-11", "start": "2026-10-31T16:00:00Z", "end": "2026-11-30T16:00:00Z",
         "pickup": {"count": 3, "mean_seconds": 151200, "max_seconds": 259200},
         "receipt": {"count": 4, "mean_seconds": 20700, "max_seconds": 86400}}
    ]
}))]
pub struct LatencyFigures {
    pub park_id: String,
    pub time_zone: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, inclusive.
    pub to: String,
    /// Every month from `from` to `to`, in order.
    pub months: Vec<MonthLatency>,
}

fn latency_of(row: Option<&LatencySums>) -> Latency {
    match row {
        Some(r) if r.count > 0 => Latency {
            count: r.count,
            mean_seconds: Some(r.total_seconds / r.count),
            max_seconds: Some(r.max_seconds),
        },
        _ => Latency::default(),
    }
}

pub fn latency(
    conn: &mut DbConn,
    park: &ParkRow,
    months: Months,
) -> Result<LatencyFigures, ApiError> {
    let tz = parks::park_time_zone(park);
    let bounds = months.bounds(tz);
    let pickups = store::pickup_latency(conn, &park.organization_id, &bounds)?;
    let receipts = store::receipt_latency(conn, &park.organization_id, &bounds)?;
    let find = |rows: &[LatencySums], i: usize| {
        rows.iter()
            .find(|r| usize::try_from(r.bucket).ok() == Some(i))
            .cloned()
    };
    let months_view = months
        .each()
        .into_iter()
        .enumerate()
        .filter_map(|(i, m)| {
            Some(MonthLatency {
                month: m.as_string(),
                start: bounds.get(i)?.and_utc(),
                end: bounds.get(i + 1)?.and_utc(),
                pickup: latency_of(find(&pickups, i).as_ref()),
                receipt: latency_of(find(&receipts, i).as_ref()),
            })
        })
        .collect();
    Ok(LatencyFigures {
        park_id: park.organization_id.clone(),
        time_zone: tz.name().to_owned(),
        from: months.from.as_string(),
        to: months.to.as_string(),
        months: months_view,
    })
}

// ---------------------------------------------------------------------------------------------
// Volumes

pub fn volume_key(raw: &str) -> Option<VolumeKey> {
    match raw {
        "code" => Some(VolumeKey::Code),
        "enterprise" => Some(VolumeKey::Enterprise),
        "disposer" => Some(VolumeKey::Disposer),
        "month" => Some(VolumeKey::Month),
        _ => None,
    }
}

fn key_name(by: VolumeKey) -> &'static str {
    match by {
        VolumeKey::Code => "code",
        VolumeKey::Enterprise => "enterprise",
        VolumeKey::Disposer => "disposer",
        VolumeKey::Month => "month",
    }
}

/// The weighed grams and lots of one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct VolumeRow {
    /// The waste code, the enterprise's or disposer's id, or the month `YYYY-MM`.
    pub key: String,
    /// The code's, enterprise's or disposer's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub grams: i64,
    pub lots: i64,
}

/// The weight of waste handed in, per waste code, enterprise, disposer (by the contract's) or
/// month.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "time_zone": "Asia/Shanghai",
    "from": "2026-01", "to": "2026-11", "by": "code",
    "start": "2025-12-31T16:00:00Z", "end": "2026-11-30T16:00:00Z",
    "rows": [
        {"key": "900-249-08", "name": "废矿物油", "grams": 2100000, "lots": 3},
        {"key": "900-041-49", "name": "沾染危险废物的包装物", "grams": 320000, "lots": 1}
    ],
    "total_grams": 2420000, "total_lots": 4, "truncated": false
}))]
pub struct VolumeFigures {
    pub park_id: String,
    pub time_zone: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, inclusive.
    pub to: String,
    /// `code`, `enterprise`, `disposer` or `month`.
    pub by: String,
    /// The instant the first month starts.
    pub start: DateTime<Utc>,
    /// The instant after the last month.
    pub end: DateTime<Utc>,
    /// Heaviest first (by month: every month in order), at most 200.
    pub rows: Vec<VolumeRow>,
    /// Over every group, listed or not.
    pub total_grams: i64,
    pub total_lots: i64,
    /// Whether groups were left out of `rows` (more than 200).
    pub truncated: bool,
}

pub fn volumes(
    conn: &mut DbConn,
    park: &ParkRow,
    months: Months,
    by: VolumeKey,
) -> Result<VolumeFigures, ApiError> {
    let tz = parks::park_time_zone(park);
    let bounds = months.bounds(tz);
    let sums = store::volumes(conn, &park.organization_id, &bounds, by)?;
    let total_grams = total(sums.iter().map(|s| s.grams)).map_err(out_of_range)?;
    let total_lots = total(sums.iter().map(|s| s.lots)).map_err(out_of_range)?;
    let mut rows: Vec<VolumeRow> = if by == VolumeKey::Month {
        months
            .each()
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let s = sums.iter().find(|s| s.key == i.to_string());
                VolumeRow {
                    key: m.as_string(),
                    name: None,
                    grams: s.map_or(0, |s| s.grams),
                    lots: s.map_or(0, |s| s.lots),
                }
            })
            .collect()
    } else {
        sums.into_iter()
            .map(|s| VolumeRow {
                key: s.key,
                name: s.name,
                grams: s.grams,
                lots: s.lots,
            })
            .collect()
    };
    let truncated = rows.len() > MAX_GROUPS;
    rows.truncate(MAX_GROUPS);
    let (Some(start), Some(end)) = (bounds.first(), bounds.last()) else {
        return Err(ApiError::Internal(anyhow::anyhow!("figures: no months")));
    };
    Ok(VolumeFigures {
        park_id: park.organization_id.clone(),
        time_zone: tz.name().to_owned(),
        from: months.from.as_string(),
        to: months.to.as_string(),
        by: key_name(by).to_owned(),
        start: start.and_utc(),
        end: end.and_utc(),
        rows,
        total_grams,
        total_lots,
        truncated,
    })
}

/// The stock of a park's warehouses at the end of one month, by kind of waste.
#[derive(Debug, Serialize)]
pub struct MonthStock {
    /// `YYYY-MM`, in the park's time zone.
    pub month: String,
    /// The instant the stock is counted at: the month's end, or now for a month not yet over.
    pub at: DateTime<Utc>,
    /// The month is not over: its figure is the stock now.
    pub so_far: bool,
    pub hazardous_grams: i64,
    pub hazardous_lots: i64,
    pub general_grams: i64,
    pub general_lots: i64,
    /// Hazardous and general together.
    pub total_grams: i64,
}

/// Stock over time: what the park's warehouses held at the end of each month, added up from
/// the ledgers' movements (so each figure is the park's ledger's closing stock of that month);
/// this month's is the stock now, and months not begun are left out.
#[derive(Debug, Serialize)]
pub struct StockHistory {
    pub park_id: String,
    pub time_zone: String,
    pub from: String,
    pub to: String,
    pub months: Vec<MonthStock>,
}

/// The stock at the end of each month: the movements before the first month's end, then each
/// month's, added up in order with checked arithmetic.
pub fn stock_history(
    conn: &mut DbConn,
    park: &ParkRow,
    months: Months,
    now: DateTime<Utc>,
) -> Result<StockHistory, ApiError> {
    let tz = parks::park_time_zone(park);
    let bounds = months.bounds(tz);
    let ends = bounds.get(1..).unwrap_or_default();
    let moved = store::stock_moved(conn, &park.organization_id, ends)?;
    let mut running = [(0_i64, 0_i64); 2];
    let mut out = Vec::new();
    for (i, (month, span)) in months.each().into_iter().zip(bounds.windows(2)).enumerate() {
        let [start, end] = span else { continue };
        // A month not begun yet has no stock to show.
        if start.and_utc() > now {
            break;
        }
        for m in moved
            .iter()
            .filter(|m| usize::try_from(m.bucket).ok() == Some(i))
        {
            let r = &mut running[usize::from(m.kind != "hazardous")];
            r.0 = r.0.checked_add(m.grams).ok_or_else(stock_overflow)?;
            r.1 = r.1.checked_add(m.lots).ok_or_else(stock_overflow)?;
        }
        out.push(MonthStock {
            month: month.as_string(),
            at: end.and_utc().min(now),
            so_far: end.and_utc() > now,
            hazardous_grams: running[0].0,
            hazardous_lots: running[0].1,
            general_grams: running[1].0,
            general_lots: running[1].1,
            total_grams: running[0]
                .0
                .checked_add(running[1].0)
                .ok_or_else(stock_overflow)?,
        });
    }
    Ok(StockHistory {
        park_id: park.organization_id.clone(),
        time_zone: tz.name().to_owned(),
        from: months.from.as_string(),
        to: months.to.as_string(),
        months: out,
    })
}

fn stock_overflow() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a park's stock overflows 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn months_default_to_the_last_twelve_and_are_bounded() {
        let m = months(None, None, day("2026-11-25")).ok();
        assert_eq!(
            m.map(|m| (m.from.as_string(), m.to.as_string())),
            Some(("2025-12".to_owned(), "2026-11".to_owned()))
        );
        assert!(months(Some("2024-01"), Some("2026-12"), day("2026-11-25")).is_ok());
        assert!(months(Some("2023-12"), Some("2026-12"), day("2026-11-25")).is_err());
        assert!(months(Some("2026-11"), Some("2026-10"), day("2026-11-25")).is_err());
        assert!(months(Some("2026-13"), None, day("2026-11-25")).is_err());
        assert!(months(Some(""), None, day("2026-11-25")).is_err());
    }

    #[test]
    fn month_bounds_are_midnights_of_the_park() {
        let m = Months {
            from: Period {
                year: 2026,
                month: 12,
            },
            to: Period {
                year: 2027,
                month: 1,
            },
        };
        let b = m.bounds(chrono_tz::Asia::Shanghai);
        let s: Vec<String> = b.iter().map(|t| t.to_string()).collect();
        assert_eq!(
            s,
            [
                "2026-11-30 16:00:00",
                "2026-12-31 16:00:00",
                "2027-01-31 16:00:00"
            ]
        );
        assert_eq!(m.each().len(), 2);
    }

    #[test]
    fn percents_round_down_and_need_a_positive_whole() {
        assert_eq!(percent(1_999_999, 2_000_000), Some(99));
        assert_eq!(percent(i64::MAX, 1), None);
        assert_eq!(percent(5, 0), None);
    }
}

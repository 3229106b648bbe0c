//! Reduction and trends: an enterprise's or a park's weighed waste per month of the park's time
//! zone, by code or category, against the profiles' expectation and the same month a year
//! before, with the share recycled.
//!
//! The grams are added up by the database per month, code, contract and enterprise (the lots
//! the figures' volumes count: weighed, not voided, by business time), for the months asked
//! and the same months a year earlier. A group counts as recycled when the contract's price in
//! force for its code on the month's last day is negative (the receiver pays for the waste) or
//! when its enterprise's profile hands the code to a recycler; every other group as disposed.
//! The expectation of a month is the current profiles' grams per month (a profile states what
//! an enterprise produces now, not what it produced then).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::domain::billing::Period;
use crate::domain::contract::{DatedRule, rule_on};
use crate::domain::waste::{CatalogRef, WasteCode};
use crate::error::{ApiError, FieldError, Validator};
use crate::figures::service::Months;
use crate::http::export::{Cell, Pages};
use crate::profiles::store;
use crate::registry::parks::service as parks;
use crate::registry::parks::store::ParkRow;

/// What the trends may be grouped by.
pub const TREND_KEYS: &[&str] = &["code", "category"];

/// The rows of a trend's export, in Chinese with their units.
pub const EXPORT_HEADERS: &[&str] = &[
    "月份",
    "废物代码或类别",
    "名称",
    "本月重量（千克，保留3位小数）",
    "批次数",
    "去年同月重量（千克，保留3位小数）",
    "预计重量（千克，保留3位小数）",
    "回收利用重量（千克，保留3位小数）",
    "处置重量（千克，保留3位小数）",
];

/// One code or category in one month.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TrendRow {
    /// The waste code or category.
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub grams: i64,
    pub lots: i64,
    /// The same month a year before.
    pub last_year_grams: i64,
    /// The profiles' grams per month.
    pub expected_grams: i64,
    pub recycled_grams: i64,
    pub disposed_grams: i64,
}

/// One month: its totals and its codes or categories.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendMonth {
    /// `YYYY-MM`, in the park's time zone.
    pub month: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub grams: i64,
    pub lots: i64,
    pub last_year_grams: i64,
    pub expected_grams: i64,
    pub recycled_grams: i64,
    pub disposed_grams: i64,
    /// `recycled_grams` in percent of `grams`, rounded down; absent when nothing was weighed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycled_percent: Option<i64>,
    /// (`grams` − `last_year_grams`) in percent of `last_year_grams`, rounded toward zero;
    /// negative is a reduction; absent when nothing was weighed a year before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_percent: Option<i64>,
    /// Every code or category weighed this month, a year before, or expected; by key.
    pub rows: Vec<TrendRow>,
}

/// Monthly quantities against the expectation and the year before.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "time_zone": "Asia/Shanghai", "from": "2026-11", "to": "2026-11", "by": "code",
    "months": [{
        "month": "2026-11", "start": "2026-10-31T16:00:00Z", "end": "2026-11-30T16:00:00Z",
        "grams": 250000, "lots": 2, "last_year_grams": 400000, "expected_grams": 300000,
        "recycled_grams": 0, "disposed_grams": 250000, "recycled_percent": 0, "change_percent": -37,
        "rows": [{"key": "900-249-08", "name": "废矿物油", "grams": 250000, "lots": 2, "last_year_grams": 400000,
            "expected_grams": 300000, "recycled_grams": 0, "disposed_grams": 250000}]
    }],
    "grams": 250000, "last_year_grams": 400000, "expected_grams": 300000,
    "recycled_grams": 0, "disposed_grams": 250000
}))]
pub struct TrendFigures {
    pub park_id: String,
    /// Absent for a park's trends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    pub time_zone: String,
    pub from: String,
    pub to: String,
    /// `code` or `category`.
    pub by: String,
    pub months: Vec<TrendMonth>,
    /// Over every month.
    pub grams: i64,
    pub last_year_grams: i64,
    pub expected_grams: i64,
    pub recycled_grams: i64,
    pub disposed_grams: i64,
}

/// The grouping of a trends request.
/// Whose trends: a park's, or an enterprise's.
pub enum Whose {
    Park(String),
    Enterprise(String),
}

/// What a trends request asks for, as given: its months and grouping.
pub struct Asked {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
}

fn parse_trends(q: &Asked, today: NaiveDate) -> Result<(Months, &'static str), ApiError> {
    let mut v = Validator::new();
    let by = trend_key(&mut v, q.by.as_deref());
    let months = match crate::figures::service::months(q.from.as_deref(), q.to.as_deref(), today) {
        Ok(m) => Some(m),
        Err(ApiError::Validation(errors)) => {
            for e in errors {
                v.push(e);
            }
            None
        }
        Err(e) => return Err(e),
    };
    v.finish_with(|| Some((months?, by?)))
}

/// The trends of a park or an enterprise the principal may read, for the months asked (checked
/// against the park's today).
pub fn read(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    whose: Whose,
    asked: &Asked,
) -> Result<TrendFigures, ApiError> {
    let (park, enterprise) = match whose {
        Whose::Park(id) => (
            crate::figures::service::load_park(conn, principal, &id)?,
            None,
        ),
        Whose::Enterprise(id) => {
            let e = crate::profiles::service::readable(conn, principal, &id)?;
            (
                parks::load_park(conn, &e.enterprise.park_id)?.park,
                Some(e.enterprise.organization_id),
            )
        }
    };
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park));
    let (months, by) = parse_trends(asked, today)?;
    trends(conn, &park, enterprise.as_deref(), months, by)
}

pub fn trend_key(v: &mut Validator, by: Option<&str>) -> Option<&'static str> {
    match by.map(str::trim) {
        None => Some("code"),
        Some(raw) => {
            let found = TREND_KEYS.iter().copied().find(|k| *k == raw);
            if found.is_none() {
                v.push(FieldError::new(
                    "by",
                    "invalid",
                    format!("must be one of: {}", TREND_KEYS.join(", ")),
                ));
            }
            found
        }
    }
}

fn add(a: i64, b: i64) -> Result<i64, ApiError> {
    a.checked_add(b)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("trends: grams out of range")))
}

fn a_year_before(m: Period) -> Period {
    Period {
        year: m.year - 1,
        month: m.month,
    }
}

fn key_of(code: &str, by: &str) -> String {
    if by == "category" {
        WasteCode::parse("", code)
            .map(|c| c.category().as_str().to_owned())
            .unwrap_or_else(|_| code.to_owned())
    } else {
        code.to_owned()
    }
}

/// Whether the contract prices `code` below zero on `day`.
fn negative_price(
    conn: &mut DbConn,
    cache: &mut BTreeMap<String, Vec<DatedRule<i64>>>,
    contract_id: &str,
    code: &str,
    day: chrono::NaiveDate,
) -> Result<bool, ApiError> {
    if !cache.contains_key(contract_id) {
        let rules = crate::registry::contracts::store::prices_of(conn, contract_id)?
            .into_iter()
            .filter_map(|p| {
                CatalogRef::parse("", &p.target)
                    .ok()
                    .map(|target| DatedRule {
                        target,
                        effective_from: p.effective_from,
                        value: p.fen_per_tonne,
                    })
            })
            .collect();
        cache.insert(contract_id.to_owned(), rules);
    }
    let Ok(code) = WasteCode::parse("", code) else {
        return Ok(false);
    };
    Ok(cache
        .get(contract_id)
        .and_then(|rules| rule_on(rules, &code, day))
        .is_some_and(|r| r.value < 0))
}

/// The trends of a park (`enterprise_id` `None`) or of one of its enterprises.
pub fn trends(
    conn: &mut DbConn,
    park: &ParkRow,
    enterprise_id: Option<&str>,
    months: Months,
    by: &str,
) -> Result<TrendFigures, ApiError> {
    let tz = parks::park_time_zone(park);
    let bounds = months.bounds(tz);
    let last_year = Months {
        from: a_year_before(months.from),
        to: a_year_before(months.to),
    };
    let ly_bounds = last_year.bounds(tz);
    let ent = enterprise_id.unwrap_or("");
    let now_sums = store::monthly(conn, &park.organization_id, ent, &bounds)?;
    let ly_sums = store::monthly(conn, &park.organization_id, ent, &ly_bounds)?;
    let expectations = store::expectations(conn, &park.organization_id, ent)?;
    let recycler: Vec<(&str, &str)> = expectations
        .iter()
        .filter(|x| x.handling == "recycler")
        .map(|x| (x.enterprise_id.as_str(), x.waste_code.as_str()))
        .collect();
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for crate::profiles::store::Expectation {
        enterprise_id: _,
        waste_code: code,
        handling: _,
        grams_per_month: grams,
    } in &expectations
    {
        let slot = expected.entry(key_of(code, by)).or_default();
        *slot = add(*slot, *grams)?;
    }
    let each = months.each();
    // Per month index and key: the row being added up.
    let mut table: Vec<BTreeMap<String, TrendRow>> = vec![BTreeMap::new(); each.len()];
    let mut prices = BTreeMap::new();
    for s in &now_sums {
        let Some(i) = usize::try_from(s.bucket).ok().filter(|i| *i < each.len()) else {
            continue;
        };
        let last_day = each
            .get(i)
            .and_then(|m| m.end())
            .map(|d| d - Duration::days(1))
            .unwrap_or_default();
        let recycled = recycler.contains(&(s.enterprise_id.as_str(), s.waste_code.as_str()))
            || negative_price(conn, &mut prices, &s.contract_id, &s.waste_code, last_day)?;
        let key = key_of(&s.waste_code, by);
        let Some(month) = table.get_mut(i) else {
            continue;
        };
        let row = month.entry(key.clone()).or_insert_with(|| TrendRow {
            key,
            ..TrendRow::default()
        });
        row.grams = add(row.grams, s.grams)?;
        row.lots = add(row.lots, s.lots)?;
        if recycled {
            row.recycled_grams = add(row.recycled_grams, s.grams)?;
        } else {
            row.disposed_grams = add(row.disposed_grams, s.grams)?;
        }
    }
    for s in &ly_sums {
        let Some(month) = usize::try_from(s.bucket)
            .ok()
            .and_then(|i| table.get_mut(i))
        else {
            continue;
        };
        let key = key_of(&s.waste_code, by);
        let row = month.entry(key.clone()).or_insert_with(|| TrendRow {
            key,
            ..TrendRow::default()
        });
        row.last_year_grams = add(row.last_year_grams, s.grams)?;
    }
    for month in &mut table {
        for (key, grams) in &expected {
            let row = month.entry(key.clone()).or_insert_with(|| TrendRow {
                key: key.clone(),
                ..TrendRow::default()
            });
            row.expected_grams = *grams;
        }
    }
    let keys: Vec<String> = table
        .iter()
        .flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let names: BTreeMap<String, String> = store::names(conn, &keys)?.into_iter().collect();
    let mut out = Vec::with_capacity(each.len());
    let mut totals = TrendRow::default();
    for (i, (m, rows)) in each.iter().zip(table).enumerate() {
        let rows: Vec<TrendRow> = rows
            .into_values()
            .map(|mut r| {
                r.name = names.get(&r.key).cloned();
                r
            })
            .collect();
        let mut sum = TrendRow::default();
        for r in &rows {
            sum.grams = add(sum.grams, r.grams)?;
            sum.lots = add(sum.lots, r.lots)?;
            sum.last_year_grams = add(sum.last_year_grams, r.last_year_grams)?;
            sum.expected_grams = add(sum.expected_grams, r.expected_grams)?;
            sum.recycled_grams = add(sum.recycled_grams, r.recycled_grams)?;
            sum.disposed_grams = add(sum.disposed_grams, r.disposed_grams)?;
        }
        totals.grams = add(totals.grams, sum.grams)?;
        totals.last_year_grams = add(totals.last_year_grams, sum.last_year_grams)?;
        totals.expected_grams = add(totals.expected_grams, sum.expected_grams)?;
        totals.recycled_grams = add(totals.recycled_grams, sum.recycled_grams)?;
        totals.disposed_grams = add(totals.disposed_grams, sum.disposed_grams)?;
        let (Some(start), Some(end)) = (bounds.get(i), bounds.get(i + 1)) else {
            continue;
        };
        out.push(TrendMonth {
            month: m.as_string(),
            start: start.and_utc(),
            end: end.and_utc(),
            recycled_percent: (sum.grams > 0).then(|| {
                i64::try_from(i128::from(sum.recycled_grams) * 100 / i128::from(sum.grams))
                    .unwrap_or(0)
            }),
            change_percent: (sum.last_year_grams > 0).then(|| {
                i64::try_from(
                    (i128::from(sum.grams) - i128::from(sum.last_year_grams)) * 100
                        / i128::from(sum.last_year_grams),
                )
                .unwrap_or(0)
            }),
            grams: sum.grams,
            lots: sum.lots,
            last_year_grams: sum.last_year_grams,
            expected_grams: sum.expected_grams,
            recycled_grams: sum.recycled_grams,
            disposed_grams: sum.disposed_grams,
            rows,
        });
    }
    Ok(TrendFigures {
        park_id: park.organization_id.clone(),
        enterprise_id: enterprise_id.map(str::to_owned),
        time_zone: tz.name().to_owned(),
        from: months.from.as_string(),
        to: months.to.as_string(),
        by: by.to_owned(),
        months: out,
        grams: totals.grams,
        last_year_grams: totals.last_year_grams,
        expected_grams: totals.expected_grams,
        recycled_grams: totals.recycled_grams,
        disposed_grams: totals.disposed_grams,
    })
}

/// The rows of a trend's export: each month's codes or categories, then its total (合计).
pub struct TrendPages(Option<TrendFigures>);

impl TrendPages {
    pub fn new(figures: TrendFigures) -> Self {
        Self(Some(figures))
    }
}

fn cells(month: &str, key: &str, name: Option<&str>, r: &TrendRow) -> Vec<Cell> {
    vec![
        Cell::text(month),
        Cell::text(key),
        Cell::opt(name),
        Cell::Grams(r.grams),
        Cell::Count(r.lots),
        Cell::Grams(r.last_year_grams),
        Cell::Grams(r.expected_grams),
        Cell::Grams(r.recycled_grams),
        Cell::Grams(r.disposed_grams),
    ]
}

impl Pages for TrendPages {
    fn next_page(&mut self, _conn: &mut DbConn) -> Result<Option<Vec<Vec<Cell>>>, ApiError> {
        let Some(figures) = self.0.take() else {
            return Ok(None);
        };
        let mut rows = Vec::new();
        for m in &figures.months {
            for r in &m.rows {
                rows.push(cells(&m.month, &r.key, r.name.as_deref(), r));
            }
            let total = TrendRow {
                key: String::new(),
                name: None,
                grams: m.grams,
                lots: m.lots,
                last_year_grams: m.last_year_grams,
                expected_grams: m.expected_grams,
                recycled_grams: m.recycled_grams,
                disposed_grams: m.disposed_grams,
            };
            rows.push(cells(&m.month, "合计", None, &total));
        }
        Ok(Some(rows))
    }
}

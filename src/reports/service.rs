//! The report: each part read through its own feature's functions, in one read snapshot.
//!
//! - trends: [`crate::profiles::trends::trends`] of the park by waste code;
//! - patrols: the patrols held on the days of the period (the park's dates) and the findings
//!   recorded at them, with their status today: `closed` (rectified), `open` (not closed:
//!   waiting for the enterprise or for the office), `overdue` (not closed, deadline before
//!   today, counted among `open` too); the rectification rate is `closed` in percent of
//!   `findings`, rounded down, absent when no finding was recorded; per enterprise likewise
//!   (a warehouse's patrols under no enterprise);
//! - five haves: [`crate::profiles::haves::of_park`] today, how many enterprises meet each.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::figures::service::Months;
use crate::http::export::{Cell, Pages};
use crate::patrols::service as patrols;
use crate::patrols::store as patrol_store;
use crate::profiles::haves;
use crate::profiles::trends::{self, TrendFigures};
use crate::registry::parks::service as parks;
use crate::registry::parks::store::ParkRow;

/// The rule of the rectification rate, as stated in the report.
pub const RECTIFICATION_RULE: &str = "closed findings in percent of the findings recorded at the patrols of the period, rounded down; status as of today";
/// The same rule in Chinese, for the exports and the printed page.
pub const RECTIFICATION_RULE_ZH: &str =
    "整改率 = 已整改（已关闭）问题数 ÷ 本期巡查发现问题数 × 100%，向下取整；状态以报告生成日为准";

/// What became of the findings of some patrols.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FindingCounts {
    pub patrols: i64,
    pub findings: i64,
    /// Rectified: closed by the park office.
    pub closed: i64,
    /// Not closed.
    pub open: i64,
    /// Not closed and past their deadline today (counted among `open` too).
    pub overdue: i64,
    /// `closed` in percent of `findings`, rounded down; absent without findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rectification_percent: Option<i64>,
}

/// The patrols of one enterprise (none: of a warehouse).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnterprisePatrols {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    /// The enterprise's name; absent for a warehouse's patrols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: FindingCounts,
}

/// The patrols held in the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatrolPart {
    /// How the rectification rate is computed.
    pub rule: String,
    #[serde(flatten)]
    pub counts: FindingCounts,
    /// By enterprise, by name; a warehouse's patrols last.
    pub enterprises: Vec<EnterprisePatrols>,
}

/// How many enterprises meet one have.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HaveCount {
    /// `person_in_charge`, `storage_point`, `sorting`, `labels` or `contract`.
    pub have: String,
    pub met: i64,
}

/// The five haves of the park's enterprises today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HavesPart {
    /// The park's today, the day the haves are computed for.
    pub today: NaiveDate,
    /// Enterprises in the park today.
    pub enterprises: i64,
    /// Enterprises that meet all five.
    pub all_five: i64,
    pub haves: Vec<HaveCount>,
    /// Whether the park has more enterprises than were looked at.
    pub truncated: bool,
}

/// A park's report for the government.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "park_name": "Longgang Eco-Industrial Park",
    "time_zone": "Asia/Shanghai", "from": "2026-10", "to": "2026-11",
    "generated_at": "2026-11-28T02:00:00Z",
    "trends": {"park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "time_zone": "Asia/Shanghai", "from": "2026-11", "to": "2026-11", "by": "code",
        "months": [{"month": "2026-11", "start": "2026-10-31T16:00:00Z", "end": "2026-11-30T16:00:00Z",
            "grams": 250000, "lots": 2, "last_year_grams": 400000, "expected_grams": 300000,
            "recycled_grams": 0, "disposed_grams": 250000, "recycled_percent": 0, "change_percent": -37,
            "rows": [{"key": "900-249-08", "name": "废矿物油", "grams": 250000, "lots": 2, "last_year_grams": 400000,
                "expected_grams": 300000, "recycled_grams": 0, "disposed_grams": 250000}]}],
        "grams": 250000, "last_year_grams": 400000, "expected_grams": 300000, "recycled_grams": 0, "disposed_grams": 250000},
    "patrols": {"rule": RECTIFICATION_RULE, "patrols": 1, "findings": 2, "closed": 1, "open": 1, "overdue": 0, "rectification_percent": 50,
        "enterprises": [{"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "name": "Shenzhen Huaxin Precision Electronics Co., Ltd.",
            "patrols": 1, "findings": 2, "closed": 1, "open": 1, "overdue": 0, "rectification_percent": 50}]},
    "five_haves": {"today": "2026-11-28", "enterprises": 3, "all_five": 0, "truncated": false, "haves": [
        {"have": "person_in_charge", "met": 1}, {"have": "storage_point", "met": 1}, {"have": "sorting", "met": 1},
        {"have": "labels", "met": 0}, {"have": "contract", "met": 3}]}
}))]
pub struct ParkReport {
    pub park_id: String,
    pub park_name: String,
    pub time_zone: String,
    /// First month `YYYY-MM` (the park's time zone).
    pub from: String,
    /// Last month, inclusive.
    pub to: String,
    pub generated_at: DateTime<Utc>,
    /// The park's waste per month and code.
    pub trends: TrendFigures,
    pub patrols: PatrolPart,
    pub five_haves: HavesPart,
}

fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| i64::try_from(i128::from(part) * 100 / i128::from(whole)).unwrap_or(0))
}

fn patrol_part(
    conn: &mut DbConn,
    park: &ParkRow,
    months: Months,
    today: NaiveDate,
) -> Result<PatrolPart, ApiError> {
    let (Some(from), Some(until)) = (months.from.first_day(), months.to.end()) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "report: months out of range"
        )));
    };
    let held = patrol_store::patrols_held(conn, &park.organization_id, from, until)?;
    let findings = patrol_store::findings_held(conn, &park.organization_id, from, until)?;
    let mut by: BTreeMap<Option<String>, FindingCounts> = BTreeMap::new();
    let mut total = FindingCounts::default();
    for p in &held {
        by.entry(p.enterprise_id.clone()).or_default().patrols += 1;
        total.patrols += 1;
    }
    for f in &findings {
        let counts = by.entry(f.enterprise_id.clone()).or_default();
        for c in [&mut *counts, &mut total] {
            c.findings += 1;
            if f.status == crate::domain::patrol::ThreadStatus::Closed {
                c.closed += 1;
            } else {
                c.open += 1;
            }
            if patrols::overdue(f, today) {
                c.overdue += 1;
            }
        }
    }
    let mut enterprises = Vec::new();
    let mut warehouses = Vec::new();
    for (id, mut counts) in by {
        counts.rectification_percent = percent(counts.closed, counts.findings);
        match id {
            Some(id) => {
                let name = parks::load_enterprise(conn, &id)?.name;
                enterprises.push(EnterprisePatrols {
                    enterprise_id: Some(id),
                    name: Some(name),
                    counts,
                });
            }
            None => warehouses.push(EnterprisePatrols {
                enterprise_id: None,
                name: None,
                counts,
            }),
        }
    }
    enterprises.sort_by(|a, b| a.name.cmp(&b.name));
    enterprises.extend(warehouses);
    total.rectification_percent = percent(total.closed, total.findings);
    Ok(PatrolPart {
        rule: RECTIFICATION_RULE.to_owned(),
        counts: total,
        enterprises,
    })
}

fn haves_part(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    park: &ParkRow,
) -> Result<HavesPart, ApiError> {
    let list = haves::of_park(conn, now, park, "name", None)?;
    let counts = haves::HAVES
        .iter()
        .map(|have| HaveCount {
            have: (*have).to_owned(),
            met: list
                .enterprises
                .iter()
                .filter(|e| e.haves.iter().any(|h| h.have == *have && h.met))
                .count()
                .try_into()
                .unwrap_or(i64::MAX),
        })
        .collect();
    let all_five = list
        .enterprises
        .iter()
        .filter(|e| usize::try_from(e.met).is_ok_and(|m| m == haves::HAVES.len()))
        .count();
    Ok(HavesPart {
        today: list.today,
        enterprises: list.enterprises.len().try_into().unwrap_or(i64::MAX),
        all_five: all_five.try_into().unwrap_or(i64::MAX),
        haves: counts,
        truncated: list.truncated,
    })
}

/// The report of a park whose figures the principal reads, for the months `from` to `to`
/// (checked against the park's today).
pub fn read(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ParkReport, ApiError> {
    let park = crate::figures::service::load_park(conn, principal, park_id)?;
    let name = parks::load_park(conn, &park.organization_id)?.name;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park));
    let months = crate::figures::service::months(from, to, today)?;
    report(conn, now, &park, &name, months)
}

/// The report of a park (loaded and authorised by the caller) over `months`, as of `now`.
pub fn report(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    park: &ParkRow,
    park_name: &str,
    months: Months,
) -> Result<ParkReport, ApiError> {
    let tz = parks::park_time_zone(park);
    let today = crate::domain::time::local_date(now, tz);
    let trends = trends::trends(conn, park, None, months, "code")?;
    let patrols = patrol_part(conn, park, months, today)?;
    let five_haves = haves_part(conn, now, park)?;
    Ok(ParkReport {
        park_id: park.organization_id.clone(),
        park_name: park_name.to_owned(),
        time_zone: tz.name().to_owned(),
        from: months.from.as_string(),
        to: months.to.as_string(),
        generated_at: now,
        trends,
        patrols,
        five_haves,
    })
}

/// The five haves in Chinese.
pub fn have_zh(have: &str) -> &'static str {
    match have {
        "person_in_charge" => "有负责人",
        "storage_point" => "有贮存点",
        "sorting" => "有分类",
        "labels" => "有标识",
        "contract" => "有处置合同",
        _ => "",
    }
}

/// The export's only header line; the sections follow one after another, each with its own
/// title line and header line.
pub const EXPORT_HEADERS: &[&str] = &["园区固体废物管理报告"];

fn texts(cells: &[&str]) -> Vec<Cell> {
    cells.iter().map(|c| Cell::text(*c)).collect()
}

fn counts_cells(label: &str, name: Option<&str>, c: &FindingCounts) -> Vec<Cell> {
    vec![
        Cell::text(label),
        Cell::opt(name),
        Cell::Count(c.patrols),
        Cell::Count(c.findings),
        Cell::Count(c.closed),
        Cell::Count(c.open),
        Cell::Count(c.overdue),
        Cell::opt(c.rectification_percent.map(|p| p.to_string())),
    ]
}

/// The rows of the report's export: the park and period, then the trends, the patrols and the
/// five haves, each section after its title line.
pub struct ReportPages(Option<ParkReport>);

impl ReportPages {
    pub fn new(report: ParkReport) -> Self {
        Self(Some(report))
    }
}

impl Pages for ReportPages {
    fn next_page(&mut self, conn: &mut DbConn) -> Result<Option<Vec<Vec<Cell>>>, ApiError> {
        let Some(r) = self.0.take() else {
            return Ok(None);
        };
        let mut rows = vec![
            vec![Cell::text("园区"), Cell::text(&r.park_name)],
            vec![
                Cell::text("统计期间"),
                Cell::text(format!("{} 至 {}", r.from, r.to)),
            ],
            vec![Cell::text("时区"), Cell::text(&r.time_zone)],
            texts(&["一、废物产生量与趋势（按月、按废物代码）"]),
            texts(trends::EXPORT_HEADERS),
        ];
        if let Some(trend_rows) = trends::TrendPages::new(r.trends.clone()).next_page(conn)? {
            rows.extend(trend_rows);
        }
        rows.push(vec![
            Cell::text("合计"),
            Cell::Empty,
            Cell::Empty,
            Cell::Grams(r.trends.grams),
            Cell::Empty,
            Cell::Grams(r.trends.last_year_grams),
            Cell::Grams(r.trends.expected_grams),
            Cell::Grams(r.trends.recycled_grams),
            Cell::Grams(r.trends.disposed_grams),
        ]);
        rows.push(texts(&["二、巡查与整改"]));
        rows.push(texts(&[
            "范围",
            "企业",
            "巡查次数",
            "发现问题数",
            "已整改（已关闭）",
            "未关闭",
            "逾期未整改",
            "整改率（%）",
        ]));
        rows.push(counts_cells("全园区", None, &r.patrols.counts));
        for e in &r.patrols.enterprises {
            let label = if e.enterprise_id.is_some() {
                "企业"
            } else {
                "仓库"
            };
            rows.push(counts_cells(label, e.name.as_deref(), &e.counts));
        }
        rows.push(texts(&["说明", RECTIFICATION_RULE_ZH]));
        rows.push(vec![
            Cell::text("三、企业“五个有”情况"),
            Cell::text(format!("统计日 {}", r.five_haves.today)),
        ]);
        rows.push(texts(&["项目", "达标企业数", "企业总数"]));
        for h in &r.five_haves.haves {
            rows.push(vec![
                Cell::text(have_zh(&h.have)),
                Cell::Count(h.met),
                Cell::Count(r.five_haves.enterprises),
            ]);
        }
        rows.push(vec![
            Cell::text("五项全部达标"),
            Cell::Count(r.five_haves.all_five),
            Cell::Count(r.five_haves.enterprises),
        ]);
        Ok(Some(rows))
    }
}

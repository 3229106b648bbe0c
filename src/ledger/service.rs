//! Use cases of the ledgers: whose ledger and whether the principal may read it, the period in
//! the park's time zone, the summary per code with checked totals, the lines, the exports.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::db::DbConn;
use crate::domain::billing::Period;
use crate::domain::ids::LotId;
use crate::domain::units::{OutOfRange, add, subtract, total};
use crate::error::{ApiError, FieldError};
use crate::http::Page;
use crate::http::export::{Cell, PAGE_ROWS, Pages};
use crate::http::query::start_of_day;
pub use crate::ledger::store::Holder;
use crate::ledger::store::{self, MovementRow, SumsRow};
use crate::registry::names::Names;
use crate::registry::parks::{service as parks, store::ParkRow};
use crate::registry::warehouses::service as warehouses;

/// The longest range of days one ledger covers.
pub const MAX_DAYS: i64 = 366;

/// A ledger's subject: whose, of which park (its time zone and first day), which kind of waste.
#[derive(Debug, Clone)]
pub struct Subject {
    pub holder: Holder,
    pub park: ParkRow,
    pub kind: String,
}

/// What a ledger request asks for, as given: its kind and its period (a month, or days).
pub struct Asked {
    pub kind: Option<String>,
    pub month: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn kind_of(raw: Option<&str>) -> Result<String, ApiError> {
    match raw.map(str::trim) {
        Some(k @ ("hazardous" | "general")) => Ok(k.to_owned()),
        Some(_) => Err(ApiError::field(
            "kind",
            "invalid",
            "must be one of: hazardous, general",
        )),
        None => Err(ApiError::field(
            "kind",
            "required",
            "hazardous and general waste have their own ledgers: give kind=hazardous or kind=general",
        )),
    }
}

/// Loads and authorises the subject, then checks the kind and the period.
pub fn subject(
    conn: &mut DbConn,
    principal: &Principal,
    holder: Holder,
    asked: &Asked,
) -> Result<(Subject, Span), ApiError> {
    let kind = kind_of(asked.kind.as_deref());
    let s = load_subject(conn, principal, holder, String::new())?;
    let kind = kind?;
    let span = span(
        &s.park,
        asked.month.as_deref(),
        asked.from.as_deref(),
        asked.to.as_deref(),
    )?;
    Ok((Subject { kind, ..s }, span))
}

/// The ledger's summary of a subject the principal may read.
pub fn summary(
    conn: &mut DbConn,
    principal: &Principal,
    holder: Holder,
    asked: &Asked,
) -> Result<LedgerView, ApiError> {
    let (s, span) = subject(conn, principal, holder, asked)?;
    ledger(conn, &s, &span)
}

/// A page of the ledger's movements of a subject the principal may read, after the cursor.
pub fn lines(
    conn: &mut DbConn,
    principal: &Principal,
    holder: Holder,
    asked: &Asked,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Page<MovementView>, ApiError> {
    let (s, span) = subject(conn, principal, holder, asked)?;
    lines_of(conn, &s, &span, after, limit)
}

/// A page of the movements of a subject already loaded and checked ([`subject`]).
pub fn lines_of(
    conn: &mut DbConn,
    s: &Subject,
    span: &Span,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Page<MovementView>, ApiError> {
    let tz = parks::park_time_zone(&s.park);
    let rows: Vec<(String, MovementView)> = store::lines(
        conn,
        &s.holder,
        &s.kind,
        span.start,
        span.end,
        after,
        limit + 1,
    )?
    .into_iter()
    .map(|r| (cursor_key(&r), movement_view(r, tz)))
    .collect();
    Ok(Page::from_rows(rows, limit, |(k, _)| k.as_str()).map(|(_, r)| r))
}

/// Loads the holder (404 when there is none or the principal may not read its ledger).
pub fn load_subject(
    conn: &mut DbConn,
    principal: &Principal,
    holder: Holder,
    kind: String,
) -> Result<Subject, ApiError> {
    let park = match &holder {
        Holder::Park(id) => parks::load_park(conn, id)?,
        Holder::Warehouse(id) => {
            let w = warehouses::load_warehouse(conn, id)?;
            parks::load_park(conn, &w.warehouse.park_id)?
        }
        Holder::Enterprise(id) => {
            let e = parks::load_enterprise(conn, id)?;
            parks::load_park(conn, &e.enterprise.park_id)?
        }
    };
    let enterprise_id = match &holder {
        Holder::Enterprise(id) => Some(id.as_str()),
        _ => None,
    };
    authorize(
        principal,
        Action::ReadLedger {
            enterprise_id,
            place: parks::place(&park),
        },
    )?;
    Ok(Subject {
        holder,
        park: park.park,
        kind,
    })
}

/// A ledger's period: local days of the park, `from` to `to` inclusive, and the instants they
/// span (`start` inclusive, `end` exclusive).
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
}

/// The period asked for: `month` (YYYY-MM), or `from` and `to` (YYYY-MM-DD, inclusive, at most
/// [`MAX_DAYS`] days), in the park's time zone. A period that ended before the park's first day
/// is refused, as for statements.
pub fn span(
    park: &ParkRow,
    month: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Span, ApiError> {
    let day = |field: &str, raw: &str| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map_err(|_| FieldError::new(field, "invalid", "must be a day YYYY-MM-DD"))
    };
    let (from, to, field) = match (month, from, to) {
        (Some(m), None, None) => {
            let period = Period::parse(m)
                .ok_or_else(|| ApiError::field("month", "invalid", "must be a month YYYY-MM"))?;
            let (Some(first), Some(next)) = (period.first_day(), period.end()) else {
                return Err(ApiError::field(
                    "month",
                    "invalid",
                    "must be a month YYYY-MM",
                ));
            };
            (first, next - Duration::days(1), "month")
        }
        (None, Some(f), Some(t)) => {
            let mut errors = Vec::new();
            let f = day("from", f).map_err(|e| errors.push(e)).ok();
            let t = day("to", t).map_err(|e| errors.push(e)).ok();
            let (Some(f), Some(t)) = (f, t) else {
                return Err(ApiError::Validation(errors));
            };
            if t < f {
                return Err(ApiError::field(
                    "to",
                    "before_from",
                    "must not be before from",
                ));
            }
            if (t - f).num_days() >= MAX_DAYS {
                return Err(ApiError::field(
                    "to",
                    "range_too_long",
                    format!("a ledger covers at most {MAX_DAYS} days: ask for several"),
                ));
            }
            (f, t, "from")
        }
        (Some(_), _, _) => {
            return Err(ApiError::field(
                "month",
                "exclusive",
                "give either month or from and to, not both",
            ));
        }
        (None, None, None) => {
            return Err(ApiError::field(
                "month",
                "required",
                "give month (YYYY-MM) or from and to (YYYY-MM-DD)",
            ));
        }
        (None, None, Some(_)) => {
            return Err(ApiError::field("from", "required", "give from with to"));
        }
        (None, Some(_), None) => {
            return Err(ApiError::field("to", "required", "give to with from"));
        }
    };
    let first_day = parks::park_first_day(park);
    if to < first_day {
        return Err(ApiError::field(
            field,
            "before_park",
            format!("the period ends before the park's first day, {first_day}: it has no ledger"),
        ));
    }
    let tz = parks::park_time_zone(park);
    let next = to
        .succ_opt()
        .ok_or_else(|| ApiError::field("to", "invalid", "out of range"))?;
    Ok(Span {
        from,
        to,
        start: start_of_day(from, tz),
        end: start_of_day(next, tz),
    })
}

/// One code and category of a ledger: grams (and lots) at the opening, in, out, corrected,
/// voided and at the closing. `out_grams` and `voids_grams` are what left (positive);
/// `corrections_grams` is signed.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct LedgerLine {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub waste_code: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub category: String,
    pub opening_grams: i64,
    pub opening_lots: i64,
    pub in_grams: i64,
    pub in_lots: i64,
    pub out_grams: i64,
    pub out_lots: i64,
    pub corrections_grams: i64,
    pub voids_grams: i64,
    pub voids_lots: i64,
    pub closing_grams: i64,
    pub closing_lots: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "holder": "warehouse", "holder_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "kind": "hazardous",
    "from": "2026-11-01", "to": "2026-11-30", "time_zone": "Asia/Shanghai",
    "start": "2026-10-31T16:00:00Z", "end": "2026-11-30T16:00:00Z",
    "lines": [{"waste_code": "900-249-08", "category": "HW08", "opening_grams": 1200000, "opening_lots": 2,
        "in_grams": 900000, "in_lots": 1, "out_grams": 2100000, "out_lots": 3, "corrections_grams": 0,
        "voids_grams": 0, "voids_lots": 0, "closing_grams": 0, "closing_lots": 0}],
    "totals": {"opening_grams": 1200000, "opening_lots": 2, "in_grams": 900000, "in_lots": 1,
        "out_grams": 2100000, "out_lots": 3, "corrections_grams": 0, "voids_grams": 0, "voids_lots": 0,
        "closing_grams": 0, "closing_lots": 0}
}))]
pub struct LedgerView {
    /// `park`, `warehouse` or `enterprise`.
    pub holder: String,
    pub holder_id: String,
    pub park_id: String,
    /// `hazardous` or `general`.
    pub kind: String,
    /// First day (in the park's time zone).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    pub time_zone: String,
    /// The instant the first day starts.
    pub start: DateTime<Utc>,
    /// The instant after the last day ends (the closing stock is the stock then).
    pub end: DateTime<Utc>,
    /// Per waste code and category.
    pub lines: Vec<LedgerLine>,
    pub totals: LedgerLine,
}

fn line_of(s: SumsRow) -> Result<LedgerLine, OutOfRange> {
    let closing_grams = subtract(
        subtract(
            add(add(s.opening_grams, s.in_grams)?, s.corrections_grams)?,
            s.out_grams,
        )?,
        s.voids_grams,
    )?;
    let closing_lots = subtract(
        subtract(add(s.opening_lots, s.in_lots)?, s.out_lots)?,
        s.voids_lots,
    )?;
    Ok(LedgerLine {
        waste_code: s.waste_code,
        category: s.category,
        opening_grams: s.opening_grams,
        opening_lots: s.opening_lots,
        in_grams: s.in_grams,
        in_lots: s.in_lots,
        out_grams: s.out_grams,
        out_lots: s.out_lots,
        corrections_grams: s.corrections_grams,
        voids_grams: s.voids_grams,
        voids_lots: s.voids_lots,
        closing_grams,
        closing_lots,
    })
}

fn totals(lines: &[LedgerLine]) -> Result<LedgerLine, OutOfRange> {
    let t = |f: fn(&LedgerLine) -> i64| total(lines.iter().map(f));
    Ok(LedgerLine {
        waste_code: String::new(),
        category: String::new(),
        opening_grams: t(|l| l.opening_grams)?,
        opening_lots: t(|l| l.opening_lots)?,
        in_grams: t(|l| l.in_grams)?,
        in_lots: t(|l| l.in_lots)?,
        out_grams: t(|l| l.out_grams)?,
        out_lots: t(|l| l.out_lots)?,
        corrections_grams: t(|l| l.corrections_grams)?,
        voids_grams: t(|l| l.voids_grams)?,
        voids_lots: t(|l| l.voids_lots)?,
        closing_grams: t(|l| l.closing_grams)?,
        closing_lots: t(|l| l.closing_lots)?,
    })
}

fn out_of_range(e: OutOfRange) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("ledger: {e}"))
}

/// The ledger of a subject over a span: per code and category, and the totals.
pub fn ledger(conn: &mut DbConn, s: &Subject, span: &Span) -> Result<LedgerView, ApiError> {
    let sums = store::sums(conn, &s.holder, &s.kind, span.start, span.end)?;
    let lines = sums
        .into_iter()
        .map(line_of)
        .collect::<Result<Vec<_>, _>>()
        .map_err(out_of_range)?;
    let totals = totals(&lines).map_err(out_of_range)?;
    Ok(LedgerView {
        holder: match s.holder {
            Holder::Park(_) => "park",
            Holder::Warehouse(_) => "warehouse",
            Holder::Enterprise(_) => "enterprise",
        }
        .to_owned(),
        holder_id: s.holder.id().to_owned(),
        park_id: s.park.organization_id.clone(),
        kind: s.kind.clone(),
        from: span.from,
        to: span.to,
        time_zone: parks::park_time_zone(&s.park).name().to_owned(),
        start: span.start.and_utc(),
        end: span.end.and_utc(),
        lines,
        totals,
    })
}

/// One movement of a ledger, traceable to its lot.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "mov_0193f1c2a4b87d21a1c6e1f0b2d3c700", "movement": "out",
    "at": "2026-11-30T08:00:00Z", "business_date": "2026-11-30", "recorded_at": "2026-11-30T08:01:10Z",
    "lot_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "waste_code": "900-249-08", "category": "HW08",
    "kind": "hazardous", "grams": -320000, "lots": -1,
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "warehouse_id": "wh_0193f1c2a4b87d21a1c6e1f0b2d3c4f0",
    "zone_id": "zone_0193f1c2a4b87d21a1c6e1f0b2d3c4f1", "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2", "document_number": "WT-20264403-000001",
    "receiver_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e9", "receiver_name": "Dongjiang",
    "by_user": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4ed"
}))]
pub struct MovementView {
    pub id: String,
    /// `in`, `correction`, `void` or `out`.
    pub movement: String,
    /// The business time: the weighing's capture, the correction, the void, the collection.
    pub at: DateTime<Utc>,
    /// Its date in the park's time zone.
    pub business_date: NaiveDate,
    /// When the server recorded it.
    pub recorded_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub waste_code: String,
    pub category: String,
    pub kind: String,
    /// Signed: what the stock gained or lost.
    pub grams: i64,
    /// +1 in, −1 out or void, 0 for a correction.
    pub lots: i32,
    pub park_id: String,
    pub warehouse_id: String,
    pub zone_id: String,
    pub enterprise_id: String,
    pub contract_id: String,
    /// The manifest or transfer record number (out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_name: Option<String>,
    pub by_user: String,
}

pub fn movement_view(row: MovementRow, tz: chrono_tz::Tz) -> MovementView {
    MovementView {
        business_date: crate::domain::time::local_date(row.at.and_utc(), tz),
        at: row.at.and_utc(),
        recorded_at: row.recorded_at.and_utc(),
        id: row.id,
        movement: row.movement,
        lot_id: row.lot_id,
        waste_code: row.waste_code,
        category: row.category,
        kind: row.kind,
        grams: row.grams,
        lots: row.lots,
        park_id: row.park_id,
        warehouse_id: row.warehouse_id,
        zone_id: row.zone_id,
        enterprise_id: row.enterprise_id,
        contract_id: row.contract_id,
        document_number: row.document_number,
        receiver_id: row.receiver_id,
        receiver_name: row.receiver_name,
        by_user: row.by_user,
    }
}

/// The cursor of a line: its business time (microseconds) and id.
pub fn cursor_key(row: &MovementRow) -> String {
    format!("{}|{}", row.at.and_utc().timestamp_micros(), row.id)
}

/// The position a cursor names, or a field error.
pub fn parse_cursor(raw: &str) -> Result<(NaiveDateTime, String), FieldError> {
    let invalid = || FieldError::new("cursor", "invalid", "is not a cursor returned by this list");
    let (micros, id) = raw.split_once('|').ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    Ok((at.naive_utc(), id.to_owned()))
}

/// The headers of a ledger export (Chinese, with units).
pub const EXPORT_HEADERS: [&str; 14] = [
    "记录类型",
    "业务日期",
    "业务时间",
    "废物代码",
    "废物类别",
    "项目",
    "重量（千克，保留3位小数）",
    "批次数",
    "批次编号",
    "产废单位",
    "仓库",
    "联单/转移记录编号",
    "接收单位",
    "经办人",
];

fn movement_name(m: &str) -> &'static str {
    match m {
        "in" => "入库",
        "out" => "出库",
        "correction" => "更正",
        "void" => "作废",
        _ => "其他",
    }
}

fn summary_rows(view: &LedgerView) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    let period = format!("{} 至 {}", view.from, view.to);
    let mut push = |label: &str, l: &LedgerLine| {
        let items: [(&str, i64, i64); 6] = [
            ("期初库存", l.opening_grams, l.opening_lots),
            ("入库", l.in_grams, l.in_lots),
            ("出库", l.out_grams, l.out_lots),
            ("更正", l.corrections_grams, 0),
            ("作废", l.voids_grams, l.voids_lots),
            ("期末库存", l.closing_grams, l.closing_lots),
        ];
        for (item, grams, lots) in items {
            rows.push(vec![
                Cell::text(label),
                Cell::text(period.clone()),
                Cell::Empty,
                Cell::text(l.waste_code.clone()),
                Cell::text(l.category.clone()),
                Cell::text(item),
                Cell::Grams(grams),
                Cell::Count(lots),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ]);
        }
    };
    for l in &view.lines {
        push("汇总", l);
    }
    push("合计", &view.totals);
    rows
}

fn line_row(row: MovementRow, tz: chrono_tz::Tz, names: &Names) -> Vec<Cell> {
    let at = row.at.and_utc().with_timezone(&tz);
    vec![
        Cell::text("明细"),
        Cell::text(at.date_naive().to_string()),
        Cell::text(at.format("%Y-%m-%d %H:%M:%S").to_string()),
        Cell::text(row.waste_code),
        Cell::text(row.category),
        Cell::text(movement_name(&row.movement)),
        Cell::Grams(row.grams),
        Cell::Count(i64::from(row.lots)),
        Cell::text(row.lot_id),
        Cell::text(names.of(&row.enterprise_id)),
        Cell::text(names.of(&row.warehouse_id)),
        Cell::opt(row.document_number),
        Cell::opt(row.receiver_name),
        Cell::text(names.of(&row.by_user)),
    ]
}

/// The rows of a ledger export: the summary per code and the totals, then every movement in
/// business-time order, a page at a time.
/// The summary is read with the first page, so that an export read in one snapshot (see
/// [`crate::http::export`]) adds up to exactly the lines it lists.
pub struct LedgerPages {
    subject: Subject,
    span: Span,
    summarised: bool,
    after: Option<(NaiveDateTime, String)>,
    done: bool,
    names: Names,
}

impl LedgerPages {
    pub fn new(subject: Subject, span: Span) -> Self {
        Self {
            subject,
            span,
            summarised: false,
            after: None,
            done: false,
            names: Names::default(),
        }
    }
}

impl Pages for LedgerPages {
    fn next_page(&mut self, conn: &mut DbConn) -> Result<Option<Vec<Vec<Cell>>>, ApiError> {
        if !self.summarised {
            self.summarised = true;
            let view = ledger(conn, &self.subject, &self.span)?;
            return Ok(Some(summary_rows(&view)));
        }
        if self.done {
            return Ok(None);
        }
        let rows = store::lines(
            conn,
            &self.subject.holder,
            &self.subject.kind,
            self.span.start,
            self.span.end,
            self.after.take(),
            PAGE_ROWS,
        )?;
        if rows.len() < usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX) {
            self.done = true;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        self.after = rows.last().map(|r| (r.at, r.id.clone()));
        let tz = parks::park_time_zone(&self.subject.park);
        self.names.learn(
            conn,
            rows.iter().flat_map(|r| {
                [
                    r.enterprise_id.as_str(),
                    r.warehouse_id.as_str(),
                    r.by_user.as_str(),
                ]
            }),
        )?;
        let names = &self.names;
        Ok(Some(
            rows.into_iter().map(|r| line_row(r, tz, names)).collect(),
        ))
    }
}

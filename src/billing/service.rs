//! Billing by actual weight, without minimum charge: statements per enterprise and month,
//! notes after issue, payments collected by the park office, balances and their ageing, and
//! the remittance to each disposal company.
//!
//! **Billable weight**, decided in [`billable`] only: the warehouse's inbound net weight for a
//! lot handed in there (route a), billable on the day it was weighed in; the driver's weighing
//! at the door for a lot collected there (route b), billable on the day of collection. A
//! declaration not yet collected is not billable; a voided lot is not billable. A lot partially
//! refused by the receiver stays billed at its billable weight: the enterprise pays for what it
//! handed over, and the refused part is a case the park office resolves (with a note on the
//! statement when the resolution warrants one, `POST /statements/{id}/notes`).
//!
//! **Price**: the contract's price in force on the billable day for the lot's code (or its
//! category); negative prices (recyclables the disposer buys) make credits.
//!
//! **Nothing is billed twice**: a lot is on one statement line at most (a unique key), and a
//! statement takes every billable lot of the enterprise up to the end of its period that no
//! statement holds yet (so a lot weighed late into an already issued month goes on the next
//! statement). An issued statement never changes: a void, a correction or a price change after
//! issue becomes a note that references it, for the difference between what the lot should now
//! cost and what was billed for it so far.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Place, authorize};
use crate::billing::store::{self, BilledLot, LineRow, NoteRow, PaymentRow, StatementRow};
use crate::db::DbConn;
use crate::domain::billing::{AGEING_BUCKETS, Period, ageing_bucket, line_amount, settling_note};
use crate::domain::contract::{DatedRule, rule_on};
use crate::domain::ids::{LotId, new_id};
use crate::domain::lot::LotStatus;
use crate::domain::manifest::allocate;
use crate::domain::units::{OutOfRange, add, subtract, total};
use crate::domain::waste::{CatalogRef, WasteCode};
use crate::error::{ApiError, NOT_VISIBLE};
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::registry::contracts::store as contracts;
use crate::registry::parks::{service as parks, store as park_store};

/// The billable weight of a lot and the day it is billable on, in the park's time zone; `None`
/// when the lot is not billable (see the module).
pub fn billable(lot: &BilledLot, tz: chrono_tz::Tz) -> Option<(i64, NaiveDate)> {
    let day = |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&tz).date_naive();
    match (lot.route.as_str(), lot.status) {
        ("warehouse", LotStatus::Stored | LotStatus::Collected) => {
            Some((lot.net_grams, day(lot.captured_at)))
        }
        // A door lot's weighing is the driver's, captured at collection.
        ("door", LotStatus::Collected) => Some((lot.net_grams, day(lot.captured_at))),
        _ => None,
    }
}

/// The price in fen per tonne in force for a code on a day under a contract, if any.
fn price_on(
    conn: &mut DbConn,
    contract_id: &str,
    code: &str,
    day: NaiveDate,
) -> Result<Option<i64>, ApiError> {
    let rules: Vec<DatedRule<i64>> = contracts::prices_of(conn, contract_id)?
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
    let code = WasteCode::parse("", code)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored code: {}", e.message)))?;
    Ok(rule_on(&rules, &code, day).map(|r| r.value))
}

fn enterprise_place(e: &park_store::Enterprise) -> Place<'_> {
    Place {
        park_id: &e.enterprise.park_id,
        region_code: &e.region_code,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    #[schema(value_type = String)]
    pub lot_id: LotId,
    pub contract_id: String,
    pub disposer_id: String,
    pub waste_code: String,
    pub billable_on: NaiveDate,
    pub grams: i64,
    pub fen_per_tonne: i64,
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeTotal {
    pub waste_code: String,
    pub grams: i64,
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub statement_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub lot_id: Option<LotId>,
    pub disposer_id: String,
    /// The month it was raised in.
    pub period: String,
    /// Negative: a credit note; positive: a debit note.
    pub amount_fen: i64,
    pub reason: String,
    pub created_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "stm_0193f1c2a4b87d21a1c6e1f0b2d3ca00",
    "number": "202610-91440300MA5F000181",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "period": "2026-10",
    "issued_at": "2026-11-02T02:00:00Z",
    "due_on": "2026-11-30",
    "total_fen": 89600,
    "lines": [{"lot_id": "lot_0193f1c2a4b87d21a1c6e1f0b2d3c500", "contract_id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
        "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea", "waste_code": "900-249-08", "billable_on": "2026-10-28",
        "grams": 320000, "fen_per_tonne": 280000, "amount_fen": 89600}],
    "totals_by_code": [{"waste_code": "900-249-08", "grams": 320000, "amount_fen": 89600}],
    "notes": [],
    "notes_fen": 0,
    "amount_due_fen": 89600
}))]
pub struct StatementView {
    pub id: String,
    pub number: String,
    pub park_id: String,
    pub enterprise_id: String,
    pub period: String,
    pub issued_at: chrono::DateTime<Utc>,
    pub due_on: NaiveDate,
    /// The sum of the lines, as issued (never changes).
    pub total_fen: i64,
    pub lines: Vec<LineView>,
    pub totals_by_code: Vec<CodeTotal>,
    /// Credit and debit notes raised on it since.
    pub notes: Vec<NoteView>,
    pub notes_fen: i64,
    /// Total plus notes.
    pub amount_due_fen: i64,
}

/// A statement as a list shows it: everything but its lines, which only the statement itself
/// (`GET /statements/{id}`) and its exports carry — a month of a busy enterprise holds
/// thousands.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "stm_0193f1c2a4b87d21a1c6e1f0b2d3ca00",
    "number": "202610-91440300MA5F000181",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "period": "2026-10",
    "issued_at": "2026-11-02T02:00:00Z",
    "due_on": "2026-11-30",
    "total_fen": 89600,
    "line_count": 1,
    "totals_by_code": [{"waste_code": "900-249-08", "grams": 320000, "amount_fen": 89600}],
    "notes": [],
    "notes_fen": 0,
    "amount_due_fen": 89600
}))]
pub struct StatementSummary {
    pub id: String,
    pub number: String,
    pub park_id: String,
    pub enterprise_id: String,
    pub period: String,
    pub issued_at: chrono::DateTime<Utc>,
    pub due_on: NaiveDate,
    /// The sum of the lines, as issued (never changes).
    pub total_fen: i64,
    /// How many lines (lots) it bills.
    pub line_count: i64,
    pub totals_by_code: Vec<CodeTotal>,
    /// Credit and debit notes raised on it since.
    pub notes: Vec<NoteView>,
    pub notes_fen: i64,
    /// Total plus notes.
    pub amount_due_fen: i64,
}

fn note_view(n: NoteRow) -> NoteView {
    NoteView {
        id: n.id,
        statement_id: n.statement_id,
        lot_id: n.lot_id,
        disposer_id: n.disposer_id,
        period: n.period,
        amount_fen: n.amount_fen,
        reason: n.reason,
        created_at: n.created_at.and_utc(),
    }
}

/// A page of statements, of a park or an enterprise (the scope the policy gave), perhaps of one
/// month.
pub fn statements(
    conn: &mut DbConn,
    park_id: Option<&str>,
    enterprise_id: Option<&str>,
    period: Option<Period>,
    page: &PageRequest,
) -> Result<Page<StatementSummary>, ApiError> {
    let rows = store::list_statements(
        conn,
        park_id,
        enterprise_id,
        period.map(Period::as_string).as_deref(),
        page,
    )?;
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    let items = statement_summaries(conn, page.items)?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A statement the principal may read, with its lines and notes.
pub fn read_statement(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<StatementView, ApiError> {
    let row = load_readable(conn, principal, id)?;
    statement_view(conn, row)
}

pub fn statement_view(conn: &mut DbConn, row: StatementRow) -> Result<StatementView, ApiError> {
    let lines = store::lines_of(conn, &row.id)?;
    let notes = store::notes_of(conn, &row.id)?;
    view_with(row, lines, notes)
}

/// The summaries of a page of statements: their totals per code (kept since their issue) and
/// their notes read in two queries whatever the page holds, and nothing that grows with the
/// lots a statement bills.
pub fn statement_summaries(
    conn: &mut DbConn,
    rows: Vec<StatementRow>,
) -> Result<Vec<StatementSummary>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut totals: std::collections::HashMap<String, (i64, Vec<CodeTotal>)> =
        std::collections::HashMap::new();
    for t in store::code_totals_of_all(conn, &ids)? {
        let entry = totals.entry(t.statement_id).or_default();
        entry.0 = add(entry.0, t.lines)?;
        entry.1.push(CodeTotal {
            waste_code: t.waste_code,
            grams: t.grams,
            amount_fen: t.amount_fen,
        });
    }
    let mut notes: std::collections::HashMap<String, Vec<NoteRow>> =
        std::collections::HashMap::new();
    for note in store::notes_of_all(conn, &ids)? {
        notes
            .entry(note.statement_id.clone())
            .or_default()
            .push(note);
    }
    rows.into_iter()
        .map(|row| {
            let (line_count, totals_by_code) = totals.remove(&row.id).unwrap_or_default();
            let notes: Vec<NoteView> = notes
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(note_view)
                .collect();
            let notes_fen = total(notes.iter().map(|n| n.amount_fen))?;
            Ok(StatementSummary {
                amount_due_fen: add(row.total_fen, notes_fen)?,
                id: row.id,
                number: row.number,
                park_id: row.park_id,
                enterprise_id: row.enterprise_id,
                period: row.period,
                issued_at: row.issued_at.and_utc(),
                due_on: row.due_on,
                total_fen: row.total_fen,
                line_count,
                totals_by_code,
                notes,
                notes_fen,
            })
        })
        .collect()
}

/// The totals of lines per code, in code order, each with its number of lines.
fn code_totals(lines: &[LineRow]) -> Result<Vec<(CodeTotal, i64)>, ApiError> {
    let mut totals: Vec<(CodeTotal, i64)> = Vec::new();
    for l in lines {
        match totals
            .iter_mut()
            .find(|(t, _)| t.waste_code == l.waste_code)
        {
            Some((t, count)) => {
                t.grams = add(t.grams, l.grams)?;
                t.amount_fen = add(t.amount_fen, l.amount_fen)?;
                *count = add(*count, 1)?;
            }
            None => totals.push((
                CodeTotal {
                    waste_code: l.waste_code.clone(),
                    grams: l.grams,
                    amount_fen: l.amount_fen,
                },
                1,
            )),
        }
    }
    totals.sort_by(|a, b| a.0.waste_code.cmp(&b.0.waste_code));
    Ok(totals)
}

fn view_with(
    row: StatementRow,
    lines: Vec<LineRow>,
    notes: Vec<NoteRow>,
) -> Result<StatementView, ApiError> {
    let notes: Vec<NoteView> = notes.into_iter().map(note_view).collect();
    let totals = code_totals(&lines)?.into_iter().map(|(t, _)| t).collect();
    let notes_fen = total(notes.iter().map(|n| n.amount_fen))?;
    Ok(StatementView {
        amount_due_fen: add(row.total_fen, notes_fen)?,
        id: row.id,
        number: row.number,
        park_id: row.park_id,
        enterprise_id: row.enterprise_id,
        period: row.period,
        issued_at: row.issued_at.and_utc(),
        due_on: row.due_on,
        total_fen: row.total_fen,
        lines: lines
            .into_iter()
            .map(|l| LineView {
                lot_id: l.lot_id,
                contract_id: l.contract_id,
                disposer_id: l.disposer_id,
                waste_code: l.waste_code,
                billable_on: l.billable_on,
                grams: l.grams,
                fen_per_tonne: l.fen_per_tonne,
                amount_fen: l.amount_fen,
            })
            .collect(),
        totals_by_code: totals,
        notes,
        notes_fen,
    })
}

/// Loads a statement the principal may read.
pub fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<StatementRow, ApiError> {
    let row = store::find_statement(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let enterprise = parks::load_enterprise(conn, &row.enterprise_id)?;
    authorize(
        principal,
        Action::ReadBilling {
            enterprise_id: &row.enterprise_id,
            place: enterprise_place(&enterprise),
        },
    )?;
    Ok(row)
}

fn load_enterprise_for(
    conn: &mut DbConn,
    principal: &Principal,
    enterprise_id: &str,
    manage: bool,
) -> Result<park_store::Enterprise, ApiError> {
    let enterprise = parks::load_enterprise(conn, enterprise_id)?;
    let place = enterprise_place(&enterprise);
    let action = if manage {
        Action::ManageBilling {
            enterprise_id,
            place,
        }
    } else {
        Action::ReadBilling {
            enterprise_id,
            place,
        }
    };
    authorize(principal, action)?;
    Ok(enterprise)
}

/// Issues the statement of an enterprise for a month that has ended (in the park's time zone).
/// Deterministic: the same lots and prices give the same lines, in lot order.
pub fn issue(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    enterprise_id: &str,
    period: Period,
) -> Result<StatementView, ApiError> {
    let enterprise = load_enterprise_for(conn, principal, enterprise_id, true)?;
    let park = parks::load_park(conn, &enterprise.enterprise.park_id)?;
    let tz = parks::park_time_zone(&park.park);
    let today = crate::domain::time::local_date(now, tz);
    let (Some(end), Some(due_on)) = (period.end(), period.due_on()) else {
        return Err(ApiError::field("period", "invalid", "not a month"));
    };
    let first_day_of_park = parks::park_first_day(&park.park);
    if end <= first_day_of_park {
        return Err(ApiError::field(
            "period",
            "before_park",
            format!(
                "{} ended before the park's first day, {first_day_of_park}: nothing can be billed for it",
                period.as_string()
            ),
        ));
    }
    if today < end {
        return Err(ApiError::field(
            "period",
            "not_ended",
            format!(
                "{} ends on {}: issue its statement from then on",
                period.as_string(),
                end - chrono::Duration::days(1)
            ),
        ));
    }
    crate::db::locks::take(conn, crate::db::locks::Lock::Statement(enterprise_id))?;
    if let Some(existing) = store::statement_of(conn, enterprise_id, &period.as_string())? {
        return Err(ApiError::Conflict(format!(
            "statement {} was already issued for {} and this month",
            existing.number, enterprise.name
        )));
    }
    let now = now.naive_utc();
    let id = new_id("stm");
    let mut lines = Vec::new();
    let mut unpriced = Vec::new();
    let first_day = period.first_day().unwrap_or(end);
    for lot in store::unbilled_lots(conn, enterprise_id)? {
        let Some((grams, day)) = billable(&lot, tz) else {
            continue;
        };
        if day >= end {
            continue;
        }
        // A lot of an earlier month goes on this statement only if that month was issued (it
        // came in late); otherwise that month is issued first.
        if day < first_day
            && store::statement_of(conn, enterprise_id, &Period::of(day).as_string())?.is_none()
        {
            return Err(ApiError::Conflict(format!(
                "lot {} is billable in {}, which has no statement yet: issue that month first",
                lot.id,
                Period::of(day).as_string()
            )));
        }
        let disposer_id = contracts::find_contract(conn, &lot.contract_id)?
            .map(|c| c.contract.disposer_id)
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("lot {} names no contract", lot.id))
            })?;
        let Some(price) = price_on(conn, &lot.contract_id, &lot.waste_code, day)? else {
            unpriced.push(format!("{} ({} on {day})", lot.id, lot.waste_code));
            continue;
        };
        lines.push(LineRow {
            statement_id: id.clone(),
            lot_id: lot.id,
            contract_id: lot.contract_id,
            disposer_id,
            waste_code: lot.waste_code,
            billable_on: day,
            grams,
            fen_per_tonne: price,
            // A lot weighs at most 10^8 g and a price is at most 10^12 fen/t in size, so a line
            // is at most 10^14 fen: out of range only if stored data broke those bounds.
            amount_fen: line_amount(grams, price)?,
        });
    }
    if !unpriced.is_empty() {
        return Err(ApiError::field(
            "period",
            "unpriced_lots",
            format!(
                "no contract price is in force for: {}; add the price, then issue",
                unpriced.join(", ")
            ),
        ));
    }
    let too_large = || {
        ApiError::field(
            "period",
            "out_of_range",
            "the statement's total, or the enterprise's billing with it, would exceed the range of amounts",
        )
    };
    let total = total(lines.iter().map(|l| l.amount_fen)).map_err(|_| too_large())?;
    if !ledger_fits(conn, enterprise_id, lines.iter().map(|l| l.amount_fen))? {
        return Err(too_large());
    }
    let row = StatementRow {
        id: id.clone(),
        number: format!(
            "{:04}{:02}-{}",
            period.year, period.month, enterprise.enterprise.uscc
        ),
        park_id: enterprise.enterprise.park_id.clone(),
        enterprise_id: enterprise_id.to_owned(),
        period: period.as_string(),
        total_fen: total,
        due_on,
        issued_at: now,
        issued_by: principal.user_id.clone(),
    };
    store::insert_statement(conn, &row)?;
    for line in &lines {
        store::insert_line(conn, line)?;
    }
    for (t, count) in code_totals(&lines)? {
        store::insert_code_total(
            conn,
            &store::CodeTotalRow {
                statement_id: row.id.clone(),
                waste_code: t.waste_code,
                grams: t.grams,
                amount_fen: t.amount_fen,
                lines: count,
            },
        )?;
    }
    statement_view(conn, row)
}

/// What a billed lot should cost now (its billable weight and day as they now are, at the price
/// now in force that day), against what was billed for it so far: the note that settles the
/// difference, if any. The caller holds the enterprise's statement lock.
fn settle_lot(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    line: &LineRow,
    lot: &BilledLot,
    reason: &str,
) -> Result<Option<NoteRow>, ApiError> {
    let statement =
        store::find_statement(conn, &line.statement_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let park = parks::load_park(conn, &statement.park_id)?;
    let tz = parks::park_time_zone(&park.park);
    let should = match billable(lot, tz) {
        Some((grams, day)) => line_amount(
            grams,
            price_on(conn, &line.contract_id, &line.waste_code, day)?.unwrap_or(0),
        )?,
        None => 0,
    };
    let notes: Vec<i64> = store::notes_of_lot(conn, &lot.id)?
        .iter()
        .map(|n| n.amount_fen)
        .collect();
    let Some(difference) = settling_note(should, line.amount_fen, &notes)? else {
        return Ok(None);
    };
    // No field of the request that caused it carries the amount: an internal error, and the
    // change that called for the note is undone with it.
    if !ledger_fits(conn, &statement.enterprise_id, [difference])? {
        return Err(OutOfRange.into());
    }
    let note = NoteRow {
        id: new_id("bnt"),
        statement_id: statement.id.clone(),
        enterprise_id: statement.enterprise_id.clone(),
        park_id: statement.park_id.clone(),
        disposer_id: line.disposer_id.clone(),
        lot_id: Some(lot.id.clone()),
        period: Period::of(crate::domain::time::local_date(now, tz)).as_string(),
        amount_fen: difference,
        reason: reason.to_owned(),
        created_at: now.naive_utc(),
        created_by: by.to_owned(),
    };
    store::insert_note(conn, &note)?;
    Ok(Some(note))
}

/// After a lot was voided or corrected, in that transaction (after the lot's row was saved): a
/// lot already on a statement gets a note for the difference (a credit for a void).
pub fn after_lot_change(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    lot_id: &LotId,
    reason: &str,
) -> Result<(), ApiError> {
    let lot = store::find_lot(conn, lot_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    // The statement lock: an issue running meanwhile either saw this change or is seen by it.
    crate::db::locks::take(conn, crate::db::locks::Lock::Statement(&lot.enterprise_id))?;
    if let Some(line) = store::line_of_lot(conn, &lot.id)? {
        let why = format!(
            "lot {} {} after the statement was issued: {reason}",
            lot.id, lot.status
        );
        settle_lot(conn, now, by, &line, &lot, &why)?;
    }
    Ok(())
}

/// Applies the prices now in force to an issued statement's lines: each difference becomes a
/// note (a price corrected retroactively). Running it again changes nothing.
pub fn reprice(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
) -> Result<StatementView, ApiError> {
    let row = load_readable(conn, principal, id)?;
    load_enterprise_for(conn, principal, &row.enterprise_id, true)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Statement(&row.enterprise_id))?;
    for line in store::lines_of(conn, id)? {
        let Some(lot) = store::find_lot(conn, &line.lot_id)? else {
            continue;
        };
        let reason = format!(
            "price of {} on {} corrected after issue",
            line.waste_code, line.billable_on
        );
        settle_lot(conn, now, &principal.user_id, &line, &lot, &reason)?;
    }
    statement_view(conn, row)
}

/// A note by hand on an issued statement (e.g. the resolution of refused waste).
pub fn add_note(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    amount_fen: i64,
    disposer_id: Option<String>,
    reason: String,
) -> Result<StatementView, ApiError> {
    let row = load_readable(conn, principal, id)?;
    load_enterprise_for(conn, principal, &row.enterprise_id, true)?;
    crate::db::locks::take(conn, crate::db::locks::Lock::Statement(&row.enterprise_id))?;
    let mut disposers: Vec<String> = store::lines_of(conn, id)?
        .into_iter()
        .map(|l| l.disposer_id)
        .collect();
    disposers.sort();
    disposers.dedup();
    let disposer_id = match (disposer_id, disposers.len()) {
        (Some(d), _) if disposers.contains(&d) => d,
        (Some(_), _) => {
            return Err(ApiError::field(
                "disposer_id",
                "not_on_statement",
                "no line of the statement is for this disposal company",
            ));
        }
        (None, 1) => disposers.remove(0),
        (None, _) => {
            return Err(ApiError::field(
                "disposer_id",
                "required",
                "name the disposal company the note is for",
            ));
        }
    };
    if !ledger_fits(conn, &row.enterprise_id, [amount_fen])? {
        return Err(ApiError::field(
            "amount_fen",
            "out_of_range",
            "the statement's amount due, or the enterprise's billing with it, would exceed the range of amounts",
        ));
    }
    let park = parks::load_park(conn, &row.park_id)?;
    let tz = parks::park_time_zone(&park.park);
    store::insert_note(
        conn,
        &NoteRow {
            id: new_id("bnt"),
            statement_id: row.id.clone(),
            enterprise_id: row.enterprise_id.clone(),
            park_id: row.park_id.clone(),
            disposer_id,
            lot_id: None,
            period: Period::of(crate::domain::time::local_date(now, tz)).as_string(),
            amount_fen,
            reason,
            created_at: now.naive_utc(),
            created_by: principal.user_id.clone(),
        },
    )?;
    statement_view(conn, row)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pay_0193f1c2a4b87d21a1c6e1f0b2d3cb00", "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "amount_fen": 50000, "paid_on": "2026-11-05", "reference": "bank transfer 8812",
    "recorded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6", "created_at": "2026-11-05T03:00:00Z"
}))]
pub struct PaymentView {
    pub id: String,
    pub enterprise_id: String,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub recorded_by: String,
    pub created_at: chrono::DateTime<Utc>,
}

fn payment_view(p: PaymentRow) -> PaymentView {
    PaymentView {
        id: p.id,
        enterprise_id: p.enterprise_id,
        amount_fen: p.amount_fen,
        paid_on: p.paid_on,
        reference: p.reference,
        recorded_by: p.recorded_by,
        created_at: p.created_at.and_utc(),
    }
}

/// The park office records a payment (partial, full or more than owed).
pub fn record_payment(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    enterprise_id: &str,
    amount_fen: i64,
    paid_on: NaiveDate,
    reference: Option<String>,
) -> Result<PaymentView, ApiError> {
    let enterprise = load_enterprise_for(conn, principal, enterprise_id, true)?;
    // The enterprise's lock for billing: payments recorded at once are counted together.
    crate::db::locks::take(conn, crate::db::locks::Lock::Statement(enterprise_id))?;
    if !ledger_fits(conn, enterprise_id, [amount_fen])? {
        return Err(ApiError::field(
            "amount_fen",
            "out_of_range",
            "the enterprise's payments, or its balance with them, would exceed the range of amounts",
        ));
    }
    let row = PaymentRow {
        id: new_id("pay"),
        park_id: enterprise.enterprise.park_id.clone(),
        enterprise_id: enterprise_id.to_owned(),
        amount_fen,
        paid_on,
        reference,
        recorded_by: principal.user_id.clone(),
        created_at: now.naive_utc(),
    };
    store::insert_payment(conn, &row)?;
    Ok(payment_view(row))
}

/// A statement, what it owes (notes included) and what of it is paid.
type Covered = (StatementRow, i64, i64);

/// How an enterprise's payments cover its statements: oldest due first (credits add to what
/// is paid). Returns, per statement, what it owes and what of it is paid, and what is paid
/// beyond everything owed.
fn allocation(conn: &mut DbConn, enterprise_id: &str) -> Result<(Vec<Covered>, i64), ApiError> {
    let mut pool = total(
        store::payments_of(conn, enterprise_id)?
            .iter()
            .map(|p| p.amount_fen),
    )?;
    let mut owing = Vec::new();
    for s in store::statements_of(conn, enterprise_id)? {
        let notes = total(store::notes_of(conn, &s.id)?.iter().map(|n| n.amount_fen))?;
        let owed = add(s.total_fen, notes)?;
        owing.push((s, owed));
    }
    // Credits (negative amounts owed) pay the rest.
    for (_, owed) in owing.iter().filter(|(_, o)| *o < 0) {
        pool = subtract(pool, *owed)?;
    }
    let mut result = Vec::new();
    for (s, owed) in owing {
        let paid = if owed > 0 {
            owed.min(pool.max(0))
        } else {
            owed
        };
        if owed > 0 {
            // 0 ≤ paid ≤ pool: cannot overflow.
            pool -= paid;
        }
        result.push((s, owed, paid));
    }
    Ok((result, pool.max(0)))
}

/// Whether an enterprise's billing stays within the range of amounts once `adding` (new lines,
/// a note or a payment) joins it: the absolute values of all its statement lines, notes and
/// payments, with `adding`, sum to at most `i64::MAX`. Every figure shown for the enterprise (a
/// statement's total and amount due, a disposer's share of it, the balance's billed, notes,
/// paid and balance, each ageing bucket, its share of a remittance) is a sum or difference of
/// some of these amounts, so it is bounded by that sum and fits too.
fn ledger_fits(
    conn: &mut DbConn,
    enterprise_id: &str,
    adding: impl IntoIterator<Item = i64>,
) -> Result<bool, ApiError> {
    // At most 2^63 per amount: i128 cannot overflow below 2^64 amounts.
    let size = |amounts: &mut dyn Iterator<Item = i64>| -> i128 {
        amounts.map(|a| i128::from(a).abs()).sum()
    };
    let mut sum = size(&mut adding.into_iter());
    for s in store::statements_of(conn, enterprise_id)? {
        sum += size(&mut store::lines_of(conn, &s.id)?.iter().map(|l| l.amount_fen));
        sum += size(&mut store::notes_of(conn, &s.id)?.iter().map(|n| n.amount_fen));
    }
    sum += size(
        &mut store::payments_of(conn, enterprise_id)?
            .iter()
            .map(|p| p.amount_fen),
    );
    Ok(sum <= i128::from(i64::MAX))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingBucket {
    /// `current` (not yet due), `1-30`, `31-60`, `61-90` or `over_90` days past due.
    pub bucket: String,
    pub amount_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "billed_fen": 89600, "notes_fen": -5000, "paid_fen": 50000, "balance_fen": 34600, "credit_fen": 0,
    "ageing": [{"bucket": "current", "amount_fen": 34600}, {"bucket": "1-30", "amount_fen": 0},
        {"bucket": "31-60", "amount_fen": 0}, {"bucket": "61-90", "amount_fen": 0}, {"bucket": "over_90", "amount_fen": 0}],
    "payments": []
}))]
pub struct BalanceView {
    pub enterprise_id: String,
    /// Statements' totals as issued.
    pub billed_fen: i64,
    /// Credit (negative) and debit notes since.
    pub notes_fen: i64,
    pub paid_fen: i64,
    /// Billed + notes − paid; negative when the enterprise paid more than it owes.
    pub balance_fen: i64,
    /// What was paid beyond everything owed.
    pub credit_fen: i64,
    /// What is still owed, by days past the due day (payments cover the oldest first).
    pub ageing: Vec<AgeingBucket>,
    pub payments: Vec<PaymentView>,
}

pub fn balance(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    enterprise_id: &str,
) -> Result<BalanceView, ApiError> {
    let enterprise = load_enterprise_for(conn, principal, enterprise_id, false)?;
    let park = parks::load_park(conn, &enterprise.enterprise.park_id)?;
    let today = crate::domain::time::local_date(now, parks::park_time_zone(&park.park));
    let (allocated, credit) = allocation(conn, enterprise_id)?;
    let payments = store::payments_of(conn, enterprise_id)?;
    let billed = total(allocated.iter().map(|(s, _, _)| s.total_fen))?;
    let owed = total(allocated.iter().map(|(_, o, _)| *o))?;
    let paid = total(payments.iter().map(|p| p.amount_fen))?;
    let mut ageing: Vec<AgeingBucket> = AGEING_BUCKETS
        .iter()
        .map(|b| AgeingBucket {
            bucket: (*b).to_owned(),
            amount_fen: 0,
        })
        .collect();
    for (s, owed, covered) in &allocated {
        let open = subtract(*owed, *covered)?;
        if open > 0 {
            let bucket = ageing_bucket((today - s.due_on).num_days());
            if let Some(b) = ageing.iter_mut().find(|b| b.bucket == bucket) {
                b.amount_fen = add(b.amount_fen, open)?;
            }
        }
    }
    Ok(BalanceView {
        enterprise_id: enterprise_id.to_owned(),
        billed_fen: billed,
        notes_fen: subtract(owed, billed)?,
        paid_fen: paid,
        balance_fen: subtract(owed, paid)?,
        credit_fen: credit,
        ageing,
        payments: payments.into_iter().map(payment_view).collect(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemittanceLine {
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub statement_number: String,
    pub billed_fen: i64,
    pub collected_fen: i64,
    pub outstanding_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "period": "2026-10",
    "lines": [{"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "enterprise_name": "深圳市华信精密电子有限公司",
        "statement_number": "202610-91440300MA5F000181", "billed_fen": 89600, "collected_fen": 50000, "outstanding_fen": 39600}],
    "billed_fen": 89600, "collected_fen": 50000, "outstanding_fen": 39600, "owed_to_disposer_fen": 50000
}))]
pub struct RemittanceView {
    pub park_id: String,
    pub disposer_id: String,
    pub period: String,
    pub lines: Vec<RemittanceLine>,
    /// Billed on the period's statements for this disposer's contracts, notes included.
    pub billed_fen: i64,
    /// Collected of it by the park office so far.
    pub collected_fen: i64,
    /// Still to collect from the enterprises.
    pub outstanding_fen: i64,
    /// What the park office owes the disposer: what it collected on its behalf.
    pub owed_to_disposer_fen: i64,
}

/// The park office's remittance statement to a disposal company for a month: per enterprise
/// what was billed for the disposer's contracts, what the park office collected of it (each
/// statement's payments shared among its disposers in proportion to what it owes each), and
/// what remains outstanding.
pub fn remittance(
    conn: &mut DbConn,
    principal: &Principal,
    park_id: &str,
    disposer_id: &str,
    period: Period,
) -> Result<RemittanceView, ApiError> {
    let park = parks::load_park(conn, park_id)?;
    authorize(
        principal,
        Action::ReadRemittance {
            place: parks::place(&park),
            disposer_id,
        },
    )?;
    // Only a disposal company under contract with the park has a remittance there.
    if !crate::registry::contracts::store::parks_of_disposer(conn, disposer_id)?
        .iter()
        .any(|p| p == park_id)
    {
        return Err(ApiError::NotFound(NOT_VISIBLE));
    }
    let mut lines = Vec::new();
    for s in store::statements_in(conn, park_id, &period.as_string())? {
        let (allocated, _) = allocation(conn, &s.enterprise_id)?;
        let Some((_, owed, covered)) = allocated.into_iter().find(|(a, _, _)| a.id == s.id) else {
            continue;
        };
        // What the statement owes each disposer.
        let mut shares: Vec<(String, i64)> = Vec::new();
        for l in store::lines_of(conn, &s.id)? {
            match shares.iter_mut().find(|(d, _)| *d == l.disposer_id) {
                Some((_, a)) => *a = add(*a, l.amount_fen)?,
                None => shares.push((l.disposer_id, l.amount_fen)),
            }
        }
        for n in store::notes_of(conn, &s.id)? {
            match shares.iter_mut().find(|(d, _)| *d == n.disposer_id) {
                Some((_, a)) => *a = add(*a, n.amount_fen)?,
                None => shares.push((n.disposer_id, n.amount_fen)),
            }
        }
        shares.sort();
        let Some(index) = shares.iter().position(|(d, _)| d == disposer_id) else {
            continue;
        };
        let billed = shares[index].1;
        // Credit shares (a disposer buying waste) are settled by offset against the others;
        // what was paid, plus those offsets, covers the positive shares in proportion.
        let collected = if billed < 0 {
            billed
        } else {
            let offsets = subtract(0, total(shares.iter().map(|(_, a)| (*a).min(0)))?)?;
            let weights: Vec<i64> = shares.iter().map(|(_, a)| (*a).max(0)).collect();
            let _ = owed;
            allocate(add(covered, offsets)?, &weights)[index]
        };
        let name = crate::identity::store::find_organization(conn, &s.enterprise_id)?
            .map(|o| o.name)
            .unwrap_or_default();
        lines.push(RemittanceLine {
            enterprise_id: s.enterprise_id.clone(),
            enterprise_name: name,
            statement_number: s.number.clone(),
            billed_fen: billed,
            collected_fen: collected,
            outstanding_fen: subtract(billed, collected)?,
        });
    }
    let billed = total(lines.iter().map(|l| l.billed_fen))?;
    let collected = total(lines.iter().map(|l| l.collected_fen))?;
    Ok(RemittanceView {
        park_id: park_id.to_owned(),
        disposer_id: disposer_id.to_owned(),
        period: period.as_string(),
        lines,
        billed_fen: billed,
        collected_fen: collected,
        outstanding_fen: subtract(billed, collected)?,
        owed_to_disposer_fen: collected,
    })
}

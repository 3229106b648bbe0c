//! Queries on statements, their lines, notes and payments. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    billing_notes, lots, payments, statement_lines, statement_totals, statements,
};
use crate::domain::ids::LotId;
use crate::domain::lot::LotStatus;
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = statements)]
pub struct StatementRow {
    pub id: String,
    pub number: String,
    pub park_id: String,
    pub enterprise_id: String,
    pub period: String,
    pub total_fen: i64,
    pub due_on: NaiveDate,
    pub issued_at: NaiveDateTime,
    pub issued_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = statement_lines)]
pub struct LineRow {
    pub statement_id: String,
    pub lot_id: LotId,
    pub contract_id: String,
    pub disposer_id: String,
    pub waste_code: String,
    pub billable_on: NaiveDate,
    pub grams: i64,
    pub fen_per_tonne: i64,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = billing_notes)]
pub struct NoteRow {
    pub id: String,
    pub statement_id: String,
    pub enterprise_id: String,
    pub park_id: String,
    pub disposer_id: String,
    pub lot_id: Option<LotId>,
    pub period: String,
    pub amount_fen: i64,
    pub reason: String,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub park_id: String,
    pub enterprise_id: String,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_statement(conn: &mut DbConn, row: &StatementRow) -> QueryResult<()> {
    diesel::insert_into(statements::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_line(conn: &mut DbConn, row: &LineRow) -> QueryResult<()> {
    diesel::insert_into(statement_lines::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_note(conn: &mut DbConn, row: &NoteRow) -> QueryResult<()> {
    diesel::insert_into(billing_notes::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_payment(conn: &mut DbConn, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_statement(conn: &mut DbConn, id: &str) -> QueryResult<Option<StatementRow>> {
    statements::table
        .find(id)
        .select(StatementRow::as_select())
        .first(conn)
        .optional()
}

pub fn statement_of(
    conn: &mut DbConn,
    enterprise_id: &str,
    period: &str,
) -> QueryResult<Option<StatementRow>> {
    statements::table
        .filter(statements::enterprise_id.eq(enterprise_id))
        .filter(statements::period.eq(period))
        .select(StatementRow::as_select())
        .first(conn)
        .optional()
}

/// An enterprise's statements, oldest due first.
pub fn statements_of(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<StatementRow>> {
    statements::table
        .filter(statements::enterprise_id.eq(enterprise_id))
        .select(StatementRow::as_select())
        .order((statements::due_on.asc(), statements::id.asc()))
        .load(conn)
}

/// The statements of a park in a period.
pub fn statements_in(
    conn: &mut DbConn,
    park_id: &str,
    period: &str,
) -> QueryResult<Vec<StatementRow>> {
    statements::table
        .filter(statements::park_id.eq(park_id))
        .filter(statements::period.eq(period))
        .select(StatementRow::as_select())
        .order(statements::id.asc())
        .load(conn)
}

pub fn list_statements(
    conn: &mut DbConn,
    park_id: Option<&str>,
    enterprise_id: Option<&str>,
    period: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<StatementRow>> {
    let mut q = statements::table
        .select(StatementRow::as_select())
        .into_boxed();
    if let Some(v) = park_id {
        q = q.filter(statements::park_id.eq(v.to_owned()));
    }
    if let Some(v) = enterprise_id {
        q = q.filter(statements::enterprise_id.eq(v.to_owned()));
    }
    if let Some(v) = period {
        q = q.filter(statements::period.eq(v.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(statements::id.gt(after.clone()));
    }
    q.order(statements::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn lines_of(conn: &mut DbConn, statement_id: &str) -> QueryResult<Vec<LineRow>> {
    statement_lines::table
        .filter(statement_lines::statement_id.eq(statement_id))
        .select(LineRow::as_select())
        .order(statement_lines::lot_id.asc())
        .load(conn)
}

/// The lines of one statement and one code, added up when the statement was issued.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = statement_totals)]
pub struct CodeTotalRow {
    pub statement_id: String,
    pub waste_code: String,
    pub grams: i64,
    pub amount_fen: i64,
    pub lines: i64,
}

pub fn insert_code_total(conn: &mut DbConn, row: &CodeTotalRow) -> QueryResult<()> {
    diesel::insert_into(statement_totals::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The totals per code of several statements, by statement and code, in one query.
pub fn code_totals_of_all(
    conn: &mut DbConn,
    statement_ids: &[String],
) -> QueryResult<Vec<CodeTotalRow>> {
    statement_totals::table
        .filter(statement_totals::statement_id.eq_any(statement_ids))
        .select(CodeTotalRow::as_select())
        .order((
            statement_totals::statement_id.asc(),
            statement_totals::waste_code.asc(),
        ))
        .load(conn)
}

pub fn line_of_lot(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Option<LineRow>> {
    statement_lines::table
        .filter(statement_lines::lot_id.eq(lot_id))
        .select(LineRow::as_select())
        .first(conn)
        .optional()
}

pub fn notes_of(conn: &mut DbConn, statement_id: &str) -> QueryResult<Vec<NoteRow>> {
    billing_notes::table
        .filter(billing_notes::statement_id.eq(statement_id))
        .select(NoteRow::as_select())
        .order(billing_notes::id.asc())
        .load(conn)
}

/// The notes of several statements, in one query.
pub fn notes_of_all(conn: &mut DbConn, statement_ids: &[String]) -> QueryResult<Vec<NoteRow>> {
    billing_notes::table
        .filter(billing_notes::statement_id.eq_any(statement_ids))
        .select(NoteRow::as_select())
        .order(billing_notes::id.asc())
        .load(conn)
}

pub fn notes_of_lot(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Vec<NoteRow>> {
    billing_notes::table
        .filter(billing_notes::lot_id.eq(lot_id))
        .select(NoteRow::as_select())
        .load(conn)
}

pub fn payments_of(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::enterprise_id.eq(enterprise_id))
        .select(PaymentRow::as_select())
        .order((payments::paid_on.asc(), payments::id.asc()))
        .load(conn)
}

/// An enterprise's lots that may be billed and are on no statement yet: stored or collected.
/// A lot as billing sees it: whose, under which contract, what and how much, and when. The
/// lots' rows belong to `lots`; this reads the columns billing needs.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub struct BilledLot {
    pub id: LotId,
    pub enterprise_id: String,
    pub contract_id: String,
    pub route: String,
    pub status: LotStatus,
    pub waste_code: String,
    pub net_grams: i64,
    pub captured_at: chrono::NaiveDateTime,
}

pub fn find_lot(conn: &mut DbConn, id: &LotId) -> QueryResult<Option<BilledLot>> {
    lots::table
        .find(id)
        .select(BilledLot::as_select())
        .first(conn)
        .optional()
}

pub fn unbilled_lots(conn: &mut DbConn, enterprise_id: &str) -> QueryResult<Vec<BilledLot>> {
    lots::table
        .filter(lots::enterprise_id.eq(enterprise_id))
        .filter(lots::status.eq_any([LotStatus::Stored, LotStatus::Collected]))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            statement_lines::table.filter(statement_lines::lot_id.eq(lots::id)),
        )))
        .select(BilledLot::as_select())
        .order(lots::id.asc())
        .load(conn)
}

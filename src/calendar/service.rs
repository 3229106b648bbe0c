//! Use cases of the working-day calendar: reading a year and replacing it whole.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::calendar::store::{self, YearRow};
use crate::db::DbConn;
use crate::domain::workdays::Year;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "year": 2025,
    "holidays": ["2025-01-01", "2025-01-28"],
    "workdays": ["2025-01-26"],
    "source": "国务院办公厅关于2025年部分节假日安排的通知",
    "updated_at": "2026-11-30T00:00:00Z"
}))]
pub struct CalendarYearView {
    pub year: i32,
    pub holidays: Vec<NaiveDate>,
    pub workdays: Vec<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn view(row: YearRow, days: Year) -> CalendarYearView {
    CalendarYearView {
        year: row.year,
        holidays: days.holidays.into_iter().collect(),
        workdays: days.workdays.into_iter().collect(),
        source: row.source,
        updated_at: row.updated_at.and_utc(),
    }
}

/// A year of the calendar: 404 for a year not held (its working days are Monday to Friday).
pub fn get_year(conn: &mut DbConn, year: i32) -> Result<CalendarYearView, ApiError> {
    let (row, days) = store::find_year(conn, year)?.ok_or(ApiError::NotFound(
        "no calendar is held for this year: Monday to Friday are counted as working days",
    ))?;
    Ok(view(row, days))
}

/// Replaces what the year held with `days`, noting the notice they come from.
pub fn keep_year(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    year: i32,
    source: Option<String>,
    days: Year,
) -> Result<CalendarYearView, ApiError> {
    let row = YearRow {
        year,
        source,
        updated_by: by.to_owned(),
        updated_at: now.naive_utc(),
    };
    store::replace_year(conn, &row, &days)?;
    Ok(view(row, days))
}

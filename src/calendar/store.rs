//! Storage of the working-day calendar.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{workday_days, workday_years};
use crate::domain::workdays::{Calendar, Year};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = workday_years)]
pub struct YearRow {
    pub year: i32,
    pub source: Option<String>,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// The calendar of the years `from` to `to` that have one.
pub fn calendar(conn: &mut DbConn, from: i32, to: i32) -> QueryResult<Calendar> {
    let mut years: BTreeMap<i32, Year> = workday_years::table
        .filter(workday_years::year.between(from, to))
        .select(workday_years::year)
        .load::<i32>(conn)?
        .into_iter()
        .map(|y| (y, Year::default()))
        .collect();
    for (day, year, kind) in workday_days::table
        .filter(workday_days::year.between(from, to))
        .select((workday_days::day, workday_days::year, workday_days::kind))
        .load::<(NaiveDate, i32, String)>(conn)?
    {
        if let Some(y) = years.get_mut(&year) {
            if kind == "workday" {
                y.workdays.insert(day);
            } else {
                y.holidays.insert(day);
            }
        }
    }
    Ok(Calendar { years })
}

/// One year's calendar, if held.
pub fn find_year(conn: &mut DbConn, year: i32) -> QueryResult<Option<(YearRow, Year)>> {
    let Some(row) = workday_years::table
        .find(year)
        .select(YearRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let days = calendar(conn, year, year)?
        .years
        .remove(&year)
        .unwrap_or_default();
    Ok(Some((row, days)))
}

/// Replaces a year's calendar whole.
pub fn replace_year(conn: &mut DbConn, row: &YearRow, days: &Year) -> QueryResult<()> {
    diesel::delete(workday_days::table.filter(workday_days::year.eq(row.year))).execute(conn)?;
    diesel::delete(workday_years::table.find(row.year)).execute(conn)?;
    diesel::insert_into(workday_years::table)
        .values(row)
        .execute(conn)?;
    let days = days
        .holidays
        .iter()
        .map(|d| (d, "holiday"))
        .chain(days.workdays.iter().map(|d| (d, "workday")));
    for (day, kind) in days {
        diesel::insert_into(workday_days::table)
            .values((
                workday_days::day.eq(*day),
                workday_days::year.eq(row.year),
                workday_days::kind.eq(kind),
            ))
            .execute(conn)?;
    }
    Ok(())
}

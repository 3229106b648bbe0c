//! HTTP endpoints of the working-day calendar: a year read by anybody signed in, replaced
//! whole by a platform administrator from the State Council's notice, as JSON or CSV.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, put, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, authorize};
use crate::calendar::service::{self, CalendarYearView};
use crate::domain::workdays::{YEARS, Year};
use crate::error::{ApiError, FieldError, Validator};
use crate::http::json::{check_declared_length, decode, read_limited};
use crate::state::AppState;

/// Largest calendar body: a year's dates, generously.
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// Most dates of a list: every day of a year.
pub const MAX_DAYS: usize = 366;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "holidays": ["2027-01-01", "2027-02-06", "2027-02-07"],
    "workdays": ["2027-01-30"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知"
}))]
pub struct CalendarYearRequest {
    /// The public holidays of the year, every day of them (a weekend day inside a holiday may
    /// be listed too).
    pub holidays: Vec<NaiveDate>,
    /// The weekend days made working days (调休), each a Saturday or a Sunday.
    pub workdays: Vec<NaiveDate>,
    /// The notice the days were taken from.
    pub source: Option<String>,
}

/// The year of the path: any other text than a year from 2000 to 2099 is a 422 naming it.
fn check_year(year: &str) -> Result<i32, ApiError> {
    year.parse::<i32>()
        .ok()
        .filter(|y| YEARS.contains(y))
        .ok_or_else(|| ApiError::field("year", "out_of_range", "must be a year from 2000 to 2099"))
}

/// A year of the working-day calendar: its public holidays and make-up working days. A year
/// not held answers 404: its working days are counted Monday to Friday.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "The year", minimum = 2000, maximum = 2099)),
    responses(
        (status = 200, description = "The year", body = CalendarYearView),
        (status = 404, description = "No calendar for this year: Monday to Friday are counted", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a year from 2000 to 2099", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar/{year}")]
pub async fn get_year(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<String>,
) -> Result<web::Json<CalendarYearView>, ApiError> {
    authorize(&principal, Action::ReadCalendar)?;
    let year = check_year(&year.into_inner())?;
    let view = state
        .db
        .run(move |conn| service::get_year(conn, year))
        .await?;
    Ok(web::Json(view))
}

/// Reads a CSV calendar: lines of `date,kind` (`holiday` or `workday`), perhaps after a
/// header line `date,kind`; blank lines are skipped.
fn parse_csv(body: &str) -> Result<(Vec<NaiveDate>, Vec<NaiveDate>), ApiError> {
    let mut holidays = Vec::new();
    let mut workdays = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in body.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.eq_ignore_ascii_case("date,kind")) {
            continue;
        }
        let field = format!("line {}", i + 1);
        let (date, kind) = line.split_once(',').unwrap_or((line, ""));
        let Ok(date) = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d") else {
            errors.push(FieldError::new(
                field,
                "invalid",
                "must be a date (YYYY-MM-DD), a comma and holiday or workday",
            ));
            continue;
        };
        match kind.trim() {
            "holiday" => holidays.push(date),
            "workday" => workdays.push(date),
            _ => errors.push(FieldError::new(
                field,
                "invalid",
                "must be a date (YYYY-MM-DD), a comma and holiday or workday",
            )),
        }
    }
    if errors.is_empty() {
        Ok((holidays, workdays))
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Where a year's days come from, for a CSV body (a JSON body names it in its `source`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarSourceQuery {
    /// The notice the days were taken from (1 to 200 characters), for a CSV body; a JSON body
    /// gives it as its `source` instead (giving both is refused).
    pub source: Option<String>,
}

/// Keep a year of the working-day calendar (platform administrators): the public holidays
/// and the make-up working days of the State Council's notice, replacing what the year held.
/// JSON, or CSV (`text/csv`): lines of `date,kind`, `kind` being `holiday` or `workday`, with
/// an optional header line `date,kind`, and the notice in the `source` query parameter. Every date must lie in the year; a make-up working
/// day falls on a Saturday or Sunday and is not also a holiday. Due dates counted before keep
/// the day and the explanation they were given.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "The year", minimum = 2000, maximum = 2099), CalendarSourceQuery),
    request_body(content(
        (CalendarYearRequest = "application/json"),
        (String = "text/csv", example = json!("date,kind\n2027-01-01,holiday\n2027-01-30,workday\n")),
    )),
    responses(
        (status = 200, description = "The year as kept", body = CalendarYearView),
        (status = 403, description = "Not a platform administrator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor CSV", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A date outside the year, a make-up working day on a weekday or also a holiday, a line not understood", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/calendar/{year}")]
pub async fn put_year(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    year: web::Path<String>,
    query: web::Query<CalendarSourceQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ManageCalendar)?;
    let given_source = query.into_inner().source;
    let now = state.clock.now();
    let mime = req.mime_type().ok().flatten();
    let json = mime.as_ref().is_some_and(|m| {
        m.type_() == mime::APPLICATION
            && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
    });
    let csv = mime.as_ref().is_some_and(|m| {
        (m.type_() == mime::TEXT && (m.subtype() == "csv" || m.subtype() == mime::PLAIN))
            || (m.type_() == mime::APPLICATION && m.subtype() == "csv")
    });
    if !json && !csv {
        return Err(ApiError::UnsupportedMediaType(
            "a calendar year is JSON (application/json) or CSV (text/csv)".to_owned(),
        ));
    }
    check_declared_length(&req, BODY_LIMIT_BYTES)?;
    let year = check_year(&year.into_inner())?;
    let body = read_limited(&mut payload, BODY_LIMIT_BYTES).await?;
    let (holidays, workdays, source) = if json {
        let b: CalendarYearRequest = decode(&body)?;
        if b.source.is_some() && given_source.is_some() {
            return Err(ApiError::field(
                "source",
                "given_twice",
                "name the notice once: in the body or in the query",
            ));
        }
        (b.holidays, b.workdays, b.source.or(given_source))
    } else {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::field("body", "encoding", "must be UTF-8 text"))?;
        let (h, w) = parse_csv(text)?;
        (h, w, given_source)
    };
    let mut v = Validator::new();
    let source = source.map(|s| v.text("source", &s, 1, 200));
    for (field, list) in [("holidays", &holidays), ("workdays", &workdays)] {
        if list.len() > MAX_DAYS {
            v.push(FieldError::new(
                field,
                "too_many",
                format!("lists at most {MAX_DAYS} days"),
            ));
        }
    }
    v.finish()?;
    let days = Year::parse(year, &holidays, &workdays).map_err(ApiError::Validation)?;
    let by = principal.user_id.clone();
    let saved = state
        .db
        .write(move |conn| service::keep_year(conn, now, &by, year, source, days))
        .await?;
    tracing::info!(year, "working-day calendar kept");
    Ok(HttpResponse::Ok().json(saved))
}

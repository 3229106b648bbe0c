//! Queries of the dashboard's figures. Diesel only; no rules. Every figure is added up by the
//! database (`GROUP BY`); each sum is cast to a 64-bit integer, which fails rather than wraps on
//! overflow on both backends.
//!
//! Months of the park's time zone are bucketed without the backends' time-zone functions, which
//! differ: the caller computes each month's first instant in UTC and the query sorts every row
//! into its month with a `CASE` over those instants (see [`bucket`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::DbConn;
use crate::db::schema::{warehouses, zones};

/// A warehouse of the park with its zones.
#[derive(Debug, Clone, Queryable)]
pub struct ZoneFill {
    pub warehouse_id: String,
    pub warehouse_name: String,
    pub warehouse_closed_on: Option<chrono::NaiveDate>,
    pub zone_id: String,
    pub zone_name: String,
    pub kind: String,
    pub categories: String,
    pub capacity_grams: i64,
    pub stored_grams: i64,
    pub zone_closed_on: Option<chrono::NaiveDate>,
}

/// The zones of a park's warehouses, with their capacity and what they hold (kept exact by
/// `lots::stock`), by warehouse and zone name.
pub fn zones_of_park(conn: &mut DbConn, park_id: &str) -> QueryResult<Vec<ZoneFill>> {
    zones::table
        .inner_join(warehouses::table.on(warehouses::id.eq(zones::warehouse_id)))
        .filter(warehouses::park_id.eq(park_id))
        .select((
            warehouses::id,
            warehouses::name,
            warehouses::closed_on,
            zones::id,
            zones::name,
            zones::kind,
            zones::categories,
            zones::capacity_grams,
            zones::stored_grams,
            zones::closed_on,
        ))
        .order((
            warehouses::name.asc(),
            warehouses::id.asc(),
            zones::name.asc(),
            zones::id.asc(),
        ))
        .load(conn)
}

/// What a warehouse stores of one category under one contract.
#[derive(Debug, Clone, QueryableByName)]
pub struct CategoryStock {
    #[diesel(sql_type = Text)]
    pub warehouse_id: String,
    #[diesel(sql_type = Text)]
    pub contract_id: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub grams: i64,
    #[diesel(sql_type = BigInt)]
    pub lots: i64,
}

/// The stock of a park per warehouse, contract and category, added up from the inventory (one
/// row per zone, contract and code: small whatever the number of lots).
pub fn stock_by_category(conn: &mut DbConn, park_id: &str) -> QueryResult<Vec<CategoryStock>> {
    let sql = "SELECT z.warehouse_id AS warehouse_id, i.contract_id AS contract_id, \
               c.category AS category, c.kind AS kind, \
               CAST(SUM(i.grams) AS BIGINT) AS grams, CAST(SUM(i.lots) AS BIGINT) AS lots \
               FROM inventory i \
               JOIN zones z ON z.id = i.zone_id \
               JOIN warehouses w ON w.id = z.warehouse_id \
               JOIN waste_codes c ON c.code = i.waste_code \
               WHERE w.park_id = $1 \
               GROUP BY z.warehouse_id, i.contract_id, c.category, c.kind \
               HAVING SUM(i.lots) <> 0 OR SUM(i.grams) <> 0 \
               ORDER BY z.warehouse_id, c.category, i.contract_id";
    load(conn, sql, park_id)
}

/// Latencies of one month: how many, their sum and the longest, in whole seconds.
#[derive(Debug, Clone, QueryableByName)]
pub struct LatencySums {
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = BigInt)]
    pub total_seconds: i64,
    #[diesel(sql_type = BigInt)]
    pub max_seconds: i64,
}

/// The whole seconds from `a` to `b` (each instant cut to its second), 0 when `b` is earlier.
fn seconds_between(conn: &DbConn, a: &str, b: &str) -> String {
    let diff = match conn {
        DbConn::Pg(_) => format!(
            "(CAST(EXTRACT(EPOCH FROM date_trunc('second', {b})) AS BIGINT) \
             - CAST(EXTRACT(EPOCH FROM date_trunc('second', {a})) AS BIGINT))"
        ),
        DbConn::Sqlite(_) => {
            format!("(CAST(strftime('%s', {b}) AS INTEGER) - CAST(strftime('%s', {a}) AS INTEGER))")
        }
    };
    format!("CASE WHEN {diff} < 0 THEN 0 ELSE {diff} END")
}

/// A timestamp literal of an instant the caller computed (never text of a request): the form
/// both backends compare with their timestamp columns (SQLite stores `%F %T%.f` text, which
/// sorts as the instants do).
fn instant(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%F %T%.f"))
}

/// `column`'s month: the index of the last boundary it is not before, where `bounds` are the
/// first instants of consecutive months and the row is already known to lie between the first
/// and the last. A binary search (nested `CASE`s), so that a row costs a few comparisons
/// whatever the number of months.
pub(crate) fn bucket(column: &str, bounds: &[NaiveDateTime]) -> String {
    let months = bounds.len().saturating_sub(1);
    format!(
        "CAST({} AS BIGINT)",
        search(column, bounds, 0, months.max(1))
    )
}

/// The month among `lo..hi` (indexes into `bounds`) that `column` falls in.
fn search(column: &str, bounds: &[NaiveDateTime], lo: usize, hi: usize) -> String {
    if hi - lo <= 1 {
        return lo.to_string();
    }
    let mid = lo + (hi - lo) / 2;
    match bounds.get(mid) {
        Some(b) => format!(
            "CASE WHEN {column} < {} THEN {} ELSE {} END",
            instant(*b),
            search(column, bounds, lo, mid),
            search(column, bounds, mid, hi)
        ),
        None => lo.to_string(),
    }
}

/// `table` read through `index` on SQLite, whose planner otherwise may prefer an index that
/// spares it a sort but visits the table for every row; PostgreSQL's planner is left to choose.
pub(crate) fn through(conn: &DbConn, table: &str, alias: &str, index: &str) -> String {
    match conn {
        DbConn::Pg(_) => format!("{table} {alias}"),
        DbConn::Sqlite(_) => format!("{table} {alias} INDEXED BY {index}"),
    }
}

pub(crate) fn range(column: &str, bounds: &[NaiveDateTime]) -> String {
    match (bounds.first(), bounds.last()) {
        (Some(first), Some(last)) => format!(
            "{column} >= {} AND {column} < {}",
            instant(*first),
            instant(*last)
        ),
        _ => "1 = 0".to_owned(),
    }
}

/// Count, sum and longest per month of `rows`, a query of `bucket` and `secs`.
fn latency(rows: &str) -> String {
    format!(
        "SELECT bucket, CAST(COUNT(*) AS BIGINT) AS count, \
         CAST(COALESCE(SUM(secs), 0) AS BIGINT) AS total_seconds, \
         CAST(COALESCE(MAX(secs), 0) AS BIGINT) AS max_seconds \
         FROM ({rows}) t GROUP BY bucket ORDER BY bucket"
    )
}

/// Per month of collection (`bounds`: the months' first instants and the end): how long the
/// park's collections came after their request was raised (request → collection capture time).
pub fn pickup_latency(
    conn: &mut DbConn,
    park_id: &str,
    bounds: &[NaiveDateTime],
) -> QueryResult<Vec<LatencySums>> {
    let secs = seconds_between(conn, "r.created_at", "c.captured_at");
    let inner = format!(
        "SELECT {} AS bucket, {secs} AS secs \
         FROM {} JOIN pickup_requests r ON r.id = c.request_id \
         WHERE c.park_id = $1 AND {}",
        bucket("c.captured_at", bounds),
        through(conn, "collections", "c", "collections_park_captured_idx"),
        range("c.captured_at", bounds),
    );
    let sql = latency(&inner);
    load(conn, &sql, park_id)
}

/// Per month of receipt: how long the park's manifests took from the carrier's take-over to
/// the receiver's signed receipt.
pub fn receipt_latency(
    conn: &mut DbConn,
    park_id: &str,
    bounds: &[NaiveDateTime],
) -> QueryResult<Vec<LatencySums>> {
    let secs = seconds_between(conn, "t.at", "r.at");
    let inner = format!(
        "SELECT {} AS bucket, {secs} AS secs \
         FROM {} \
         JOIN manifests m ON m.id = r.manifest_id \
         JOIN manifest_signatures t ON t.manifest_id = r.manifest_id AND t.step = 'take_over' \
         WHERE r.step = 'receive' AND m.park_id = $1 AND {}",
        bucket("r.at", bounds),
        through(
            conn,
            "manifest_signatures",
            "r",
            "manifest_signatures_step_at_idx"
        ),
        range("r.at", bounds),
    );
    let sql = latency(&inner);
    load(conn, &sql, park_id)
}

/// What the volumes are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeKey {
    Code,
    Enterprise,
    Disposer,
    Month,
}

/// The grams and lots of one group; `name` the code's, enterprise's or disposer's.
#[derive(Debug, Clone, QueryableByName)]
pub struct VolumeSums {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub grams: i64,
    #[diesel(sql_type = BigInt)]
    pub lots: i64,
}

/// How a period (`bounds`: consecutive boundaries, UTC) is read: the whole days of the park's
/// volume totals (`lot_volumes`, days of the park's phase) that lie within it, and the windows
/// at its edges — and, by month, around a boundary inside a day (summer time) — read from the
/// lots themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Whole days `[first, end)` read from the totals.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Days within `days` cut by a boundary: left out of the totals, read from the lots.
    pub cut: Vec<NaiveDate>,
    /// Instants `[start, end)` read from the lots.
    pub windows: Vec<(NaiveDateTime, NaiveDateTime)>,
}

/// The first instant (UTC) of `day` for a park whose days start `phase` minutes before UTC's.
fn day_start(day: NaiveDate, phase: i32) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - chrono::Duration::minutes(i64::from(phase))
}

/// The day (of the park's phase) that `t` lies in.
fn day_of(t: NaiveDateTime, phase: i32) -> NaiveDate {
    (t + chrono::Duration::minutes(i64::from(phase))).date()
}

/// Splits the period of `bounds` into whole days of the totals and windows of lots.
pub fn split(bounds: &[NaiveDateTime], phase: i32) -> Split {
    let (Some(&start), Some(&end)) = (bounds.first(), bounds.last()) else {
        return Split {
            days: None,
            cut: Vec::new(),
            windows: Vec::new(),
        };
    };
    let mut first = day_of(start, phase);
    if day_start(first, phase) < start {
        first = first.succ_opt().unwrap_or(first);
    }
    let last = day_of(end, phase);
    if first >= last {
        return Split {
            days: None,
            cut: Vec::new(),
            windows: vec![(start, end)],
        };
    }
    let mut windows = Vec::new();
    if start < day_start(first, phase) {
        windows.push((start, day_start(first, phase)));
    }
    let mut cut = Vec::new();
    for &b in bounds.iter().skip(1).take(bounds.len().saturating_sub(2)) {
        let d = day_of(b, phase);
        if day_start(d, phase) != b && d >= first && d < last && !cut.contains(&d) {
            cut.push(d);
            windows.push((
                day_start(d, phase),
                day_start(d.succ_opt().unwrap_or(d), phase),
            ));
        }
    }
    if day_start(last, phase) < end {
        windows.push((day_start(last, phase), end));
    }
    Split {
        days: Some((first, last)),
        cut,
        windows,
    }
}

/// The phase of the park's days in `lot_volumes` (0 for a park that has none).
fn phase_of(conn: &mut DbConn, park_id: &str) -> QueryResult<i32> {
    use crate::db::schema::park_day_phase;
    Ok(park_day_phase::table
        .find(park_id)
        .select(park_day_phase::minutes)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// `columns` of the park's weighed lots (stored, or collected; not voided, not merely declared)
/// captured in `windows`: one index range each.
fn in_windows(conn: &DbConn, columns: &str, windows: &[(NaiveDateTime, NaiveDateTime)]) -> String {
    let lots = through(conn, "lots", "l", "lots_figures_idx");
    let weighed = "park_id = $1 AND status IN ('stored', 'collected')";
    if windows.is_empty() {
        return format!("SELECT {columns} FROM {lots} WHERE 1 = 0");
    }
    windows
        .iter()
        .map(|(a, b)| {
            format!(
                "SELECT {columns} FROM {lots} WHERE {weighed} AND captured_at >= {} AND captured_at < {}",
                instant(*a),
                instant(*b)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

fn day_literal(d: NaiveDate) -> String {
    format!("'{}'", d.format("%F"))
}

/// The park's weighed lots (in the warehouse, or at the door when collected; not voided, not
/// merely declared) whose business time lies within `bounds`, added up per group: every group,
/// heaviest first; by month, keyed by the month's index. Whole days are read from the totals
/// the lots' triggers keep (`lot_volumes`: a year is a few thousand rows), the rest from
/// `lots_figures_idx` (see [`split`]).
pub fn volumes(
    conn: &mut DbConn,
    park_id: &str,
    bounds: &[NaiveDateTime],
    by: VolumeKey,
) -> QueryResult<Vec<VolumeSums>> {
    let phase = phase_of(conn, park_id)?;
    let edges: Vec<NaiveDateTime> = match by {
        VolumeKey::Month => bounds.to_vec(),
        _ => bounds
            .first()
            .into_iter()
            .chain(bounds.last())
            .copied()
            .collect(),
    };
    let split = split(&edges, phase);
    let whole = |column: &str| match split.days {
        Some((first, end)) => format!(
            "SELECT {column} AS k, grams, lots FROM lot_volumes \
             WHERE park_id = $1 AND day >= {} AND day < {} AND lots <> 0",
            day_literal(first),
            day_literal(end)
        ),
        None => format!("SELECT {column} AS k, grams, lots FROM lot_volumes WHERE 1 = 0"),
    };
    let grouped = |column: &str| {
        format!(
            "SELECT k, CAST(SUM(grams) AS BIGINT) AS grams, CAST(SUM(lots) AS BIGINT) AS lots FROM \
             ({} UNION ALL {}) u GROUP BY k",
            whole(column),
            in_windows(
                conn,
                &format!("{column} AS k, net_grams AS grams, CAST(1 AS BIGINT) AS lots"),
                &split.windows
            )
        )
    };
    let sql = match by {
        VolumeKey::Code => format!(
            "SELECT g.k AS key, n.name_zh AS name, g.grams AS grams, g.lots AS lots \
             FROM ({}) g LEFT JOIN waste_codes n ON n.code = g.k \
             ORDER BY g.grams DESC, g.k",
            grouped("waste_code")
        ),
        VolumeKey::Enterprise => format!(
            "SELECT g.k AS key, o.name AS name, g.grams AS grams, g.lots AS lots \
             FROM ({}) g LEFT JOIN organizations o ON o.id = g.k \
             ORDER BY g.grams DESC, g.k",
            grouped("enterprise_id")
        ),
        VolumeKey::Disposer => format!(
            "SELECT c.disposer_id AS key, MAX(o.name) AS name, \
             CAST(SUM(g.grams) AS BIGINT) AS grams, CAST(SUM(g.lots) AS BIGINT) AS lots \
             FROM ({}) g JOIN contracts c ON c.id = g.k \
             LEFT JOIN organizations o ON o.id = c.disposer_id \
             GROUP BY c.disposer_id ORDER BY grams DESC, key",
            grouped("contract_id")
        ),
        VolumeKey::Month => return by_month(conn, park_id, bounds, phase, &split),
    };
    load(conn, &sql, park_id)
}

/// A day's totals, read by month.
#[derive(Debug, Clone, QueryableByName)]
struct DaySums {
    #[diesel(sql_type = diesel::sql_types::Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    grams: i64,
    #[diesel(sql_type = BigInt)]
    lots: i64,
}

/// Volumes per month (keyed by the month's index): the whole days' totals each added to the
/// month they start in, the windows' lots bucketed by the database.
fn by_month(
    conn: &mut DbConn,
    park_id: &str,
    bounds: &[NaiveDateTime],
    phase: i32,
    split: &Split,
) -> QueryResult<Vec<VolumeSums>> {
    let months = bounds.len().saturating_sub(1);
    let mut sums: Vec<(i64, i64)> = vec![(0, 0); months];
    if let Some((first, end)) = split.days {
        let cut = if split.cut.is_empty() {
            String::new()
        } else {
            let days: Vec<String> = split.cut.iter().map(|d| day_literal(*d)).collect();
            format!(" AND day NOT IN ({})", days.join(", "))
        };
        let sql = format!(
            "SELECT day, CAST(SUM(grams) AS BIGINT) AS grams, CAST(SUM(lots) AS BIGINT) AS lots \
             FROM lot_volumes WHERE park_id = $1 AND day >= {} AND day < {}{cut} \
             GROUP BY day ORDER BY day",
            day_literal(first),
            day_literal(end)
        );
        for d in load::<DaySums>(conn, &sql, park_id)? {
            let at = day_start(d.day, phase);
            let i = bounds.partition_point(|b| *b <= at).saturating_sub(1);
            if let Some(m) = sums.get_mut(i) {
                m.0 = m.0.checked_add(d.grams).ok_or(overflow())?;
                m.1 = m.1.checked_add(d.lots).ok_or(overflow())?;
            }
        }
    }
    if !split.windows.is_empty() {
        let sql = format!(
            "SELECT CAST(bucket AS TEXT) AS key, CAST(NULL AS TEXT) AS name, \
             CAST(SUM(net_grams) AS BIGINT) AS grams, CAST(COUNT(*) AS BIGINT) AS lots \
             FROM (SELECT {} AS bucket, net_grams FROM ({}) w) t \
             GROUP BY bucket ORDER BY bucket",
            bucket("captured_at", bounds),
            in_windows(conn, "captured_at, net_grams", &split.windows)
        );
        for w in load::<VolumeSums>(conn, &sql, park_id)? {
            if let Some(m) = w.key.parse::<usize>().ok().and_then(|i| sums.get_mut(i)) {
                m.0 = m.0.checked_add(w.grams).ok_or(overflow())?;
                m.1 = m.1.checked_add(w.lots).ok_or(overflow())?;
            }
        }
    }
    Ok(sums
        .into_iter()
        .enumerate()
        .filter(|(_, (_, lots))| *lots != 0)
        .map(|(i, (grams, lots))| VolumeSums {
            key: i.to_string(),
            name: None,
            grams,
            lots,
        })
        .collect())
}

/// What moved in or out of a park's stock of one kind, before the end of the first month
/// (bucket 0) or within a later month (bucket `i`).
#[derive(Debug, Clone, QueryableByName)]
pub struct MovedSums {
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub grams: i64,
    #[diesel(sql_type = BigInt)]
    pub lots: i64,
}

/// The park's stock movements (`stock_movements`, the ledgers' rows) added up per kind: all of
/// them before `ends[0]` in bucket 0, then those of each later month (`ends` are the instants
/// after each month). Adding the buckets up in order gives the stock at each month's end. It
/// reads the park's movements from its first one up to the last end.
pub fn stock_moved(
    conn: &mut DbConn,
    park_id: &str,
    ends: &[NaiveDateTime],
) -> QueryResult<Vec<MovedSums>> {
    let Some(last) = ends.last() else {
        return Ok(Vec::new());
    };
    // Bucket 0 has no lower bound: the search below never compares with the first entry.
    let mut bounds = vec![NaiveDateTime::MIN];
    bounds.extend_from_slice(ends);
    let sql = format!(
        "SELECT {} AS bucket, kind, CAST(SUM(grams) AS BIGINT) AS grams, \
         CAST(SUM(lots) AS BIGINT) AS lots \
         FROM {} WHERE park_id = $1 AND at < {} \
         GROUP BY 1, kind ORDER BY 1, kind",
        bucket("at", &bounds),
        through(conn, "stock_movements", "m", "stock_movements_park_idx"),
        instant(*last),
    );
    load(conn, &sql, park_id)
}

/// A month's total past what 64 bits hold: refused as the database's casts refuse theirs.
fn overflow() -> diesel::result::Error {
    diesel::result::Error::DeserializationError("a month's volume overflows 64 bits".into())
}

/// Runs a query whose one parameter, `$1`, is the park's id, on the concrete backend.
fn load<T>(conn: &mut DbConn, sql: &str, park_id: &str) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        DbConn::Pg(pg) => diesel::sql_query(sql).bind::<Text, _>(park_id).load(pg),
        DbConn::Sqlite(lite) => diesel::sql_query(sql.replace("$1", "?1"))
            .bind::<Text, _>(park_id)
            .load(lite),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_period_in_the_parks_phase_is_whole_days() {
        // Shanghai's months start at 16:00 UTC, the days of its phase (+480) too.
        let bounds = [
            t("2026-09-30 16:00"),
            t("2026-10-31 16:00"),
            t("2026-11-30 16:00"),
        ];
        let s = split(&bounds, 480);
        assert_eq!(s.days, Some((d("2026-10-01"), d("2026-12-01"))));
        assert!(s.cut.is_empty() && s.windows.is_empty());
    }

    #[test]
    fn boundaries_off_the_phase_are_read_from_the_lots() {
        // A park with no phase (UTC days) in Shanghai: every boundary cuts a day.
        let bounds = [
            t("2026-09-30 16:00"),
            t("2026-10-31 16:00"),
            t("2026-11-30 16:00"),
        ];
        let s = split(&bounds, 0);
        assert_eq!(s.days, Some((d("2026-10-01"), d("2026-11-30"))));
        assert_eq!(s.cut, vec![d("2026-10-31")]);
        assert_eq!(
            s.windows,
            vec![
                (t("2026-09-30 16:00"), t("2026-10-01 00:00")),
                (t("2026-10-31 00:00"), t("2026-11-01 00:00")),
                (t("2026-11-30 00:00"), t("2026-11-30 16:00")),
            ]
        );
        // New York in summer: midnight is 04:00 UTC, its phase's days start at 05:00.
        let bounds = [
            t("2026-06-01 04:00"),
            t("2026-07-01 04:00"),
            t("2026-08-01 04:00"),
        ];
        let s = split(&bounds, -300);
        assert_eq!(s.days, Some((d("2026-06-01"), d("2026-07-31"))));
        assert_eq!(s.cut, vec![d("2026-06-30")]);
        assert_eq!(s.windows.len(), 3);
        // A period shorter than a day is read from the lots alone.
        let s = split(&[t("2026-06-01 04:00"), t("2026-06-01 06:00")], 0);
        assert_eq!(s.days, None);
        assert_eq!(
            s.windows,
            vec![(t("2026-06-01 04:00"), t("2026-06-01 06:00"))]
        );
    }

    #[test]
    fn a_row_is_bucketed_by_a_binary_search_over_the_months() {
        let at = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 1, d)
                .and_then(|d| d.and_hms_opt(16, 0, 0))
                .unwrap_or_default()
        };
        assert_eq!(bucket("t", &[at(1), at(2)]), "CAST(0 AS BIGINT)");
        assert_eq!(
            bucket("t", &[at(1), at(2), at(3), at(4)]),
            "CAST(CASE WHEN t < '2026-01-02 16:00:00' THEN 0 ELSE \
             CASE WHEN t < '2026-01-03 16:00:00' THEN 1 ELSE 2 END END AS BIGINT)"
        );
    }
}

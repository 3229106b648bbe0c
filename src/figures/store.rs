//! Queries of the dashboard's figures. Diesel only; no rules. Every figure is added up by the
//! database (`GROUP BY`); each sum is cast to a 64-bit integer, which fails rather than wraps on
//! overflow on both backends.
//!
//! Months of the park's time zone are bucketed without the backends' time-zone functions, which
//! differ: the caller computes each month's first instant in UTC and the query sorts every row
//! into its month with a `CASE` over those instants (see [`bucket`]).

use chrono::NaiveDateTime;
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

/// The weighed lots of a park (in the warehouse, or at the door when collected; not voided, not
/// merely declared) whose business time lies within `bounds`, added up per group: every group,
/// heaviest first. Read from `lots_figures_idx` alone.
pub fn volumes(
    conn: &mut DbConn,
    park_id: &str,
    bounds: &[NaiveDateTime],
    by: VolumeKey,
) -> QueryResult<Vec<VolumeSums>> {
    let weighed = format!(
        "park_id = $1 AND {} AND status IN ('stored', 'collected')",
        range("captured_at", bounds)
    );
    let sums = "CAST(SUM(net_grams) AS BIGINT) AS grams, CAST(COUNT(*) AS BIGINT) AS lots";
    let lots = through(conn, "lots", "l", "lots_figures_idx");
    let grouped = |column: &str| {
        format!("SELECT {column} AS k, {sums} FROM {lots} WHERE {weighed} GROUP BY {column}")
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
        VolumeKey::Month => format!(
            "SELECT CAST(bucket AS TEXT) AS key, CAST(NULL AS TEXT) AS name, \
             CAST(SUM(net_grams) AS BIGINT) AS grams, CAST(COUNT(*) AS BIGINT) AS lots \
             FROM (SELECT {} AS bucket, net_grams FROM {lots} WHERE {weighed}) t \
             GROUP BY bucket ORDER BY bucket",
            bucket("captured_at", bounds)
        ),
    };
    load(conn, &sql, park_id)
}

/// Runs a query whose one parameter, `$1`, is the park's id, on the concrete backend.
fn load<T>(conn: &mut DbConn, sql: &str, park_id: &str) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        DbConn::Pg(pg) => diesel::sql_query(sql).bind::<Text, _>(park_id).load(pg),
        DbConn::Sqlite(lite) => diesel::sql_query(sql.replace("$1", "?"))
            .bind::<Text, _>(park_id)
            .load(lite),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

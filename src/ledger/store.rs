//! Queries on the ledger's movements. Diesel only; no rules.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::DbConn;
use crate::db::schema::stock_movements;
use crate::domain::ids::LotId;

/// Whose ledger: a park's (all its warehouses), a warehouse's or an enterprise's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Park(String),
    Warehouse(String),
    Enterprise(String),
}

impl Holder {
    fn column(&self) -> &'static str {
        match self {
            Holder::Park(_) => "park_id",
            Holder::Warehouse(_) => "warehouse_id",
            Holder::Enterprise(_) => "enterprise_id",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Holder::Park(id) | Holder::Warehouse(id) | Holder::Enterprise(id) => id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stock_movements)]
pub struct MovementRow {
    pub id: String,
    pub park_id: String,
    pub warehouse_id: String,
    pub zone_id: String,
    pub enterprise_id: String,
    pub contract_id: String,
    pub lot_id: LotId,
    pub waste_code: String,
    pub kind: String,
    pub category: String,
    pub movement: String,
    pub grams: i64,
    pub lots: i32,
    pub at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub document_number: Option<String>,
    pub receiver_id: Option<String>,
    pub receiver_name: Option<String>,
    pub by_user: String,
}

/// The movements of one code and category over a period, added up by the database (each sum
/// cast to a 64-bit integer, which fails rather than wraps on overflow on both backends).
#[derive(Debug, Clone, QueryableByName)]
pub struct SumsRow {
    #[diesel(sql_type = Text)]
    pub waste_code: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = BigInt)]
    pub opening_grams: i64,
    #[diesel(sql_type = BigInt)]
    pub opening_lots: i64,
    #[diesel(sql_type = BigInt)]
    pub in_grams: i64,
    #[diesel(sql_type = BigInt)]
    pub in_lots: i64,
    #[diesel(sql_type = BigInt)]
    pub out_grams: i64,
    #[diesel(sql_type = BigInt)]
    pub out_lots: i64,
    #[diesel(sql_type = BigInt)]
    pub corrections_grams: i64,
    #[diesel(sql_type = BigInt)]
    pub voids_grams: i64,
    #[diesel(sql_type = BigInt)]
    pub voids_lots: i64,
}

/// Grams and lots before `start` (the opening stock) and by movement from `start` to `end`,
/// per code and category, of one holder and kind of waste. Served by the index on
/// (holder, kind, at).
pub fn sums(
    conn: &mut DbConn,
    holder: &Holder,
    kind: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<SumsRow>> {
    let sum = |what: &str, when: &str, name: &str| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN {when} THEN {what} ELSE 0 END), 0) AS BIGINT) AS {name}"
        )
    };
    let during = |m: &str| format!("at >= $3 AND movement = '{m}'");
    let columns = [
        sum("grams", "at < $3", "opening_grams"),
        sum("lots", "at < $3", "opening_lots"),
        sum("grams", &during("in"), "in_grams"),
        sum("lots", &during("in"), "in_lots"),
        sum("-grams", &during("out"), "out_grams"),
        sum("-lots", &during("out"), "out_lots"),
        sum("grams", &during("correction"), "corrections_grams"),
        sum("-grams", &during("void"), "voids_grams"),
        sum("-lots", &during("void"), "voids_lots"),
    ]
    .join(", ");
    let sql = format!(
        "SELECT waste_code, category, {columns} FROM stock_movements \
         WHERE {} = $1 AND kind = $2 AND at < $4 \
         GROUP BY waste_code, category ORDER BY waste_code, category",
        holder.column()
    );
    match conn {
        DbConn::Pg(pg) => diesel::sql_query(sql)
            .bind::<Text, _>(holder.id())
            .bind::<Text, _>(kind)
            .bind::<Timestamp, _>(start)
            .bind::<Timestamp, _>(end)
            .load(pg),
        DbConn::Sqlite(lite) => diesel::sql_query(sql.replace('$', "?"))
            .bind::<Text, _>(holder.id())
            .bind::<Text, _>(kind)
            .bind::<Timestamp, _>(start)
            .bind::<Timestamp, _>(end)
            .load(lite),
    }
}

/// The movements of one holder and kind from `start` to `end`, in business-time order (then
/// id), after the cursor `(at, id)`; at most `limit`.
pub fn lines(
    conn: &mut DbConn,
    holder: &Holder,
    kind: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<MovementRow>> {
    let mut q = stock_movements::table
        .select(MovementRow::as_select())
        .filter(stock_movements::kind.eq(kind.to_owned()))
        .filter(stock_movements::at.ge(start))
        .filter(stock_movements::at.lt(end))
        .into_boxed();
    q = match holder {
        Holder::Park(id) => q.filter(stock_movements::park_id.eq(id.clone())),
        Holder::Warehouse(id) => q.filter(stock_movements::warehouse_id.eq(id.clone())),
        Holder::Enterprise(id) => q.filter(stock_movements::enterprise_id.eq(id.clone())),
    };
    if let Some((at, id)) = after {
        // `at >= cursor` first, a range the index seeks to; the `OR` alone is read by neither
        // planner as one, so each page scanned every line before the cursor again.
        q = q
            .filter(stock_movements::at.ge(at))
            .filter(stock_movements::at.gt(at).or(stock_movements::id.gt(id)));
    }
    q.order((stock_movements::at.asc(), stock_movements::id.asc()))
        .limit(limit)
        .load(conn)
}

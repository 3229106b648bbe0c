//! The containers of a lot, one HJ 1276-2022 label each: their digital identification codes,
//! allocated from the producer's sequence of the day; their weights (weighed one by one, or the
//! lot's weight shared); and the random token of each label's public verification page.
//!
//! The lot keeps the list; the lot's own `label_code` is its first container's code.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::{label_sequences, lot_containers, lot_label_texts};
use crate::domain::ids::LotId;
use crate::domain::label::{default_precautions, new_verify_token, shared_weight};
use crate::domain::lot::digital_code;
use crate::domain::uscc::Uscc;
use crate::domain::waste::{Characteristic, WasteCode, WasteKind};
use crate::error::ApiError;
use crate::lots::service::{LabelData, LotView};

/// Rows per insert: 5 parameters each, well under SQLite's limit of bound parameters.
const INSERT_CHUNK: usize = 500;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = lot_containers)]
pub struct ContainerRow {
    pub lot_id: LotId,
    pub position: i32,
    pub label_code: Option<String>,
    pub grams: Option<i64>,
    pub verify_token: String,
}

/// One container of a lot, as its label shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "position": 1,
    "label_code": "91440300MA5F0001819002490820261128001",
    "grams": 160000,
    "weight_shared": false,
    "verify_url": "https://wastetrack.example.cn/api/v1/verify/q3T0bX9kR2vN8mLp4sWc1A"
}))]
pub struct ContainerView {
    /// 1 to the lot's number of containers.
    pub position: i32,
    /// The container's 37-character digital identification code (hazardous waste).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_code: Option<String>,
    /// The container's weight in grams: its own, or (`weight_shared`) its share of the lot's.
    pub grams: i64,
    /// `true`: the containers were not weighed one by one; `grams` is the lot's weight shared.
    pub weight_shared: bool,
    /// The public verification page the label's QR code holds.
    pub verify_url: String,
}

/// Reserves `count` consecutive numbers of the producer's sequence of the day for `code`, and
/// returns the first. The row is bumped in the caller's transaction: PostgreSQL holds its lock
/// until commit and SQLite runs one writer at a time, so concurrent weighings take disjoint
/// ranges, and a rolled-back weighing gives its numbers back — the sequence stays unique and
/// gap-free.
pub fn reserve_sequences(
    conn: &mut DbConn,
    enterprise_id: &str,
    waste_code: &str,
    day: NaiveDate,
    count: i32,
) -> QueryResult<i32> {
    let key = label_sequences::table.find((enterprise_id, waste_code, day));
    let bump = |conn: &mut DbConn| -> QueryResult<Option<i32>> {
        diesel::update(key)
            .set(label_sequences::last.eq(label_sequences::last + count))
            .returning(label_sequences::last)
            .get_result::<i32>(conn)
            .optional()
            .map(|last| last.map(|last| last - count + 1))
    };
    if let Some(first) = bump(conn)? {
        return Ok(first);
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(label_sequences::table)
            .values((
                label_sequences::enterprise_id.eq(enterprise_id),
                label_sequences::waste_code.eq(waste_code),
                label_sequences::day.eq(day),
                label_sequences::last.eq(count),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(1),
        Err(e) if crate::db::is_unique_violation(&e) => {
            bump(conn)?.ok_or(diesel::result::Error::NotFound)
        }
        Err(e) => Err(e),
    }
}

/// The digital identification codes of a hazardous lot's `count` containers, from the
/// producer's sequence of the day (none for general waste). Refused when the day's sequence
/// would pass 999.
pub fn allocate_codes(
    conn: &mut DbConn,
    enterprise_id: &str,
    uscc: &str,
    code: &WasteCode,
    produced_on: NaiveDate,
    count: i32,
) -> Result<Vec<String>, ApiError> {
    if code.kind() != WasteKind::Hazardous {
        return Ok(Vec::new());
    }
    crate::db::locks::enter_label_sequence()?;
    let first = reserve_sequences(conn, enterprise_id, code.as_str(), produced_on, count)?;
    let uscc = Uscc::parse("uscc", uscc)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored credit code: {}", e.message)))?;
    (first..first.saturating_add(count))
        .map(|n| {
            digital_code(&uscc, code, produced_on, u32::try_from(n).unwrap_or(0)).ok_or_else(|| {
                ApiError::Conflict(format!(
                    "the enterprise has labelled 999 containers of {code} produced on {produced_on}"
                ))
            })
        })
        .collect()
}

/// What a weighing says of the containers beyond the lot: their codes, their weights one by
/// one, and the label's harmful constituents and precautions.
#[derive(Debug, Default)]
pub struct NewContainers {
    pub codes: Vec<String>,
    pub weights: Option<Vec<i64>>,
    pub harmful_components: Option<String>,
    pub precautions: Option<String>,
}

/// Inserts the `count` containers of a new lot, each with its code (if any), its weight (if
/// weighed one by one) and a new verification token; and the label's texts.
pub fn insert(
    conn: &mut DbConn,
    lot_id: &LotId,
    count: i32,
    new: NewContainers,
) -> Result<(), ApiError> {
    let rows: Vec<ContainerRow> = (1..=count.max(1))
        .map(|position| {
            let i = usize::try_from(position - 1).unwrap_or(0);
            ContainerRow {
                lot_id: lot_id.clone(),
                position,
                label_code: new.codes.get(i).cloned(),
                grams: new.weights.as_ref().and_then(|w| w.get(i).copied()),
                verify_token: new_verify_token(),
            }
        })
        .collect();
    // Many rows per statement (the weighing's cost stays flat however many containers), on each
    // backend's own connection: the multi-backend one does not batch inserts. One row alone
    // goes by itself: on SQLite a batch costs a savepoint around it.
    if let [row] = rows.as_slice() {
        diesel::insert_into(lot_containers::table)
            .values(row)
            .execute(conn)?;
    } else {
        for chunk in rows.chunks(INSERT_CHUNK) {
            match conn {
                DbConn::Pg(c) => diesel::insert_into(lot_containers::table)
                    .values(chunk)
                    .execute(c)?,
                DbConn::Sqlite(c) => diesel::insert_into(lot_containers::table)
                    .values(chunk)
                    .execute(c)?,
            };
        }
    }
    if new.harmful_components.is_some() || new.precautions.is_some() {
        diesel::insert_into(lot_label_texts::table)
            .values((
                lot_label_texts::lot_id.eq(lot_id),
                lot_label_texts::harmful_components.eq(new.harmful_components),
                lot_label_texts::precautions.eq(new.precautions),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// After the lot's weight changed, its containers' own weights no longer add up to it: the
/// lot's new weight is shared among them from then on.
pub fn share_weights(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<usize> {
    diesel::update(lot_containers::table.filter(lot_containers::lot_id.eq(lot_id)))
        .set(lot_containers::grams.eq(None::<i64>))
        .execute(conn)
}

pub fn list(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Vec<ContainerRow>> {
    lot_containers::table
        .filter(lot_containers::lot_id.eq(lot_id))
        .order(lot_containers::position)
        .select(ContainerRow::as_select())
        .load(conn)
}

/// The containers of several lots, in one query, by lot and position.
pub fn of_lots(conn: &mut DbConn, lot_ids: &[&LotId]) -> QueryResult<Vec<ContainerRow>> {
    lot_containers::table
        .filter(lot_containers::lot_id.eq_any(lot_ids))
        .order((lot_containers::lot_id, lot_containers::position))
        .select(ContainerRow::as_select())
        .load(conn)
}

pub fn find_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<ContainerRow>> {
    lot_containers::table
        .filter(lot_containers::verify_token.eq(token))
        .select(ContainerRow::as_select())
        .first(conn)
        .optional()
}

/// The count of a lot's containers (the rows kept; a lot weighed before containers were kept
/// has one).
pub fn count(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<i64> {
    lot_containers::table
        .filter(lot_containers::lot_id.eq(lot_id))
        .count()
        .get_result(conn)
}

/// The label's harmful constituents and precautions, as given at the weighing.
pub fn label_texts(
    conn: &mut DbConn,
    lot_id: &LotId,
) -> QueryResult<(Option<String>, Option<String>)> {
    Ok(lot_label_texts::table
        .find(lot_id)
        .select((
            lot_label_texts::harmful_components,
            lot_label_texts::precautions,
        ))
        .first(conn)
        .optional()?
        .unwrap_or((None, None)))
}

/// The URL of a container's public verification page.
pub fn verify_url(base_url: &str, token: &str) -> String {
    format!("{base_url}/api/v1/verify/{token}")
}

/// The weight a container's label shows: its own, or its share of the lot's.
pub fn weight(row: &ContainerRow, lot: &LotView, count: i64) -> (i64, bool) {
    match row.grams {
        Some(g) => (g, false),
        None => (
            shared_weight(
                lot.net_grams,
                i32::try_from(count).unwrap_or(1),
                row.position,
            ),
            true,
        ),
    }
}

pub fn views(
    conn: &mut DbConn,
    lot: &LotView,
    base_url: &str,
) -> Result<Vec<ContainerView>, ApiError> {
    let rows = list(conn, &lot.id)?;
    let count = i64::try_from(rows.len()).unwrap_or(1);
    Ok(rows
        .into_iter()
        .map(|row| {
            let (grams, weight_shared) = weight(&row, lot, count);
            ContainerView {
                position: row.position,
                verify_url: verify_url(base_url, &row.verify_token),
                label_code: row.label_code,
                grams,
                weight_shared,
            }
        })
        .collect())
}

/// Everything one container's label shows.
pub struct ContainerLabel {
    pub position: i32,
    pub count: i32,
    pub label_code: Option<String>,
    pub grams: i64,
    pub weight_shared: bool,
    pub harmful_components: String,
    pub precautions: String,
    /// The URL the QR code holds: the container's public verification page.
    pub url: String,
}

/// The labels of a lot's containers (all, or the one at `position`).
pub fn labels(
    conn: &mut DbConn,
    data: &LabelData,
    base_url: &str,
    position: Option<i32>,
) -> Result<Vec<ContainerLabel>, ApiError> {
    let rows = list(conn, &data.lot.id)?;
    let count = i64::try_from(rows.len()).unwrap_or(1);
    let (harmful, precautions) = label_texts(conn, &data.lot.id)?;
    let characteristics: Vec<Characteristic> =
        crate::domain::waste::parse_characteristics("", &data.characteristics.join("/"))
            .unwrap_or_default()
            .into_iter()
            .collect();
    let precautions = precautions.unwrap_or_else(|| default_precautions(&characteristics));
    let harmful = harmful.unwrap_or_else(|| "见主要成分".to_owned());
    let labels: Vec<ContainerLabel> = rows
        .into_iter()
        .filter(|r| position.is_none_or(|p| p == r.position))
        .map(|row| {
            let (grams, weight_shared) = weight(&row, &data.lot, count);
            ContainerLabel {
                position: row.position,
                count: i32::try_from(count).unwrap_or(1),
                url: verify_url(base_url, &row.verify_token),
                label_code: row.label_code,
                grams,
                weight_shared,
                harmful_components: harmful.clone(),
                precautions: precautions.clone(),
            }
        })
        .collect();
    if labels.is_empty() {
        return Err(ApiError::field(
            "container",
            "no_such_container",
            format!("the lot has {count} containers"),
        ));
    }
    Ok(labels)
}

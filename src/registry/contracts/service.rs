//! Use cases on contracts. Each runs inside the caller's write transaction.
//!
//! The rules checked here: the period is sound; members are enterprises of the contract's park
//! that are in the park on the day they join; every price and threshold names a category or code
//! of the catalog and takes effect within the contract's period; and the disposer holds, on the
//! day a hazardous price takes effect, a licence covering what is priced.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Place, Scope, authorize};
use crate::db::DbConn;
use crate::domain::contract::{DatedRule, in_period, licence_covers, member_on, rule_on};
use crate::domain::ids::new_id;
use crate::domain::waste::{CatalogRef, WasteCode, WasteKind};
use crate::error::NOT_VISIBLE;
use crate::error::{ApiError, FieldError};
use crate::registry::catalog::service::check_refs_exist;
use crate::registry::contracts::store::{self, ContractRow, MemberRow, PriceRow, ThresholdRow};

use crate::http::pagination::PageRequest;
use crate::http::{Page, PageQuery};
pub use crate::registry::contracts::store::ContractFilter;
use crate::registry::directory::{service as directory, store as directory_store};
use crate::registry::history::{self, Entity, HistoryQuery, Revision};
use crate::registry::parks::service as parks;
use crate::registry::parks::store as park_store;

/// Longest storage a contract may allow: hazardous waste may be stored one year at most.
pub const MAX_STORAGE_DAYS: i32 = 365;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub enterprise_id: String,
    pub enterprise_name: String,
    /// First day in the contract.
    pub joined_on: NaiveDate,
    /// First day no longer in the contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceView {
    pub id: String,
    /// A waste code (`900-249-08`) or a category (`HW08`); a code's own price wins over its category's.
    pub target: String,
    /// Fen per tonne of actual weight; negative when the disposer buys the waste.
    pub fen_per_tonne: i64,
    /// Applies to weighings from this day until a later price for the same target.
    pub effective_from: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThresholdView {
    pub id: String,
    pub target: String,
    /// Waiting quantity, in grams, at which a pickup is requested.
    pub threshold_grams: i64,
    pub effective_from: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
    "number": "LG-2026-001",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "max_storage_days": 180,
    "pickup_zone_percent": 80,
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct ContractSummary {
    pub id: String,
    /// The contract's own number, unique in its park.
    pub number: String,
    pub park_id: String,
    pub disposer_id: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Longest a lot may be stored before it must be collected.
    pub max_storage_days: i32,
    /// Fill of a zone, in percent of its capacity, at which its waste is called for collection.
    pub pickup_zone_percent: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "con_0193f1c2a4b87d21a1c6e1f0b2d3c4f2",
    "number": "LG-2026-001",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
    "max_storage_days": 180,
    "pickup_zone_percent": 80,
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z",
    "members": [{"enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "enterprise_name": "Huaxin Electronics", "joined_on": "2026-01-01"}],
    "prices": [{"id": "prc_0193f1c2a4b87d21a1c6e1f0b2d3c4f3", "target": "HW08", "fen_per_tonne": 350000, "effective_from": "2026-01-01"}],
    "thresholds": [{"id": "thr_0193f1c2a4b87d21a1c6e1f0b2d3c4f4", "target": "HW08", "threshold_grams": 2000000, "effective_from": "2026-01-01"}]
}))]
pub struct ContractView {
    #[serde(flatten)]
    pub summary: ContractSummary,
    /// Every membership, past and present.
    pub members: Vec<MemberView>,
    /// Every price, past and present, by target and date.
    pub prices: Vec<PriceView>,
    /// Every threshold, past and present, by target and date.
    pub thresholds: Vec<ThresholdView>,
}

pub fn summary(
    crate::registry::contracts::store::Contract {
        contract: row,
        region_code: _region,
    }: store::Contract,
) -> ContractSummary {
    ContractSummary {
        id: row.id,
        number: row.number,
        park_id: row.park_id,
        disposer_id: row.disposer_id,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        max_storage_days: row.max_storage_days,
        pickup_zone_percent: row.pickup_zone_percent,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

fn price_view(row: PriceRow) -> PriceView {
    PriceView {
        id: row.id,
        target: row.target,
        fen_per_tonne: row.fen_per_tonne,
        effective_from: row.effective_from,
    }
}

fn threshold_view(row: ThresholdRow) -> ThresholdView {
    ThresholdView {
        id: row.id,
        target: row.target,
        threshold_grams: row.threshold_grams,
        effective_from: row.effective_from,
    }
}

/// The whole contract as the API shows it.
pub fn full_view(conn: &mut DbConn, contract: store::Contract) -> Result<ContractView, ApiError> {
    let id = contract.contract.id.clone();
    let members = store::members_of(conn, &id)?
        .into_iter()
        .map(
            |crate::registry::contracts::store::Member { member: m, name }| MemberView {
                enterprise_id: m.enterprise_id,
                enterprise_name: name,
                joined_on: m.joined_on,
                left_on: m.left_on,
            },
        )
        .collect();
    let prices = store::prices_of(conn, &id)?
        .into_iter()
        .map(price_view)
        .collect();
    let thresholds = store::thresholds_of(conn, &id)?
        .into_iter()
        .map(threshold_view)
        .collect();
    Ok(ContractView {
        summary: summary(contract),
        members,
        prices,
        thresholds,
    })
}

/// Serialises the changes of one contract (PostgreSQL): checks of existing members and rules
/// and the change they guard happen as one.
fn lock(conn: &mut DbConn, contract: &store::Contract) -> Result<(), ApiError> {
    crate::db::locks::take(
        conn,
        crate::db::locks::Lock::Contract(&contract.contract.id),
    )
}

pub fn load(conn: &mut DbConn, id: &str) -> Result<store::Contract, ApiError> {
    store::find_contract(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
}

pub fn place(c: &store::Contract) -> Place<'_> {
    Place {
        park_id: &c.contract.park_id,
        region_code: &c.region_code,
    }
}

/// The enterprises ever party to the contract (for the access check).
pub fn member_ids(conn: &mut DbConn, contract_id: &str) -> Result<Vec<String>, ApiError> {
    Ok(store::members_of(conn, contract_id)?
        .into_iter()
        .map(|crate::registry::contracts::store::Member { member: m, name: _ }| m.enterprise_id)
        .collect())
}

pub struct NewMember {
    pub enterprise_id: String,
    pub joined_on: Option<NaiveDate>,
}

pub struct NewPrice {
    pub target: CatalogRef,
    pub fen_per_tonne: i64,
    pub effective_from: Option<NaiveDate>,
}

pub struct NewThreshold {
    pub target: CatalogRef,
    pub threshold_grams: i64,
    pub effective_from: Option<NaiveDate>,
}

pub struct NewContract {
    pub number: String,
    pub disposer_id: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub max_storage_days: i32,
    pub pickup_zone_percent: i32,
    pub members: Vec<NewMember>,
    pub prices: Vec<NewPrice>,
    pub thresholds: Vec<NewThreshold>,
}

fn record(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: store::Contract,
) -> Result<ContractView, ApiError> {
    let view = full_view(conn, contract)?;
    history::record(
        conn,
        Entity::Contract,
        &view.summary.id,
        Some(by),
        now,
        &view,
    )?;
    Ok(view)
}

fn check_period(
    errors: &mut Vec<FieldError>,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    max_storage_days: i32,
    pickup_zone_percent: i32,
) {
    if !(1..=100).contains(&pickup_zone_percent) {
        errors.push(FieldError::new(
            "pickup_zone_percent",
            "out_of_range",
            "must be 1 to 100 percent",
        ));
    }
    if valid_to < valid_from {
        errors.push(FieldError::new(
            "valid_to",
            "before_start",
            "must not be before valid_from",
        ));
    }
    if !(1..=MAX_STORAGE_DAYS).contains(&max_storage_days) {
        errors.push(FieldError::new(
            "max_storage_days",
            "out_of_range",
            format!("must be 1 to {MAX_STORAGE_DAYS} days (hazardous waste may be stored one year at most)"),
        ));
    }
}

/// Concludes a contract between `park` and a disposer, with its first members and rules.
pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    park: &park_store::Park,
    new: NewContract,
) -> Result<ContractView, ApiError> {
    let mut errors = Vec::new();
    check_period(
        &mut errors,
        new.valid_from,
        new.valid_to,
        new.max_storage_days,
        new.pickup_zone_percent,
    );
    if directory_store::find_disposer(conn, &new.disposer_id)?.is_none() {
        errors.push(FieldError::new(
            "disposer_id",
            "not_found",
            "no such disposal company",
        ));
    }
    if store::number_taken(conn, &park.park.organization_id, &new.number)? {
        errors.push(FieldError::new(
            "number",
            "taken",
            "the park already has a contract with this number",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let row = ContractRow {
        id: new_id("con"),
        park_id: park.park.organization_id.clone(),
        disposer_id: new.disposer_id,
        number: new.number,
        valid_from: new.valid_from,
        valid_to: new.valid_to,
        max_storage_days: new.max_storage_days,
        pickup_zone_percent: new.pickup_zone_percent,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    store::insert_contract(conn, &row)?;
    let contract = store::Contract {
        contract: row,
        region_code: park.park.region_code.clone(),
    };
    for (i, m) in new.members.into_iter().enumerate() {
        add_member_row(conn, now, &contract, m, &format!("members[{i}]."))?;
    }
    let mut errors = Vec::new();
    for (i, p) in new.prices.into_iter().enumerate() {
        if let Err(e) = add_price_row(conn, now, by, &contract, p, &format!("prices[{i}].")) {
            errors.extend(field_errors(e)?);
        }
    }
    for (i, t) in new.thresholds.into_iter().enumerate() {
        if let Err(e) = add_threshold_row(conn, now, by, &contract, t, &format!("thresholds[{i}]."))
        {
            errors.extend(field_errors(e)?);
        }
    }
    if !errors.is_empty() {
        // The transaction is rolled back: nothing of the contract is stored.
        return Err(ApiError::Validation(errors));
    }
    record(conn, now, by, contract)
}

/// Field errors of a validation failure, so that every bad line is reported at once; any other
/// error passes through.
fn field_errors(e: ApiError) -> Result<Vec<FieldError>, ApiError> {
    match e {
        ApiError::Validation(errors) => Ok(errors),
        other => Err(other),
    }
}

fn add_member_row(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    contract: &store::Contract,
    new: NewMember,
    prefix: &str,
) -> Result<(), ApiError> {
    let c = &contract.contract;
    let field = |name: &str| format!("{prefix}{name}");
    let joined_on = new.joined_on.unwrap_or(c.valid_from);
    let enterprise = park_store::find_enterprise(conn, &new.enterprise_id)?
        .filter(|e| e.enterprise.park_id == c.park_id)
        .ok_or_else(|| {
            ApiError::field(
                field("enterprise_id"),
                "not_in_park",
                "no such enterprise in the contract's park",
            )
        })?;
    if !in_period(joined_on, c.valid_from, c.valid_to) {
        return Err(ApiError::field(
            field("joined_on"),
            "out_of_period",
            format!(
                "must be within the contract's period {} to {}",
                c.valid_from, c.valid_to
            ),
        ));
    }
    if !member_on(
        joined_on,
        enterprise.enterprise.joined_on,
        enterprise.enterprise.left_on,
    ) {
        return Err(ApiError::field(
            field("joined_on"),
            "not_in_park",
            "the enterprise is not in the park on that day",
        ));
    }
    let memberships = store::members_of(conn, &c.id)?;
    if memberships.iter().any(
        |crate::registry::contracts::store::Member { member: m, name: _ }| {
            m.enterprise_id == new.enterprise_id && m.left_on.is_none_or(|left| joined_on < left)
        },
    ) {
        return Err(ApiError::field(
            field("enterprise_id"),
            "already_member",
            "the enterprise is already a member from that day",
        ));
    }
    let now = now.naive_utc();
    store::insert_member(
        conn,
        &MemberRow {
            id: new_id("mem"),
            contract_id: c.id.clone(),
            enterprise_id: new.enterprise_id,
            joined_on,
            // A membership ends, at the latest, when the enterprise leaves the park.
            left_on: enterprise.enterprise.left_on,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(())
}

fn check_rule_target(
    conn: &mut DbConn,
    contract: &store::Contract,
    target: &CatalogRef,
    effective_from: NaiveDate,
    prefix: &str,
    needs_licence: bool,
) -> Result<(), ApiError> {
    let c = &contract.contract;
    let mut errors = check_refs_exist(
        conn,
        |_| format!("{prefix}target"),
        std::slice::from_ref(target),
        effective_from,
    )?;
    if !in_period(effective_from, c.valid_from, c.valid_to) {
        errors.push(FieldError::new(
            format!("{prefix}effective_from"),
            "out_of_period",
            format!(
                "must be within the contract's period {} to {}",
                c.valid_from, c.valid_to
            ),
        ));
    } else if needs_licence && target.kind() == WasteKind::Hazardous {
        let licences: Vec<_> = directory_store::licences_of(conn, &c.disposer_id)?
            .iter()
            .map(directory::licence_terms)
            .collect();
        if !licence_covers(&licences, target, effective_from) {
            errors.push(FieldError::new(
                format!("{prefix}target"),
                "not_licensed",
                format!("the disposal company holds no licence covering {target} valid on {effective_from}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn add_price_row(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: &store::Contract,
    new: NewPrice,
    prefix: &str,
) -> Result<PriceRow, ApiError> {
    let effective_from = new.effective_from.unwrap_or(contract.contract.valid_from);
    check_rule_target(conn, contract, &new.target, effective_from, prefix, true)?;
    if store::prices_of(conn, &contract.contract.id)?
        .iter()
        .any(|p| p.target == new.target.as_str() && p.effective_from == effective_from)
    {
        return Err(ApiError::field(
            format!("{prefix}effective_from"),
            "duplicate",
            format!("{} already has a price from {effective_from}", new.target),
        ));
    }
    let row = PriceRow {
        id: new_id("prc"),
        contract_id: contract.contract.id.clone(),
        target: new.target.as_str().to_owned(),
        fen_per_tonne: new.fen_per_tonne,
        effective_from,
        created_at: now.naive_utc(),
        created_by: Some(by.to_owned()),
    };
    store::insert_price(conn, &row)?;
    Ok(row)
}

fn add_threshold_row(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: &store::Contract,
    new: NewThreshold,
    prefix: &str,
) -> Result<ThresholdRow, ApiError> {
    let effective_from = new.effective_from.unwrap_or(contract.contract.valid_from);
    check_rule_target(conn, contract, &new.target, effective_from, prefix, false)?;
    if store::thresholds_of(conn, &contract.contract.id)?
        .iter()
        .any(|t| t.target == new.target.as_str() && t.effective_from == effective_from)
    {
        return Err(ApiError::field(
            format!("{prefix}effective_from"),
            "duplicate",
            format!(
                "{} already has a threshold from {effective_from}",
                new.target
            ),
        ));
    }
    let row = ThresholdRow {
        id: new_id("thr"),
        contract_id: contract.contract.id.clone(),
        target: new.target.as_str().to_owned(),
        threshold_grams: new.threshold_grams,
        effective_from,
        created_at: now.naive_utc(),
        created_by: Some(by.to_owned()),
    };
    store::insert_threshold(conn, &row)?;
    Ok(row)
}

pub fn add_member(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: store::Contract,
    new: NewMember,
) -> Result<ContractView, ApiError> {
    lock(conn, &contract)?;
    add_member_row(conn, now, &contract, new, "")?;
    touch(conn, now, by, contract)
}

/// Records that an enterprise leaves the contract: it is no longer a member from `left_on`.
pub fn end_member(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: store::Contract,
    enterprise_id: &str,
    left_on: NaiveDate,
) -> Result<ContractView, ApiError> {
    lock(conn, &contract)?;
    let open = store::members_of(conn, &contract.contract.id)?
        .into_iter()
        .map(|crate::registry::contracts::store::Member { member: m, name: _ }| m)
        .find(|m| m.enterprise_id == enterprise_id && m.left_on.is_none())
        .ok_or(ApiError::NotFound(
            "the enterprise has no open membership in this contract",
        ))?;
    if left_on <= open.joined_on {
        return Err(ApiError::field(
            "left_on",
            "before_joining",
            format!("must be after the day it joined ({})", open.joined_on),
        ));
    }
    store::save_member(
        conn,
        &MemberRow {
            left_on: Some(left_on),
            updated_at: now.naive_utc(),
            ..open
        },
    )?;
    touch(conn, now, by, contract)
}

pub fn add_price(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: store::Contract,
    new: NewPrice,
) -> Result<ContractView, ApiError> {
    lock(conn, &contract)?;
    add_price_row(conn, now, by, &contract, new, "")?;
    touch(conn, now, by, contract)
}

pub fn add_threshold(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    contract: store::Contract,
    new: NewThreshold,
) -> Result<ContractView, ApiError> {
    lock(conn, &contract)?;
    add_threshold_row(conn, now, by, &contract, new, "")?;
    touch(conn, now, by, contract)
}

/// Extends or shortens the contract, or changes its storage limit. Prices, thresholds and
/// memberships already recorded must still fall within the new period.
pub fn update(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    crate::registry::contracts::store::Contract {
        contract: mut row,
        region_code: region,
    }: store::Contract,
    valid_to: Option<NaiveDate>,
    max_storage_days: Option<i32>,
    pickup_zone_percent: Option<i32>,
) -> Result<ContractView, ApiError> {
    crate::db::locks::take(conn, crate::db::locks::Lock::Contract(&row.id))?;
    let new_to = valid_to.unwrap_or(row.valid_to);
    let new_days = max_storage_days.unwrap_or(row.max_storage_days);
    let new_percent = pickup_zone_percent.unwrap_or(row.pickup_zone_percent);
    let mut errors = Vec::new();
    check_period(&mut errors, row.valid_from, new_to, new_days, new_percent);
    let latest_start =
        store::prices_of(conn, &row.id)?
            .iter()
            .map(|p| p.effective_from)
            .chain(
                store::thresholds_of(conn, &row.id)?
                    .iter()
                    .map(|t| t.effective_from),
            )
            .chain(store::members_of(conn, &row.id)?.iter().map(
                |crate::registry::contracts::store::Member { member: m, name: _ }| m.joined_on,
            ))
            .max();
    if latest_start.is_some_and(|d| d > new_to) {
        errors.push(FieldError::new(
            "valid_to",
            "rules_after_end",
            "a membership, price or threshold starts after this day",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    row.valid_to = new_to;
    row.max_storage_days = new_days;
    row.pickup_zone_percent = new_percent;
    touch(
        conn,
        now,
        by,
        crate::registry::contracts::store::Contract {
            contract: row,
            region_code: region,
        },
    )
}

/// Saves the contract's header with a new `updated_at` and records the new version.
fn touch(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    crate::registry::contracts::store::Contract {
        contract: mut row,
        region_code: region,
    }: store::Contract,
) -> Result<ContractView, ApiError> {
    row.updated_at = now.naive_utc();
    store::save_contract(conn, &row)?;
    record(
        conn,
        now,
        by,
        crate::registry::contracts::store::Contract {
            contract: row,
            region_code: region,
        },
    )
}

/// What the contract said about a code on a day.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "900-249-08",
    "on": "2026-06-01",
    "in_force": true,
    "price": {"id": "prc_0193f1c2a4b87d21a1c6e1f0b2d3c4f3", "target": "HW08", "fen_per_tonne": 350000, "effective_from": "2026-01-01"},
    "threshold": {"id": "thr_0193f1c2a4b87d21a1c6e1f0b2d3c4f4", "target": "HW08", "threshold_grams": 2000000, "effective_from": "2026-01-01"}
}))]
pub struct TermsView {
    pub code: String,
    pub on: NaiveDate,
    /// Whether the contract was valid that day.
    pub in_force: bool,
    /// The price that applied, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceView>,
    /// The pickup threshold that applied, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdView>,
}

/// The price and threshold in force for `code` on `day`.
pub fn terms_on(
    conn: &mut DbConn,
    contract: &store::Contract,
    code: &WasteCode,
    day: NaiveDate,
) -> Result<TermsView, ApiError> {
    let prices = store::prices_of(conn, &contract.contract.id)?;
    let thresholds = store::thresholds_of(conn, &contract.contract.id)?;
    let dated = |target: &str, effective_from: NaiveDate, index: usize| {
        CatalogRef::parse("", target).ok().map(|target| DatedRule {
            target,
            effective_from,
            value: index,
        })
    };
    let price_rules: Vec<_> = prices
        .iter()
        .enumerate()
        .filter_map(|(i, p)| dated(&p.target, p.effective_from, i))
        .collect();
    let threshold_rules: Vec<_> = thresholds
        .iter()
        .enumerate()
        .filter_map(|(i, t)| dated(&t.target, t.effective_from, i))
        .collect();
    let in_force = in_period(
        day,
        contract.contract.valid_from,
        contract.contract.valid_to,
    );
    Ok(TermsView {
        code: code.as_str().to_owned(),
        on: day,
        in_force,
        price: rule_on(&price_rules, code, day)
            .filter(|_| in_force)
            .map(|r| price_view(prices[r.value].clone())),
        threshold: rule_on(&threshold_rules, code, day)
            .filter(|_| in_force)
            .map(|r| threshold_view(thresholds[r.value].clone())),
    })
}

/// A licence or a contract that ends soon.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "licence",
    "id": "lic_0193f1c2a4b87d21a1c6e1f0b2d3c4eb",
    "number": "粤危废经第440300001号",
    "valid_to": "2026-12-20",
    "days_left": 22,
    "disposer_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4ea"
}))]
pub struct Expiration {
    /// `licence` or `contract`.
    pub kind: &'static str,
    pub id: String,
    pub number: String,
    /// Last day of validity.
    pub valid_to: NaiveDate,
    /// Days from today to `valid_to` (0: it ends today).
    pub days_left: i64,
    pub disposer_id: String,
    /// For a contract: its park.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub park_id: Option<String>,
}

/// Most alerts returned by one call.
pub const MAX_ALERTS: i64 = 500;

/// Licences and contracts within the scope that end between `today` and `today + within_days`.
/// `extra_disposer` adds a disposal company's own licences (it sees them without a contract).
pub fn expirations(
    conn: &mut DbConn,
    contract_scope: &crate::auth::policy::Scope,
    licence_scope: Option<&crate::auth::policy::Scope>,
    today: NaiveDate,
    within_days: i64,
) -> Result<Vec<Expiration>, ApiError> {
    let until = today + chrono::Duration::days(within_days);
    let page = crate::http::pagination::PageRequest {
        limit: MAX_ALERTS,
        after: None,
    };
    let filter = store::ContractFilter {
        ending_between: Some((today, until)),
        ..Default::default()
    };
    let mut alerts: Vec<Expiration> = store::list_contracts(conn, contract_scope, &filter, &page)?
        .into_iter()
        .map(
            |crate::registry::contracts::store::Contract {
                 contract: c,
                 region_code: _,
             }| Expiration {
                kind: "contract",
                days_left: crate::domain::contract::days_until(today, c.valid_to),
                id: c.id,
                number: c.number,
                valid_to: c.valid_to,
                disposer_id: c.disposer_id,
                park_id: Some(c.park_id),
            },
        )
        .collect();
    use crate::auth::policy::Scope;
    let disposers = match licence_scope {
        None => Some(Vec::new()),
        Some(Scope::All) => None,
        Some(scope) => {
            let mut ids = store::disposers_in_scope(conn, scope)?;
            // A disposal company is told about its own licences even before any contract.
            if let Scope::Own(org) = scope {
                ids.push(org.clone());
            }
            Some(ids)
        }
    };
    alerts.extend(
        directory_store::licences_ending(conn, today, until, disposers.as_deref())?
            .into_iter()
            .map(
                |crate::registry::directory::store::Licence {
                     licence: l,
                     disposer_name: _,
                 }| Expiration {
                    kind: "licence",
                    days_left: crate::domain::contract::days_until(today, l.valid_to),
                    id: l.id,
                    number: l.number,
                    valid_to: l.valid_to,
                    disposer_id: l.disposer_id,
                    park_id: None,
                },
            ),
    );
    alerts.sort_by(|a, b| (a.valid_to, &a.id).cmp(&(b.valid_to, &b.id)));
    alerts.truncate(usize::try_from(MAX_ALERTS).unwrap_or(500));
    Ok(alerts)
}

/// Loads a contract the principal may read (404 otherwise).
fn load_readable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Contract, ApiError> {
    let contract = load(conn, id)?;
    let members = member_ids(conn, id)?;
    authorize(
        principal,
        Action::ReadContract {
            place: place(&contract),
            disposer_id: &contract.contract.disposer_id,
            member_ids: &members,
        },
    )?;
    Ok(contract)
}

/// Loads a contract the principal may change: 403 for a party that may only read it, 404 for
/// the others.
fn load_manageable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<store::Contract, ApiError> {
    let contract = load(conn, id)?;
    let members = member_ids(conn, id)?;
    authorize(
        principal,
        Action::ManageContract {
            place: place(&contract),
            disposer_id: &contract.contract.disposer_id,
            member_ids: &members,
        },
    )?;
    Ok(contract)
}

/// Concludes a contract in a park the principal manages: 404 for a park it may not see.
pub fn conclude_contract(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    park_id: &str,
    new: NewContract,
) -> Result<ContractView, ApiError> {
    let park = parks::load_park(conn, park_id)?;
    authorize(principal, Action::ManagePark(parks::place(&park)))?;
    create(conn, now, &principal.user_id, &park, new)
}

/// One page of the contracts within `scope` that match `filter`.
pub fn list_contracts(
    conn: &mut DbConn,
    scope: &Scope,
    filter: &ContractFilter,
    page: &PageRequest,
) -> Result<Page<ContractSummary>, ApiError> {
    let rows = store::list_contracts(conn, scope, filter, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.contract.id.as_str()).map(summary))
}

/// A contract the principal may read, with its members, prices and thresholds.
pub fn get_contract(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<ContractView, ApiError> {
    let contract = load_readable(conn, principal, id)?;
    full_view(conn, contract)
}

/// Changes the period or limits of a contract the principal may manage (see [`update`]).
pub fn update_contract(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    valid_to: Option<NaiveDate>,
    max_storage_days: Option<i32>,
    pickup_zone_percent: Option<i32>,
) -> Result<ContractView, ApiError> {
    let contract = load_manageable(conn, principal, id)?;
    update(
        conn,
        now,
        &principal.user_id,
        contract,
        valid_to,
        max_storage_days,
        pickup_zone_percent,
    )
}

/// The versions of a contract the principal may read.
pub fn contract_history(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    load_readable(conn, principal, id)?;
    history::list(conn, Entity::Contract, id, query, page)
}

/// An enterprise joins a contract the principal may manage.
pub fn join_contract(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    new: NewMember,
) -> Result<ContractView, ApiError> {
    let contract = load_manageable(conn, principal, id)?;
    add_member(conn, now, &principal.user_id, contract, new)
}

/// An enterprise leaves a contract the principal may manage (see [`end_member`]).
pub fn leave_contract(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    enterprise_id: &str,
    left_on: NaiveDate,
) -> Result<ContractView, ApiError> {
    let contract = load_manageable(conn, principal, id)?;
    end_member(
        conn,
        now,
        &principal.user_id,
        contract,
        enterprise_id,
        left_on,
    )
}

/// Adds a price to a contract the principal may manage.
pub fn price_contract(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    new: NewPrice,
) -> Result<ContractView, ApiError> {
    let contract = load_manageable(conn, principal, id)?;
    add_price(conn, now, &principal.user_id, contract, new)
}

/// Adds a pickup threshold to a contract the principal may manage.
pub fn set_contract_threshold(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    new: NewThreshold,
) -> Result<ContractView, ApiError> {
    let contract = load_manageable(conn, principal, id)?;
    add_threshold(conn, now, &principal.user_id, contract, new)
}

/// What a contract the principal may read said about `code` on a day: `on`, or by default
/// today in the park's time zone.
pub fn contract_terms(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    code: &WasteCode,
    on: Option<NaiveDate>,
) -> Result<TermsView, ApiError> {
    let contract = load_readable(conn, principal, id)?;
    let day = match on {
        Some(day) => day,
        None => {
            let park = parks::load_park(conn, &contract.contract.park_id)?;
            crate::domain::time::local_date(now, parks::park_time_zone(&park.park))
        }
    };
    terms_on(conn, &contract, code, day)
}

//! Queries on collections, manifests, their lots, signatures, versions and revisions, and the
//! serial counters. Diesel only; no rules.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::policy::ManifestScope;
use crate::db::DbConn;
use crate::db::schema::{
    collections, disposers, manifest_counters, manifest_follows, manifest_lots,
    manifest_official_numbers, manifest_outbounds, manifest_places, manifest_records,
    manifest_refusals, manifest_revisions, manifest_signatures, manifest_versions, manifests,
    parks,
};
use crate::domain::ids::{LotId, ManifestId, PickupRequestId};
use crate::domain::manifest::{CaseStatus, ManifestStatus, RevisionStatus};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = collections)]
pub struct CollectionRow {
    pub id: String,
    pub request_id: PickupRequestId,
    pub park_id: String,
    pub carrier_id: String,
    pub vehicle_id: String,
    pub driver_id: String,
    pub scale_id: String,
    pub gross_grams: Option<i64>,
    pub tare_grams: Option<i64>,
    pub net_grams: i64,
    pub captured_at: NaiveDateTime,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    /// The escort (押运员) the pickup was scheduled with, a user of the carrier.
    pub escort_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = manifests)]
#[diesel(treat_none_as_null = true)]
pub struct ManifestRow {
    pub id: ManifestId,
    pub number: String,
    pub kind: String,
    pub collection_id: String,
    pub park_id: String,
    pub region_code: String,
    pub status: ManifestStatus,
    pub consignor_type: String,
    pub consignor_id: String,
    pub carrier_id: String,
    pub vehicle_id: String,
    pub driver_id: String,
    pub receiver_id: String,
    pub licence_id: Option<String>,
    pub waste_code: String,
    pub category: String,
    pub physical_form: String,
    pub packaging: String,
    pub emergency_measures: String,
    pub inbound_grams: i64,
    pub outbound_grams: i64,
    pub received_grams: Option<i64>,
    pub refused_grams: Option<i64>,
    pub decision: Option<String>,
    pub treatment: Option<String>,
    pub receipt_due_on: Option<NaiveDate>,
    pub flag_detail: Option<String>,
    pub case_status: Option<CaseStatus>,
    pub case_resolution: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A manifest's escort and addresses, as at the issue.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_places)]
pub struct PlacesRow {
    pub manifest_id: ManifestId,
    pub escort_id: Option<String>,
    /// Where the waste leaves from: the warehouse's address, or the park's.
    pub departure_address: String,
    /// Where it goes: the receiver's address.
    pub destination_address: String,
}

pub fn insert_places(conn: &mut DbConn, row: &PlacesRow) -> QueryResult<()> {
    diesel::insert_into(manifest_places::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// A manifest issued to resolve a refusal, and the refused manifest it follows.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_follows)]
pub struct FollowRow {
    pub manifest_id: ManifestId,
    pub follows_manifest_id: ManifestId,
    /// `return` (to the consignor) or `forward` (to another receiver).
    pub reason: String,
}

pub fn insert_follow(conn: &mut DbConn, row: &FollowRow) -> QueryResult<()> {
    diesel::insert_into(manifest_follows::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The refused manifest a manifest follows, if it was issued by a resolution.
pub fn follow_of(conn: &mut DbConn, manifest_id: &ManifestId) -> QueryResult<Option<FollowRow>> {
    manifest_follows::table
        .find(manifest_id)
        .select(FollowRow::as_select())
        .first(conn)
        .optional()
}

/// A lot the receiver refused, and the grams of it refused.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_refusals)]
pub struct RefusalRow {
    pub manifest_id: ManifestId,
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub grams: i64,
}

/// Inserts the refused lots of a receipt, one statement each (no batch insert on both
/// backends at once).
pub fn insert_refusals(conn: &mut DbConn, rows: &[RefusalRow]) -> QueryResult<()> {
    for row in rows {
        diesel::insert_into(manifest_refusals::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The refused lots of a manifest, in lot order (none when nothing was refused, or the refusal
/// was recorded before refused lots were).
pub fn refusals_of(conn: &mut DbConn, manifest_id: &ManifestId) -> QueryResult<Vec<RefusalRow>> {
    manifest_refusals::table
        .filter(manifest_refusals::manifest_id.eq(manifest_id))
        .select(RefusalRow::as_select())
        .order(manifest_refusals::lot_id.asc())
        .load(conn)
}

/// The lots a manifest carries: those it was issued with, or, for a manifest following a
/// refused one, the refused lots of that one at their refused grams.
pub fn origins_of(conn: &mut DbConn, row: &ManifestRow) -> QueryResult<Vec<ManifestLotRow>> {
    match follow_of(conn, &row.id)? {
        Some(follow) => Ok(refusals_of(conn, &follow.follows_manifest_id)?
            .into_iter()
            .map(|r| ManifestLotRow {
                manifest_id: row.id.clone(),
                lot_id: r.lot_id,
                enterprise_id: r.enterprise_id,
                inbound_grams: r.grams,
            })
            .collect()),
        None => lots_of(conn, &row.id),
    }
}

/// How a manifest's outbound figure came about: `weighed` (its own weighing, with the scale and
/// the device's capture time) or `allocated` (its share of the vehicle's weighing).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_outbounds)]
pub struct OutboundRow {
    pub manifest_id: ManifestId,
    pub basis: String,
    pub scale_id: Option<String>,
    pub captured_at: Option<NaiveDateTime>,
}

pub fn insert_outbound(conn: &mut DbConn, row: &OutboundRow) -> QueryResult<()> {
    diesel::insert_into(manifest_outbounds::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The outbound bases of several manifests, by manifest, in one query.
pub fn outbounds_of(
    conn: &mut DbConn,
    manifest_ids: &[ManifestId],
) -> QueryResult<HashMap<ManifestId, OutboundRow>> {
    if manifest_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(manifest_outbounds::table
        .filter(manifest_outbounds::manifest_id.eq_any(manifest_ids))
        .select(OutboundRow::as_select())
        .load::<OutboundRow>(conn)?
        .into_iter()
        .map(|o| (o.manifest_id.clone(), o))
        .collect())
}

/// The official number the national information system assigned to a manifest when it was
/// filed there, who recorded it and when.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = manifest_official_numbers)]
pub struct OfficialNumberRow {
    pub manifest_id: ManifestId,
    pub official_number: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_lots)]
pub struct ManifestLotRow {
    pub manifest_id: ManifestId,
    pub lot_id: LotId,
    pub enterprise_id: String,
    pub inbound_grams: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_signatures)]
pub struct SignatureRow {
    pub id: String,
    pub manifest_id: ManifestId,
    pub step: String,
    pub user_id: String,
    pub organization_id: String,
    pub role: String,
    pub at: NaiveDateTime,
    pub data: Option<String>,
    /// The SHA-256 of the copy of record the signature made.
    pub document_sha256: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = manifest_revisions)]
#[diesel(treat_none_as_null = true)]
pub struct RevisionRow {
    pub id: String,
    pub manifest_id: ManifestId,
    pub proposed_by: String,
    pub proposed_org: String,
    pub reason: String,
    pub changes: String,
    pub status: RevisionStatus,
    pub needed: String,
    pub approved: String,
    pub decided_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn insert_collection(conn: &mut DbConn, row: &CollectionRow) -> QueryResult<()> {
    diesel::insert_into(collections::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The next serial of a prefix, in the caller's transaction: the counter row is locked until
/// the transaction ends, so concurrent manifests get consecutive serials and a rolled-back one
/// gives its serial back (no gap).
pub fn next_serial(conn: &mut DbConn, prefix: &str) -> Result<i64, crate::error::ApiError> {
    crate::db::locks::take(conn, crate::db::locks::Lock::ManifestSerial(prefix))?;
    let updated: Option<i64> = diesel::update(manifest_counters::table.find(prefix))
        .set(manifest_counters::last.eq(manifest_counters::last + 1))
        .returning(manifest_counters::last)
        .get_result(conn)
        .optional()?;
    match updated {
        Some(last) => Ok(last),
        None => {
            diesel::insert_into(manifest_counters::table)
                .values((
                    manifest_counters::prefix.eq(prefix),
                    manifest_counters::last.eq(1i64),
                ))
                .execute(conn)?;
            Ok(1)
        }
    }
}

pub fn find_collection(conn: &mut DbConn, id: &str) -> QueryResult<Option<CollectionRow>> {
    collections::table
        .find(id)
        .select(CollectionRow::as_select())
        .first(conn)
        .optional()
}

/// The manifests a lot left on (one, unless the lot never left), oldest first.
pub fn manifests_of_lot(conn: &mut DbConn, lot_id: &LotId) -> QueryResult<Vec<ManifestRow>> {
    manifests::table
        .filter(
            manifests::id.eq_any(
                manifest_lots::table
                    .filter(manifest_lots::lot_id.eq(lot_id))
                    .select(manifest_lots::manifest_id),
            ),
        )
        .select(ManifestRow::as_select())
        .order(manifests::id.asc())
        .load(conn)
}

pub fn insert_manifest(conn: &mut DbConn, row: &ManifestRow) -> QueryResult<()> {
    diesel::insert_into(manifests::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_manifest(conn: &mut DbConn, row: &ManifestRow) -> QueryResult<()> {
    diesel::update(manifests::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

/// The manifest an official number was recorded for, if any.
pub fn manifest_of_official_number(
    conn: &mut DbConn,
    official_number: &str,
) -> QueryResult<Option<ManifestId>> {
    manifest_official_numbers::table
        .filter(manifest_official_numbers::official_number.eq(official_number))
        .select(manifest_official_numbers::manifest_id)
        .first(conn)
        .optional()
}

/// The official number recorded for a manifest, if any.
pub fn official_number_of(
    conn: &mut DbConn,
    manifest_id: &ManifestId,
) -> QueryResult<Option<String>> {
    manifest_official_numbers::table
        .find(manifest_id)
        .select(manifest_official_numbers::official_number)
        .first(conn)
        .optional()
}

/// What a page of the manifest export shows beside the rows: the official numbers recorded
/// and the manifests whose arrival is recorded.
#[derive(Debug, Default)]
pub struct ExportFacts {
    pub official_numbers: HashMap<ManifestId, String>,
    pub arrived: std::collections::HashSet<ManifestId>,
}

/// The export facts of a page of manifests: two queries, whatever the page holds.
pub fn export_facts(conn: &mut DbConn, rows: &[ManifestRow]) -> QueryResult<ExportFacts> {
    let ids: Vec<&ManifestId> = rows.iter().map(|r| &r.id).collect();
    if ids.is_empty() {
        return Ok(ExportFacts::default());
    }
    Ok(ExportFacts {
        official_numbers: manifest_official_numbers::table
            .filter(manifest_official_numbers::manifest_id.eq_any(&ids))
            .select((
                manifest_official_numbers::manifest_id,
                manifest_official_numbers::official_number,
            ))
            .load::<(ManifestId, String)>(conn)?
            .into_iter()
            .collect(),
        arrived: manifest_signatures::table
            .filter(manifest_signatures::manifest_id.eq_any(&ids))
            .filter(manifest_signatures::step.eq(crate::manifests::service::ARRIVAL))
            .select(manifest_signatures::manifest_id)
            .load::<ManifestId>(conn)?
            .into_iter()
            .collect(),
    })
}

/// Records (or, on a draft, replaces) the official number of a manifest.
pub fn save_official_number(conn: &mut DbConn, row: &OfficialNumberRow) -> QueryResult<()> {
    diesel::delete(manifest_official_numbers::table.find(&row.manifest_id)).execute(conn)?;
    diesel::insert_into(manifest_official_numbers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_manifest(conn: &mut DbConn, id: &ManifestId) -> QueryResult<Option<ManifestRow>> {
    manifests::table
        .find(id)
        .select(ManifestRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_manifest_lot(conn: &mut DbConn, row: &ManifestLotRow) -> QueryResult<()> {
    diesel::insert_into(manifest_lots::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn lots_of(conn: &mut DbConn, manifest_id: &ManifestId) -> QueryResult<Vec<ManifestLotRow>> {
    manifest_lots::table
        .filter(manifest_lots::manifest_id.eq(manifest_id))
        .select(ManifestLotRow::as_select())
        .order(manifest_lots::lot_id.asc())
        .load(conn)
}

pub fn insert_signature(conn: &mut DbConn, row: &SignatureRow) -> QueryResult<()> {
    diesel::insert_into(manifest_signatures::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn signatures_of(
    conn: &mut DbConn,
    manifest_id: &ManifestId,
) -> QueryResult<Vec<SignatureRow>> {
    manifest_signatures::table
        .filter(manifest_signatures::manifest_id.eq(manifest_id))
        .select(SignatureRow::as_select())
        .order(manifest_signatures::id.asc())
        .load(conn)
}

pub fn insert_version(
    conn: &mut DbConn,
    manifest_id: &ManifestId,
    version: i32,
    data: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(manifest_versions::table)
        .values((
            manifest_versions::manifest_id.eq(manifest_id),
            manifest_versions::version.eq(version),
            manifest_versions::data.eq(data),
            manifest_versions::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// A copy of record: the manifest's canonical JSON at a signed step, at its issue, or as a
/// version stood when a revision replaced it. Inserted, never changed.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = manifest_records)]
pub struct RecordRow {
    pub manifest_id: ManifestId,
    pub seq: i32,
    pub version: i32,
    pub event: String,
    pub signature_id: Option<String>,
    pub document: String,
    pub sha256: String,
    pub created_at: NaiveDateTime,
}

/// Inserts the next copy of record of a manifest (under the manifest's lock, or as it is
/// issued); returns its number among the manifest's copies.
#[allow(clippy::too_many_arguments)]
pub fn insert_record(
    conn: &mut DbConn,
    manifest_id: &ManifestId,
    version: i32,
    event: &str,
    signature_id: Option<&str>,
    document: &str,
    sha256: &str,
    at: NaiveDateTime,
) -> QueryResult<i32> {
    let last: Option<i32> = manifest_records::table
        .filter(manifest_records::manifest_id.eq(manifest_id))
        .select(diesel::dsl::max(manifest_records::seq))
        .first(conn)?;
    let seq = last.unwrap_or(0) + 1;
    diesel::insert_into(manifest_records::table)
        .values(&RecordRow {
            manifest_id: manifest_id.clone(),
            seq,
            version,
            event: event.to_owned(),
            signature_id: signature_id.map(str::to_owned),
            document: document.to_owned(),
            sha256: sha256.to_owned(),
            created_at: at,
        })
        .execute(conn)?;
    Ok(seq)
}

/// Keeps with a signature the SHA-256 of the copy of record it made.
pub fn set_signature_document(
    conn: &mut DbConn,
    signature_id: &str,
    sha256: &str,
) -> QueryResult<()> {
    diesel::update(manifest_signatures::table.find(signature_id))
        .set(manifest_signatures::document_sha256.eq(sha256))
        .execute(conn)
        .map(drop)
}

/// One copy of record of a manifest, by its number.
pub fn record_of(
    conn: &mut DbConn,
    manifest_id: &ManifestId,
    seq: i32,
) -> QueryResult<Option<RecordRow>> {
    manifest_records::table
        .find((manifest_id, seq))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}

/// A version of a manifest: its latest copy of record (its snapshot as created where it has
/// none, e.g. a manifest issued before copies of record were kept).
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub document: String,
    /// Absent for a snapshot without a copy of record.
    pub sha256: Option<String>,
}

pub fn versions_of(conn: &mut DbConn, manifest_id: &ManifestId) -> QueryResult<Vec<Version>> {
    let snapshots: Vec<(i32, String, NaiveDateTime)> = manifest_versions::table
        .filter(manifest_versions::manifest_id.eq(manifest_id))
        .select((
            manifest_versions::version,
            manifest_versions::data,
            manifest_versions::created_at,
        ))
        .order(manifest_versions::version.asc())
        .load(conn)?;
    let records: Vec<RecordRow> = manifest_records::table
        .filter(manifest_records::manifest_id.eq(manifest_id))
        .select(RecordRow::as_select())
        .order(manifest_records::seq.asc())
        .load(conn)?;
    Ok(snapshots
        .into_iter()
        .map(|(version, data, created_at)| {
            match records.iter().rev().find(|r| r.version == version) {
                Some(r) => Version {
                    version,
                    created_at,
                    document: r.document.clone(),
                    sha256: Some(r.sha256.clone()),
                },
                None => Version {
                    version,
                    created_at,
                    document: data,
                    sha256: None,
                },
            }
        })
        .collect())
}

pub fn insert_revision(conn: &mut DbConn, row: &RevisionRow) -> QueryResult<()> {
    diesel::insert_into(manifest_revisions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_revision(conn: &mut DbConn, row: &RevisionRow) -> QueryResult<()> {
    diesel::update(manifest_revisions::table.find(&row.id))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn find_revision(conn: &mut DbConn, id: &str) -> QueryResult<Option<RevisionRow>> {
    manifest_revisions::table
        .find(id)
        .select(RevisionRow::as_select())
        .first(conn)
        .optional()
}

pub fn revisions_of(conn: &mut DbConn, manifest_id: &ManifestId) -> QueryResult<Vec<RevisionRow>> {
    manifest_revisions::table
        .filter(manifest_revisions::manifest_id.eq(manifest_id))
        .select(RevisionRow::as_select())
        .order(manifest_revisions::id.asc())
        .load(conn)
}

#[derive(Debug, Clone, Default)]
pub struct ManifestFilter {
    pub number: Option<String>,
    pub official_number: Option<String>,
    pub park_id: Option<String>,
    pub party: Option<String>,
    pub waste_code: Option<String>,
    pub status: Option<ManifestStatus>,
    pub flagged: Option<bool>,
    pub created_from: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    /// `open`: a refusal's case awaits the park office.
    pub case_status: Option<CaseStatus>,
    /// In transit with the receipt due before the local day given for the parks of each time
    /// zone: (time zone, that zone's today). Empty: no such condition.
    pub receipt_due_before: Vec<(String, NaiveDate)>,
}

fn party_filter(
    org: String,
) -> Box<
    dyn BoxableExpression<
            manifests::table,
            crate::db::MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
> {
    Box::new(
        manifests::consignor_id
            .eq(org.clone())
            .or(manifests::carrier_id.eq(org.clone()))
            .or(manifests::receiver_id.eq(org.clone()))
            .or(manifests::id.eq_any(
                manifest_lots::table
                    .filter(manifest_lots::enterprise_id.eq(org.clone()))
                    .select(manifest_lots::manifest_id),
            ))
            // A manifest following a refusal carries the refused lots of the one it follows.
            .or(manifests::id.eq_any(
                manifest_follows::table
                    .filter(
                        manifest_follows::follows_manifest_id.eq_any(
                            manifest_refusals::table
                                .filter(manifest_refusals::enterprise_id.eq(org))
                                .select(manifest_refusals::manifest_id),
                        ),
                    )
                    .select(manifest_follows::manifest_id),
            )),
    )
}

/// The organisation a page is limited to by being a party to its manifests, and the park it is
/// limited to besides, if that is all that limits it: an enterprise's, carrier's or receiver's
/// own list, or `party=` with no other filter (for a park office, within its park).
fn party_only(scope: &ManifestScope, filter: &ManifestFilter) -> Option<(String, Option<String>)> {
    let ManifestFilter {
        number,
        official_number,
        park_id,
        party,
        waste_code,
        status,
        flagged,
        created_from,
        created_before,
        case_status,
        receipt_due_before,
    } = filter;
    let unfiltered = number.is_none()
        && official_number.is_none()
        && park_id.is_none()
        && waste_code.is_none()
        && status.is_none()
        && flagged.is_none()
        && created_from.is_none()
        && created_before.is_none()
        && case_status.is_none()
        && receipt_due_before.is_empty();
    match (scope, party) {
        (ManifestScope::Party(org), None) | (ManifestScope::All, Some(org)) if unfiltered => {
            Some((org.clone(), None))
        }
        (ManifestScope::Park(park), Some(org)) if unfiltered => {
            Some((org.clone(), Some(park.clone())))
        }
        _ => None,
    }
}

/// Ids after `after` of manifests `org` is party to (of `park`, if given), among which are the
/// first `limit` of them in id order: the first `limit` of each way of being a party
/// (consignor, carrier, receiver, an enterprise whose lots it carries), each read from its own
/// index, and every manifest following a refusal of its lots (few). The first ids of the union
/// are among the first of each part, so a page costs the same however many manifests the party
/// has.
fn party_page_ids(
    conn: &mut DbConn,
    org: &str,
    park: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ManifestId>> {
    let after = after.unwrap_or("");
    let mut ids: Vec<ManifestId> = Vec::new();
    for column in [0, 1, 2] {
        let mut q = manifests::table
            .select(manifests::id)
            .filter(manifests::id.gt(after.to_owned()))
            .order(manifests::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(park) = park {
            q = q.filter(manifests::park_id.eq(park.to_owned()));
        }
        let q = match column {
            0 => q.filter(manifests::consignor_id.eq(org.to_owned())),
            1 => q.filter(manifests::carrier_id.eq(org.to_owned())),
            _ => q.filter(manifests::receiver_id.eq(org.to_owned())),
        };
        ids.extend(q.load::<ManifestId>(conn)?);
    }
    let mut carried = manifest_lots::table
        .inner_join(manifests::table)
        .filter(manifest_lots::enterprise_id.eq(org.to_owned()))
        .filter(manifest_lots::manifest_id.gt(after.to_owned()))
        .select(manifest_lots::manifest_id)
        .distinct()
        .order(manifest_lots::manifest_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(park) = park {
        carried = carried.filter(manifests::park_id.eq(park.to_owned()));
    }
    ids.extend(carried.load::<ManifestId>(conn)?);
    ids.extend(
        manifest_follows::table
            .filter(
                manifest_follows::follows_manifest_id.eq_any(
                    manifest_refusals::table
                        .filter(manifest_refusals::enterprise_id.eq(org))
                        .select(manifest_refusals::manifest_id),
                ),
            )
            .filter(manifest_follows::manifest_id.gt(after.to_owned()))
            .select(manifest_follows::manifest_id)
            .load::<ManifestId>(conn)?,
    );
    ids.sort();
    ids.dedup();
    Ok(ids)
}

pub fn list_manifests(
    conn: &mut DbConn,
    scope: &ManifestScope,
    filter: &ManifestFilter,
    page: &PageRequest,
) -> QueryResult<Vec<ManifestRow>> {
    if let Some((org, park)) = party_only(scope, filter) {
        let ids = party_page_ids(
            conn,
            &org,
            park.as_deref(),
            page.after.as_deref(),
            page.limit + 1,
        )?;
        // The park again: the manifests following a refusal were read from any park.
        let mut q = manifests::table
            .filter(manifests::id.eq_any(ids))
            .select(ManifestRow::as_select())
            .into_boxed();
        if let Some(park) = park {
            q = q.filter(manifests::park_id.eq(park));
        }
        return q
            .order(manifests::id.asc())
            .limit(page.limit + 1)
            .load(conn);
    }
    let mut q = manifests::table
        .select(ManifestRow::as_select())
        .into_boxed();
    q = match scope {
        ManifestScope::All => q,
        ManifestScope::Park(id) => q.filter(manifests::park_id.eq(id.clone())),
        // Both sides of a transfer: leaving a park of the jurisdiction, or reaching a
        // receiver registered in it.
        ManifestScope::Jurisdiction(prefix) => q.filter(
            manifests::region_code
                .like(format!("{prefix}%"))
                .or(manifests::receiver_id.eq_any(
                    disposers::table
                        .filter(disposers::region_code.like(format!("{prefix}%")))
                        .select(disposers::organization_id),
                )),
        ),
        ManifestScope::Party(org) => q.filter(party_filter(org.clone())),
        ManifestScope::Driver(user) => q.filter(manifests::driver_id.eq(user.clone())),
    };
    if let Some(v) = &filter.official_number {
        q = q.filter(
            manifests::id.eq_any(
                manifest_official_numbers::table
                    .filter(manifest_official_numbers::official_number.eq(v.clone()))
                    .select(manifest_official_numbers::manifest_id),
            ),
        );
    }
    if let Some(v) = &filter.number {
        q = q.filter(manifests::number.eq(v.clone()));
    }
    if let Some(v) = &filter.park_id {
        q = q.filter(manifests::park_id.eq(v.clone()));
    }
    if let Some(v) = &filter.party {
        q = q.filter(party_filter(v.clone()));
    }
    if let Some(v) = &filter.waste_code {
        q = q.filter(manifests::waste_code.eq(v.clone()));
    }
    if let Some(v) = filter.status {
        q = q.filter(manifests::status.eq(v));
    }
    match filter.flagged {
        Some(true) => q = q.filter(manifests::flag_detail.is_not_null()),
        Some(false) => q = q.filter(manifests::flag_detail.is_null()),
        None => {}
    }
    if let Some(v) = filter.case_status {
        q = q.filter(manifests::case_status.eq(v));
    }
    if !filter.receipt_due_before.is_empty() {
        let mut overdue: Box<
            dyn BoxableExpression<
                    manifests::table,
                    crate::db::MultiBackend,
                    SqlType = diesel::sql_types::Bool,
                >,
        > = Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("1 = 0"));
        for (zone, today) in &filter.receipt_due_before {
            overdue = Box::new(
                overdue.or(manifests::park_id
                    .eq_any(
                        parks::table
                            .filter(parks::time_zone.eq(zone.clone()))
                            .select(parks::organization_id),
                    )
                    .and(manifests::receipt_due_on.assume_not_null().lt(*today))),
            );
        }
        q = q
            .filter(manifests::status.eq(ManifestStatus::InTransit))
            .filter(overdue);
    }
    if let Some(v) = filter.created_from {
        q = q.filter(manifests::created_at.ge(v));
    }
    if let Some(v) = filter.created_before {
        q = q.filter(manifests::created_at.lt(v));
    }
    if let Some(after) = &page.after {
        q = q.filter(manifests::id.gt(after.clone()));
    }
    q.order(manifests::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

/// Manifests in transit whose deadline was before `before` — the arrival's until the waste
/// arrived (`manifest-not-arrived:{id}`), then the receipt's (`manifest-overdue:{id}`) — and
/// whose lateness was not yet told, oldest due first.
pub fn receipts_overdue(conn: &mut DbConn, before: NaiveDate) -> QueryResult<Vec<ManifestRow>> {
    use crate::db::schema::notices;
    use diesel::dsl::{exists, not};
    use diesel::expression::AsExpression;
    use diesel::sql_types::Text;
    let receipt_key =
        AsExpression::<Text>::as_expression("manifest-overdue:").concat(manifests::id);
    let transit_key =
        AsExpression::<Text>::as_expression("manifest-not-arrived:").concat(manifests::id);
    let arrived = exists(
        manifest_signatures::table
            .filter(manifest_signatures::manifest_id.eq(manifests::id))
            .filter(manifest_signatures::step.eq(crate::manifests::service::ARRIVAL)),
    );
    manifests::table
        .filter(manifests::status.eq(ManifestStatus::InTransit))
        .filter(manifests::receipt_due_on.lt(before))
        // Told of the receipt (or, before arrivals were recorded, of the take-over's deadline):
        // not again.
        .filter(not(exists(
            notices::table.filter(notices::key.eq(receipt_key)),
        )))
        .filter(arrived.or(not(exists(
            notices::table.filter(notices::key.eq(transit_key)),
        ))))
        .select(ManifestRow::as_select())
        .order((manifests::receipt_due_on.asc(), manifests::id.asc()))
        .limit(500)
        .load(conn)
}

/// What the views of a page of manifests need besides their rows — parks, parties' names and
/// credit codes, permits, vehicles, drivers, waste codes, origins, signatures, official
/// numbers and pending revisions — read in a fixed number of queries whatever the page holds.
#[derive(Debug, Default)]
pub struct Related {
    pub parks: HashMap<String, crate::registry::parks::store::ParkRow>,
    /// Organisations' names, by id.
    pub names: HashMap<String, String>,
    /// Carriers', disposers' and enterprises' unified social credit codes, by id.
    pub uscc: HashMap<String, String>,
    pub carrier_permits: HashMap<String, String>,
    /// Licence numbers, by licence id.
    pub licences: HashMap<String, String>,
    /// Plate and dangerous-goods permit, by vehicle id.
    pub vehicles: HashMap<String, (String, String)>,
    /// Display names, by user id: the drivers, the escorts and everyone who signed.
    pub people: HashMap<String, String>,
    /// Escorts and addresses, by manifest id.
    pub places: HashMap<ManifestId, PlacesRow>,
    /// Chinese name and characteristics, by waste code.
    pub codes: HashMap<String, (String, String)>,
    /// Each manifest's lots with their label codes, in lot order.
    pub origins: HashMap<ManifestId, Vec<OriginLot>>,
    pub signatures: HashMap<ManifestId, Vec<SignatureRow>>,
    pub official_numbers: HashMap<ManifestId, String>,
    pub pending_revisions: HashMap<ManifestId, RevisionRow>,
    /// Each manifest's refused lots, in lot order.
    pub refusals: HashMap<ManifestId, Vec<RefusalRow>>,
    /// The manifests following each (issued by the resolution of its refusal), oldest first.
    pub followed_by: HashMap<ManifestId, Vec<LinkedManifest>>,
    /// The refused manifest each follows, if any.
    pub follows: HashMap<ManifestId, LinkedManifest>,
    /// How each manifest's outbound figure came about.
    pub outbounds: HashMap<ManifestId, OutboundRow>,
}

/// A lot a manifest carries, with the code on the lot's label.
#[derive(Debug, Clone, Queryable)]
pub struct OriginLot {
    pub lot: ManifestLotRow,
    /// The lot's label code (`lots.label_code`), if it was labelled.
    pub label_code: Option<String>,
}

/// A manifest linked to another by the resolution of a refusal (the one it follows, or one
/// following it).
#[derive(Debug, Clone)]
pub struct LinkedManifest {
    pub id: ManifestId,
    /// The linked manifest's number (`manifests.number`).
    pub number: String,
    /// `return` (to the consignor) or `forward` (to another receiver).
    pub reason: String,
}

pub fn related(conn: &mut DbConn, rows: &[ManifestRow]) -> QueryResult<Related> {
    use crate::db::schema::{
        carriers, enterprises, licences, lots, organizations, users, vehicles, waste_codes,
    };
    use crate::registry::parks::store::ParkRow;
    if rows.is_empty() {
        return Ok(Related::default());
    }
    fn unique<'a, T: ?Sized + ToOwned + 'a>(ids: impl Iterator<Item = &'a T>) -> Vec<T::Owned>
    where
        T::Owned: Ord,
    {
        let mut ids: Vec<T::Owned> = ids.map(T::to_owned).collect();
        ids.sort();
        ids.dedup();
        ids
    }
    let manifest_ids = unique(rows.iter().map(|r| &r.id));
    let mut related = Related {
        outbounds: outbounds_of(conn, &manifest_ids)?,
        ..Related::default()
    };
    // The links between the page's manifests and those they follow or that follow them, the
    // refused lots of both (the refused lots of the manifest a manifest follows are its
    // origins), and the linked manifests' numbers: three queries.
    let links: Vec<FollowRow> = manifest_follows::table
        .filter(
            manifest_follows::manifest_id
                .eq_any(&manifest_ids)
                .or(manifest_follows::follows_manifest_id.eq_any(&manifest_ids)),
        )
        .select(FollowRow::as_select())
        .order(manifest_follows::manifest_id.asc())
        .load(conn)?;
    let follows: HashMap<&ManifestId, &FollowRow> = links
        .iter()
        .filter(|l| manifest_ids.contains(&l.manifest_id))
        .map(|l| (&l.manifest_id, l))
        .collect();
    let refused_of = unique(
        rows.iter()
            .map(|r| &r.id)
            .chain(follows.values().map(|l| &l.follows_manifest_id)),
    );
    let mut follower_origins: Vec<OriginLot> = Vec::new();
    for (refusal, label) in manifest_refusals::table
        .inner_join(lots::table.on(lots::id.eq(manifest_refusals::lot_id)))
        .filter(manifest_refusals::manifest_id.eq_any(&refused_of))
        .select((RefusalRow::as_select(), lots::label_code))
        .order((
            manifest_refusals::manifest_id.asc(),
            manifest_refusals::lot_id.asc(),
        ))
        .load::<(RefusalRow, Option<String>)>(conn)?
    {
        for follow in follows
            .values()
            .filter(|l| l.follows_manifest_id == refusal.manifest_id)
        {
            follower_origins.push(OriginLot {
                lot: ManifestLotRow {
                    manifest_id: follow.manifest_id.clone(),
                    lot_id: refusal.lot_id.clone(),
                    enterprise_id: refusal.enterprise_id.clone(),
                    inbound_grams: refusal.grams,
                },
                label_code: label.clone(),
            });
        }
        related
            .refusals
            .entry(refusal.manifest_id.clone())
            .or_default()
            .push(refusal);
    }
    let linked = unique(
        manifest_ids
            .iter()
            .chain(links.iter().map(|l| &l.manifest_id))
            .chain(links.iter().map(|l| &l.follows_manifest_id)),
    );
    let numbers: HashMap<ManifestId, String> = manifests::table
        .filter(manifests::id.eq_any(&linked))
        .select((manifests::id, manifests::number))
        .load::<(ManifestId, String)>(conn)?
        .into_iter()
        .collect();
    for link in &links {
        let linked = |id: &ManifestId| LinkedManifest {
            id: id.clone(),
            number: numbers.get(id).cloned().unwrap_or_default(),
            reason: link.reason.clone(),
        };
        if manifest_ids.contains(&link.manifest_id) {
            related
                .follows
                .insert(link.manifest_id.clone(), linked(&link.follows_manifest_id));
        }
        if manifest_ids.contains(&link.follows_manifest_id) {
            related
                .followed_by
                .entry(link.follows_manifest_id.clone())
                .or_default()
                .push(linked(&link.manifest_id));
        }
    }
    for origin in follower_origins {
        related
            .origins
            .entry(origin.lot.manifest_id.clone())
            .or_default()
            .push(origin);
    }
    for origin in manifest_lots::table
        .inner_join(lots::table.on(lots::id.eq(manifest_lots::lot_id)))
        .filter(manifest_lots::manifest_id.eq_any(&manifest_ids))
        .select((ManifestLotRow::as_select(), lots::label_code))
        .order((
            manifest_lots::manifest_id.asc(),
            manifest_lots::lot_id.asc(),
        ))
        .load::<OriginLot>(conn)?
    {
        related
            .origins
            .entry(origin.lot.manifest_id.clone())
            .or_default()
            .push(origin);
    }
    for s in manifest_signatures::table
        .filter(manifest_signatures::manifest_id.eq_any(&manifest_ids))
        .select(SignatureRow::as_select())
        .order(manifest_signatures::id.asc())
        .load::<SignatureRow>(conn)?
    {
        related
            .signatures
            .entry(s.manifest_id.clone())
            .or_default()
            .push(s);
    }
    let signed = related.signatures.values().flatten();
    let parties = unique(
        rows.iter()
            .flat_map(|r| {
                [
                    r.consignor_id.as_str(),
                    r.carrier_id.as_str(),
                    r.receiver_id.as_str(),
                ]
            })
            .chain(
                related
                    .origins
                    .values()
                    .flatten()
                    .map(|o| o.lot.enterprise_id.as_str()),
            )
            .chain(signed.clone().map(|s| s.organization_id.as_str())),
    );
    related.parks = parks::table
        .filter(parks::organization_id.eq_any(unique(rows.iter().map(|r| r.park_id.as_str()))))
        .select(ParkRow::as_select())
        .load::<ParkRow>(conn)?
        .into_iter()
        .map(|p| (p.organization_id.clone(), p))
        .collect();
    related.names = organizations::table
        .filter(organizations::id.eq_any(&parties))
        .select((organizations::id, organizations::name))
        .load(conn)?
        .into_iter()
        .collect();
    // Lowest priority first: a later insert wins (carrier over disposer over enterprise).
    related.uscc = enterprises::table
        .filter(enterprises::organization_id.eq_any(&parties))
        .select((enterprises::organization_id, enterprises::uscc))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    related.uscc.extend(
        disposers::table
            .filter(disposers::organization_id.eq_any(&parties))
            .select((disposers::organization_id, disposers::uscc))
            .load::<(String, String)>(conn)?,
    );
    for (id, uscc, permit) in carriers::table
        .filter(carriers::organization_id.eq_any(&parties))
        .select((
            carriers::organization_id,
            carriers::uscc,
            carriers::transport_permit_number,
        ))
        .load::<(String, String, String)>(conn)?
    {
        related.uscc.insert(id.clone(), uscc);
        related.carrier_permits.insert(id, permit);
    }
    let licence_ids = unique(rows.iter().filter_map(|r| r.licence_id.as_deref()));
    if !licence_ids.is_empty() {
        related.licences = licences::table
            .filter(licences::id.eq_any(&licence_ids))
            .select((licences::id, licences::number))
            .load(conn)?
            .into_iter()
            .collect();
    }
    related.vehicles = vehicles::table
        .filter(vehicles::id.eq_any(unique(rows.iter().map(|r| r.vehicle_id.as_str()))))
        .select((
            vehicles::id,
            vehicles::plate,
            vehicles::dangerous_goods_permit_number,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, plate, permit)| (id, (plate, permit)))
        .collect();
    related.places = manifest_places::table
        .filter(manifest_places::manifest_id.eq_any(&manifest_ids))
        .select(PlacesRow::as_select())
        .load::<PlacesRow>(conn)?
        .into_iter()
        .map(|p| (p.manifest_id.clone(), p))
        .collect();
    related.people = users::table
        .filter(
            users::id.eq_any(unique(
                rows.iter()
                    .map(|r| r.driver_id.as_str())
                    .chain(signed.map(|s| s.user_id.as_str()))
                    .chain(
                        related
                            .places
                            .values()
                            .filter_map(|p| p.escort_id.as_deref()),
                    ),
            )),
        )
        .select((users::id, users::display_name))
        .load(conn)?
        .into_iter()
        .collect();
    related.codes = waste_codes::table
        .filter(waste_codes::code.eq_any(unique(rows.iter().map(|r| r.waste_code.as_str()))))
        .select((
            waste_codes::code,
            waste_codes::name_zh,
            waste_codes::characteristics,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(code, name, characteristics)| (code, (name, characteristics)))
        .collect();
    related.official_numbers = manifest_official_numbers::table
        .filter(manifest_official_numbers::manifest_id.eq_any(&manifest_ids))
        .select((
            manifest_official_numbers::manifest_id,
            manifest_official_numbers::official_number,
        ))
        .load(conn)?
        .into_iter()
        .collect();
    for r in manifest_revisions::table
        .filter(manifest_revisions::manifest_id.eq_any(&manifest_ids))
        .filter(manifest_revisions::status.eq(RevisionStatus::Pending))
        .select(RevisionRow::as_select())
        .order(manifest_revisions::id.asc())
        .load::<RevisionRow>(conn)?
    {
        related
            .pending_revisions
            .entry(r.manifest_id.clone())
            .or_insert(r);
    }
    Ok(related)
}

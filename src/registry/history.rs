//! Versions of registry objects. Every create and update stores the object as the API showed it,
//! with who changed it and when, so that what was true on a past day can be answered
//! (`GET …/{id}/history?as_of=`). Nothing in the registry is hard-deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::DbConn;
use crate::db::schema::revisions;
use crate::domain::ids::new_id;
use crate::error::{ApiError, FieldError, Validator};
use crate::http::pagination::{Page, PageQuery, PageRequest};

/// The kinds of object whose versions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Park,
    Enterprise,
    Disposer,
    Licence,
    Carrier,
    Vehicle,
    Bureau,
    Warehouse,
    Zone,
    Contract,
    /// An enterprise's waste profile (`src/profiles`).
    Profile,
    /// The park office's record of one of an enterprise's five haves, by
    /// `{enterprise_id}:{have}`.
    FiveHave,
}

impl Entity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Park => "park",
            Self::Enterprise => "enterprise",
            Self::Disposer => "disposer",
            Self::Licence => "licence",
            Self::Carrier => "carrier",
            Self::Vehicle => "vehicle",
            Self::Bureau => "bureau",
            Self::Warehouse => "warehouse",
            Self::Zone => "zone",
            Self::Contract => "contract",
            Self::Profile => "profile",
            Self::FiveHave => "five_have",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = revisions)]
struct RevisionRow {
    id: String,
    entity: String,
    entity_id: String,
    recorded_at: NaiveDateTime,
    recorded_by: Option<String>,
    data: String,
}

/// One version of an object.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "recorded_at": "2026-11-28T08:00:00Z",
    "recorded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "data": {"id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7", "name": "Shenzhen Huaxin Precision Electronics Co., Ltd.", "contact_phone": "13800138000"}
}))]
pub struct Revision {
    /// From this instant on, this version was the current one.
    pub recorded_at: DateTime<Utc>,
    /// The user who made the change (absent for changes made by the system).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// The object as it was.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Stores a version of an object.
pub fn record<T: Serialize>(
    conn: &mut DbConn,
    entity: Entity,
    entity_id: &str,
    recorded_by: Option<&str>,
    at: DateTime<Utc>,
    view: &T,
) -> Result<(), ApiError> {
    let data = serde_json::to_string(view)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising a revision: {e}")))?;
    diesel::insert_into(revisions::table)
        .values(&RevisionRow {
            id: new_id("rev"),
            entity: entity.as_str().to_owned(),
            entity_id: entity_id.to_owned(),
            recorded_at: at.naive_utc(),
            recorded_by: recorded_by.map(str::to_owned),
            data,
        })
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only the version that was current at this instant (RFC 3339), e.g. `2026-06-01T00:00:00+08:00`.
    pub as_of: Option<String>,
}

/// The versions of one object, oldest first; with `as_of`, only the version current then.
pub fn list(
    conn: &mut DbConn,
    entity: Entity,
    entity_id: &str,
    query: &HistoryQuery,
    page: &PageQuery,
) -> Result<Page<Revision>, ApiError> {
    let mut v = Validator::new();
    let page: PageRequest = page.parse(&mut v);
    let as_of = query.as_of.as_deref().and_then(|raw| {
        v.check(
            DateTime::parse_from_rfc3339(raw.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    FieldError::new(
                        "as_of",
                        "invalid",
                        "must be an RFC 3339 instant, e.g. 2026-06-01T00:00:00+08:00",
                    )
                }),
        )
    });
    v.finish()?;
    let base = revisions::table
        .filter(revisions::entity.eq(entity.as_str()))
        .filter(revisions::entity_id.eq(entity_id))
        .select(RevisionRow::as_select());
    let rows: Vec<RevisionRow> = match as_of {
        Some(at) => base
            .filter(revisions::recorded_at.le(at.naive_utc()))
            .order((revisions::recorded_at.desc(), revisions::id.desc()))
            .limit(1)
            .load(conn)?,
        None => {
            let mut q = base.into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(revisions::id.gt(after.clone()));
            }
            q.order(revisions::id.asc())
                .limit(page.limit + 1)
                .load(conn)?
        }
    };
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    Ok(page.map(|row| Revision {
        recorded_at: row.recorded_at.and_utc(),
        recorded_by: row.recorded_by,
        data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
    }))
}

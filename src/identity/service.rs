//! Use cases on organisations and users.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Action, Principal, authorize, password, store as sessions};
use crate::db::{Db, DbConn};
use crate::domain::identity::{NewPassword, OrganizationKind, Role, Username};
use crate::domain::ids::new_id;
use crate::error::ApiError;
use crate::error::NOT_VISIBLE;
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::identity::store::{self, OrganizationRow, UserChanges, UserRow};

pub const BOOTSTRAP_ADMIN_USERNAME: &str = "admin";

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "kind": "park",
    "name": "Longgang Green Technology Park management office",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct OrganizationView {
    pub id: String,
    pub kind: OrganizationKind,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "username": "park.office",
    "display_name": "Wang Fang",
    "role": "park_office",
    "active": true,
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z"
}))]
pub struct UserView {
    pub id: String,
    pub organization_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<DateTime<Utc>>,
    /// A driver's dangerous-goods qualification, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerous_goods_qualification: Option<Qualification>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A driver's dangerous-goods transport qualification (危险货物运输从业资格证): past its last
/// valid day the driver takes no hazardous waste over.
#[derive(Debug, Clone, serde::Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "440300199001011234", "valid_until": "2029-12-31"}))]
pub struct Qualification {
    /// The certificate's number.
    pub number: String,
    /// Its last valid day.
    pub valid_until: chrono::NaiveDate,
}

impl TryFrom<OrganizationRow> for OrganizationView {
    type Error = ApiError;

    fn try_from(row: OrganizationRow) -> Result<Self, ApiError> {
        Ok(Self {
            kind: row
                .kind
                .parse()
                .map_err(|e: String| ApiError::Internal(anyhow::anyhow!("stored kind: {e}")))?,
            id: row.id,
            name: row.name,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

impl TryFrom<UserRow> for UserView {
    type Error = ApiError;

    fn try_from(row: UserRow) -> Result<Self, ApiError> {
        Ok(Self {
            role: row
                .role
                .parse()
                .map_err(|e: String| ApiError::Internal(anyhow::anyhow!("stored role: {e}")))?,
            id: row.id,
            organization_id: row.organization_id,
            username: row.username,
            display_name: row.display_name,
            active: row.deactivated_at.is_none(),
            deactivated_at: row.deactivated_at.map(|t| t.and_utc()),
            dangerous_goods_qualification: match (
                row.dg_qualification_number,
                row.dg_qualification_valid_until,
            ) {
                (Some(number), Some(valid_until)) => Some(Qualification {
                    number,
                    valid_until,
                }),
                _ => None,
            },
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

pub struct NewOrganization {
    pub kind: OrganizationKind,
    pub name: String,
}

pub fn create_organization(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    new: NewOrganization,
) -> Result<OrganizationRow, ApiError> {
    let now = now.naive_utc();
    let row = OrganizationRow {
        id: new_id("org"),
        kind: new.kind.as_str().to_owned(),
        name: new.name,
        created_at: now,
        updated_at: now,
    };
    store::insert_organization(conn, &row)?;
    Ok(row)
}

pub struct NewUser {
    pub organization_id: String,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password: NewPassword,
    pub qualification: Option<Qualification>,
}

fn not_a_driver() -> ApiError {
    ApiError::field(
        "dangerous_goods_qualification",
        "not_a_driver",
        "only a driver holds a dangerous-goods qualification",
    )
}

/// Creates a user after checking that the organisation exists, that the role fits its kind and
/// that the username is free. The password is hashed off the executor.
pub async fn create_user(db: &Db, now: DateTime<Utc>, new: NewUser) -> Result<UserRow, ApiError> {
    let password_hash = hash_off_executor(new.password).await?;
    db.write(move |conn| {
        let org = store::find_organization(conn, &new.organization_id)?.ok_or_else(|| {
            ApiError::field("organization_id", "not_found", "no such organisation")
        })?;
        let kind: OrganizationKind = org
            .kind
            .parse()
            .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))?;
        if !new.role.fits(kind) {
            return Err(ApiError::field(
                "role",
                "mismatch",
                format!("a {} cannot belong to a {} organisation", new.role, kind),
            ));
        }
        if new.qualification.is_some() && new.role != Role::Driver {
            return Err(not_a_driver());
        }
        if store::username_taken(conn, new.username.as_str())? {
            return Err(ApiError::field("username", "taken", "is already taken"));
        }
        let now = now.naive_utc();
        let row = UserRow {
            id: new_id("usr"),
            organization_id: org.id,
            username: new.username.as_str().to_owned(),
            display_name: new.display_name,
            role: new.role.as_str().to_owned(),
            password_hash,
            deactivated_at: None,
            created_at: now,
            updated_at: now,
            dg_qualification_number: new.qualification.as_ref().map(|q| q.number.clone()),
            dg_qualification_valid_until: new.qualification.as_ref().map(|q| q.valid_until),
        };
        store::insert_user(conn, &row).map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                ApiError::field("username", "taken", "is already taken")
            } else {
                e.into()
            }
        })?;
        Ok(row)
    })
    .await
}

pub struct UserUpdate {
    pub display_name: Option<String>,
    pub password: Option<NewPassword>,
    pub active: Option<bool>,
    /// `Some(None)` removes the qualification.
    pub qualification: Option<Option<Qualification>>,
}

/// Applies an administrator's changes to a user. A new password or a deactivation ends the
/// user's sessions.
pub async fn update_user(
    db: &Db,
    now: DateTime<Utc>,
    user_id: String,
    update: UserUpdate,
) -> Result<UserRow, ApiError> {
    let password_hash = match update.password {
        Some(p) => Some(hash_off_executor(p).await?),
        None => None,
    };
    db.write(move |conn| {
        let current = store::find_user(conn, &user_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
        let now = now.naive_utc();
        let deactivated_at = match update.active {
            Some(false) if current.deactivated_at.is_none() => Some(Some(now)),
            Some(true) if current.deactivated_at.is_some() => Some(None),
            _ => None,
        };
        if matches!(update.qualification, Some(Some(_))) && current.role != Role::Driver.as_str() {
            return Err(not_a_driver());
        }
        let ends_sessions = password_hash.is_some() || matches!(deactivated_at, Some(Some(_)));
        let changes = UserChanges {
            display_name: update.display_name,
            password_hash,
            deactivated_at,
            updated_at: Some(now),
            dg_qualification_number: update
                .qualification
                .as_ref()
                .map(|q| q.as_ref().map(|q| q.number.clone())),
            dg_qualification_valid_until: update
                .qualification
                .as_ref()
                .map(|q| q.as_ref().map(|q| q.valid_until)),
        };
        store::update_user(conn, &user_id, &changes)?;
        if ends_sessions {
            sessions::revoke_user_sessions(
                conn,
                &user_id,
                None,
                "changed by an administrator",
                now,
            )?;
        }
        store::find_user(conn, &user_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))
    })
    .await
}

async fn hash_off_executor(password: NewPassword) -> Result<String, ApiError> {
    web::block(move || password::hash(password.expose()))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?
        .map_err(ApiError::Internal)
}

/// Creates the platform organisation and its administrator `admin` when the database has no
/// user at all. Returns the generated password when none was configured (the caller prints it
/// once), `None` otherwise. Safe when several instances start at once: one wins, the others
/// find a user and do nothing.
pub fn bootstrap_admin(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    configured: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if store::any_user_exists(conn)? {
        return Ok(None);
    }
    let (password, generated) = match configured {
        Some(p) => {
            NewPassword::parse("WASTETRACK_ADMIN_PASSWORD", p)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
            (p.to_owned(), false)
        }
        None => (password::generate(), true),
    };
    let hash = password::hash(&password)?;
    let created = crate::db::write_transaction(conn, |conn| {
        if store::any_user_exists(conn)? {
            return Ok::<_, ApiError>(false);
        }
        let org = create_organization(
            conn,
            now,
            NewOrganization {
                kind: OrganizationKind::Platform,
                name: "Platform operator".to_owned(),
            },
        )?;
        let now = now.naive_utc();
        let inserted = store::insert_user(
            conn,
            &UserRow {
                id: new_id("usr"),
                organization_id: org.id,
                username: BOOTSTRAP_ADMIN_USERNAME.to_owned(),
                display_name: "Platform administrator".to_owned(),
                role: Role::PlatformAdmin.as_str().to_owned(),
                password_hash: hash,
                deactivated_at: None,
                created_at: now,
                updated_at: now,
                dg_qualification_number: None,
                dg_qualification_valid_until: None,
            },
        );
        match inserted {
            Ok(()) => Ok(true),
            // Another instance bootstrapped at the same moment; roll back our organisation.
            Err(e) if crate::db::is_unique_violation(&e) => {
                Err(ApiError::Conflict("already bootstrapped".to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    });
    match created {
        Ok(true) => {
            tracing::info!(
                username = BOOTSTRAP_ADMIN_USERNAME,
                "created the platform administrator"
            );
            Ok(generated.then_some(password))
        }
        Ok(false) | Err(ApiError::Conflict(_)) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("bootstrapping the administrator: {e}")),
    }
}

/// The signed-in user and its organisation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {"id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6", "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
        "username": "park.office", "display_name": "Wang Fang", "role": "park_office", "active": true,
        "created_at": "2026-11-28T08:00:00Z", "updated_at": "2026-11-28T08:00:00Z"},
    "organization": {"id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5", "kind": "park", "name": "Longgang Green Technology Park",
        "created_at": "2026-11-28T08:00:00Z", "updated_at": "2026-11-28T08:00:00Z"}
}))]
pub struct MeResponse {
    pub user: UserView,
    pub organization: OrganizationView,
}

/// One page of the organisations, optionally of one kind, oldest first.
pub fn list_organizations(
    conn: &mut DbConn,
    kind: Option<&str>,
    page: &PageRequest,
) -> Result<Page<OrganizationView>, ApiError> {
    let rows = store::list_organizations(conn, kind, page)?;
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(OrganizationView::try_from)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// One organisation.
pub fn get_organization(conn: &mut DbConn, id: &str) -> Result<OrganizationView, ApiError> {
    store::find_organization(conn, id)?
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?
        .try_into()
}

/// One page of the users, all or one organisation's.
pub fn list_users(
    conn: &mut DbConn,
    organization_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<UserView>, ApiError> {
    let rows = store::list_users(conn, organization_id, page)?;
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(UserView::try_from)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// A user the principal may read: 404 for a user it may not see.
pub fn get_user(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<UserView, ApiError> {
    let row = store::find_user(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    authorize(
        principal,
        Action::ReadUser {
            user_id: &row.id,
            organization_id: &row.organization_id,
        },
    )?;
    row.try_into()
}

/// The signed-in user and its organisation.
pub fn me(conn: &mut DbConn, principal: &Principal) -> Result<MeResponse, ApiError> {
    let user =
        store::find_user(conn, &principal.user_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let org = store::find_organization(conn, &principal.organization_id)?
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    Ok(MeResponse {
        user: user.try_into()?,
        organization: org.try_into()?,
    })
}

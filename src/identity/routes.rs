//! HTTP endpoints for organisations and users: extract, authorise, call, respond.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Action, Principal, authorize};
use crate::domain::identity::{NewPassword, OrganizationKind, Role, Username};
use crate::error::{ApiError, Problem, Validator};
use crate::http::json::non_null;
use crate::http::{Json, Page, PageQuery, created};
use crate::identity::service::{
    self, MeResponse, NewUser, OrganizationView, Qualification, UserUpdate, UserView,
};
use crate::state::AppState;

const NAME_MAX: usize = 200;

/// A qualification's number trimmed, 1 to 64 characters.
fn check_qualification(v: &mut Validator, q: Qualification) -> Qualification {
    Qualification {
        number: v.text("dangerous_goods_qualification.number", &q.number, 1, 64),
        valid_until: q.valid_until,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "username": "park.office",
    "display_name": "Wang Fang",
    "role": "park_office",
    "password": "correct horse battery"
}))]
pub struct CreateUserRequest {
    pub organization_id: String,
    /// 3 to 64 characters of letters, digits and `. _ - @`; case-insensitive.
    pub username: String,
    /// 1 to 200 characters.
    pub display_name: String,
    /// Must fit the organisation's kind (e.g. `driver` in a carrier or disposal company).
    pub role: Role,
    /// 10 to 256 characters, and hard enough to guess: a strength estimator (zxcvbn, score 3 or
    /// more) refuses common passwords, keyboard walks, repeats and dates (422 `too_weak`).
    pub password: String,
    /// A driver's dangerous-goods qualification (drivers only).
    pub dangerous_goods_qualification: Option<Qualification>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub display_name: Option<String>,
    /// A new password (10 to 256 characters, hard enough to guess: see `password` on creation);
    /// ends the user's sessions.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = String)]
    pub password: Option<String>,
    /// `false` deactivates the user and ends its sessions; `true` reactivates it.
    #[serde(default, deserialize_with = "non_null")]
    #[schema(value_type = bool)]
    pub active: Option<bool>,
    /// A driver's dangerous-goods qualification (drivers only); `null` removes it.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<Qualification>)]
    pub dangerous_goods_qualification: Option<Option<Qualification>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Only organisations of this kind.
    #[param(value_type = Option<OrganizationKind>)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only users of this organisation (required unless you are a platform administrator).
    pub organization_id: Option<String>,
}

/// List organisations (platform administrators only), oldest first.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(OrganizationFilter, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<OrganizationView>),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations")]
pub async fn list_organizations(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<OrganizationFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<OrganizationView>>, ApiError> {
    authorize(&principal, Action::ListOrganizations)?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    let kind = filter.kind.as_deref().and_then(|k| {
        v.check(
            k.parse::<OrganizationKind>()
                .map_err(|e| crate::error::FieldError::new("kind", "invalid", e)),
        )
    });
    v.finish()?;
    let kind = kind.map(|k| k.as_str());
    let page = state
        .db
        .run(move |conn| service::list_organizations(conn, kind, &page))
        .await?;
    Ok(web::Json(page))
}

/// Read one organisation: administrators any, others their own.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrganizationView),
        (status = 404, description = "No such organisation, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}")]
pub async fn get_organization(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<OrganizationView>, ApiError> {
    let id = id.into_inner();
    authorize(
        &principal,
        Action::ReadOrganization {
            organization_id: &id,
        },
    )?;
    let view = state
        .db
        .run(move |conn| service::get_organization(conn, &id))
        .await?;
    Ok(web::Json(view))
}

/// Create a user (platform administrators only).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView, headers(("Location" = String, description = "URL of the new user"))),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, unknown organisation, role not fitting the organisation, or username taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    authorize(
        &principal,
        Action::CreateUser {
            organization_id: &body.organization_id,
        },
    )?;
    let mut v = Validator::new();
    let organization_id = v.text("organization_id", &body.organization_id, 1, 64);
    let username = v.check(Username::parse("username", &body.username));
    let display_name = v.text("display_name", &body.display_name, 1, NAME_MAX);
    let password = v.check(NewPassword::parse("password", &body.password));
    let qualification = body
        .dangerous_goods_qualification
        .map(|q| check_qualification(&mut v, q));
    v.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "validated fields missing"
        )));
    };
    let row = service::create_user(
        &state.db,
        state.clock.now(),
        NewUser {
            organization_id,
            username,
            display_name,
            role: body.role,
            password,
            qualification,
        },
    )
    .await?;
    let view = UserView::try_from(row)?;
    Ok(created(format!("/api/v1/users/{}", view.id), &view))
}

/// List users: administrators all or one organisation's, others their own organisation's.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserFilter, PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<UserView>),
        (status = 403, description = "Not allowed to list these users", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<UserFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<UserView>>, ApiError> {
    let filter = filter.into_inner();
    authorize(
        &principal,
        Action::ListUsers {
            organization_id: filter.organization_id.as_deref(),
        },
    )?;
    let mut v = Validator::new();
    let page = page.parse(&mut v);
    v.finish()?;
    let page = state
        .db
        .run(move |conn| service::list_users(conn, filter.organization_id.as_deref(), &page))
        .await?;
    Ok(web::Json(page))
}

/// Read one user: administrators any, others those of their own organisation.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 404, description = "No such user, or not visible to you", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<UserView>, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .run(move |conn| service::get_user(conn, &principal, &id))
        .await?;
    Ok(web::Json(view))
}

/// Change a user's name, password or activation (platform administrators only).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = UserView),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateUserRequest>,
) -> Result<web::Json<UserView>, ApiError> {
    let now = state.clock.now();
    let id = id.into_inner();
    let body = body.into_inner();
    authorize(
        &principal,
        Action::UpdateUser {
            user_id: &id,
            organization_id: &principal.organization_id,
        },
    )?;
    let mut v = Validator::new();
    let display_name = body
        .display_name
        .as_deref()
        .map(|n| v.text("display_name", n, 1, NAME_MAX));
    let password = body
        .password
        .as_deref()
        .and_then(|p| v.check(NewPassword::parse("password", p)));
    let qualification = body
        .dangerous_goods_qualification
        .map(|q| q.map(|q| check_qualification(&mut v, q)));
    if body.active == Some(false) && id == principal.user_id {
        v.push(crate::error::FieldError::new(
            "active",
            "invalid",
            "you cannot deactivate yourself",
        ));
    }
    v.finish()?;
    let row = service::update_user(
        &state.db,
        now,
        id,
        UserUpdate {
            display_name,
            password,
            active: body.active,
            qualification,
        },
    )
    .await?;
    Ok(web::Json(row.try_into()?))
}

/// The signed-in user and its organisation.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Who you are", body = MeResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<MeResponse>, ApiError> {
    let me = state
        .db
        .run(move |conn| service::me(conn, &principal))
        .await?;
    Ok(web::Json(me))
}

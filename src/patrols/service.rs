//! Use cases of patrols, findings and feedback. Each runs in the caller's transaction (or read
//! snapshot) and decides access through `auth::policy` with the facts of the object: its park
//! and the enterprise it concerns.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{Action, Place, Scope, authorize};
use crate::db::DbConn;
use crate::domain::ids::new_id;
use crate::domain::photo::ImageType;
use crate::error::{ApiError, FieldError, NOT_VISIBLE};
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::notify::service::Notice;
pub use crate::patrols::store::PatrolFilter;
use crate::patrols::store::{self, MessageRow, NewPhoto, PatrolRow, PhotoMeta, ThreadRow};
use crate::registry::parks::service as parks;

/// Most photos of one thread (a finding and its rectification, a feedback).
pub const MAX_PHOTOS: i64 = 20;
/// Most findings of one patrol, those recorded with it and those added later.
pub const MAX_PATROL_FINDINGS: i64 = 50;
/// Most messages of one thread.
pub const MAX_MESSAGES: i64 = 200;
/// The webhook and inbox type of an overdue finding.
pub const FINDING_OVERDUE: &str = "finding.overdue";
/// Told to the enterprise concerned: a finding of its was recorded.
pub const FINDING_RECORDED: &str = "finding.recorded";
/// Told to the park office: the enterprise answered a finding.
pub const FINDING_ANSWERED: &str = "finding.answered";
/// Told to the enterprise concerned: the park office closed a finding.
pub const FINDING_CLOSED: &str = "finding.closed";
/// Told to the enterprise concerned: the park office reopened a finding.
pub const FINDING_REOPENED: &str = "finding.reopened";
/// Told to the other side of feedback: the enterprise wrote (or opened it), or the park office
/// answered.
pub const FEEDBACK_MESSAGE: &str = "feedback.message";

/// Tells `organization_id` (in the caller's transaction) what happened to a thread.
fn tell(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    organization_id: &str,
    type_: &str,
    row: &ThreadRow,
    title: String,
) -> Result<(), ApiError> {
    let data = if row.kind == "feedback" {
        serde_json::json!({
            "feedback_id": row.id,
            "enterprise_id": row.enterprise_id,
            "subject": row.subject,
            "status": row.status,
        })
    } else {
        serde_json::json!({
            "finding_id": row.id,
            "patrol_id": row.patrol_id,
            "enterprise_id": row.enterprise_id,
            "warehouse_id": row.warehouse_id,
            "deadline": row.deadline,
            "status": row.status,
        })
    };
    let notice = Notice {
        type_,
        subject_id: &row.id,
        title,
        data,
    };
    crate::notify::service::publish(conn, now, organization_id, &notice)?;
    Ok(())
}

pub use crate::domain::patrol::ThreadStatus;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "minor" => Some(Self::Minor),
            "major" => Some(Self::Major),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

/// The result of a checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    Ok,
    NotOk,
    /// Not applicable.
    Na,
}

/// One item of a patrol's checklist and what was found.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// What was checked (1 to 100 characters).
    pub item: String,
    pub result: CheckResult,
}

/// The kind of a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKind {
    Finding,
    Feedback,
}

impl ThreadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finding => "finding",
            Self::Feedback => "feedback",
        }
    }
}

/// What a message of a thread records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The finding's description, or the feedback's first words.
    Opened,
    /// The enterprise's answer to a finding: what it did.
    Answer,
    /// A message of feedback, from either side.
    Message,
    /// Closed by the park office (with its note, if any).
    Closed,
    /// Reopened by the park office (with its reason).
    Reopened,
}

impl MessageKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Answer => "answer",
            Self::Message => "message",
            Self::Closed => "closed",
            Self::Reopened => "reopened",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "answer" => Self::Answer,
            "message" => Self::Message,
            "closed" => Self::Closed,
            "reopened" => Self::Reopened,
            _ => Self::Opened,
        }
    }
}

/// A finding as its patrol lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingSummary {
    pub id: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The last day for rectification, in the park's time zone.
    pub deadline: NaiveDate,
    pub status: ThreadStatus,
    /// Not closed, and the deadline has passed in the park's time zone.
    pub overdue: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pat_0193f1c2a4b87d21a1c6e1f0b2d3c700",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "patrolled_on": "2026-11-20",
    "people": ["张伟", "李娜"],
    "checklist": [{"item": "危险废物贮存场所标识", "result": "not_ok"}, {"item": "台账记录", "result": "ok"}],
    "note": "园区环境安全委员会月度巡查",
    "recorded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "created_at": "2026-11-20T08:00:00Z",
    "findings": [{"id": "fnd_0193f1c2a4b87d21a1c6e1f0b2d3c701", "description": "废油桶未贴危险废物标签",
        "severity": "major", "deadline": "2026-12-15", "status": "open", "overdue": false}]
}))]
pub struct PatrolView {
    pub id: String,
    pub park_id: String,
    /// The enterprise patrolled (or `warehouse_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    /// The park's warehouse patrolled (or `enterprise_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    /// The day of the patrol, in the park's time zone.
    pub patrolled_on: NaiveDate,
    /// Who patrolled.
    pub people: Vec<String>,
    pub checklist: Vec<ChecklistItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    pub findings: Vec<FindingSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadMessageView {
    pub id: String,
    pub kind: MessageKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub author_id: String,
    /// The author's organisation: the park office or the enterprise.
    pub organization_id: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "pho_0193f1c2a4b87d21a1c6e1f0b2d3c702",
    "thread_id": "fnd_0193f1c2a4b87d21a1c6e1f0b2d3c701",
    "content_type": "image/jpeg",
    "byte_size": 284512,
    "sha256": "9f2c4b0e2d6a8f1c3b5e7d9a0c2e4f6b8d0a2c4e6f8b0d2a4c6e8f0b2d4a6c8e",
    "uploaded_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e8",
    "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "created_at": "2026-11-22T08:00:00Z",
    "url": "/api/v1/photos/pho_0193f1c2a4b87d21a1c6e1f0b2d3c702"
}))]
pub struct PhotoView {
    pub id: String,
    /// The finding or feedback it belongs to.
    pub thread_id: String,
    /// `image/jpeg`, `image/png` or `image/webp`, as the image's own bytes say.
    pub content_type: String,
    pub byte_size: i64,
    /// SHA-256 of the bytes, in hex.
    pub sha256: String,
    pub uploaded_by: String,
    /// The uploader's organisation: the park office or the enterprise.
    pub organization_id: String,
    pub created_at: DateTime<Utc>,
    /// Where to read it.
    pub url: String,
}

/// A finding of a patrol, or an enterprise's feedback, with every message and photo.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "fnd_0193f1c2a4b87d21a1c6e1f0b2d3c701",
    "kind": "finding",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "patrol_id": "pat_0193f1c2a4b87d21a1c6e1f0b2d3c700",
    "subject": "废油桶未贴危险废物标签",
    "severity": "major",
    "deadline": "2026-12-15",
    "status": "answered",
    "overdue": false,
    "created_by": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6",
    "created_at": "2026-11-20T08:00:00Z",
    "updated_at": "2026-11-22T08:00:00Z",
    "messages": [
        {"id": "tmg_0193f1c2a4b87d21a1c6e1f0b2d3c703", "kind": "opened", "text": "废油桶未贴危险废物标签",
            "author_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e6", "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
            "created_at": "2026-11-20T08:00:00Z"},
        {"id": "tmg_0193f1c2a4b87d21a1c6e1f0b2d3c704", "kind": "answer", "text": "已按 HJ 1276-2022 补贴标签，见照片",
            "author_id": "usr_0193f1c2a4b87d21a1c6e1f0b2d3c4e8", "organization_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
            "created_at": "2026-11-22T08:00:00Z"}
    ],
    "photos": []
}))]
pub struct ThreadView {
    pub id: String,
    pub kind: ThreadKind,
    pub park_id: String,
    /// The enterprise concerned (a finding at a warehouse concerns none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    /// The patrol of a finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patrol_id: Option<String>,
    /// A finding's description, or the subject of feedback.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// A finding's last day for rectification, in the park's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
    pub status: ThreadStatus,
    /// A finding not closed past its deadline in the park's time zone.
    pub overdue: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Every message, oldest first.
    pub messages: Vec<ThreadMessageView>,
    /// Every photo, oldest first.
    pub photos: Vec<PhotoView>,
}

/// A thread as lists show it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "fbk_0193f1c2a4b87d21a1c6e1f0b2d3c705",
    "kind": "feedback",
    "park_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5",
    "enterprise_id": "org_0193f1c2a4b87d21a1c6e1f0b2d3c4e7",
    "subject": "危险废物收运时间",
    "status": "answered",
    "created_at": "2026-11-21T08:00:00Z",
    "updated_at": "2026-11-21T09:30:00Z"
}))]
pub struct ThreadSummary {
    pub id: String,
    pub kind: ThreadKind,
    pub park_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    pub subject: String,
    pub status: ThreadStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The park's today and its time zone.
fn park_today(conn: &mut DbConn, park_id: &str, now: DateTime<Utc>) -> Result<NaiveDate, ApiError> {
    let park = parks::load_park(conn, park_id)?;
    Ok(crate::domain::time::local_date(
        now,
        parks::park_time_zone(&park.park),
    ))
}

/// Whether a finding is past its deadline and not closed on the park's `today`.
pub fn overdue(row: &ThreadRow, today: NaiveDate) -> bool {
    row.kind == "finding"
        && row.status != ThreadStatus::Closed
        && row.deadline.is_some_and(|d| d < today)
}

fn summary(row: &ThreadRow, today: NaiveDate) -> FindingSummary {
    FindingSummary {
        id: row.id.clone(),
        description: row.subject.clone(),
        severity: row.severity.as_deref().and_then(Severity::parse),
        deadline: row.deadline.unwrap_or(NaiveDate::MIN),
        status: row.status,
        overdue: overdue(row, today),
    }
}

pub fn patrol_view(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: PatrolRow,
) -> Result<PatrolView, ApiError> {
    let today = park_today(conn, &row.park_id, now)?;
    let findings = store::findings_of(conn, &row.id)?
        .iter()
        .map(|f| summary(f, today))
        .collect();
    Ok(PatrolView {
        people: serde_json::from_str(&row.people).map_err(anyhow::Error::from)?,
        checklist: serde_json::from_str(&row.checklist).map_err(anyhow::Error::from)?,
        id: row.id,
        park_id: row.park_id,
        enterprise_id: row.enterprise_id,
        warehouse_id: row.warehouse_id,
        patrolled_on: row.patrolled_on,
        note: row.note,
        recorded_by: row.recorded_by,
        created_at: row.created_at.and_utc(),
        findings,
    })
}

fn photo_view(p: PhotoMeta) -> PhotoView {
    PhotoView {
        url: format!("/api/v1/photos/{}", p.id),
        id: p.id,
        thread_id: p.thread_id,
        content_type: p.content_type,
        byte_size: p.byte_size,
        sha256: p.sha256,
        uploaded_by: p.uploaded_by,
        organization_id: p.organization_id,
        created_at: p.created_at.and_utc(),
    }
}

fn thread_kind(row: &ThreadRow) -> ThreadKind {
    if row.kind == "feedback" {
        ThreadKind::Feedback
    } else {
        ThreadKind::Finding
    }
}

pub fn thread_view(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    row: ThreadRow,
) -> Result<ThreadView, ApiError> {
    let today = park_today(conn, &row.park_id, now)?;
    let messages = store::messages_of(conn, &row.id)?
        .into_iter()
        .map(|m| ThreadMessageView {
            kind: MessageKind::parse(&m.kind),
            id: m.id,
            text: m.body,
            author_id: m.author_id,
            organization_id: m.organization_id,
            created_at: m.created_at.and_utc(),
        })
        .collect();
    let photos = store::photos_of(conn, &row.id)?
        .into_iter()
        .map(photo_view)
        .collect();
    Ok(ThreadView {
        kind: thread_kind(&row),
        overdue: overdue(&row, today),
        severity: row.severity.as_deref().and_then(Severity::parse),
        status: row.status,
        id: row.id,
        park_id: row.park_id,
        enterprise_id: row.enterprise_id,
        warehouse_id: row.warehouse_id,
        patrol_id: row.patrol_id,
        subject: row.subject,
        deadline: row.deadline,
        created_by: row.created_by,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        closed_at: row.closed_at.map(|t| t.and_utc()),
        messages,
        photos,
    })
}

pub fn thread_summary(row: ThreadRow) -> ThreadSummary {
    ThreadSummary {
        kind: thread_kind(&row),
        status: row.status,
        id: row.id,
        park_id: row.park_id,
        enterprise_id: row.enterprise_id,
        subject: row.subject,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// What a patrol is of: an enterprise or a warehouse.
pub enum Target {
    Enterprise(String),
    Warehouse(String),
}

pub struct NewFinding {
    pub description: String,
    pub severity: Option<Severity>,
    pub deadline: NaiveDate,
}

pub struct NewPatrol {
    pub target: Target,
    pub patrolled_on: NaiveDate,
    pub people: Vec<String>,
    pub checklist: Vec<ChecklistItem>,
    pub note: Option<String>,
    pub findings: Vec<NewFinding>,
}

/// The park and region of what a patrol is of, and the enterprise it concerns. 404 when it
/// does not exist.
fn target_place(
    conn: &mut DbConn,
    target: &Target,
) -> Result<(String, String, Option<String>), ApiError> {
    match target {
        Target::Enterprise(id) => {
            let e = parks::load_enterprise(conn, id)?;
            Ok((
                e.enterprise.park_id.clone(),
                e.region_code.clone(),
                Some(id.clone()),
            ))
        }
        Target::Warehouse(id) => {
            let crate::registry::warehouses::store::Warehouse {
                warehouse: w,
                region_code: region,
            } = crate::registry::warehouses::store::find_warehouse(conn, id)?
                .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
            Ok((w.park_id, region, None))
        }
    }
}

/// The region code of a park.
fn region_of(conn: &mut DbConn, park_id: &str) -> Result<String, ApiError> {
    Ok(parks::load_park(conn, park_id)?.park.region_code)
}

fn new_message(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    thread_id: &str,
    kind: MessageKind,
    text: Option<String>,
) -> Result<(), ApiError> {
    if store::count_messages(conn, thread_id)? >= MAX_MESSAGES {
        return Err(ApiError::Conflict(format!(
            "a thread holds at most {MAX_MESSAGES} messages"
        )));
    }
    store::insert_message(
        conn,
        &MessageRow {
            id: new_id("tmg"),
            thread_id: thread_id.to_owned(),
            kind: kind.as_str().to_owned(),
            body: text,
            author_id: principal.user_id.clone(),
            organization_id: principal.organization_id.clone(),
            created_at: now.naive_utc(),
        },
    )?;
    Ok(())
}

/// Records a patrol with its findings: the park office of the park of the enterprise or
/// warehouse patrolled.
pub fn record_patrol(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    new: NewPatrol,
) -> Result<PatrolView, ApiError> {
    let (park_id, region, enterprise_id) = target_place(conn, &new.target)?;
    authorize(
        principal,
        Action::ManagePatrol {
            place: Place {
                park_id: &park_id,
                region_code: &region,
            },
            enterprise_id: enterprise_id.as_deref(),
        },
    )?;
    let today = park_today(conn, &park_id, now)?;
    if new.patrolled_on > today {
        return Err(ApiError::field(
            "patrolled_on",
            "in_future",
            "must not be after today in the park's time zone",
        ));
    }
    check_deadlines(new.patrolled_on, &new.findings)?;
    let row = PatrolRow {
        id: new_id("pat"),
        park_id: park_id.clone(),
        enterprise_id: enterprise_id.clone(),
        warehouse_id: match &new.target {
            Target::Warehouse(id) => Some(id.clone()),
            Target::Enterprise(_) => None,
        },
        patrolled_on: new.patrolled_on,
        people: serde_json::to_string(&new.people).map_err(anyhow::Error::from)?,
        checklist: serde_json::to_string(&new.checklist).map_err(anyhow::Error::from)?,
        note: new.note,
        recorded_by: principal.user_id.clone(),
        created_at: now.naive_utc(),
    };
    store::insert_patrol(conn, &row)?;
    let finding_ids = insert_findings(conn, now, principal, &row, new.findings)?;
    crate::audit::context::describe(
        format!("/api/v1/patrols/{}", row.id),
        serde_json::json!({"recorded": row.id, "findings": finding_ids}),
    );
    crate::audit::context::park(&park_id);
    patrol_view(conn, now, row)
}

/// Refuses findings due before the patrol's day (422 naming each).
fn check_deadlines(patrolled_on: NaiveDate, findings: &[NewFinding]) -> Result<(), ApiError> {
    let late: Vec<FieldError> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.deadline < patrolled_on)
        .map(|(i, _)| {
            FieldError::new(
                format!("findings[{i}].deadline"),
                "before_patrol",
                "must not be before the day of the patrol",
            )
        })
        .collect();
    if late.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(late))
    }
}

/// Inserts findings of a patrol, each a thread opened with its description, and tells the
/// enterprise concerned of each. Returns their ids.
fn insert_findings(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    patrol: &PatrolRow,
    findings: Vec<NewFinding>,
) -> Result<Vec<String>, ApiError> {
    let mut finding_ids = Vec::new();
    for f in findings {
        let thread = ThreadRow {
            id: new_id("fnd"),
            kind: "finding".to_owned(),
            park_id: patrol.park_id.clone(),
            enterprise_id: patrol.enterprise_id.clone(),
            warehouse_id: patrol.warehouse_id.clone(),
            patrol_id: Some(patrol.id.clone()),
            subject: f.description.clone(),
            severity: f.severity.map(|s| s.as_str().to_owned()),
            deadline: Some(f.deadline),
            status: ThreadStatus::Open,
            created_by: principal.user_id.clone(),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
            closed_at: None,
        };
        store::insert_thread(conn, &thread)?;
        new_message(
            conn,
            now,
            principal,
            &thread.id,
            MessageKind::Opened,
            Some(f.description),
        )?;
        if let Some(enterprise) = &patrol.enterprise_id {
            let title = format!(
                "Finding of a patrol, to rectify by {}: {}",
                f.deadline, thread.subject
            );
            tell(conn, now, enterprise, FINDING_RECORDED, &thread, title)?;
        }
        finding_ids.push(thread.id);
    }
    Ok(finding_ids)
}

/// The park office of the patrol's park adds findings to it, with the bounds of a patrol's
/// recording: due not before the patrol's day (422), and at most [`MAX_PATROL_FINDINGS`] in
/// all (409). Those who may read the patrol but not manage it get 403, others 404.
pub fn add_findings(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    findings: Vec<NewFinding>,
) -> Result<PatrolView, ApiError> {
    let row = load_patrol(conn, principal, id)?;
    let region = region_of(conn, &row.park_id)?;
    authorize(
        principal,
        Action::ManagePatrol {
            place: Place {
                park_id: &row.park_id,
                region_code: &region,
            },
            enterprise_id: row.enterprise_id.as_deref(),
        },
    )?;
    check_deadlines(row.patrolled_on, &findings)?;
    let held = i64::try_from(store::findings_of(conn, &row.id)?.len()).unwrap_or(i64::MAX);
    let adding = i64::try_from(findings.len()).unwrap_or(i64::MAX);
    if held.saturating_add(adding) > MAX_PATROL_FINDINGS {
        return Err(ApiError::Conflict(format!(
            "a patrol holds at most {MAX_PATROL_FINDINGS} findings; it holds {held}"
        )));
    }
    let finding_ids = insert_findings(conn, now, principal, &row, findings)?;
    crate::audit::context::describe(
        format!("/api/v1/patrols/{}", row.id),
        serde_json::json!({"added": finding_ids}),
    );
    crate::audit::context::park(&row.park_id);
    patrol_view(conn, now, row)
}

/// A patrol the principal may read (404 otherwise).
/// A patrol the principal may read, with its findings.
pub fn read_patrol(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
) -> Result<PatrolView, ApiError> {
    let row = load_patrol(conn, principal, id)?;
    patrol_view(conn, now, row)
}

/// A finding or feedback the principal may read, with its messages and photos.
pub fn read_thread(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    kind: ThreadKind,
    id: &str,
) -> Result<ThreadView, ApiError> {
    let row = load_thread(conn, principal, kind, id, read_action)?;
    thread_view(conn, now, row)
}

/// A page of the feedback the scope sees, perhaps only of one status.
pub fn list_feedback(
    conn: &mut DbConn,
    scope: &Scope,
    status: Option<ThreadStatus>,
    page: &PageRequest,
) -> Result<Page<ThreadSummary>, ApiError> {
    let rows = store::list_threads(conn, ThreadKind::Feedback.as_str(), scope, status, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.id.as_str()).map(thread_summary))
}

pub fn load_patrol(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<PatrolRow, ApiError> {
    let row = store::find_patrol(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let region = region_of(conn, &row.park_id)?;
    authorize(
        principal,
        Action::ReadPatrol {
            place: Place {
                park_id: &row.park_id,
                region_code: &region,
            },
            enterprise_id: row.enterprise_id.as_deref(),
        },
    )?;
    Ok(row)
}

pub fn list_patrols(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    scope: &Scope,
    filter: &store::PatrolFilter,
    page: &PageRequest,
) -> Result<Page<PatrolView>, ApiError> {
    let rows = store::list_patrols(conn, scope, filter, page)?;
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        items.push(patrol_view(conn, now, row)?);
    }
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A thread of a kind, checked with `action` built from its place: 404 when it does not exist
/// or is of another kind, else as the policy answers.
pub fn load_thread(
    conn: &mut DbConn,
    principal: &Principal,
    kind: ThreadKind,
    id: &str,
    action: for<'a> fn(Place<'a>, Option<&'a str>) -> Action<'a>,
) -> Result<ThreadRow, ApiError> {
    let row = store::find_thread(conn, id)?
        .filter(|t| t.kind == kind.as_str())
        .ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let region = region_of(conn, &row.park_id)?;
    let place = Place {
        park_id: &row.park_id,
        region_code: &region,
    };
    // Those who may not read it get 404 whatever they asked for.
    authorize(
        principal,
        Action::ReadPatrol {
            place,
            enterprise_id: row.enterprise_id.as_deref(),
        },
    )?;
    authorize(principal, action(place, row.enterprise_id.as_deref()))?;
    Ok(row)
}

pub fn read_action<'a>(place: Place<'a>, enterprise_id: Option<&'a str>) -> Action<'a> {
    Action::ReadPatrol {
        place,
        enterprise_id,
    }
}

pub fn manage_action<'a>(place: Place<'a>, enterprise_id: Option<&'a str>) -> Action<'a> {
    Action::ManagePatrol {
        place,
        enterprise_id,
    }
}

pub fn answer_action<'a>(place: Place<'a>, enterprise_id: Option<&'a str>) -> Action<'a> {
    Action::AnswerFinding {
        place,
        enterprise_id,
    }
}

pub fn write_action<'a>(place: Place<'a>, enterprise_id: Option<&'a str>) -> Action<'a> {
    Action::WriteThread {
        place,
        enterprise_id,
    }
}

fn refuse_closed(row: &ThreadRow) -> Result<(), ApiError> {
    if row.status == ThreadStatus::Closed {
        return Err(ApiError::Conflict(if row.kind == "feedback" {
            "this feedback is closed".to_owned()
        } else {
            "this finding is closed".to_owned()
        }));
    }
    Ok(())
}

fn changed(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mut row: ThreadRow,
    status: ThreadStatus,
    what: &str,
) -> Result<ThreadRow, ApiError> {
    let before = row.status;
    row.status = status;
    row.updated_at = now.naive_utc();
    row.closed_at = (status == ThreadStatus::Closed).then(|| now.naive_utc());
    store::save_thread(conn, &row)?;
    let path = if row.kind == "feedback" {
        "feedback"
    } else {
        "findings"
    };
    crate::audit::context::describe(
        format!("/api/v1/{path}/{}", row.id),
        serde_json::json!({"action": what, "status": {"before": before, "after": row.status}}),
    );
    crate::audit::context::park(&row.park_id);
    Ok(row)
}

/// The enterprise concerned (or, at a warehouse, the park office) answers a finding with what
/// it did: the finding becomes `answered`. A closed finding takes no answer (409).
pub fn answer_finding(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    text: String,
) -> Result<ThreadView, ApiError> {
    let row = load_thread(conn, principal, ThreadKind::Finding, id, answer_action)?;
    refuse_closed(&row)?;
    new_message(conn, now, principal, id, MessageKind::Answer, Some(text))?;
    let row = changed(conn, now, row, ThreadStatus::Answered, "answered")?;
    // The park office answering a finding at its own warehouse tells nobody.
    if principal.organization_id != row.park_id {
        let title = format!("Finding answered by the enterprise: {}", row.subject);
        tell(conn, now, &row.park_id, FINDING_ANSWERED, &row, title)?;
    }
    thread_view(conn, now, row)
}

/// The park office closes a finding or feedback (409 when already closed).
pub fn close(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    kind: ThreadKind,
    id: &str,
    note: Option<String>,
) -> Result<ThreadView, ApiError> {
    let row = load_thread(conn, principal, kind, id, manage_action)?;
    refuse_closed(&row)?;
    new_message(conn, now, principal, id, MessageKind::Closed, note)?;
    let row = changed(conn, now, row, ThreadStatus::Closed, "closed")?;
    if kind == ThreadKind::Finding
        && let Some(enterprise) = row.enterprise_id.clone()
    {
        let title = format!("Finding closed as rectified: {}", row.subject);
        tell(conn, now, &enterprise, FINDING_CLOSED, &row, title)?;
    }
    thread_view(conn, now, row)
}

/// The park office reopens a finding that was answered or closed: it is open again (409 when
/// it is open).
pub fn reopen_finding(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    reason: String,
) -> Result<ThreadView, ApiError> {
    let row = load_thread(conn, principal, ThreadKind::Finding, id, manage_action)?;
    if row.status == ThreadStatus::Open {
        return Err(ApiError::Conflict("this finding is open".to_owned()));
    }
    new_message(
        conn,
        now,
        principal,
        id,
        MessageKind::Reopened,
        Some(reason),
    )?;
    let row = changed(conn, now, row, ThreadStatus::Open, "reopened")?;
    if let Some(enterprise) = row.enterprise_id.clone() {
        let title = format!("Finding reopened, not rectified: {}", row.subject);
        tell(conn, now, &enterprise, FINDING_REOPENED, &row, title)?;
    }
    thread_view(conn, now, row)
}

/// An enterprise user writes feedback (a question or a complaint) to its park office.
pub fn open_feedback(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    subject: String,
    text: String,
) -> Result<ThreadView, ApiError> {
    crate::auth::policy::writes_feedback(principal)?;
    let enterprise = parks::load_enterprise(conn, &principal.organization_id)?;
    let park_id = enterprise.enterprise.park_id.clone();
    let row = ThreadRow {
        id: new_id("fbk"),
        kind: "feedback".to_owned(),
        park_id: park_id.clone(),
        enterprise_id: Some(principal.organization_id.clone()),
        warehouse_id: None,
        patrol_id: None,
        subject,
        severity: None,
        deadline: None,
        status: ThreadStatus::Open,
        created_by: principal.user_id.clone(),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        closed_at: None,
    };
    store::insert_thread(conn, &row)?;
    new_message(
        conn,
        now,
        principal,
        &row.id,
        MessageKind::Opened,
        Some(text),
    )?;
    let title = format!("Feedback from an enterprise: {}", row.subject);
    tell(conn, now, &park_id, FEEDBACK_MESSAGE, &row, title)?;
    crate::audit::context::describe(
        format!("/api/v1/feedback/{}", row.id),
        serde_json::json!({"opened": row.id}),
    );
    crate::audit::context::park(&park_id);
    thread_view(conn, now, row)
}

/// A message of feedback from the park office (the thread becomes `answered`) or the
/// enterprise (`open`). A closed thread takes none (409).
pub fn feedback_message(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &str,
    text: String,
) -> Result<ThreadView, ApiError> {
    let row = load_thread(conn, principal, ThreadKind::Feedback, id, write_action)?;
    refuse_closed(&row)?;
    new_message(conn, now, principal, id, MessageKind::Message, Some(text))?;
    let status = if principal.organization_id == row.park_id {
        ThreadStatus::Answered
    } else {
        ThreadStatus::Open
    };
    let row = changed(conn, now, row, status, "message")?;
    let (to, title) = if status == ThreadStatus::Answered {
        (
            row.enterprise_id.clone(),
            format!("The park office answered your feedback: {}", row.subject),
        )
    } else {
        (
            Some(row.park_id.clone()),
            format!("The enterprise wrote in its feedback: {}", row.subject),
        )
    };
    if let Some(to) = to {
        tell(conn, now, &to, FEEDBACK_MESSAGE, &row, title)?;
    }
    thread_view(conn, now, row)
}

/// Keeps a photo of a finding or of feedback, uploaded by the park office or the enterprise
/// concerned, while the thread is not closed (409), up to [`MAX_PHOTOS`] (409).
pub fn add_photo(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    kind: ThreadKind,
    id: &str,
    image: ImageType,
    bytes: &[u8],
) -> Result<PhotoView, ApiError> {
    let row = load_thread(conn, principal, kind, id, write_action)?;
    refuse_closed(&row)?;
    if store::count_photos(conn, id)? >= MAX_PHOTOS {
        return Err(ApiError::Conflict(format!(
            "a thread holds at most {MAX_PHOTOS} photos"
        )));
    }
    let photo_id = new_id("pho");
    let sha256 = crate::domain::digest::sha256_hex(bytes);
    let byte_size = i64::try_from(bytes.len()).map_err(anyhow::Error::from)?;
    store::insert_photo(
        conn,
        &NewPhoto {
            id: &photo_id,
            thread_id: id,
            content_type: image.media_type(),
            byte_size,
            sha256: &sha256,
            bytes,
            uploaded_by: &principal.user_id,
            organization_id: &principal.organization_id,
            created_at: now.naive_utc(),
        },
    )?;
    crate::audit::context::describe(
        format!("/api/v1/photos/{photo_id}"),
        serde_json::json!({"photo": photo_id, "thread": id, "content_type": image.media_type(),
            "byte_size": byte_size, "sha256": sha256}),
    );
    crate::audit::context::park(&row.park_id);
    let meta = store::find_photo(conn, &photo_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    Ok(photo_view(meta))
}

/// A photo's type and bytes, for whoever may read its thread (404 otherwise).
pub fn read_photo(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<(String, Vec<u8>), ApiError> {
    let meta = store::find_photo(conn, id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let thread =
        store::find_thread(conn, &meta.thread_id)?.ok_or(ApiError::NotFound(NOT_VISIBLE))?;
    let region = region_of(conn, &thread.park_id)?;
    authorize(
        principal,
        Action::ReadPatrol {
            place: Place {
                park_id: &thread.park_id,
                region_code: &region,
            },
            enterprise_id: thread.enterprise_id.as_deref(),
        },
    )?;
    Ok((meta.content_type, store::photo_bytes(conn, id)?))
}

/// For each time zone of the parks, its today.
pub fn todays(conn: &mut DbConn, now: DateTime<Utc>) -> Result<Vec<(String, NaiveDate)>, ApiError> {
    Ok(store::park_time_zones(conn)?
        .into_iter()
        .map(|zone| {
            let tz = zone
                .parse()
                .unwrap_or(crate::domain::park::DEFAULT_TIME_ZONE);
            (zone, crate::domain::time::local_date(now, tz))
        })
        .collect())
}

/// Tells each finding past its deadline (in its park's time zone) and not closed to the park
/// office and the enterprise concerned, once per finding. Returns how many were told.
pub fn tell_overdue(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let due_before = todays(conn, now)?;
    let mut told = 0;
    for row in store::overdue_findings(conn, &Scope::All, &due_before, None, None)? {
        let deadline = row.deadline.unwrap_or(NaiveDate::MIN);
        let mut audience = vec![row.park_id.clone()];
        audience.extend(row.enterprise_id.clone());
        let notice = Notice {
            type_: FINDING_OVERDUE,
            subject_id: &row.id,
            title: format!(
                "Finding not rectified by its deadline of {deadline}: {}",
                row.subject
            ),
            data: serde_json::json!({
                "finding_id": row.id,
                "patrol_id": row.patrol_id,
                "enterprise_id": row.enterprise_id,
                "warehouse_id": row.warehouse_id,
                "deadline": deadline,
                "status": row.status,
            }),
        };
        let key = format!("finding-overdue:{}", row.id);
        if crate::notify::alarms::tell_once(conn, now, &key, &audience, &notice)? {
            told += 1;
        }
    }
    Ok(told)
}

//! Use cases on the catalog: the built-in seed, lookups that validate codes given as input, and
//! the CSV import.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::domain::ids::new_id;
use crate::domain::waste::{
    CatalogRef, Category, Characteristic, WasteCode, WasteKind, join_characteristics,
    parse_characteristics,
};
use crate::error::{ApiError, FieldError};
use crate::http::Page;
use crate::http::pagination::PageRequest;
use crate::registry::catalog::store::{self, CategoryRow, CodeRow, ImportRow};

pub use crate::registry::catalog::store::CodeFilter;

/// The HW categories shipped with the service (names as commonly published).
const BUILTIN_HW_CATEGORIES: &str = include_str!("hw_categories.csv");

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "HW08", "kind": "hazardous", "name_zh": "废矿物油与含矿物油废物", "name_en": "waste mineral oil and oil-bearing waste"}))]
pub struct CategoryView {
    pub code: String,
    pub kind: WasteKind,
    pub name_zh: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "900-249-08",
    "kind": "hazardous",
    "category": "HW08",
    "name_zh": "其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物",
    "characteristics": ["T", "I"],
    "edition": "2025"
}))]
pub struct CodeView {
    pub code: String,
    pub kind: WasteKind,
    pub category: String,
    pub name_zh: String,
    /// Hazard characteristics (hazardous codes only).
    pub characteristics: Vec<Characteristic>,
    /// The day from which the code is no longer in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_on: Option<NaiveDate>,
    /// The catalog edition that last set this code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
}

pub fn category_view(row: CategoryRow) -> CategoryView {
    CategoryView {
        kind: WasteKind::parse_stored(&row.kind).unwrap_or(WasteKind::Hazardous),
        code: row.code,
        name_zh: row.name_zh,
        name_en: row.name_en,
    }
}

pub fn code_view(row: CodeRow) -> CodeView {
    CodeView {
        kind: WasteKind::parse_stored(&row.kind).unwrap_or(WasteKind::Hazardous),
        characteristics: parse_characteristics("", &row.characteristics)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        code: row.code,
        category: row.category,
        name_zh: row.name_zh,
        withdrawn_on: row.withdrawn_on,
        edition: row.edition,
    }
}

/// Adds the built-in HW categories that the catalog lacks; existing ones (perhaps renamed by an
/// import) are left alone. Runs at every start.
pub fn seed_builtin(conn: &mut DbConn, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let now = now.naive_utc();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(BUILTIN_HW_CATEGORIES.as_bytes());
    let mut added = 0;
    for record in reader.records() {
        let record = record?;
        let (code, name_zh, name_en) = (
            &record[0],
            &record[1],
            record.get(2).filter(|s| !s.is_empty()),
        );
        if store::find_category(conn, code)?.is_none() {
            store::insert_category(
                conn,
                &CategoryRow {
                    code: code.to_owned(),
                    kind: WasteKind::Hazardous.as_str().to_owned(),
                    name_zh: name_zh.to_owned(),
                    name_en: name_en.map(str::to_owned),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            added += 1;
        }
    }
    Ok(added)
}

/// Checks that every reference names a category or a code in the catalog (a code not
/// withdrawn on `day`); reports each unknown one as a field error named by `field_of(index)`.
pub fn check_refs_exist(
    conn: &mut DbConn,
    field_of: impl Fn(usize) -> String,
    refs: &[CatalogRef],
    day: NaiveDate,
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let name = field_of(i);

        match r {
            CatalogRef::Category(c) => {
                if store::find_category(conn, c.as_str())?.is_none() {
                    errors.push(FieldError::new(
                        name,
                        "unknown_code",
                        format!("category {c} is not in the catalog"),
                    ));
                }
            }
            CatalogRef::Code(code) => match store::find_code(conn, code.as_str())? {
                None => errors.push(FieldError::new(
                    name,
                    "unknown_code",
                    format!("{code} is not in the waste catalog"),
                )),
                Some(row) if row.withdrawn_on.is_some_and(|w| w <= day) => {
                    errors.push(FieldError::new(
                        name,
                        "withdrawn_code",
                        format!(
                            "{code} was withdrawn from the catalog on {}",
                            row.withdrawn_on.map(|d| d.to_string()).unwrap_or_default()
                        ),
                    ))
                }
                Some(_) => {}
            },
        }
    }
    Ok(errors)
}

/// One refused line of an import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedLine {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// The code on that line, as written.
    pub code: String,
    /// The column at fault.
    pub column: String,
    pub message: String,
}

/// What an import did, line by line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "imp_0193f1c2a4b87d21a1c6e1f0b2d3c4e9",
    "edition": "2025",
    "dry_run": false,
    "imported_at": "2026-11-28T08:00:00Z",
    "lines": 3,
    "accepted": 2,
    "rejected": 1,
    "created": 2,
    "updated": 0,
    "unchanged": 0,
    "rejected_lines": [{"line": 4, "code": "900-041-42", "column": "code", "message": "\"900-041-42\" is not a waste code"}]
}))]
pub struct ImportReport {
    /// Absent for a dry run (nothing was stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    pub dry_run: bool,
    pub imported_at: DateTime<Utc>,
    /// Data lines read (the header not counted).
    pub lines: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected_lines: Vec<RejectedLine>,
}

/// Columns of an import file; `code` and `name_zh` are required.
const COLUMNS: [&str; 5] = [
    "code",
    "name_zh",
    "characteristics",
    "name_en",
    "withdrawn_on",
];
pub const MAX_IMPORT_LINES: u64 = 20_000;

/// A line that parsed.
enum Entry {
    Category {
        category: Category,
        name_zh: String,
        name_en: Option<String>,
    },
    Code {
        code: WasteCode,
        name_zh: String,
        characteristics: BTreeSet<Characteristic>,
        withdrawn_on: Option<NaiveDate>,
    },
}

/// Imports a catalog file: CSV (UTF-8, optional BOM) with a header naming the columns
/// `code,name_zh[,characteristics][,name_en][,withdrawn_on]`. A line is a category (`HW08`,
/// `S17`) or a code (`900-249-08`, `900-001-S17`). Valid lines are applied (created or
/// updated), invalid ones reported; with `dry_run` nothing is stored. Codes are never deleted:
/// a code leaving the catalog gets `withdrawn_on`.
pub fn import(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    by: &str,
    bytes: &[u8],
    edition: Option<String>,
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::field("body", "encoding", format!("the file is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            ApiError::field(
                "header",
                "invalid",
                format!("the header line does not parse: {e}"),
            )
        })?
        .clone();
    let position: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    let mut header_errors = Vec::new();
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            header_errors.push(FieldError::new(
                "header",
                "unknown_column",
                format!("unknown column {h:?}; columns are {}", COLUMNS.join(", ")),
            ));
        }
    }
    for required in ["code", "name_zh"] {
        if !position.contains_key(required) {
            header_errors.push(FieldError::new(
                "header",
                "missing_column",
                format!("the header must name a {required:?} column"),
            ));
        }
    }
    if !header_errors.is_empty() {
        return Err(ApiError::Validation(header_errors));
    }
    let cell = |record: &csv::StringRecord, column: &str| {
        position
            .get(column)
            .and_then(|&i| record.get(i))
            .unwrap_or("")
            .to_owned()
    };

    let mut report = ImportReport {
        id: None,
        edition: edition.clone(),
        dry_run,
        imported_at: now,
        lines: 0,
        accepted: 0,
        rejected: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected_lines: Vec::new(),
    };
    let mut entries: Vec<(u64, Entry)> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        report.lines += 1;
        if report.lines > MAX_IMPORT_LINES {
            return Err(ApiError::field(
                "body",
                "too_many_lines",
                format!("an import holds at most {MAX_IMPORT_LINES} lines"),
            ));
        }
        let line = report.lines + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.rejected_lines.push(RejectedLine {
                    line,
                    code: String::new(),
                    column: "line".into(),
                    message: format!("does not parse as CSV: {e}"),
                });
                continue;
            }
        };
        let raw_code = cell(&record, "code");
        let reject = |column: &str, message: String| RejectedLine {
            line,
            code: raw_code.clone(),
            column: column.to_owned(),
            message,
        };
        match parse_line(&record, &cell) {
            Err((column, message)) => report.rejected_lines.push(reject(column, message)),
            Ok(entry) => {
                let key = match &entry {
                    Entry::Category { category, .. } => category.as_str().to_owned(),
                    Entry::Code { code, .. } => code.as_str().to_owned(),
                };
                if let Some(first) = seen.insert(key.clone(), line) {
                    report.rejected_lines.push(reject(
                        "code",
                        format!("{key} already appears on line {first}"),
                    ));
                } else {
                    entries.push((line, entry));
                }
            }
        }
    }

    let (has_name_en, has_withdrawn_on) = (
        position.contains_key("name_en"),
        position.contains_key("withdrawn_on"),
    );
    // Categories first, so that codes may name a category defined further down the file.
    let mut known_categories: BTreeSet<String> = BTreeSet::new();
    entries.sort_by_key(|(line, e)| (matches!(e, Entry::Code { .. }), *line));
    for (line, entry) in entries {
        match entry {
            Entry::Category {
                category,
                name_zh,
                name_en,
            } => {
                let existing = store::find_category(conn, category.as_str())?;
                let row = CategoryRow {
                    code: category.as_str().to_owned(),
                    kind: category.kind().as_str().to_owned(),
                    name_zh,
                    // A file without the column leaves what is stored.
                    name_en: if has_name_en {
                        name_en
                    } else {
                        existing.as_ref().and_then(|e| e.name_en.clone())
                    },
                    created_at: existing.as_ref().map_or(now.naive_utc(), |e| e.created_at),
                    updated_at: existing.as_ref().map_or(now.naive_utc(), |e| e.updated_at),
                };
                if tally(&mut report, existing.as_ref(), &row) && !dry_run {
                    let row = CategoryRow {
                        updated_at: now.naive_utc(),
                        ..row
                    };
                    match existing {
                        None => store::insert_category(conn, &row)?,
                        Some(_) => store::save_category(conn, &row)?,
                    }
                }
                known_categories.insert(category.as_str().to_owned());
            }
            Entry::Code {
                code,
                name_zh,
                characteristics,
                withdrawn_on,
            } => {
                let category = code.category().as_str().to_owned();
                if !known_categories.contains(&category)
                    && store::find_category(conn, &category)?.is_none()
                {
                    report.rejected_lines.push(RejectedLine {
                        line,
                        code: code.as_str().to_owned(),
                        column: "code".into(),
                        message: format!("its category {category} is not in the catalog; add a line for {category}"),
                    });
                    continue;
                }
                known_categories.insert(category.clone());
                let existing = store::find_code(conn, code.as_str())?;
                let row = CodeRow {
                    code: code.as_str().to_owned(),
                    kind: code.kind().as_str().to_owned(),
                    category,
                    name_zh,
                    characteristics: join_characteristics(&characteristics),
                    withdrawn_on: if has_withdrawn_on {
                        withdrawn_on
                    } else {
                        existing.as_ref().and_then(|e| e.withdrawn_on)
                    },
                    edition: edition
                        .clone()
                        .or_else(|| existing.as_ref().and_then(|e| e.edition.clone())),
                    created_at: existing.as_ref().map_or(now.naive_utc(), |e| e.created_at),
                    updated_at: existing.as_ref().map_or(now.naive_utc(), |e| e.updated_at),
                };
                if tally(&mut report, existing.as_ref(), &row) && !dry_run {
                    let row = CodeRow {
                        updated_at: now.naive_utc(),
                        ..row
                    };
                    match existing {
                        None => store::insert_code(conn, &row)?,
                        Some(_) => store::save_code(conn, &row)?,
                    }
                }
            }
        }
    }
    report.rejected_lines.sort_by_key(|r| r.line);
    report.rejected = report.rejected_lines.len() as u64;
    report.accepted = report.lines - report.rejected;
    if !dry_run {
        let id = new_id("imp");
        report.id = Some(id.clone());
        let json = serde_json::to_string(&report)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("serialising a report: {e}")))?;
        store::insert_import(
            conn,
            &ImportRow {
                id,
                imported_by: by.to_owned(),
                imported_at: now.naive_utc(),
                edition,
                lines: i32::try_from(report.lines).unwrap_or(i32::MAX),
                accepted: i32::try_from(report.accepted).unwrap_or(i32::MAX),
                rejected: i32::try_from(report.rejected).unwrap_or(i32::MAX),
                report: json,
            },
        )?;
    }
    Ok(report)
}

/// Counts a row as created, updated or unchanged; true when it must be written. The new row
/// carries the existing row's timestamps, so equality compares content only.
fn tally<R: PartialEq>(report: &mut ImportReport, existing: Option<&R>, row: &R) -> bool {
    match existing {
        Some(old) if old == row => {
            report.unchanged += 1;
            false
        }
        Some(_) => {
            report.updated += 1;
            true
        }
        None => {
            report.created += 1;
            true
        }
    }
}

/// Parses one line; an error names the column and says why.
fn parse_line(
    record: &csv::StringRecord,
    cell: &impl Fn(&csv::StringRecord, &str) -> String,
) -> Result<Entry, (&'static str, String)> {
    let raw_code = cell(record, "code");
    let name_zh = cell(record, "name_zh");
    let characteristics = cell(record, "characteristics");
    let name_en = Some(cell(record, "name_en")).filter(|s| !s.is_empty());
    let withdrawn = cell(record, "withdrawn_on");
    if name_zh.is_empty() || name_zh.chars().count() > 500 || name_zh.chars().any(char::is_control)
    {
        return Err((
            "name_zh",
            "must be 1 to 500 printable characters".to_owned(),
        ));
    }
    if name_en.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(("name_en", "must be at most 500 characters".to_owned()));
    }
    let target = CatalogRef::parse("code", &raw_code).map_err(|e| ("code", e.message))?;
    match target {
        CatalogRef::Category(category) => {
            if !characteristics.is_empty() || !withdrawn.is_empty() {
                return Err((
                    "characteristics",
                    "a category line carries only code, name_zh and name_en".to_owned(),
                ));
            }
            Ok(Entry::Category {
                category,
                name_zh,
                name_en,
            })
        }
        CatalogRef::Code(code) => {
            let set = parse_characteristics("characteristics", &characteristics)
                .map_err(|e| ("characteristics", e.message))?;
            match code.kind() {
                WasteKind::Hazardous if set.is_empty() => {
                    return Err((
                        "characteristics",
                        "a hazardous code needs its hazard characteristics (T, C, I, R, In)"
                            .to_owned(),
                    ));
                }
                WasteKind::General if !set.is_empty() => {
                    return Err((
                        "characteristics",
                        "general industrial waste has no hazard characteristics".to_owned(),
                    ));
                }
                _ => {}
            }
            let withdrawn_on = if withdrawn.is_empty() {
                None
            } else {
                Some(
                    NaiveDate::parse_from_str(&withdrawn, "%Y-%m-%d").map_err(|_| {
                        (
                            "withdrawn_on",
                            format!("{withdrawn:?} is not a date YYYY-MM-DD"),
                        )
                    })?,
                )
            };
            Ok(Entry::Code {
                code,
                name_zh,
                characteristics: set,
                withdrawn_on,
            })
        }
    }
}

pub fn import_report(row: ImportRow) -> Result<ImportReport, ApiError> {
    serde_json::from_str(&row.report)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored import report: {e}")))
}

/// One page of the categories, optionally of one kind.
pub fn list_categories(
    conn: &mut DbConn,
    kind: Option<&str>,
    page: &PageRequest,
) -> Result<Page<CategoryView>, ApiError> {
    let rows = store::list_categories(conn, kind, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.code.as_str()).map(category_view))
}

/// One page of the codes that match `filter`.
pub fn list_codes(
    conn: &mut DbConn,
    filter: &CodeFilter,
    page: &PageRequest,
) -> Result<Page<CodeView>, ApiError> {
    let rows = store::list_codes(conn, filter, page)?;
    Ok(Page::from_rows(rows, page.limit, |r| r.code.as_str()).map(code_view))
}

/// One code of the catalog.
pub fn get_code(conn: &mut DbConn, code: &WasteCode) -> Result<CodeView, ApiError> {
    store::find_code(conn, code.as_str())?
        .map(code_view)
        .ok_or(ApiError::NotFound("this code is not in the catalog"))
}

/// One page of the past imports' reports, oldest first.
pub fn list_imports(conn: &mut DbConn, page: &PageRequest) -> Result<Page<ImportReport>, ApiError> {
    let rows = store::list_imports(conn, page)?;
    let page = Page::from_rows(rows, page.limit, |r| r.id.as_str());
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(import_report)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// One import's report.
pub fn get_import(conn: &mut DbConn, id: &str) -> Result<ImportReport, ApiError> {
    let row = store::find_import(conn, id)?.ok_or(ApiError::NotFound("no such import"))?;
    import_report(row)
}

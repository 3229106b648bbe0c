//! Queries on the catalog. Diesel only; no rules.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{catalog_imports, waste_categories, waste_codes};
use crate::http::pagination::PageRequest;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = waste_categories)]
#[diesel(treat_none_as_null = true)]
pub struct CategoryRow {
    pub code: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = waste_codes)]
#[diesel(treat_none_as_null = true)]
pub struct CodeRow {
    pub code: String,
    pub kind: String,
    pub category: String,
    pub name_zh: String,
    pub characteristics: String,
    pub withdrawn_on: Option<NaiveDate>,
    pub edition: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = catalog_imports)]
pub struct ImportRow {
    pub id: String,
    pub imported_by: String,
    pub imported_at: NaiveDateTime,
    pub edition: Option<String>,
    pub lines: i32,
    pub accepted: i32,
    pub rejected: i32,
    pub report: String,
}

pub fn find_category(conn: &mut DbConn, code: &str) -> QueryResult<Option<CategoryRow>> {
    waste_categories::table
        .find(code)
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_category(conn: &mut DbConn, row: &CategoryRow) -> QueryResult<()> {
    diesel::insert_into(waste_categories::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_category(conn: &mut DbConn, row: &CategoryRow) -> QueryResult<()> {
    diesel::update(waste_categories::table.find(&row.code))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub fn list_categories(
    conn: &mut DbConn,
    kind: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<CategoryRow>> {
    let mut q = waste_categories::table
        .select(CategoryRow::as_select())
        .into_boxed();
    if let Some(kind) = kind {
        q = q.filter(waste_categories::kind.eq(kind.to_owned()));
    }
    if let Some(after) = &page.after {
        q = q.filter(waste_categories::code.gt(after.clone()));
    }
    q.order(waste_categories::code.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn find_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<CodeRow>> {
    waste_codes::table
        .find(code)
        .select(CodeRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_code(conn: &mut DbConn, row: &CodeRow) -> QueryResult<()> {
    diesel::insert_into(waste_codes::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn save_code(conn: &mut DbConn, row: &CodeRow) -> QueryResult<()> {
    diesel::update(waste_codes::table.find(&row.code))
        .set(row)
        .execute(conn)
        .map(drop)
}

pub struct CodeFilter {
    pub kind: Option<String>,
    pub category: Option<String>,
    /// A code prefix or a part of the Chinese name.
    pub search: Option<String>,
    pub include_withdrawn: bool,
}

pub fn list_codes(
    conn: &mut DbConn,
    filter: &CodeFilter,
    page: &PageRequest,
) -> QueryResult<Vec<CodeRow>> {
    let mut q = waste_codes::table.select(CodeRow::as_select()).into_boxed();
    if let Some(kind) = &filter.kind {
        q = q.filter(waste_codes::kind.eq(kind.clone()));
    }
    if let Some(category) = &filter.category {
        q = q.filter(waste_codes::category.eq(category.clone()));
    }
    if let Some(search) = &filter.search {
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q = q.filter(
            waste_codes::code
                .like(format!("{escaped}%"))
                .escape('\\')
                .or(waste_codes::name_zh
                    .like(format!("%{escaped}%"))
                    .escape('\\')),
        );
    }
    if !filter.include_withdrawn {
        q = q.filter(waste_codes::withdrawn_on.is_null());
    }
    if let Some(after) = &page.after {
        q = q.filter(waste_codes::code.gt(after.clone()));
    }
    q.order(waste_codes::code.asc())
        .limit(page.limit + 1)
        .load(conn)
}

pub fn insert_import(conn: &mut DbConn, row: &ImportRow) -> QueryResult<()> {
    diesel::insert_into(catalog_imports::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_import(conn: &mut DbConn, id: &str) -> QueryResult<Option<ImportRow>> {
    catalog_imports::table
        .find(id)
        .select(ImportRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_imports(conn: &mut DbConn, page: &PageRequest) -> QueryResult<Vec<ImportRow>> {
    let mut q = catalog_imports::table
        .select(ImportRow::as_select())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(catalog_imports::id.gt(after.clone()));
    }
    q.order(catalog_imports::id.asc())
        .limit(page.limit + 1)
        .load(conn)
}

//! Cursor pagination, the same for every list: `?limit=&cursor=`, answered by
//! `{"items": [...], "next_cursor": "..."}`. Page sizes are bounded.
//!
//! A parameter left out takes its default (50 items, the first page); a parameter given empty
//! (`?limit=`, `?cursor=`) is a bad value like any other, refused with a 422 naming it, so that
//! a client that lost its cursor is told so rather than sent back to the first page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{FieldError, Validator};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50 when left out; not empty).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page; left out for the first page (not empty).
    pub cursor: Option<String>,
}

/// A validated page request: at most `limit` items after the key `after`.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageQuery {
    pub fn parse(&self, v: &mut Validator) -> PageRequest {
        let limit = match self.limit.as_deref().map(str::trim) {
            None => DEFAULT_LIMIT,
            Some("") => {
                v.push(empty("limit", "for 50 items"));
                DEFAULT_LIMIT
            }
            Some(raw) => v
                .check(
                    raw.parse::<i64>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            FieldError::new(
                                "limit",
                                "out_of_range",
                                format!("must be a whole number from 1 to {MAX_LIMIT}"),
                            )
                        }),
                )
                .unwrap_or(DEFAULT_LIMIT),
        };
        let after = match self.cursor.as_deref() {
            None => None,
            Some("") => {
                v.push(empty("cursor", "for the first page"));
                None
            }
            Some(raw) => v.check(decode_cursor(raw)),
        };
        PageRequest { limit, after }
    }
}

/// The error for a query parameter given with an empty value.
pub fn empty(field: &str, default: &str) -> FieldError {
    FieldError::new(
        field,
        "empty",
        format!("must not be empty: leave it out {default}"),
    )
}

fn decode_cursor(raw: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new("cursor", "invalid", "is not a cursor returned by this list");
    if raw.len() > 256 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    String::from_utf8(bytes)
        .ok()
        .filter(|c| !c.is_empty() && !c.chars().any(char::is_control))
        .ok_or_else(invalid)
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in key order: the extra row only tells
    /// that there is a next page.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> &str) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_more_follow() {
        let rows: Vec<String> = (0..4).map(|i| format!("k{i}")).collect();
        let page = Page::from_rows(rows.clone(), 3, |s| s.as_str());
        assert_eq!(page.items.len(), 3);
        let cursor = page.next_cursor.expect("a next page");
        assert_eq!(decode_cursor(&cursor).ok().as_deref(), Some("k2"));
        let last = Page::from_rows(rows, 4, |s| s.as_str());
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn limits_are_bounded() {
        for bad in ["0", "201", "-1", "ten"] {
            let mut v = Validator::new();
            PageQuery {
                limit: Some(bad.into()),
                cursor: None,
            }
            .parse(&mut v);
            assert!(v.finish().is_err(), "{bad}");
        }
        let mut v = Validator::new();
        PageQuery {
            limit: None,
            cursor: Some("%%%".into()),
        }
        .parse(&mut v);
        assert!(v.finish().is_err());
    }

    #[test]
    fn empty_values_are_refused_and_absent_ones_take_the_default() {
        let mut v = Validator::new();
        let page = PageQuery::default().parse(&mut v);
        assert!(v.finish().is_ok());
        assert_eq!((page.limit, page.after), (DEFAULT_LIMIT, None));
        for (limit, cursor, field) in [
            (Some(""), None, "limit"),
            (Some(" "), None, "limit"),
            (None, Some(""), "cursor"),
        ] {
            let mut v = Validator::new();
            PageQuery {
                limit: limit.map(str::to_owned),
                cursor: cursor.map(str::to_owned),
            }
            .parse(&mut v);
            match v.finish() {
                Err(crate::error::ApiError::Validation(errors)) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, field);
                    assert_eq!(errors[0].code, "empty");
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}

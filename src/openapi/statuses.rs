//! The error statuses every operation can answer, declared once in `components.responses` and
//! referenced from each operation that can answer them.
//!
//! Which operation answers which status is derived from the operation itself, so that a new
//! route is documented without listing anything here:
//!
//! | status | answered by |
//! |---|---|
//! | 400 | a request body that is not well-formed JSON, a bad `Idempotency-Key` header, text with a NUL character (PostgreSQL): every operation with a body, a parameter or the header |
//! | 401 | every operation with the `bearer` security requirement, without a valid access token |
//! | 404 | every operation with a path parameter (the object does not exist or is not visible) |
//! | 413, 415 | every operation with a request body |
//! | 409 | every operation reading `Idempotency-Key` (the first request with the key still running) |
//! | 422 | every operation with a JSON body (an unknown, missing or mistyped field), with query parameters, or reading `Idempotency-Key` (the key reused for another request) |
//! | 429 | every operation of the API (`/api/v1`), past its client's request rate (`http::limits`) |
//! | 500, 503 | every operation but those that never touch the database ([`NO_DATABASE`]) |
//!
//! 403 and other 409s depend on what the handler does; an operation documents them itself. Where
//! an operation documents a shared status itself, its own description is kept, as the
//! description of its reference.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{
    ContentBuilder, Object, OpenApi, Ref, RefOr, Response, ResponseBuilder, Type,
};

use crate::error::PROBLEM_JSON;

/// Operations that never touch the database, nor anything else that can fail: no 500 or 503.
pub const NO_DATABASE: &[&str] = &["healthz", "serve"];

/// The header naming an idempotent request.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// A shared response: status, name in `components.responses`, and its description.
pub struct Shared {
    pub status: &'static str,
    pub name: &'static str,
    description: &'static str,
}

pub const SHARED: &[Shared] = &[
    Shared {
        status: "400",
        name: "BadRequest",
        description: "The request could not be parsed: a body that is not well-formed JSON, an \
            `Idempotency-Key` header that is not 1 to 255 visible ASCII characters, or text \
            with a NUL character (`urn:wastetrack:problem:malformed-request`)",
    },
    Shared {
        status: "401",
        name: "Unauthenticated",
        description: "No valid access token: none sent, expired, revoked or malformed \
            (`urn:wastetrack:problem:unauthenticated`, with `WWW-Authenticate: Bearer`)",
    },
    Shared {
        status: "403",
        name: "Forbidden",
        description: "Authenticated, but your role or organisation may not do this \
            (`urn:wastetrack:problem:forbidden`)",
    },
    Shared {
        status: "404",
        name: "NotFound",
        description: "No such object, or not one you may see: the same answer in both cases \
            (`urn:wastetrack:problem:not-found`)",
    },
    Shared {
        status: "409",
        name: "Conflict",
        description: "The request conflicts with the current state: a duplicate, a step out of \
            order, a concurrent change, or an `Idempotency-Key` whose first request is still \
            running (`urn:wastetrack:problem:conflict`)",
    },
    Shared {
        status: "413",
        name: "PayloadTooLarge",
        description: "The request body is over the configured limit (64 KiB by default) \
            (`urn:wastetrack:problem:payload-too-large`)",
    },
    Shared {
        status: "415",
        name: "UnsupportedMediaType",
        description: "The request body is not of the documented content type (JSON bodies need \
            `Content-Type: application/json`) (`urn:wastetrack:problem:unsupported-media-type`)",
    },
    Shared {
        status: "422",
        name: "ValidationFailed",
        description: "Some fields or parameters are invalid: each is named in `errors` \
            (`urn:wastetrack:problem:validation`); also an `Idempotency-Key` reused for another \
            request",
    },
    Shared {
        status: "429",
        name: "TooManyRequests",
        description: "Too many requests from this address or with this token, or too many \
            attempts; retry after the `Retry-After` seconds \
            (`urn:wastetrack:problem:too-many-requests`)",
    },
    Shared {
        status: "500",
        name: "InternalError",
        description: "An unexpected error; the cause is logged under the request id, which the \
            body names (`urn:wastetrack:problem:internal`)",
    },
    Shared {
        status: "503",
        name: "Unavailable",
        description: "The database is unreachable, busy or its pool exhausted; retry shortly \
            (`urn:wastetrack:problem:service-unavailable`)",
    },
];

fn shared(status: &str) -> Option<&'static Shared> {
    SHARED.iter().find(|s| s.status == status)
}

fn problem_response(shared: &Shared) -> Response {
    let mut builder = ResponseBuilder::new()
        .description(shared.description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
    let text = || Object::with_type(Type::String);
    match shared.status {
        "401" => {
            builder = builder.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(text())
                    .description(Some("`Bearer`"))
                    .build(),
            );
        }
        "429" => {
            builder = builder.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Object::with_type(Type::Integer))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            );
        }
        _ => {}
    }
    builder.build()
}

/// What an operation takes, as far as the statuses it can answer depend on it.
#[derive(Debug, Default)]
pub struct Inputs {
    pub secured: bool,
    pub body: bool,
    pub json_body: bool,
    pub query: bool,
    pub path: bool,
    pub idempotency_key: bool,
}

impl Inputs {
    pub fn of(op: &Operation) -> Self {
        let params = op.parameters.iter().flatten();
        let mut inputs = Self {
            secured: op.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement)
                    .is_ok_and(|v| v.get(super::BEARER_SCHEME).is_some())
            }),
            body: op.request_body.is_some(),
            json_body: op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.keys().any(|c| c == "application/json")),
            ..Self::default()
        };
        for p in params {
            match p.parameter_in {
                ParameterIn::Query => inputs.query = true,
                ParameterIn::Path => inputs.path = true,
                ParameterIn::Header if p.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY) => {
                    inputs.idempotency_key = true;
                }
                _ => {}
            }
        }
        inputs
    }

    /// The shared statuses an operation taking these inputs can answer.
    pub fn statuses(&self, operation_id: &str) -> Vec<&'static str> {
        let mut statuses = Vec::new();
        if self.body || self.query || self.path || self.idempotency_key {
            statuses.push("400");
        }
        if self.secured {
            statuses.push("401");
        }
        if self.path {
            statuses.push("404");
        }
        if self.body {
            statuses.extend(["413", "415"]);
        }
        if self.idempotency_key {
            statuses.push("409");
        }
        if self.json_body || self.query || self.idempotency_key {
            statuses.push("422");
        }
        if !NO_DATABASE.contains(&operation_id) {
            statuses.extend(["500", "503"]);
        }
        statuses
    }
}

/// Declares the shared responses and references them from every operation that can answer them.
pub fn document(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for shared in SHARED {
        components
            .responses
            .insert(shared.name.to_owned(), RefOr::T(problem_response(shared)));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let limited = path.starts_with("/api/");
        for op in super::operations_mut(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            let mut statuses = Inputs::of(op).statuses(&id);
            if limited {
                statuses.push("429");
            }
            for status in statuses {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::new(String::new())));
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let Some(shared) = shared(status) else {
                    continue;
                };
                let own = match response {
                    RefOr::T(own) if !is_problem(own) => continue,
                    RefOr::T(own) => own.description.clone(),
                    RefOr::Ref(r) if r.ref_location.is_empty() => String::new(),
                    RefOr::Ref(_) => continue,
                };
                let mut reference = Ref::from_response_name(shared.name);
                reference.description = own;
                *response = RefOr::Ref(reference);
            }
        }
    }
}

fn is_problem(response: &Response) -> bool {
    response.content.len() == 1 && response.content.contains_key(PROBLEM_JSON)
}

//! The tamper-evident audit chain: every committed change of state appends one entry (who,
//! organisation, role, action, object, a summary of the change, request id, time) carrying the
//! hash of the entry before it, in the transaction of the change. Entries are never updated or
//! deleted through the API or the command line; `wastetrack audit verify` and
//! `GET /api/v1/audit/verify` walk the chain and name the first broken link.
//!
//! `context` carries a request's part of the entry to its transaction (see there for how a
//! state-changing request cannot skip its entry); `chain` is the hash and the walk; `store` the
//! queries; `service` and `routes` the reading and verifying.

pub mod chain;
pub mod context;
pub mod routes;
pub mod service;
pub mod store;

pub use context::{describe, object_if_unnamed, park, skip};

//! wastetrack: industrial solid waste from the park's shared warehouse to the licensed disposer.
//!
//! The crate's map:

// The manifest view's OpenAPI example is one JSON literal deeper than `json!`'s default limit.
#![recursion_limit = "256"]

/// The tamper-evident audit chain of every change of state.
pub mod audit;
/// Authentication (passwords, tokens, sessions, the `Principal`) and the access policy.
pub mod auth;
/// Background tasks: the webhook dispatcher and the periodic checks.
pub mod background;
/// Billing by actual weight: statements, notes, payments, remittances, exports.
pub mod billing;
/// The working-day calendar (public holidays and make-up working days) deadlines count on.
pub mod calendar;
/// The command line: `serve`, `migrate`, `openapi`, `demo`, `backup`, `restore`.
pub mod cli;
/// The service's clock, the one source of "now" for every rule.
pub mod clock;
/// Typed settings from defaults, a file and `WASTETRACK_*` variables.
pub mod config;
/// The web console: server-rendered pages for the people at desks.
pub mod console;
/// Connections to PostgreSQL or SQLite, the pool, migrations, transactions, SQLite backups.
pub mod db;
/// `wastetrack demo`: a realistic park to try the API with.
pub mod demo;
/// Pure domain types and rules.
pub mod domain;
/// The HTTP error type and its RFC 9457 rendering.
pub mod error;
/// Figures of a park for a dashboard: stock against thresholds, latencies, volumes.
pub mod figures;
/// Liveness and readiness probes.
pub mod health;
/// Shared HTTP plumbing: JSON extraction, pagination, fallbacks.
pub mod http;
/// The language of problem details (zh-CN or English) and their catalogue.
pub mod i18n;
/// Idempotency-Key handling for retried POSTs.
pub mod idempotency;
/// Organisations and users.
pub mod identity;
/// The inspector's desk: traces of lots and manifests, anomaly lists across a jurisdiction.
pub mod inspection;
/// Ledgers (台账) of the stock per park, warehouse and enterprise, and their exports.
pub mod ledger;
/// Waste lots: weighing in, declarations, labels, inventory, corrections, alarms.
pub mod lots;
/// Transfer manifests: numbering, signed steps, revisions, mass balance, print.
pub mod manifests;
/// Prometheus metrics at `/metrics`.
pub mod metrics;
/// Notifications: inbox, outbox, webhooks and their dispatcher, alarms told once.
pub mod notify;
/// The OpenAPI document.
pub mod openapi;
/// Patrols with findings and their rectification, enterprises' feedback, and their photos.
pub mod patrols;
/// The dispatch and collection of pickup requests by the disposal company.
pub mod pickups;
/// Each enterprise's compliance: waste profiles, the five haves, reduction and trends.
pub mod profiles;
/// Parks, enterprises, the directory, warehouses, the waste catalog, contracts.
pub mod registry;
/// The park's report for the government: trends, patrols and the five haves of a period.
pub mod reports;
/// Pickup requests and the threshold trigger that raises them.
pub mod requests;
/// The table of every route.
pub mod routes;
/// Building and running the server.
pub mod startup;
/// The application state every handler can reach.
pub mod state;
/// Logs and request ids.
pub mod telemetry;

#[cfg(test)]
mod layout;

//! Integration tests: the real server over HTTP, on SQLite and (when configured) PostgreSQL.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod helpers;

mod auth;
mod backups;
mod billing;
mod binary;
mod calendar;
mod catalog;
mod contract;
mod contracts;
mod deploy;
mod errors;
mod examples;
mod figures;
mod health;
mod identity;
mod ledgers;
mod limits;
mod lots;
mod manifest_signers;
mod manifests;
mod matrix;
mod metrics;
mod openapi;
mod patches;
mod pickups;
mod processes;
mod receiver;
mod registry;
mod statuses;
mod tokens;
mod typescript;
mod upgrades;
mod webhooks;
mod wechat;

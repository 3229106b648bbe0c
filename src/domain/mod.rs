//! Domain types and rules: pure code, no I/O. Input is parsed into these types at the HTTP
//! boundary, so that an invalid value cannot exist inside the service.

pub mod billing;
pub mod canonical;
pub mod contract;
pub mod digest;
pub mod identity;
pub mod ids;
pub mod label;
pub mod lot;
pub mod manifest;
pub mod park;
pub mod patrol;
pub mod photo;
pub mod pickup;
pub mod region;
pub mod state;
pub mod text;
pub mod threshold;
pub mod time;
pub mod units;
pub mod uscc;
pub mod vehicle;
pub mod waste;
pub mod webhook;
pub mod workdays;

//! The "1+N" contracts: one disposal company, the park office and N enterprises, with dated
//! membership, prices per code or category, pickup thresholds, the maximum storage period, and
//! the alerts on licences and contracts about to expire.

pub mod routes;
pub mod service;
pub mod store;

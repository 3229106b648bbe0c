//! The working-day calendar: per year, the public holidays and make-up working days of the
//! State Council's notice, kept by the platform administrator and read by everybody signed in.
//! The receipt deadline of manifests is counted on it (`domain::workdays`).

pub mod routes;
pub mod service;
pub mod store;

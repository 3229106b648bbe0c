//! Pickup requests: raised by the contract's threshold rules (or by hand), accepted, scheduled
//! or declined by the disposal company.

pub mod routes;
pub mod service;
pub mod store;

//! Parks (carried by their management office's organisation) and the enterprises in them.

pub mod routes;
pub mod service;
pub mod store;

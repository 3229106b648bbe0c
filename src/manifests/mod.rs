//! Transfer manifests (and transfer records of general waste): issued at collection, signed
//! step by step, revised with the parties' approval, checked by a mass balance, printed.

pub mod print;
pub mod routes;
pub mod service;
pub mod store;

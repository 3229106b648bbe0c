//! Transfer manifests (and transfer records of general waste): issued at collection, signed
//! step by step, revised with the parties' approval, checked by a mass balance, printed, and
//! exported for filing with the national system.

pub mod filing;
pub mod print;
pub mod routes;
pub mod service;
pub mod store;
pub mod words;

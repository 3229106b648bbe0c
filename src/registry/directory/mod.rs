//! The directory of the other parties: licensed disposal companies and their licences,
//! carriers, the vehicles of a fleet, and environment bureaus.

pub mod routes;
pub mod service;
pub mod store;

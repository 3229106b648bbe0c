//! The waste catalog: HW categories (seeded from the built-in list), hazardous and general
//! waste codes, and the CSV import by which an operator loads or updates an edition.

pub mod routes;
pub mod service;
pub mod store;

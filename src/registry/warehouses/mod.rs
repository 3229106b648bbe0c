//! The park's shared temporary-storage warehouses and their zones.

pub mod routes;
pub mod service;
pub mod store;

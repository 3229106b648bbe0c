//! Organisations and users: the platform administrator's endpoints, `GET /me`, and the
//! bootstrap of the first administrator.

pub mod routes;
pub mod service;
pub mod store;

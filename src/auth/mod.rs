//! Authentication and authorisation: passwords, tokens, sessions, the `Principal` extractor,
//! and `policy`, where every access decision is made.

pub mod password;
pub mod policy;
pub mod principal;
pub mod routes;
pub mod service;
pub mod store;
pub mod tokens;

pub use policy::{Action, authorize};
pub use principal::Principal;

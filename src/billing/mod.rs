//! Billing by actual weight: statements per enterprise and month, notes after issue, payments
//! collected by the park office, balances, remittances to the disposal companies, exports.

pub mod export;
pub mod routes;
pub mod service;
pub mod store;

//! Notifications: each organisation's messages (its in-app inbox, and the outbox its webhooks
//! are fed from), webhook endpoints, the dispatcher that delivers them, the address guard, and
//! the conditions told once (alarms, licence expiries).

pub mod alarms;
pub mod dispatcher;
pub mod guard;
pub mod routes;
pub mod service;
pub mod signing;
pub mod store;

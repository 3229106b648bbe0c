//! Patrols of the park's enterprises and warehouses by the park office, their findings with a
//! deadline for rectification, and enterprises' feedback to their park office: both kinds of
//! thread (a finding, a feedback) carry messages and photos and are open, answered or closed.
//! Overdue findings are told once to the park office and the enterprise (the periodic check)
//! and listed among the anomalies (`inspection`). Photos are kept in the database.

pub mod routes;
pub mod service;
pub mod store;

//! The inspector's desk: a lot's or a manifest's whole trace in one call, and the anomaly lists
//! (lots past their storage limit, overdue receipts, flagged manifests, open refusals, licences
//! ending, idle contract members, full zones, overdue findings of patrols) across every park of a jurisdiction. It only
//! reads, through each feature's own queries and views, so it sits above them all.

pub mod routes;
pub mod service;
pub mod store;

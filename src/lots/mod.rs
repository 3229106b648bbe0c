//! Waste lots: weighed into the shared warehouse (route a) or declared at the enterprise's door
//! for collection there (route b); their containers and labels, the labels' public
//! verification page, the inventory kept with them, corrections, and the storage alarms.

pub mod alarms;
pub mod containers;
pub mod labels;
pub mod routes;
pub mod service;
pub mod signs;
pub mod stock;
pub mod store;
pub mod verify;

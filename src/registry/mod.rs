//! The registry: the reference data every later step checks against — parks and their
//! enterprises, the directory of disposers (with licences), carriers, fleets and environment
//! bureaus, warehouses and zones, the waste catalog, and the "1+N" contracts.

pub mod catalog;
pub mod contracts;
pub mod directory;
pub mod history;
pub mod names;
pub mod parks;
pub mod warehouses;

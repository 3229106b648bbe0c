//! What the disposal company does with a pickup request (`requests`): accept, schedule with a
//! carrier, vehicle and driver, or decline it; the park office cancels it; the driver collects
//! (`collect`): the outbound weighing, the labels scanned at loading (`loading`), the lots
//! leaving the stock, the manifests issued.

pub mod collect;
pub mod loading;
pub mod routes;
pub mod service;

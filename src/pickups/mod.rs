//! What the disposal company does with a pickup request (`requests`): accept, schedule with a
//! carrier, vehicle and driver, or decline it; the park office cancels it; the driver collects
//! (`collect`): the outbound weighing, the lots leaving the stock, the manifests issued.

pub mod collect;
pub mod routes;
pub mod service;

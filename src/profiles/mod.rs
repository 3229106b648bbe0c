//! Each enterprise's compliance at a glance: its waste profile (what it produces, how much it
//! expects, how it handles each kind today, where it stores waste on its premises; versioned
//! like the registry), the flag on a lot whose code the profile does not list, the "five haves"
//! (五个有) computed from the data or recorded by the park office, and the monthly trends
//! against the profile's expectation and the year before, with the share recycled.

pub mod haves;
pub mod routes;
pub mod service;
pub mod store;
pub mod trends;

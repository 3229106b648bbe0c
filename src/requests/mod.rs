//! Pickup requests and the threshold trigger that raises them: lots wait for collection in
//! groups (one contract, one place, one category); every change to a group checks the
//! contract's rules and opens, or extends, the group's one open request. This sits below the
//! lots, which call it when they change; the dispatch and collection of a request sit above
//! them (`pickups`).

pub mod service;
pub mod store;

//! Domain types and rules: pure code, no I/O. Input is parsed into these types at the HTTP
//! boundary, so that an invalid value cannot exist inside the service.

pub mod identity;
pub mod ids;
pub mod time;

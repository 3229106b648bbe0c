//! A park's report for the government over a period of months of its time zone: the trends of
//! its waste (by code, against its enterprises' profiles and the year before, with the share
//! recycled), the patrols held and what became of their findings, and how many of its
//! enterprises meet each of the five haves; as JSON, CSV, Excel and a printable page.

pub mod print;
pub mod routes;
pub mod service;

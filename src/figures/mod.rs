//! Figures of a park for a dashboard, as JSON: the stock per warehouse against zone capacities
//! and pickup thresholds; pickup latency (request → collection) and receipt latency
//! (take-over → receipt) per month; volumes handed in per waste code, enterprise, disposer or
//! month. Every figure is added up by the database over an index (see the migration
//! `figures`); months are those of the park's time zone, bucketed by instants computed here so
//! that both backends count them alike.

pub mod routes;
pub mod service;
pub mod store;

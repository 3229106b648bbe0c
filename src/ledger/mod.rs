//! Ledgers (台账) of the stock: per enterprise, warehouse and park, for a month or a range of
//! days in the park's time zone, the opening stock, what came in, went out (with the manifest
//! number and the receiver), was corrected or voided, and the closing stock, per waste code and
//! category — hazardous and general waste in their own ledgers; every line traceable to its lot.
//! Read from `stock_movements`, which `lots::stock` writes with every change to the stock.

pub mod routes;
pub mod service;
pub mod store;

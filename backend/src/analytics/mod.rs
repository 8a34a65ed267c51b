//! Reporting over a time range: SQL aggregates (percentiles with `percentile_cont`),
//! never loops over rows in Rust.

pub mod queries;
pub mod routes;

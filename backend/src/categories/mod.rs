//! The two-level category tree: rows, queries and routes.

pub mod queries;
pub mod routes;

//! Users and roles: rows, queries and the admin routes.

pub mod model;
pub mod queries;
pub mod routes;

//! Tickets: rows, the lifecycle rules, queries (create, change, assign, list, search,
//! history) and the REST routes.

pub mod autoassign;
pub mod extras;
pub mod lifecycle;
pub mod model;
pub mod queries;
pub mod routes;

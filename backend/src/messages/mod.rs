//! The ticket conversation: posting (one code path for REST and WebSocket), listing
//! by `seq`, and the visibility rule for internal notes.

pub mod queries;
pub mod routes;
pub mod service;

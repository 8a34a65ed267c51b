//! The ticket conversation: posting (one code path for REST and WebSocket), listing
//! by `seq`, and the visibility rule for internal notes. `writer` stores posts in
//! batches, one WAL flush for many.

pub mod queries;
pub mod routes;
pub mod service;
pub mod writer;

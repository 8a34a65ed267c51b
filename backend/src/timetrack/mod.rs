//! Time tracking: one running timer per user (a partial unique index guarantees it),
//! manual entries, totals per ticket and per agent. Timers live in the database, so
//! they survive page reloads and server restarts.

pub mod queries;
pub mod routes;

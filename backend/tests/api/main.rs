//! Integration tests of the REST API against a real PostgreSQL. One test binary with
//! modules (fast to build); each test gets its own database and server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod admin;
mod analytics;
mod attachments;
mod auth;
mod backup;
mod browser;
mod browser_ticket;
mod categories;
mod cluster;
mod concurrency;
mod errors;
mod extras;
mod faults;
mod fuzz;
mod isolation;
mod lifecycle;
mod notifications;
mod operations;
mod outbox;
mod permissions;
mod ratelimit;
mod realtime;
mod search;
mod sla;
mod sweep;
mod timetrack;
mod users;

//! Desk configuration owned by admins: SLA policies per priority and settings.

pub mod queries;
pub mod routes;

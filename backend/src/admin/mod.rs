//! Desk configuration owned by admins: SLA policies, settings, and the audit log of
//! admin actions.

pub mod audit;
pub mod queries;
pub mod routes;

//! Persisted in-app notifications: created in the transaction of the change they are
//! about, pushed live on the user's channel after commit, listed and marked read.

pub mod queries;
pub mod routes;

//! Relay Desk load generator: the accounting is a library so it is unit-tested.

pub mod accounting;
pub mod proto;

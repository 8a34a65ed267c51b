//! Reusable pieces: the top bar, badges, form fields, notices. No data fetching here.

pub mod access;
pub mod alerts;
pub mod badges;
pub mod connection;
pub mod flash;
pub mod form;
pub mod live_feeds;
pub mod notice;
pub mod notification_bell;
pub mod stat;
pub mod top_bar;
pub mod workspace;

//! Reusable pieces: the top bar, badges, form fields, notices. No data fetching here.

pub mod badges;
pub mod form;
pub mod notice;
pub mod top_bar;

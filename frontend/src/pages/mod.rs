//! One component per route. Pages fetch through `api` and render through `components`.

pub mod account;
pub mod admin;
pub mod board;
pub mod floor;
pub mod login;
pub mod new_ticket;
pub mod not_found;
pub mod register;
pub mod ticket;
pub mod ticket_list;

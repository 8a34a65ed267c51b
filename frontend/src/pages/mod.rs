//! One component per route. Pages fetch through `api` and render through `components`.

pub mod login;
pub mod new_ticket;
pub mod not_found;
pub mod register;
pub mod ticket;
pub mod ticket_list;

//! The panels around a ticket's conversation: staff controls, timer, attachments, links,
//! history and the customer's rating. Each loads its own data and shows its own errors.

pub mod attachments;
pub mod controls;
pub mod history;
pub mod links;
pub mod rating;
pub mod timer;

pub use attachments::Attachments;
pub use controls::Controls;
pub use history::History;
pub use links::Links;
pub use rating::Rating;
pub use timer::Timer;

//! Attachments: content-sniffed allow-list, size limit, random storage keys outside any
//! served directory, downloads that force `attachment` and `nosniff`, and the visibility
//! of the message they belong to.

pub mod queries;
pub mod routes;
pub mod sniff;
pub mod store;

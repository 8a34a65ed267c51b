//! Authentication (passwords, JWT access tokens, rotating refresh tokens), the request
//! extractor that turns a bearer token into an `Actor`, and the permission policy.

pub mod extract;
pub mod password;
pub mod policy;
pub mod queries;
pub mod routes;
pub mod tokens;
pub mod totp;

pub use extract::Actor;

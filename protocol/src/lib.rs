//! Relay Desk wire types: every REST body, the error envelope and the WebSocket frames.
//! Shared by the server and the Yew SPA so the two cannot drift; no actix, no diesel here.

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod categories;
pub mod error;
pub mod ids;
pub mod messages;
pub mod notifications;
pub mod patch;
pub mod tickets;
pub mod time;
pub mod users;
pub mod ws;

pub use error::{ErrorBody, ErrorCode, ErrorEnvelope};
pub use ids::{CategoryId, MessageId, TicketId, UserId};

/// Generic health answer of `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` or `degraded` / `unavailable`.
    pub status: String,
    /// Per dependency: `ok` or the failure.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub checks: std::collections::BTreeMap<String, String>,
    pub instance_id: String,
}

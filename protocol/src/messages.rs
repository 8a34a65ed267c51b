//! Ticket conversation messages.

use crate::ids::{MessageId, TicketId};
use crate::users::UserSummary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MessageKind {
    /// Visible to the requester and staff.
    Public,
    /// Staff-only note; never reaches a customer by any path.
    Internal,
    /// Written by the desk itself (e.g. escalations).
    System,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Public => "public",
            MessageKind::Internal => "internal",
            MessageKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        match s {
            "public" => Some(MessageKind::Public),
            "internal" => Some(MessageKind::Internal),
            "system" => Some(MessageKind::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    pub id: MessageId,
    pub ticket_id: TicketId,
    /// Per-ticket, strictly increasing, assigned when the message is stored.
    pub seq: i64,
    pub author: Option<UserSummary>,
    pub kind: MessageKind,
    /// Convenience: `kind == internal`.
    pub internal: bool,
    pub body: String,
    pub client_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostMessageRequest {
    pub body: String,
    /// Staff only: an internal note.
    #[serde(default)]
    pub internal: bool,
    /// Makes the post idempotent: a retry returns the same message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MessageListQuery {
    /// Only messages with `seq` above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<i64>,
    /// Only messages with `seq` below this (the newest `limit` of them), for paging back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<i64>,
    /// 1..=500, default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    /// In ascending `seq` order.
    pub items: Vec<MessageView>,
    /// More messages exist in the requested direction.
    pub has_more: bool,
}

/// A stored file, on a ticket or on one of its messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentView {
    pub id: i64,
    pub ticket_id: TicketId,
    /// `null`: attached to the ticket itself.
    pub message_id: Option<MessageId>,
    pub filename: String,
    /// Detected from the content, not from the name.
    pub content_type: String,
    pub size_bytes: i64,
    pub uploader: Option<UserSummary>,
    pub created_at: DateTime<Utc>,
    /// `GET` this to download.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentList {
    pub items: Vec<AttachmentView>,
}

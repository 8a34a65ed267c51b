//! WebSocket frames of SPEC §4: `ClientFrame` (browser → server) and `ServerFrame`
//! (server → browser), JSON objects tagged by `type`. Both ends use these enums.

use crate::ids::{TicketId, UserId};
use crate::messages::MessageView;
use crate::tickets::TicketView;
use crate::users::{UserSummary, UserView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypingState {
    Start,
    Stop,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Auth {
        token: String,
    },
    Join {
        ticket_id: TicketId,
        #[serde(default)]
        since_seq: Option<i64>,
    },
    Leave {
        ticket_id: TicketId,
    },
    Send {
        ticket_id: TicketId,
        client_id: Uuid,
        body: String,
        #[serde(default)]
        internal: bool,
    },
    Typing {
        ticket_id: TicketId,
        state: TypingState,
    },
    Read {
        ticket_id: TicketId,
        seq: i64,
    },
}

impl ClientFrame {
    /// The frame's `type`, echoed as `ref` in error frames.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFrame::Auth { .. } => "auth",
            ClientFrame::Join { .. } => "join",
            ClientFrame::Leave { .. } => "leave",
            ClientFrame::Send { .. } => "send",
            ClientFrame::Typing { .. } => "typing",
            ClientFrame::Read { .. } => "read",
        }
    }
}

/// Who is typing: just enough to render "Ana is typing…".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingUser {
    pub id: UserId,
    pub name: String,
}

/// A persisted in-app notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: i64,
    /// `mention`, `sla_breach`, `status_changed`, `assigned`, ...
    pub kind: String,
    pub ticket_id: Option<TicketId>,
    pub title: String,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Live counters of the supervisors' floor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FloorCounters {
    pub by_status: BTreeMap<String, i64>,
    pub by_priority: BTreeMap<String, i64>,
    pub unassigned: i64,
    pub agents_online: i64,
    pub sla_at_risk: i64,
}

/// Health of one server instance, for admins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub instance_id: String,
    pub connections: i64,
    pub rooms: i64,
    /// Milliseconds between publishing an event and receiving it back from the bus.
    pub bus_lag_ms: Option<f64>,
    pub uptime_s: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Ready {
        user: UserView,
        connection_id: String,
    },
    Ack {
        client_id: Uuid,
        message: MessageView,
    },
    Message {
        ticket_id: TicketId,
        seq: i64,
        message: MessageView,
    },
    Typing {
        ticket_id: TicketId,
        user: TypingUser,
        state: TypingState,
    },
    Receipt {
        ticket_id: TicketId,
        user_id: UserId,
        seq: i64,
    },
    Presence {
        ticket_id: TicketId,
        users: Vec<UserSummary>,
    },
    Joined {
        ticket_id: TicketId,
        user: UserSummary,
    },
    Left {
        ticket_id: TicketId,
        user: UserSummary,
    },
    TicketCreated {
        ticket: TicketView,
    },
    TicketUpdated {
        ticket: TicketView,
    },
    Assigned {
        ticket: TicketView,
    },
    Notification {
        notification: NotificationView,
    },
    Floor {
        counters: FloorCounters,
    },
    System {
        status: SystemStatus,
    },
    Resync {
        ticket_id: TicketId,
    },
    Error {
        code: String,
        message: String,
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_frames_parse_from_spec_examples() {
        let join: ClientFrame =
            serde_json::from_value(json!({"type":"join","ticket_id":42,"since_seq":17})).unwrap();
        assert_eq!(
            join,
            ClientFrame::Join {
                ticket_id: TicketId(42),
                since_seq: Some(17)
            }
        );
        let typing: ClientFrame =
            serde_json::from_value(json!({"type":"typing","ticket_id":42,"state":"start"}))
                .unwrap();
        assert_eq!(typing.kind(), "typing");
        assert!(serde_json::from_value::<ClientFrame>(json!({"type":"dance"})).is_err());
    }

    #[test]
    fn server_error_frame_uses_ref() {
        let f = ServerFrame::Error {
            code: "bad_frame".into(),
            message: "m".into(),
            reference: Some("send".into()),
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"type":"error","code":"bad_frame","message":"m","ref":"send"})
        );
        let r = ServerFrame::Receipt {
            ticket_id: TicketId(42),
            user_id: UserId(7),
            seq: 18,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"type":"receipt","ticket_id":42,"user_id":7,"seq":18})
        );
    }
}

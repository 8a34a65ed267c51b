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

/// The largest client frame the server reads (SPEC §4: 64 KiB).
pub const MAX_FRAME: usize = 64 * 1024;

/// Why a client frame was refused: the `code` and `ref` of the error frame it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `frame_too_large`, `invalid_json`, `bad_frame` (a known type with bad fields) or
    /// `unknown_type`.
    pub code: &'static str,
    pub message: String,
    /// The frame's `type` when it had a readable one.
    pub reference: Option<String>,
}

impl ClientFrame {
    /// Reads one text frame from a client. Never panics, whatever the input: oversized,
    /// not JSON, nested too deep, not an object, unknown or malformed frames all come
    /// back as the error to answer with.
    pub fn decode(text: &str) -> Result<ClientFrame, DecodeError> {
        if text.len() > MAX_FRAME {
            return Err(DecodeError {
                code: "frame_too_large",
                message: "frames are limited to 64 KiB".into(),
                reference: None,
            });
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DecodeError {
            code: "invalid_json",
            message: format!("not JSON: {e}"),
            reference: None,
        })?;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .map(str::to_owned);
        serde_json::from_value(value).map_err(|e| DecodeError {
            code: match kind.as_deref() {
                Some("auth" | "join" | "leave" | "send" | "typing" | "read") => "bad_frame",
                _ => "unknown_type",
            },
            message: e.to_string(),
            reference: kind,
        })
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

/// Property tests of the frame decoder: the fuzz target of the WebSocket input.
#[cfg(test)]
mod decode_props {
    use super::*;
    use proptest::prelude::*;

    fn frame() -> impl Strategy<Value = ClientFrame> {
        let id = any::<i64>().prop_map(TicketId);
        prop_oneof![
            ".{0,64}".prop_map(|token| ClientFrame::Auth { token }),
            (id.clone(), proptest::option::of(any::<i64>())).prop_map(|(ticket_id, since_seq)| {
                ClientFrame::Join {
                    ticket_id,
                    since_seq,
                }
            }),
            id.clone()
                .prop_map(|ticket_id| ClientFrame::Leave { ticket_id }),
            (id.clone(), any::<u128>(), ".{0,200}", any::<bool>()).prop_map(
                |(ticket_id, c, body, internal)| ClientFrame::Send {
                    ticket_id,
                    client_id: Uuid::from_u128(c),
                    body,
                    internal,
                }
            ),
            (id.clone(), any::<bool>()).prop_map(|(ticket_id, start)| ClientFrame::Typing {
                ticket_id,
                state: if start {
                    TypingState::Start
                } else {
                    TypingState::Stop
                },
            }),
            (id, any::<i64>()).prop_map(|(ticket_id, seq)| ClientFrame::Read { ticket_id, seq }),
        ]
    }

    const CODES: [&str; 4] = [
        "frame_too_large",
        "invalid_json",
        "bad_frame",
        "unknown_type",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every frame a client may send reads back as itself.
        #[test]
        fn valid_frames_round_trip(f in frame()) {
            let text = serde_json::to_string(&f).unwrap();
            prop_assert_eq!(ClientFrame::decode(&text), Ok(f));
        }

        /// Arbitrary text (including invalid UTF-8 made lossy) is an error, never a panic.
        #[test]
        fn arbitrary_text_is_refused_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = ClientFrame::decode(&text) {
                prop_assert!(CODES.contains(&e.code));
            }
        }

        /// A valid frame with one byte changed, cut short, or padded: decoded or refused
        /// with a known code, and a known type is always named in `ref`.
        #[test]
        fn mutated_frames_are_refused_cleanly(f in frame(), at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = serde_json::to_vec(&f).unwrap();
            let i = at % bytes.len();
            if cut { bytes.truncate(i) } else { bytes[i] = byte }
            let text = String::from_utf8_lossy(&bytes);
            match ClientFrame::decode(&text) {
                Ok(_) => {}
                Err(e) => {
                    prop_assert!(CODES.contains(&e.code));
                    if e.code == "bad_frame" {
                        prop_assert!(e.reference.is_some());
                    }
                }
            }
        }

        /// Wrong field types for every known frame type: `bad_frame` with the type as ref.
        #[test]
        fn known_types_with_bad_fields_name_the_type(ty in prop::sample::select(vec!["auth", "join", "leave", "send", "typing", "read"]), junk in prop_oneof![Just(serde_json::json!(true)), Just(serde_json::json!([])), Just(serde_json::json!({"a": 1})), Just(serde_json::json!(null)), Just(serde_json::json!(1.5))]) {
            let text = serde_json::json!({"type": ty, "ticket_id": junk.clone(), "token": junk.clone(), "client_id": junk, "state": 7}).to_string();
            let e = ClientFrame::decode(&text).unwrap_err();
            prop_assert_eq!(e.code, "bad_frame");
            prop_assert_eq!(e.reference.as_deref(), Some(ty));
        }
    }

    #[test]
    fn hostile_shapes_are_refused_without_crashing() {
        let deep = "[".repeat(60_000);
        assert_eq!(ClientFrame::decode(&deep).unwrap_err().code, "invalid_json");
        let nested = format!("{}1{}", "{\"a\":".repeat(5000), "}".repeat(5000));
        assert_eq!(
            ClientFrame::decode(&nested).unwrap_err().code,
            "invalid_json"
        );
        let huge = format!(r#"{{"type":"auth","token":"{}"}}"#, "x".repeat(MAX_FRAME));
        assert_eq!(
            ClientFrame::decode(&huge).unwrap_err().code,
            "frame_too_large"
        );
        for text in [
            "",
            "null",
            "[]",
            "42",
            "\"join\"",
            r#"{"type":7}"#,
            r#"{"type":"join"}"#,
        ] {
            let e = ClientFrame::decode(text).unwrap_err();
            assert!(CODES.contains(&e.code), "{text}: {e:?}");
        }
        let e = ClientFrame::decode(r#"{"type":"join"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.reference.as_deref()),
            ("bad_frame", Some("join"))
        );
    }
}

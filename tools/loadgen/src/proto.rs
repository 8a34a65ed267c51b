//! The two wire protocols the generator speaks: Relay Desk's (SPEC §4) and the Socket.IO
//! peer's (Engine.IO v4 packets over a raw WebSocket: `0` open, `40` connect, `42[..]`
//! events, `2`/`3` ping/pong). Pure encode/parse functions, unit-tested here; the socket
//! handling is in `main.rs`.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Relay,
    SocketIo,
}

/// What a received text frame means to the generator.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A chat message with this body (the generator's own JSON payload).
    Message(String),
    /// The join finished (Relay: `presence`; peer: `joined`).
    Joined,
    /// The connection is accepted (Relay: `ready`; peer: the `40` connect answer).
    Ready,
    /// The peer's Engine.IO open packet (`0{...}`).
    Open,
    /// The peer's Engine.IO ping: answer with `pong()`.
    Ping,
    Error(String),
    Other,
}

/// The fields of a Relay Desk frame the generator reads; serde skips the rest without
/// building them (a full `Value` of a message frame cost about 3 µs, per delivery).
#[derive(Deserialize)]
struct RelayFrame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    message: Option<Bodied<'a>>,
}

#[derive(Deserialize)]
struct Typed<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

/// A message (Relay Desk) or an event's data (the peer): only its body is read.
#[derive(Deserialize)]
struct Bodied<'a> {
    #[serde(borrow, default)]
    body: Cow<'a, str>,
}

impl Proto {
    pub fn parse(text: &str) -> Result<Proto, String> {
        match text {
            "relay" => Ok(Proto::Relay),
            "socketio" => Ok(Proto::SocketIo),
            other => Err(format!("unknown protocol {other:?} (relay or socketio)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Proto::Relay => "relay-desk",
            Proto::SocketIo => "socketio-peer",
        }
    }

    /// The WebSocket URL for a server base like `ws://127.0.0.1:8080`.
    pub fn ws_url(self, base: &str) -> String {
        match self {
            Proto::Relay => format!("{base}/ws"),
            Proto::SocketIo => format!("{base}/socket.io/?EIO=4&transport=websocket"),
        }
    }

    /// The frames that authenticate, in order (Relay: `auth`; peer: namespace connect).
    pub fn hello(self, user: u64, token: &str) -> String {
        match self {
            Proto::Relay => json!({"type": "auth", "token": token}).to_string(),
            Proto::SocketIo => format!("40{}", json!({"user": user})),
        }
    }

    pub fn join(self, ticket: u64) -> String {
        match self {
            Proto::Relay => {
                json!({"type": "join", "ticket_id": ticket, "since_seq": 0}).to_string()
            }
            Proto::SocketIo => format!("42{}", json!(["join", ticket])),
        }
    }

    pub fn send(self, ticket: u64, client_id: &str, body: &str) -> String {
        match self {
            Proto::Relay => json!({"type": "send", "ticket_id": ticket, "client_id": client_id,
                                   "body": body})
            .to_string(),
            Proto::SocketIo => format!(
                "42{}",
                json!(["send", {"ticket": ticket, "client_id": client_id, "body": body}])
            ),
        }
    }

    pub fn pong(self) -> &'static str {
        "3"
    }

    pub fn classify(self, text: &str) -> Incoming {
        match self {
            Proto::Relay => {
                // An error frame's `message` is a string, not a message: read the type
                // alone when the frame is not a message.
                let f = serde_json::from_str::<RelayFrame>(text).or_else(|_| {
                    serde_json::from_str::<Typed>(text).map(|t| RelayFrame {
                        kind: t.kind,
                        message: None,
                    })
                });
                let Ok(f) = f else {
                    return Incoming::Other;
                };
                match f.kind.as_ref() {
                    "message" => Incoming::Message(
                        f.message.map(|m| m.body.into_owned()).unwrap_or_default(),
                    ),
                    "presence" => Incoming::Joined,
                    "ready" => Incoming::Ready,
                    "error" => Incoming::Error(text.to_owned()),
                    _ => Incoming::Other,
                }
            }
            Proto::SocketIo => {
                if text == "2" {
                    return Incoming::Ping;
                }
                if text.starts_with("40") {
                    return Incoming::Ready;
                }
                if text.starts_with("44") {
                    return Incoming::Error(text.to_owned());
                }
                if text.starts_with('0') {
                    return Incoming::Open;
                }
                let Some(event) = text.strip_prefix("42") else {
                    return Incoming::Other;
                };
                // Event names are matched on the packet's text (the peer writes JSON
                // without spaces); only a message's data is parsed.
                if event.starts_with(r#"["message","#) {
                    match serde_json::from_str::<(IgnoredAny, Bodied)>(event) {
                        Ok((_, data)) => Incoming::Message(data.body.into_owned()),
                        Err(_) => Incoming::Other,
                    }
                } else if event.starts_with(r#"["joined","#) {
                    Incoming::Joined
                } else {
                    Incoming::Other
                }
            }
        }
    }
}

/// The generator's payload inside every message: sender, number, step, send time (µs).
pub fn payload(sender: u64, n: u64, step: u64, sent_at_us: u64) -> String {
    json!({"s": sender, "n": n, "k": step, "t": sent_at_us}).to_string()
}

/// Reads a payload back: (sender, n, step, sent_at_us).
pub fn read_payload(body: &str) -> Option<(u64, u64, u64, u64)> {
    #[derive(Deserialize)]
    struct Payload {
        s: u64,
        n: u64,
        k: u64,
        t: u64,
    }
    let p: Payload = serde_json::from_str(body).ok()?;
    Some((p.s, p.n, p.k, p.t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_frames() {
        let p = Proto::Relay;
        assert_eq!(p.ws_url("ws://h:1"), "ws://h:1/ws");
        let send: serde_json::Value = serde_json::from_str(&p.send(4, "c", "b")).unwrap();
        assert_eq!(send["type"], "send");
        assert_eq!(send["ticket_id"], 4);
        let msg = json!({"type": "message", "ticket_id": 4, "seq": 1, "message": {"body": "hi"}});
        assert_eq!(p.classify(&msg.to_string()), Incoming::Message("hi".into()));
        assert_eq!(
            p.classify(r#"{"type":"presence","ticket_id":4,"users":[]}"#),
            Incoming::Joined
        );
        assert_eq!(p.classify(r#"{"type":"ack"}"#), Incoming::Other);
        let err = r#"{"type":"error","code":"forbidden","message":"not yours"}"#;
        assert_eq!(p.classify(err), Incoming::Error(err.into()));
        let escaped = json!({"type": "message", "message": {"body": "{\"s\":1}", "seq": 2}});
        assert_eq!(
            p.classify(&escaped.to_string()),
            Incoming::Message(r#"{"s":1}"#.into())
        );
        assert_eq!(p.classify("not json"), Incoming::Other);
    }

    #[test]
    fn socketio_packets() {
        let p = Proto::SocketIo;
        assert_eq!(
            p.ws_url("ws://h:1"),
            "ws://h:1/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(p.hello(7, ""), r#"40{"user":7}"#);
        assert_eq!(p.join(3), r#"42["join",3]"#);
        assert!(p.send(3, "c", "b").starts_with(r#"42["send",{"#));
        assert_eq!(p.classify("2"), Incoming::Ping);
        assert_eq!(
            p.classify(r#"0{"sid":"x","pingInterval":25000}"#),
            Incoming::Open
        );
        assert_eq!(p.classify(r#"40{"sid":"y"}"#), Incoming::Ready);
        assert_eq!(p.classify(r#"42["joined",3]"#), Incoming::Joined);
        assert_eq!(
            p.classify(r#"42["message",{"ticket":3,"body":"hi","user":1}]"#),
            Incoming::Message("hi".into())
        );
        assert_eq!(
            p.classify(r#"42["ack",{"client_id":"c"}]"#),
            Incoming::Other
        );
        assert_eq!(p.classify(r#"42["message",7]"#), Incoming::Other);
    }

    #[test]
    fn payload_round_trips() {
        let b = payload(1, 2, 3, 4);
        assert_eq!(read_payload(&b), Some((1, 2, 3, 4)));
        assert_eq!(read_payload("not json"), None);
        assert_eq!(read_payload(r#"{"s":1,"n":2,"k":3}"#), None);
    }
}

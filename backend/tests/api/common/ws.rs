//! A small WebSocket test client over awc: connect with an Origin, authenticate, send
//! JSON frames, and wait for frames matching a predicate.

use actix_codec::Framed;
use awc::ws::{Codec, Frame, Message};
use awc::BoxedSocket;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct Ws {
    framed: Framed<BoxedSocket, Codec>,
    /// Every frame received so far, in order.
    pub seen: Vec<Value>,
    pub closed: Option<Option<u16>>,
}

#[derive(Debug)]
pub enum Event {
    Frame(Value),
    Closed(Option<u16>),
}

impl Ws {
    /// Opens `/ws` at `url`; `Err(status)` when the upgrade is refused.
    pub async fn open(url: &str, origin: Option<&str>) -> Result<Ws, u16> {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(10))
            .finish();
        let mut req = client.ws(url).max_frame_size(4 << 20);
        if let Some(o) = origin {
            req = req.origin(o);
        }
        match req.connect().await {
            Ok((_, framed)) => Ok(Ws {
                framed,
                seen: Vec::new(),
                closed: None,
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// Opens and authenticates; returns the socket and its `ready` frame.
    pub async fn connect(url: &str, token: &str) -> (Ws, Value) {
        let mut ws = Ws::open(url, Some(super::ORIGIN))
            .await
            .expect("upgrade accepted");
        ws.send(json!({"type": "auth", "token": token})).await;
        let ready = ws.expect(|f| f["type"] == "ready", 10).await;
        (ws, ready)
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_text(&mut self, s: String) {
        let _ = self.framed.send(Message::Text(s.into())).await;
    }

    /// The next frame or close within `timeout`; `None` on timeout.
    pub async fn next(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(c) = self.closed {
            return Some(Event::Closed(c));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let item = tokio::time::timeout(left, self.framed.next()).await.ok()?;
            match item {
                Some(Ok(Frame::Text(b))) => {
                    let v: Value = serde_json::from_slice(&b).expect("server frames are JSON");
                    self.seen.push(v.clone());
                    return Some(Event::Frame(v));
                }
                Some(Ok(Frame::Ping(p))) => {
                    let _ = self.framed.send(Message::Pong(p)).await;
                }
                Some(Ok(Frame::Close(reason))) => {
                    let code = reason.map(|r| u16::from(r.code));
                    self.closed = Some(code);
                    return Some(Event::Closed(code));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    self.closed = Some(None);
                    return Some(Event::Closed(None));
                }
            }
        }
    }

    /// Reads until a frame matches `pred` (panics after `secs` or on close).
    #[track_caller]
    pub fn expect<'a>(
        &'a mut self,
        pred: impl Fn(&Value) -> bool + 'a,
        secs: u64,
    ) -> impl std::future::Future<Output = Value> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let deadline = Instant::now() + Duration::from_secs(secs);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.next(left).await {
                    Some(Event::Frame(v)) if pred(&v) => return v,
                    Some(Event::Frame(_)) => {}
                    Some(Event::Closed(c)) => panic!(
                        "{caller}: socket closed ({c:?}) while waiting; seen {:?}",
                        self.seen
                    ),
                    None => panic!("{caller}: timed out; seen {:?}", self.seen),
                }
            }
        }
    }

    /// Waits for the close frame; returns its code.
    pub async fn expect_close(&mut self, secs: u64) -> Option<u16> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Event::Closed(c)) => return c,
                Some(Event::Frame(_)) => {}
                None => panic!("no close within {secs}s; seen {:?}", self.seen),
            }
        }
    }

    /// Joins and reads through the replay up to the `presence` frame that ends it;
    /// returns the replayed messages' seqs.
    pub async fn join(&mut self, ticket_id: i64, since_seq: i64) -> Vec<i64> {
        self.send(json!({"type": "join", "ticket_id": ticket_id, "since_seq": since_seq}))
            .await;
        let start = self.seen.len();
        self.expect(
            move |f| f["type"] == "presence" && f["ticket_id"] == ticket_id,
            10,
        )
        .await;
        self.seen[start..]
            .iter()
            .filter(|f| f["type"] == "message" && f["ticket_id"] == ticket_id)
            .map(|f| f["seq"].as_i64().unwrap())
            .collect()
    }

    /// Every `message` frame seen for `ticket_id`, as seqs in arrival order.
    pub fn message_seqs(&self, ticket_id: i64) -> Vec<i64> {
        self.seen
            .iter()
            .filter(|f| f["type"] == "message" && f["ticket_id"] == ticket_id)
            .map(|f| f["seq"].as_i64().unwrap())
            .collect()
    }
}

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

    /// Sends any WebSocket message: fragments, pings, a close.
    pub async fn send_message(&mut self, m: Message) {
        let _ = self.framed.send(m).await;
    }

    /// The next frame of any kind (pings included, not answered), as the codec gives it.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Frame> {
        match tokio::time::timeout(timeout, self.framed.next()).await {
            Ok(Some(Ok(f))) => Some(f),
            _ => None,
        }
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

/// A WebSocket spoken by hand over TCP, for what a codec-level client cannot do:
/// bytes after the handshake in the same write, a look at the refusal's body.
pub mod raw {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// The request head of an upgrade to `path` (`origin` as the Origin header).
    pub fn handshake(host: &str, path: &str, origin: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
        )
        .into_bytes()
    }

    /// A client frame: FIN and `opcode`, masked as RFC 6455 requires of clients.
    pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    /// Connects, writes `bytes` in one go, and reads the response head and, for a
    /// refusal, its body: (status, head, body, the stream for more).
    pub async fn open(addr: &str, bytes: &[u8]) -> (u16, String, String, TcpStream) {
        within(open_inner(addr, bytes)).await
    }

    async fn open_inner(addr: &str, bytes: &[u8]) -> (u16, String, String, TcpStream) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            assert_eq!(
                s.read(&mut b).await.unwrap(),
                1,
                "connection closed in the head"
            );
            head.push(b[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let status: u16 = head[9..12].parse().unwrap();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await.unwrap();
        (status, head, String::from_utf8(body).unwrap(), s)
    }

    /// Reads one unmasked server frame: (opcode, payload).
    pub async fn read_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
        within(read_frame_inner(s)).await
    }

    async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(std::time::Duration::from_secs(10), f)
            .await
            .unwrap_or_else(|_| panic!("no answer within 10 s"))
    }

    async fn read_frame_inner(s: &mut TcpStream) -> (u8, Vec<u8>) {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).await.unwrap();
        let len = match h[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                s.read_exact(&mut b).await.unwrap();
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                s.read_exact(&mut b).await.unwrap();
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await.unwrap();
        (h[0] & 0x0f, payload)
    }
}

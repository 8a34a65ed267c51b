//! One WebSocket connection: first-frame auth, then a single `select!` loop over the
//! client's frames, the hub's queue for this socket, out-of-band signals (resync,
//! close), the heartbeat and the token's expiry. Frames are the typed `ClientFrame`
//! and `ServerFrame` of the protocol crate; bad input gets an error frame, never a
//! dropped socket (until it turns into abuse: close 4429).

use super::event::{BusEvent, Channel};
use super::hub::{close, Out, Signals};
use super::socket::{self, Incoming, Reader, Writer};
use crate::auth::policy::{check_ticket, TicketAction};
use crate::auth::{extract, Actor};
use crate::error::AppError;
use crate::state::AppState;
use bytestring::ByteString;
use relay_protocol::ws::{ClientFrame, ServerFrame};
use relay_protocol::ErrorCode;
use relay_protocol::{TicketId, UserId};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub use relay_protocol::ws::MAX_FRAME;
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
const PING_EVERY: Duration = Duration::from_secs(20);
const PONG_TIMEOUT: Duration = Duration::from_secs(60);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const ABUSE_WINDOW: Duration = Duration::from_secs(10);
const ABUSE_LIMIT: usize = 20;
const SEND_LIMIT: usize = 60;
const REPLAY_PAGE: i64 = 500;
/// At most this many queued frames go out in one write,
const OUT_BATCH: usize = 64;
/// and a write starts once this much is queued (a replay's page of long messages is not
/// held in memory whole).
const FLUSH_AT: usize = 64 * 1024;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

enum Flow {
    Continue,
    Stop,
}

struct Client {
    state: AppState,
    writer: Writer,
    actor: Actor,
    token_version: i32,
    token_exp: i64,
    conn_id: u64,
    /// Joined tickets → highest message seq already sent on this socket.
    sent: HashMap<i64, i64>,
    errors: VecDeque<Instant>,
    sends: VecDeque<Instant>,
}

fn encode(f: &ServerFrame) -> ByteString {
    ByteString::from(serde_json::to_string(f).unwrap_or_default())
}

fn error_frame(code: &str, message: impl Into<String>, reference: Option<&str>) -> ByteString {
    encode(&ServerFrame::Error {
        code: code.to_owned(),
        message: message.into(),
        reference: reference.map(str::to_owned),
    })
}

/// Verifies a token: (actor, token version, expiry).
async fn verify(state: &AppState, token: &str) -> Result<(Actor, i32, i64), AppError> {
    let (actor, claims) = extract::authenticate_claims(state, token).await?;
    Ok((actor, claims.ver, claims.exp))
}

pub async fn run(state: AppState, mut reader: Reader, mut writer: Writer) {
    // 1. The first frame must be `auth`, within five seconds. Tokens never go in URLs.
    let deadline = tokio::time::sleep(AUTH_TIMEOUT);
    tokio::pin!(deadline);
    let (actor, token_version, token_exp) = loop {
        tokio::select! {
            _ = &mut deadline => {
                socket::close(reader, writer, Some((close::UNAUTHORIZED, "authenticate within 5 seconds"))).await;
                return;
            }
            msg = reader.next() => match msg {
                Some(Ok(Incoming::Text(text))) => {
                    match ClientFrame::decode(&text) {
                        Ok(ClientFrame::Auth { token }) => match Box::pin(verify(&state, &token)).await {
                            Ok(v) => break v,
                            Err(AppError::Client { code: code @ ErrorCode::TotpSetupRequired, message, .. }) => {
                                let _ = writer.text(error_frame(code.as_str(), message, Some("auth"))).await;
                                socket::close(reader, writer, Some((close::UNAUTHORIZED, "set up two-factor sign-in first"))).await;
                                return;
                            }
                            Err(_) => {
                                let _ = writer.text(error_frame("invalid_token", "the access token is invalid, expired or revoked", Some("auth"))).await;
                                socket::close(reader, writer, Some((close::UNAUTHORIZED, "invalid token"))).await;
                                return;
                            }
                        },
                        Ok(other) => {
                            let _ = writer.text(error_frame("auth_required", "send {\"type\":\"auth\",\"token\":...} first", Some(other.kind()))).await;
                            socket::close(reader, writer, Some((close::UNAUTHORIZED, "authenticate first"))).await;
                            return;
                        }
                        Err(_) => {
                            let _ = writer.text(error_frame("bad_frame", "expected {\"type\":\"auth\",\"token\":...}", None)).await;
                        }
                    }
                }
                Some(Ok(Incoming::Ping(b))) => { let _ = writer.pong(b).await; }
                Some(Ok(Incoming::Close)) => {
                    socket::close_answer(writer).await;
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    socket::close(reader, writer, Some((e.close_code(), &e.reason()))).await;
                    return;
                }
                None => return,
            }
        }
    };

    if Box::pin(state.limit(crate::ratelimit::WS_CONNECTS_PER_USER, actor.id.to_string()))
        .await
        .is_err()
    {
        let _ = writer
            .text(error_frame(
                "rate_limited",
                "too many connections; wait a minute",
                Some("auth"),
            ))
            .await;
        socket::close(reader, writer, Some((close::ABUSE, "too many connections"))).await;
        return;
    }

    // 2. Register with the hub, then say ready.
    let conn_id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Out>(state.config.ws_queue);
    let signals = Arc::new(Signals::default());
    let hub = state.realtime.hub.clone();
    Box::pin(hub.connect(conn_id, actor.clone(), token_version, tx, signals.clone())).await;
    let user_id = actor.id;
    let user = Box::pin(state.db(move |conn| crate::users::queries::find(conn, user_id))).await;
    let Ok(user) = user else {
        hub.disconnect(conn_id);
        socket::close(
            reader,
            writer,
            Some((close::UNAUTHORIZED, "user not found")),
        )
        .await;
        return;
    };
    let ready = ServerFrame::Ready {
        user: user.view(),
        connection_id: format!("{}-{conn_id}", state.config.instance_id),
    };
    if writer.text(encode(&ready)).await.is_err() {
        hub.disconnect(conn_id);
        return;
    }

    let mut client = Client {
        state,
        writer,
        actor,
        token_version,
        token_exp,
        conn_id,
        sent: HashMap::new(),
        errors: VecDeque::new(),
        sends: VecDeque::new(),
    };
    // The first ping at a random point of the period: sockets that connected together
    // (after a deploy every client reconnects at once) ping spread out over it instead
    // of all in one burst every PING_EVERY, which held up the messages around it.
    let first = PING_EVERY
        .mul_f64(rand::random::<f64>())
        .max(Duration::from_secs(1));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + first, PING_EVERY);
    // One timer for the token's expiry, moved when a fresh token extends it (not a new
    // timer for every frame).
    let expiry_of = |exp: i64| {
        tokio::time::Instant::now()
            + Duration::from_secs((exp - chrono::Utc::now().timestamp()).max(0) as u64)
    };
    let expiry = tokio::time::sleep_until(expiry_of(client.token_exp));
    tokio::pin!(expiry);
    let mut expiry_for = client.token_exp;
    let mut last_seen = Instant::now();
    let mut close: Option<(u16, String)> = None;
    // The client closed (answer its close frame) or vanished (nothing to answer).
    let mut answer_close = false;
    let mut gone = false;

    // 3. The loop.
    loop {
        if client.token_exp != expiry_for {
            expiry_for = client.token_exp;
            expiry.as_mut().reset(expiry_of(expiry_for));
        }
        let flow = tokio::select! {
            biased;
            _ = signals.notify.notified() => Box::pin(client.on_signal(&signals, &mut close)).await,
            out = rx.recv() => match out {
                Some(out) => client.on_out(out, &mut rx, &mut close).await,
                None => Flow::Stop,
            },
            msg = reader.next() => {
                last_seen = Instant::now();
                match msg {
                    // Boxed: handling a frame (join's replay, a post's transaction) is a large
                    // future; inline, every idle socket's task would carry its size.
                    Some(Ok(Incoming::Text(text))) => Box::pin(client.on_text(text, &mut close)).await,
                    Some(Ok(Incoming::Binary(_))) => {
                        client.error("bad_frame", "binary frames are not supported; send JSON text", None, &mut close).await
                    }
                    Some(Ok(Incoming::Ping(b))) => {
                        if client.writer.pong(b).await.is_err() { Flow::Stop } else { Flow::Continue }
                    }
                    Some(Ok(Incoming::Pong)) => Flow::Continue,
                    Some(Ok(Incoming::Close)) => {
                        answer_close = true;
                        Flow::Stop
                    }
                    Some(Err(e)) => {
                        close = Some((e.close_code(), e.reason()));
                        Flow::Stop
                    }
                    None => {
                        gone = true;
                        Flow::Stop
                    }
                }
            }
            _ = heartbeat.tick() => {
                if last_seen.elapsed() > PONG_TIMEOUT {
                    close = Some((close::GOING_AWAY, "no pong within 60 seconds".into()));
                    Flow::Stop
                } else if client.writer.ping(b"rd").await.is_err() {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            }
            _ = &mut expiry => {
                close = Some((close::UNAUTHORIZED, "access token expired; reconnect with a fresh one".into()));
                Flow::Stop
            }
        };
        if let Flow::Stop = flow {
            break;
        }
    }
    client.state.realtime.hub.disconnect(client.conn_id);
    if gone {
        return;
    }
    if answer_close {
        socket::close_answer(client.writer).await;
        return;
    }
    let close = close
        .as_ref()
        .map(|(code, reason)| (*code, reason.as_str()));
    socket::close(reader, client.writer, close).await;
}

impl Client {
    /// Writes a frame now (with anything queued before it).
    async fn send(&mut self, frame: ByteString) -> Flow {
        match self.queue(frame).await {
            Flow::Continue => self.flush().await,
            stop => stop,
        }
    }

    /// Queues a frame to go out with the next write (`flush`, `send`, or this call once
    /// `FLUSH_AT` bytes wait).
    async fn queue(&mut self, frame: ByteString) -> Flow {
        if self.writer.queue_text(frame).is_err() {
            return Flow::Stop;
        }
        if self.writer.pending() < FLUSH_AT {
            return Flow::Continue;
        }
        self.flush().await
    }

    async fn flush(&mut self) -> Flow {
        // A client that stops reading is cut off instead of holding anything up.
        match tokio::time::timeout(SEND_TIMEOUT, self.writer.flush()).await {
            Ok(Ok(())) => Flow::Continue,
            _ => Flow::Stop,
        }
    }

    async fn error(
        &mut self,
        code: &str,
        message: &str,
        reference: Option<&str>,
        close: &mut Option<(u16, String)>,
    ) -> Flow {
        let now = Instant::now();
        self.errors.push_back(now);
        while self
            .errors
            .front()
            .is_some_and(|t| now.duration_since(*t) > ABUSE_WINDOW)
        {
            self.errors.pop_front();
        }
        if self.errors.len() > ABUSE_LIMIT {
            *close = Some((close::ABUSE, "too many bad frames".into()));
            return Flow::Stop;
        }
        self.send(error_frame(code, message, reference)).await
    }

    async fn app_error(
        &mut self,
        e: AppError,
        reference: &str,
        close: &mut Option<(u16, String)>,
    ) -> Flow {
        let body = e.body();
        if matches!(e, AppError::Client { .. }) {
            self.error(body.code.as_str(), &body.message, Some(reference), close)
                .await
        } else {
            tracing::error!(error = %e, "websocket request failed");
            self.send(error_frame(
                body.code.as_str(),
                &body.message,
                Some(reference),
            ))
            .await
        }
    }

    async fn on_signal(&mut self, signals: &Signals, close: &mut Option<(u16, String)>) -> Flow {
        if let Some(c) = signals
            .close
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            *close = Some(c);
            return Flow::Stop;
        }
        let tickets: Vec<i64> =
            std::mem::take(&mut *signals.resync.lock().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        for t in tickets {
            if self.sent.contains_key(&t) {
                if let Flow::Stop = self
                    .send(encode(&ServerFrame::Resync {
                        ticket_id: TicketId(t),
                    }))
                    .await
                {
                    return Flow::Stop;
                }
            }
        }
        Flow::Continue
    }

    /// Writes `first` and whatever else is already queued for this socket (up to
    /// `OUT_BATCH` frames, `FLUSH_AT` bytes) with one write: a socket that fell behind
    /// catches up in one system call instead of one a frame.
    async fn on_out(
        &mut self,
        first: Out,
        rx: &mut tokio::sync::mpsc::Receiver<Out>,
        close: &mut Option<(u16, String)>,
    ) -> Flow {
        let mut next = Some(first);
        let mut taken = 0;
        let mut stop = false;
        while let Some(out) = next.take() {
            taken += 1;
            let flow = match out {
                Out::Message {
                    ticket_id,
                    seq,
                    frame,
                } => match self.sent.get_mut(&ticket_id) {
                    Some(last) if seq > *last => {
                        *last = seq;
                        self.queue(frame).await
                    }
                    _ => Flow::Continue,
                },
                Out::Frame(frame) => self.queue(frame).await,
                Out::Close(code, reason) => {
                    *close = Some((code, reason));
                    stop = true;
                    break;
                }
            };
            if let Flow::Stop = flow {
                return Flow::Stop;
            }
            if taken < OUT_BATCH {
                next = rx.try_recv().ok();
            }
        }
        // What was queued before a close still goes out, ahead of the close frame.
        match self.flush().await {
            Flow::Continue if !stop => Flow::Continue,
            _ => Flow::Stop,
        }
    }

    async fn on_text(&mut self, text: ByteString, close: &mut Option<(u16, String)>) -> Flow {
        let frame = match ClientFrame::decode(&text) {
            Ok(f) => f,
            Err(e) => {
                return self
                    .error(e.code, &e.message, e.reference.as_deref(), close)
                    .await
            }
        };
        match frame {
            ClientFrame::Auth { token } => match verify(&self.state, &token).await {
                Ok((actor, version, exp))
                    if actor.id == self.actor.id && version == self.token_version =>
                {
                    self.token_exp = exp;
                    Flow::Continue
                }
                Ok(_) => {
                    self.error(
                        "reauth_mismatch",
                        "a different user or session: reconnect instead",
                        Some("auth"),
                        close,
                    )
                    .await
                }
                Err(_) => {
                    self.error(
                        "invalid_token",
                        "the access token is invalid, expired or revoked",
                        Some("auth"),
                        close,
                    )
                    .await
                }
            },
            ClientFrame::Join {
                ticket_id,
                since_seq,
            } => {
                self.join(ticket_id.0, since_seq.unwrap_or(0).max(0), close)
                    .await
            }
            ClientFrame::Leave { ticket_id } => {
                if self.sent.remove(&ticket_id.0).is_some() {
                    self.state.realtime.hub.leave(self.conn_id, ticket_id.0);
                }
                Flow::Continue
            }
            ClientFrame::Send {
                ticket_id,
                client_id,
                body,
                internal,
            } => {
                self.post(ticket_id.0, client_id, body, internal, close)
                    .await
            }
            ClientFrame::Typing { ticket_id, state } => {
                if !self.sent.contains_key(&ticket_id.0) {
                    return self
                        .error("not_joined", "join the ticket first", Some("typing"), close)
                        .await;
                }
                self.state
                    .realtime
                    .hub
                    .typing(self.conn_id, ticket_id.0, state);
                Flow::Continue
            }
            ClientFrame::Read { ticket_id, seq } => self.read(ticket_id.0, seq, close).await,
        }
    }

    async fn join(
        &mut self,
        ticket_id: i64,
        since: i64,
        close: &mut Option<(u16, String)>,
    ) -> Flow {
        let actor = self.actor.clone();
        let ticket = self
            .state
            .db(move |conn| {
                let t = crate::tickets::queries::find(conn, ticket_id)?;
                check_ticket(&actor, &t.facts(), TicketAction::View)?;
                Ok(t)
            })
            .await;
        let ticket = match ticket {
            Ok(t) => t,
            Err(e) => return self.app_error(e, "join", close).await,
        };
        let info = match self
            .state
            .realtime
            .hub
            .join(self.conn_id, ticket_id, ticket.requester_id)
            .await
        {
            Ok(i) => i,
            Err(e) => return self.app_error(e, "join", close).await,
        };
        // Live frames above the frontier queue up while we replay; everything at or
        // below it comes from the database, in order.
        self.sent.insert(ticket_id, since);
        let role = self.actor.role;
        let mut cursor = since;
        while cursor < info.frontier {
            let from = cursor;
            let upto = info.frontier;
            let page = self
                .state
                .db(move |conn| {
                    crate::messages::queries::replay(conn, role, ticket_id, from, upto, REPLAY_PAGE)
                })
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => return self.app_error(e, "join", close).await,
            };
            let full = page.len() as i64 == REPLAY_PAGE;
            for m in page {
                cursor = m.seq;
                let f = encode(&ServerFrame::Message {
                    ticket_id: TicketId(ticket_id),
                    seq: m.seq,
                    message: m,
                });
                if let Flow::Stop = self.queue(f).await {
                    return Flow::Stop;
                }
            }
            // A page goes out in a few large writes, not one a message.
            if let Flow::Stop = self.flush().await {
                return Flow::Stop;
            }
            if !full {
                break;
            }
        }
        if let Some(last) = self.sent.get_mut(&ticket_id) {
            *last = (*last).max(info.frontier);
        }
        let receipts = self
            .state
            .db(move |conn| crate::messages::queries::receipts(conn, ticket_id))
            .await;
        for (user, seq, public) in receipts.unwrap_or_default() {
            let seq = if role.is_staff() { seq } else { public };
            if seq > 0 {
                let f = encode(&ServerFrame::Receipt {
                    ticket_id: TicketId(ticket_id),
                    user_id: UserId(user),
                    seq,
                });
                if let Flow::Stop = self.queue(f).await {
                    return Flow::Stop;
                }
            }
        }
        // Presence comes last, so the client knows the replay is complete (it takes the
        // queued receipts out with it).
        self.send(encode(&ServerFrame::Presence {
            ticket_id: TicketId(ticket_id),
            users: info.presence,
        }))
        .await
    }

    async fn post(
        &mut self,
        ticket_id: i64,
        client_id: Uuid,
        body: String,
        internal: bool,
        close: &mut Option<(u16, String)>,
    ) -> Flow {
        let now = Instant::now();
        self.sends.push_back(now);
        while self
            .sends
            .front()
            .is_some_and(|t| now.duration_since(*t) > ABUSE_WINDOW)
        {
            self.sends.pop_front();
        }
        // RATE_LIMIT_SCALE multiplies this like every other limit; 0 turns it off.
        let scale = self.state.config.rate_limit_scale as usize;
        if scale > 0 && self.sends.len() > SEND_LIMIT.saturating_mul(scale) {
            return self
                .error(
                    "rate_limited",
                    "too many messages; slow down",
                    Some("send"),
                    close,
                )
                .await;
        }
        match crate::messages::service::post(
            &self.state,
            self.actor.clone(),
            ticket_id,
            body,
            internal,
            Some(client_id),
        )
        .await
        {
            Ok(posted) => {
                self.send(encode(&ServerFrame::Ack {
                    client_id,
                    message: posted.message,
                }))
                .await
            }
            Err(e) => self.app_error(e, "send", close).await,
        }
    }

    async fn read(&mut self, ticket_id: i64, seq: i64, close: &mut Option<(u16, String)>) -> Flow {
        if !self.sent.contains_key(&ticket_id) {
            return self
                .error("not_joined", "join the ticket first", Some("read"), close)
                .await;
        }
        let user_id = self.actor.id;
        match self
            .state
            .db(move |conn| crate::messages::queries::mark_read(conn, ticket_id, user_id, seq))
            .await
        {
            Ok(Some((seq, public_seq))) => {
                let ev = BusEvent::Receipt {
                    ticket_id: TicketId(ticket_id),
                    user_id: UserId(user_id),
                    seq,
                    public_seq,
                };
                self.state
                    .realtime
                    .publish(Channel::Ticket(ticket_id), &ev)
                    .await;
                Flow::Continue
            }
            Ok(None) => Flow::Continue,
            Err(e) => self.app_error(e, "read", close).await,
        }
    }
}

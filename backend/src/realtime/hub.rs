//! The hub: one task that owns this instance's sockets and rooms and talks to everything
//! else through channels (no shared maps behind locks). Sessions send it commands; the
//! bus feeds it events; it delivers frames to sockets' bounded queues and never waits on
//! a socket, so a slow client cannot slow anyone else.
//!
//! Replay then live, with no gap and no duplicate: a room first subscribes to its bus
//! channel and only then reads the ticket's `last_seq` from PostgreSQL; every message
//! committed after that read is therefore on its way through the bus. The room keeps
//! `next_seq`, the next seq it will deliver, and delivers strictly in seq order (seq is
//! gap-free per ticket across all message kinds, so a hole means "not arrived yet";
//! holes older than a moment are filled from the database). A socket that joins is
//! added to the room at frontier `F = next_seq - 1` and told `F`: its session replays
//! `since_seq < seq <= F` from the database before it reads its queue, and everything
//! above `F` reaches it through the room, in order. The session also drops any message
//! frame at or below the highest seq it already sent for that ticket, which makes a
//! re-join (after `resync`) idempotent.

use super::bus::{Bus, Incoming};
use super::event::{BusEvent, Channel};
use super::presence::{self, PresenceStore};
use crate::auth::Actor;
use crate::config::Config;
use crate::db::PgPool;
use crate::error::{AppError, AppResult};
use bytestring::ByteString;
use relay_protocol::messages::{MessageKind, MessageView};
use relay_protocol::users::{Role, UserSummary};
use relay_protocol::ws::{FloorCounters, ServerFrame, SystemStatus, TypingState, TypingUser};
use relay_protocol::{TicketId, UserId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// Close codes of SPEC §4 and RFC 6455 used by the server.
pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const TOO_BIG: u16 = 1009;
    pub const RESTART: u16 = 1012;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const ABUSE: u16 = 4429;
}

pub const TYPING_TTL: Duration = Duration::from_secs(6);
const TYPING_THROTTLE: Duration = Duration::from_secs(1);
const GAP_PATIENCE: Duration = Duration::from_millis(250);
const TICK: Duration = Duration::from_millis(100);

/// What a session's queue carries.
#[derive(Debug)]
pub enum Out {
    /// A ticket message (deduplicated by seq in the session).
    Message {
        ticket_id: i64,
        seq: i64,
        frame: ByteString,
    },
    Frame(ByteString),
    Close(u16, String),
}

/// Out-of-band signals for a socket whose queue is full.
#[derive(Default)]
pub struct Signals {
    pub resync: Mutex<BTreeSet<i64>>,
    pub close: Mutex<Option<(u16, String)>>,
    pub notify: Notify,
}

impl Signals {
    fn resync(&self, ticket: i64) {
        self.resync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(ticket);
        self.notify.notify_one();
    }
    fn close(&self, code: u16, reason: &str) {
        *self.close.lock().unwrap_or_else(|p| p.into_inner()) = Some((code, reason.to_owned()));
        self.notify.notify_one();
    }
}

#[derive(Debug, Clone)]
pub struct JoinInfo {
    /// Highest seq delivered by the room when the socket was added: replay up to here.
    pub frontier: i64,
    pub presence: Vec<UserSummary>,
}

/// What a socket's standing depends on, re-read when the user's account changes.
#[derive(Debug)]
pub struct UserState {
    /// Active and not locked out by the desk's two-factor rule.
    active: bool,
    token_version: i32,
}

pub enum Command {
    Connect {
        conn_id: u64,
        actor: Actor,
        token_version: i32,
        tx: mpsc::Sender<Out>,
        signals: Arc<Signals>,
        done: oneshot::Sender<()>,
    },
    Disconnect {
        conn_id: u64,
    },
    Join {
        conn_id: u64,
        ticket_id: i64,
        requester_id: i64,
        reply: oneshot::Sender<AppResult<JoinInfo>>,
    },
    Leave {
        conn_id: u64,
        ticket_id: i64,
    },
    Typing {
        conn_id: u64,
        ticket_id: i64,
        state: TypingState,
    },
    Bus(Incoming),
    RoomOpened {
        ticket_id: i64,
        last_seq: i64,
        members: Vec<String>,
    },
    RoomFailed {
        ticket_id: i64,
    },
    Filled {
        ticket_id: i64,
        messages: Vec<(MessageView, i64)>,
    },
    PresenceSnapshot {
        ticket_id: i64,
        members: Vec<String>,
    },
    Online {
        staff_online: i64,
    },
    UserChecked {
        user_id: i64,
        state: Option<UserState>,
    },
    Floor(FloorCounters),
    Tick,
    Stats {
        reply: oneshot::Sender<(i64, i64)>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

#[derive(Clone)]
pub struct HubHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl HubHandle {
    fn send(&self, c: Command) {
        let _ = self.tx.send(c);
    }

    pub async fn connect(
        &self,
        conn_id: u64,
        actor: Actor,
        token_version: i32,
        tx: mpsc::Sender<Out>,
        signals: Arc<Signals>,
    ) {
        let (done, wait) = oneshot::channel();
        self.send(Command::Connect {
            conn_id,
            actor,
            token_version,
            tx,
            signals,
            done,
        });
        let _ = wait.await;
    }

    pub fn disconnect(&self, conn_id: u64) {
        self.send(Command::Disconnect { conn_id });
    }

    pub async fn join(
        &self,
        conn_id: u64,
        ticket_id: i64,
        requester_id: i64,
    ) -> AppResult<JoinInfo> {
        let (reply, wait) = oneshot::channel();
        self.send(Command::Join {
            conn_id,
            ticket_id,
            requester_id,
            reply,
        });
        wait.await.map_err(|_| AppError::internal("hub stopped"))?
    }

    pub fn leave(&self, conn_id: u64, ticket_id: i64) {
        self.send(Command::Leave { conn_id, ticket_id });
    }

    pub fn typing(&self, conn_id: u64, ticket_id: i64, state: TypingState) {
        self.send(Command::Typing {
            conn_id,
            ticket_id,
            state,
        });
    }

    /// (connections, rooms) on this instance.
    pub async fn stats(&self) -> (i64, i64) {
        let (reply, wait) = oneshot::channel();
        self.send(Command::Stats { reply });
        wait.await.unwrap_or((0, 0))
    }

    /// Tells every socket to reconnect elsewhere and leaves presence.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        self.send(Command::Shutdown { done });
        let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
    }
}

struct Conn {
    actor: Actor,
    token_version: i32,
    tx: mpsc::Sender<Out>,
    signals: Arc<Signals>,
    rooms: HashSet<i64>,
    /// Tickets whose durable stream overflowed: nothing more until the client re-joins.
    stalled: HashSet<i64>,
}

impl Conn {
    /// Queues a durable frame of `ticket`; on overflow, stalls the stream and asks the
    /// client to resync instead of silently dropping.
    fn durable(&mut self, ticket: i64, out: Out) {
        if self.stalled.contains(&ticket) {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(out) {
            self.stalled.insert(ticket);
            self.signals.resync(ticket);
        }
    }

    /// Queues an ephemeral frame (typing, presence, counters); dropped when full.
    fn ephemeral(&self, frame: &ByteString) {
        let _ = self.tx.try_send(Out::Frame(frame.clone()));
    }
}

#[derive(Default)]
struct Room {
    members: HashSet<u64>,
    open: bool,
    /// Subscribing and reading `last_seq` is under way.
    opening: bool,
    waiters: Vec<(u64, oneshot::Sender<AppResult<JoinInfo>>)>,
    next_seq: i64,
    pending: BTreeMap<i64, (MessageView, i64)>,
    gap_since: Option<Instant>,
    filling: bool,
    /// user id → (who, instances where they have a socket in this room)
    presence: HashMap<i64, (UserSummary, HashSet<String>)>,
    typing: HashMap<i64, (TypingUser, Instant)>,
    typing_sent: HashMap<i64, Instant>,
}

pub struct Hub {
    config: Arc<Config>,
    pool: PgPool,
    bus: Arc<dyn Bus>,
    store: Arc<dyn PresenceStore>,
    me: mpsc::UnboundedSender<Command>,
    conns: HashMap<u64, Conn>,
    users: HashMap<i64, HashSet<u64>>,
    rooms: HashMap<i64, Room>,
    floor_dirty: bool,
    floor_inflight: bool,
    staff_online: i64,
    bus_lag_ms: Option<f64>,
    started: Instant,
    last_heartbeat: Instant,
    last_floor: Instant,
    last_system: Instant,
}

fn frame(f: &ServerFrame) -> ByteString {
    ByteString::from(serde_json::to_string(f).unwrap_or_default())
}

fn ttl(config: &Config) -> Duration {
    Duration::from_secs(config.presence_ttl_secs)
}

impl Hub {
    pub async fn spawn(
        config: Arc<Config>,
        pool: PgPool,
        bus: Arc<dyn Bus>,
        store: Arc<dyn PresenceStore>,
        mut incoming: mpsc::UnboundedReceiver<Incoming>,
    ) -> HubHandle {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for ch in [Channel::Staff, Channel::Admin] {
            if let Err(e) = bus.subscribe(ch.name()).await {
                tracing::warn!(error = %e, "could not subscribe to {}", ch.name());
            }
        }
        let forward = tx.clone();
        tokio::spawn(async move {
            while let Some(i) = incoming.recv().await {
                if forward.send(Command::Bus(i)).is_err() {
                    break;
                }
            }
        });
        let ticker = tx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                if ticker.send(Command::Tick).is_err() {
                    break;
                }
            }
        });
        let now = Instant::now();
        let mut hub = Hub {
            config,
            pool,
            bus,
            store,
            me: tx.clone(),
            conns: HashMap::new(),
            users: HashMap::new(),
            rooms: HashMap::new(),
            floor_dirty: false,
            floor_inflight: false,
            staff_online: 0,
            bus_lag_ms: None,
            started: now,
            last_heartbeat: now,
            last_floor: now,
            last_system: now,
        };
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                if let Command::Shutdown { done } = cmd {
                    hub.shutdown().await;
                    let _ = done.send(());
                    continue;
                }
                hub.handle(cmd);
            }
        });
        HubHandle { tx }
    }

    fn instance(&self) -> &str {
        &self.config.instance_id
    }

    fn publish(&self, channel: Channel, event: BusEvent) {
        let bus = self.bus.clone();
        tokio::spawn(async move {
            if let Ok(payload) = serde_json::to_vec(&event) {
                if let Err(e) = bus.publish(channel.name(), payload.into()).await {
                    tracing::warn!(error = %e, "publish failed");
                }
            }
        });
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Connect {
                conn_id,
                actor,
                token_version,
                tx,
                signals,
                done,
            } => {
                let user_id = actor.id;
                if matches!(actor.role, Role::Supervisor | Role::Admin) {
                    self.floor_dirty = true;
                }
                let conns = self.users.entry(user_id).or_default();
                let first = conns.is_empty();
                conns.insert(conn_id);
                self.touch_online(&actor);
                self.conns.insert(
                    conn_id,
                    Conn {
                        actor,
                        token_version,
                        tx,
                        signals,
                        rooms: HashSet::new(),
                        stalled: HashSet::new(),
                    },
                );
                let bus = self.bus.clone();
                tokio::spawn(async move {
                    if first {
                        if let Err(e) = bus.subscribe(Channel::User(user_id).name()).await {
                            tracing::warn!(error = %e, "user channel subscribe failed");
                        }
                    }
                    let _ = done.send(());
                });
            }
            Command::Disconnect { conn_id } => self.disconnect(conn_id),
            Command::Join {
                conn_id,
                ticket_id,
                requester_id,
                reply,
            } => self.join(conn_id, ticket_id, requester_id, reply),
            Command::Leave { conn_id, ticket_id } => self.leave(conn_id, ticket_id),
            Command::Typing {
                conn_id,
                ticket_id,
                state,
            } => self.local_typing(conn_id, ticket_id, state),
            Command::Bus(Incoming::Event { channel, payload }) => {
                self.bus_event(&channel, &payload)
            }
            Command::Bus(Incoming::Lost) => {}
            Command::Bus(Incoming::Recovered) => self.resync_everyone(),
            Command::RoomOpened {
                ticket_id,
                last_seq,
                members,
            } => self.room_opened(ticket_id, last_seq, members),
            Command::RoomFailed { ticket_id } => {
                if let Some(room) = self.rooms.remove(&ticket_id) {
                    for (_, w) in room.waiters {
                        let _ = w.send(Err(AppError::new(
                            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                            relay_protocol::ErrorCode::Unavailable,
                            "the room could not be opened; try again",
                        )));
                    }
                }
            }
            Command::Filled {
                ticket_id,
                messages,
            } => self.filled(ticket_id, messages),
            Command::PresenceSnapshot { ticket_id, members } => {
                self.presence_snapshot(ticket_id, members)
            }
            Command::Online { staff_online } => {
                if staff_online != self.staff_online {
                    self.staff_online = staff_online;
                    self.floor_dirty = true;
                }
            }
            Command::UserChecked { user_id, state } => self.user_checked(user_id, state),
            Command::Floor(counters) => {
                self.floor_inflight = false;
                let f = frame(&ServerFrame::Floor { counters });
                for c in self.conns.values() {
                    if matches!(c.actor.role, Role::Supervisor | Role::Admin) {
                        c.ephemeral(&f);
                    }
                }
            }
            Command::Tick => self.tick(),
            Command::Stats { reply } => {
                let _ = reply.send((self.conns.len() as i64, self.rooms.len() as i64));
            }
            Command::Shutdown { .. } => {}
        }
    }

    fn touch_online(&self, actor: &Actor) {
        let member = presence::member(self.instance(), &actor.summary());
        let exp = presence::now_ms() + ttl(&self.config).as_millis() as i64;
        let store = self.store.clone();
        tokio::spawn(async move {
            let _ = store.touch("rd:p:online".into(), member, exp).await;
        });
    }

    fn disconnect(&mut self, conn_id: u64) {
        let Some(conn) = self.conns.remove(&conn_id) else {
            return;
        };
        for t in conn.rooms.clone() {
            self.remove_from_room(conn_id, &conn.actor, t);
        }
        let user_id = conn.actor.id;
        let last = match self.users.get_mut(&user_id) {
            Some(set) => {
                set.remove(&conn_id);
                set.is_empty()
            }
            None => true,
        };
        if last {
            self.users.remove(&user_id);
            let bus = self.bus.clone();
            let store = self.store.clone();
            let member = presence::member(self.instance(), &conn.actor.summary());
            tokio::spawn(async move {
                let _ = bus.unsubscribe(Channel::User(user_id).name()).await;
                let _ = store.remove("rd:p:online".into(), member).await;
            });
        }
    }

    fn join(
        &mut self,
        conn_id: u64,
        ticket_id: i64,
        requester_id: i64,
        reply: oneshot::Sender<AppResult<JoinInfo>>,
    ) {
        let _ = requester_id;
        if !self.conns.contains_key(&conn_id) {
            let _ = reply.send(Err(AppError::internal("join from an unknown connection")));
            return;
        }
        let room = self.rooms.entry(ticket_id).or_default();
        if !room.open {
            room.waiters.push((conn_id, reply));
            if !room.opening {
                room.opening = true;
                self.open_room(ticket_id);
            }
            return;
        }
        let info = self.admit(conn_id, ticket_id);
        let _ = reply.send(Ok(info));
    }

    /// Subscribe first, then read `last_seq`: see the module comment.
    fn open_room(&self, ticket_id: i64) {
        let bus = self.bus.clone();
        let store = self.store.clone();
        let pool = self.pool.clone();
        let me = self.me.clone();
        tokio::spawn(async move {
            let opened = async {
                bus.subscribe(Channel::Ticket(ticket_id).name()).await?;
                let last_seq = crate::db::run(&pool, move |conn| {
                    crate::tickets::queries::find(conn, ticket_id).map(|t| t.last_seq)
                })
                .await?;
                let members = store
                    .members(format!("rd:p:t:{ticket_id}"), presence::now_ms())
                    .await?;
                Ok::<_, AppError>((last_seq, members))
            }
            .await;
            let _ = me.send(match opened {
                Ok((last_seq, members)) => Command::RoomOpened {
                    ticket_id,
                    last_seq,
                    members,
                },
                Err(e) => {
                    tracing::warn!(error = %e, ticket_id, "room open failed");
                    Command::RoomFailed { ticket_id }
                }
            });
        });
    }

    fn room_opened(&mut self, ticket_id: i64, last_seq: i64, members: Vec<String>) {
        let instance = self.instance().to_owned();
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        room.open = true;
        room.opening = false;
        // On a re-open after a bus outage, members are stalled until they re-join and
        // replay from the database, so jumping the frontier forward loses nothing.
        room.next_seq = room.next_seq.max(last_seq + 1);
        room.pending.retain(|seq, _| *seq > last_seq);
        for m in members {
            if let Some((inst, user)) = presence::parse_member(&m) {
                if inst != instance {
                    room.presence
                        .entry(user.id.0)
                        .or_insert_with(|| (user, HashSet::new()))
                        .1
                        .insert(inst);
                }
            }
        }
        let waiters = std::mem::take(&mut room.waiters);
        for (conn_id, reply) in waiters {
            if self.conns.contains_key(&conn_id) {
                let info = self.admit(conn_id, ticket_id);
                let _ = reply.send(Ok(info));
            }
        }
        self.drain(ticket_id);
        if self
            .rooms
            .get(&ticket_id)
            .is_some_and(|r| r.members.is_empty())
        {
            self.close_room(ticket_id);
        }
    }

    /// Adds a socket to an open room and announces the user if they are new there.
    fn admit(&mut self, conn_id: u64, ticket_id: i64) -> JoinInfo {
        let instance = self.instance().to_owned();
        let ttl_ms = ttl(&self.config).as_millis() as i64;
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return JoinInfo {
                frontier: 0,
                presence: vec![],
            };
        };
        conn.rooms.insert(ticket_id);
        conn.stalled.remove(&ticket_id);
        let me = conn.actor.summary();
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return JoinInfo {
                frontier: 0,
                presence: vec![],
            };
        };
        room.members.insert(conn_id);
        let entry = room
            .presence
            .entry(me.id.0)
            .or_insert_with(|| (me.clone(), HashSet::new()));
        let newly_present = entry.1.is_empty();
        let first_here = entry.1.insert(instance.clone());
        let mut users: Vec<UserSummary> = room.presence.values().map(|(u, _)| u.clone()).collect();
        users.sort_by_key(|u| u.id);
        let info = JoinInfo {
            frontier: room.next_seq - 1,
            presence: users,
        };
        if first_here {
            let key = format!("rd:p:t:{ticket_id}");
            let member = presence::member(&instance, &me);
            let store = self.store.clone();
            tokio::spawn(async move {
                let _ = store.touch(key, member, presence::now_ms() + ttl_ms).await;
            });
            self.publish(
                Channel::Ticket(ticket_id),
                BusEvent::Presence {
                    ticket_id: TicketId(ticket_id),
                    user: me.clone(),
                    instance,
                    present: true,
                },
            );
        }
        if newly_present {
            self.room_frame(
                ticket_id,
                Some(me.id.0),
                &frame(&ServerFrame::Joined {
                    ticket_id: TicketId(ticket_id),
                    user: me,
                }),
            );
        }
        info
    }

    fn leave(&mut self, conn_id: u64, ticket_id: i64) {
        let Some(actor) = self.conns.get_mut(&conn_id).map(|c| {
            c.rooms.remove(&ticket_id);
            c.stalled.remove(&ticket_id);
            c.actor.clone()
        }) else {
            return;
        };
        self.remove_from_room(conn_id, &actor, ticket_id);
    }

    fn remove_from_room(&mut self, conn_id: u64, actor: &Actor, ticket_id: i64) {
        let instance = self.instance().to_owned();
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        room.members.remove(&conn_id);
        room.waiters.retain(|(c, _)| *c != conn_id);
        let still_here = room
            .members
            .iter()
            .any(|c| self.conns.get(c).is_some_and(|c| c.actor.id == actor.id));
        if !still_here {
            let mut gone = false;
            if let Some(entry) = room.presence.get_mut(&actor.id) {
                entry.1.remove(&instance);
                gone = entry.1.is_empty();
            }
            if gone {
                room.presence.remove(&actor.id);
            }
            let had_typing = room.typing.remove(&actor.id).is_some();
            let me = actor.summary();
            let store = self.store.clone();
            let key = format!("rd:p:t:{ticket_id}");
            let member = presence::member(&instance, &me);
            tokio::spawn(async move {
                let _ = store.remove(key, member).await;
            });
            self.publish(
                Channel::Ticket(ticket_id),
                BusEvent::Presence {
                    ticket_id: TicketId(ticket_id),
                    user: me.clone(),
                    instance,
                    present: false,
                },
            );
            if had_typing {
                let stop = ServerFrame::Typing {
                    ticket_id: TicketId(ticket_id),
                    user: TypingUser {
                        id: me.id,
                        name: me.name.clone(),
                    },
                    state: TypingState::Stop,
                };
                self.room_frame(ticket_id, Some(me.id.0), &frame(&stop));
            }
            if gone {
                self.room_frame(
                    ticket_id,
                    Some(me.id.0),
                    &frame(&ServerFrame::Left {
                        ticket_id: TicketId(ticket_id),
                        user: me,
                    }),
                );
            }
        }
        if self
            .rooms
            .get(&ticket_id)
            .is_some_and(|r| r.members.is_empty() && r.open && r.waiters.is_empty())
        {
            self.close_room(ticket_id);
        }
    }

    fn close_room(&mut self, ticket_id: i64) {
        self.rooms.remove(&ticket_id);
        let bus = self.bus.clone();
        tokio::spawn(async move {
            let _ = bus.unsubscribe(Channel::Ticket(ticket_id).name()).await;
        });
    }

    /// Sends an ephemeral frame to every socket in the room except `except_user`'s.
    fn room_frame(&self, ticket_id: i64, except_user: Option<i64>, f: &ByteString) {
        let Some(room) = self.rooms.get(&ticket_id) else {
            return;
        };
        for c in room.members.iter().filter_map(|id| self.conns.get(id)) {
            if Some(c.actor.id) != except_user {
                c.ephemeral(f);
            }
        }
    }

    fn local_typing(&mut self, conn_id: u64, ticket_id: i64, state: TypingState) {
        let Some(conn) = self.conns.get(&conn_id) else {
            return;
        };
        if !conn.rooms.contains(&ticket_id) {
            return;
        }
        let user = TypingUser {
            id: conn.actor.id.into(),
            name: conn.actor.name.clone(),
        };
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        let now = Instant::now();
        if state == TypingState::Start {
            if room
                .typing_sent
                .get(&user.id.0)
                .is_some_and(|t| now.duration_since(*t) < TYPING_THROTTLE)
            {
                return;
            }
            room.typing_sent.insert(user.id.0, now);
        } else {
            room.typing_sent.remove(&user.id.0);
        }
        self.publish(
            Channel::Ticket(ticket_id),
            BusEvent::Typing {
                ticket_id: TicketId(ticket_id),
                user,
                state,
            },
        );
    }

    fn bus_event(&mut self, channel: &str, payload: &[u8]) {
        let Some(channel) = Channel::parse(channel) else {
            return;
        };
        let event: BusEvent = match serde_json::from_slice(payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable bus event");
                return;
            }
        };
        match (channel, event) {
            (
                Channel::Ticket(t),
                BusEvent::Message {
                    requester_id,
                    message,
                },
            ) => self.message_event(t, message, requester_id),
            (Channel::Ticket(t), BusEvent::Typing { user, state, .. }) => {
                self.remote_typing(t, user, state)
            }
            (
                Channel::Ticket(t),
                BusEvent::Receipt {
                    user_id,
                    seq,
                    public_seq,
                    ..
                },
            ) => self.receipt(t, user_id, seq, public_seq),
            (
                Channel::Ticket(t),
                BusEvent::Presence {
                    user,
                    instance,
                    present,
                    ..
                },
            ) if instance != self.instance() => self.remote_presence(t, user, instance, present),
            (Channel::Staff, BusEvent::TicketCreated { ticket }) => {
                self.floor_dirty = true;
                let f = frame(&ServerFrame::TicketCreated { ticket });
                self.to_staff(&f);
            }
            (Channel::Staff, BusEvent::TicketUpdated { ticket }) => {
                self.floor_dirty = true;
                let f = frame(&ServerFrame::TicketUpdated { ticket });
                self.to_staff(&f);
            }
            (Channel::User(u), BusEvent::TicketUpdated { ticket }) => {
                self.to_user(u, &frame(&ServerFrame::TicketUpdated { ticket }))
            }
            (Channel::User(u), BusEvent::Assigned { ticket }) => {
                self.to_user(u, &frame(&ServerFrame::Assigned { ticket }))
            }
            (Channel::User(u), BusEvent::Notification { notification, .. }) => {
                self.to_user(u, &frame(&ServerFrame::Notification { notification }))
            }
            (Channel::User(u), BusEvent::Control { .. }) => self.check_user(u),
            (Channel::Admin, BusEvent::System { status, sent_at_ms }) => {
                if status.instance_id == self.instance() {
                    self.bus_lag_ms = Some((presence::now_ms() - sent_at_ms).max(0) as f64);
                }
                let f = frame(&ServerFrame::System { status });
                for c in self.conns.values().filter(|c| c.actor.role == Role::Admin) {
                    c.ephemeral(&f);
                }
            }
            _ => {}
        }
    }

    fn to_staff(&self, f: &ByteString) {
        for c in self.conns.values().filter(|c| c.actor.role.is_staff()) {
            c.ephemeral(f);
        }
    }

    fn to_user(&self, user_id: i64, f: &ByteString) {
        for id in self.users.get(&user_id).into_iter().flatten() {
            if let Some(c) = self.conns.get(id) {
                c.ephemeral(f);
            }
        }
    }

    fn message_event(&mut self, ticket_id: i64, message: MessageView, requester_id: i64) {
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        let seq = message.seq;
        if room.open && seq < room.next_seq {
            return;
        }
        room.pending.entry(seq).or_insert((message, requester_id));
        if room.open {
            self.drain(ticket_id);
        }
    }

    /// Delivers pending messages in seq order for as long as there is no hole.
    fn drain(&mut self, ticket_id: i64) {
        loop {
            let Some(room) = self.rooms.get_mut(&ticket_id) else {
                return;
            };
            let next = room.next_seq;
            let Some((message, requester_id)) = room.pending.remove(&next) else {
                room.gap_since = if room.pending.is_empty() {
                    None
                } else {
                    room.gap_since.or(Some(Instant::now()))
                };
                return;
            };
            room.next_seq += 1;
            let members: Vec<u64> = room.members.iter().copied().collect();
            let kind = message.kind;
            let f = frame(&ServerFrame::Message {
                ticket_id: TicketId(ticket_id),
                seq: message.seq,
                message,
            });
            for id in members {
                if let Some(c) = self.conns.get_mut(&id) {
                    let allowed = c.actor.role.is_staff()
                        || (c.actor.id == requester_id && kind != MessageKind::Internal);
                    if allowed {
                        c.durable(
                            ticket_id,
                            Out::Message {
                                ticket_id,
                                seq: next,
                                frame: f.clone(),
                            },
                        );
                    }
                }
            }
        }
    }

    fn filled(&mut self, ticket_id: i64, messages: Vec<(MessageView, i64)>) {
        for (m, r) in messages {
            self.message_event(ticket_id, m, r);
        }
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        room.filling = false;
        // Still a hole after reading the database: that seq does not exist; move on.
        if let Some((&first, _)) = room.pending.iter().next() {
            if first > room.next_seq {
                tracing::warn!(
                    ticket_id,
                    from = room.next_seq,
                    to = first,
                    "skipping a seq hole"
                );
                room.next_seq = first;
                self.drain(ticket_id);
            }
        }
    }

    fn fill_gap(&mut self, ticket_id: i64) {
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        let Some((&upto, _)) = room.pending.iter().next() else {
            return;
        };
        room.filling = true;
        let from = room.next_seq;
        let pool = self.pool.clone();
        let me = self.me.clone();
        tokio::spawn(async move {
            let got = crate::db::run(&pool, move |conn| {
                let t = crate::tickets::queries::find(conn, ticket_id)?;
                let page = crate::messages::queries::replay(
                    conn,
                    Role::Admin,
                    ticket_id,
                    from - 1,
                    upto - 1,
                    10_000,
                )?;
                Ok(page
                    .into_iter()
                    .map(|m| (m, t.requester_id))
                    .collect::<Vec<_>>())
            })
            .await
            .unwrap_or_default();
            let _ = me.send(Command::Filled {
                ticket_id,
                messages: got,
            });
        });
    }

    fn remote_typing(&mut self, ticket_id: i64, user: TypingUser, state: TypingState) {
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        match state {
            TypingState::Start => {
                room.typing
                    .insert(user.id.0, (user.clone(), Instant::now() + TYPING_TTL));
            }
            TypingState::Stop => {
                room.typing.remove(&user.id.0);
            }
        }
        let uid = user.id.0;
        let f = frame(&ServerFrame::Typing {
            ticket_id: TicketId(ticket_id),
            user,
            state,
        });
        self.room_frame(ticket_id, Some(uid), &f);
    }

    fn receipt(&mut self, ticket_id: i64, user_id: UserId, seq: i64, public_seq: i64) {
        let Some(room) = self.rooms.get(&ticket_id) else {
            return;
        };
        let staff_frame = frame(&ServerFrame::Receipt {
            ticket_id: TicketId(ticket_id),
            user_id,
            seq,
        });
        let customer_frame = frame(&ServerFrame::Receipt {
            ticket_id: TicketId(ticket_id),
            user_id,
            seq: public_seq,
        });
        let members: Vec<u64> = room.members.iter().copied().collect();
        for id in members {
            if let Some(c) = self.conns.get_mut(&id) {
                if c.actor.role.is_staff() {
                    c.durable(ticket_id, Out::Frame(staff_frame.clone()));
                } else if public_seq > 0 {
                    c.durable(ticket_id, Out::Frame(customer_frame.clone()));
                }
            }
        }
    }

    fn remote_presence(
        &mut self,
        ticket_id: i64,
        user: UserSummary,
        instance: String,
        present: bool,
    ) {
        let Some(room) = self.rooms.get_mut(&ticket_id) else {
            return;
        };
        let uid = user.id.0;
        let f = if present {
            let entry = room
                .presence
                .entry(uid)
                .or_insert_with(|| (user.clone(), HashSet::new()));
            let new = entry.1.is_empty();
            entry.1.insert(instance);
            new.then_some(ServerFrame::Joined {
                ticket_id: TicketId(ticket_id),
                user,
            })
        } else {
            let gone = match room.presence.get_mut(&uid) {
                Some(entry) => {
                    entry.1.remove(&instance);
                    entry.1.is_empty()
                }
                None => false,
            };
            if gone {
                room.presence.remove(&uid);
            }
            gone.then_some(ServerFrame::Left {
                ticket_id: TicketId(ticket_id),
                user,
            })
        };
        if let Some(f) = f {
            self.room_frame(ticket_id, Some(uid), &frame(&f));
        }
    }

    /// Reconciles a room's view of other instances with the shared presence set: users of
    /// an instance that stopped heartbeating drop out.
    fn presence_snapshot(&mut self, ticket_id: i64, members: Vec<String>) {
        let instance = self.instance().to_owned();
        let Some(room) = self.rooms.get(&ticket_id) else {
            return;
        };
        let mut live: HashMap<i64, (UserSummary, HashSet<String>)> = HashMap::new();
        for m in members {
            if let Some((inst, user)) = presence::parse_member(&m) {
                if inst != instance {
                    live.entry(user.id.0)
                        .or_insert_with(|| (user, HashSet::new()))
                        .1
                        .insert(inst);
                }
            }
        }
        let mut changes = Vec::new();
        for (uid, (user, insts)) in &room.presence {
            for inst in insts.iter().filter(|i| **i != instance) {
                if !live.get(uid).is_some_and(|(_, l)| l.contains(inst)) {
                    changes.push((user.clone(), inst.clone(), false));
                }
            }
        }
        for (uid, (user, insts)) in &live {
            for inst in insts {
                if !room
                    .presence
                    .get(uid)
                    .is_some_and(|(_, p)| p.contains(inst))
                {
                    changes.push((user.clone(), inst.clone(), true));
                }
            }
        }
        for (user, inst, present) in changes {
            self.remote_presence(ticket_id, user, inst, present);
        }
    }

    /// Re-reads a user whose account changed: their sockets close if the tokens they
    /// hold are no longer good (deactivated, revoked, or locked until they set up the
    /// second factor the desk requires).
    fn check_user(&self, user_id: i64) {
        if !self.users.contains_key(&user_id) {
            return;
        }
        let pool = self.pool.clone();
        let me = self.me.clone();
        tokio::spawn(async move {
            let state = crate::db::run(&pool, move |conn| {
                let u = crate::users::queries::find(conn, user_id)?;
                let locked = crate::auth::totp::setup_required(conn, &u)?;
                Ok(UserState {
                    active: u.active && !locked,
                    token_version: u.token_version,
                })
            })
            .await
            .ok();
            let _ = me.send(Command::UserChecked { user_id, state });
        });
    }

    fn user_checked(&mut self, user_id: i64, state: Option<UserState>) {
        for id in self.users.get(&user_id).cloned().unwrap_or_default() {
            let Some(c) = self.conns.get(&id) else {
                continue;
            };
            let revoked = match &state {
                Some(u) => !u.active || u.token_version != c.token_version,
                None => true,
            };
            if revoked {
                let reason = "your session was revoked; sign in again";
                if c.tx
                    .try_send(Out::Close(close::UNAUTHORIZED, reason.into()))
                    .is_err()
                {
                    c.signals.close(close::UNAUTHORIZED, reason);
                }
            }
        }
    }

    /// The bus lost events while it was down: every joined socket re-joins with its
    /// last seq and gets the rest from PostgreSQL.
    fn resync_everyone(&mut self) {
        for c in self.conns.values_mut() {
            for t in c.rooms.clone() {
                c.stalled.insert(t);
                c.signals.resync(t);
            }
        }
        // Events were missed: every room re-reads its frontier (subscribed again first),
        // and joins wait for that, so a re-join replays everything it missed.
        let tickets: Vec<i64> = self.rooms.keys().copied().collect();
        for t in tickets {
            if let Some(room) = self.rooms.get_mut(&t) {
                room.open = false;
                if !room.opening {
                    room.opening = true;
                    self.open_room(t);
                }
            }
        }
    }

    fn tick(&mut self) {
        let now = Instant::now();
        // Typing that started and never stopped expires.
        let mut expired = Vec::new();
        for (t, room) in self.rooms.iter_mut() {
            room.typing.retain(|_, (user, until)| {
                let keep = *until > now;
                if !keep {
                    expired.push((*t, user.clone()));
                }
                keep
            });
        }
        for (t, user) in expired {
            let uid = user.id.0;
            let f = frame(&ServerFrame::Typing {
                ticket_id: TicketId(t),
                user,
                state: TypingState::Stop,
            });
            self.room_frame(t, Some(uid), &f);
        }
        // Holes that did not fill by themselves.
        let gaps: Vec<i64> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.open && !r.filling && !r.pending.is_empty())
            .filter(|(_, r)| {
                r.gap_since
                    .is_some_and(|g| now.duration_since(g) >= GAP_PATIENCE)
            })
            .map(|(t, _)| *t)
            .collect();
        for t in gaps {
            self.fill_gap(t);
        }
        if now.duration_since(self.last_heartbeat) >= ttl(&self.config) / 3 {
            self.last_heartbeat = now;
            self.heartbeat();
        }
        if self.floor_dirty
            && !self.floor_inflight
            && now.duration_since(self.last_floor) >= Duration::from_secs(1)
        {
            self.push_floor();
        }
        if now.duration_since(self.last_system) >= Duration::from_secs(5) {
            self.last_system = now;
            let status = SystemStatus {
                instance_id: self.instance().to_owned(),
                connections: self.conns.len() as i64,
                rooms: self.rooms.len() as i64,
                bus_lag_ms: self.bus_lag_ms,
                uptime_s: self.started.elapsed().as_secs() as i64,
            };
            self.publish(
                Channel::Admin,
                BusEvent::System {
                    status,
                    sent_at_ms: presence::now_ms(),
                },
            );
        }
    }

    /// Re-touches this instance's presence entries and reads back every room's set.
    fn heartbeat(&self) {
        let instance = self.instance().to_owned();
        let exp = presence::now_ms() + ttl(&self.config).as_millis() as i64;
        let mut touches = Vec::new();
        for (t, room) in &self.rooms {
            let key = format!("rd:p:t:{t}");
            let mut seen = HashSet::new();
            for c in room.members.iter().filter_map(|id| self.conns.get(id)) {
                if seen.insert(c.actor.id) {
                    touches.push((key.clone(), presence::member(&instance, &c.actor.summary())));
                }
            }
        }
        let mut seen = HashSet::new();
        for c in self.conns.values() {
            if seen.insert(c.actor.id) {
                touches.push((
                    "rd:p:online".into(),
                    presence::member(&instance, &c.actor.summary()),
                ));
            }
        }
        let rooms: Vec<i64> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.open)
            .map(|(t, _)| *t)
            .collect();
        let store = self.store.clone();
        let me = self.me.clone();
        tokio::spawn(async move {
            // A few pipelined round trips for the whole heartbeat, not one per entry.
            let _ = store.touch_many(touches, exp).await;
            let now = presence::now_ms();
            let mut keys: Vec<String> = rooms.iter().map(|t| format!("rd:p:t:{t}")).collect();
            keys.push("rd:p:online".into());
            let Ok(mut sets) = store.members_many(keys, now).await else {
                return;
            };
            let online = sets.pop();
            for (t, members) in rooms.into_iter().zip(sets) {
                let _ = me.send(Command::PresenceSnapshot {
                    ticket_id: t,
                    members,
                });
            }
            if let Some(online) = online {
                let staff: HashSet<i64> = online
                    .iter()
                    .filter_map(|m| presence::parse_member(m))
                    .filter(|(_, u)| u.role.is_staff())
                    .map(|(_, u)| u.id.0)
                    .collect();
                let _ = me.send(Command::Online {
                    staff_online: staff.len() as i64,
                });
            }
        });
    }

    fn push_floor(&mut self) {
        let watchers = self
            .conns
            .values()
            .any(|c| matches!(c.actor.role, Role::Supervisor | Role::Admin));
        self.floor_dirty = false;
        if !watchers {
            return;
        }
        self.floor_inflight = true;
        self.last_floor = Instant::now();
        let pool = self.pool.clone();
        let me = self.me.clone();
        let online = self.staff_online.max(
            self.conns
                .values()
                .filter(|c| c.actor.role.is_staff())
                .map(|c| c.actor.id)
                .collect::<HashSet<_>>()
                .len() as i64,
        );
        tokio::spawn(async move {
            match crate::db::run(&pool, crate::tickets::queries::floor_counters).await {
                Ok(mut counters) => {
                    counters.agents_online = online;
                    let _ = me.send(Command::Floor(counters));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "floor counters failed");
                    let _ = me.send(Command::Floor(FloorCounters {
                        agents_online: online,
                        ..Default::default()
                    }));
                }
            }
        });
    }

    async fn shutdown(&mut self) {
        let instance = self.instance().to_owned();
        for c in self.conns.values() {
            let reason = "server restarting; reconnect";
            if c.tx
                .try_send(Out::Close(close::RESTART, reason.into()))
                .is_err()
            {
                c.signals.close(close::RESTART, reason);
            }
        }
        // Leave presence now rather than waiting for the TTL.
        for (t, room) in &self.rooms {
            for c in room.members.iter().filter_map(|id| self.conns.get(id)) {
                let _ = self
                    .store
                    .remove(
                        format!("rd:p:t:{t}"),
                        presence::member(&instance, &c.actor.summary()),
                    )
                    .await;
                let ev = BusEvent::Presence {
                    ticket_id: TicketId(*t),
                    user: c.actor.summary(),
                    instance: instance.clone(),
                    present: false,
                };
                if let Ok(p) = serde_json::to_vec(&ev) {
                    let _ = self.bus.publish(Channel::Ticket(*t).name(), p.into()).await;
                }
            }
        }
        for c in self.conns.values() {
            let _ = self
                .store
                .remove(
                    "rd:p:online".into(),
                    presence::member(&instance, &c.actor.summary()),
                )
                .await;
        }
    }
}

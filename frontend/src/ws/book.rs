//! The socket's bookkeeping as plain data: the reconnect schedule, the joined rooms with the
//! last seq held in each, the outbox of unacknowledged sends, and what each frame does to them.
//! No browser calls here, so all of it is unit-tested on the host; `ws/mod.rs` only executes
//! the frames these functions return.

use std::collections::BTreeMap;

use relay_protocol::ws::{ClientFrame, ServerFrame};
use relay_protocol::{TicketId, UserId};
use uuid::Uuid;

/// First retry after this long, doubling per failed attempt up to `BACKOFF_MAX_MS`.
pub const BACKOFF_BASE_MS: f64 = 500.0;
pub const BACKOFF_MAX_MS: f64 = 15_000.0;
/// ±30 %: tabs dropped by the same server restart must not all come back at once.
pub const BACKOFF_JITTER: f64 = 0.3;
/// A connection that stayed up this long starts the schedule over when it drops; one that
/// dies right after `ready` (a crash loop) keeps backing off.
pub const STABLE_AFTER_MS: f64 = 10_000.0;

/// Exponential back-off with jitter. The random number is a parameter, so tests pin it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// Failed attempts since the last success.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The wait before the next attempt, counting this one as failed. `unit` is a random
    /// number in `[0, 1)`: 0 gives −30 %, 0.5 the nominal delay, just under 1 gives +30 %.
    pub fn next_delay_ms(&mut self, unit: f64) -> u32 {
        let exp = self.attempt.min(16) as i32;
        let nominal = (BACKOFF_BASE_MS * 2f64.powi(exp)).min(BACKOFF_MAX_MS);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let factor = 1.0 + BACKOFF_JITTER * (2.0 * unit - 1.0);
        self.attempt = self.attempt.saturating_add(1);
        (nominal * factor).round() as u32
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// What a close code asks the client to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// 4401: the token was refused (bad, expired, revoked): refresh it, then reconnect.
    Reauthenticate,
    /// Anything else (1006 network drop, 1012 server restart, 1001, 4429...): back off and
    /// reconnect, possibly to another instance.
    Reconnect,
}

pub const CLOSE_UNAUTHORIZED: u16 = 4401;

pub fn after_close(code: u16) -> AfterClose {
    if code == CLOSE_UNAUTHORIZED {
        AfterClose::Reauthenticate
    } else {
        AfterClose::Reconnect
    }
}

/// The socket URL on the page's own origin: `wss://` under https, `ws://` otherwise.
pub fn socket_url(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}/ws")
}

/// One joined ticket room.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Room {
    /// Highest message seq delivered; the `since_seq` of the next (re)join.
    pub last_seq: i64,
    /// Screens holding the room; it is left when the last one lets go.
    pub holders: u32,
    /// The replay after the latest join is complete (its `presence` frame arrived).
    pub synced: bool,
    /// Highest seq the user has seen on screen (what `read` should say).
    pub read_wanted: i64,
    /// Highest seq the server confirmed with our own `receipt`.
    pub read_confirmed: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rooms {
    map: BTreeMap<TicketId, Room>,
}

impl Rooms {
    pub fn get(&self, ticket: TicketId) -> Option<&Room> {
        self.map.get(&ticket)
    }

    /// A screen wants `ticket`, holding everything up to `since`. Returns whether the room
    /// is new (then a `join` must be sent). A second holder shares the running stream: it
    /// loads older history itself (REST), the room does not rewind.
    pub fn join(&mut self, ticket: TicketId, since: i64) -> bool {
        match self.map.get_mut(&ticket) {
            Some(room) => {
                room.holders += 1;
                false
            }
            None => {
                self.map.insert(
                    ticket,
                    Room {
                        last_seq: since.max(0),
                        holders: 1,
                        ..Room::default()
                    },
                );
                true
            }
        }
    }

    /// A screen lets go; returns whether the room is now left (then send `leave`).
    pub fn leave(&mut self, ticket: TicketId) -> bool {
        let Some(room) = self.map.get_mut(&ticket) else {
            return false;
        };
        room.holders = room.holders.saturating_sub(1);
        if room.holders == 0 {
            self.map.remove(&ticket);
            true
        } else {
            false
        }
    }

    /// A `message` frame: true when it is new (seq above the last held), which also moves
    /// the mark. Duplicates, older seqs and rooms already left are dropped. A jump is not a
    /// loss: customers never see the seqs of internal notes.
    pub fn observe(&mut self, ticket: TicketId, seq: i64) -> bool {
        match self.map.get_mut(&ticket) {
            Some(room) if seq > room.last_seq => {
                room.last_seq = seq;
                true
            }
            _ => false,
        }
    }

    pub fn synced(&mut self, ticket: TicketId) {
        if let Some(room) = self.map.get_mut(&ticket) {
            room.synced = true;
        }
    }

    /// The `join` that resumes `ticket` from what is held.
    pub fn join_frame(&self, ticket: TicketId) -> Option<ClientFrame> {
        self.map.get(&ticket).map(|room| ClientFrame::Join {
            ticket_id: ticket,
            since_seq: Some(room.last_seq),
        })
    }

    /// After a reconnect: every room again from its last seq, then the reads the server
    /// may not have stored.
    pub fn rejoin_frames(&mut self) -> Vec<ClientFrame> {
        let mut frames = Vec::new();
        let mut reads = Vec::new();
        for (ticket, room) in &mut self.map {
            room.synced = false;
            frames.push(ClientFrame::Join {
                ticket_id: *ticket,
                since_seq: Some(room.last_seq),
            });
            if room.read_wanted > room.read_confirmed {
                reads.push(ClientFrame::Read {
                    ticket_id: *ticket,
                    seq: room.read_wanted,
                });
            }
        }
        frames.extend(reads);
        frames
    }

    pub fn disconnected(&mut self) {
        for room in self.map.values_mut() {
            room.synced = false;
        }
    }

    /// The user has seen up to `seq`: returns the `read` to send, if it says anything new.
    /// Never moves backwards.
    pub fn mark_read(&mut self, ticket: TicketId, seq: i64) -> Option<ClientFrame> {
        let room = self.map.get_mut(&ticket)?;
        if seq <= room.read_wanted.max(room.read_confirmed) {
            return None;
        }
        room.read_wanted = seq;
        Some(ClientFrame::Read {
            ticket_id: ticket,
            seq,
        })
    }

    /// Our own `receipt` came back: the server has it.
    pub fn read_confirmed(&mut self, ticket: TicketId, seq: i64) {
        if let Some(room) = self.map.get_mut(&ticket) {
            room.read_confirmed = room.read_confirmed.max(seq);
        }
    }
}

/// How far a send has got.
#[derive(Debug, Clone, PartialEq)]
pub enum SendState {
    /// Waiting for a connection.
    Queued,
    /// Sent over the socket on the current connection; an `ack` (or an error) will follow.
    OnSocket,
    /// Posted over REST while the socket was down.
    OnRest,
    /// Refused by the server (closed ticket, rate limit...): kept so the user can retry
    /// or discard it; never resent on its own.
    Failed(String),
}

/// A reply the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub client_id: Uuid,
    pub ticket_id: TicketId,
    pub body: String,
    pub internal: bool,
    pub state: SendState,
}

impl Pending {
    pub fn frame(&self) -> ClientFrame {
        ClientFrame::Send {
            ticket_id: self.ticket_id,
            client_id: self.client_id,
            body: self.body.clone(),
            internal: self.internal,
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self.state, SendState::Failed(_))
    }
}

/// Unacknowledged sends in the order the user made them, keyed by client_id. A resend
/// always carries the same client_id, so the server stores each reply once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    items: Vec<Pending>,
}

impl Outbox {
    pub fn get(&self, client_id: Uuid) -> Option<&Pending> {
        self.items.iter().find(|p| p.client_id == client_id)
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a send (as `Queued`); false when that client_id is already waiting.
    pub fn push(
        &mut self,
        client_id: Uuid,
        ticket_id: TicketId,
        body: String,
        internal: bool,
    ) -> bool {
        if self.get(client_id).is_some() {
            return false;
        }
        self.items.push(Pending {
            client_id,
            ticket_id,
            body,
            internal,
            state: SendState::Queued,
        });
        true
    }

    pub fn set_state(&mut self, client_id: Uuid, state: SendState) -> Option<TicketId> {
        let p = self.items.iter_mut().find(|p| p.client_id == client_id)?;
        p.state = state;
        Some(p.ticket_id)
    }

    /// Every queued send, in order, now marked as sent over the socket.
    pub fn take_queued(&mut self) -> Vec<ClientFrame> {
        self.items
            .iter_mut()
            .filter(|p| p.state == SendState::Queued)
            .map(|p| {
                p.state = SendState::OnSocket;
                p.frame()
            })
            .collect()
    }

    /// The server stored it (ack, or the REST answer): it leaves the outbox.
    pub fn acked(&mut self, client_id: Uuid) -> Option<Pending> {
        let i = self.items.iter().position(|p| p.client_id == client_id)?;
        Some(self.items.remove(i))
    }

    /// An `error` frame answering a `send`. It names no client_id, but one connection's
    /// frames are handled in order, so it answers the oldest send still on the socket.
    pub fn refused(&mut self, reason: &str) -> Option<TicketId> {
        let p = self
            .items
            .iter_mut()
            .find(|p| p.state == SendState::OnSocket)?;
        p.state = SendState::Failed(reason.to_owned());
        Some(p.ticket_id)
    }

    /// The connection dropped: whatever was on it goes again on the next one. Returns the
    /// tickets whose sends changed state.
    pub fn disconnected(&mut self) -> Vec<TicketId> {
        let mut touched = Vec::new();
        for p in &mut self.items {
            if p.state == SendState::OnSocket {
                p.state = SendState::Queued;
                if !touched.contains(&p.ticket_id) {
                    touched.push(p.ticket_id);
                }
            }
        }
        touched
    }

    /// A failed send the user wants to try again: queued again, same client_id.
    pub fn retry(&mut self, client_id: Uuid) -> Option<TicketId> {
        let p = self
            .items
            .iter_mut()
            .find(|p| p.client_id == client_id && p.is_failed())?;
        p.state = SendState::Queued;
        Some(p.ticket_id)
    }

    pub fn for_ticket(&self, ticket: TicketId) -> Vec<Pending> {
        self.items
            .iter()
            .filter(|p| p.ticket_id == ticket)
            .cloned()
            .collect()
    }
}

/// What one server frame did, for the shell to carry out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Hand the frame to the screens (false: a duplicate, or for a room already left).
    pub deliver: bool,
    /// Frames to send back at once (re-join after `resync`).
    pub reply: Vec<ClientFrame>,
    /// Tickets whose outbox entries changed: screens need a fresh snapshot.
    pub outbox_changed: Vec<TicketId>,
}

/// Rooms, outbox and back-off together: the whole resumable state of one tab's socket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Core {
    pub rooms: Rooms,
    pub outbox: Outbox,
    pub backoff: Backoff,
    /// The authenticated user (from `ready`), to recognise our own receipts.
    pub me: Option<UserId>,
    /// Between `ready` and the close of that connection.
    pub live: bool,
}

impl Core {
    /// Signed out: nothing of this user may leak into the next session.
    pub fn reset(&mut self) {
        *self = Core::default();
    }

    /// `ready` arrived: resume every room from its last seq, repeat unconfirmed reads,
    /// then resend every queued reply with its original client_id.
    pub fn ready(&mut self, me: UserId) -> Vec<ClientFrame> {
        self.me = Some(me);
        self.live = true;
        let mut frames = self.rooms.rejoin_frames();
        frames.extend(self.outbox.take_queued());
        frames
    }

    /// The connection is gone (any cause). Returns tickets whose sends went back to queued.
    pub fn disconnected(&mut self) -> Vec<TicketId> {
        self.live = false;
        self.rooms.disconnected();
        self.outbox.disconnected()
    }

    /// A screen joins `ticket` holding up to `since`: the frame to send now, if any.
    pub fn join(&mut self, ticket: TicketId, since: i64) -> Option<ClientFrame> {
        let fresh = self.rooms.join(ticket, since);
        if fresh && self.live {
            self.rooms.join_frame(ticket)
        } else {
            None
        }
    }

    pub fn leave(&mut self, ticket: TicketId) -> Option<ClientFrame> {
        let left = self.rooms.leave(ticket);
        (left && self.live).then_some(ClientFrame::Leave { ticket_id: ticket })
    }

    pub fn mark_read(&mut self, ticket: TicketId, seq: i64) -> Option<ClientFrame> {
        let frame = self.rooms.mark_read(ticket, seq)?;
        // Offline, `ready` repeats it after the re-join.
        self.live.then_some(frame)
    }

    /// The user sends a reply: queued, and the frame to send now when the socket is live.
    /// `None` while disconnected: the caller may try REST with the same client_id.
    pub fn send(
        &mut self,
        client_id: Uuid,
        ticket: TicketId,
        body: String,
        internal: bool,
    ) -> Option<ClientFrame> {
        if !self.outbox.push(client_id, ticket, body, internal) {
            return None;
        }
        self.flush(client_id)
    }

    /// Retries a failed send; the frame to send now when live.
    pub fn retry(&mut self, client_id: Uuid) -> Option<ClientFrame> {
        self.outbox.retry(client_id)?;
        self.flush(client_id)
    }

    /// A queued send goes out now if the socket is live: the frame, marked as on the socket.
    pub fn flush(&mut self, client_id: Uuid) -> Option<ClientFrame> {
        if !self.live || self.outbox.get(client_id)?.state != SendState::Queued {
            return None;
        }
        self.outbox.set_state(client_id, SendState::OnSocket)?;
        self.outbox.get(client_id).map(Pending::frame)
    }

    /// Applies one server frame (anything but `ready`).
    pub fn on_frame(&mut self, frame: &ServerFrame) -> Outcome {
        let mut out = Outcome {
            deliver: true,
            ..Outcome::default()
        };
        match frame {
            ServerFrame::Message { ticket_id, seq, .. } => {
                out.deliver = self.rooms.observe(*ticket_id, *seq);
            }
            ServerFrame::Ack { client_id, .. } => {
                // The seq mark moves only with `message` frames: an ack can overtake a
                // message with a lower seq that is still on its way.
                out.outbox_changed
                    .extend(self.outbox.acked(*client_id).map(|p| p.ticket_id));
            }
            // A frame over the server's size limit is refused before it is parsed, so
            // its error names no frame; only a reply can be that large.
            ServerFrame::Error {
                reference,
                message,
                code,
            } if reference.as_deref() == Some("send") || code == "frame_too_large" => {
                out.outbox_changed.extend(self.outbox.refused(message));
            }
            ServerFrame::Resync { ticket_id } => {
                out.deliver = false;
                out.reply.extend(self.rooms.join_frame(*ticket_id));
            }
            ServerFrame::Presence { ticket_id, .. } => {
                out.deliver = self.rooms.get(*ticket_id).is_some();
                self.rooms.synced(*ticket_id);
            }
            ServerFrame::Receipt {
                ticket_id,
                user_id,
                seq,
            } => {
                out.deliver = self.rooms.get(*ticket_id).is_some();
                if Some(*user_id) == self.me {
                    self.rooms.read_confirmed(*ticket_id, *seq);
                }
            }
            ServerFrame::Typing { ticket_id, .. }
            | ServerFrame::Joined { ticket_id, .. }
            | ServerFrame::Left { ticket_id, .. } => {
                out.deliver = self.rooms.get(*ticket_id).is_some();
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use relay_protocol::messages::{MessageKind, MessageView};
    use relay_protocol::users::{Role, UserSummary};
    use relay_protocol::MessageId;

    const T: TicketId = TicketId(42);
    const U: TicketId = TicketId(43);

    fn msg(ticket: TicketId, seq: i64) -> MessageView {
        MessageView {
            id: MessageId(seq),
            ticket_id: ticket,
            seq,
            author: None,
            kind: MessageKind::Public,
            internal: false,
            body: "b".into(),
            client_id: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn message(ticket: TicketId, seq: i64) -> ServerFrame {
        ServerFrame::Message {
            ticket_id: ticket,
            seq,
            message: msg(ticket, seq),
        }
    }

    fn join(ticket: TicketId, since: i64) -> ClientFrame {
        ClientFrame::Join {
            ticket_id: ticket,
            since_seq: Some(since),
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn backoff_doubles_from_half_a_second_to_fifteen() {
        let mut b = Backoff::default();
        let delays: Vec<u32> = (0..8).map(|_| b.next_delay_ms(0.5)).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
        assert_eq!(b.attempt(), 8);
        b.reset();
        assert_eq!(b.next_delay_ms(0.5), 500);
    }

    #[test]
    fn backoff_jitter_stays_within_thirty_percent() {
        let mut low = Backoff::default();
        let mut high = Backoff::default();
        assert_eq!(low.next_delay_ms(0.0), 350);
        assert_eq!(high.next_delay_ms(0.999_999), 650);
        for _ in 0..20 {
            low.next_delay_ms(0.0);
            high.next_delay_ms(0.999_999);
        }
        assert_eq!(low.next_delay_ms(0.0), 10_500);
        assert_eq!(high.next_delay_ms(0.999_999), 19_500);
        // Garbage from the random source cannot produce a zero or negative wait.
        assert_eq!(Backoff::default().next_delay_ms(-3.0), 350);
        assert_eq!(Backoff::default().next_delay_ms(f64::NAN), 500);
    }

    #[test]
    fn backoff_survives_endless_failures() {
        let mut b = Backoff::default();
        for _ in 0..100_000 {
            assert!(b.next_delay_ms(0.5) <= 15_000);
        }
    }

    #[test]
    fn close_codes() {
        assert_eq!(after_close(4401), AfterClose::Reauthenticate);
        for code in [1000, 1001, 1006, 1011, 1012, 4429] {
            assert_eq!(after_close(code), AfterClose::Reconnect, "{code}");
        }
    }

    #[test]
    fn socket_url_follows_the_page() {
        assert_eq!(
            socket_url("https:", "desk.example.com"),
            "wss://desk.example.com/ws"
        );
        assert_eq!(
            socket_url("http:", "127.0.0.1:8080"),
            "ws://127.0.0.1:8080/ws"
        );
    }

    #[test]
    fn last_seq_never_moves_backwards_and_drops_duplicates() {
        let mut rooms = Rooms::default();
        assert!(rooms.join(T, 17));
        assert!(!rooms.observe(T, 17), "already held");
        assert!(rooms.observe(T, 18));
        assert!(
            rooms.observe(T, 25),
            "a gap is not a loss (hidden internal notes)"
        );
        assert!(!rooms.observe(T, 20), "older");
        assert!(!rooms.observe(T, 25), "duplicate");
        assert_eq!(rooms.get(T).unwrap().last_seq, 25);
        assert!(!rooms.observe(U, 1), "not joined");
        assert!(rooms.join(U, -5));
        assert_eq!(rooms.get(U).unwrap().last_seq, 0);
    }

    #[test]
    fn rooms_are_held_until_the_last_holder_leaves() {
        let mut rooms = Rooms::default();
        assert!(rooms.join(T, 3));
        assert!(!rooms.join(T, 0), "second holder shares the stream");
        assert_eq!(rooms.get(T).unwrap().last_seq, 3, "no rewind");
        assert!(!rooms.leave(T));
        assert!(rooms.leave(T));
        assert!(rooms.get(T).is_none());
        assert!(!rooms.leave(T));
        assert!(!rooms.observe(T, 9), "messages for a left room are dropped");
    }

    #[test]
    fn reads_never_go_backwards_and_are_repeated_until_confirmed() {
        let mut rooms = Rooms::default();
        assert_eq!(rooms.mark_read(T, 3), None, "not joined");
        rooms.join(T, 0);
        assert_eq!(
            rooms.mark_read(T, 5),
            Some(ClientFrame::Read {
                ticket_id: T,
                seq: 5
            })
        );
        assert_eq!(rooms.mark_read(T, 5), None);
        assert_eq!(rooms.mark_read(T, 4), None);
        // Not confirmed yet: a reconnect repeats it after the join.
        assert_eq!(
            rooms.rejoin_frames(),
            [
                join(T, 0),
                ClientFrame::Read {
                    ticket_id: T,
                    seq: 5
                }
            ]
        );
        rooms.read_confirmed(T, 5);
        assert_eq!(rooms.rejoin_frames(), [join(T, 0)]);
        // Read elsewhere (another tab) further: nothing new to say here.
        rooms.read_confirmed(T, 9);
        assert_eq!(rooms.mark_read(T, 8), None);
    }

    #[test]
    fn outbox_resends_with_the_same_client_id() {
        let mut core = Core::default();
        // Offline: queued, nothing to send yet.
        assert_eq!(core.send(id(1), T, "hello".into(), false), None);
        assert_eq!(core.send(id(2), U, "note".into(), true), None);
        assert_eq!(core.send(id(1), T, "hello".into(), false), None, "dedup");
        core.rooms.join(T, 4);
        let frames = core.ready(relay_protocol::UserId(7));
        assert_eq!(
            frames,
            [
                join(T, 4),
                ClientFrame::Send {
                    ticket_id: T,
                    client_id: id(1),
                    body: "hello".into(),
                    internal: false
                },
                ClientFrame::Send {
                    ticket_id: U,
                    client_id: id(2),
                    body: "note".into(),
                    internal: true
                },
            ]
        );
        // The connection drops before any ack: both go again, same ids, same order.
        assert_eq!(core.disconnected(), [T, U]);
        let again = core.ready(relay_protocol::UserId(7));
        let ids: Vec<Uuid> = again
            .iter()
            .filter_map(|f| match f {
                ClientFrame::Send { client_id, .. } => Some(*client_id),
                _ => None,
            })
            .collect();
        assert_eq!(ids, [id(1), id(2)]);
        // The ack removes it.
        let out = core.on_frame(&ServerFrame::Ack {
            client_id: id(1),
            message: msg(T, 5),
        });
        assert!(out.deliver);
        assert_eq!(out.outbox_changed, [T]);
        assert!(core.outbox.get(id(1)).is_none());
        assert_eq!(core.outbox.for_ticket(U).len(), 1);
    }

    #[test]
    fn ack_does_not_move_the_seq_mark() {
        let mut core = Core::default();
        core.rooms.join(T, 10);
        core.ready(relay_protocol::UserId(7));
        core.send(id(1), T, "x".into(), false);
        core.on_frame(&ServerFrame::Ack {
            client_id: id(1),
            message: msg(T, 12),
        });
        // Message 11 (someone else's) was overtaken by our ack: it must still get through.
        assert!(core.on_frame(&message(T, 11)).deliver);
        assert!(core.on_frame(&message(T, 12)).deliver);
        assert!(!core.on_frame(&message(T, 12)).deliver);
    }

    #[test]
    fn a_send_error_fails_the_oldest_send_on_the_socket() {
        let mut core = Core::default();
        core.ready(relay_protocol::UserId(7));
        assert!(core.send(id(1), T, "a".into(), false).is_some());
        assert!(core.send(id(2), T, "b".into(), false).is_some());
        let out = core.on_frame(&ServerFrame::Error {
            code: "forbidden".into(),
            message: "ticket is closed".into(),
            reference: Some("send".into()),
        });
        assert_eq!(out.outbox_changed, [T]);
        assert_eq!(
            core.outbox.get(id(1)).unwrap().state,
            SendState::Failed("ticket is closed".into())
        );
        assert_eq!(core.outbox.get(id(2)).unwrap().state, SendState::OnSocket);
        // Failed sends are not resent by a reconnect...
        core.disconnected();
        let frames = core.ready(relay_protocol::UserId(7));
        assert_eq!(frames.len(), 1);
        // ...only when the user retries, with the same id.
        assert_eq!(
            core.retry(id(1)),
            Some(ClientFrame::Send {
                ticket_id: T,
                client_id: id(1),
                body: "a".into(),
                internal: false
            })
        );
        assert_eq!(core.retry(id(1)), None, "already on its way");
        // Errors about other frames leave the outbox alone.
        let out = core.on_frame(&ServerFrame::Error {
            code: "not_joined".into(),
            message: "join first".into(),
            reference: Some("typing".into()),
        });
        assert!(out.outbox_changed.is_empty());
        // An oversized frame is refused before the server knows it was a `send`.
        let mut core = Core::default();
        core.ready(relay_protocol::UserId(7));
        core.send(id(3), T, "huge".into(), false);
        let out = core.on_frame(&ServerFrame::Error {
            code: "frame_too_large".into(),
            message: "frames are limited to 64 KiB".into(),
            reference: None,
        });
        assert_eq!(out.outbox_changed, [T]);
        assert!(core.outbox.get(id(3)).unwrap().is_failed());
    }

    #[test]
    fn rest_sends_are_not_resent_over_the_socket() {
        let mut core = Core::default();
        assert_eq!(core.send(id(1), T, "a".into(), false), None);
        core.outbox.set_state(id(1), SendState::OnRest);
        assert!(core.ready(relay_protocol::UserId(7)).is_empty());
        assert!(core.disconnected().is_empty());
        // The REST answer acknowledges it.
        assert!(core.outbox.acked(id(1)).is_some());
        assert!(core.outbox.is_empty());
    }

    #[test]
    fn resync_rejoins_from_the_last_seq_held() {
        let mut core = Core::default();
        core.rooms.join(T, 0);
        core.ready(relay_protocol::UserId(7));
        core.on_frame(&message(T, 1));
        core.on_frame(&message(T, 2));
        let out = core.on_frame(&ServerFrame::Resync { ticket_id: T });
        assert!(!out.deliver);
        assert_eq!(out.reply, [join(T, 2)]);
        assert!(core
            .on_frame(&ServerFrame::Resync { ticket_id: U })
            .reply
            .is_empty());
    }

    #[test]
    fn reconnect_rejoins_every_room_with_its_last_seq() {
        let mut core = Core::default();
        assert_eq!(core.join(T, 3), None, "not live yet: sent on ready");
        assert_eq!(core.ready(relay_protocol::UserId(7)), [join(T, 3)]);
        assert_eq!(core.join(U, 0), Some(join(U, 0)));
        assert_eq!(core.join(U, 0), None, "second holder");
        core.on_frame(&message(T, 8));
        core.on_frame(&message(U, 2));
        core.disconnected();
        assert!(!core.rooms.get(T).unwrap().synced);
        assert_eq!(
            core.ready(relay_protocol::UserId(7)),
            [join(T, 8), join(U, 2)]
        );
        assert_eq!(core.leave(U), None);
        assert_eq!(core.leave(U), Some(ClientFrame::Leave { ticket_id: U }));
        core.disconnected();
        assert_eq!(core.leave(T), None, "offline: nothing to tell the server");
        assert!(core.ready(relay_protocol::UserId(7)).is_empty());
    }

    #[test]
    fn presence_ends_the_replay_and_room_frames_need_the_room() {
        let mut core = Core::default();
        core.rooms.join(T, 0);
        core.ready(relay_protocol::UserId(7));
        assert!(!core.rooms.get(T).unwrap().synced);
        let out = core.on_frame(&ServerFrame::Presence {
            ticket_id: T,
            users: Vec::new(),
        });
        assert!(out.deliver);
        assert!(core.rooms.get(T).unwrap().synced);
        let stranger = UserSummary {
            id: relay_protocol::UserId(9),
            name: "Tara".into(),
            role: Role::Technician,
        };
        assert!(
            !core
                .on_frame(&ServerFrame::Joined {
                    ticket_id: U,
                    user: stranger.clone()
                })
                .deliver
        );
        assert!(
            core.on_frame(&ServerFrame::Joined {
                ticket_id: T,
                user: stranger
            })
            .deliver
        );
    }

    #[test]
    fn own_receipts_confirm_reads() {
        let mut core = Core::default();
        core.rooms.join(T, 0);
        core.ready(relay_protocol::UserId(7));
        assert!(core.mark_read(T, 4).is_some());
        let other = core.on_frame(&ServerFrame::Receipt {
            ticket_id: T,
            user_id: relay_protocol::UserId(9),
            seq: 6,
        });
        assert!(other.deliver);
        assert_eq!(core.rooms.get(T).unwrap().read_confirmed, 0);
        core.on_frame(&ServerFrame::Receipt {
            ticket_id: T,
            user_id: relay_protocol::UserId(7),
            seq: 4,
        });
        assert_eq!(core.rooms.get(T).unwrap().read_confirmed, 4);
        core.disconnected();
        assert_eq!(core.mark_read(T, 6), None, "offline: remembered...");
        assert_eq!(
            core.ready(relay_protocol::UserId(7)),
            [
                join(T, 0),
                ClientFrame::Read {
                    ticket_id: T,
                    seq: 6
                }
            ],
            "...and said after the re-join"
        );
    }

    #[test]
    fn reset_forgets_everything() {
        let mut core = Core::default();
        core.rooms.join(T, 3);
        core.send(id(1), T, "x".into(), false);
        core.backoff.next_delay_ms(0.5);
        core.reset();
        assert_eq!(core, Core::default());
    }
}

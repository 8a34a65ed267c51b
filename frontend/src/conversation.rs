//! A ticket's conversation as the client holds it: messages ordered by `seq`, merged from
//! any source (the first REST load, the WebSocket replay and live stream, acks) without gaps
//! or duplicates, and the live room around it (pending replies, presence, receipts, typing).

use std::collections::BTreeMap;
use std::rc::Rc;

use relay_protocol::messages::{MessageKind, MessageView};
use relay_protocol::users::UserSummary;
use relay_protocol::ws::{ServerFrame, TypingState};
use relay_protocol::{TicketId, UserId};
use yew::Reducible;

use crate::ws::book::Pending;
use crate::ws::typing::TypingSet;
use crate::ws::WsEvent;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The ticket these messages belong to; answers for any other ticket (a request still
    /// in flight when the user moved on) are ignored.
    pub ticket: Option<TicketId>,
    /// Ascending `seq`, unique.
    pub messages: Vec<MessageView>,
}

impl Timeline {
    /// The highest `seq` held: what to pass as `after_seq` / `since_seq` to catch up.
    pub fn last_seq(&self) -> i64 {
        self.messages.last().map_or(0, |m| m.seq)
    }

    /// Adds messages, replacing any already held with the same `seq` (the server's copy
    /// wins), keeping the order. Returns whether anything changed.
    pub fn merge(&mut self, incoming: impl IntoIterator<Item = MessageView>) -> bool {
        let mut changed = false;
        for msg in incoming {
            if Some(msg.ticket_id) != self.ticket {
                continue;
            }
            match self.messages.binary_search_by_key(&msg.seq, |m| m.seq) {
                Ok(i) if self.messages[i] == msg => {}
                Ok(i) => {
                    self.messages[i] = msg;
                    changed = true;
                }
                Err(i) => {
                    self.messages.insert(i, msg);
                    changed = true;
                }
            }
        }
        changed
    }
}

/// The server refuses longer replies (its `MAX_BODY_CHARS`).
pub const MAX_REPLY_CHARS: usize = 20_000;
/// The server refuses WebSocket frames over 64 KiB; leave room for the JSON around the body.
const MAX_REPLY_BYTES: usize = 60 * 1024;

/// Why `body` cannot be sent as it is, in words for the composer; `None` when it can.
pub fn reply_problem(body: &str) -> Option<String> {
    let chars = body.trim().chars().count();
    if chars > MAX_REPLY_CHARS {
        return Some(format!(
            "Replies are limited to {MAX_REPLY_CHARS} characters; this one has {chars}."
        ));
    }
    // JSON escapes (quotes, newlines, control characters) can double a few characters.
    let encoded = serde_json::to_string(body.trim()).map_or(usize::MAX, |s| s.len());
    if encoded > MAX_REPLY_BYTES {
        return Some("This reply is too large to send in one message: split it up.".into());
    }
    None
}

/// A ticket room as its screen holds it: the timeline plus everything live around it
/// (replies on their way, presence, read receipts, who is typing). Fed by the first REST
/// load and by the socket's events; duplicates from either side are harmless.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Room {
    pub timeline: Timeline,
    /// The signed-in user: their own messages get read ticks, their typing is not shown.
    pub me: Option<UserId>,
    /// This ticket's replies the server has not acknowledged, in the order sent.
    pub pending: Rc<Vec<Pending>>,
    /// Everyone in the room (on any instance), once each.
    pub presence: Vec<UserSummary>,
    /// Highest seq each participant has read.
    pub receipts: BTreeMap<UserId, i64>,
    pub typing: TypingSet,
    /// The socket's replay after the latest join is complete.
    pub synced: bool,
}

/// How far one of the user's own messages has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Stored by the server (✓).
    Sent,
    /// Someone else has read up to it (✓✓).
    Read,
}

pub enum RoomAction {
    /// Start over for this ticket, with the replies already waiting in the outbox.
    Reset {
        ticket: TicketId,
        me: Option<UserId>,
        pending: Vec<Pending>,
    },
    /// A page of history from REST.
    Loaded(Vec<MessageView>),
    /// A socket event, at `now` (ms, for typing expiry).
    Event(WsEvent, f64),
    /// Time passes: typing indicators expire.
    Tick(f64),
}

impl Room {
    pub fn ticket(&self) -> Option<TicketId> {
        self.timeline.ticket
    }

    /// Replies still on their way: the outbox minus any whose message already arrived
    /// (the room's `message` frame can overtake the `ack`).
    pub fn unconfirmed(&self) -> Vec<&Pending> {
        self.pending
            .iter()
            .filter(|p| {
                !self
                    .timeline
                    .messages
                    .iter()
                    .any(|m| m.client_id == Some(p.client_id))
            })
            .collect()
    }

    fn read_by_others(&self, seq: i64) -> bool {
        self.receipts
            .iter()
            .any(|(user, read)| Some(*user) != self.me && *read >= seq)
    }

    /// Read ticks, for the user's own messages only.
    pub fn tick(&self, m: &MessageView) -> Option<Tick> {
        let mine = self.me.is_some() && m.author.as_ref().map(|a| a.id) == self.me;
        if !mine {
            return None;
        }
        Some(if self.read_by_others(m.seq) {
            Tick::Read
        } else {
            Tick::Sent
        })
    }

    /// Messages from other people after `seq`: the collision guard's count.
    pub fn arrived_since(&self, seq: i64) -> usize {
        self.timeline
            .messages
            .iter()
            .filter(|m| m.seq > seq && m.kind != MessageKind::System)
            .filter(|m| m.author.as_ref().map(|a| a.id) != self.me || self.me.is_none())
            .count()
    }

    /// Everyone else in the room.
    pub fn others_present(&self) -> impl Iterator<Item = &UserSummary> {
        self.presence.iter().filter(move |u| Some(u.id) != self.me)
    }

    pub fn typing_names(&self, now: f64) -> Vec<String> {
        self.typing.names(now, self.me)
    }

    /// Applies one event; false when it changed nothing.
    fn apply(&mut self, event: WsEvent, now: f64) -> bool {
        let frame = match event {
            WsEvent::Outbox { ticket_id, pending } => {
                if Some(ticket_id) != self.ticket() || self.pending == pending {
                    return false;
                }
                self.pending = pending;
                return true;
            }
            WsEvent::Frame(frame) => frame,
        };
        let here = |t: &TicketId| Some(*t) == self.timeline.ticket;
        match &*frame {
            ServerFrame::Message { message, .. } | ServerFrame::Ack { message, .. } => {
                let stopped = message
                    .author
                    .as_ref()
                    .is_some_and(|a| self.typing.stop(a.id));
                self.timeline.merge([message.clone()]) || stopped
            }
            ServerFrame::Typing {
                ticket_id,
                user,
                state,
            } if here(ticket_id) && Some(user.id) != self.me => match state {
                TypingState::Start => {
                    self.typing.start(user.id, &user.name, now);
                    true
                }
                TypingState::Stop => self.typing.stop(user.id),
            },
            ServerFrame::Receipt {
                ticket_id,
                user_id,
                seq,
            } if here(ticket_id) => {
                let read = self.receipts.entry(*user_id).or_insert(0);
                if *seq > *read {
                    *read = *seq;
                    true
                } else {
                    false
                }
            }
            ServerFrame::Presence { ticket_id, users } if here(ticket_id) => {
                let mut unique: Vec<UserSummary> = Vec::with_capacity(users.len());
                for u in users {
                    if !unique.iter().any(|x| x.id == u.id) {
                        unique.push(u.clone());
                    }
                }
                self.typing.retain(|id| unique.iter().any(|u| u.id == id));
                self.presence = unique;
                self.synced = true;
                true
            }
            ServerFrame::Joined { ticket_id, user } if here(ticket_id) => {
                if self.presence.iter().any(|u| u.id == user.id) {
                    false
                } else {
                    self.presence.push(user.clone());
                    true
                }
            }
            ServerFrame::Left { ticket_id, user } if here(ticket_id) => {
                let before = self.presence.len();
                self.presence.retain(|u| u.id != user.id);
                let stopped = self.typing.stop(user.id);
                before != self.presence.len() || stopped
            }
            _ => false,
        }
    }
}

impl Reducible for Room {
    type Action = RoomAction;

    fn reduce(self: Rc<Self>, action: RoomAction) -> Rc<Self> {
        match action {
            RoomAction::Reset {
                ticket,
                me,
                pending,
            } => Rc::new(Room {
                timeline: Timeline {
                    ticket: Some(ticket),
                    messages: Vec::new(),
                },
                me,
                pending: Rc::new(pending),
                ..Room::default()
            }),
            RoomAction::Loaded(msgs) => {
                let mut next = (*self).clone();
                if next.timeline.merge(msgs) {
                    Rc::new(next)
                } else {
                    // Same Rc: no re-render for a page that brought nothing new.
                    self
                }
            }
            RoomAction::Event(event, now) => {
                let mut next = (*self).clone();
                if next.apply(event, now) {
                    Rc::new(next)
                } else {
                    self
                }
            }
            RoomAction::Tick(now) => {
                let mut next = (*self).clone();
                if next.typing.expire(now) {
                    Rc::new(next)
                } else {
                    self
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::book::SendState;
    use chrono::{TimeZone, Utc};
    use relay_protocol::users::Role;
    use relay_protocol::ws::TypingUser;
    use relay_protocol::MessageId;
    use uuid::Uuid;

    const ME: UserId = UserId(7);
    const TARA: UserId = UserId(9);

    fn msg(seq: i64, body: &str) -> MessageView {
        msg_in(1, seq, body)
    }

    fn msg_in(ticket: i64, seq: i64, body: &str) -> MessageView {
        MessageView {
            id: MessageId(1000 * ticket + seq),
            ticket_id: TicketId(ticket),
            seq,
            author: None,
            kind: MessageKind::Public,
            internal: false,
            body: body.into(),
            client_id: None,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn person(id: UserId, name: &str) -> UserSummary {
        UserSummary {
            id,
            name: name.into(),
            role: Role::Technician,
        }
    }

    fn by(author: UserId, seq: i64) -> MessageView {
        let mut m = msg(seq, "x");
        m.author = Some(person(author, if author == ME { "Me" } else { "Tara" }));
        m
    }

    fn seqs(t: &Timeline) -> Vec<i64> {
        t.messages.iter().map(|m| m.seq).collect()
    }

    fn room() -> Rc<Room> {
        Rc::new(Room::default()).reduce(RoomAction::Reset {
            ticket: TicketId(1),
            me: Some(ME),
            pending: Vec::new(),
        })
    }

    fn frame(f: ServerFrame) -> RoomAction {
        RoomAction::Event(WsEvent::Frame(Rc::new(f)), 0.0)
    }

    fn frame_at(f: ServerFrame, now: f64) -> RoomAction {
        RoomAction::Event(WsEvent::Frame(Rc::new(f)), now)
    }

    fn live(m: MessageView) -> RoomAction {
        frame(ServerFrame::Message {
            ticket_id: m.ticket_id,
            seq: m.seq,
            message: m,
        })
    }

    fn receipt(user: UserId, seq: i64) -> RoomAction {
        frame(ServerFrame::Receipt {
            ticket_id: TicketId(1),
            user_id: user,
            seq,
        })
    }

    fn pending(n: u128) -> Pending {
        Pending {
            client_id: Uuid::from_u128(n),
            ticket_id: TicketId(1),
            body: "hello".into(),
            internal: false,
            state: SendState::OnSocket,
        }
    }

    #[test]
    fn merge_orders_and_dedupes() {
        let mut t = Timeline {
            ticket: Some(TicketId(1)),
            messages: Vec::new(),
        };
        assert_eq!(t.last_seq(), 0);
        assert!(t.merge(vec![msg(3, "c"), msg(1, "a")]));
        assert!(t.merge(vec![msg(2, "b"), msg(3, "c")]));
        assert_eq!(seqs(&t), [1, 2, 3]);
        assert_eq!(t.last_seq(), 3);
        // A replay of what we hold changes nothing.
        assert!(!t.merge(vec![msg(1, "a"), msg(2, "b")]));
        // The server's copy wins.
        assert!(t.merge(vec![msg(2, "b (edited)")]));
        assert_eq!(t.messages[1].body, "b (edited)");
    }

    #[test]
    fn late_answers_for_another_ticket_are_ignored() {
        let state = Rc::new(Room::default()).reduce(RoomAction::Reset {
            ticket: TicketId(2),
            me: None,
            pending: Vec::new(),
        });
        let same = state
            .clone()
            .reduce(RoomAction::Loaded(vec![msg_in(1, 1, "old")]));
        assert!(Rc::ptr_eq(&state, &same));
        let next = same.reduce(RoomAction::Loaded(vec![
            msg_in(1, 2, "old"),
            msg_in(2, 1, "new"),
        ]));
        assert_eq!(next.timeline.messages.len(), 1);
        assert_eq!(next.timeline.messages[0].body, "new");
        // Before any Reset nothing is accepted.
        assert!(!Timeline::default().merge(vec![msg(1, "a")]));
    }

    #[test]
    fn rest_page_replay_and_live_frames_merge_without_duplicates() {
        let r = room().reduce(RoomAction::Loaded(vec![msg(1, "a"), msg(2, "b")]));
        let r = r.reduce(live(msg(2, "b")));
        let r = r.reduce(live(msg(3, "c")));
        let same = r.clone().reduce(live(msg(3, "c")));
        assert!(Rc::ptr_eq(&r, &same), "a duplicate does not re-render");
        assert_eq!(seqs(&r.timeline), [1, 2, 3]);
    }

    #[test]
    fn ack_confirms_the_pending_reply_even_before_the_outbox_update() {
        let r = room().reduce(RoomAction::Event(
            WsEvent::Outbox {
                ticket_id: TicketId(1),
                pending: Rc::new(vec![pending(1), pending(2)]),
            },
            0.0,
        ));
        assert_eq!(r.unconfirmed().len(), 2);
        let mut stored = by(ME, 4);
        stored.client_id = Some(Uuid::from_u128(1));
        let r = r.reduce(frame(ServerFrame::Ack {
            client_id: Uuid::from_u128(1),
            message: stored,
        }));
        let left: Vec<Uuid> = r.unconfirmed().iter().map(|p| p.client_id).collect();
        assert_eq!(left, [Uuid::from_u128(2)]);
        assert_eq!(r.timeline.last_seq(), 4);
        // An outbox snapshot for another ticket is not ours.
        let same = r.clone().reduce(RoomAction::Event(
            WsEvent::Outbox {
                ticket_id: TicketId(2),
                pending: Rc::new(Vec::new()),
            },
            0.0,
        ));
        assert!(Rc::ptr_eq(&r, &same));
    }

    #[test]
    fn ticks_turn_double_when_someone_else_reads() {
        let r = room().reduce(RoomAction::Loaded(vec![by(ME, 1), by(TARA, 2), by(ME, 3)]));
        let ticks = |r: &Room| -> Vec<Option<Tick>> {
            r.timeline.messages.iter().map(|m| r.tick(m)).collect()
        };
        assert_eq!(ticks(&r), [Some(Tick::Sent), None, Some(Tick::Sent)]);
        // My own receipt is not someone else reading.
        let r = r.reduce(receipt(ME, 3));
        assert_eq!(ticks(&r), [Some(Tick::Sent), None, Some(Tick::Sent)]);
        let r = r.reduce(receipt(TARA, 2));
        assert_eq!(ticks(&r), [Some(Tick::Read), None, Some(Tick::Sent)]);
        // Receipts never go backwards.
        let same = r.clone().reduce(receipt(TARA, 1));
        assert!(Rc::ptr_eq(&r, &same));
        let r = r.reduce(receipt(TARA, 3));
        assert_eq!(ticks(&r), [Some(Tick::Read), None, Some(Tick::Read)]);
    }

    #[test]
    fn typing_appears_expires_and_stops_with_a_message() {
        let typing = |user: UserId, state| ServerFrame::Typing {
            ticket_id: TicketId(1),
            user: TypingUser {
                id: user,
                name: if user == ME {
                    "Me".into()
                } else {
                    "Tara".into()
                },
            },
            state,
        };
        let r = room().reduce(frame_at(typing(TARA, TypingState::Start), 1_000.0));
        assert_eq!(r.typing_names(1_500.0), ["Tara"]);
        // My own typing (another tab) is never shown.
        let r = r.reduce(frame_at(typing(ME, TypingState::Start), 1_000.0));
        assert_eq!(r.typing_names(1_500.0), ["Tara"]);
        let r = r.reduce(RoomAction::Tick(7_999.0));
        assert_eq!(r.typing_names(7_999.0), ["Tara"]);
        let r = r.reduce(RoomAction::Tick(8_000.0));
        assert!(r.typing.is_empty());
        let r = r.reduce(frame_at(typing(TARA, TypingState::Start), 9_000.0));
        let r = r.reduce(live(by(TARA, 5)));
        assert!(r.typing.is_empty(), "her message ends her typing");
        let r = r.reduce(frame_at(typing(TARA, TypingState::Start), 9_000.0));
        let r = r.reduce(frame_at(typing(TARA, TypingState::Stop), 9_100.0));
        assert!(r.typing.is_empty());
    }

    #[test]
    fn presence_snapshot_then_joins_and_leaves() {
        let r = room();
        assert!(!r.synced);
        let r = r.reduce(frame(ServerFrame::Presence {
            ticket_id: TicketId(1),
            users: vec![person(ME, "Me"), person(TARA, "Tara"), person(TARA, "Tara")],
        }));
        assert!(r.synced, "presence ends the replay");
        let others: Vec<UserId> = r.others_present().map(|u| u.id).collect();
        assert_eq!(others, [TARA]);
        let sam = person(UserId(11), "Sam");
        let r = r.reduce(frame(ServerFrame::Joined {
            ticket_id: TicketId(1),
            user: sam.clone(),
        }));
        let same = r.clone().reduce(frame(ServerFrame::Joined {
            ticket_id: TicketId(1),
            user: sam.clone(),
        }));
        assert!(Rc::ptr_eq(&r, &same), "present once");
        let r = r.reduce(frame(ServerFrame::Left {
            ticket_id: TicketId(1),
            user: person(TARA, "Tara"),
        }));
        let others: Vec<UserId> = r.others_present().map(|u| u.id).collect();
        assert_eq!(others, [UserId(11)]);
        // Another room's presence is not ours.
        let same = r.clone().reduce(frame(ServerFrame::Joined {
            ticket_id: TicketId(2),
            user: person(TARA, "Tara"),
        }));
        assert!(Rc::ptr_eq(&r, &same));
    }

    #[test]
    fn replies_over_the_server_limits_are_caught_before_sending() {
        assert_eq!(reply_problem("hello"), None);
        assert_eq!(reply_problem(&"a".repeat(MAX_REPLY_CHARS)), None);
        // Surrounding whitespace is trimmed before sending, so it does not count.
        assert_eq!(
            reply_problem(&format!("  {}\n", "a".repeat(MAX_REPLY_CHARS))),
            None
        );
        assert!(reply_problem(&"a".repeat(MAX_REPLY_CHARS + 1))
            .unwrap()
            .contains("20000 characters"));
        // 20 000 four-byte characters fit the character limit but not one 64 KiB frame.
        assert!(reply_problem(&"😀".repeat(MAX_REPLY_CHARS))
            .unwrap()
            .contains("too large"));
    }

    #[test]
    fn collision_guard_counts_other_peoples_messages_since_a_seq() {
        let r = room().reduce(RoomAction::Loaded(vec![by(TARA, 1), by(ME, 2)]));
        let started = r.timeline.last_seq();
        assert_eq!(r.arrived_since(started), 0);
        let r = r.reduce(live(by(ME, 3)));
        assert_eq!(r.arrived_since(started), 0, "my own messages do not count");
        let mut system = msg(4, "escalated");
        system.kind = MessageKind::System;
        let r = r.reduce(live(system));
        assert_eq!(r.arrived_since(started), 0, "nor desk notices");
        let r = r.reduce(live(by(TARA, 5)));
        let r = r.reduce(live(by(TARA, 6)));
        assert_eq!(r.arrived_since(started), 2);
        assert_eq!(r.arrived_since(r.timeline.last_seq()), 0);
    }
}

//! A ticket's conversation as the client holds it: messages ordered by `seq`, merged from
//! any source (first load, polling, and the WebSocket replay/live stream later) without gaps
//! or duplicates, plus the client_id bookkeeping that makes a resend idempotent.

use std::rc::Rc;

use relay_protocol::messages::MessageView;
use relay_protocol::TicketId;
use uuid::Uuid;
use yew::Reducible;

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

pub enum TimelineAction {
    /// Start over for this ticket.
    Reset(TicketId),
    Arrived(Vec<MessageView>),
}

impl Reducible for Timeline {
    type Action = TimelineAction;

    fn reduce(self: Rc<Self>, action: TimelineAction) -> Rc<Self> {
        match action {
            TimelineAction::Reset(ticket) => Rc::new(Timeline {
                ticket: Some(ticket),
                messages: Vec::new(),
            }),
            TimelineAction::Arrived(msgs) => {
                let mut next = (*self).clone();
                if next.merge(msgs) {
                    Rc::new(next)
                } else {
                    // Same Rc: no re-render for a poll that brought nothing new.
                    self
                }
            }
        }
    }
}

/// A reply that was sent but not confirmed (network error, 5xx, tab asleep).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSend {
    pub client_id: Uuid,
    pub body: String,
    pub internal: bool,
}

/// The client_id for sending `body`: the pending one when this is a resend of exactly the
/// same reply (so the server returns the message it may already have stored instead of a
/// duplicate), a fresh one otherwise.
pub fn client_id_for(
    pending: Option<&PendingSend>,
    body: &str,
    internal: bool,
    fresh: impl FnOnce() -> Uuid,
) -> Uuid {
    match pending {
        Some(p) if p.body == body && p.internal == internal => p.client_id,
        _ => fresh(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use relay_protocol::messages::MessageKind;
    use relay_protocol::MessageId;

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

    fn seqs(t: &Timeline) -> Vec<i64> {
        t.messages.iter().map(|m| m.seq).collect()
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
    fn reducer_keeps_the_same_state_when_nothing_arrives() {
        let state = Rc::new(Timeline::default()).reduce(TimelineAction::Reset(TicketId(1)));
        let state = state.reduce(TimelineAction::Arrived(vec![msg(1, "a")]));
        assert_eq!(state.messages.len(), 1);
        let again = state
            .clone()
            .reduce(TimelineAction::Arrived(vec![msg(1, "a")]));
        assert!(Rc::ptr_eq(&state, &again));
        let reset = again.reduce(TimelineAction::Reset(TicketId(2)));
        assert!(reset.messages.is_empty());
    }

    #[test]
    fn late_answers_for_another_ticket_are_ignored() {
        let state = Rc::new(Timeline::default()).reduce(TimelineAction::Reset(TicketId(2)));
        let same = state
            .clone()
            .reduce(TimelineAction::Arrived(vec![msg_in(1, 1, "old")]));
        assert!(Rc::ptr_eq(&state, &same));
        let next = same.reduce(TimelineAction::Arrived(vec![
            msg_in(1, 2, "old"),
            msg_in(2, 1, "new"),
        ]));
        assert_eq!(next.messages.len(), 1);
        assert_eq!(next.messages[0].body, "new");
        // Before any Reset nothing is accepted.
        assert!(!Timeline::default().merge(vec![msg(1, "a")]));
    }

    #[test]
    fn resend_of_the_same_reply_reuses_its_client_id() {
        let id = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let pending = PendingSend {
            client_id: id,
            body: "hello".into(),
            internal: false,
        };
        assert_eq!(client_id_for(Some(&pending), "hello", false, || other), id);
        // Edited text or a flipped internal toggle is a different message.
        assert_eq!(
            client_id_for(Some(&pending), "hello!", false, || other),
            other
        );
        assert_eq!(
            client_id_for(Some(&pending), "hello", true, || other),
            other
        );
        assert_eq!(client_id_for(None, "hello", false, || other), other);
    }

    #[test]
    fn fresh_ids_are_v4() {
        let id = client_id_for(None, "x", false, Uuid::new_v4);
        assert_eq!(id.get_version_num(), 4);
    }
}

//! The board's state: every ticket it knows, grouped into status columns, with moves shown
//! at once and settled by the server's answer (or undone on error). Plain Rust, host-tested.

use std::collections::BTreeMap;
use std::rc::Rc;

use relay_protocol::tickets::{TicketStatus, TicketView};
use relay_protocol::{TicketId, UserId};
use yew::Reducible;

/// The working columns, left to right. Closed tickets have a collapsed column of their own.
pub const COLUMNS: [TicketStatus; 5] = [
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Pending,
    TicketStatus::Blocked,
    TicketStatus::Resolved,
];

/// Every place a card can go, the closed column last.
pub const TARGETS: [TicketStatus; 6] = [
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Pending,
    TicketStatus::Blocked,
    TicketStatus::Resolved,
    TicketStatus::Closed,
];

/// A move the server has not confirmed yet; `token` tells an old answer from a newer move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub to: TicketStatus,
    pub token: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    pub tickets: BTreeMap<TicketId, TicketView>,
    pub moving: BTreeMap<TicketId, Move>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BoardAction {
    /// A fresh load: replaces what the board holds, except copies that are newer (a live
    /// frame that overtook the request).
    Loaded(Vec<TicketView>),
    /// A ticket created or changed anywhere (socket frame or REST answer).
    Upsert(TicketView),
    MoveStarted {
        id: TicketId,
        to: TicketStatus,
        token: u64,
    },
    MoveSucceeded {
        ticket: TicketView,
        token: u64,
    },
    /// Undo: the card goes back to the last status the server confirmed.
    MoveFailed {
        id: TicketId,
        token: u64,
    },
}

/// Which cards to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Assignee {
    #[default]
    Anyone,
    Me,
    Nobody,
}

impl Assignee {
    pub const ALL: [Assignee; 3] = [Assignee::Anyone, Assignee::Me, Assignee::Nobody];

    pub fn key(self) -> &'static str {
        match self {
            Assignee::Anyone => "anyone",
            Assignee::Me => "me",
            Assignee::Nobody => "nobody",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Assignee::Anyone => "Everyone's tickets",
            Assignee::Me => "Assigned to me",
            Assignee::Nobody => "Unassigned",
        }
    }

    pub fn from_key(key: &str) -> Assignee {
        Assignee::ALL
            .into_iter()
            .find(|a| a.key() == key)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub assignee: Assignee,
    /// Matches number, title or requester name, case-insensitive.
    pub text: String,
}

impl Filter {
    pub fn admits(&self, t: &TicketView, me: Option<UserId>) -> bool {
        let who = match self.assignee {
            Assignee::Anyone => true,
            Assignee::Me => me.is_some() && t.assignee.as_ref().map(|a| a.id) == me,
            Assignee::Nobody => t.assignee.is_none(),
        };
        let text = self.text.trim().to_lowercase();
        who && (text.is_empty()
            || t.number.to_lowercase().contains(&text)
            || t.title.to_lowercase().contains(&text)
            || t.requester.name.to_lowercase().contains(&text))
    }

    pub fn is_active(&self) -> bool {
        self.assignee != Assignee::Anyone || !self.text.trim().is_empty()
    }
}

impl Board {
    /// Where the card is shown: the pending move's target, else the server's status.
    pub fn status_of(&self, id: TicketId) -> Option<TicketStatus> {
        self.moving
            .get(&id)
            .map(|m| m.to)
            .or_else(|| self.tickets.get(&id).map(|t| t.status))
    }

    pub fn is_moving(&self, id: TicketId) -> bool {
        self.moving.contains_key(&id)
    }

    /// A column's cards: most urgent first, then the longest waiting.
    pub fn column(
        &self,
        status: TicketStatus,
        filter: &Filter,
        me: Option<UserId>,
    ) -> Vec<&TicketView> {
        let mut cards: Vec<&TicketView> = self
            .tickets
            .values()
            .filter(|t| self.status_of(t.id) == Some(status) && filter.admits(t, me))
            .collect();
        cards.sort_by(|a, b| {
            b.priority
                .rank()
                .cmp(&a.priority.rank())
                .then(a.created_at.cmp(&b.created_at))
                .then(a.id.cmp(&b.id))
        });
        cards
    }

    /// Keeps the newer of two copies of a ticket (equal times: the incoming one).
    fn upsert(&mut self, ticket: TicketView) {
        match self.tickets.get(&ticket.id) {
            Some(have) if have.updated_at > ticket.updated_at => {}
            _ => {
                self.tickets.insert(ticket.id, ticket);
            }
        }
    }

    /// Applies an action; `false` when nothing changed (so nothing re-renders).
    pub fn apply(&mut self, action: BoardAction) -> bool {
        let before = self.clone();
        match action {
            BoardAction::Loaded(items) => {
                let mut fresh: BTreeMap<TicketId, TicketView> =
                    items.into_iter().map(|t| (t.id, t)).collect();
                for (id, have) in &self.tickets {
                    match fresh.get(id) {
                        Some(t) if t.updated_at >= have.updated_at => {}
                        // Ours is newer, or a moving card the reload missed: keep it.
                        Some(_) => {
                            fresh.insert(*id, have.clone());
                        }
                        None if self.moving.contains_key(id) => {
                            fresh.insert(*id, have.clone());
                        }
                        None => {}
                    }
                }
                self.tickets = fresh;
            }
            BoardAction::Upsert(ticket) => self.upsert(ticket),
            BoardAction::MoveStarted { id, to, token } => {
                if self.tickets.contains_key(&id) && self.status_of(id) != Some(to) {
                    self.moving.insert(id, Move { to, token });
                }
            }
            BoardAction::MoveSucceeded { ticket, token } => {
                if self
                    .moving
                    .get(&ticket.id)
                    .is_some_and(|m| m.token == token)
                {
                    self.moving.remove(&ticket.id);
                }
                self.upsert(ticket);
            }
            BoardAction::MoveFailed { id, token } => {
                if self.moving.get(&id).is_some_and(|m| m.token == token) {
                    self.moving.remove(&id);
                }
            }
        }
        *self != before
    }
}

impl Reducible for Board {
    type Action = BoardAction;

    fn reduce(self: Rc<Self>, action: BoardAction) -> Rc<Self> {
        let mut next = (*self).clone();
        if next.apply(action) {
            Rc::new(next)
        } else {
            self
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use relay_protocol::tickets::Priority;
    use relay_protocol::users::{Role, UserSummary};

    fn at(mins: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + Duration::minutes(mins)
    }

    pub(crate) fn ticket(id: i64, status: TicketStatus, priority: Priority) -> TicketView {
        TicketView {
            status,
            priority,
            requester: crate::fixtures::customer(100, "Cora Customer"),
            created_at: at(id),
            updated_at: at(id),
            ..crate::fixtures::ticket(id)
        }
    }

    fn ids(cards: Vec<&TicketView>) -> Vec<i64> {
        cards.into_iter().map(|t| t.id.0).collect()
    }

    fn board(items: Vec<TicketView>) -> Board {
        let mut b = Board::default();
        b.apply(BoardAction::Loaded(items));
        b
    }

    use TicketStatus::*;

    #[test]
    fn columns_group_by_status_urgent_and_oldest_first() {
        let b = board(vec![
            ticket(1, Open, Priority::Low),
            ticket(2, Open, Priority::Urgent),
            ticket(3, Open, Priority::Urgent),
            ticket(4, Pending, Priority::Medium),
            ticket(5, Closed, Priority::High),
        ]);
        let all = Filter::default();
        assert_eq!(ids(b.column(Open, &all, None)), [2, 3, 1]);
        assert_eq!(ids(b.column(Pending, &all, None)), [4]);
        assert!(b.column(InProgress, &all, None).is_empty());
        assert_eq!(ids(b.column(Closed, &all, None)), [5]);
    }

    #[test]
    fn a_move_shows_at_once_and_settles_with_the_answer() {
        let mut b = board(vec![ticket(1, Open, Priority::Low)]);
        let all = Filter::default();
        assert!(b.apply(BoardAction::MoveStarted {
            id: TicketId(1),
            to: Pending,
            token: 1
        }));
        assert_eq!(ids(b.column(Pending, &all, None)), [1]);
        assert!(b.column(Open, &all, None).is_empty());
        assert!(b.is_moving(TicketId(1)));

        let mut saved = ticket(1, Pending, Priority::Low);
        saved.updated_at = at(60);
        b.apply(BoardAction::MoveSucceeded {
            ticket: saved,
            token: 1,
        });
        assert!(!b.is_moving(TicketId(1)));
        assert_eq!(b.status_of(TicketId(1)), Some(Pending));
    }

    #[test]
    fn a_failed_move_goes_back() {
        let mut b = board(vec![ticket(1, Open, Priority::Low)]);
        b.apply(BoardAction::MoveStarted {
            id: TicketId(1),
            to: Blocked,
            token: 7,
        });
        assert_eq!(b.status_of(TicketId(1)), Some(Blocked));
        assert!(b.apply(BoardAction::MoveFailed {
            id: TicketId(1),
            token: 7
        }));
        assert_eq!(b.status_of(TicketId(1)), Some(Open));
    }

    #[test]
    fn an_old_answer_does_not_undo_a_newer_move() {
        let mut b = board(vec![ticket(1, Open, Priority::Low)]);
        b.apply(BoardAction::MoveStarted {
            id: TicketId(1),
            to: Pending,
            token: 1,
        });
        b.apply(BoardAction::MoveStarted {
            id: TicketId(1),
            to: Blocked,
            token: 2,
        });
        b.apply(BoardAction::MoveFailed {
            id: TicketId(1),
            token: 1,
        });
        assert_eq!(b.status_of(TicketId(1)), Some(Blocked));
        let mut first = ticket(1, Pending, Priority::Low);
        first.updated_at = at(30);
        b.apply(BoardAction::MoveSucceeded {
            ticket: first,
            token: 1,
        });
        // Still shown where the user put it last; the server copy is recorded meanwhile.
        assert_eq!(b.status_of(TicketId(1)), Some(Blocked));
        assert_eq!(b.tickets[&TicketId(1)].status, Pending);
    }

    #[test]
    fn moving_to_the_same_column_is_nothing() {
        let mut b = board(vec![ticket(1, Open, Priority::Low)]);
        assert!(!b.apply(BoardAction::MoveStarted {
            id: TicketId(1),
            to: Open,
            token: 1
        }));
        assert!(!b.apply(BoardAction::MoveStarted {
            id: TicketId(9),
            to: Open,
            token: 2
        }));
    }

    #[test]
    fn live_updates_insert_move_and_never_go_back_in_time() {
        let mut b = board(vec![ticket(1, Open, Priority::Low)]);
        let mut newer = ticket(1, InProgress, Priority::Low);
        newer.updated_at = at(90);
        assert!(b.apply(BoardAction::Upsert(newer)));
        let mut older = ticket(1, Pending, Priority::Low);
        older.updated_at = at(45);
        assert!(!b.apply(BoardAction::Upsert(older)));
        assert_eq!(b.status_of(TicketId(1)), Some(InProgress));
        assert!(b.apply(BoardAction::Upsert(ticket(2, Open, Priority::High))));
        assert_eq!(b.tickets.len(), 2);
    }

    #[test]
    fn a_reload_keeps_newer_live_copies_and_pending_moves() {
        let mut b = board(vec![
            ticket(1, Open, Priority::Low),
            ticket(2, Open, Priority::Low),
        ]);
        let mut live = ticket(1, Blocked, Priority::Low);
        live.updated_at = at(120);
        b.apply(BoardAction::Upsert(live));
        b.apply(BoardAction::MoveStarted {
            id: TicketId(2),
            to: Closed,
            token: 3,
        });
        // The reload started before both changes and misses ticket 2 (closed elsewhere).
        b.apply(BoardAction::Loaded(vec![
            ticket(1, Open, Priority::Low),
            ticket(3, Open, Priority::Low),
        ]));
        assert_eq!(b.status_of(TicketId(1)), Some(Blocked));
        assert_eq!(b.status_of(TicketId(2)), Some(Closed));
        assert_eq!(b.status_of(TicketId(3)), Some(Open));
    }

    #[test]
    fn filters_by_assignee_and_text() {
        let me = UserId(7);
        let mut mine = ticket(1, Open, Priority::Low);
        mine.assignee = Some(UserSummary {
            id: me,
            name: "Tara Tech".into(),
            role: Role::Technician,
        });
        mine.title = "VPN drops every hour".into();
        let b = board(vec![mine, ticket(2, Open, Priority::Low)]);
        let only = |assignee, text: &str| Filter {
            assignee,
            text: text.into(),
        };
        assert_eq!(ids(b.column(Open, &only(Assignee::Me, ""), Some(me))), [1]);
        assert!(b.column(Open, &only(Assignee::Me, ""), None).is_empty());
        assert_eq!(
            ids(b.column(Open, &only(Assignee::Nobody, ""), Some(me))),
            [2]
        );
        assert_eq!(
            ids(b.column(Open, &only(Assignee::Anyone, " vpn "), None)),
            [1]
        );
        assert_eq!(
            ids(b.column(Open, &only(Assignee::Anyone, "0002"), None)),
            [2]
        );
        assert_eq!(
            ids(b.column(Open, &only(Assignee::Anyone, "cora"), None)),
            [1, 2]
        );
        assert!(only(Assignee::Anyone, "x").is_active());
        assert!(!Filter::default().is_active());
        for a in Assignee::ALL {
            assert_eq!(Assignee::from_key(a.key()), a);
        }
    }
}

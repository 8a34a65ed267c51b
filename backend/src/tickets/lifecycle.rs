//! SPEC §2's ticket lifecycle as plain functions on a small state value, so every rule
//! is unit-tested without a database and applied identically by every code path.

use chrono::{DateTime, Utc};
use relay_protocol::tickets::TicketStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: TicketStatus,
    pub assignee_id: Option<i64>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Lifecycle {
    /// A new ticket is `open` (or `in_progress` when it is assigned at once).
    pub fn new(assignee_id: Option<i64>) -> Lifecycle {
        let l = Lifecycle {
            status: TicketStatus::Open,
            assignee_id: None,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
        };
        l.assign(assignee_id)
    }

    /// Reopening clears resolved/closed times and returns to `open`, or `in_progress`
    /// when someone holds the ticket.
    fn reopened(self) -> Lifecycle {
        Lifecycle {
            status: if self.assignee_id.is_some() {
                TicketStatus::InProgress
            } else {
                TicketStatus::Open
            },
            resolved_at: None,
            closed_at: None,
            ..self
        }
    }

    pub fn set_status(self, to: TicketStatus, now: DateTime<Utc>) -> Lifecycle {
        if to == self.status {
            return self;
        }
        let base = if self.status.is_done() && !to.is_done() {
            self.reopened()
        } else {
            self
        };
        match to {
            // A reopen to `open` lands on `in_progress` if assigned (set by reopened()).
            TicketStatus::Open if self.status.is_done() => base,
            TicketStatus::Resolved => Lifecycle {
                status: to,
                resolved_at: Some(now),
                closed_at: None,
                ..base
            },
            TicketStatus::Closed => Lifecycle {
                status: to,
                closed_at: Some(now),
                ..base
            },
            _ => Lifecycle { status: to, ..base },
        }
    }

    /// Assigning an `open` ticket starts work on it; unassigning an `in_progress`
    /// ticket puts it back in the queue.
    pub fn assign(self, to: Option<i64>) -> Lifecycle {
        let status = match (self.status, self.assignee_id, to) {
            (TicketStatus::Open, _, Some(_)) => TicketStatus::InProgress,
            (TicketStatus::InProgress, Some(_), None) => TicketStatus::Open,
            (s, _, _) => s,
        };
        Lifecycle {
            status,
            assignee_id: to,
            ..self
        }
    }

    /// A customer reply on a `resolved` or `pending` ticket reopens it.
    pub fn customer_replied(self) -> Lifecycle {
        match self.status {
            TicketStatus::Resolved | TicketStatus::Pending => self.reopened(),
            _ => self,
        }
    }

    /// The first public staff reply is the first response.
    pub fn staff_replied_publicly(self, now: DateTime<Utc>) -> Lifecycle {
        Lifecycle {
            first_response_at: self.first_response_at.or(Some(now)),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn new_is_open_or_in_progress() {
        assert_eq!(Lifecycle::new(None).status, Open);
        assert_eq!(Lifecycle::new(Some(3)).status, InProgress);
    }

    #[test]
    fn assignment_moves_between_open_and_in_progress() {
        let l = Lifecycle::new(None).assign(Some(3));
        assert_eq!(l.status, InProgress);
        let l = l.assign(Some(4));
        assert_eq!((l.status, l.assignee_id), (InProgress, Some(4)));
        assert_eq!(l.assign(None).status, Open);
        // Unassigning a pending ticket leaves it pending.
        let p = Lifecycle::new(Some(3))
            .set_status(Pending, now())
            .assign(None);
        assert_eq!(p.status, Pending);
    }

    #[test]
    fn resolve_close_reopen() {
        let t = now();
        let r = Lifecycle::new(Some(3)).set_status(Resolved, t);
        assert_eq!(
            (r.status, r.resolved_at, r.closed_at),
            (Resolved, Some(t), None)
        );
        let c = r.set_status(Closed, t);
        assert_eq!(
            (c.status, c.resolved_at, c.closed_at),
            (Closed, Some(t), Some(t))
        );
        let back = c.set_status(Open, t);
        assert_eq!(
            (back.status, back.resolved_at, back.closed_at),
            (InProgress, None, None)
        );
        let unassigned = Lifecycle::new(None)
            .set_status(Resolved, t)
            .set_status(Open, t);
        assert_eq!(unassigned.status, Open);
        // An explicit non-open target after resolution also clears both times.
        let blocked = Lifecycle::new(None)
            .set_status(Closed, t)
            .set_status(Blocked, t);
        assert_eq!((blocked.status, blocked.closed_at), (Blocked, None));
    }

    #[test]
    fn customer_reply_reopens_resolved_and_pending_only() {
        let t = now();
        assert_eq!(
            Lifecycle::new(None)
                .set_status(Resolved, t)
                .customer_replied()
                .status,
            Open
        );
        assert_eq!(
            Lifecycle::new(Some(2))
                .set_status(Pending, t)
                .customer_replied()
                .status,
            InProgress
        );
        assert_eq!(
            Lifecycle::new(None)
                .set_status(Blocked, t)
                .customer_replied()
                .status,
            Blocked
        );
        assert!(Lifecycle::new(None)
            .set_status(Resolved, t)
            .customer_replied()
            .resolved_at
            .is_none());
    }

    #[test]
    fn first_response_is_set_once() {
        let t1 = now();
        let t2 = t1 + chrono::Duration::minutes(5);
        let l = Lifecycle::new(None)
            .staff_replied_publicly(t1)
            .staff_replied_publicly(t2);
        assert_eq!(l.first_response_at, Some(t1));
    }
}

//! Test fixtures shared by the host unit tests.

use chrono::{TimeZone, Utc};
use relay_protocol::tickets::{Priority, TicketStatus, TicketView};
use relay_protocol::users::{Role, UserSummary};
use relay_protocol::{TicketId, UserId};

/// An open, medium-priority ticket created 2026-01-01 00:00 UTC by customer 1 ("Cora");
/// tests override what they care about with struct-update syntax.
pub fn ticket(id: i64) -> TicketView {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    TicketView {
        id: TicketId(id),
        number: format!("TICK-2026-{id:04}"),
        title: format!("Ticket {id}"),
        description: String::new(),
        status: TicketStatus::Open,
        priority: Priority::Medium,
        category: None,
        requester: UserSummary {
            id: UserId(1),
            name: "Cora".into(),
            role: Role::Customer,
        },
        assignee: None,
        tags: Vec::new(),
        message_count: 0,
        created_at: at,
        updated_at: at,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        first_response_due_at: None,
        resolution_due_at: None,
    }
}

pub fn customer(id: i64, name: &str) -> UserSummary {
    UserSummary {
        id: UserId(id),
        name: name.into(),
        role: Role::Customer,
    }
}

//! Ticket rows and forms.

use crate::db::schema::{ticket_history, tickets};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::tickets::{Priority, TicketStatus};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub category_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tickets)]
pub struct NewTicket<'a> {
    pub number: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub status: &'a str,
    pub priority: &'a str,
    pub category_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
}

/// Column changes of one ticket update; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = tickets)]
pub struct TicketChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub category_id: Option<Option<i64>>,
    pub assignee_id: Option<Option<i64>>,
    pub last_seq: Option<i64>,
    pub updated_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<Option<DateTime<Utc>>>,
    pub resolved_at: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<Option<DateTime<Utc>>>,
    pub first_response_due_at: Option<Option<DateTime<Utc>>>,
    pub resolution_due_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = ticket_history)]
pub struct NewHistory {
    pub ticket_id: i64,
    pub actor_id: Option<i64>,
    pub field: &'static str,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_history)]
pub struct HistoryRow {
    pub id: i64,
    pub ticket_id: i64,
    pub actor_id: Option<i64>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Ticket {
    pub fn status(&self) -> TicketStatus {
        TicketStatus::parse(&self.status).unwrap_or(TicketStatus::Open)
    }

    pub fn priority(&self) -> Priority {
        Priority::parse(&self.priority).unwrap_or(Priority::Medium)
    }

    pub fn facts(&self) -> crate::auth::policy::TicketFacts {
        crate::auth::policy::TicketFacts {
            requester_id: self.requester_id,
            assignee_id: self.assignee_id,
            status: self.status(),
        }
    }

    pub fn lifecycle(&self) -> super::lifecycle::Lifecycle {
        super::lifecycle::Lifecycle {
            status: self.status(),
            assignee_id: self.assignee_id,
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
        }
    }
}

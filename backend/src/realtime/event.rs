//! What travels on the bus, and on which channel. Channels are named per ticket and per
//! user (`rd:t:{id}`, `rd:u:{id}`) plus two role feeds (`rd:staff`, `rd:admin`), so an
//! instance subscribes only to what its sockets need and the layout maps onto sharded
//! pub/sub (`SPUBLISH`) in a Redis Cluster.

use relay_protocol::messages::MessageView;
use relay_protocol::tickets::TicketView;
use relay_protocol::users::UserSummary;
use relay_protocol::ws::{NotificationView, SystemStatus, TypingState, TypingUser};
use relay_protocol::{TicketId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Ticket(i64),
    User(i64),
    Staff,
    Admin,
}

impl Channel {
    pub fn name(self) -> String {
        match self {
            Channel::Ticket(id) => format!("rd:t:{id}"),
            Channel::User(id) => format!("rd:u:{id}"),
            Channel::Staff => "rd:staff".into(),
            Channel::Admin => "rd:admin".into(),
        }
    }

    pub fn parse(name: &str) -> Option<Channel> {
        if let Some(id) = name.strip_prefix("rd:t:") {
            return id.parse().ok().map(Channel::Ticket);
        }
        if let Some(id) = name.strip_prefix("rd:u:") {
            return id.parse().ok().map(Channel::User);
        }
        match name {
            "rd:staff" => Some(Channel::Staff),
            "rd:admin" => Some(Channel::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum BusEvent {
    /// A stored message (any kind); instances filter per socket before delivery.
    Message {
        requester_id: i64,
        message: MessageView,
    },
    Typing {
        ticket_id: TicketId,
        user: TypingUser,
        state: TypingState,
    },
    /// `public_seq`: the highest non-internal seq at or below `seq`, what customers see.
    Receipt {
        ticket_id: TicketId,
        user_id: UserId,
        seq: i64,
        public_seq: i64,
    },
    Presence {
        ticket_id: TicketId,
        user: UserSummary,
        instance: String,
        present: bool,
    },
    TicketCreated {
        ticket: TicketView,
    },
    TicketUpdated {
        ticket: TicketView,
    },
    Assigned {
        ticket: TicketView,
    },
    Notification {
        user_id: i64,
        notification: NotificationView,
    },
    /// Re-check this user's sockets (deactivation, role change, revoked sessions).
    Control {
        user_id: i64,
    },
    System {
        status: SystemStatus,
        sent_at_ms: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_roundtrip() {
        for c in [
            Channel::Ticket(42),
            Channel::User(7),
            Channel::Staff,
            Channel::Admin,
        ] {
            assert_eq!(Channel::parse(&c.name()), Some(c));
        }
        assert_eq!(Channel::Ticket(42).name(), "rd:t:42");
        assert_eq!(Channel::parse("rd:t:x"), None);
    }
}

//! Email and Slack texts. Plain text: nothing a user typed is ever rendered as HTML.

use super::Mail;
use crate::tickets::model::Ticket;

fn subject(t: &Ticket, what: &str) -> String {
    format!("[{}] {what}: {}", t.number, t.title)
}

fn footer(t: &Ticket) -> String {
    format!(
        "\n\n--\nRelay Desk · {} · reply in the app to continue the conversation.\n",
        t.number
    )
}

pub fn created(t: &Ticket) -> Mail {
    Mail {
        template: "ticket_created",
        recipient_id: t.requester_id,
        subject: subject(t, "We received your request"),
        body: format!("Thanks for reaching out. Your request {} is open and a technician will pick it up soon.{}", t.number, footer(t)),
    }
}

pub fn assigned(t: &Ticket, assignee: i64, by: &str) -> Mail {
    Mail {
        template: "assigned",
        recipient_id: assignee,
        subject: subject(t, "Assigned to you"),
        body: format!(
            "{by} assigned {} to you (priority {}).{}",
            t.number,
            t.priority,
            footer(t)
        ),
    }
}

pub fn status_changed(t: &Ticket) -> Mail {
    let status = t.status.replace('_', " ");
    Mail {
        template: "status_changed",
        recipient_id: t.requester_id,
        subject: subject(t, &format!("Now {status}")),
        body: format!("Your request {} is now {status}.{}", t.number, footer(t)),
    }
}

pub fn resolved(t: &Ticket) -> Mail {
    Mail {
        template: "resolved",
        recipient_id: t.requester_id,
        subject: subject(t, "Resolved"),
        body: format!(
            "Your request {} has been resolved. If something is still wrong, reply and it reopens. \
             You can also rate how we did.{}",
            t.number,
            footer(t)
        ),
    }
}

pub fn reply(t: &Ticket, to: i64, author: &str, body: &str) -> Mail {
    let excerpt: String = body.chars().take(2000).collect();
    Mail {
        template: "public_reply",
        recipient_id: to,
        subject: subject(t, &format!("New reply from {author}")),
        body: format!("{author} wrote:\n\n{excerpt}{}", footer(t)),
    }
}

pub fn sla_breach(t: &Ticket, to: i64) -> Mail {
    Mail {
        template: "sla_breach",
        recipient_id: to,
        subject: subject(t, "SLA breached"),
        body: format!(
            "{} is past its SLA and was escalated to priority {}.{}",
            t.number,
            t.priority,
            footer(t)
        ),
    }
}

pub fn slack_assigned(t: &Ticket, assignee: &str) -> String {
    format!(
        "{} ({}) was assigned to {assignee}: {}",
        t.number, t.priority, t.title
    )
}

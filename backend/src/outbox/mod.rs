//! Email and Slack notifications through a durable outbox: rows are written in the
//! transaction of the event they announce; a worker on every instance claims due rows
//! (`FOR UPDATE SKIP LOCKED` plus a lease), sends them, and retries failures with
//! exponential back-off. A restart loses nothing: an unsent row stays due, a claimed one
//! becomes due again when its lease ends. (A crash in the instant between a successful
//! send and its bookkeeping can send one mail twice; SMTP offers no way to close that gap.)

pub mod templates;
pub mod worker;

use crate::auth::Actor;
use crate::db::schema::{outbox, users};
use crate::error::AppResult;
use crate::tickets::model::Ticket;
use diesel::prelude::*;
use relay_protocol::tickets::TicketStatus;

/// One message to send.
pub struct Mail {
    pub template: &'static str,
    pub recipient_id: i64,
    pub subject: String,
    pub body: String,
}

/// Queues emails for users who have not opted out (and who are active).
fn enqueue_emails(conn: &mut PgConnection, ticket_id: i64, mails: Vec<Mail>) -> AppResult<()> {
    enqueue_ticket_emails(conn, mails.into_iter().map(|m| (ticket_id, m)).collect())
}

/// Queues `(ticket, mail)` pairs, of any number of tickets, with one address lookup and
/// one insert.
fn enqueue_ticket_emails(conn: &mut PgConnection, mails: Vec<(i64, Mail)>) -> AppResult<()> {
    if mails.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = mails.iter().map(|(_, m)| m.recipient_id).collect();
    let addresses: std::collections::HashMap<i64, String> = users::table
        .filter(users::id.eq_any(&ids))
        .filter(users::active.eq(true))
        .filter(users::email_opt_out.eq(false))
        .select((users::id, users::email))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<_> = mails
        .into_iter()
        .filter_map(|(ticket_id, m)| {
            addresses.get(&m.recipient_id).map(|email| {
                (
                    outbox::channel.eq("email"),
                    outbox::template.eq(m.template),
                    outbox::recipient.eq(email.clone()),
                    outbox::subject.eq(m.subject),
                    outbox::body.eq(m.body),
                    outbox::ticket_id.eq(Some(ticket_id)),
                )
            })
        })
        .collect();
    diesel::insert_into(outbox::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}

fn enqueue_slack(conn: &mut PgConnection, ticket_id: i64, text: String) -> AppResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::channel.eq("slack"),
            outbox::template.eq("assigned"),
            outbox::recipient.eq("slack"),
            outbox::body.eq(text),
            outbox::ticket_id.eq(Some(ticket_id)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn ticket_created(conn: &mut PgConnection, ticket: &Ticket) -> AppResult<()> {
    enqueue_emails(conn, ticket.id, vec![templates::created(ticket)])
}

/// Status changes (resolution has its own template) for the requester, assignment for
/// the new assignee (and Slack, when a webhook is configured).
pub fn ticket_changed(
    conn: &mut PgConnection,
    actor: &Actor,
    before: &Ticket,
    after: &Ticket,
    slack: bool,
) -> AppResult<()> {
    let mut mails = Vec::new();
    if after.status != before.status && after.requester_id != actor.id {
        mails.push(if after.status() == TicketStatus::Resolved {
            templates::resolved(after)
        } else {
            templates::status_changed(after)
        });
    }
    let newly = after.assignee_id.filter(|a| Some(*a) != before.assignee_id);
    if let Some(a) = newly.filter(|a| *a != actor.id) {
        mails.push(templates::assigned(after, a, &actor.name));
    }
    enqueue_emails(conn, after.id, mails)?;
    if let (Some(a), true) = (newly, slack) {
        let name: String = users::table.find(a).select(users::name).first(conn)?;
        enqueue_slack(conn, after.id, templates::slack_assigned(after, &name))?;
    }
    Ok(())
}

/// The mail a public reply sends: staff replies go to the requester, customer replies to
/// the assignee; nobody is mailed their own reply.
pub fn reply_mail(actor: &Actor, ticket: &Ticket, body: &str) -> Option<Mail> {
    let to = if actor.role.is_staff() {
        Some(ticket.requester_id)
    } else {
        ticket.assignee_id
    };
    to.filter(|u| *u != actor.id)
        .map(|u| templates::reply(ticket, u, &actor.name, body))
}

/// Queues the mail of one public reply.
pub fn public_reply(
    conn: &mut PgConnection,
    actor: &Actor,
    ticket: &Ticket,
    body: &str,
) -> AppResult<()> {
    match reply_mail(actor, ticket, body) {
        Some(mail) => enqueue_emails(conn, ticket.id, vec![mail]),
        None => Ok(()),
    }
}

/// Queues the mails of a batch of public replies (`(ticket, reply_mail)` pairs) together.
pub fn public_replies(conn: &mut PgConnection, mails: Vec<(i64, Mail)>) -> AppResult<()> {
    enqueue_ticket_emails(conn, mails)
}

pub fn enqueue_sla_breach(
    conn: &mut PgConnection,
    ticket: &Ticket,
    supervisors: &[i64],
) -> AppResult<()> {
    let mails = supervisors
        .iter()
        .map(|s| templates::sla_breach(ticket, *s))
        .collect();
    enqueue_emails(conn, ticket.id, mails)
}

//! CSAT ratings and links between tickets.

use super::model::{NewHistory, Ticket};
use super::queries as tickets;
use crate::auth::policy::{check_ticket, TicketAction};
use crate::auth::Actor;
use crate::db::schema::{ratings, ticket_history, ticket_links, tickets as t};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::tickets::{LinkKind, LinkView, RatingView, TicketStatus};
use relay_protocol::{ErrorCode, TicketId};

pub fn rating(conn: &mut PgConnection, ticket_id: i64) -> AppResult<Option<RatingView>> {
    let row: Option<(i16, String, DateTime<Utc>)> = ratings::table
        .find(ticket_id)
        .select((ratings::score, ratings::comment, ratings::created_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(score, comment, created_at)| RatingView {
        score,
        comment,
        created_at,
    }))
}

/// The requester rates a resolved (or closed-after-resolution) ticket, once.
pub fn rate(
    conn: &mut PgConnection,
    actor: &Actor,
    ticket: &Ticket,
    score: i16,
    comment: &str,
) -> AppResult<RatingView> {
    check_ticket(actor, &ticket.facts(), TicketAction::Rate)?;
    if !(1..=5).contains(&score) {
        return Err(AppError::invalid("score", "must be between 1 and 5"));
    }
    if comment.chars().count() > 2000 || comment.contains('\0') {
        return Err(AppError::invalid(
            "comment",
            "must be at most 2000 characters",
        ));
    }
    let done = matches!(
        ticket.status(),
        TicketStatus::Resolved | TicketStatus::Closed
    ) && ticket.resolved_at.is_some();
    if !done {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            "a ticket can be rated once it is resolved",
        ));
    }
    let inserted = diesel::insert_into(ratings::table)
        .values((
            ratings::ticket_id.eq(ticket.id),
            ratings::user_id.eq(actor.id),
            ratings::score.eq(score),
            ratings::comment.eq(comment.trim()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            "this ticket has already been rated",
        ));
    }
    rating(conn, ticket.id)?.ok_or_else(|| AppError::internal("rating vanished"))
}

pub fn links(conn: &mut PgConnection, ticket_id: i64) -> AppResult<Vec<LinkView>> {
    let outgoing: Vec<(i64, String, i64, String, String, String)> = ticket_links::table
        .inner_join(t::table.on(t::id.eq(ticket_links::target_ticket_id)))
        .filter(ticket_links::source_ticket_id.eq(ticket_id))
        .select((
            ticket_links::id,
            ticket_links::kind,
            t::id,
            t::number,
            t::title,
            t::status,
        ))
        .load(conn)?;
    let incoming: Vec<(i64, String, i64, String, String, String)> = ticket_links::table
        .inner_join(t::table.on(t::id.eq(ticket_links::source_ticket_id)))
        .filter(ticket_links::target_ticket_id.eq(ticket_id))
        .select((
            ticket_links::id,
            ticket_links::kind,
            t::id,
            t::number,
            t::title,
            t::status,
        ))
        .load(conn)?;
    let view = |dir: &str| {
        let dir = dir.to_owned();
        move |(id, kind, tid, number, title, status): (i64, String, i64, String, String, String)| {
            LinkView {
                id,
                kind: LinkKind::parse(&kind).unwrap_or(LinkKind::Relates),
                direction: dir.clone(),
                ticket_id: TicketId(tid),
                number,
                title,
                status: TicketStatus::parse(&status).unwrap_or(TicketStatus::Open),
            }
        }
    };
    let mut out: Vec<LinkView> = outgoing.into_iter().map(view("outgoing")).collect();
    out.extend(incoming.into_iter().map(view("incoming")));
    out.sort_by_key(|l| l.id);
    Ok(out)
}

pub fn link(
    conn: &mut PgConnection,
    actor: &Actor,
    source: &Ticket,
    target_ref: &str,
    kind: LinkKind,
) -> AppResult<Vec<LinkView>> {
    check_ticket(actor, &source.facts(), TicketAction::Link)?;
    let target = match tickets::find_by_ref(conn, target_ref) {
        Ok(t) => t,
        Err(AppError::Client { .. }) => return Err(AppError::invalid("target", "no such ticket")),
        Err(e) => return Err(e),
    };
    if target.id == source.id {
        return Err(AppError::invalid(
            "target",
            "a ticket cannot link to itself",
        ));
    }
    conn.transaction(|conn| {
        let n = diesel::insert_into(ticket_links::table)
            .values((
                ticket_links::source_ticket_id.eq(source.id),
                ticket_links::target_ticket_id.eq(target.id),
                ticket_links::kind.eq(kind.as_str()),
                ticket_links::created_by.eq(actor.id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict(
                ErrorCode::Conflict,
                "these tickets are already linked that way",
            ));
        }
        diesel::insert_into(ticket_history::table)
            .values(NewHistory {
                ticket_id: source.id,
                actor_id: Some(actor.id),
                field: "link",
                old_value: None,
                new_value: Some(format!("{} {}", kind.as_str(), target.number)),
            })
            .execute(conn)?;
        links(conn, source.id)
    })
}

pub fn unlink(
    conn: &mut PgConnection,
    actor: &Actor,
    source: &Ticket,
    link_id: i64,
) -> AppResult<()> {
    check_ticket(actor, &source.facts(), TicketAction::Link)?;
    conn.transaction(|conn| {
        let found: Option<(i64, String, i64)> = ticket_links::table
            .filter(ticket_links::id.eq(link_id))
            .filter(
                ticket_links::source_ticket_id
                    .eq(source.id)
                    .or(ticket_links::target_ticket_id.eq(source.id)),
            )
            .select((
                ticket_links::source_ticket_id,
                ticket_links::kind,
                ticket_links::target_ticket_id,
            ))
            .first(conn)
            .optional()?;
        let (src, kind, dst) = found.ok_or_else(|| AppError::not_found("link"))?;
        diesel::delete(ticket_links::table.find(link_id)).execute(conn)?;
        let other = if src == source.id { dst } else { src };
        let number: String = t::table.find(other).select(t::number).first(conn)?;
        diesel::insert_into(ticket_history::table)
            .values(NewHistory {
                ticket_id: source.id,
                actor_id: Some(actor.id),
                field: "link",
                old_value: Some(format!("{kind} {number}")),
                new_value: None,
            })
            .execute(conn)?;
        Ok(())
    })
}

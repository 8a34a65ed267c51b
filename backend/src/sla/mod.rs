//! SLA breaches: a background job on every instance flags overdue tickets, escalates
//! them (priority raised one step, supervisors alerted) and feeds the floor. Safe to run
//! everywhere at once: rows are claimed with `FOR UPDATE SKIP LOCKED` and each breach is
//! flagged once, in the same transaction as its escalation.

use crate::db::schema::{ticket_history, tickets as t, users};
use crate::error::AppResult;
use crate::notifications::queries::{self as notifications, Outgoing};
use crate::state::AppState;
use crate::tickets::model::{NewHistory, Ticket};
use chrono::Utc;
use diesel::prelude::*;
use relay_protocol::tickets::Priority;
use relay_protocol::users::Role;
use std::time::Duration;

/// One escalated ticket and who was told.
pub struct Escalation {
    pub ticket: Ticket,
    pub notes: Vec<Outgoing>,
}

fn raised(p: Priority) -> Priority {
    match p {
        Priority::Low => Priority::Medium,
        Priority::Medium => Priority::High,
        Priority::High | Priority::Urgent => Priority::Urgent,
    }
}

/// Claims up to 50 newly overdue tickets and escalates each once.
pub fn run_once(conn: &mut PgConnection) -> AppResult<Vec<Escalation>> {
    conn.transaction(|conn| {
        let now = Utc::now();
        let active = ["open", "in_progress", "pending", "blocked"];
        let due: Vec<Ticket> = t::table
            .filter(t::status.eq_any(active))
            .filter(
                t::first_response_at
                    .is_null()
                    .and(t::first_response_breached_at.is_null())
                    .and(t::first_response_due_at.lt(now))
                    .or(t::resolution_breached_at
                        .is_null()
                        .and(t::resolution_due_at.lt(now))),
            )
            .order(t::id.asc())
            .limit(50)
            .for_update()
            .skip_locked()
            .select(Ticket::as_select())
            .load(conn)?;
        let watchers: Vec<i64> = users::table
            .filter(users::active.eq(true))
            .filter(users::role.eq_any([Role::Supervisor.as_str(), Role::Admin.as_str()]))
            .select(users::id)
            .load(conn)?;
        let mut out = Vec::new();
        for ticket in due {
            let fr = ticket.first_response_at.is_none()
                && ticket.first_response_due_at.is_some_and(|d| d < now);
            // Read the breach flags under the lock (the selected row is current).
            let (fr_flag, res_flag): (
                Option<chrono::DateTime<Utc>>,
                Option<chrono::DateTime<Utc>>,
            ) = t::table
                .find(ticket.id)
                .select((t::first_response_breached_at, t::resolution_breached_at))
                .first(conn)?;
            let fr = fr && fr_flag.is_none();
            let res = res_flag.is_none() && ticket.resolution_due_at.is_some_and(|d| d < now);
            if !fr && !res {
                continue;
            }
            let old = ticket.priority();
            let new = raised(old);
            let mut log = Vec::new();
            for (hit, what) in [(fr, "first_response"), (res, "resolution")] {
                if hit {
                    log.push(NewHistory {
                        ticket_id: ticket.id,
                        actor_id: None,
                        field: "sla_breach",
                        old_value: None,
                        new_value: Some(what.into()),
                    });
                }
            }
            if new != old {
                log.push(NewHistory {
                    ticket_id: ticket.id,
                    actor_id: None,
                    field: "priority",
                    old_value: Some(old.to_string()),
                    new_value: Some(new.to_string()),
                });
            }
            let updated: Ticket = diesel::update(t::table.find(ticket.id))
                .set((
                    t::priority.eq(new.as_str()),
                    t::escalated_at.eq(now),
                    t::updated_at.eq(now),
                    fr.then_some(t::first_response_breached_at.eq(now)),
                    res.then_some(t::resolution_breached_at.eq(now)),
                ))
                .returning(Ticket::as_returning())
                .get_result(conn)?;
            diesel::insert_into(ticket_history::table)
                .values(&log)
                .execute(conn)?;
            let what = if fr { "first response" } else { "resolution" };
            let title = format!("SLA breached: {} ({what} overdue)", updated.number);
            let mut notes = Vec::new();
            let mut told: Vec<i64> = watchers.clone();
            told.extend(updated.assignee_id);
            told.sort_unstable();
            told.dedup();
            for u in told {
                notes.push(notifications::create(
                    conn,
                    u,
                    "sla_breach",
                    Some(updated.id),
                    &title,
                    &updated.title,
                )?);
            }
            crate::outbox::enqueue_sla_breach(conn, &updated, &watchers)?;
            out.push(Escalation {
                ticket: updated,
                notes,
            });
        }
        Ok(out)
    })
}

/// Publishes the results of one run after commit.
pub async fn announce(state: &AppState, done: Vec<Escalation>) {
    for e in done {
        let views = state
            .db(move |conn| {
                Ok((
                    crate::tickets::queries::view(conn, Role::Technician, &e.ticket)?,
                    crate::tickets::queries::view(conn, Role::Customer, &e.ticket)?,
                    e.notes,
                ))
            })
            .await;
        if let Ok((staff, customer, notes)) = views {
            state.realtime.ticket_updated(&staff, &customer, None).await;
            for (u, n) in notes {
                state.realtime.notify(u, n).await;
            }
        }
    }
}

/// Runs the check every `every` on this instance, forever.
pub fn spawn(state: AppState, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match state.db(run_once).await {
                Ok(done) if !done.is_empty() => {
                    tracing::info!(escalated = done.len(), "SLA breaches escalated");
                    announce(&state, done).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SLA check failed"),
            }
        }
    });
}

//! Auto-assignment (admin setting, off by default): a new ticket goes to the online
//! technician with the fewest open tickets, round-robin on ties (whoever was auto-assigned
//! least recently), and nobody past the per-agent cap.

use super::lifecycle::Lifecycle;
use super::model::{NewHistory, Ticket};
use crate::db::schema::{ticket_history, tickets};
use crate::error::AppResult;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer};

#[derive(QueryableByName)]
struct Pick {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The technician who should get the next ticket, among `online` user ids.
pub fn pick(conn: &mut PgConnection, online: &[i64], cap: i32) -> AppResult<Option<i64>> {
    if online.is_empty() {
        return Ok(None);
    }
    let row: Option<Pick> = diesel::sql_query(
        "SELECT u.id FROM (
           SELECT u.id,
             (SELECT count(*) FROM tickets t WHERE t.assignee_id = u.id
                AND t.status NOT IN ('resolved', 'closed')) AS open,
             (SELECT max(h.created_at) FROM ticket_history h
                WHERE h.field = 'assignee_id' AND h.actor_id IS NULL AND h.new_value = u.id::text) AS last_auto
           FROM users u
           WHERE u.id = ANY($1) AND u.role = 'technician' AND u.active) u
         WHERE u.open < $2
         ORDER BY u.open ASC, u.last_auto ASC NULLS FIRST, u.id ASC
         LIMIT 1",
    )
    .bind::<Array<BigInt>, _>(online)
    .bind::<Integer, _>(cap)
    .get_result(conn)
    .optional()?;
    Ok(row.map(|r| r.id))
}

/// Assigns `ticket` to `agent` as the desk itself (no actor in the history).
pub fn assign(conn: &mut PgConnection, ticket: Ticket, agent: i64) -> AppResult<Ticket> {
    let before = ticket.lifecycle();
    let after: Lifecycle = before.assign(Some(agent));
    let row: Ticket = diesel::update(tickets::table.find(ticket.id))
        .set((
            tickets::assignee_id.eq(agent),
            tickets::status.eq(after.status.as_str()),
        ))
        .returning(Ticket::as_returning())
        .get_result(conn)?;
    let mut log = vec![NewHistory {
        ticket_id: ticket.id,
        actor_id: None,
        field: "assignee_id",
        old_value: None,
        new_value: Some(agent.to_string()),
    }];
    if after.status != before.status {
        log.push(NewHistory {
            ticket_id: ticket.id,
            actor_id: None,
            field: "status",
            old_value: Some(before.status.to_string()),
            new_value: Some(after.status.to_string()),
        });
    }
    diesel::insert_into(ticket_history::table)
        .values(&log)
        .execute(conn)?;
    Ok(row)
}

//! Auto-assignment (admin setting, off by default): a new ticket goes to the online
//! technician with the fewest open tickets, round-robin on ties (whoever was auto-assigned
//! least recently), and nobody past the per-agent cap.

use super::model::{Ticket, TicketChanges};
use super::queries;
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

/// Assigns `ticket` to `agent` as the desk itself (no actor in the history), through the
/// same lifecycle and history path as a manual assignment.
pub fn assign(conn: &mut PgConnection, ticket: Ticket, agent: i64) -> AppResult<Ticket> {
    let before = ticket.lifecycle();
    let after = before.assign(Some(agent));
    let mut changes = TicketChanges::default();
    let mut log = Vec::new();
    queries::apply_lifecycle(&ticket, None, before, after, &mut changes, &mut log);
    queries::save(conn, ticket, changes, log, false)
}

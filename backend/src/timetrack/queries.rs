//! Time entry queries.

use crate::db::schema::{time_entries as te, users};
use crate::error::{AppError, AppResult};
use crate::users::model::User;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use relay_protocol::time::{AgentTotal, TimeEntry, TimeEntryList};
use relay_protocol::TicketId;
use std::collections::BTreeMap;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = te)]
pub struct Row {
    pub id: i64,
    pub ticket_id: i64,
    pub user_id: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i32>,
    pub note: String,
    pub manual: bool,
}

fn view(r: Row, u: &User) -> TimeEntry {
    TimeEntry {
        id: r.id,
        ticket_id: TicketId(r.ticket_id),
        user: u.summary(),
        started_at: r.started_at,
        ended_at: r.ended_at,
        duration_seconds: r.duration_seconds,
        note: r.note,
        manual: r.manual,
    }
}

fn running_of(conn: &mut PgConnection, user_id: i64) -> AppResult<Option<Row>> {
    Ok(te::table
        .filter(te::user_id.eq(user_id))
        .filter(te::ended_at.is_null())
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

fn finish(conn: &mut PgConnection, row: &Row, now: DateTime<Utc>) -> AppResult<Row> {
    let secs = (now - row.started_at)
        .num_seconds()
        .clamp(0, i64::from(i32::MAX)) as i32;
    Ok(diesel::update(te::table.find(row.id))
        .set((te::ended_at.eq(now), te::duration_seconds.eq(secs)))
        .returning(Row::as_returning())
        .get_result(conn)?)
}

/// Starts the user's timer on `ticket_id`. Already running there: that timer. Running
/// on another ticket: that one is stopped first (switching tasks).
pub fn start(conn: &mut PgConnection, user: &User, ticket_id: i64) -> AppResult<TimeEntry> {
    let attempt = conn.transaction(|conn| {
        let now = Utc::now();
        if let Some(r) = running_of(conn, user.id)? {
            if r.ticket_id == ticket_id {
                return Ok(view(r, user));
            }
            finish(conn, &r, now)?;
        }
        let r: Row = diesel::insert_into(te::table)
            .values((
                te::ticket_id.eq(ticket_id),
                te::user_id.eq(user.id),
                te::started_at.eq(now),
            ))
            .returning(Row::as_returning())
            .get_result(conn)?;
        Ok(view(r, user))
    });
    match attempt {
        // A concurrent start won the race for the one running slot: return that one.
        Err(AppError::Database(e))
            if crate::db::is_unique_violation(&e, "time_entries_running_key") =>
        {
            match running_of(conn, user.id)? {
                Some(r) => Ok(view(r, user)),
                None => Err(AppError::conflict(
                    relay_protocol::ErrorCode::Conflict,
                    "try again",
                )),
            }
        }
        other => other,
    }
}

/// Stops the user's running timer on `ticket_id`.
pub fn stop(conn: &mut PgConnection, user: &User, ticket_id: i64) -> AppResult<TimeEntry> {
    conn.transaction(|conn| {
        let r = te::table
            .filter(te::user_id.eq(user.id))
            .filter(te::ended_at.is_null())
            .filter(te::ticket_id.eq(ticket_id))
            .select(Row::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or_else(|| AppError::not_found("running timer on this ticket"))?;
        Ok(view(finish(conn, &r, Utc::now())?, user))
    })
}

pub fn running(conn: &mut PgConnection, user: &User) -> AppResult<Option<TimeEntry>> {
    Ok(running_of(conn, user.id)?.map(|r| view(r, user)))
}

pub fn add_manual(
    conn: &mut PgConnection,
    user: &User,
    ticket_id: i64,
    minutes: i32,
    note: &str,
    started_at: Option<DateTime<Utc>>,
) -> AppResult<TimeEntry> {
    if !(1..=1440).contains(&minutes) {
        return Err(AppError::invalid("minutes", "must be between 1 and 1440"));
    }
    if note.chars().count() > 500 || note.contains('\0') {
        return Err(AppError::invalid("note", "must be at most 500 characters"));
    }
    let start = started_at.unwrap_or_else(|| Utc::now() - Duration::minutes(minutes.into()));
    if start > Utc::now() {
        return Err(AppError::invalid("started_at", "must not be in the future"));
    }
    let r: Row = diesel::insert_into(te::table)
        .values((
            te::ticket_id.eq(ticket_id),
            te::user_id.eq(user.id),
            te::started_at.eq(start),
            te::ended_at.eq(start + Duration::minutes(minutes.into())),
            te::duration_seconds.eq(minutes * 60),
            te::note.eq(note.trim()),
            te::manual.eq(true),
        ))
        .returning(Row::as_returning())
        .get_result(conn)?;
    Ok(view(r, user))
}

pub fn list(conn: &mut PgConnection, ticket_id: i64) -> AppResult<TimeEntryList> {
    let rows: Vec<(Row, User)> = te::table
        .inner_join(users::table)
        .filter(te::ticket_id.eq(ticket_id))
        .order(te::started_at.desc())
        .select((Row::as_select(), User::as_select()))
        .load(conn)?;
    let mut per: BTreeMap<i64, AgentTotal> = BTreeMap::new();
    let mut total = 0i64;
    let items = rows
        .into_iter()
        .map(|(r, u)| {
            let secs = i64::from(r.duration_seconds.unwrap_or(0));
            total += secs;
            per.entry(u.id)
                .or_insert_with(|| AgentTotal {
                    user: u.summary(),
                    seconds: 0,
                })
                .seconds += secs;
            view(r, &u)
        })
        .collect();
    Ok(TimeEntryList {
        items,
        total_seconds: total,
        by_agent: per.into_values().collect(),
    })
}

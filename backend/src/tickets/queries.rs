//! Ticket queries: numbering, create, change, assign, list/search and history. Every
//! change and its history rows are written in one transaction.

use super::lifecycle::Lifecycle;
use super::model::{HistoryRow, NewHistory, NewTicket, Ticket, TicketChanges};
use crate::auth::policy::{check_desk, check_ticket, DeskAction, TicketAction};
use crate::auth::Actor;
use crate::categories::queries::{self as categories, Category};
use crate::config::SearchBudget;
use crate::db::prepared::prepared;
use crate::db::schema::{
    categories as categories_t, sla_policies, ticket_counters, ticket_history, ticket_tags,
    tickets, users,
};
use crate::error::{AppError, AppResult};
use crate::users::model::User;
use crate::users::queries as user_q;
use base64::Engine;
use chrono::{DateTime, Datelike, Duration, Utc};
use diesel::dsl::{count_star, sql, AsSelect};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, BigInt, Bool, SmallInt, Text, Timestamptz};
use relay_protocol::tickets::{
    CategoryRef, CreateTicketRequest, HistoryEntry, Priority, TicketListQuery, TicketPage,
    TicketStatus, TicketView, UpdateTicketRequest,
};
use relay_protocol::users::Role;
use relay_protocol::{CategoryId, TicketId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration as StdDuration, Instant};

pub const MAX_TAGS: usize = 20;

/// First-response and resolution due times.
type DueTimes = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Finds a ticket by numeric id or by its `TICK-YYYY-NNNN` number.
pub fn find_by_ref(conn: &mut PgConnection, reference: &str) -> AppResult<Ticket> {
    let reference = reference.trim();
    let found = if let Ok(id) = reference.parse::<i64>() {
        tickets::table
            .find(id)
            .select(Ticket::as_select())
            .first(conn)
            .optional()?
    } else if is_ticket_number(reference) {
        tickets::table
            .filter(tickets::number.eq(reference.to_uppercase()))
            .select(Ticket::as_select())
            .first(conn)
            .optional()?
    } else {
        None
    };
    found.ok_or_else(|| AppError::not_found("ticket"))
}

/// `TICK-YYYY-NNNN` (case-insensitive), at least four digits of sequence.
pub fn is_ticket_number(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix("TICK-") else {
        return false;
    };
    let Some((year, seq)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=10).contains(&seq.len())
        && seq.bytes().all(|b| b.is_ascii_digit())
}

pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<Ticket> {
    tickets::table
        .find(id)
        .select(Ticket::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("ticket"))
}

/// Locks the ticket row for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, id: i64) -> AppResult<Ticket> {
    tickets::table
        .find(id)
        .select(Ticket::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("ticket"))
}

/// Locks the rows of `ids` that exist, in ascending id order (PostgreSQL locks the rows
/// of `ORDER BY … FOR UPDATE` in the order it returns them): every batch of posts takes
/// its tickets in that order, so two batches cannot deadlock each other.
pub fn lock_all(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<Ticket>> {
    Ok(tickets::table
        .filter(tickets::id.eq_any(ids))
        .order(tickets::id.asc())
        .select(Ticket::as_select())
        .for_update()
        .load(conn)?)
}

/// Sets the message seq of tickets `(id, last_seq, touched)` in one statement; a
/// touched ticket's `updated_at` becomes `now`, the others keep theirs (and their update
/// stays HOT: no indexed column changes).
pub fn set_last_seqs(
    conn: &mut PgConnection,
    rows: &[(i64, i64, bool)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    SetLastSeqs {
        ids: rows.iter().map(|r| r.0).collect(),
        seqs: rows.iter().map(|r| r.1).collect(),
        touched: rows.iter().map(|r| r.2).collect(),
        now,
    }
    .execute(conn)?;
    Ok(())
}

/// `set_last_seqs`'s statement, kept prepared (`crate::db::prepared`).
struct SetLastSeqs {
    ids: Vec<i64>,
    seqs: Vec<i64>,
    touched: Vec<bool>,
    now: DateTime<Utc>,
}

impl QueryFragment<Pg> for SetLastSeqs {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Timestamptz};
        out.push_sql(
            "UPDATE tickets SET last_seq = v.last_seq, updated_at = CASE WHEN v.touched THEN ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.now)?;
        out.push_sql(" ELSE tickets.updated_at END FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.ids)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.seqs)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<Bool>, _>(&self.touched)?;
        out.push_sql("::bool[]) AS v(id, last_seq, touched) WHERE tickets.id = v.id");
        Ok(())
    }
}
prepared!(SetLastSeqs, ());

/// Locks the ticket row and hands out its next message seq (`last_seq + 1`, returned
/// in the row) in one statement. Runs in the caller's transaction: the lock holds until
/// commit and a rollback gives the seq back. No indexed column changes, so the update
/// stays on its page (HOT).
pub fn lock_next_seq(conn: &mut PgConnection, id: i64) -> AppResult<Ticket> {
    NextSeq {
        id,
        returning: Ticket::as_select(),
    }
    .get_result(conn)
    .optional()?
    .ok_or_else(|| AppError::not_found("ticket"))
}

/// `lock_next_seq`'s statement, kept prepared (`crate::db::prepared`).
struct NextSeq {
    id: i64,
    returning: AsSelect<Ticket, Pg>,
}

impl QueryFragment<Pg> for NextSeq {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE tickets SET last_seq = last_seq + 1 WHERE id = ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.id)?;
        out.push_sql(" RETURNING ");
        self.returning.walk_ast(out.reborrow())
    }
}
prepared!(NextSeq, AsSelect<Ticket, Pg>);

/// Hands out the next number of `year`. Runs in the caller's transaction: the counter
/// row stays locked until commit, and a rollback gives the number back (gap-free).
fn next_number(conn: &mut PgConnection, year: i32) -> AppResult<String> {
    let n: i32 = diesel::insert_into(ticket_counters::table)
        .values((
            ticket_counters::year.eq(year),
            ticket_counters::last_number.eq(1),
        ))
        .on_conflict(ticket_counters::year)
        .do_update()
        .set(ticket_counters::last_number.eq(ticket_counters::last_number + 1))
        .returning(ticket_counters::last_number)
        .get_result(conn)?;
    Ok(format!("TICK-{year}-{n:04}"))
}

/// SLA due times for `priority`, counted from `from`.
fn sla_due(
    conn: &mut PgConnection,
    priority: Priority,
    from: DateTime<Utc>,
) -> AppResult<DueTimes> {
    let policy: Option<(i32, i32)> = sla_policies::table
        .find(priority.as_str())
        .select((
            sla_policies::first_response_minutes,
            sla_policies::resolution_minutes,
        ))
        .first(conn)
        .optional()?;
    Ok(match policy {
        Some((fr, res)) => (
            Some(from + Duration::minutes(fr.into())),
            Some(from + Duration::minutes(res.into())),
        ),
        None => (None, None),
    })
}

fn history(
    ticket_id: i64,
    actor_id: Option<i64>,
    field: &'static str,
    old: Option<String>,
    new: Option<String>,
) -> NewHistory {
    NewHistory {
        ticket_id,
        actor_id,
        field,
        old_value: old,
        new_value: new,
    }
}

pub fn clean_title(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if t.is_empty() {
        return Err("is required".into());
    }
    if t.chars().count() > 200 {
        return Err("must be at most 200 characters".into());
    }
    Ok(t.to_owned())
}

pub fn clean_description(raw: &str) -> Result<String, String> {
    if raw.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if raw.chars().count() > 20_000 {
        return Err("must be at most 20000 characters".into());
    }
    Ok(raw.trim().to_owned())
}

/// Lower-cases, trims and de-duplicates tags; each is 1–40 of `a-z 0-9 _ -`.
pub fn clean_tags(raw: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim().to_lowercase();
        let valid = !t.is_empty()
            && t.len() <= 40
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(format!("{t:?} is not a tag (1-40 of a-z, 0-9, _ and -)"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    out.sort();
    Ok(out)
}

fn set_tags(conn: &mut PgConnection, ticket_id: i64, tags: &[String]) -> AppResult<()> {
    diesel::delete(ticket_tags::table.filter(ticket_tags::ticket_id.eq(ticket_id)))
        .execute(conn)?;
    let rows: Vec<_> = tags
        .iter()
        .map(|t| (ticket_tags::ticket_id.eq(ticket_id), ticket_tags::tag.eq(t)))
        .collect();
    diesel::insert_into(ticket_tags::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}

fn tags_of(conn: &mut PgConnection, ticket_id: i64) -> AppResult<Vec<String>> {
    Ok(ticket_tags::table
        .filter(ticket_tags::ticket_id.eq(ticket_id))
        .select(ticket_tags::tag)
        .order(ticket_tags::tag.asc())
        .load(conn)?)
}

fn check_category(conn: &mut PgConnection, id: Option<CategoryId>) -> AppResult<Option<i64>> {
    match id {
        None => Ok(None),
        Some(c) => match categories::find(conn, c.0) {
            Ok(cat) => Ok(Some(cat.id)),
            Err(AppError::Client { .. }) => {
                Err(AppError::invalid("category_id", "no such category"))
            }
            Err(e) => Err(e),
        },
    }
}

/// A user who can hold tickets: active staff.
fn check_assignee(conn: &mut PgConnection, id: i64) -> AppResult<User> {
    match user_q::find(conn, id) {
        Ok(u) if u.active && u.role().is_staff() => Ok(u),
        Ok(_) | Err(AppError::Client { .. }) => Err(AppError::invalid(
            "assignee_id",
            "must be an active technician, supervisor or admin",
        )),
        Err(e) => Err(e),
    }
}

pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    req: &CreateTicketRequest,
) -> AppResult<Ticket> {
    let requester_id = req.requester_id.map(|r| r.0).unwrap_or(actor.id);
    check_desk(actor, DeskAction::CreateTicketFor(requester_id))?;
    let mut problems = BTreeMap::new();
    let title = clean_title(&req.title).map_err(|p| problems.insert("title".to_owned(), p));
    let description = clean_description(&req.description)
        .map_err(|p| problems.insert("description".to_owned(), p));
    let tags = clean_tags(&req.tags).map_err(|p| problems.insert("tags".to_owned(), p));
    let (Ok(title), Ok(description), Ok(tags), true) =
        (title, description, tags, problems.is_empty())
    else {
        return Err(AppError::invalid_fields(problems));
    };
    let priority = req.priority.unwrap_or(Priority::Medium);

    conn.transaction(|conn| {
        let category_id = check_category(conn, req.category_id)?;
        if requester_id != actor.id {
            // Staff open tickets on behalf of an active customer.
            match user_q::find(conn, requester_id) {
                Ok(u) if u.active && u.role() == Role::Customer => {}
                Ok(_) | Err(AppError::Client { .. }) => {
                    return Err(AppError::invalid(
                        "requester_id",
                        "must be an active customer",
                    ))
                }
                Err(e) => return Err(e),
            }
        }
        let now = Utc::now();
        let number = next_number(conn, now.year())?;
        let (fr_due, res_due) = sla_due(conn, priority, now)?;
        let life = Lifecycle::new(None);
        let ticket: Ticket = diesel::insert_into(tickets::table)
            .values(NewTicket {
                number: &number,
                title: &title,
                description: &description,
                status: life.status.as_str(),
                priority: priority.as_str(),
                category_id,
                requester_id,
                assignee_id: None,
                first_response_due_at: fr_due,
                resolution_due_at: res_due,
            })
            .returning(Ticket::as_returning())
            .get_result(conn)?;
        set_tags(conn, ticket.id, &tags)?;
        diesel::insert_into(ticket_history::table)
            .values(history(
                ticket.id,
                Some(actor.id),
                "created",
                None,
                Some(number),
            ))
            .execute(conn)?;
        crate::outbox::ticket_created(conn, &ticket)?;
        Ok(ticket)
    })
}

fn opt_str<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|x| x.to_string())
}

/// Writes the lifecycle difference between `before` and `after` into `changes`, and
/// the matching history rows.
pub fn apply_lifecycle(
    ticket: &Ticket,
    actor_id: Option<i64>,
    before: Lifecycle,
    after: Lifecycle,
    changes: &mut TicketChanges,
    log: &mut Vec<NewHistory>,
) {
    if after.status != before.status {
        changes.status = Some(after.status.as_str().to_owned());
        log.push(history(
            ticket.id,
            actor_id,
            "status",
            Some(before.status.to_string()),
            Some(after.status.to_string()),
        ));
    }
    if after.assignee_id != before.assignee_id {
        changes.assignee_id = Some(after.assignee_id);
        log.push(history(
            ticket.id,
            actor_id,
            "assignee_id",
            opt_str(before.assignee_id),
            opt_str(after.assignee_id),
        ));
    }
    if after.first_response_at != before.first_response_at {
        changes.first_response_at = Some(after.first_response_at);
    }
    if after.resolved_at != before.resolved_at {
        changes.resolved_at = Some(after.resolved_at);
    }
    if after.closed_at != before.closed_at {
        changes.closed_at = Some(after.closed_at);
    }
}

/// Saves `changes` and `log` if there is anything to save; returns the fresh row.
pub fn save(
    conn: &mut PgConnection,
    ticket: Ticket,
    mut changes: TicketChanges,
    log: Vec<NewHistory>,
    bump_updated: bool,
) -> AppResult<Ticket> {
    if log.is_empty() && !bump_updated && changes.last_seq.is_none() {
        return Ok(ticket);
    }
    changes.updated_at = Some(Utc::now());
    let row = diesel::update(tickets::table.find(ticket.id))
        .set(&changes)
        .returning(Ticket::as_returning())
        .get_result(conn)?;
    if !log.is_empty() {
        diesel::insert_into(ticket_history::table)
            .values(&log)
            .execute(conn)?;
    }
    Ok(row)
}

/// Applies a PATCH: every field is checked (visibility → permission → validity) before
/// anything is written, and all of it commits together.
pub fn update(
    conn: &mut PgConnection,
    actor: &Actor,
    id: i64,
    req: &UpdateTicketRequest,
) -> AppResult<Ticket> {
    conn.transaction(|conn| {
        let ticket = lock(conn, id)?;
        let facts = ticket.facts();
        check_ticket(actor, &facts, TicketAction::View)?;
        if req.title.is_some() || req.description.is_some() {
            check_ticket(actor, &facts, TicketAction::EditDetails)?;
        }
        if let Some(s) = req.status {
            check_ticket(actor, &facts, TicketAction::SetStatus(s))?;
        }
        if req.priority.is_some() {
            check_ticket(actor, &facts, TicketAction::SetPriority)?;
        }
        if req.category_id.is_some() {
            check_ticket(actor, &facts, TicketAction::SetCategory)?;
        }
        if req.tags.is_some() {
            check_ticket(actor, &facts, TicketAction::EditTags)?;
        }

        let mut problems = BTreeMap::new();
        let title = req.title.as_deref().map(clean_title).transpose();
        let description = req
            .description
            .as_deref()
            .map(clean_description)
            .transpose();
        let tags = req.tags.as_deref().map(clean_tags).transpose();
        let title = title.map_err(|p| problems.insert("title".to_owned(), p));
        let description = description.map_err(|p| problems.insert("description".to_owned(), p));
        let tags = tags.map_err(|p| problems.insert("tags".to_owned(), p));
        let (Ok(title), Ok(description), Ok(tags), true) =
            (title, description, tags, problems.is_empty())
        else {
            return Err(AppError::invalid_fields(problems));
        };

        let actor_id = Some(actor.id);
        let mut changes = TicketChanges::default();
        let mut log = Vec::new();
        if let Some(t) = title.filter(|t| *t != ticket.title) {
            log.push(history(
                ticket.id,
                actor_id,
                "title",
                Some(ticket.title.clone()),
                Some(t.clone()),
            ));
            changes.title = Some(t);
        }
        if let Some(d) = description.filter(|d| *d != ticket.description) {
            log.push(history(
                ticket.id,
                actor_id,
                "description",
                Some(ticket.description.clone()),
                Some(d.clone()),
            ));
            changes.description = Some(d);
        }
        if let Some(p) = req.priority.filter(|p| *p != ticket.priority()) {
            let (fr_due, res_due) = sla_due(conn, p, ticket.created_at)?;
            changes.priority = Some(p.as_str().to_owned());
            changes.first_response_due_at = Some(fr_due);
            changes.resolution_due_at = Some(res_due);
            log.push(history(
                ticket.id,
                actor_id,
                "priority",
                Some(ticket.priority.clone()),
                Some(p.to_string()),
            ));
        }
        if let Some(c) = req.category_id {
            let c = check_category(conn, c)?;
            if c != ticket.category_id {
                changes.category_id = Some(c);
                log.push(history(
                    ticket.id,
                    actor_id,
                    "category_id",
                    opt_str(ticket.category_id),
                    opt_str(c),
                ));
            }
        }
        if let Some(tags) = tags {
            let old = tags_of(conn, ticket.id)?;
            if old != tags {
                set_tags(conn, ticket.id, &tags)?;
                log.push(history(
                    ticket.id,
                    actor_id,
                    "tags",
                    Some(old.join(",")),
                    Some(tags.join(",")),
                ));
            }
        }
        if let Some(s) = req.status {
            let before = ticket.lifecycle();
            let after = before.set_status(s, Utc::now());
            apply_lifecycle(&ticket, actor_id, before, after, &mut changes, &mut log);
        }
        save(conn, ticket, changes, log, false)
    })
}

/// Sets or clears the assignee (`POST /tickets/{id}/assign`).
pub fn assign(
    conn: &mut PgConnection,
    actor: &Actor,
    id: i64,
    target: Option<i64>,
) -> AppResult<Ticket> {
    conn.transaction(|conn| {
        let ticket = lock(conn, id)?;
        check_ticket(actor, &ticket.facts(), TicketAction::Assign(target))?;
        if let Some(t) = target {
            check_assignee(conn, t)?;
        }
        if ticket.assignee_id == target {
            return Ok(ticket);
        }
        let before = ticket.lifecycle();
        let after = before.assign(target);
        let mut changes = TicketChanges::default();
        let mut log = Vec::new();
        apply_lifecycle(
            &ticket,
            Some(actor.id),
            before,
            after,
            &mut changes,
            &mut log,
        );
        save(conn, ticket, changes, log, false)
    })
}

#[derive(QueryableByName)]
struct IdCount {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Read models for `rows`, as `viewer` may see them: message counts include internal
/// notes for staff only.
pub fn views(
    conn: &mut PgConnection,
    viewer_role: Role,
    rows: &[Ticket],
) -> AppResult<Vec<TicketView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let mut user_ids: Vec<i64> = rows.iter().map(|t| t.requester_id).collect();
    user_ids.extend(rows.iter().filter_map(|t| t.assignee_id));
    user_ids.sort_unstable();
    user_ids.dedup();
    let people: HashMap<i64, User> = user_q::find_many(conn, &user_ids)?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let cat_ids: Vec<i64> = rows.iter().filter_map(|t| t.category_id).collect();
    let cats: HashMap<i64, Category> = categories_t::table
        .filter(categories_t::id.eq_any(&cat_ids))
        .select(Category::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (tid, tag) in ticket_tags::table
        .filter(ticket_tags::ticket_id.eq_any(&ids))
        .select((ticket_tags::ticket_id, ticket_tags::tag))
        .order((ticket_tags::ticket_id, ticket_tags::tag))
        .load::<(i64, String)>(conn)?
    {
        tags.entry(tid).or_default().push(tag);
    }
    // A ticket's seqs are gap-free (a seq is handed out in the storing transaction), so
    // staff, who see every message, see `last_seq` of them. Customers see all but the
    // internal notes, counted up to the row's `last_seq` through their partial index: a
    // busy ticket's conversation is never read to count it.
    let internal: HashMap<i64, i64> = if viewer_role.is_staff() {
        HashMap::new()
    } else {
        diesel::sql_query(
            "SELECT t.id, count(*) AS n \
             FROM unnest($1::bigint[], $2::bigint[]) AS t(id, last_seq) \
             JOIN messages m ON m.ticket_id = t.id AND m.seq <= t.last_seq \
                            AND m.kind = 'internal' \
             GROUP BY t.id",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<BigInt>, _>(rows.iter().map(|t| t.last_seq).collect::<Vec<_>>())
        .load::<IdCount>(conn)?
        .into_iter()
        .map(|r| (r.id, r.n))
        .collect()
    };

    rows.iter()
        .map(|t| {
            let requester = people
                .get(&t.requester_id)
                .map(User::summary)
                .ok_or_else(|| AppError::internal(format!("ticket {} has no requester", t.id)))?;
            Ok(TicketView {
                id: TicketId(t.id),
                number: t.number.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                status: t.status(),
                priority: t.priority(),
                category: t
                    .category_id
                    .and_then(|c| cats.get(&c))
                    .map(|c| CategoryRef {
                        id: CategoryId(c.id),
                        name: c.name.clone(),
                        parent_id: c.parent_id.map(CategoryId),
                    }),
                requester,
                assignee: t
                    .assignee_id
                    .and_then(|a| people.get(&a))
                    .map(User::summary),
                tags: tags.remove(&t.id).unwrap_or_default(),
                message_count: t.last_seq - internal.get(&t.id).copied().unwrap_or(0),
                created_at: t.created_at,
                updated_at: t.updated_at,
                first_response_at: t.first_response_at,
                resolved_at: t.resolved_at,
                closed_at: t.closed_at,
                first_response_due_at: t.first_response_due_at,
                resolution_due_at: t.resolution_due_at,
            })
        })
        .collect()
}

pub fn view(conn: &mut PgConnection, viewer_role: Role, ticket: &Ticket) -> AppResult<TicketView> {
    views(conn, viewer_role, std::slice::from_ref(ticket))?
        .pop()
        .ok_or_else(|| AppError::internal("view of one ticket is empty"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Created,
    Updated,
    Priority,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    /// The sort this cursor belongs to.
    s: String,
    /// Timestamp of the last row (created/updated sorts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<DateTime<Utc>>,
    /// Priority rank of the last row (priority sort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<i16>,
    id: i64,
}

impl Cursor {
    /// The cursor just past `t` in the sort `sort` (keyed by `key`).
    fn at(key: SortKey, sort: &str, t: &Ticket) -> Cursor {
        Cursor {
            s: sort.to_owned(),
            t: match key {
                SortKey::Created => Some(t.created_at),
                SortKey::Updated => Some(t.updated_at),
                SortKey::Priority => None,
            },
            p: (key == SortKey::Priority).then(|| t.priority().rank()),
            id: t.id,
        }
    }
}

fn encode_cursor(c: &Cursor) -> String {
    let json = serde_json::to_vec(c).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(raw: &str, sort: &str) -> AppResult<Cursor> {
    let bad = || {
        AppError::invalid(
            "cursor",
            "is not a cursor from this list; start again without it",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if c.s != sort {
        return Err(bad());
    }
    Ok(c)
}

fn parse_list<T: Copy>(
    field: &str,
    raw: &Option<String>,
    parse: fn(&str) -> Option<T>,
) -> AppResult<Vec<T>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).ok_or_else(|| AppError::invalid(field, format!("unknown value {s:?}"))))
        .collect()
}

/// Which half of a full-text search one query answers. `title, description or any
/// public message` as one `OR` cannot use either GIN index (the planner walks every
/// ticket in sort order probing its messages, 80–150 ms for a rare word at 1M tickets),
/// so each half is its own query, planned on its own index, and the two pages are merged
/// by the sort key.
///
/// A half is either walked in sort order, testing each ticket (fast when the term is
/// common: the page fills within a few rows), or, for a rare term, answered from the
/// GIN index first (the tickets it names, then sorted). The planner cannot tell the two
/// apart for a term missing from its statistics (it guesses 0.5% of rows and walks: 2 s
/// for an absent word at 5M messages). So a search whose words the statistics know as
/// common (in either half) is walked, in slices under the search budget (see `list`);
/// any other is probed in the index for at most `GIN_FIRST + 1` matches, and a rare one
/// answered from them (see `Plan`). The title half runs first; when it fills a page, the
/// message half only looks at the tickets before that page's last row.
#[derive(Clone, Copy)]
enum SearchHalf<'a> {
    Ticket(&'a str),
    /// Both halves at once, tested ticket by ticket (the title never from its index:
    /// with a slice's range the planner still picked it for a common phrase, 17 ms for
    /// `"slow crash"` at 1M tickets against 0.3 ms testing the slice's 1,000), for the
    /// tickets of a slice (see `list`).
    Either(&'a str),
    Messages(&'a str),
    Ids(&'a [i64]),
}

/// A term matching at most this many rows of a half counts as rare.
const GIN_FIRST: i64 = 2000;

/// A ticket with more messages than this is probed through the search index when a
/// search walks the tickets in sort order (fewer: its messages are read and tested).
pub const BUSY_TICKET: i64 = 64;

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Expected share of `table`'s rows from which a term is walked without a probe.
const COMMON_SHARE: f64 = 0.002;

/// How one half of a search is answered, from what the planner's statistics say of its
/// words (the most-common-elements list of `search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Common: walk the tickets in sort order; the page fills within a few hundred rows.
    Walk,
    /// Several words, each in the statistics' list of common ones, together not common
    /// (as far as multiplying their frequencies tells). The index would read every
    /// entry of every word (45 ms for three words of 9% each at 5M messages): walked in
    /// slices, like `Walk`.
    CommonWords,
    /// Anything else (a word the statistics do not know, a rare word, no statistics
    /// yet): ask the index first, where a rare word is cheap.
    Probe,
}

/// The plans for both halves of a search for the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plans {
    pub tickets: Plan,
    pub messages: Plan,
}

/// The plans for `text` in `tickets` and `messages`, from its words: how many, how many
/// the statistics list as common, and their frequencies multiplied as the planner does
/// (a word missing from the list counts as absent): at least `COMMON_SHARE` to walk. A
/// table without statistics yet, or a text without words: probe.
pub fn plans_for(conn: &mut PgConnection, text: &str) -> AppResult<Plans> {
    let rows: Vec<(String, i64, i64, Option<f64>)> = WordStats { text }.load(conn)?;
    let of = |table: &str| {
        rows.iter()
            .find(|r| r.0 == table)
            .map_or(Plan::Probe, |&(_, words, known, share)| match share {
                Some(share) if share >= COMMON_SHARE => Plan::Walk,
                _ if words >= 2 && known == words => Plan::CommonWords,
                _ => Plan::Probe,
            })
    };
    Ok(Plans {
        tickets: of("tickets"),
        messages: of("messages"),
    })
}

/// `plans_for`'s statement: both tables in one round trip, kept prepared
/// (`crate::db::prepared`). Planning a query on the `pg_stats` view took 2–3 ms, three
/// times as long as running it, and a search asked twice.
struct WordStats<'a> {
    text: &'a str,
}

impl QueryFragment<Pg> for WordStats<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT s.tablename::text, count(*), count(f), \
                    exp(sum(ln(greatest(coalesce(f, 0), 1e-12)))) \
             FROM unnest(tsvector_to_array(to_tsvector('english', ",
        );
        out.push_bind_param::<Text, _>(&self.text)?;
        out.push_sql(
            "::text))) AS w \
             CROSS JOIN pg_stats s \
             CROSS JOIN LATERAL (SELECT s.most_common_elem_freqs[ \
                 array_position(s.most_common_elems::text::text[], w)] AS f) AS x \
             WHERE s.schemaname = current_schema() \
               AND s.tablename IN ('tickets', 'messages') AND s.attname = 'search' \
             GROUP BY s.tablename",
        );
        Ok(())
    }
}
prepared!(
    WordStats<'a>,
    (
        Text,
        BigInt,
        BigInt,
        diesel::sql_types::Nullable<diesel::sql_types::Double>
    )
);

/// The tickets a half's index names, if at most `GIN_FIRST` rows match (`None`: more;
/// walk instead).
fn probe(conn: &mut PgConnection, half: SearchHalf<'_>) -> AppResult<Option<Vec<i64>>> {
    let (sql, text) = match half {
        SearchHalf::Ticket(t) | SearchHalf::Either(t) => (
            "SELECT id FROM tickets WHERE search @@ websearch_to_tsquery('english', $1) LIMIT $2",
            t,
        ),
        SearchHalf::Messages(t) => (
            "SELECT ticket_id AS id FROM messages WHERE search @@ websearch_to_tsquery('english', $1) LIMIT $2",
            t,
        ),
        SearchHalf::Ids(ids) => return Ok(Some(ids.to_vec())),
    };
    let rows: Vec<IdRow> = diesel::sql_query(sql)
        .bind::<Text, _>(text)
        .bind::<BigInt, _>(GIN_FIRST + 1)
        .load(conn)?;
    if rows.len() as i64 > GIN_FIRST {
        return Ok(None);
    }
    let mut ids: Vec<i64> = rows.into_iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

type TicketQuery<'a> = tickets::BoxedQuery<
    'a,
    diesel::pg::Pg,
    <diesel::dsl::AsSelect<Ticket, diesel::pg::Pg> as diesel::Expression>::SqlType,
>;

/// A ticket's position in a sort, for merging the halves of a search.
fn sort_position(key: SortKey, t: &Ticket) -> (i64, i64) {
    let k = match key {
        SortKey::Created => t.created_at.timestamp_micros(),
        SortKey::Updated => t.updated_at.timestamp_micros(),
        SortKey::Priority => i64::from(t.priority().rank()),
    };
    (k, t.id)
}

/// How `a` and `b` compare in the order (`key`, `desc`).
fn order(key: SortKey, desc: bool, a: &Ticket, b: &Ticket) -> std::cmp::Ordering {
    let o = sort_position(key, a).cmp(&sort_position(key, b));
    if desc {
        o.reverse()
    } else {
        o
    }
}

/// Merges pages sorted the same way into one, without repeats, at most `limit` long.
fn merge_sorted(mut rows: Vec<Ticket>, key: SortKey, desc: bool, limit: usize) -> Vec<Ticket> {
    rows.sort_by(|a, b| order(key, desc, a, b));
    rows.dedup_by_key(|t| t.id);
    rows.truncate(limit);
    rows
}

/// `$query` narrowed to the rows strictly past (`$v`, `$id`) on column `tickets.$col`
/// (of SQL type `$ty`), going down (`$desc`) or up, with `tickets.id` breaking
/// ties. The exact condition is a row comparison, which an index on (`$col`, `id`) can
/// start or stop at exactly: written as `col < v OR (col = v AND id < id)` only the
/// range on `col` bounds the scan, and a window whose edge falls inside a run of equal
/// keys (a priority: a quarter of all tickets) reads the whole run. The plain range
/// beside it is what an index on `$col` alone (or after an equality, like
/// `(status, created_at)`) can use.
macro_rules! past {
    ($query:expr, $col:ident, $ty:ty, $v:expr, $id:expr, $desc:expr) => {{
        let (v, id) = ($v, $id);
        let row = |op: &str| {
            sql::<Bool>(concat!("(tickets.", stringify!($col), ", tickets.id) "))
                .sql(op)
                .sql(" (")
                .bind::<$ty, _>(v)
                .sql(", ")
                .bind::<BigInt, _>(id)
                .sql(")")
        };
        if $desc {
            $query.filter(tickets::$col.le(v)).filter(row("<"))
        } else {
            $query.filter(tickets::$col.ge(v)).filter(row(">"))
        }
    }};
}

/// `query` narrowed to the rows strictly after `c` in the order (`key`, `desc`): a page's
/// cursor, or (with `!desc`) the end of a window that stops just before `c`.
fn after(
    query: TicketQuery<'static>,
    key: SortKey,
    desc: bool,
    c: &Cursor,
) -> AppResult<TicketQuery<'static>> {
    let bad = || AppError::invalid("cursor", "is malformed");
    let (t, p, id) = (|| c.t.ok_or_else(bad), || c.p.ok_or_else(bad), c.id);
    Ok(match key {
        SortKey::Created => past!(query, created_at, Timestamptz, t()?, id, desc),
        SortKey::Updated => past!(query, updated_at, Timestamptz, t()?, id, desc),
        SortKey::Priority => past!(query, priority_rank, SmallInt, p()?, id, desc),
    })
}

/// `query` narrowed to the tickets that one half of a search matches.
fn searched(query: TicketQuery<'static>, half: SearchHalf<'_>) -> TicketQuery<'static> {
    match half {
        SearchHalf::Ticket(text) => query.filter(
            sql::<Bool>("tickets.search @@ websearch_to_tsquery('english', ")
                .bind::<Text, _>(text.to_owned())
                .sql(")"),
        ),
        SearchHalf::Messages(text) => query.filter(messages_match(text)),
        // `ts_match_vq` is `@@` as a function, which no index serves; a ticket whose
        // title or description matches is not asked for its messages.
        SearchHalf::Either(text) => query.filter(
            sql::<Bool>("ts_match_vq(tickets.search, websearch_to_tsquery('english', ")
                .bind::<Text, _>(text.to_owned())
                .sql("))")
                .or(messages_match(text)),
        ),
        SearchHalf::Ids(ids) => query.filter(tickets::id.eq_any(ids.to_vec())),
    }
}

/// Whether one of the ticket's *public* messages matches `text`. Internal notes have
/// no search vector at all (see the migration), so they can never match. A ticket with
/// many messages asks the search index, keyed by ticket (`ticket_id + 0`), instead of
/// testing each of its messages: the planner costs this probe from the average ticket
/// and would always pick the b-tree, reading every message. `OFFSET 0` keeps each probe
/// per ticket: without it the planner may build the set of every matching message first
/// (22,000 rows for "battery timeout" at 5M messages: 100 ms a branch), which is the
/// rare-term plan's job.
fn messages_match(
    text: &str,
) -> diesel::expression::SqlLiteral<Bool, impl QueryFragment<Pg> + Send> {
    sql::<Bool>(&format!("CASE WHEN tickets.last_seq > {BUSY_TICKET} THEN EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id + 0 = tickets.id AND m.search @@ websearch_to_tsquery('english', "))
        .bind::<Text, _>(text.to_owned())
        .sql(") OFFSET 0) ELSE EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = tickets.id AND m.search @@ websearch_to_tsquery('english', ")
        .bind::<Text, _>(text.to_owned())
        .sql(") OFFSET 0) END")
}

/// `query` in the list's order: the sort key, then `id`, both going the same way.
fn ordered(query: TicketQuery<'static>, key: SortKey, desc: bool) -> TicketQuery<'static> {
    match (key, desc) {
        (SortKey::Created, true) => query.order((tickets::created_at.desc(), tickets::id.desc())),
        (SortKey::Created, false) => query.order((tickets::created_at.asc(), tickets::id.asc())),
        (SortKey::Updated, true) => query.order((tickets::updated_at.desc(), tickets::id.desc())),
        (SortKey::Updated, false) => query.order((tickets::updated_at.asc(), tickets::id.asc())),
        (SortKey::Priority, true) => {
            query.order((tickets::priority_rank.desc(), tickets::id.desc()))
        }
        (SortKey::Priority, false) => {
            query.order((tickets::priority_rank.asc(), tickets::id.asc()))
        }
    }
}

/// Plans the list's statements for their values each time, for the rest of the
/// transaction (a list with filters: without them there is no value to misjudge, and
/// planning each search statement anew cost 1–2 ms a page). diesel keeps them prepared,
/// and after five runs PostgreSQL may keep a generic plan, made without the values:
/// one that walks the sort index for filters that look selective together took 535 ms
/// against 28 ms planned for the values (`status=closed&category_id=c` where no ticket
/// has both, at 1M tickets).
fn custom_plans(conn: &mut PgConnection) -> AppResult<()> {
    diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
    Ok(())
}

/// `GET /api/tickets`: filters, full-text search, sort and keyset pagination.
/// Customers only ever see their own tickets, whatever the filters say. A search page
/// that its exact plan cannot answer within `budget` is answered in slices and may come
/// back `partial` (see `SearchBudget`).
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    q: &TicketListQuery,
    budget: SearchBudget,
) -> AppResult<TicketPage> {
    let limit = q.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 100"));
    }
    let statuses = parse_list("status", &q.status, TicketStatus::parse)?;
    let priorities = parse_list("priority", &q.priority, Priority::parse)?;
    let sort_raw = q.sort.clone().unwrap_or_else(|| "-created_at".into());
    let (key, desc) = match sort_raw.as_str() {
        "created_at" => (SortKey::Created, false),
        "-created_at" => (SortKey::Created, true),
        "updated_at" => (SortKey::Updated, false),
        "-updated_at" => (SortKey::Updated, true),
        "priority" => (SortKey::Priority, false),
        "-priority" => (SortKey::Priority, true),
        _ => return Err(AppError::invalid(
            "sort",
            "must be one of created_at, -created_at, updated_at, -updated_at, priority, -priority",
        )),
    };
    let cursor = q
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c, &sort_raw))
        .transpose()?;
    let number = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = number {
        if !is_ticket_number(n) {
            return Err(AppError::invalid("number", "must look like TICK-2026-0042"));
        }
    }
    let tag = q
        .tag
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(text) = text {
        if text.chars().count() > 200 {
            return Err(AppError::invalid("q", "must be at most 200 characters"));
        }
        crate::error::no_nul("q", text)?;
    }

    // A category and its subcategories, looked up first: as a subquery beside the
    // category (`category_id = c OR category_id IN (...)`) no index could serve the
    // filter, and a category with few tickets walked the whole list (250 ms at 1M
    // tickets for an empty one, 2.3 s sorted by priority).
    let categories: Option<Vec<i64>> = match q.category_id {
        None => None,
        Some(c) => {
            let mut ids: Vec<i64> = categories_t::table
                .filter(categories_t::parent_id.eq(c))
                .select(categories_t::id)
                .load(conn)?;
            ids.push(c);
            Some(ids)
        }
    };

    // Every filter and the order; `search` adds one half of a text search, `from` starts
    // the rows just after a ticket (the page's cursor), `window` stops them just before
    // one.
    let build = |search: Option<SearchHalf<'_>>,
                 from: Option<&Cursor>,
                 window: Option<&Cursor>|
     -> AppResult<TicketQuery<'static>> {
        let mut query = tickets::table.select(Ticket::as_select()).into_boxed();
        if !actor.role.is_staff() {
            query = query.filter(tickets::requester_id.eq(actor.id));
        }
        if let Some(r) = q.requester_id {
            query = query.filter(tickets::requester_id.eq(r));
        }
        if !statuses.is_empty() {
            query = query.filter(
                tickets::status.eq_any(statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
            );
        }
        if !priorities.is_empty() {
            query = query.filter(
                tickets::priority.eq_any(priorities.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
            );
        }
        if let Some(ids) = &categories {
            query = query.filter(tickets::category_id.eq_any(ids.clone()));
        }
        if let Some(a) = q.assignee_id {
            query = query.filter(tickets::assignee_id.eq(a));
        }
        match q.unassigned {
            Some(true) => query = query.filter(tickets::assignee_id.is_null()),
            Some(false) => query = query.filter(tickets::assignee_id.is_not_null()),
            None => {}
        }
        if let Some(n) = number {
            query = query.filter(tickets::number.eq(n.to_uppercase()));
        }
        if let Some(tag) = &tag {
            let tagged = ticket_tags::table
                .filter(ticket_tags::tag.eq(tag.clone()))
                .select(ticket_tags::ticket_id);
            query = query.filter(tickets::id.eq_any(tagged));
        }
        if let Some(t) = q.created_from {
            query = query.filter(tickets::created_at.ge(t));
        }
        if let Some(t) = q.created_to {
            query = query.filter(tickets::created_at.lt(t));
        }
        if let Some(t) = q.updated_from {
            query = query.filter(tickets::updated_at.ge(t));
        }
        if let Some(t) = q.updated_to {
            query = query.filter(tickets::updated_at.lt(t));
        }
        if let Some(half) = search {
            query = searched(query, half);
        }

        if let Some(c) = from {
            query = after(query, key, desc, c)?;
        }
        // A window: only the rows before `w` (a slice's end, or the title half's page).
        if let Some(w) = window {
            query = after(query, key, !desc, w)?;
        }
        Ok(ordered(query, key, desc))
    };
    let page = limit + 1;
    let from = cursor.as_ref();
    // Whether any condition beyond the cursor narrows the list (a customer's own tickets
    // among them): a search in slices then finds each slice's tickets first.
    let filtered = !actor.role.is_staff()
        || q.requester_id.is_some()
        || !statuses.is_empty()
        || !priorities.is_empty()
        || q.category_id.is_some()
        || q.assignee_id.is_some()
        || q.unassigned.is_some()
        || number.is_some()
        || tag.is_some()
        || q.created_from.is_some()
        || q.created_to.is_some()
        || q.updated_from.is_some()
        || q.updated_to.is_some();

    // The page's rows in order (at most `page`), and for a partial page the last ticket
    // searched.
    let (mut rows, stopped): (Vec<Ticket>, Option<Ticket>) = match text {
        None if filtered => conn.transaction(|conn| {
            custom_plans(conn)?;
            AppResult::Ok((build(None, from, None)?.limit(page).load(conn)?, None))
        })?,
        None => (build(None, from, None)?.limit(page).load(conn)?, None),
        Some(text) => {
            let began = Instant::now();
            let deadline = began + StdDuration::from_millis(budget.ms);
            // The exact plan has half the budget and no grace, so that the slices still
            // have the other half when PostgreSQL cancels it.
            let exact_deadline = began + StdDuration::from_millis(budget.ms / 2);
            // Before each statement of a timed search: what is left until `deadline`, plus
            // `grace`, becomes its timeout, at least 1 ms (0 would be none; `false`:
            // nothing is left). The slices' grace is half the budget: their timeout is for
            // a plan that would take many times the budget, and a statement cancelled is
            // work lost.
            let arm = |conn: &mut PgConnection, deadline: Instant, grace: u64| -> AppResult<bool> {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                let ms = (left.as_millis() as u64 + grace).max(1);
                diesel::sql_query(format!("SET LOCAL statement_timeout = {ms}")).execute(conn)?;
                Ok(true)
            };
            // The exact plan for rare words: each half asks its index for the matching
            // tickets, then sorts them (too many: walks after all). A full page of title
            // matches ends the merged page at its last row at the latest: the message
            // half only needs the tickets before it.
            // Each statement is timed (`None`: the budget ran out between them).
            let exact = |conn: &mut PgConnection| -> AppResult<Option<Vec<Ticket>>> {
                let probed = |conn: &mut PgConnection, half, window: Option<&Cursor>| {
                    if !arm(conn, exact_deadline, 0)? {
                        return Ok(None);
                    }
                    let query = match probe(conn, half)? {
                        Some(ids) if ids.is_empty() => return Ok(Some(Vec::new())),
                        Some(ids) => build(Some(SearchHalf::Ids(&ids)), from, window)?,
                        None => build(Some(half), from, window)?,
                    };
                    if !arm(conn, exact_deadline, 0)? {
                        return Ok(None);
                    }
                    AppResult::Ok(Some(query.limit(page).load(conn)?))
                };
                let Some(mut direct) = probed(conn, SearchHalf::Ticket(text), None)? else {
                    return Ok(None);
                };
                let window = match direct.last() {
                    Some(last) if direct.len() as i64 == page => {
                        Some(Cursor::at(key, &sort_raw, last))
                    }
                    _ => None,
                };
                let Some(more) = probed(conn, SearchHalf::Messages(text), window.as_ref())? else {
                    return Ok(None);
                };
                direct.extend(more);
                Ok(Some(merge_sorted(direct, key, desc, page as usize)))
            };
            // One slice: the `size` tickets after `start` in the list's order (fewer at the
            // end of the list), both halves tested together over them. Answers the matches
            // among them (at most `page`) and the slice's last ticket when the list goes on
            // after it (`None`: the slice reached the end); `None` instead if `timed` and
            // the budget ran out between its statements.
            type Slice = (Vec<Ticket>, Option<Ticket>);
            let slice = |conn: &mut PgConnection,
                         start: Option<&Cursor>,
                         size: i64,
                         timed: bool|
             -> AppResult<Option<Slice>> {
                let armed = |conn: &mut PgConnection| -> AppResult<bool> {
                    if timed {
                        arm(conn, deadline, budget.ms / 2)
                    } else {
                        Ok(true)
                    }
                };
                if !armed(conn)? {
                    return Ok(None);
                }
                if filtered {
                    // With filters: the slice's ticket ids first (the filters' own plan,
                    // stopped by the limit), then the search among those ids only. Said
                    // again beside the slice's range, the filters would have the planner
                    // add their indexes to it: the status index's 166,000 entries for
                    // `status=closed`, 20 ms for a slice of 100 tickets. Each id is an
                    // index lookup, which costs about twice a walk of the range.
                    let mut ids: Vec<i64> = build(None, start, None)?
                        .select(tickets::id)
                        .limit(size + 1)
                        .load(conn)?;
                    let goes_on = ids.len() as i64 > size;
                    ids.truncate(size as usize);
                    let last_id = ids.last().copied();
                    if !armed(conn)? {
                        return Ok(None);
                    }
                    let within = tickets::table
                        .select(Ticket::as_select())
                        .filter(tickets::id.eq_any(ids))
                        .into_boxed();
                    let found = ordered(searched(within, SearchHalf::Either(text)), key, desc)
                        .limit(page)
                        .load(conn)?;
                    let last = match last_id {
                        Some(id) if goes_on => {
                            if !armed(conn)? {
                                return Ok(None);
                            }
                            Some(find(conn, id)?)
                        }
                        _ => None,
                    };
                    return Ok(Some((found, last)));
                }
                // Without filters: the slice's last ticket and the one after it, then the
                // search over the range between the start and that one, which stops at a
                // full page.
                let mut edge: Vec<Ticket> = build(None, start, None)?
                    .offset(size - 1)
                    .limit(2)
                    .load(conn)?;
                let past = (edge.len() == 2).then(|| Cursor::at(key, &sort_raw, &edge[1]));
                // By priority, a quarter of the tickets share a key, and PostgreSQL 15
                // cannot stop a scan of the (rank, id) index at the row comparison that
                // ends the slice (nor at a plain `id` bound beside it): it reads the rest
                // of the rank, 6–14 ms for a slice of 1,000 at 1M tickets. A slice within
                // one rank is said with plain conditions only, which the index starts and
                // stops at: 1.4 ms. The rank, when the slice's first and last tickets
                // share it (a start in it says so for the first; otherwise it is looked
                // up).
                let rank = match (key, edge.first()) {
                    (SortKey::Priority, Some(last)) => {
                        let r = last.priority().rank();
                        let first = match start.and_then(|s| s.p) {
                            Some(p) if p == r => Some(r),
                            _ if !armed(conn)? => return Ok(None),
                            _ => build(None, start, None)?
                                .limit(1)
                                .load::<Ticket>(conn)?
                                .pop()
                                .map(|f| f.priority().rank()),
                        };
                        (first == Some(r)).then_some(r)
                    }
                    _ => None,
                };
                let half = SearchHalf::Either(text);
                let query = match rank {
                    None => build(Some(half), start, past.as_ref())?,
                    // Within the rank: the ids after the start and before the end, where
                    // those are in the rank too (one in another rank bounds nothing).
                    Some(r) => {
                        let id = |c: Option<&Cursor>| c.filter(|c| c.p == Some(r)).map(|c| c.id);
                        let (from_id, to_id) = (id(start), id(past.as_ref()));
                        let mut query =
                            build(Some(half), None, None)?.filter(tickets::priority_rank.eq(r));
                        let (after, before) = if desc {
                            (to_id, from_id)
                        } else {
                            (from_id, to_id)
                        };
                        if let Some(id) = after {
                            query = query.filter(tickets::id.gt(id));
                        }
                        if let Some(id) = before {
                            query = query.filter(tickets::id.lt(id));
                        }
                        query
                    }
                };
                if !armed(conn)? {
                    return Ok(None);
                }
                let found = query.limit(page).load(conn)?;
                let last = past.is_some().then(|| edge.swap_remove(0));
                Ok(Some((found, last)))
            };
            // In slices: the next tickets in the list's order, until the page is full, the
            // list ends or the time is spent. The first slice is `first_slice` tickets;
            // each next one is sized from the pace of the last to what is left of the
            // time. Each slice's statements run under a timeout of what is left, in a
            // savepoint: a filter few tickets pass can make a slice read far, and the
            // pace of the last slice does not tell the next one's. A slice PostgreSQL
            // cancels is rolled back and the page ends before it; when that is the first,
            // or the exact plan already spent the budget, one small slice runs without a
            // timeout instead, so that every page moves the search on.
            let sliced = |conn: &mut PgConnection| -> AppResult<(Vec<Ticket>, Option<Ticket>)> {
                let timed = budget.ms > 0;
                let small = (budget.first_slice / 8).clamp(1, 100);
                let mut start = cursor.clone();
                let mut size = budget.first_slice;
                let mut found: Vec<Ticket> = Vec::new();
                let mut searched: Option<Ticket> = None;
                loop {
                    let began = Instant::now();
                    let attempt = if timed {
                        conn.transaction(|conn| slice(conn, start.as_ref(), size, true))
                    } else {
                        slice(conn, start.as_ref(), size, false)
                    };
                    let (matches, last) = match attempt {
                        Ok(Some(s)) => s,
                        Ok(None) | Err(AppError::Database(_)) if timed => {
                            if searched.is_some() {
                                return Ok((found, searched));
                            }
                            tracing::debug!(
                                size,
                                "first search slice over its budget: a small one"
                            );
                            size = small;
                            conn.transaction(|conn| {
                                diesel::sql_query("SET LOCAL statement_timeout = 0")
                                    .execute(conn)?;
                                slice(conn, start.as_ref(), size, false)
                            })?
                            .ok_or_else(|| AppError::internal("an untimed search slice stopped"))?
                        }
                        Ok(None) => {
                            return Err(AppError::internal("an untimed search slice stopped"))
                        }
                        Err(e) => return Err(e),
                    };
                    found.extend(matches);
                    found = merge_sorted(found, key, desc, page as usize);
                    let Some(last) = last else {
                        return Ok((found, None));
                    };
                    if found.len() as i64 == page {
                        return Ok((found, None));
                    }
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok((found, Some(last)));
                    }
                    let per_ticket = began.elapsed().as_secs_f64() / size as f64;
                    let fits = (0.8 * left.as_secs_f64() / per_ticket.max(1e-9)) as i64;
                    size = fits.clamp(100, size.saturating_mul(8).max(100));
                    start = Some(Cursor::at(key, &sort_raw, &last));
                    searched = Some(last);
                }
            };
            // Both halves in one snapshot, so a ticket cannot be missed (or shown twice)
            // because a message arrived between the queries. A search the statistics
            // call rare in both halves runs its exact plan, in a savepoint, each of its
            // statements (up to four) under a timeout of what is left of its half of the
            // budget: one it cancels rolls back to the savepoint (and the timeout with
            // it), and the slices answer instead. Any other error recurs there and is reported. A
            // common word, walked anyway, is walked in slices from the start.
            conn.build_transaction()
                .read_only()
                .repeatable_read()
                .run(|conn| {
                    // After `plans_for`, whose prepared plan is the point (see `WordStats`).
                    let plans = plans_for(conn, text)?;
                    if filtered {
                        custom_plans(conn)?;
                    }
                    let rare = plans.tickets == Plan::Probe && plans.messages == Plan::Probe;
                    if rare && budget.ms > 0 {
                        match conn.transaction(|conn| exact(conn)) {
                            Ok(Some(rows)) => return Ok((rows, None)),
                            Ok(None) => tracing::debug!("search over its budget: slices"),
                            Err(AppError::Database(e)) => {
                                tracing::debug!(error = %e, "search over its budget: slices")
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    sliced(conn)
                })?
        }
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (&stopped, more, rows.last()) {
        (Some(at), _, _) => Some(encode_cursor(&Cursor::at(key, &sort_raw, at))),
        (None, true, Some(last)) => Some(encode_cursor(&Cursor::at(key, &sort_raw, last))),
        _ => None,
    };
    Ok(TicketPage {
        items: views(conn, actor.role, &rows)?,
        next_cursor,
        partial: stopped.is_some(),
    })
}

pub fn history_of(conn: &mut PgConnection, ticket_id: i64) -> AppResult<Vec<HistoryEntry>> {
    let rows: Vec<(HistoryRow, Option<User>)> = ticket_history::table
        .left_join(users::table)
        .filter(ticket_history::ticket_id.eq(ticket_id))
        .order(ticket_history::id.asc())
        .select((HistoryRow::as_select(), Option::<User>::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(h, u)| HistoryEntry {
            id: h.id,
            actor: u.as_ref().map(User::summary),
            field: h.field,
            old_value: h.old_value,
            new_value: h.new_value,
            created_at: h.created_at,
        })
        .collect())
}

/// Live counters for the supervisors' floor.
pub fn floor_counters(conn: &mut PgConnection) -> AppResult<relay_protocol::ws::FloorCounters> {
    let active = ["open", "in_progress", "pending", "blocked"];
    let by_status: Vec<(String, i64)> = tickets::table
        .filter(tickets::status.ne("closed"))
        .group_by(tickets::status)
        .select((tickets::status, count_star()))
        .load(conn)?;
    let by_priority: Vec<(String, i64)> = tickets::table
        .filter(tickets::status.eq_any(active))
        .group_by(tickets::priority)
        .select((tickets::priority, count_star()))
        .load(conn)?;
    let unassigned: i64 = tickets::table
        .filter(tickets::status.eq_any(active))
        .filter(tickets::assignee_id.is_null())
        .count()
        .get_result(conn)?;
    let soon = Utc::now() + Duration::hours(1);
    let sla_at_risk: i64 = tickets::table
        .filter(tickets::status.eq_any(active))
        .filter(
            tickets::first_response_at
                .is_null()
                .and(tickets::first_response_due_at.lt(soon))
                .or(tickets::resolution_due_at.lt(soon)),
        )
        .count()
        .get_result(conn)?;
    Ok(relay_protocol::ws::FloorCounters {
        by_status: by_status.into_iter().collect(),
        by_priority: by_priority.into_iter().collect(),
        unassigned,
        agents_online: 0,
        sla_at_risk,
    })
}

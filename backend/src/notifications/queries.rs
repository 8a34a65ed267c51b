//! Notification rows.

use crate::auth::Actor;
use crate::db::schema::notifications as n;
use crate::error::{AppError, AppResult};
use crate::tickets::model::Ticket;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::notifications::NotificationList;
use relay_protocol::ws::NotificationView;
use relay_protocol::TicketId;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = n)]
struct Row {
    id: i64,
    kind: String,
    ticket_id: Option<i64>,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl Row {
    fn view(self) -> NotificationView {
        NotificationView {
            id: self.id,
            kind: self.kind,
            ticket_id: self.ticket_id.map(TicketId),
            title: self.title,
            body: self.body,
            created_at: self.created_at,
            read_at: self.read_at,
        }
    }
}

/// A notification for `user_id`, returned with its recipient for publishing.
pub type Outgoing = (i64, NotificationView);

pub fn create(
    conn: &mut PgConnection,
    user_id: i64,
    kind: &str,
    ticket_id: Option<i64>,
    title: &str,
    body: &str,
) -> AppResult<Outgoing> {
    let row: Row = diesel::insert_into(n::table)
        .values((
            n::user_id.eq(user_id),
            n::kind.eq(kind),
            n::ticket_id.eq(ticket_id),
            n::title.eq(title),
            n::body.eq(body),
        ))
        .returning(Row::as_returning())
        .get_result(conn)?;
    Ok((user_id, row.view()))
}

/// What a ticket change tells people: the requester hears about status changes made by
/// someone else; a new assignee hears that the ticket is theirs.
pub fn for_ticket_change(
    conn: &mut PgConnection,
    actor: &Actor,
    before: &Ticket,
    after: &Ticket,
) -> AppResult<Vec<Outgoing>> {
    let mut out = Vec::new();
    if after.status != before.status && after.requester_id != actor.id {
        let label = after.status().as_str().replace('_', " ");
        out.push(create(
            conn,
            after.requester_id,
            "status_changed",
            Some(after.id),
            &format!("{} is now {label}", after.number),
            &after.title,
        )?);
    }
    if let Some(a) = after
        .assignee_id
        .filter(|a| Some(*a) != before.assignee_id && *a != actor.id)
    {
        out.push(create(
            conn,
            a,
            "assigned",
            Some(after.id),
            &format!("{} was assigned to you by {}", after.number, actor.name),
            &after.title,
        )?);
    }
    Ok(out)
}

pub fn list(
    conn: &mut PgConnection,
    user_id: i64,
    unread_only: bool,
    limit: i64,
) -> AppResult<NotificationList> {
    let mut q = n::table
        .filter(n::user_id.eq(user_id))
        .select(Row::as_select())
        .into_boxed();
    if unread_only {
        q = q.filter(n::read_at.is_null());
    }
    let rows: Vec<Row> = q.order(n::id.desc()).limit(limit).load(conn)?;
    let unread: i64 = n::table
        .filter(n::user_id.eq(user_id))
        .filter(n::read_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(NotificationList {
        items: rows.into_iter().map(Row::view).collect(),
        unread,
    })
}

/// Marks the user's own notifications read (other users' ids are ignored).
pub fn mark_read(
    conn: &mut PgConnection,
    user_id: i64,
    ids: &[i64],
    all: bool,
) -> AppResult<usize> {
    if !all && ids.is_empty() {
        return Err(AppError::invalid("ids", "give ids or all: true"));
    }
    let target = n::table
        .filter(n::user_id.eq(user_id))
        .filter(n::read_at.is_null());
    let now = Utc::now();
    Ok(if all {
        diesel::update(target)
            .set(n::read_at.eq(now))
            .execute(conn)?
    } else {
        diesel::update(target.filter(n::id.eq_any(ids)))
            .set(n::read_at.eq(now))
            .execute(conn)?
    })
}

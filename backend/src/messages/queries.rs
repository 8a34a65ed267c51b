//! Message storage. `post` is the only way a message is written: it locks the ticket
//! row, hands out the next `seq`, applies the lifecycle effects of the reply and stores
//! everything in one transaction, so `seq` is strictly increasing and gap-free per ticket
//! and a `client_id` retry returns the stored message instead of a duplicate.

use crate::auth::policy::{check_ticket, visible_kinds, TicketAction};
use crate::auth::Actor;
use crate::db::prepared::prepared;
use crate::db::schema::{messages, users};
use crate::error::{AppError, AppResult};
use crate::tickets::model::{Ticket, TicketChanges};
use crate::tickets::queries as tickets;
use crate::users::model::User;
use chrono::{DateTime, Utc};
use diesel::dsl::AsSelect;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use relay_protocol::messages::{MessageKind, MessagePage, MessageView};
use relay_protocol::users::Role;
use relay_protocol::{ErrorCode, MessageId, TicketId};
use uuid::Uuid;

pub const MAX_BODY_CHARS: usize = 20_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub ticket_id: i64,
    pub seq: i64,
    pub author_id: Option<i64>,
    pub kind: String,
    pub body: String,
    pub client_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        MessageKind::parse(&self.kind).unwrap_or(MessageKind::Internal)
    }

    pub fn view(&self, author: Option<&User>) -> MessageView {
        self.view_by(author.map(User::summary))
    }

    /// The view with an author summary at hand (the poster's, without reading it back).
    pub fn view_by(&self, author: Option<relay_protocol::users::UserSummary>) -> MessageView {
        let kind = self.kind();
        MessageView {
            id: MessageId(self.id),
            ticket_id: TicketId(self.ticket_id),
            seq: self.seq,
            author,
            kind,
            internal: kind == MessageKind::Internal,
            body: self.body.clone(),
            client_id: self.client_id,
            created_at: self.created_at,
        }
    }
}

/// The outcome of a post.
#[derive(Debug)]
pub struct Posted {
    pub message: MessageView,
    /// The ticket after the post (status, first response, updated time).
    pub ticket: Ticket,
    /// True when `client_id` matched an already stored message: nothing was written.
    pub replayed: bool,
    /// The reply changed the ticket's status or first-response time.
    pub ticket_changed: bool,
    /// Notifications for the staff it @mentions (and the requester of a status change).
    pub notes: Vec<crate::notifications::queries::Outgoing>,
}

/// `@handle` tokens of a message: the local part of a staff member's email
/// (`@tara` for tara@example.com), lower-cased, without duplicates.
pub fn mentioned_handles(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let starts =
            *c == '@' && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.'));
        if !starts {
            continue;
        }
        let handle: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
            .collect::<String>()
            .trim_end_matches('.')
            .to_lowercase();
        if !handle.is_empty() && handle.len() <= 64 && !out.contains(&handle) {
            out.push(handle);
        }
    }
    out
}

/// Notifies the active staff a staff message mentions (never the author).
fn notify_mentions(
    conn: &mut PgConnection,
    actor: &Actor,
    ticket: &Ticket,
    body: &str,
) -> AppResult<Vec<crate::notifications::queries::Outgoing>> {
    let handles = mentioned_handles(body);
    if handles.is_empty() || !actor.role.is_staff() {
        return Ok(Vec::new());
    }
    let targets: Vec<i64> = users::table
        .filter(users::active.eq(true))
        .filter(users::role.ne("customer"))
        .filter(users::id.ne(actor.id))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "lower(split_part(users.email, '@', 1)) = ANY(",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(handles)
            .sql(")"),
        )
        .select(users::id)
        .load(conn)?;
    let excerpt: String = body.chars().take(200).collect();
    targets
        .into_iter()
        .map(|u| {
            crate::notifications::queries::create(
                conn,
                u,
                "mention",
                Some(ticket.id),
                &format!("{} mentioned you in {}", actor.name, ticket.number),
                &excerpt,
            )
        })
        .collect()
}

pub fn clean_body(raw: &str) -> AppResult<String> {
    if raw.trim().is_empty() {
        return Err(AppError::invalid("body", "is required"));
    }
    crate::error::no_nul("body", raw)?;
    if raw.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::invalid(
            "body",
            format!("must be at most {MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(raw.trim_end().to_owned())
}

fn existing(conn: &mut PgConnection, author: i64, client_id: Uuid) -> AppResult<Option<Message>> {
    Ok(messages::table
        .filter(messages::author_id.eq(author))
        .filter(messages::client_id.eq(client_id))
        .select(Message::as_select())
        .first(conn)
        .optional()?)
}

/// Why a post's transaction ends without committing: an error, or a `client_id` retry
/// found after the seq was already taken (rolling back gives the seq back).
enum Abort {
    Failed(AppError),
    Replay(Message),
}

impl From<AppError> for Abort {
    fn from(e: AppError) -> Self {
        Abort::Failed(e)
    }
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Failed(e.into())
    }
}

/// A message row to insert.
struct NewMessage<'a> {
    ticket_id: i64,
    seq: i64,
    author_id: i64,
    kind: &'static str,
    body: &'a str,
    client_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

/// Message rows inserted with one statement whatever their number: a column array
/// each, so the SQL never changes and stays prepared (`crate::db::prepared`).
struct InsertMessages<'a> {
    ticket_ids: Vec<i64>,
    seqs: Vec<i64>,
    author_ids: Vec<i64>,
    kinds: Vec<&'a str>,
    bodies: Vec<&'a str>,
    client_ids: Vec<Option<Uuid>>,
    created_ats: Vec<DateTime<Utc>>,
    returning: AsSelect<Message, Pg>,
}

impl QueryFragment<Pg> for InsertMessages<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
        out.push_sql(
            "INSERT INTO messages (ticket_id, seq, author_id, kind, body, client_id, created_at) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.ticket_ids)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.seqs)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.author_ids)?;
        out.push_sql("::bigint[], ");
        out.push_bind_param::<Array<Text>, _>(&self.kinds)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.bodies)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Nullable<diesel::sql_types::Uuid>>, _>(&self.client_ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.created_ats)?;
        out.push_sql("::timestamptz[]) RETURNING ");
        self.returning.walk_ast(out.reborrow())
    }
}
prepared!(InsertMessages<'a>, AsSelect<Message, Pg>);

impl<'a> InsertMessages<'a> {
    fn with_capacity(n: usize) -> Self {
        InsertMessages {
            ticket_ids: Vec::with_capacity(n),
            seqs: Vec::with_capacity(n),
            author_ids: Vec::with_capacity(n),
            kinds: Vec::with_capacity(n),
            bodies: Vec::with_capacity(n),
            client_ids: Vec::with_capacity(n),
            created_ats: Vec::with_capacity(n),
            returning: Message::as_select(),
        }
    }

    fn push(&mut self, row: NewMessage<'a>) {
        self.ticket_ids.push(row.ticket_id);
        self.seqs.push(row.seq);
        self.author_ids.push(row.author_id);
        self.kinds.push(row.kind);
        self.bodies.push(row.body);
        self.client_ids.push(row.client_id);
        self.created_ats.push(row.created_at);
    }

    /// Runs the insert; the stored messages.
    fn run(self, conn: &mut PgConnection) -> AppResult<Vec<Message>> {
        Ok(self.get_results(conn)?)
    }
}

fn kind_of(internal: bool) -> MessageKind {
    if internal {
        MessageKind::Internal
    } else {
        MessageKind::Public
    }
}

fn action_of(internal: bool) -> TicketAction {
    if internal {
        TicketAction::AddInternalNote
    } else {
        TicketAction::ReplyPublic
    }
}

/// The ticket's lifecycle after a reply by `staff` (or a customer), public or not.
fn lifecycle_after(
    before: crate::tickets::lifecycle::Lifecycle,
    staff: bool,
    internal: bool,
    now: DateTime<Utc>,
) -> crate::tickets::lifecycle::Lifecycle {
    match (staff, internal) {
        (false, _) => before.customer_replied(),
        (true, false) => before.staff_replied_publicly(now),
        (true, true) => before,
    }
}

/// Stores one message. On the hot path this is two statements (seq + lock, insert):
/// a `client_id` retry is caught by the unique index rather than looked up first, and
/// the ticket row is only rewritten when the reply changes it.
pub fn post(
    conn: &mut PgConnection,
    actor: &Actor,
    ticket_id: i64,
    body: &str,
    internal: bool,
    client_id: Option<Uuid>,
) -> AppResult<Posted> {
    let body = clean_body(body)?;
    // The poster is the caller, just authenticated: no need to read their row again.
    let author = actor.summary();
    let replay = |m: Message, ticket: Ticket| Posted {
        message: m.view_by(Some(author.clone())),
        ticket,
        replayed: true,
        ticket_changed: false,
        notes: Vec::new(),
    };
    let mut locked: Option<Ticket> = None;
    let result = conn.transaction::<_, Abort, _>(|conn| {
        // Takes the row lock and the next seq in one statement: every post to this
        // ticket is serialised, seq order is commit order, and a rollback (any error
        // below) gives the seq back, so seqs stay gap-free.
        let ticket = tickets::lock_next_seq(conn, ticket_id)?;
        locked = Some(ticket.clone());
        let seq = ticket.last_seq;
        let facts = ticket.facts();
        check_ticket(actor, &facts, action_of(internal))?;
        let staff = actor.role.is_staff();
        if !staff && ticket.status() == relay_protocol::tickets::TicketStatus::Closed {
            // A retry of a message stored before the ticket closed still gets it back.
            if let Some(m) = client_id
                .map(|c| existing(conn, actor.id, c))
                .transpose()?
                .flatten()
            {
                if m.ticket_id == ticket_id {
                    return Err(Abort::Replay(m));
                }
            }
            return Err(AppError::conflict(
                ErrorCode::TicketClosed,
                "this ticket is closed; reopen it to continue the conversation",
            )
            .into());
        }
        let now = Utc::now();
        let mut insert = InsertMessages::with_capacity(1);
        insert.push(NewMessage {
            ticket_id,
            seq,
            author_id: actor.id,
            kind: kind_of(internal).as_str(),
            body: &body,
            client_id,
            created_at: now,
        });
        let stored = insert
            .run(conn)?
            .pop()
            .ok_or_else(|| AppError::internal("the insert returned no message"))?;

        let before = ticket.lifecycle();
        let after = lifecycle_after(before, staff, internal, now);
        let mut changes = TicketChanges::default();
        let mut log = Vec::new();
        tickets::apply_lifecycle(
            &ticket,
            Some(actor.id),
            before,
            after,
            &mut changes,
            &mut log,
        );
        let ticket_changed = after != before;
        let old = ticket.clone();
        // A message refreshes the ticket's `updated_at` at most once a second. Moving
        // it on every message re-inserted the row into all eleven indexes on tickets
        // (a non-HOT update: 14 WAL records, half of a post's database time under
        // load); lifecycle changes always move it (they write history).
        let touch = now - ticket.updated_at >= chrono::Duration::seconds(1);
        let ticket = tickets::save(conn, ticket, changes, log, touch || ticket_changed)?;
        let mut notes = notify_mentions(conn, actor, &ticket, &body)?;
        if ticket_changed {
            notes.extend(crate::notifications::queries::for_ticket_change(
                conn, actor, &old, &ticket,
            )?);
            crate::outbox::ticket_changed(conn, actor, &old, &ticket, false)?;
        }
        if !internal {
            crate::outbox::public_reply(conn, actor, &ticket, &body)?;
        }
        Ok(Posted {
            message: stored.view_by(Some(author.clone())),
            ticket,
            replayed: false,
            ticket_changed,
            notes,
        })
    });
    match result {
        Ok(posted) => Ok(posted),
        Err(Abort::Replay(m)) => {
            let mut ticket =
                locked.ok_or_else(|| AppError::internal("replay without its ticket"))?;
            ticket.last_seq -= 1; // the seq this attempt took was given back
            Ok(replay(m, ticket))
        }
        // The same client_id again (a retry, or a race between two): the unique index
        // decided, and the first one's message is the answer.
        Err(Abort::Failed(AppError::Database(e)))
            if crate::db::is_unique_violation(&e, "messages_client_id_key") =>
        {
            let cid = client_id
                .ok_or_else(|| AppError::internal("client_id conflict without client_id"))?;
            match existing(conn, actor.id, cid)? {
                Some(m) if m.ticket_id == ticket_id => {
                    let ticket = tickets::find(conn, ticket_id)?;
                    Ok(replay(m, ticket))
                }
                _ => Err(AppError::conflict(
                    ErrorCode::ClientIdConflict,
                    "this client_id was already used for a message on another ticket",
                )),
            }
        }
        Err(Abort::Failed(e)) => Err(e),
    }
}

/// Stores the posts of a batch that need nothing but a seq and a row each, set-wise: one
/// statement locks every ticket of the batch, one inserts all their messages, one moves
/// the tickets' seqs (and one or two queue their reply mails), however many posts there
/// are. Posting one by one costs two statements and a savepoint pair per post, and a
/// round trip each; under load that, not the rows, was most of the database's time.
///
/// Runs in the caller's transaction. Answers, in the order of `reqs`, `Some` for each
/// post it settled (stored, or refused exactly as `post` would refuse it) and `None` for
/// the posts the caller must still store one by one with `post`, in order: every post
/// of a ticket where one of them changes the ticket's lifecycle, @mentions staff, is a
/// customer's post to a closed ticket, or shares its `client_id` with another post of
/// the batch. Those tickets are locked already. A `client_id` stored by an earlier
/// batch fails the insert (the unique index), and with it the caller's transaction: the
/// caller then stores the batch's posts one by one, where `post` answers the replay.
pub fn post_batch(
    conn: &mut PgConnection,
    reqs: &[super::writer::PostRequest],
) -> AppResult<Vec<Option<AppResult<Posted>>>> {
    use std::collections::{HashMap, HashSet};
    let mut out: Vec<Option<AppResult<Posted>>> = reqs.iter().map(|_| None).collect();
    let mut ids: Vec<i64> = reqs.iter().map(|r| r.ticket_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let locked: HashMap<i64, Ticket> = tickets::lock_all(conn, &ids)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut one_by_one: HashSet<i64> = HashSet::new();
    let mut client_ids: HashMap<(i64, Uuid), i64> = HashMap::new();
    for r in reqs {
        if let Some(c) = r.client_id {
            if let Some(other) = client_ids.insert((r.actor.id, c), r.ticket_id) {
                one_by_one.extend([other, r.ticket_id]);
            }
        }
    }
    // The rows to insert: (index in reqs, seq, cleaned body, time).
    let mut rows: Vec<(usize, i64, String, DateTime<Utc>)> = Vec::new();
    let mut order: Vec<usize> = (0..reqs.len()).collect();
    order.sort_by_key(|&i| reqs[i].ticket_id); // stable: a ticket's posts keep their order
    for group in order.chunk_by(|a, b| reqs[*a].ticket_id == reqs[*b].ticket_id) {
        let ticket_id = reqs[group[0]].ticket_id;
        if one_by_one.contains(&ticket_id) {
            continue;
        }
        let mut planned = Vec::with_capacity(group.len());
        // What the checks read of the ticket, once for all its posts (a plain post
        // changes none of it).
        let ticket = locked
            .get(&ticket_id)
            .map(|t| (t, t.facts(), t.lifecycle()));
        let mut next_seq = ticket.as_ref().map_or(0, |(t, _, _)| t.last_seq);
        let mut alone = false;
        for &i in group {
            let r = &reqs[i];
            // The checks of `post`, in its order: the body, the ticket, the permission.
            let checked = clean_body(&r.body).and_then(|body| {
                let ticket = ticket
                    .as_ref()
                    .ok_or_else(|| AppError::not_found("ticket"))?;
                check_ticket(&r.actor, &ticket.1, action_of(r.internal))?;
                Ok((ticket, body))
            });
            let ((ticket, _, before), body) = match checked {
                Ok(ok) => ok,
                Err(e) => {
                    planned.push((i, Err(e)));
                    continue;
                }
            };
            let staff = r.actor.role.is_staff();
            let now = Utc::now();
            let before = *before;
            let after = lifecycle_after(before, staff, r.internal, now);
            let closed_to_customer =
                !staff && ticket.status() == relay_protocol::tickets::TicketStatus::Closed;
            if closed_to_customer
                || after != before
                || (staff && !mentioned_handles(&body).is_empty())
            {
                alone = true;
                break;
            }
            next_seq += 1;
            planned.push((i, Ok((next_seq, body, now))));
        }
        if alone {
            one_by_one.insert(ticket_id);
            continue;
        }
        for (i, p) in planned {
            match p {
                Ok((seq, body, now)) => rows.push((i, seq, body, now)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
    }
    if rows.is_empty() {
        return Ok(out);
    }

    let mut insert = InsertMessages::with_capacity(rows.len());
    for (i, seq, body, now) in &rows {
        let r = &reqs[*i];
        insert.push(NewMessage {
            ticket_id: r.ticket_id,
            seq: *seq,
            author_id: r.actor.id,
            kind: kind_of(r.internal).as_str(),
            body,
            client_id: r.client_id,
            created_at: *now,
        });
    }
    let stored: HashMap<(i64, i64), Message> = insert
        .run(conn)?
        .into_iter()
        .map(|m| ((m.ticket_id, m.seq), m))
        .collect();

    // Each ticket's new seq; `updated_at` moves at most once a second, as in `post`.
    // Truncated to the microseconds PostgreSQL keeps, so the answers show what is stored.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let touched = |id: i64| {
        locked
            .get(&id)
            .is_some_and(|t| now - t.updated_at >= chrono::Duration::seconds(1))
    };
    let mut seqs: Vec<(i64, i64, bool)> = Vec::new();
    for (i, seq, _, _) in &rows {
        let id = reqs[*i].ticket_id;
        match seqs.last_mut() {
            Some(last) if last.0 == id => last.1 = *seq,
            _ => seqs.push((id, *seq, touched(id))),
        }
    }
    tickets::set_last_seqs(conn, &seqs, now)?;

    let mut mails = Vec::new();
    for (i, seq, body, _) in rows {
        let r = &reqs[i];
        let mut ticket = locked
            .get(&r.ticket_id)
            .cloned()
            .ok_or_else(|| AppError::internal("post without its locked ticket"))?;
        ticket.last_seq = seq;
        if touched(ticket.id) {
            ticket.updated_at = now;
        }
        if !r.internal {
            if let Some(mail) = crate::outbox::reply_mail(&r.actor, &ticket, &body) {
                mails.push((ticket.id, mail));
            }
        }
        let message = stored
            .get(&(ticket.id, seq))
            .ok_or_else(|| AppError::internal("stored message not returned"))?
            .view_by(Some(r.actor.summary()));
        out[i] = Some(Ok(Posted {
            message,
            ticket,
            replayed: false,
            ticket_changed: false,
            notes: Vec::new(),
        }));
    }
    crate::outbox::public_replies(conn, mails)?;
    Ok(out)
}

/// Messages of a ticket that `role` may see, ascending by `seq`.
/// `after_seq`: the oldest `limit` above it; `before_seq`: the newest `limit` below it;
/// neither: the newest `limit`.
pub fn list(
    conn: &mut PgConnection,
    role: Role,
    ticket_id: i64,
    after_seq: Option<i64>,
    before_seq: Option<i64>,
    limit: i64,
) -> AppResult<MessagePage> {
    let mut q = messages::table
        .left_join(users::table)
        .filter(messages::ticket_id.eq(ticket_id))
        .filter(messages::kind.eq_any(visible_kinds(role)))
        .select((Message::as_select(), Option::<User>::as_select()))
        .into_boxed();
    let ascending = after_seq.is_some();
    if let Some(a) = after_seq {
        q = q.filter(messages::seq.gt(a));
    }
    if let Some(b) = before_seq {
        q = q.filter(messages::seq.lt(b));
    }
    q = if ascending {
        q.order(messages::seq.asc())
    } else {
        q.order(messages::seq.desc())
    };
    let mut rows: Vec<(Message, Option<User>)> = q.limit(limit + 1).load(conn)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if !ascending {
        rows.reverse();
    }
    Ok(MessagePage {
        items: rows.iter().map(|(m, u)| m.view(u.as_ref())).collect(),
        has_more,
    })
}

/// Messages `role` may see with `since < seq <= until`, ascending (WebSocket replay).
pub fn replay(
    conn: &mut PgConnection,
    role: Role,
    ticket_id: i64,
    since: i64,
    until: i64,
    limit: i64,
) -> AppResult<Vec<MessageView>> {
    let rows: Vec<(Message, Option<User>)> = messages::table
        .left_join(users::table)
        .filter(messages::ticket_id.eq(ticket_id))
        .filter(messages::seq.gt(since))
        .filter(messages::seq.le(until))
        .filter(messages::kind.eq_any(visible_kinds(role)))
        .order(messages::seq.asc())
        .limit(limit)
        .select((Message::as_select(), Option::<User>::as_select()))
        .load(conn)?;
    Ok(rows.iter().map(|(m, u)| m.view(u.as_ref())).collect())
}

/// The highest non-internal seq at or below `seq` (what a customer may be told).
fn public_floor(conn: &mut PgConnection, ticket_id: i64, seq: i64) -> AppResult<i64> {
    let s: Option<i64> = messages::table
        .filter(messages::ticket_id.eq(ticket_id))
        .filter(messages::seq.le(seq))
        .filter(messages::kind.ne(MessageKind::Internal.as_str()))
        .select(diesel::dsl::max(messages::seq))
        .first(conn)?;
    Ok(s.unwrap_or(0))
}

/// Stores `seq` as the user's last read position, never moving it backwards. Returns
/// `(seq, public_seq)` when it moved, `None` when it did not.
pub fn mark_read(
    conn: &mut PgConnection,
    ticket_id: i64,
    user_id: i64,
    seq: i64,
) -> AppResult<Option<(i64, i64)>> {
    let last_seq: i64 = crate::db::schema::tickets::table
        .find(ticket_id)
        .select(crate::db::schema::tickets::last_seq)
        .first(conn)?;
    let seq = seq.min(last_seq);
    if seq <= 0 {
        return Ok(None);
    }
    #[derive(QueryableByName)]
    struct Moved {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        last_read_seq: i64,
    }
    let moved: Option<i64> = diesel::sql_query(
        "INSERT INTO ticket_reads (ticket_id, user_id, last_read_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (ticket_id, user_id) DO UPDATE \
         SET last_read_seq = EXCLUDED.last_read_seq, updated_at = now() \
         WHERE ticket_reads.last_read_seq < EXCLUDED.last_read_seq \
         RETURNING last_read_seq",
    )
    .bind::<diesel::sql_types::BigInt, _>(ticket_id)
    .bind::<diesel::sql_types::BigInt, _>(user_id)
    .bind::<diesel::sql_types::BigInt, _>(seq)
    .get_result::<Moved>(conn)
    .optional()?
    .map(|m| m.last_read_seq);
    match moved {
        Some(s) => Ok(Some((s, public_floor(conn, ticket_id, s)?))),
        None => Ok(None),
    }
}

/// Every user's read position in a ticket: `(user, seq, public_seq)`.
pub fn receipts(conn: &mut PgConnection, ticket_id: i64) -> AppResult<Vec<(i64, i64, i64)>> {
    use crate::db::schema::ticket_reads as r;
    let rows: Vec<(i64, i64)> = r::table
        .filter(r::ticket_id.eq(ticket_id))
        .select((r::user_id, r::last_read_seq))
        .order(r::user_id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(|(u, s)| Ok((u, s, public_floor(conn, ticket_id, s)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::mentioned_handles;

    #[test]
    fn finds_handles() {
        assert_eq!(
            mentioned_handles("@Tara can you look? cc @sam.o, thanks"),
            vec!["tara", "sam.o"]
        );
        assert_eq!(
            mentioned_handles("mail me at bob@example.com"),
            Vec::<String>::new()
        );
        assert_eq!(mentioned_handles("@tara @TARA"), vec!["tara"]);
        assert_eq!(
            mentioned_handles("no mentions here @"),
            Vec::<String>::new()
        );
    }
}

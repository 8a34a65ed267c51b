//! Attachment rows.

use crate::db::schema::{attachments as a, messages, users};
use crate::error::{AppError, AppResult};
use crate::users::model::User;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::messages::{AttachmentView, MessageKind};
use relay_protocol::users::Role;
use relay_protocol::{MessageId, TicketId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub message_id: Option<i64>,
    pub uploader_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub storage_key: String,
    pub created_at: DateTime<Utc>,
}

impl Attachment {
    pub fn view(&self, uploader: Option<&User>) -> AttachmentView {
        AttachmentView {
            id: self.id,
            ticket_id: TicketId(self.ticket_id),
            message_id: self.message_id.map(MessageId),
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size_bytes: self.size_bytes,
            uploader: uploader.map(User::summary),
            created_at: self.created_at,
            url: format!("/api/attachments/{}", self.id),
        }
    }
}

pub struct NewAttachment<'a> {
    pub ticket_id: i64,
    pub message_id: Option<i64>,
    pub uploader_id: i64,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub storage_key: &'a str,
}

pub fn insert(conn: &mut PgConnection, n: &NewAttachment<'_>) -> AppResult<Attachment> {
    Ok(diesel::insert_into(a::table)
        .values((
            a::ticket_id.eq(n.ticket_id),
            a::message_id.eq(n.message_id),
            a::uploader_id.eq(n.uploader_id),
            a::filename.eq(n.filename),
            a::content_type.eq(n.content_type),
            a::size_bytes.eq(n.size_bytes),
            a::storage_key.eq(n.storage_key),
        ))
        .returning(Attachment::as_returning())
        .get_result(conn)?)
}

/// The kind of the message an attachment belongs to (`None`: on the ticket itself).
/// Whether a row points at this stored file (to tell a failed insert from a commit whose
/// answer was lost with its connection).
pub fn key_in_use(conn: &mut PgConnection, key: &str) -> AppResult<bool> {
    use diesel::dsl::exists;
    Ok(diesel::select(exists(a::table.filter(a::storage_key.eq(key)))).get_result(conn)?)
}

pub fn message_kind(
    conn: &mut PgConnection,
    ticket_id: i64,
    message_id: i64,
) -> AppResult<MessageKind> {
    let kind: Option<String> = messages::table
        .filter(messages::id.eq(message_id))
        .filter(messages::ticket_id.eq(ticket_id))
        .select(messages::kind)
        .first(conn)
        .optional()?;
    kind.and_then(|k| MessageKind::parse(&k))
        .ok_or_else(|| AppError::invalid("message_id", "no such message on this ticket"))
}

/// An attachment with the kind of its message, if any.
pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<(Attachment, Option<MessageKind>)> {
    let found: Option<(Attachment, Option<String>)> = a::table
        .left_join(messages::table)
        .filter(a::id.eq(id))
        .select((Attachment::as_select(), messages::kind.nullable()))
        .first(conn)
        .optional()?;
    let (att, kind) = found.ok_or_else(|| AppError::not_found("attachment"))?;
    Ok((att, kind.and_then(|k| MessageKind::parse(&k))))
}

/// Attachments of a ticket that `role` may see (those on internal notes: staff only).
pub fn list(conn: &mut PgConnection, role: Role, ticket_id: i64) -> AppResult<Vec<AttachmentView>> {
    let rows: Vec<(Attachment, Option<String>, Option<User>)> = a::table
        .left_join(messages::table)
        .left_join(users::table.on(users::id.eq(a::uploader_id)))
        .filter(a::ticket_id.eq(ticket_id))
        .order(a::id.asc())
        .select((
            Attachment::as_select(),
            messages::kind.nullable(),
            Option::<User>::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, kind, _)| {
            let kind = kind
                .as_deref()
                .and_then(MessageKind::parse)
                .unwrap_or(MessageKind::Public);
            crate::auth::policy::can_see_message(role, kind)
        })
        .map(|(att, _, u)| att.view(u.as_ref()))
        .collect())
}

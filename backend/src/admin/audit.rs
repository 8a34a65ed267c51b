//! The admin audit log: who changed which user, role, category, SLA policy or setting,
//! written in the same transaction as the change. Passwords are never recorded.

use crate::db::schema::{audit_log as a, users};
use crate::error::AppResult;
use crate::users::model::User;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use relay_protocol::admin::AuditEntry;

pub fn record(
    conn: &mut PgConnection,
    actor_id: i64,
    action: &str,
    target_type: &str,
    target_id: Option<String>,
    details: serde_json::Value,
) -> AppResult<()> {
    diesel::insert_into(a::table)
        .values((
            a::actor_id.eq(actor_id),
            a::action.eq(action),
            a::target_type.eq(target_type),
            a::target_id.eq(target_id),
            a::details.eq(details),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<AuditEntry>> {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        serde_json::Value,
        DateTime<Utc>,
    );
    let rows: Vec<(Row, Option<User>)> = a::table
        .left_join(users::table.on(users::id.nullable().eq(a::actor_id)))
        .order(a::id.desc())
        .limit(limit)
        .select((
            (
                a::id,
                a::action,
                a::target_type,
                a::target_id,
                a::details,
                a::created_at,
            ),
            Option::<User>::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |((id, action, target_type, target_id, details, created_at), u)| AuditEntry {
                id,
                actor: u.as_ref().map(User::summary),
                action,
                target_type,
                target_id,
                details,
                created_at,
            },
        )
        .collect())
}

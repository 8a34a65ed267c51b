//! User queries. Each takes `&mut PgConnection` so it composes inside a transaction.

use super::model::{NewUser, User, UserChanges};
use crate::db::schema::{refresh_tokens, users};
use crate::error::{AppError, AppResult};
use diesel::prelude::*;
use relay_protocol::users::{Role, UserListQuery};
use relay_protocol::ErrorCode;

pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("user"))
}

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_many(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<User>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut PgConnection, new: &NewUser<'_>) -> AppResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
        .map_err(|e| {
            if crate::db::is_unique_violation(&e, "users_email_key") {
                AppError::conflict(
                    ErrorCode::EmailTaken,
                    "an account with this email already exists",
                )
            } else {
                e.into()
            }
        })
}

pub fn list(conn: &mut PgConnection, q: &UserListQuery) -> AppResult<Vec<User>> {
    let mut query = users::table.select(User::as_select()).into_boxed();
    if let Some(role) = q.role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if let Some(active) = q.active {
        query = query.filter(users::active.eq(active));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query = query.filter(
            users::name
                .ilike(pattern.clone())
                .or(users::email.ilike(pattern)),
        );
    }
    Ok(query.order(users::name.asc()).limit(500).load(conn)?)
}

/// Active technicians, supervisors and admins: who a ticket can be assigned to.
pub fn list_staff(conn: &mut PgConnection) -> AppResult<Vec<User>> {
    Ok(users::table
        .filter(users::active.eq(true))
        .filter(users::role.ne(Role::Customer.as_str()))
        .select(User::as_select())
        .order(users::name.asc())
        .load(conn)?)
}

/// Active staff who have no second factor yet (locked out when the desk requires one).
pub fn staff_without_totp(conn: &mut PgConnection) -> AppResult<Vec<i64>> {
    Ok(users::table
        .filter(users::active.eq(true))
        .filter(users::role.ne(Role::Customer.as_str()))
        .filter(users::totp_enabled.eq(false))
        .select(users::id)
        .load(conn)?)
}

/// Applies `changes`; when role, password or active status change, bumps the token
/// version (revoking access tokens) and, for password and deactivation, every refresh
/// token too. Refuses to leave the desk without an active admin.
pub fn update(conn: &mut PgConnection, id: i64, mut changes: UserChanges) -> AppResult<User> {
    conn.transaction(|conn| {
        let current: User = users::table
            .find(id)
            .select(User::as_select())
            .for_update()
            .first(conn)?;
        let loses_admin = current.role() == Role::Admin
            && current.active
            && (changes.role.as_deref().is_some_and(|r| r != "admin")
                || changes.active == Some(false));
        if loses_admin {
            let admins: i64 = users::table
                .filter(users::role.eq("admin"))
                .filter(users::active.eq(true))
                .count()
                .get_result(conn)?;
            if admins <= 1 {
                return Err(AppError::conflict(
                    ErrorCode::LastAdmin,
                    "this is the last active admin; promote another admin first",
                ));
            }
        }
        let revokes_sessions = changes.password_hash.is_some() || changes.active == Some(false);
        let role_changed = changes.role.as_deref().is_some_and(|r| r != current.role);
        if revokes_sessions || role_changed {
            changes.token_version = Some(current.token_version + 1);
        }
        changes.updated_at = Some(chrono::Utc::now());
        let user = diesel::update(users::table.find(id))
            .set(&changes)
            .returning(User::as_returning())
            .get_result(conn)
            .map_err(|e| {
                if crate::db::is_unique_violation(&e, "users_email_key") {
                    AppError::conflict(
                        ErrorCode::EmailTaken,
                        "an account with this email already exists",
                    )
                } else {
                    AppError::from(e)
                }
            })?;
        if revokes_sessions {
            revoke_all_refresh_tokens(conn, id)?;
        }
        Ok(user)
    })
}

pub fn revoke_all_refresh_tokens(conn: &mut PgConnection, user_id: i64) -> AppResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(chrono::Utc::now()))
    .execute(conn)?)
}

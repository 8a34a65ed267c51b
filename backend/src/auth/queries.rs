//! Refresh-token sessions: issue, rotate (with reuse detection), revoke.

use super::tokens::{hash_refresh_token, new_refresh_token};
use crate::db::schema::refresh_tokens;
use crate::error::AppResult;
use crate::users::model::User;
use crate::users::queries as users;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub user_id: i64,
    pub family_id: Uuid,
    pub expires_at: chrono::DateTime<Utc>,
    pub used_at: Option<chrono::DateTime<Utc>>,
    pub revoked_at: Option<chrono::DateTime<Utc>>,
}

/// Stores a new refresh token in `family` (a new family for a fresh sign-in) and
/// returns the plaintext, which is never stored.
pub fn issue(
    conn: &mut PgConnection,
    user_id: i64,
    family: Uuid,
    ttl_days: i64,
) -> AppResult<String> {
    let token = new_refresh_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(hash_refresh_token(&token)),
            refresh_tokens::expires_at.eq(Utc::now() + Duration::days(ttl_days)),
        ))
        .execute(conn)?;
    Ok(token)
}

pub enum Rotation {
    /// The old token is spent; here is its successor and the user.
    Rotated { user: User, refresh_token: String },
    /// Unknown, expired, or the user is gone/deactivated.
    Invalid,
    /// A spent or revoked token came back: the whole family has been revoked.
    Reused,
}

/// Spends `presented` and issues its successor in the same family. Presenting a token
/// that was already spent means it leaked (or the client raced itself): every token of
/// that family is revoked, and that revocation is committed.
pub fn rotate(conn: &mut PgConnection, presented: &str, ttl_days: i64) -> AppResult<Rotation> {
    let hash = hash_refresh_token(presented);
    conn.transaction(|conn| {
        let Some(row) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(RefreshToken::as_select())
            .for_update()
            .first(conn)
            .optional()?
        else {
            return Ok(Rotation::Invalid);
        };
        let now = Utc::now();
        if row.used_at.is_some() || row.revoked_at.is_some() {
            revoke_family(conn, row.family_id)?;
            return Ok(Rotation::Reused);
        }
        if row.expires_at <= now {
            return Ok(Rotation::Invalid);
        }
        let user = users::find(conn, row.user_id)?;
        if !user.active {
            revoke_family(conn, row.family_id)?;
            return Ok(Rotation::Invalid);
        }
        diesel::update(refresh_tokens::table.find(row.id))
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
        let refresh_token = issue(conn, row.user_id, row.family_id, ttl_days)?;
        Ok(Rotation::Rotated {
            user,
            refresh_token,
        })
    })
}

pub fn revoke_family(conn: &mut PgConnection, family: Uuid) -> AppResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)?)
}

/// Ends the session `presented` belongs to. Unknown tokens are ignored (logout is
/// idempotent and says nothing about which tokens exist).
pub fn revoke_by_token(conn: &mut PgConnection, presented: &str) -> AppResult<()> {
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(presented)))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    if let Some(f) = family {
        revoke_family(conn, f)?;
    }
    Ok(())
}

//! Presence sets with expiry, shared by every instance: a sorted set per key whose
//! scores are expiry times. Each instance re-touches its own entries on a heartbeat, so
//! the entries of an instance that dies expire on their own (SPEC §4: within 30 s).

use crate::error::{AppError, AppResult};
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub trait PresenceStore: Send + Sync {
    /// Adds or refreshes `member` under `key` until `expires_at_ms`.
    fn touch(
        &self,
        key: String,
        member: String,
        expires_at_ms: i64,
    ) -> BoxFuture<'static, AppResult<()>>;
    fn remove(&self, key: String, member: String) -> BoxFuture<'static, AppResult<()>>;
    /// Live members (expired ones are dropped).
    fn members(&self, key: String, now_ms: i64) -> BoxFuture<'static, AppResult<Vec<String>>>;
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A member: `instance \t user id \t role \t name` (names hold no control characters).
pub fn member(instance: &str, user: &relay_protocol::users::UserSummary) -> String {
    format!(
        "{instance}\t{}\t{}\t{}",
        user.id.0,
        user.role.as_str(),
        user.name
    )
}

pub fn parse_member(m: &str) -> Option<(String, relay_protocol::users::UserSummary)> {
    let mut parts = m.splitn(4, '\t');
    let instance = parts.next()?.to_owned();
    let id = parts.next()?.parse().ok()?;
    let role = relay_protocol::users::Role::parse(parts.next()?)?;
    let name = parts.next()?.to_owned();
    Some((
        instance,
        relay_protocol::users::UserSummary {
            id: relay_protocol::UserId(id),
            name,
            role,
        },
    ))
}

#[derive(Default)]
pub struct LocalPresence {
    sets: Arc<Mutex<HashMap<String, HashMap<String, i64>>>>,
}

impl PresenceStore for LocalPresence {
    fn touch(
        &self,
        key: String,
        member: String,
        expires_at_ms: i64,
    ) -> BoxFuture<'static, AppResult<()>> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        sets.entry(key).or_default().insert(member, expires_at_ms);
        Box::pin(async { Ok(()) })
    }
    fn remove(&self, key: String, member: String) -> BoxFuture<'static, AppResult<()>> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = sets.get_mut(&key) {
            s.remove(&member);
            if s.is_empty() {
                sets.remove(&key);
            }
        }
        Box::pin(async { Ok(()) })
    }
    fn members(&self, key: String, now: i64) -> BoxFuture<'static, AppResult<Vec<String>>> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let out = match sets.get_mut(&key) {
            Some(s) => {
                s.retain(|_, exp| *exp > now);
                s.keys().cloned().collect()
            }
            None => Vec::new(),
        };
        Box::pin(async move { Ok(out) })
    }
}

pub struct RedisPresence {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisPresence {
    pub fn new(conn: ConnectionManager, namespace: &str) -> RedisPresence {
        let prefix = if namespace.is_empty() {
            String::new()
        } else {
            format!("{namespace}:")
        };
        RedisPresence { conn, prefix }
    }
}

fn redis_err(e: redis::RedisError) -> AppError {
    AppError::internal(format!("redis presence: {e}"))
}

impl PresenceStore for RedisPresence {
    fn touch(
        &self,
        key: String,
        member: String,
        expires_at_ms: i64,
    ) -> BoxFuture<'static, AppResult<()>> {
        let mut conn = self.conn.clone();
        let key = format!("{}{key}", self.prefix);
        Box::pin(async move {
            redis::pipe()
                .cmd("ZADD")
                .arg(&key)
                .arg(expires_at_ms)
                .arg(member)
                .ignore()
                // The whole set goes away if every instance holding it is gone.
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(120_000)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(redis_err)
        })
    }
    fn remove(&self, key: String, member: String) -> BoxFuture<'static, AppResult<()>> {
        let mut conn = self.conn.clone();
        let key = format!("{}{key}", self.prefix);
        Box::pin(async move {
            redis::cmd("ZREM")
                .arg(key)
                .arg(member)
                .query_async::<i64>(&mut conn)
                .await
                .map(|_| ())
                .map_err(redis_err)
        })
    }
    fn members(&self, key: String, now: i64) -> BoxFuture<'static, AppResult<Vec<String>>> {
        let mut conn = self.conn.clone();
        let key = format!("{}{key}", self.prefix);
        Box::pin(async move {
            let (_, live): (i64, Vec<String>) = redis::pipe()
                .cmd("ZREMRANGEBYSCORE")
                .arg(&key)
                .arg("-inf")
                .arg(now)
                .cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            Ok(live)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_protocol::users::{Role, UserSummary};

    #[test]
    fn members_roundtrip() {
        let u = UserSummary {
            id: relay_protocol::UserId(7),
            name: "Ana Lucía".into(),
            role: Role::Technician,
        };
        let m = member("inst-1", &u);
        assert_eq!(parse_member(&m), Some(("inst-1".to_owned(), u)));
        assert_eq!(parse_member("garbage"), None);
    }

    #[actix_web::test]
    async fn local_entries_expire() {
        let p = LocalPresence::default();
        p.touch("k".into(), "a".into(), 100).await.unwrap();
        p.touch("k".into(), "b".into(), 300).await.unwrap();
        assert_eq!(
            p.members("k".into(), 200).await.unwrap(),
            vec!["b".to_owned()]
        );
        p.remove("k".into(), "b".into()).await.unwrap();
        assert!(p.members("k".into(), 200).await.unwrap().is_empty());
    }
}

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
    /// `touch` for many `(key, member)` entries at once (a heartbeat's).
    fn touch_many(
        &self,
        entries: Vec<(String, String)>,
        expires_at_ms: i64,
    ) -> BoxFuture<'static, AppResult<()>> {
        let touches: Vec<_> = entries
            .into_iter()
            .map(|(k, m)| self.touch(k, m, expires_at_ms))
            .collect();
        Box::pin(async move {
            for t in touches {
                t.await?;
            }
            Ok(())
        })
    }
    /// `members` of many keys at once, in the order of `keys`.
    fn members_many(
        &self,
        keys: Vec<String>,
        now_ms: i64,
    ) -> BoxFuture<'static, AppResult<Vec<Vec<String>>>> {
        let reads: Vec<_> = keys.into_iter().map(|k| self.members(k, now_ms)).collect();
        Box::pin(async move {
            let mut out = Vec::with_capacity(reads.len());
            for r in reads {
                out.push(r.await?);
            }
            Ok(out)
        })
    }
}

/// Keys per Redis pipeline in the `_many` calls: a heartbeat is a few round trips
/// instead of one per entry, and no single reply grows without bound.
const KEYS_PER_PIPELINE: usize = 256;

/// A set's own expiry, refreshed by every touch.
const SET_TTL_MS: i64 = 120_000;

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
        self.touch_many(vec![(key, member)], expires_at_ms)
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
    fn touch_many(
        &self,
        entries: Vec<(String, String)>,
        expires_at_ms: i64,
    ) -> BoxFuture<'static, AppResult<()>> {
        let mut conn = self.conn.clone();
        let mut by_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (key, member) in entries {
            by_key
                .entry(format!("{}{key}", self.prefix))
                .or_default()
                .push(member);
        }
        Box::pin(async move {
            let keys: Vec<_> = by_key.into_iter().collect();
            for chunk in keys.chunks(KEYS_PER_PIPELINE) {
                let mut pipe = redis::pipe();
                for (key, members) in chunk {
                    let add = pipe.cmd("ZADD").arg(key);
                    for m in members {
                        add.arg(expires_at_ms).arg(m);
                    }
                    add.ignore();
                    // The whole set goes away if every instance holding it is gone.
                    pipe.cmd("PEXPIRE").arg(key).arg(SET_TTL_MS).ignore();
                }
                pipe.query_async::<()>(&mut conn).await.map_err(redis_err)?;
            }
            Ok(())
        })
    }
    fn members_many(
        &self,
        keys: Vec<String>,
        now: i64,
    ) -> BoxFuture<'static, AppResult<Vec<Vec<String>>>> {
        let mut conn = self.conn.clone();
        let keys: Vec<String> = keys
            .into_iter()
            .map(|k| format!("{}{k}", self.prefix))
            .collect();
        Box::pin(async move {
            let mut out = Vec::with_capacity(keys.len());
            for chunk in keys.chunks(KEYS_PER_PIPELINE) {
                let mut pipe = redis::pipe();
                for key in chunk {
                    pipe.cmd("ZREMRANGEBYSCORE")
                        .arg(key)
                        .arg("-inf")
                        .arg(now)
                        .ignore()
                        .cmd("ZRANGE")
                        .arg(key)
                        .arg(0)
                        .arg(-1);
                }
                let sets: Vec<Vec<String>> =
                    pipe.query_async(&mut conn).await.map_err(redis_err)?;
                out.extend(sets);
            }
            Ok(out)
        })
    }
    fn members(&self, key: String, now: i64) -> BoxFuture<'static, AppResult<Vec<String>>> {
        let read = self.members_many(vec![key], now);
        Box::pin(async move { Ok(read.await?.pop().unwrap_or_default()) })
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

    #[actix_web::test]
    async fn local_many_at_once() {
        let p = LocalPresence::default();
        p.touch("old".into(), "gone".into(), 100).await.unwrap();
        let entries = vec![
            ("k1".to_owned(), "a".to_owned()),
            ("k2".to_owned(), "b".to_owned()),
            ("k1".to_owned(), "c".to_owned()),
        ];
        p.touch_many(entries, 300).await.unwrap();
        let mut sets = p
            .members_many(
                vec!["k2".into(), "none".into(), "k1".into(), "old".into()],
                200,
            )
            .await
            .unwrap();
        sets[2].sort();
        assert_eq!(sets, vec![vec!["b"], vec![], vec!["a", "c"], vec![]]);
    }
}

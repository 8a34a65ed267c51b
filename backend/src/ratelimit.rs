//! Rate limits shared by every instance: fixed windows counted in Redis (`INCR` +
//! `PEXPIRE`), or in process when the desk runs as one instance. Limits are per key
//! (an IP, an account, a user) and answer 429 with `Retry-After`.

use crate::error::{AppError, AppResult};
use actix_web::http::StatusCode;
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use relay_protocol::ErrorCode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What is limited, with its budget per window.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

pub const LOGIN_PER_IP: Rule = Rule {
    name: "login-ip",
    limit: 30,
    window: Duration::from_secs(60),
};
pub const LOGIN_PER_ACCOUNT: Rule = Rule {
    name: "login-acct",
    limit: 10,
    window: Duration::from_secs(300),
};
pub const REGISTER_PER_IP: Rule = Rule {
    name: "register-ip",
    limit: 10,
    window: Duration::from_secs(600),
};
pub const TICKETS_PER_USER: Rule = Rule {
    name: "tickets",
    limit: 30,
    window: Duration::from_secs(60),
};
pub const MESSAGES_PER_USER: Rule = Rule {
    name: "messages",
    limit: 120,
    window: Duration::from_secs(60),
};
pub const WS_CONNECTS_PER_IP: Rule = Rule {
    name: "ws-ip",
    limit: 120,
    window: Duration::from_secs(60),
};
pub const WS_CONNECTS_PER_USER: Rule = Rule {
    name: "ws-user",
    limit: 60,
    window: Duration::from_secs(60),
};

pub trait Limiter: Send + Sync {
    /// Counts one hit; `Ok(None)` when allowed, `Ok(Some(retry_after))` when over.
    fn hit(&self, rule: Rule, key: String) -> BoxFuture<'static, AppResult<Option<Duration>>>;
}

pub fn too_many(retry_after: Duration) -> AppError {
    let secs = retry_after.as_secs().max(1);
    AppError::Client {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: ErrorCode::RateLimited,
        message: format!("too many requests; try again in {secs} s"),
        fields: Some(std::collections::BTreeMap::from([(
            "retry_after".to_owned(),
            secs.to_string(),
        )])),
    }
}

/// Counts a hit and turns "over the limit" into the 429 error. `scale` multiplies every
/// budget (`RATE_LIMIT_SCALE`; 0 turns limits off).
pub async fn check(
    limiter: &dyn Limiter,
    scale: u32,
    rule: Rule,
    key: impl Into<String>,
) -> AppResult<()> {
    if scale == 0 {
        return Ok(());
    }
    let rule = Rule {
        limit: rule.limit.saturating_mul(scale),
        ..rule
    };
    match limiter.hit(rule, key.into()).await {
        Ok(None) => Ok(()),
        Ok(Some(wait)) => Err(too_many(wait)),
        // A limiter that cannot count (Redis down) lets traffic through: availability
        // over strictness, and the failure is logged.
        Err(e) => {
            tracing::warn!(error = %e, rule = rule.name, "rate limiter unavailable");
            Ok(())
        }
    }
}

#[derive(Default)]
pub struct LocalLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter for LocalLimiter {
    fn hit(&self, rule: Rule, key: String) -> BoxFuture<'static, AppResult<Option<Duration>>> {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(3600));
        }
        let entry = map
            .entry(format!("{}:{key}", rule.name))
            .or_insert((now, 0));
        if now.duration_since(entry.0) >= rule.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        let out =
            (entry.1 > rule.limit).then(|| rule.window.saturating_sub(now.duration_since(entry.0)));
        Box::pin(async move { Ok(out) })
    }
}

pub struct RedisLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisLimiter {
    pub fn new(conn: ConnectionManager, namespace: &str) -> RedisLimiter {
        let prefix = if namespace.is_empty() {
            String::new()
        } else {
            format!("{namespace}:")
        };
        RedisLimiter { conn, prefix }
    }
}

impl Limiter for RedisLimiter {
    fn hit(&self, rule: Rule, key: String) -> BoxFuture<'static, AppResult<Option<Duration>>> {
        let mut conn = self.conn.clone();
        let key = format!("{}rl:{}:{key}", self.prefix, rule.name);
        Box::pin(async move {
            let window_ms = rule.window.as_millis() as i64;
            // INCR, and start the window's expiry on its first hit only.
            let (count, ttl): (u32, i64) = redis::pipe()
                .atomic()
                .cmd("INCR")
                .arg(&key)
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(window_ms)
                .arg("NX")
                .ignore()
                .cmd("PTTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(|e| AppError::internal(format!("redis rate limit: {e}")))?;
            Ok((count > rule.limit).then(|| Duration::from_millis(ttl.max(1000) as u64)))
        })
    }
}

/// The client's address: the peer, or `X-Real-IP` when `TRUST_PROXY` says a proxy we
/// control (nginx) sets it.
pub fn client_ip(req: &actix_web::HttpRequest, trust_proxy: bool) -> String {
    client_ip_of(req.headers(), req.peer_addr(), trust_proxy)
}

/// `client_ip` from the parts, for requests that never become an `HttpRequest` (upgrades).
pub fn client_ip_of(
    headers: &actix_web::http::header::HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trust_proxy: bool,
) -> String {
    if trust_proxy {
        if let Some(ip) = headers.get("x-real-ip").and_then(|v| v.to_str().ok()) {
            return ip.trim().to_owned();
        }
    }
    peer.map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn local_windows_count_and_reset() {
        let l = LocalLimiter::default();
        let rule = Rule {
            name: "t",
            limit: 2,
            window: Duration::from_millis(200),
        };
        assert!(l.hit(rule, "a".into()).await.unwrap().is_none());
        assert!(l.hit(rule, "a".into()).await.unwrap().is_none());
        assert!(l.hit(rule, "a".into()).await.unwrap().is_some());
        assert!(
            l.hit(rule, "b".into()).await.unwrap().is_none(),
            "keys are separate"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            l.hit(rule, "a".into()).await.unwrap().is_none(),
            "a new window"
        );
    }
}

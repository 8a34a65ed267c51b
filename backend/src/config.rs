//! Typed configuration, read once from the environment at start.
//! Every problem is reported at once, so a bad deployment is fixed in one go.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Prefix for every Redis key and channel (deployments or test runs sharing a Redis).
    pub redis_namespace: String,
    pub bind: SocketAddr,
    pub jwt_secret: Vec<u8>,
    /// `RELAY_DEV=1`: development defaults (a fixed JWT secret, localhost origins).
    pub dev: bool,
    pub allowed_origins: Vec<String>,
    pub static_dir: Option<PathBuf>,
    pub upload_dir: PathBuf,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub slack_webhook_url: Option<String>,
    pub instance_id: String,
    pub bcrypt_cost: u32,
    /// Longest a password hash may wait for a hashing thread (ms); a request the queue
    /// cannot serve in that time gets 503 + Retry-After at once.
    pub hash_queue_ms: u64,
    /// Hashing threads; `None` = all cores but one (at least one).
    pub hash_threads: Option<usize>,
    /// Lifetime of access tokens in seconds (at most 900).
    pub access_token_ttl: i64,
    pub refresh_token_ttl_days: i64,
    pub db_pool_size: u32,
    pub max_upload_bytes: usize,
    pub max_json_bytes: usize,
    /// Seconds a presence entry lives without a heartbeat (an instance that dies drops
    /// out of presence within this time).
    pub presence_ttl_secs: u64,
    /// Outgoing queue length of one socket before the slow-client policy applies.
    pub ws_queue: usize,
    /// Message posts are stored in batches (one transaction, one WAL flush each): how
    /// many batches may be in flight at once, and how many posts one may hold.
    pub message_writers: usize,
    pub message_batch: usize,
    /// How often the outbox worker looks for due mail (ms) and its first retry delay (ms).
    pub outbox_poll_ms: u64,
    pub outbox_backoff_ms: i64,
    /// How often the SLA job runs (seconds).
    pub sla_check_secs: u64,
    /// Milliseconds between moves of the search indexes' pending lists (`db::upkeep`);
    /// 0 leaves them to PostgreSQL (the insert that fills the list, and autovacuum).
    pub search_flush_ms: u64,
    /// How long one page of a full-text search may take (see `SearchBudget`).
    pub search: SearchBudget,
    /// Multiplies every rate-limit budget; 0 turns rate limiting off.
    pub rate_limit_scale: u32,
    /// Take the client address from `X-Real-IP` (set by our nginx), not the peer.
    pub trust_proxy: bool,
    /// HTTP/WebSocket worker threads (each a single-threaded runtime); `None`: one per
    /// core. Several instances on one machine each want their share of the cores.
    pub workers: Option<usize>,
}

/// The time one page of a full-text search may take. A search of words the statistics
/// call rare runs its exact plan (an index probe) in half of `ms`. A search of common
/// words, which the exact plan would answer by walking the tickets in the list's order
/// until the page is full (a phrase of two common words that matches nothing walks the
/// whole table: 0.6 s at 1M tickets), and one whose exact plan ran out of time, is
/// answered in slices: the next `first_slice` tickets, then slices sized to what is left
/// of `ms`, until the page is full or the time is spent. Each statement of a slice runs
/// under a timeout of what is left plus half of `ms`: a slice PostgreSQL cancels ends
/// the page before it, and when that is the page's first, a slice of `first_slice / 8`
/// tickets (at most 100) runs without one, so every page moves on. Such a page is
/// `partial`: its cursor continues the search where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchBudget {
    /// `SEARCH_BUDGET_MS`; 0: always in slices, one slice a page.
    pub ms: u64,
    /// `SEARCH_FIRST_SLICE`: tickets the first slice covers.
    pub first_slice: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

const DEV_JWT_SECRET: &str = "relay-desk-development-secret-do-not-use-in-production";

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the config from any key lookup (the environment in production, a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let dev = matches!(var("RELAY_DEV").as_deref(), Some("1" | "true" | "yes"));

        let database_url = var("DATABASE_URL").unwrap_or_else(|| {
            errors.push("DATABASE_URL is required (postgres://user@host:port/db)".into());
            String::new()
        });
        let redis_url = var("REDIS_URL");
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                errors.push(format!(
                    "REDIS_URL must start with redis:// or rediss://, got {url:?}"
                ));
            }
        }
        let bind = var("BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind.parse().unwrap_or_else(|_| {
            errors.push(format!(
                "BIND must be host:port like 127.0.0.1:8080, got {bind:?}"
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let jwt_secret = match var("JWT_SECRET") {
            Some(s) if s.len() >= 32 => s.into_bytes(),
            Some(_) => {
                errors.push("JWT_SECRET must be at least 32 characters".into());
                Vec::new()
            }
            None if dev => DEV_JWT_SECRET.as_bytes().to_vec(),
            None => {
                errors.push("JWT_SECRET is required (or set RELAY_DEV=1 for development)".into());
                Vec::new()
            }
        };
        let allowed_origins: Vec<String> = match var("ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            None => {
                let port = bind.port();
                vec![
                    format!("http://127.0.0.1:{port}"),
                    format!("http://localhost:{port}"),
                ]
            }
        };
        for o in &allowed_origins {
            if !(o.starts_with("http://") || o.starts_with("https://")) {
                errors.push(format!(
                    "ALLOWED_ORIGINS entries must be http(s) origins, got {o:?}"
                ));
            }
        }
        let static_dir = var("STATIC_DIR").map(PathBuf::from);
        if let Some(d) = &static_dir {
            if !d.join("index.html").is_file() {
                errors.push(format!("STATIC_DIR {} has no index.html", d.display()));
            }
        }
        let upload_dir = PathBuf::from(var("UPLOAD_DIR").unwrap_or_else(|| "data/uploads".into()));
        if let Some(u) = var("SMTP_URL") {
            if !u.starts_with("smtp://") {
                errors.push(format!(
                    "SMTP_URL must look like smtp://host:port, got {u:?}"
                ));
            }
        }
        let mail_from = var("MAIL_FROM").unwrap_or_else(|| "Relay Desk <desk@localhost>".into());
        let instance_id = var("INSTANCE_ID").unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "relay".into());
            format!("{host}-{}", std::process::id())
        });

        let mut number = |key: &str, default: i64, min: i64, max: i64| -> i64 {
            match var(key) {
                None => default,
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => n,
                    _ => {
                        errors.push(format!(
                            "{key} must be a whole number in {min}..={max}, got {v:?}"
                        ));
                        default
                    }
                },
            }
        };
        let bcrypt_cost = number("BCRYPT_COST", 12, 4, 31) as u32;
        let hash_queue_ms = number("HASH_QUEUE_MS", 10_000, 100, 300_000) as u64;
        let hash_threads = Some(number("HASH_THREADS", 0, 0, 256) as usize).filter(|&n| n > 0);
        let access_token_ttl = number("ACCESS_TOKEN_TTL", 900, 10, 900);
        let refresh_token_ttl_days = number("REFRESH_TOKEN_TTL_DAYS", 30, 1, 365);
        let db_pool_size = number("DB_POOL_SIZE", 16, 1, 200) as u32;
        let max_upload_bytes = number("MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024, 1 << 30) as usize;
        let max_json_bytes = number("MAX_JSON_BYTES", 256 * 1024, 1024, 16 << 20) as usize;
        let presence_ttl_secs = number("PRESENCE_TTL_SECS", 25, 2, 30) as u64;
        let ws_queue = number("WS_QUEUE", 512, 8, 65_536) as usize;
        let message_writers = number("MESSAGE_WRITERS", 4, 1, 64) as usize;
        // At most 64: each post is a savepoint, and PostgreSQL tracks 64 subtransactions
        // per transaction before every other snapshot gets slower.
        let message_batch = number("MESSAGE_BATCH", 32, 1, 64) as usize;
        let outbox_poll_ms = number("OUTBOX_POLL_MS", 1000, 10, 60_000) as u64;
        let outbox_backoff_ms = number("OUTBOX_BACKOFF_MS", 5000, 10, 600_000);
        let sla_check_secs = number("SLA_CHECK_SECS", 30, 1, 3600) as u64;
        let search_flush_ms = number("SEARCH_FLUSH_MS", 1000, 0, 60_000) as u64;
        let search = SearchBudget {
            ms: number("SEARCH_BUDGET_MS", 12, 0, 60_000) as u64,
            first_slice: number("SEARCH_FIRST_SLICE", 300, 1, 1_000_000),
        };
        let rate_limit_scale = number("RATE_LIMIT_SCALE", 1, 0, 10_000) as u32;
        let workers = Some(number("WORKERS", 0, 0, 256) as usize).filter(|&n| n > 0);

        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok(Config {
            database_url,
            redis_url,
            redis_namespace: var("REDIS_NAMESPACE").unwrap_or_default(),
            bind,
            jwt_secret,
            dev,
            allowed_origins,
            static_dir,
            upload_dir,
            smtp_url: var("SMTP_URL"),
            mail_from,
            slack_webhook_url: var("SLACK_WEBHOOK_URL"),
            instance_id,
            bcrypt_cost,
            hash_queue_ms,
            hash_threads,
            access_token_ttl,
            refresh_token_ttl_days,
            db_pool_size,
            max_upload_bytes,
            max_json_bytes,
            presence_ttl_secs,
            ws_queue,
            message_writers,
            message_batch,
            outbox_poll_ms,
            outbox_backoff_ms,
            sla_check_secs,
            search_flush_ms,
            search,
            rate_limit_scale,
            trust_proxy: matches!(var("TRUST_PROXY").as_deref(), Some("1" | "true" | "yes")),
            workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn search_budget_defaults_and_bounds() {
        let base = [("DATABASE_URL", "postgres://x@y/z"), ("RELAY_DEV", "1")];
        assert_eq!(
            cfg(&base).unwrap().search,
            SearchBudget {
                ms: 12,
                first_slice: 300
            }
        );
        let mut pairs = base.to_vec();
        pairs.extend([("SEARCH_BUDGET_MS", "0"), ("SEARCH_FIRST_SLICE", "50")]);
        let c = cfg(&pairs).unwrap();
        assert_eq!((c.search.ms, c.search.first_slice), (0, 50));
        let mut pairs = base.to_vec();
        pairs.push(("SEARCH_FIRST_SLICE", "0"));
        let text = cfg(&pairs).unwrap_err().to_string();
        assert!(
            text.contains("SEARCH_FIRST_SLICE must be a whole number in 1..="),
            "{text}"
        );
    }

    #[test]
    fn workers_default_to_one_per_core() {
        let base = [("DATABASE_URL", "postgres://x@y/z"), ("RELAY_DEV", "1")];
        assert_eq!(cfg(&base).unwrap().workers, None);
        let with = |v: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("WORKERS", v));
            cfg(&pairs)
        };
        assert_eq!(with("0").unwrap().workers, None, "0 means one per core");
        assert_eq!(with("1").unwrap().workers, Some(1));
        let text = with("many").unwrap_err().to_string();
        assert!(text.contains("WORKERS must be a whole number"), "{text}");
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = cfg(&[("BIND", "nope"), ("BCRYPT_COST", "99")]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("DATABASE_URL is required"), "{text}");
        assert!(text.contains("JWT_SECRET is required"), "{text}");
        assert!(text.contains("BIND must be"), "{text}");
        assert!(text.contains("BCRYPT_COST"), "{text}");
    }

    #[test]
    fn dev_mode_defaults() {
        let c = cfg(&[("DATABASE_URL", "postgres://x"), ("RELAY_DEV", "1")]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c
            .allowed_origins
            .contains(&"http://localhost:8080".to_string()));
        assert_eq!(c.access_token_ttl, 900);
        assert!(c.redis_url.is_none());
    }

    #[test]
    fn short_secret_refused() {
        let err = cfg(&[("DATABASE_URL", "postgres://x"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(err.to_string().contains("at least 32"));
    }
}

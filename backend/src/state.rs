//! Application state shared by every handler: config, database pool, the real-time
//! machinery and the start time.

use crate::config::Config;
use crate::db::PgPool;
use crate::error::AppResult;
use crate::realtime::Realtime;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub realtime: Realtime,
    /// Stores message posts in batches (`messages::writer`).
    pub writer: crate::messages::writer::Writer,
    pub metrics: Arc<Metrics>,
    /// Attachment bytes (local directory today; the trait admits an S3-compatible store).
    pub store: Arc<dyn crate::attachments::store::Store>,
    /// Rate limits shared by all instances (Redis) or local.
    pub limiter: Arc<dyn crate::ratelimit::Limiter>,
    /// This server's bcrypt threads (`auth::password`).
    pub hasher: crate::auth::password::Hasher,
    pub started: Instant,
}

/// Counters exported at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub messages_posted: AtomicU64,
    /// Batches the message writer stored, and the posts they held.
    pub message_batches: AtomicU64,
    pub message_batch_posts: AtomicU64,
    /// Posts stored set-wise with the other plain posts of their batch.
    pub message_posts_together: AtomicU64,
    /// Batches rolled back and stored again post by post.
    pub message_batches_redone: AtomicU64,
    pub tickets_created: AtomicU64,
}

impl AppState {
    /// Connects the bus (Redis when configured) and starts this instance's hub. Call it
    /// inside the runtime that should own the hub task.
    pub async fn start(config: Config, pool: PgPool) -> AppResult<AppState> {
        let config = Arc::new(config);
        let realtime = Realtime::start(config.clone(), pool.clone()).await?;
        let limiter: Arc<dyn crate::ratelimit::Limiter> = match &realtime.redis {
            Some(conn) => Arc::new(crate::ratelimit::RedisLimiter::new(
                conn.clone(),
                &config.redis_namespace,
            )),
            None => Arc::new(crate::ratelimit::LocalLimiter::default()),
        };
        let store = Arc::new(crate::attachments::store::LocalStore::new(
            config.upload_dir.clone(),
        ));
        let metrics = Arc::<Metrics>::default();
        let writer = crate::messages::writer::Writer::spawn(
            pool.clone(),
            metrics.clone(),
            config.message_writers,
            config.message_batch,
        );
        let hasher = crate::auth::password::Hasher::new(
            config.hash_threads,
            config.bcrypt_cost,
            std::time::Duration::from_millis(config.hash_queue_ms),
        );
        Ok(AppState {
            config,
            hasher,
            writer,
            pool,
            realtime,
            metrics,
            store,
            limiter,
            started: Instant::now(),
        })
    }

    /// Counts a hit against a rate-limit rule (429 when over).
    pub async fn limit(
        &self,
        rule: crate::ratelimit::Rule,
        key: impl Into<String>,
    ) -> AppResult<()> {
        crate::ratelimit::check(
            self.limiter.as_ref(),
            self.config.rate_limit_scale,
            rule,
            key,
        )
        .await
    }

    /// Runs a query closure off the async workers (see `db::run`).
    pub async fn db<F, T>(&self, f: F) -> crate::error::AppResult<T>
    where
        F: FnOnce(&mut diesel::PgConnection) -> crate::error::AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        crate::db::run(&self.pool, f).await
    }
}

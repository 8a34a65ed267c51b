//! Application state shared by every handler: config, database pool, start time.

use crate::config::Config;
use crate::db::PgPool;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub started: Instant,
}

impl AppState {
    pub fn new(config: Config, pool: PgPool) -> AppState {
        AppState {
            config: Arc::new(config),
            pool,
            started: Instant::now(),
        }
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

//! Connection pool, embedded migrations and the helper that runs queries off the
//! async workers (diesel is synchronous; every query runs on the blocking pool).

pub mod schema;

use crate::error::{AppError, AppResult};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

pub fn build_pool(url: &str, size: u32) -> AppResult<PgPool> {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1.min(size)))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(AppError::from)
}

/// Applies every pending migration; returns how many ran.
pub fn run_migrations(conn: &mut PgConnection) -> AppResult<usize> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| AppError::internal(format!("migration failed: {e}")))
}

/// Runs `f` with a pooled connection on the blocking thread pool.
pub async fn run<F, T>(pool: &PgPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Is this the unique-constraint violation named `constraint`?
pub fn is_unique_violation(e: &diesel::result::Error, constraint: &str) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

//! Connection pool, embedded migrations and the helper that runs queries off the
//! async workers (diesel is synchronous; every query runs on the blocking pool).

pub mod prepared;
pub mod schema;
pub mod upkeep;

use crate::error::{AppError, AppResult};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

pub type PgPool = Pool<Manager>;
pub type PgConn = PooledConnection<Manager>;

thread_local! {
    /// Set by `run` on the thread that is about to return a connection whose last query
    /// failed because the server went away; read (and cleared) by the check-in.
    static LOST: Cell<bool> = const { Cell::new(false) };
}

/// diesel's r2d2 manager, plus: a connection that lost its server (restart, terminated
/// backend, network) is dropped at check-in instead of being handed to the next request.
/// diesel alone only notices broken transactions, and pinging on every checkout would
/// cost a round trip per query. So checkouts are not pinged while all is well; once a
/// request has found its connection dead, the others idling in the pool are probably
/// dead too (the server restarted, or an operator terminated the backends), so for
/// `SUSPECT` after that every checkout is pinged and a dead one replaced before the
/// request sees it. A restart costs about one failed request (a 503 the client
/// retries), not one per pooled connection.
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
    born: Instant,
    /// Milliseconds after `born` of the last connection found lost, plus one; 0: never.
    last_loss: AtomicU64,
}

/// How long after a lost connection every checkout is pinged.
const SUSPECT: Duration = Duration::from_secs(60);

impl Manager {
    pub fn new(url: &str) -> Self {
        Manager {
            inner: ConnectionManager::new(url),
            born: Instant::now(),
            last_loss: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.born.elapsed().as_millis() as u64 + 1
    }

    /// Was a connection found lost within the last `SUSPECT`?
    fn suspicious(&self) -> bool {
        match self.last_loss.load(Relaxed) {
            0 => false,
            at => self.now_ms().saturating_sub(at) < SUSPECT.as_millis() as u64,
        }
    }

    fn saw_loss(&self) {
        self.last_loss.store(self.now_ms(), Relaxed);
    }
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let mut conn = self.inner.connect()?;
        // No JIT: it pays off for long analytic scans, while here a query's plan can
        // cross `jit_above_cost` on its estimate alone (a search walk bounded by a
        // window: 6 ms of work, 18 ms of compiling).
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "SET jit = off")
            .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        if !self.suspicious() {
            return Ok(());
        }
        self.inner.is_valid(conn).inspect_err(|_| self.saw_loss())
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        if LOST.with(|l| l.replace(false)) {
            self.saw_loss();
            return true;
        }
        self.inner.has_broken(conn)
    }
}

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

pub fn build_pool(url: &str, size: u32) -> AppResult<PgPool> {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1.min(size)))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(true) // cheap: `Manager::is_valid` pings only when suspicious
        .build(Manager::new(url))
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
        let result = f(&mut conn);
        if result.as_ref().is_err_and(AppError::is_connection_lost) {
            LOST.with(|l| l.set(true));
        }
        drop(conn);
        result
    })
    .await?
}

/// Marks the connection this thread holds as lost, for a caller of `run` that answers
/// `Ok` although a query inside failed that way (a batch reporting per item).
pub fn mark_lost() {
    LOST.with(|l| l.set(true));
}

/// Is this the unique-constraint violation named `constraint`?
pub fn is_unique_violation(e: &diesel::result::Error, constraint: &str) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

//! Password policy and bcrypt. bcrypt is deliberately slow (about 250 ms of CPU at
//! cost 12 here), so it runs on its own small pool of threads: never on the async
//! workers, never on the blocking pool the database queries use, on all cores but
//! one, at the lowest scheduling priority. A burst of sign-ins then queues (up to `QUEUE_WAIT`, then 503 + Retry-After)
//! instead of taking every core from message delivery.

use crate::error::{AppError, AppResult};
use actix_web::http::StatusCode;
use relay_protocol::ErrorCode;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub const MIN_LEN: usize = 8;
/// bcrypt reads at most 72 bytes; longer passwords are refused, never silently cut.
pub const MAX_BYTES: usize = 72;

pub fn check_policy(field: &str, password: &str) -> AppResult<()> {
    crate::error::no_nul(field, password)?;
    if password.chars().count() < MIN_LEN {
        return Err(AppError::invalid(
            field,
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// How long a sign-in waits for a hashing thread before it is told to retry.
const QUEUE_WAIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads: all cores but one (at least one).
fn pool() -> &'static Mutex<mpsc::Sender<Job>> {
    static POOL: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1).max(1))
            .unwrap_or(1);
        for i in 0..threads {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || {
                    // Below chat, PostgreSQL and Redis in the kernel's eyes: SCHED_IDLE
                    // where Linux allows it (runs only on CPU nobody else wants), else
                    // the lowest niceness; a failure only means ordinary priority.
                    if !idle_policy() {
                        let _ = thread_priority::set_current_thread_priority(
                            thread_priority::ThreadPriority::Min,
                        );
                    }
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
        }
        Mutex::new(tx)
    })
}

/// Puts the calling thread in the SCHED_IDLE class.
#[cfg(target_os = "linux")]
fn idle_policy() -> bool {
    use thread_priority::unix::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
        ThreadSchedulePolicy,
    };
    set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    )
    .is_ok()
}

#[cfg(not(target_os = "linux"))]
fn idle_policy() -> bool {
    false
}

/// Runs `f` on a hashing thread; a queue longer than `QUEUE_WAIT` answers 503.
async fn on_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let started = std::time::Instant::now();
    let job: Job = Box::new(move || {
        // Waited too long: the caller has already been answered.
        if started.elapsed() < QUEUE_WAIT {
            let _ = tx.send(f());
        }
    });
    pool()
        .lock()
        .map_err(|_| AppError::internal("bcrypt pool poisoned"))?
        .send(job)
        .map_err(|_| AppError::internal("bcrypt pool gone"))?;
    match tokio::time::timeout(QUEUE_WAIT, rx).await {
        Ok(Ok(v)) => Ok(v),
        _ => {
            let mut fields = std::collections::BTreeMap::new();
            fields.insert("retry_after".to_owned(), "5".to_owned());
            Err(AppError::Client {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: ErrorCode::Unavailable,
                message: "too many sign-ins at once; try again in a few seconds".into(),
                fields: Some(fields),
            })
        }
    }
}

pub async fn hash(password: String, cost: u32) -> AppResult<String> {
    on_pool(move || bcrypt::hash(password, cost))
        .await?
        .map_err(|e| AppError::internal(format!("bcrypt: {e}")))
}

pub async fn verify(password: String, hash: String) -> AppResult<bool> {
    on_pool(move || bcrypt::verify(password, &hash).unwrap_or(false)).await
}

/// Verifies against a fixed hash of the same cost, so an unknown email costs as much
/// time as a wrong password and does not reveal which accounts exist.
pub async fn burn_time(cost: u32) -> AppResult<()> {
    static DUMMY: OnceLock<(u32, String)> = OnceLock::new();
    let dummy = match DUMMY.get() {
        Some((c, h)) if *c == cost => h.clone(),
        _ => {
            let h = hash("relay-desk-dummy-password".into(), cost).await?;
            let _ = DUMMY.set((cost, h.clone()));
            h
        }
    };
    verify("not-the-password".into(), dummy).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("password", "short").is_err());
        assert!(check_policy("password", "long enough").is_ok());
        assert!(check_policy("password", &"x".repeat(72)).is_ok());
        assert!(check_policy("password", &"x".repeat(73)).is_err());
        // 25 three-byte characters are 75 bytes: refused, not truncated.
        assert!(check_policy("password", &"€".repeat(25)).is_err());
    }
}

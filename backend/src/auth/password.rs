//! Password policy and bcrypt. bcrypt is deliberately slow (about 250 ms of CPU at
//! cost 12 here), so each server has its own small pool of hashing threads: never the
//! async workers, never the blocking pool the database queries use, all cores but one,
//! at the lowest scheduling priority. A burst of sign-ins queues for at most
//! `HASH_QUEUE_MS`. A request the queue cannot serve in that time is refused at once
//! with 503 + Retry-After (estimated from how long recent hashes took), so a sign-in
//! storm gets quick answers instead of requests that hang until they time out.

use crate::error::{AppError, AppResult};
use actix_web::http::StatusCode;
use relay_protocol::ErrorCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

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

type Job = Box<dyn FnOnce() + Send>;

/// This server's hashing threads and their queue. Cloning shares them.
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Job>,
    threads: usize,
    cost: u32,
    /// Longest a request waits for a thread.
    wait: Duration,
    /// Jobs accepted and not finished (waiting or running).
    in_system: AtomicUsize,
    /// Moving average of one hash's run time, in µs (0 until the first one).
    avg_us: AtomicU64,
    /// A hash of a fixed password at `cost`, for `burn_time`.
    dummy: OnceLock<String>,
}

impl Hasher {
    /// `threads` hashing threads; `None`: all cores but one (at least one).
    pub fn new(threads: Option<usize>, cost: u32, wait: Duration) -> Hasher {
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get().saturating_sub(1).max(1))
                .unwrap_or(1)
        });
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
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
                        // Every sender gone (the server stopped): the thread ends.
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
        Hasher {
            inner: Arc::new(Inner {
                tx,
                threads,
                cost,
                wait,
                in_system: AtomicUsize::new(0),
                avg_us: AtomicU64::new(0),
                dummy: OnceLock::new(),
            }),
        }
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        let cost = self.inner.cost;
        self.run(move || bcrypt::hash(password, cost))
            .await?
            .map_err(|e| AppError::internal(format!("bcrypt: {e}")))
    }

    pub async fn verify(&self, password: String, hash: String) -> AppResult<bool> {
        self.run(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
    }

    /// Verifies against a fixed hash of the same cost, so an unknown email costs as
    /// much time as a wrong password and does not reveal which accounts exist.
    pub async fn burn_time(&self) -> AppResult<()> {
        let dummy = match self.inner.dummy.get() {
            Some(h) => h.clone(),
            None => {
                let h = self.hash("relay-desk-dummy-password".into()).await?;
                let _ = self.inner.dummy.set(h.clone());
                h
            }
        };
        self.verify("not-the-password".into(), dummy)
            .await
            .map(|_| ())
    }

    /// How long a job queued now would wait for a thread, from the jobs ahead of it
    /// and the recent run time of one.
    fn expected_wait(&self) -> Duration {
        let inner = &self.inner;
        let ahead = inner.in_system.load(Ordering::Relaxed) as u64;
        let avg = inner.avg_us.load(Ordering::Relaxed);
        Duration::from_micros(ahead * avg / inner.threads as u64)
    }

    /// Runs `f` on a hashing thread. Refused at once (503) when the queue is expected
    /// to take longer than the wait allows; 503 too if it still does.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let expected = self.expected_wait();
        if expected >= self.inner.wait {
            return Err(busy(expected));
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let queued = Instant::now();
        let inner = self.inner.clone();
        let wait = inner.wait;
        let job: Job = Box::new(move || {
            // Waited too long: the caller has already been answered.
            if queued.elapsed() < inner.wait {
                let started = Instant::now();
                let v = f();
                inner.record(started.elapsed());
                let _ = tx.send(v);
            }
            inner.in_system.fetch_sub(1, Ordering::Relaxed);
        });
        self.inner.in_system.fetch_add(1, Ordering::Relaxed);
        if self.inner.tx.send(job).is_err() {
            self.inner.in_system.fetch_sub(1, Ordering::Relaxed);
            return Err(AppError::internal("the hashing threads are gone"));
        }
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(v)) => Ok(v),
            _ => Err(busy(self.expected_wait())),
        }
    }
}

impl Inner {
    fn record(&self, took: Duration) {
        let us = took.as_micros().min(u64::MAX as u128) as u64;
        let old = self.avg_us.load(Ordering::Relaxed);
        let new = if old == 0 { us } else { (old * 7 + us) / 8 };
        self.avg_us.store(new.max(1), Ordering::Relaxed);
    }
}

/// 503 with a Retry-After of about the time the queue needs (1 to 60 s).
fn busy(expected: Duration) -> AppError {
    let secs = expected.as_secs_f64().ceil().clamp(1.0, 60.0) as u64;
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("retry_after".to_owned(), secs.to_string());
    AppError::Client {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: ErrorCode::Unavailable,
        message: format!("too many sign-ins at once; try again in {secs} s"),
        fields: Some(fields),
    }
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

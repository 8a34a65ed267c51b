//! The message writer: every post (REST and WebSocket) is stored here, in batches. A
//! batch is one transaction, so one WAL flush commits it all. Its plain posts (most of
//! a chat) are stored set-wise by `queries::post_batch`, a few statements for the whole
//! batch; the others each in a savepoint of their own, so a post that fails rolls back
//! alone.
//!
//! Batches form by themselves: at most `MESSAGE_WRITERS` are in flight, and the next one
//! takes every post that queued meanwhile (up to `MESSAGE_BATCH`). A lone post is its own
//! batch and waits for nothing. Each post is answered only after its batch commits, so a
//! message is still acknowledged and delivered only once it is stored.

use super::queries::{self, Posted};
use crate::auth::Actor;
use crate::db::PgPool;
use crate::error::{AppError, AppResult};
use crate::state::Metrics;
use diesel::{Connection, PgConnection};
use relay_protocol::tickets::TicketView;
use relay_protocol::users::Role;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};
use uuid::Uuid;

/// A stored post, with the ticket's staff and customer views when the post changed it.
pub type Stored = (Posted, Option<(TicketView, TicketView)>);

/// One post to store.
pub struct PostRequest {
    pub actor: Actor,
    pub ticket_id: i64,
    pub body: String,
    pub internal: bool,
    pub client_id: Option<Uuid>,
}

struct Job {
    req: PostRequest,
    reply: oneshot::Sender<AppResult<Stored>>,
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer on the current runtime.
    pub fn spawn(pool: PgPool, metrics: Arc<Metrics>, writers: usize, batch: usize) -> Writer {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(collect(pool, metrics, rx, writers.max(1), batch.max(1)));
        Writer { tx }
    }

    /// Stores one post; resolves once its batch has committed.
    pub async fn post(&self, req: PostRequest) -> AppResult<Stored> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { req, reply })
            .await
            .map_err(|_| AppError::internal("the message writer has stopped"))?;
        answer
            .await
            .map_err(|_| AppError::internal("the message writer dropped a post"))?
    }
}

async fn collect(
    pool: PgPool,
    metrics: Arc<Metrics>,
    mut rx: mpsc::Receiver<Job>,
    writers: usize,
    batch: usize,
) {
    let slots = Arc::new(Semaphore::new(writers));
    loop {
        // A free slot first: while every slot is busy, posts queue up for the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            write(&pool, &metrics, jobs).await;
            drop(slot);
        });
    }
}

async fn write(pool: &PgPool, metrics: &Metrics, jobs: Vec<Job>) {
    let (reqs, replies): (Vec<PostRequest>, Vec<_>) =
        jobs.into_iter().map(|j| (j.req, j.reply)).unzip();
    match crate::db::run(pool, move |conn| Ok(store_batch(conn, &reqs))).await {
        Ok(Batch {
            results,
            together,
            redone,
        }) => {
            metrics.message_batches.fetch_add(1, Relaxed);
            metrics
                .message_batch_posts
                .fetch_add(results.len() as u64, Relaxed);
            metrics
                .message_posts_together
                .fetch_add(together as u64, Relaxed);
            metrics
                .message_batches_redone
                .fetch_add(u64::from(redone), Relaxed);
            for (reply, r) in replies.into_iter().zip(results) {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            // No connection (pool exhausted or the database down): nothing was stored,
            // every post is answered 503 and retried by its client with its client_id.
            tracing::warn!(error = %e, posts = replies.len(), "message batch not stored");
            for reply in replies {
                let _ = reply.send(Err(AppError::unavailable()));
            }
        }
    }
}

/// Stores `reqs` in one transaction: first every ticket of the batch is locked in
/// ascending id order (two batches then cannot deadlock each other) and the plain posts
/// are stored together, then the others each in a savepoint (`queries::post`'s own
/// transaction nests as one), ticket by ticket. Answers in the order
/// of `reqs`. If the batch itself fails (its commit, a deadlock with some other
/// transaction), each post is stored again on its own. A lost connection answers every
/// post not known to be committed 503 (the client retries with the same client_id) and
/// drops the connection from the pool.
fn store_batch(conn: &mut PgConnection, reqs: &[PostRequest]) -> Batch {
    let answered = |results, together, redone| Batch {
        results,
        together,
        redone,
    };
    let unavailable = || reqs.iter().map(|_| Err(AppError::unavailable())).collect();
    let mut redone = false;
    if reqs.len() > 1 {
        let mut order: Vec<usize> = (0..reqs.len()).collect();
        order.sort_by_key(|&i| reqs[i].ticket_id); // stable: a ticket's posts keep their order
        let batch = conn.transaction(|conn| {
            // The plain posts set-wise, then the rest one by one in savepoints.
            let mut out: Vec<Option<AppResult<Stored>>> = queries::post_batch(conn, reqs)?
                .into_iter()
                .map(|r| r.map(|r| r.map(|posted| (posted, None))))
                .collect();
            let together = out.iter().filter(|r| matches!(r, Some(Ok(_)))).count();
            for &i in &order {
                if out[i].is_some() {
                    continue;
                }
                match store_one(conn, &reqs[i]) {
                    Err(e) if e.is_connection_lost() => return Err(e),
                    r => out[i] = Some(r),
                }
            }
            Ok((out, together))
        });
        match batch {
            Ok((out, together)) => {
                let results = out
                    .into_iter()
                    .map(|r| {
                        r.unwrap_or_else(|| Err(AppError::internal("post left out of its batch")))
                    })
                    .collect();
                return answered(results, together, false);
            }
            Err(e) if e.is_connection_lost() => {
                crate::db::mark_lost();
                return answered(unavailable(), 0, false);
            }
            // A client_id retry of a message stored earlier: `post` answers it.
            Err(AppError::Database(e))
                if crate::db::is_unique_violation(&e, "messages_client_id_key") =>
            {
                tracing::debug!(
                    posts = reqs.len(),
                    "a retried client_id in the batch; storing its posts one by one"
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, posts = reqs.len(), "message batch rolled back; storing its posts one by one")
            }
        }
        redone = true;
    }
    let mut out = Vec::with_capacity(reqs.len());
    for r in reqs {
        match store_one(conn, r) {
            Err(e) if e.is_connection_lost() => {
                crate::db::mark_lost();
                // What was stored before stays answered; the rest was not stored.
                out.push(Err(e));
                out.extend(
                    reqs[out.len()..]
                        .iter()
                        .map(|_| Err(AppError::unavailable())),
                );
                break;
            }
            r => out.push(r),
        }
    }
    answered(out, 0, redone)
}

/// What `store_batch` did: each post's answer, how many posts were stored set-wise, and
/// whether the batch was rolled back and stored again post by post.
struct Batch {
    results: Vec<AppResult<Stored>>,
    together: usize,
    redone: bool,
}

fn store_one(conn: &mut PgConnection, r: &PostRequest) -> AppResult<Stored> {
    let posted = queries::post(
        conn,
        &r.actor,
        r.ticket_id,
        &r.body,
        r.internal,
        r.client_id,
    )?;
    let views = if posted.ticket_changed {
        // In a savepoint of its own: inside a batch, a failed read must not leave the
        // batch's transaction aborted under the posts that follow.
        Some(conn.transaction(|conn| {
            let staff = crate::tickets::queries::view(conn, Role::Technician, &posted.ticket)?;
            let customer = crate::tickets::queries::view(conn, Role::Customer, &posted.ticket)?;
            AppResult::Ok((staff, customer))
        })?)
    } else {
        None
    };
    Ok((posted, views))
}

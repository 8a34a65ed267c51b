//! Search-index upkeep off the message path. A GIN index (the search vectors of
//! `messages` and `tickets`) takes new rows into a pending list and moves them into the
//! index proper in bulk. Left to PostgreSQL, the insert that finds the list over
//! `gin_pending_list_limit` (4 MB) does the move itself: at 3,600 messages a second that
//! was one insert every 6 s taking 135–180 ms while its batch held its tickets' row
//! locks, so every post to those tickets waited behind it. This job moves the list every
//! `SEARCH_FLUSH_MS` on a connection of its own, so the list never reaches the limit
//! and no post pays for it (a search also reads the whole pending list, so a short list
//! keeps searches fast too).

use crate::db::PgPool;
use crate::error::AppResult;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::time::Duration;

/// The GIN indexes whose pending lists this job moves.
pub const SEARCH_INDEXES: [&str; 2] = ["messages_search_idx", "tickets_search_idx"];

#[derive(QueryableByName)]
struct Moved {
    #[diesel(sql_type = BigInt)]
    pages: i64,
}

/// Moves the pending lists of `SEARCH_INDEXES` into their indexes; returns how many
/// pending pages that freed. Several instances may call it at once: one transaction-level
/// advisory lock lets one of them work and the others return 0 at once instead of
/// queueing behind it.
pub fn flush_search_indexes(conn: &mut PgConnection) -> AppResult<i64> {
    let moved: Moved = diesel::sql_query(
        "SELECT coalesce(sum(gin_clean_pending_list(c.oid)), 0)::bigint AS pages \
         FROM pg_class c \
         WHERE c.relname = ANY($1) \
           AND c.relnamespace = current_schema()::regnamespace \
           AND pg_try_advisory_xact_lock(hashtext('relay-desk:search-upkeep'))",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&SEARCH_INDEXES[..])
    .get_result(conn)?;
    Ok(moved.pages)
}

/// After a failure (the database is away, or the app's role does not own the indexes),
/// the next try waits at least this long; PostgreSQL's own cleanup still runs meanwhile.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Runs `flush_search_indexes` every `every` on this instance, forever.
pub fn spawn(pool: PgPool, every: Duration) {
    actix_web::rt::spawn(async move {
        loop {
            let pause = match crate::db::run(&pool, flush_search_indexes).await {
                Ok(pages) => {
                    if pages > 0 {
                        tracing::debug!(pages, "search index pending lists moved");
                    }
                    every
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search index upkeep failed; retrying in 60 s");
                    every.max(RETRY_AFTER)
                }
            };
            tokio::time::sleep(pause).await;
        }
    });
}

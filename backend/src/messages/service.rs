//! The one code path that posts a message, for REST and WebSocket alike: store it (the
//! batching `writer`, then `queries::post`), then, after commit, fan it out and
//! announce ticket changes.

use super::queries::Posted;
use super::writer::PostRequest;
use crate::auth::Actor;
use crate::error::AppResult;
use crate::state::AppState;
use uuid::Uuid;

pub async fn post(
    state: &AppState,
    actor: Actor,
    ticket_id: i64,
    body: String,
    internal: bool,
    client_id: Option<Uuid>,
) -> AppResult<Posted> {
    state
        .limit(crate::ratelimit::MESSAGES_PER_USER, actor.id.to_string())
        .await?;
    let (posted, views) = state
        .writer
        .post(PostRequest {
            actor,
            ticket_id,
            body,
            internal,
            client_id,
        })
        .await?;
    if !posted.replayed {
        state
            .metrics
            .messages_posted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        state
            .realtime
            .message_posted(&posted.message, posted.ticket.requester_id)
            .await;
        for (user, note) in posted.notes.clone() {
            state.realtime.notify(user, note).await;
        }
        if let Some((staff, customer)) = views {
            state.realtime.ticket_updated(&staff, &customer, None).await;
        }
    }
    Ok(posted)
}

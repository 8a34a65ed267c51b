//! `/api/tickets/{id}/messages`: the conversation, read forward by `seq`, and replies.

use relay_protocol::messages::{MessageListQuery, MessagePage, MessageView, PostMessageRequest};
use relay_protocol::TicketId;

use super::{get, post, with_query, ApiError};

pub async fn list(ticket: TicketId, query: &MessageListQuery) -> Result<MessagePage, ApiError> {
    get(&with_query(
        &format!("/api/tickets/{ticket}/messages"),
        query,
    ))
    .await
}

/// Idempotent when `body.client_id` is set: a retry returns the stored message.
pub async fn post_message(
    ticket: TicketId,
    body: &PostMessageRequest,
) -> Result<MessageView, ApiError> {
    post(&format!("/api/tickets/{ticket}/messages"), body).await
}

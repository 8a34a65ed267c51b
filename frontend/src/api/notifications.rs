//! `/api/notifications`: the signed-in user's in-app notifications.

use relay_protocol::notifications::{MarkReadRequest, NotificationList, NotificationQuery};

use super::{get, post, with_query, ApiError};

pub async fn list(query: &NotificationQuery) -> Result<NotificationList, ApiError> {
    get(&with_query("/api/notifications", query)).await
}

/// The listed ids, or everything with `all`.
pub async fn mark_read(body: &MarkReadRequest) -> Result<(), ApiError> {
    post("/api/notifications/read", body).await
}

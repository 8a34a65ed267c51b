//! `/api/auth/*` and `/api/me`: sign-in, sign-up, sign-out and who am I.

use gloo::net::http::Method;
use relay_protocol::auth::{AuthResponse, LoginRequest, LogoutRequest, RegisterRequest};
use relay_protocol::users::UserView;

use super::{decode_answer, get, request, send, ApiError, Auth};
use crate::storage::StoredSession;

pub async fn login(body: &LoginRequest) -> Result<AuthResponse, ApiError> {
    request(Method::POST, "/api/auth/login", Some(body), Auth::Anonymous).await
}

pub async fn register(body: &RegisterRequest) -> Result<AuthResponse, ApiError> {
    request(
        Method::POST,
        "/api/auth/register",
        Some(body),
        Auth::Anonymous,
    )
    .await
}

pub async fn me() -> Result<UserView, ApiError> {
    get("/api/me").await
}

/// Ends `session` on the server. Called after the local session is already gone, with
/// the tokens it had, so it never refreshes: a dead token simply means nothing to end.
pub async fn logout(session: StoredSession) -> Result<(), ApiError> {
    let body = LogoutRequest {
        refresh_token: Some(session.refresh_token),
        all: false,
    };
    let json = serde_json::to_string(&body).map_err(|e| ApiError::unexpected(0, e))?;
    let (status, text) = send(
        Method::POST,
        "/api/auth/logout",
        Some(&json),
        Some(&session.access_token),
    )
    .await?;
    if status == 401 {
        return Ok(());
    }
    // The body is ignored: 204, or some JSON acknowledgement.
    decode_answer::<serde_json::Value>(status, &text).map(drop)
}

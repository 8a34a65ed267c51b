//! `/api/auth/*` and `/api/me`: sign-in, sign-up, sign-out and who am I.

use gloo::net::http::Method;
use relay_protocol::auth::{
    AuthResponse, ChangePasswordRequest, LoginRequest, LogoutRequest, RegisterRequest, TotpCode,
    TotpSetup,
};
use relay_protocol::users::UserView;

use super::{decode_answer, get, post, request, send, ApiError, Auth};
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

/// A fresh secret for an authenticator app; the second factor is off until confirmed.
pub async fn totp_setup() -> Result<TotpSetup, ApiError> {
    post("/api/me/totp/setup", &serde_json::json!({})).await
}

pub async fn totp_enable(code: &str) -> Result<(), ApiError> {
    let body = TotpCode {
        code: code.to_owned(),
    };
    post("/api/me/totp/enable", &body).await
}

pub async fn totp_disable(code: &str) -> Result<(), ApiError> {
    let body = TotpCode {
        code: code.to_owned(),
    };
    post("/api/me/totp/disable", &body).await
}

/// Ends every other session; the answer is a fresh session for this tab.
pub async fn change_password(body: &ChangePasswordRequest) -> Result<AuthResponse, ApiError> {
    request(Method::PUT, "/api/me/password", Some(body), Auth::Session).await
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

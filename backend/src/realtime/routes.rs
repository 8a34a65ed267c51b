//! `GET /ws`: the Origin allow-list at upgrade, then one `session` per socket.

use crate::error::AppError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use relay_protocol::ErrorCode;

/// Frames above this are refused by the codec (close 1009); frames above
/// `session::MAX_FRAME` but below it get an error frame and the socket lives on.
const CODEC_LIMIT: usize = 1024 * 1024;

pub async fn ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    // Cross-site WebSocket hijacking: browsers always send Origin; only ours may connect.
    let origin = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let allowed = origin.is_some_and(|o| {
        let o = o.trim_end_matches('/');
        state.config.allowed_origins.iter().any(|a| a == o)
    });
    if !allowed {
        return Ok(AppError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this Origin may not open a WebSocket here",
        )
        .error_response());
    }
    let ip = crate::ratelimit::client_ip(&req, state.config.trust_proxy);
    if let Err(e) = state.limit(crate::ratelimit::WS_CONNECTS_PER_IP, ip).await {
        return Ok(e.error_response());
    }
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let stream = stream
        .max_frame_size(CODEC_LIMIT)
        .aggregate_continuations()
        .max_continuation_size(CODEC_LIMIT);
    let state = state.get_ref().clone();
    let task = super::session::run(state, session, stream);
    tracing::trace!(bytes = std::mem::size_of_val(&task), "socket task");
    actix_web::rt::spawn(task);
    Ok(response)
}

//! `GET /ws`. Upgrade requests never reach the actix-web `App`: the HTTP/1 dispatcher hands
//! them, with the TCP stream, to `upgrade` (wired in `server.rs`), which checks the
//! Origin allow-list and the connect rate, answers the handshake and starts one
//! `session` on the bare stream (see `socket`). Refusals carry SPEC's error envelope.

use crate::error::AppError;
use crate::state::AppState;
use actix_codec::Framed;
use actix_http::body::{BodySize, MessageBody};
use actix_http::{h1, ws, ConnectionType, Request, Response};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use futures_util::SinkExt;
use relay_protocol::ErrorCode;
use tokio::net::TcpStream;

/// Frames above this are refused by the codec (close 1009); frames above
/// `session::MAX_FRAME` but below it get an error frame and the socket lives on.
const CODEC_LIMIT: usize = 1024 * 1024;

pub const PATH: &str = "/ws";

/// Takes over an upgrade request from the HTTP/1 dispatcher. Returns once the socket's
/// session is started (or the refusal written); errors are the connection's I/O
/// failing before that.
pub async fn upgrade(
    state: AppState,
    req: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
) -> std::io::Result<()> {
    let accepted = match admit(&state, &req).await {
        Ok(()) => ws::handshake(req.head()).map_err(|e| match e {
            ws::HandshakeError::GetMethodRequired => AppError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "a WebSocket opens with GET",
            ),
            e => AppError::bad_request(format!("not a valid WebSocket handshake: {e}")),
        }),
        Err(e) => Err(e),
    };
    let mut res = match accepted {
        Ok(mut builder) => builder.finish().drop_body(),
        Err(e) => return refuse(framed, &req, e.error_response()).await,
    };
    request_id(&req, res.status(), res.headers_mut());
    framed
        .send((res, BodySize::None).into())
        .await
        .map_err(std::io::Error::other)?;
    // The socket runs as a task of its own: this future (the dispatcher's, sized for any
    // HTTP request) and the codec's buffers are freed as soon as it returns.
    let parts = framed.into_parts();
    let (reader, writer) = super::socket::split(parts.io, &parts.read_buf, CODEC_LIMIT);
    let sessions = state.realtime.sessions.clone();
    let task = sessions.track_future(super::session::run(state, reader, writer));
    tracing::trace!(bytes = std::mem::size_of_val(&task), "socket task");
    actix_web::rt::spawn(task);
    Ok(())
}

/// Right path, allowed Origin, connect rate not exceeded.
async fn admit(state: &AppState, req: &Request) -> Result<(), AppError> {
    if req.path() != PATH {
        return Err(AppError::not_found("WebSocket endpoint"));
    }
    // Cross-site WebSocket hijacking: browsers always send Origin; only ours may connect.
    let origin = req
        .head()
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let allowed = origin.is_some_and(|o| {
        let o = o.trim_end_matches('/');
        state.config.allowed_origins.iter().any(|a| a == o)
    });
    if !allowed {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "this Origin may not open a WebSocket here",
        ));
    }
    let ip = crate::ratelimit::client_ip_of(
        req.head().headers(),
        req.peer_addr(),
        state.config.trust_proxy,
    );
    state.limit(crate::ratelimit::WS_CONNECTS_PER_IP, ip).await
}

/// Writes a refusal (status, headers, envelope) and closes the connection.
async fn refuse(
    mut framed: Framed<TcpStream, h1::Codec>,
    req: &Request,
    res: HttpResponse,
) -> std::io::Result<()> {
    let res: Response<_> = res.into();
    let (mut head, body) = res.into_parts();
    let body = actix_http::body::to_bytes(body).await.unwrap_or_default();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let status = head.status();
    let headers = head.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    request_id(req, status, headers);
    let size = body.size();
    framed
        .send((head, size).into())
        .await
        .map_err(std::io::Error::other)?;
    framed
        .send(h1::Message::Chunk(Some(body)))
        .await
        .map_err(std::io::Error::other)?;
    framed
        .send(h1::Message::Chunk(None))
        .await
        .map_err(std::io::Error::other)?;
    Ok(())
}

/// `X-Request-Id` on the upgrade answer, as on every other response; logged with it.
fn request_id(req: &Request, status: StatusCode, headers: &mut actix_http::header::HeaderMap) {
    let id = uuid::Uuid::new_v4();
    tracing::info!(request_id = %id, path = req.path(), status = status.as_u16(), "websocket upgrade");
    if let Ok(v) = header::HeaderValue::from_str(&id.to_string()) {
        headers.insert(header::HeaderName::from_static("x-request-id"), v);
    }
}

/// A plain `GET /ws` (no `Upgrade: websocket`) reaches the `App`: 426 with the envelope.
pub async fn not_upgraded() -> HttpResponse {
    let mut res = AppError::new(
        StatusCode::UPGRADE_REQUIRED,
        ErrorCode::BadRequest,
        "this endpoint speaks WebSocket only: send Upgrade: websocket",
    )
    .error_response();
    res.headers_mut().insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    res
}

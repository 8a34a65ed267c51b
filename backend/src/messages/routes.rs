//! `/api/tickets/{id}/messages`: list by seq, post (idempotent with `client_id`).

use super::queries;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use crate::tickets::routes::visible_ticket;
use actix_web::{web, HttpResponse};
use relay_protocol::messages::{MessageListQuery, MessagePage, MessageView, PostMessageRequest};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(
        web::resource("/tickets/{id}/messages")
            .route(web::get().to(list))
            .route(web::post().to(post)),
    );
}

#[utoipa::path(get, path = "/api/tickets/{id}/messages", tag = "messages",
    security(("bearer" = [])), params(("id" = String, Path), MessageListQuery),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    query: web::Query<MessageListQuery>,
) -> AppResult<web::Json<MessagePage>> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 500"));
    }
    if q.after_seq.is_some_and(|s| s < 0) {
        return Err(AppError::invalid("after_seq", "must not be negative"));
    }
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let role = actor.role;
    let page = state
        .db(move |conn| queries::list(conn, role, t.id, q.after_seq, q.before_seq, limit))
        .await?;
    Ok(web::Json(page))
}

/// 201 with the new message; 200 with the stored one when `client_id` was seen before.
#[utoipa::path(post, path = "/api/tickets/{id}/messages", tag = "messages",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = PostMessageRequest,
    responses((status = 201, body = MessageView), (status = 200, body = MessageView),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn post(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: Body<PostMessageRequest>,
) -> AppResult<HttpResponse> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let req = body.0;
    let posted =
        super::service::post(&state, actor, t.id, req.body, req.internal, req.client_id).await?;
    let mut res = if posted.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(res.json(posted.message))
}

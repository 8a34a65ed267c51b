//! `/api/notifications`: the caller's own notifications.

use super::queries;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use relay_protocol::notifications::{MarkReadRequest, NotificationList, NotificationQuery};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/notifications").route(web::get().to(list)));
    cfg.service(web::resource("/notifications/read").route(web::post().to(read)));
}

#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationQuery), responses((status = 200, body = NotificationList)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<NotificationQuery>,
) -> AppResult<web::Json<NotificationList>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    let unread = q.unread.unwrap_or(false);
    Ok(web::Json(
        state
            .db(move |conn| queries::list(conn, actor.id, unread, limit))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/notifications/read", tag = "notifications",
    security(("bearer" = [])), request_body = MarkReadRequest,
    responses((status = 204), (status = 422, body = ErrorEnvelope)))]
pub async fn read(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<MarkReadRequest>,
) -> AppResult<HttpResponse> {
    let req = body.0;
    state
        .db(move |conn| queries::mark_read(conn, actor.id, &req.ids, req.all))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

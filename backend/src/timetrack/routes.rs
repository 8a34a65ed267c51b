//! `/api/tickets/{id}/timer/start|stop`, `/api/tickets/{id}/time-entries`, `/api/me/timer`.

use super::queries;
use crate::auth::policy::{check_ticket, TicketAction};
use crate::auth::Actor;
use crate::error::AppResult;
use crate::http::Body;
use crate::state::AppState;
use crate::tickets::routes::visible_ticket;
use actix_web::{web, HttpResponse};
use relay_protocol::time::{ManualEntryRequest, RunningTimer, TimeEntry, TimeEntryList};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/tickets/{id}/timer/start").route(web::post().to(start)));
    cfg.service(web::resource("/tickets/{id}/timer/stop").route(web::post().to(stop)));
    cfg.service(
        web::resource("/tickets/{id}/time-entries")
            .route(web::get().to(list))
            .route(web::post().to(add)),
    );
    cfg.service(web::resource("/me/timer").route(web::get().to(mine)));
}

/// The ticket, checked for time tracking (staff only).
async fn trackable(state: &AppState, actor: &Actor, reference: String) -> AppResult<i64> {
    let t = visible_ticket(state, actor, reference).await?;
    check_ticket(actor, &t.facts(), TicketAction::TrackTime)?;
    Ok(t.id)
}

/// Runs a timer operation for the caller on a trackable ticket.
async fn timer(
    state: &AppState,
    actor: Actor,
    reference: String,
    op: fn(&mut diesel::PgConnection, &crate::users::model::User, i64) -> AppResult<TimeEntry>,
) -> AppResult<web::Json<TimeEntry>> {
    let id = trackable(state, &actor, reference).await?;
    let entry = state
        .db(move |conn| {
            let me = crate::users::queries::find(conn, actor.id)?;
            op(conn, &me, id)
        })
        .await?;
    Ok(web::Json(entry))
}

#[utoipa::path(post, path = "/api/tickets/{id}/timer/start", tag = "time", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TimeEntry), (status = 403, body = ErrorEnvelope)))]
pub async fn start(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<TimeEntry>> {
    timer(&state, actor, path.into_inner(), queries::start).await
}

#[utoipa::path(post, path = "/api/tickets/{id}/timer/stop", tag = "time", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TimeEntry), (status = 404, body = ErrorEnvelope)))]
pub async fn stop(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<TimeEntry>> {
    timer(&state, actor, path.into_inner(), queries::stop).await
}

#[utoipa::path(get, path = "/api/tickets/{id}/time-entries", tag = "time", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TimeEntryList), (status = 403, body = ErrorEnvelope)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<TimeEntryList>> {
    let id = trackable(&state, &actor, path.into_inner()).await?;
    Ok(web::Json(
        state.db(move |conn| queries::list(conn, id)).await?,
    ))
}

#[utoipa::path(post, path = "/api/tickets/{id}/time-entries", tag = "time", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ManualEntryRequest,
    responses((status = 201, body = TimeEntry), (status = 422, body = ErrorEnvelope)))]
pub async fn add(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: Body<ManualEntryRequest>,
) -> AppResult<HttpResponse> {
    let id = trackable(&state, &actor, path.into_inner()).await?;
    let req = body.0;
    let entry = state
        .db(move |conn| {
            let me = crate::users::queries::find(conn, actor.id)?;
            queries::add_manual(conn, &me, id, req.minutes, &req.note, req.started_at)
        })
        .await?;
    Ok(HttpResponse::Created().json(entry))
}

#[utoipa::path(get, path = "/api/me/timer", tag = "time", security(("bearer" = [])),
    responses((status = 200, body = RunningTimer)))]
pub async fn mine(state: web::Data<AppState>, actor: Actor) -> AppResult<web::Json<RunningTimer>> {
    let running = state
        .db(move |conn| {
            let me = crate::users::queries::find(conn, actor.id)?;
            queries::running(conn, &me)
        })
        .await?;
    Ok(web::Json(RunningTimer { running }))
}

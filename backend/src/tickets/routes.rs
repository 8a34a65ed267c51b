//! `/api/tickets`: list/search, create, read (by id or number), change, assign, history.

use super::queries;
use crate::auth::policy::{check_ticket, TicketAction};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use relay_protocol::tickets::{
    AssignRequest, CreateTicketRequest, HistoryList, TicketListQuery, TicketPage, TicketView,
    UpdateTicketRequest,
};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(
        web::resource("/tickets")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    );
    cfg.service(
        web::resource("/tickets/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    );
    cfg.service(web::resource("/tickets/{id}/assign").route(web::post().to(assign)));
    cfg.service(web::resource("/tickets/{id}/history").route(web::get().to(history)));
}

/// Resolves `{id}` (a numeric id or a `TICK-…` number) to a ticket the actor may see.
pub async fn visible_ticket(
    state: &AppState,
    actor: &Actor,
    reference: String,
) -> AppResult<super::model::Ticket> {
    let actor = actor.clone();
    state
        .db(move |conn| {
            let t = queries::find_by_ref(conn, &reference)?;
            check_ticket(&actor, &t.facts(), TicketAction::View)?;
            Ok(t)
        })
        .await
}

#[utoipa::path(get, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    params(TicketListQuery),
    responses((status = 200, body = TicketPage), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<TicketListQuery>,
) -> AppResult<web::Json<TicketPage>> {
    let q = query.into_inner();
    Ok(web::Json(
        state
            .db(move |conn| queries::list(conn, &actor, &q))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    request_body = CreateTicketRequest,
    responses((status = 201, body = TicketView), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<CreateTicketRequest>,
) -> AppResult<HttpResponse> {
    let req = body.0;
    let view = state
        .db(move |conn| {
            let t = queries::create(conn, &actor, &req)?;
            queries::view(conn, actor.role, &t)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, description = "numeric id or TICK-YYYY-NNNN")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<TicketView>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let role = actor.role;
    Ok(web::Json(
        state.db(move |conn| queries::view(conn, role, &t)).await?,
    ))
}

#[utoipa::path(patch, path = "/api/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateTicketRequest,
    responses((status = 200, body = TicketView), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: Body<UpdateTicketRequest>,
) -> AppResult<web::Json<TicketView>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let req = body.0;
    let view = state
        .db(move |conn| {
            let t = queries::update(conn, &actor, t.id, &req)?;
            queries::view(conn, actor.role, &t)
        })
        .await?;
    Ok(web::Json(view))
}

#[utoipa::path(post, path = "/api/tickets/{id}/assign", tag = "tickets",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, body = TicketView), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn assign(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: Body<AssignRequest>,
) -> AppResult<web::Json<TicketView>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let target = body
        .0
        .assignee_id
        .ok_or_else(|| AppError::invalid("assignee_id", "is required (null unassigns)"))?;
    let view = state
        .db(move |conn| {
            let t = queries::assign(conn, &actor, t.id, target.map(|u| u.0))?;
            queries::view(conn, actor.role, &t)
        })
        .await?;
    Ok(web::Json(view))
}

#[utoipa::path(get, path = "/api/tickets/{id}/history", tag = "tickets",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = HistoryList), (status = 404, body = ErrorEnvelope)))]
pub async fn history(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<HistoryList>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    Ok(web::Json(HistoryList {
        items: state
            .db(move |conn| queries::history_of(conn, t.id))
            .await?,
    }))
}

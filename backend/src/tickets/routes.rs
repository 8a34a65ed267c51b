//! `/api/tickets`: list/search, create, read (by id or number), change, assign, history.

use super::extras;
use super::model::Ticket;
use super::queries;
use crate::auth::policy::{check_ticket, TicketAction};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::Connection;
use relay_protocol::tickets::{
    AssignRequest, CreateTicketRequest, HistoryList, LinkList, LinkRequest, RatingRequest,
    RatingView, TicketListQuery, TicketPage, TicketView, UpdateTicketRequest,
};
use relay_protocol::users::Role;
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
    cfg.service(
        web::resource("/tickets/{id}/rating")
            .route(web::get().to(get_rating))
            .route(web::post().to(rate)),
    );
    cfg.service(
        web::resource("/tickets/{id}/links")
            .route(web::get().to(list_links))
            .route(web::post().to(add_link)),
    );
    cfg.service(
        web::resource("/tickets/{id}/links/{link_id}").route(web::delete().to(remove_link)),
    );
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

/// A ticket after a change, in the caller's view and the two audiences' views.
pub struct Changed {
    ticket: Ticket,
    before_assignee: Option<i64>,
    caller: TicketView,
    /// `None` when nothing changed (nothing to announce).
    audiences: Option<(TicketView, TicketView)>,
    /// Notifications written with the change, pushed after commit.
    notes: Vec<crate::notifications::queries::Outgoing>,
}

/// Runs inside the change's transaction: views for everyone, and notifications.
fn views_after(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    before: &Ticket,
    after: Ticket,
    slack: bool,
) -> AppResult<Changed> {
    let caller = queries::view(conn, actor.role, &after)?;
    if after.updated_at != before.updated_at {
        crate::outbox::ticket_changed(conn, actor, before, &after, slack)?;
    }
    let (audiences, notes) = if after.updated_at != before.updated_at {
        (
            Some((
                queries::view(conn, Role::Technician, &after)?,
                queries::view(conn, Role::Customer, &after)?,
            )),
            crate::notifications::queries::for_ticket_change(conn, actor, before, &after)?,
        )
    } else {
        (None, Vec::new())
    };
    Ok(Changed {
        before_assignee: before.assignee_id,
        ticket: after,
        caller,
        audiences,
        notes,
    })
}

/// Announces a change after commit (staff, the requester, a new assignee).
async fn publish(state: &AppState, changed: Changed, newly_assigned: Option<i64>) -> TicketView {
    if let Some((staff, customer)) = &changed.audiences {
        state
            .realtime
            .ticket_updated(staff, customer, newly_assigned)
            .await;
    }
    for (user, note) in changed.notes {
        state.realtime.notify(user, note).await;
    }
    changed.caller
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
    let budget = state.config.search;
    Ok(web::Json(
        state
            .db(move |conn| queries::list(conn, &actor, &q, budget))
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
    state
        .limit(crate::ratelimit::TICKETS_PER_USER, actor.id.to_string())
        .await?;
    let req = body.0;
    let online = online_technicians(&state).await;
    let (view, staff, auto) = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let mut t = queries::create(conn, &actor, &req)?;
                let settings = crate::admin::queries::settings(conn)?;
                let mut auto = None;
                if settings.auto_assign.enabled {
                    let cap = settings.auto_assign.max_open_per_agent;
                    if let Some(agent) = super::autoassign::pick(conn, &online, cap)? {
                        let before = t.clone();
                        t = super::autoassign::assign(conn, t, agent)?;
                        let system = Actor {
                            id: 0,
                            role: Role::Admin,
                            name: "Auto-assignment".into(),
                            email: String::new(),
                        };
                        let notes = crate::notifications::queries::for_ticket_change(
                            conn, &system, &before, &t,
                        )?;
                        crate::outbox::ticket_changed(conn, &system, &before, &t, false)?;
                        auto = Some((agent, notes));
                    }
                }
                Ok((
                    queries::view(conn, actor.role, &t)?,
                    queries::view(conn, Role::Technician, &t)?,
                    auto,
                ))
            })
        })
        .await?;
    state
        .metrics
        .tickets_created
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    state.realtime.ticket_created(&staff).await;
    if let Some((agent, notes)) = auto {
        state.realtime.assigned(agent, &staff).await;
        for (user, note) in notes {
            state.realtime.notify(user, note).await;
        }
    }
    Ok(HttpResponse::Created().json(view))
}

/// Technicians with a socket open on any instance (the shared online set).
async fn online_technicians(state: &AppState) -> Vec<i64> {
    let now = crate::realtime::presence::now_ms();
    let members = state
        .realtime
        .presence
        .members("rd:p:online".into(), now)
        .await
        .unwrap_or_default();
    let mut ids: Vec<i64> = members
        .iter()
        .filter_map(|m| crate::realtime::presence::parse_member(m))
        .filter(|(_, u)| u.role == Role::Technician)
        .map(|(_, u)| u.id.0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
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
    let before = t.clone();
    let slack = state.config.slack_webhook_url.is_some();
    let changed = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let t = queries::update(conn, &actor, t.id, &req)?;
                views_after(conn, &actor, &before, t, slack)
            })
        })
        .await?;
    Ok(web::Json(publish(&state, changed, None).await))
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
    let before = t.clone();
    let slack = state.config.slack_webhook_url.is_some();
    let changed = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let t = queries::assign(conn, &actor, t.id, target.map(|u| u.0))?;
                views_after(conn, &actor, &before, t, slack)
            })
        })
        .await?;
    let newly = changed
        .ticket
        .assignee_id
        .filter(|a| Some(*a) != changed.before_assignee);
    Ok(web::Json(publish(&state, changed, newly).await))
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

#[utoipa::path(get, path = "/api/tickets/{id}/rating", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Option<RatingView>), (status = 404, body = ErrorEnvelope)))]
pub async fn get_rating(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<Option<RatingView>>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    Ok(web::Json(
        state.db(move |conn| extras::rating(conn, t.id)).await?,
    ))
}

#[utoipa::path(post, path = "/api/tickets/{id}/rating", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RatingRequest,
    responses((status = 201, body = RatingView), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn rate(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: Body<RatingRequest>,
) -> AppResult<HttpResponse> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let req = body.0;
    let view = state
        .db(move |conn| extras::rate(conn, &actor, &t, req.score, &req.comment))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/tickets/{id}/links", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = LinkList), (status = 404, body = ErrorEnvelope)))]
pub async fn list_links(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> AppResult<web::Json<LinkList>> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    check_ticket(&actor, &t.facts(), TicketAction::Link)?;
    Ok(web::Json(LinkList {
        items: state.db(move |conn| extras::links(conn, t.id)).await?,
    }))
}

#[utoipa::path(post, path = "/api/tickets/{id}/links", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = LinkRequest,
    responses((status = 201, body = LinkList), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_link(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: Body<LinkRequest>,
) -> AppResult<HttpResponse> {
    let t = visible_ticket(&state, &actor, path.into_inner()).await?;
    let req = body.0;
    let items = state
        .db(move |conn| extras::link(conn, &actor, &t, &req.target, req.kind))
        .await?;
    Ok(HttpResponse::Created().json(LinkList { items }))
}

#[utoipa::path(delete, path = "/api/tickets/{id}/links/{link_id}", tag = "tickets",
    security(("bearer" = [])), params(("id" = String, Path), ("link_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn remove_link(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, i64)>,
) -> AppResult<HttpResponse> {
    let (reference, link_id) = path.into_inner();
    let t = visible_ticket(&state, &actor, reference).await?;
    state
        .db(move |conn| extras::unlink(conn, &actor, &t, link_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

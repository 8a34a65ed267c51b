//! `/api/analytics/*`: supervisors and admins see everything; technicians their own
//! agent row; customers nothing.

use super::queries;
use crate::auth::policy::{allows_desk, check_desk, DeskAction};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use actix_web::web;
use chrono::{DateTime, Duration, Utc};
use relay_protocol::analytics::{AgentStatsList, CategoryStatsList, RangeQuery, Summary, Trends};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/analytics/summary").route(web::get().to(summary)));
    cfg.service(web::resource("/analytics/agents").route(web::get().to(agents)));
    cfg.service(web::resource("/analytics/categories").route(web::get().to(categories)));
    cfg.service(web::resource("/analytics/trends").route(web::get().to(trends)));
}

fn range(q: &RangeQuery) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(AppError::invalid("from", "must be before to"));
    }
    if to - from > Duration::days(366 * 2) {
        return Err(AppError::invalid(
            "from",
            "the range is limited to two years",
        ));
    }
    Ok((from, to))
}

#[utoipa::path(get, path = "/api/analytics/summary", tag = "analytics", security(("bearer" = [])),
    params(RangeQuery), responses((status = 200, body = Summary), (status = 403, body = ErrorEnvelope)))]
pub async fn summary(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<RangeQuery>,
) -> AppResult<web::Json<Summary>> {
    check_desk(&actor, DeskAction::ViewAllAnalytics)?;
    let (from, to) = range(&q)?;
    Ok(web::Json(
        state
            .db(move |conn| queries::summary(conn, from, to))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/analytics/agents", tag = "analytics", security(("bearer" = [])),
    params(RangeQuery), responses((status = 200, body = AgentStatsList), (status = 403, body = ErrorEnvelope)))]
pub async fn agents(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<RangeQuery>,
) -> AppResult<web::Json<AgentStatsList>> {
    check_desk(&actor, DeskAction::ViewOwnStats)?;
    let only = (!allows_desk(&actor, DeskAction::ViewAllAnalytics)).then_some(actor.id);
    let (from, to) = range(&q)?;
    let items = state
        .db(move |conn| queries::agents(conn, from, to, only))
        .await?;
    Ok(web::Json(AgentStatsList { items }))
}

#[utoipa::path(get, path = "/api/analytics/categories", tag = "analytics", security(("bearer" = [])),
    params(RangeQuery), responses((status = 200, body = CategoryStatsList), (status = 403, body = ErrorEnvelope)))]
pub async fn categories(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<RangeQuery>,
) -> AppResult<web::Json<CategoryStatsList>> {
    check_desk(&actor, DeskAction::ViewAllAnalytics)?;
    let (from, to) = range(&q)?;
    let items = state
        .db(move |conn| queries::categories(conn, from, to))
        .await?;
    Ok(web::Json(CategoryStatsList { items }))
}

#[utoipa::path(get, path = "/api/analytics/trends", tag = "analytics", security(("bearer" = [])),
    params(RangeQuery), responses((status = 200, body = Trends), (status = 403, body = ErrorEnvelope)))]
pub async fn trends(
    state: web::Data<AppState>,
    actor: Actor,
    q: web::Query<RangeQuery>,
) -> AppResult<web::Json<Trends>> {
    check_desk(&actor, DeskAction::ViewAllAnalytics)?;
    let (from, to) = range(&q)?;
    let items = state
        .db(move |conn| queries::trends(conn, from, to))
        .await?;
    Ok(web::Json(Trends { items }))
}

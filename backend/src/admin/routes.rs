//! `/api/sla-policies` (staff read, admins write) and `/api/settings` (admins).

use super::{audit, queries};
use crate::auth::policy::{check_desk, DeskAction};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::http::Body;
use crate::state::AppState;
use actix_web::web;
use diesel::Connection;
use relay_protocol::admin::{AuditList, Settings, SlaPolicyList, UpdateSettings};
use relay_protocol::ErrorEnvelope;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/sla-policies")
            .route(web::get().to(get_sla))
            .route(web::put().to(put_sla)),
    );
    cfg.service(web::resource("/audit").route(web::get().to(audit_log)));
    cfg.service(
        web::resource("/settings")
            .route(web::get().to(get_settings))
            .route(web::patch().to(patch_settings)),
    );
}

#[utoipa::path(get, path = "/api/sla-policies", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SlaPolicyList), (status = 403, body = ErrorEnvelope)))]
pub async fn get_sla(
    state: web::Data<AppState>,
    actor: Actor,
) -> AppResult<web::Json<SlaPolicyList>> {
    check_desk(&actor, DeskAction::ListStaff)?;
    Ok(web::Json(SlaPolicyList {
        items: state.db(queries::sla_policies).await?,
    }))
}

#[utoipa::path(put, path = "/api/sla-policies", tag = "admin", security(("bearer" = [])),
    request_body = SlaPolicyList,
    responses((status = 200, body = SlaPolicyList), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn put_sla(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<SlaPolicyList>,
) -> AppResult<web::Json<SlaPolicyList>> {
    check_desk(&actor, DeskAction::ManageSettings)?;
    let items = body.0.items;
    let items = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let saved = queries::set_sla_policies(conn, &items)?;
                let details = serde_json::json!(items);
                audit::record(conn, actor.id, "sla.update", "sla_policies", None, details)?;
                Ok(saved)
            })
        })
        .await?;
    Ok(web::Json(SlaPolicyList { items }))
}

#[utoipa::path(get, path = "/api/settings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Settings), (status = 403, body = ErrorEnvelope)))]
pub async fn get_settings(
    state: web::Data<AppState>,
    actor: Actor,
) -> AppResult<web::Json<Settings>> {
    check_desk(&actor, DeskAction::ManageSettings)?;
    Ok(web::Json(state.db(queries::settings).await?))
}

#[utoipa::path(patch, path = "/api/settings", tag = "admin", security(("bearer" = [])),
    request_body = UpdateSettings,
    responses((status = 200, body = Settings), (status = 403, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn patch_settings(
    state: web::Data<AppState>,
    actor: Actor,
    body: Body<UpdateSettings>,
) -> AppResult<web::Json<Settings>> {
    check_desk(&actor, DeskAction::ManageSettings)?;
    let u = body.0;
    let enforcing = u.require_totp_for_staff == Some(true);
    let (saved, locked) = state
        .db(move |conn| {
            conn.transaction(|conn| {
                // An admin cannot lock the desk behind a second factor they lack themselves.
                if enforcing && !crate::users::queries::find(conn, actor.id)?.totp_enabled {
                    return Err(AppError::invalid(
                        "require_totp_for_staff",
                        "set up your own two-factor sign-in (Account) before requiring it of staff",
                    ));
                }
                let saved = queries::update_settings(conn, &u)?;
                let details = serde_json::json!(u);
                audit::record(conn, actor.id, "settings.update", "settings", None, details)?;
                let locked = if enforcing {
                    crate::users::queries::staff_without_totp(conn)?
                } else {
                    Vec::new()
                };
                Ok((saved, locked))
            })
        })
        .await?;
    // Their open sockets re-check now and close; their next request gets 403.
    for id in locked {
        state.realtime.user_changed(id).await;
    }
    Ok(web::Json(saved))
}

#[utoipa::path(get, path = "/api/audit", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 403, body = ErrorEnvelope)))]
pub async fn audit_log(
    state: web::Data<AppState>,
    actor: Actor,
) -> AppResult<web::Json<AuditList>> {
    check_desk(&actor, DeskAction::ManageUsers)?;
    Ok(web::Json(AuditList {
        items: state.db(|conn| audit::list(conn, 200)).await?,
    }))
}

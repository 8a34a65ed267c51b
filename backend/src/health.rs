//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use relay_protocol::Health;
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)));
    cfg.service(web::resource("/readyz").route(web::get().to(readyz)));
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        checks: BTreeMap::new(),
        instance_id: state.config.instance_id.clone(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = BTreeMap::new();
    let db = state
        .db(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await;
    let db_ok = db.is_ok();
    checks.insert(
        "postgres".to_owned(),
        db.map(|_| "ok".to_owned())
            .unwrap_or_else(|e| e.to_string()),
    );
    let bus = &state.realtime.bus;
    let bus_ok = bus.healthy().await;
    checks.insert(
        bus.kind().to_owned(),
        if bus_ok { "ok" } else { "unreachable" }.into(),
    );
    let ok = db_ok && bus_ok;
    // Without the bus, REST still works and messages are stored: degraded, not down.
    let status = if ok {
        "ok"
    } else if db_ok {
        "degraded"
    } else {
        "unavailable"
    };
    let body = Health {
        status: status.into(),
        checks,
        instance_id: state.config.instance_id.clone(),
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use relay_protocol::Health;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource per path, so a wrong method is a 405, not a 404.
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)));
    cfg.service(web::resource("/readyz").route(web::get().to(readyz)));
    cfg.service(web::resource("/metrics").route(web::get().to(metrics)));
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

/// Prometheus text exposition of this instance's gauges and counters.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (connections, rooms) = state.realtime.hub.stats().await;
    let m = &state.metrics;
    let bus_up = i64::from(state.realtime.bus.healthy().await);
    let pool = state.pool.state();
    let lines = [
        (
            "relay_ws_connections",
            "gauge",
            "Open WebSocket connections on this instance.",
            connections,
        ),
        (
            "relay_ws_rooms",
            "gauge",
            "Ticket rooms with a member on this instance.",
            rooms,
        ),
        (
            "relay_messages_posted_total",
            "counter",
            "Messages stored through this instance.",
            m.messages_posted.load(Relaxed) as i64,
        ),
        (
            "relay_message_batches_total",
            "counter",
            "Transactions the message writer committed (each stores one or more posts).",
            m.message_batches.load(Relaxed) as i64,
        ),
        (
            "relay_message_batch_posts_total",
            "counter",
            "Posts stored in those transactions (divided by batches: the mean batch size).",
            m.message_batch_posts.load(Relaxed) as i64,
        ),
        (
            "relay_message_posts_together_total",
            "counter",
            "Posts stored set-wise with the other plain posts of their batch (a few statements per batch instead of a few per post).",
            m.message_posts_together.load(Relaxed) as i64,
        ),
        (
            "relay_message_batches_redone_total",
            "counter",
            "Batches rolled back and stored again post by post (a retried client_id, a deadlock, a failed commit).",
            m.message_batches_redone.load(Relaxed) as i64,
        ),
        (
            "relay_tickets_created_total",
            "counter",
            "Tickets created through this instance.",
            m.tickets_created.load(Relaxed) as i64,
        ),
        (
            "relay_bus_up",
            "gauge",
            "1 when the event bus is reachable.",
            bus_up,
        ),
        (
            "relay_db_pool_connections",
            "gauge",
            "Open database connections.",
            i64::from(pool.connections),
        ),
        (
            "relay_db_pool_idle",
            "gauge",
            "Idle database connections.",
            i64::from(pool.idle_connections),
        ),
        (
            "relay_uptime_seconds",
            "gauge",
            "Seconds since this instance started.",
            state.started.elapsed().as_secs() as i64,
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in lines {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{instance=\"{}\"}} {value}\n",
            state.config.instance_id
        ));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

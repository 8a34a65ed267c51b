//! Relay Desk server library: builds the actix `App` (the same function serves
//! production and the tests) and exposes the domain modules.

pub mod admin;
pub mod analytics;
pub mod attachments;
pub mod auth;
pub mod categories;
pub mod config;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod messages;
pub mod notifications;
pub mod openapi;
pub mod outbox;
pub mod ratelimit;
pub mod realtime;
pub mod seed;
pub mod server;
pub mod sla;
pub mod state;
pub mod tickets;
pub mod timetrack;
pub mod users;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, Responder};
pub use state::AppState;

/// Background jobs of an instance: the SLA check and the outbox worker. Every instance
/// runs them; both are safe to run concurrently.
pub fn start_background(state: &AppState) {
    sla::spawn(
        state.clone(),
        std::time::Duration::from_secs(state.config.sla_check_secs),
    );
    outbox::worker::spawn(state.config.clone(), state.pool.clone());
    if state.config.search_flush_ms > 0 {
        db::upkeep::spawn(
            state.pool.clone(),
            std::time::Duration::from_millis(state.config.search_flush_ms),
        );
    }
}

/// The whole HTTP application. Production (`serve`) and the tests call this.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let static_dir = state.config.static_dir.clone();
    let json_limit = state.config.max_json_bytes;
    let index = static_dir
        .as_ref()
        .and_then(|d| std::fs::read_to_string(d.join("index.html")).ok());
    let csp = http::content_security_policy(index.as_deref());
    let allowed_origins = state.config.allowed_origins.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(http::json_config(json_limit))
        .app_data(http::query_config())
        .app_data(http::path_config())
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "same-origin"))
                .add(("Content-Security-Policy", csp))
                .add(("Cross-Origin-Opener-Policy", "same-origin"))
                .add((
                    "Permissions-Policy",
                    "camera=(), microphone=(), geolocation=()",
                )),
        )
        .wrap_fn(http::echo_request_id)
        .wrap(tracing_actix_web::TracingLogger::default())
        .configure(health::configure)
        .service(
            web::resource(realtime::routes::PATH)
                .route(web::get().to(realtime::routes::not_upgraded)),
        )
        .service(
            web::scope("/api")
                .wrap(http::cors(&allowed_origins))
                .wrap(ErrorHandlers::new().default_handler(http::envelope_errors))
                .route("/openapi.json", web::get().to(openapi::serve))
                .configure(auth::routes::configure)
                .configure(users::routes::configure)
                .configure(categories::routes::configure)
                .configure(tickets::routes::configure)
                .configure(messages::routes::configure)
                .configure(admin::routes::configure)
                .configure(analytics::routes::configure)
                .configure(notifications::routes::configure)
                .configure(timetrack::routes::configure)
                .configure(attachments::routes::configure)
                .default_service(web::to(http::api_not_found)),
        )
        .configure(move |cfg| {
            if let Some(dir) = static_dir {
                cfg.service(spa_files(dir));
            }
        })
        .default_service(web::to(http::api_not_found))
}

/// The built SPA: real files as they are, every other path gets `index.html` so the
/// client-side router can handle deep links (history API fallback).
fn spa_files(dir: std::path::PathBuf) -> actix_files::Files {
    let index = dir.join("index.html");
    actix_files::Files::new("/", dir)
        .index_file("index.html")
        .default_handler(actix_web::dev::fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let file = actix_files::NamedFile::open_async(index).await?;
                let res = file
                    .customize()
                    .insert_header(("Cache-Control", "no-cache"))
                    .respond_to(&req)
                    .map_into_boxed_body();
                Ok(ServiceResponse::new(req, res))
            }
        }))
}

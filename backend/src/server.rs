//! The HTTP server, for production and the tests alike: actix-web's `App` behind
//! actix-http's HTTP/1 service, whose upgrade hook gives WebSocket handshakes (with the
//! TCP stream) to `realtime::routes::upgrade` instead of to the `App`. A socket then costs
//! its session and nothing of the HTTP dispatcher (see `realtime::socket`).
//!
//! The settings are actix-web's `HttpServer` defaults, except Nagle's algorithm, which
//! is off for every connection, and the `AppConfig` host (URL generation, and requests
//! without a `Host` header), which is actix-web's default: the app uses neither.

use crate::state::AppState;
use actix_http::HttpService;
use actix_service::{fn_factory, fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use std::time::Duration;

pub struct Options {
    /// Worker threads (each its own single-threaded runtime); `None`: one per core.
    pub workers: Option<usize>,
    /// Seconds a graceful stop waits for open connections.
    pub shutdown_timeout: u64,
}

/// Where to listen: an address to bind (with a backlog of 1,024, as `HttpServer` had), or
/// a listener bound already (the tests take a free port first).
pub enum Listen {
    Addr(std::net::SocketAddr),
    Listener(std::net::TcpListener),
}

/// Serves the app (and `/ws`); the returned server runs once awaited or spawned, and
/// stops through its handle.
pub fn start(
    state: AppState,
    listen: Listen,
    options: Options,
) -> std::io::Result<actix_server::Server> {
    let mut builder = actix_server::Server::build()
        .backlog(1024)
        .disable_signals()
        .shutdown_timeout(options.shutdown_timeout);
    if let Some(n) = options.workers {
        builder = builder.workers(n);
    }
    let addr = match &listen {
        Listen::Addr(a) => *a,
        Listen::Listener(l) => l.local_addr()?,
    };
    let factory = move || {
        let app = crate::app(state.clone())
            .into_factory()
            .map_err(|e| e.error_response());
        let ws_state = state.clone();
        HttpService::build()
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1_allow_half_closed(true)
            .tcp_nodelay(true)
            .local_addr(addr)
            .upgrade(fn_factory(move || {
                let state = ws_state.clone();
                async move {
                    Ok::<_, ()>(fn_service(move |(req, framed)| {
                        let state = state.clone();
                        async move {
                            crate::realtime::routes::upgrade(state, req, framed)
                                .await
                                .map_err(actix_web::Error::from)
                        }
                    }))
                }
            }))
            .finish(map_config(app, |_| AppConfig::default()))
            .tcp()
    };
    match listen {
        Listen::Addr(a) => builder.bind("relay-desk", a, factory),
        Listen::Listener(l) => builder.listen("relay-desk", l, factory),
    }
    .map(|b| b.run())
}

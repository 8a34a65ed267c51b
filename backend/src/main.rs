//! `relay-desk`: serve (default), migrate, create-admin, seed-demo.

use clap::{Parser, Subcommand};
use relay_desk::config::Config;
use relay_desk::{db, seed, AppState};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "relay-desk",
    version,
    about = "Relay Desk: a real-time, chat-centric help desk"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then serve the API, the WebSocket and the SPA (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an admin account (or promote and reset an existing one).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
    },
    /// Load demo users, categories and tickets (once; later runs do nothing).
    SeedDemo,
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config).map(|n| println!("applied {n} migration(s)")),
        Command::CreateAdmin {
            email,
            name,
            password,
        } => seed::create_admin(&config, &email, &name, &password)
            .map(|u| println!("admin {} (id {}) is ready", u.email, u.id))
            .map_err(Into::into),
        Command::SeedDemo => seed::seed_demo(&config).map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(config: &Config) -> Result<usize, Box<dyn std::error::Error>> {
    let pool = db::build_pool(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    Ok(db::run_migrations(&mut conn)?)
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let applied = migrate(&config)?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let pool = db::build_pool(&config.database_url, config.db_pool_size)?;
    let bind = config.bind;
    let workers = config.workers;
    actix_web::rt::System::new().block_on(async move {
        let state = AppState::start(config, pool).await?;
        tracing::info!(%bind, instance = %state.config.instance_id,
            bus = state.realtime.bus.kind(), "serving");
        relay_desk::start_background(&state);
        let s = state.clone();
        let server = relay_desk::server::start(
            s,
            relay_desk::server::Listen::Addr(bind),
            relay_desk::server::Options {
                workers,
                shutdown_timeout: 10,
            },
        )?;
        let handle = server.handle();
        // Graceful shutdown: tell every socket to reconnect elsewhere, leave presence,
        // then stop accepting and drain HTTP requests.
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            state.realtime.hub.shutdown().await;
            state.realtime.sessions.close();
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                state.realtime.sessions.wait(),
            )
            .await;
            handle.stop(true).await;
        });
        server.await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}

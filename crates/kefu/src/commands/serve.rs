//! `kefu serve`: open and migrate the database, create the first admin on first start (the
//! credential is printed once), then serve until Ctrl-C / SIGTERM.

use std::net::SocketAddr;

use anyhow::Context;
use kefu_core::config::Config;
use kefu_store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    bind: Option<SocketAddr>,
}

pub async fn run(mut config: Config, args: Args) -> anyhow::Result<()> {
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    let url = config.effective_database_url();
    let store = Store::open(&url).await.context("opening the database")?;
    kefu_server::prepare(&store).await?;
    if let Some(first) = kefu_server::bootstrap::first_start(&store).await? {
        // Printed once, to stdout only: the log never holds the password.
        println!();
        println!("  Kefu is set up. Sign in to the console with this one-time admin credential:");
        println!("    e-mail:   {}", first.agent.email);
        println!("    password: {}", first.password);
        println!("  Site \"{}\" id: {}", first.site.name, first.site.id);
        println!("  Change the password after signing in (PUT /api/v1/auth/password).");
        println!();
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    tracing::info!(addr = %listener.local_addr()?, backend = ?store.backend(), "kefu listening");
    let state = kefu_server::AppState::open(config, store.clone()).await?;
    kefu_server::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("kefu stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

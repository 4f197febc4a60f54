//! Kefu's server: the axum application (REST under `/api/v1`, the WebSocket at
//! `/api/v1/ws`), the realtime hub, authentication, and the conversation operations both
//! share. The binary (`kefu serve`) calls [`serve`]; tests call [`spawn`] on port 0.

pub mod ai_providers;
pub mod analytics;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod chat;
pub mod embeddings;
pub mod error;
pub mod eval_runs;
pub mod extract;
pub mod jobs;
pub mod rate_limit;
pub mod realtime;
pub mod retention;
pub mod routes;
pub mod secrets;
pub mod security_headers;
pub mod state;
pub mod widget_origin;

use std::net::SocketAddr;
use std::time::Duration;

use kefu_core::config::Config;
use kefu_store::Store;
use tokio::net::TcpListener;

pub use state::AppState;

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let prune_state = state.clone();
    let pruner = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            prune_state.limiter.prune();
        }
    });
    let worker = jobs::spawn_worker(state.clone());
    let sweeper = retention::spawn_scheduler(state.clone());
    let attachment_sweeper = attachments::spawn_sweeper(state.clone());
    let app = routes::router(state);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    pruner.abort();
    worker.abort();
    sweeper.abort();
    attachment_sweeper.abort();
    result
}

/// Prepares the store for serving: nobody is online after a restart.
pub async fn prepare(store: &Store) -> kefu_store::Result<()> {
    store.reset_presence().await
}

/// Binds `config.bind` and serves in a background task; returns the bound address. For
/// tests and embedding.
pub async fn spawn(config: Config, store: Store) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let state = AppState::open(config, store).await?;
    tokio::spawn(async move {
        if let Err(e) = serve(listener, state, std::future::pending()).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(addr)
}

//! `kefu`: the single binary. `kefu serve` runs the server; the other subcommands manage the
//! database and accounts. Configuration comes from `kefu.toml`, then `KEFU_*` environment
//! variables, then flags (later wins); see docs/configuration.md.

mod commands;
mod config;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kefu",
    version,
    about = "Self-hosted website customer service with a grounded AI assistant"
)]
struct Cli {
    /// Configuration file (TOML). Missing is fine: defaults apply.
    #[arg(long, global = true, default_value = "kefu.toml", env = "KEFU_CONFIG")]
    config: std::path::PathBuf,
    /// Database URL: sqlite://… or postgres://… (default: SQLite under the data folder).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Folder for local state (the SQLite database).
    #[arg(long, global = true)]
    data_dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP and WebSocket server.
    Serve(commands::serve::Args),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage agent accounts.
    #[command(subcommand)]
    Admin(commands::admin::Command),
    /// Knowledge base: import, search, reindex, export.
    #[command(subcommand)]
    Kb(commands::kb::Command),
    /// Measure answer quality on a question set (e.g. ../shared/eval/banking77).
    Eval(commands::eval::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEFU_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = config::load(&cli.config)?;
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    match cli.command {
        Command::Serve(args) => commands::serve::run(config, args).await,
        Command::Migrate => commands::migrate::run(config).await,
        Command::Admin(cmd) => commands::admin::run(config, cmd).await,
        Command::Kb(cmd) => commands::kb::run(config, cmd).await,
        Command::Eval(args) => tokio::task::block_in_place(|| commands::eval::run(args)),
    }
}

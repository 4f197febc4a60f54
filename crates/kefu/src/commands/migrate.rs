//! `kefu migrate`: apply pending migrations.

use kefu_core::config::Config;
use kefu_store::Store;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.effective_database_url()).await?;
    println!("database is up to date ({:?})", store.backend());
    Ok(())
}

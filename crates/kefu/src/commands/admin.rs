//! `kefu admin create`: create an agent account from the command line, reading the password
//! from standard input so it never appears in shell history or `ps`.

use std::io::Read;

use anyhow::Context;
use kefu_core::config::Config;
use kefu_core::domain::Role;
use kefu_store::Store;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an account (member of every existing site).
    Create {
        #[arg(long)]
        email: String,
        /// Display name (default: the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
        /// admin, editor or agent.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub async fn run(config: Config, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Create {
            email,
            name,
            role,
            password_stdin: _,
        } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or("agent").to_owned());
            let store = Store::open(&config.effective_database_url()).await?;
            if store.list_sites().await?.is_empty() {
                store.create_site("default", &[]).await?;
            }
            let agent =
                kefu_server::bootstrap::create_admin(&store, &email, &name, password, role).await?;
            println!("created {} {} ({})", agent.role, agent.email, agent.id);
            Ok(())
        }
    }
}

//! First start: with no agent account yet, create the "default" site and an admin with a
//! random password, and hand the credential to the caller to print once. Also the account
//! creation behind `kefu admin create`.

use kefu_core::domain::{Agent, Role, Site};
use kefu_core::validate;
use kefu_store::{NewAgent, Store};

use crate::auth::{new_secret, password};

/// The one-time credential printed on first start.
#[derive(Debug)]
pub struct FirstStart {
    pub site: Site,
    pub agent: Agent,
    pub password: String,
}

/// Errors of account bootstrap.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] kefu_store::StoreError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error(transparent)]
    Invalid(#[from] validate::ValidationError),
}

/// Creates the default site and admin if no agent exists; `None` when set up already.
pub async fn first_start(store: &Store) -> Result<Option<FirstStart>, BootstrapError> {
    if store.count_agents().await? > 0 {
        return Ok(None);
    }
    let site = match store.list_sites().await?.into_iter().next() {
        Some(site) => site,
        None => store.create_site("default", &[]).await?,
    };
    let password = new_secret("");
    let agent = create_admin(
        store,
        "admin@kefu.local",
        "Admin",
        password.clone(),
        Role::Admin,
    )
    .await?;
    store.add_site_member(site.id, agent.id).await?;
    Ok(Some(FirstStart {
        site,
        agent,
        password,
    }))
}

/// Creates an account and makes it a member of every existing site (`kefu admin create`).
pub async fn create_admin(
    store: &Store,
    email: &str,
    name: &str,
    password: String,
    role: Role,
) -> Result<Agent, BootstrapError> {
    let email = validate::email(email)?;
    let name = validate::short_text("name", name, 100)?;
    let password_hash = password::hash(password).await?;
    let agent = store
        .create_agent(NewAgent {
            email,
            name,
            password_hash,
            role,
        })
        .await?;
    for site in store.list_sites().await? {
        store.add_site_member(site.id, agent.id).await?;
    }
    Ok(agent)
}

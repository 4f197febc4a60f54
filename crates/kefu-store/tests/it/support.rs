//! Helpers for the store tests.

use kefu_core::domain::{Agent, Role};
use kefu_store::test_support::{FreshStore, fresh_store};
use kefu_store::{NewAgent, Store};

pub async fn store() -> FreshStore {
    fresh_store().await.unwrap()
}

pub async fn agent(store: &Store, email: &str, role: Role) -> Agent {
    store
        .create_agent(NewAgent {
            email: email.to_owned(),
            name: email.split('@').next().unwrap().to_owned(),
            password_hash: "not-a-real-hash".to_owned(),
            role,
        })
        .await
        .unwrap()
}

//! Agents, sessions, tokens, membership and routing picks.

use kefu_core::Timestamp;
use kefu_core::domain::{ConversationStatus, Presence, Role};
use kefu_store::{NewMessage, StoreError, Transition, VisitorSeen};

use crate::support::{agent, store};

#[tokio::test]
async fn duplicate_email_is_a_conflict_and_lookup_ignores_case() {
    let db = store().await;
    let a = agent(&db.store, "Li@Example.com", Role::Admin).await;
    assert_eq!(a.email, "li@example.com");
    let err = db
        .store
        .create_agent(kefu_store::NewAgent {
            email: "li@example.com".into(),
            name: "x".into(),
            password_hash: "h".into(),
            role: Role::Agent,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let (found, hash) = db
        .store
        .get_agent_credentials("LI@example.COM")
        .await
        .unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(hash, "not-a-real-hash");
    assert_eq!(db.store.count_agents().await.unwrap(), 1);
}

#[tokio::test]
async fn sessions_expire_and_are_revoked() {
    let db = store().await;
    let a = agent(&db.store, "a@x.io", Role::Agent).await;
    let later = Timestamp::now().plus_seconds(3600);
    db.store
        .create_session(a.id, "live", "csrf1", later)
        .await
        .unwrap();
    db.store
        .create_session(a.id, "old", "csrf2", Timestamp::now().plus_seconds(-1))
        .await
        .unwrap();
    let s = db.store.get_session("live").await.unwrap();
    assert_eq!(s.agent.id, a.id);
    assert_eq!(s.csrf_token, "csrf1");
    assert!(matches!(
        db.store.get_session("old").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(db.store.delete_agent_sessions(a.id).await.unwrap(), 2);
    assert!(db.store.get_session("live").await.is_err());
}

#[tokio::test]
async fn api_tokens_resolve_until_revoked() {
    let db = store().await;
    let a = agent(&db.store, "a@x.io", Role::Agent).await;
    let t = db
        .store
        .create_api_token(a.id, "zapier", "hash1", kefu_core::domain::Scope::ALL)
        .await
        .unwrap();
    assert_eq!(
        db.store.agent_for_api_token("hash1").await.unwrap().id,
        a.id
    );
    let listed = db.store.list_api_tokens(a.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
    assert_eq!(listed[0].scopes, kefu_core::domain::Scope::ALL);
    // Scopes are stored as given and come back with the token's agent.
    db.store
        .create_api_token(a.id, "reader", "hash2", &[kefu_core::domain::Scope::Read])
        .await
        .unwrap();
    let grant = db.store.api_token_grant("hash2").await.unwrap();
    assert_eq!(grant.agent.id, a.id);
    assert_eq!(grant.scopes, vec![kefu_core::domain::Scope::Read]);
    db.store.revoke_api_token(a.id, t.id).await.unwrap();
    assert!(db.store.agent_for_api_token("hash1").await.is_err());
    assert!(matches!(
        db.store.revoke_api_token(a.id, t.id).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn disabled_agents_lose_sessions_and_routing() {
    let db = store().await;
    let site = db.store.create_site("s", &[]).await.unwrap();
    let mut a = agent(&db.store, "a@x.io", Role::Agent).await;
    db.store.add_site_member(site.id, a.id).await.unwrap();
    db.store.set_presence(a.id, Presence::Online).await.unwrap();
    db.store
        .create_session(a.id, "tok", "c", Timestamp::now().plus_seconds(60))
        .await
        .unwrap();
    a.disabled = true;
    db.store.update_agent(&a).await.unwrap();
    assert!(db.store.get_session("tok").await.is_err());
    assert!(
        db.store
            .least_busy_online_agent(site.id, 0)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn least_busy_online_member_is_picked_within_capacity() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let other_site = s.create_site("other", &[]).await.unwrap();
    let busy = agent(s, "busy@x.io", Role::Agent).await;
    let free = agent(s, "free@x.io", Role::Agent).await;
    let away = agent(s, "away@x.io", Role::Agent).await;
    let outsider = agent(s, "out@x.io", Role::Agent).await;
    for a in [&busy, &free, &away] {
        s.add_site_member(site.id, a.id).await.unwrap();
    }
    s.add_site_member(other_site.id, outsider.id).await.unwrap();
    for a in [&busy, &free, &outsider] {
        assert!(s.set_presence(a.id, Presence::Online).await.unwrap());
    }
    assert!(
        !s.set_presence(busy.id, Presence::Online).await.unwrap(),
        "no change"
    );
    s.set_presence(away.id, Presence::Away).await.unwrap();

    let visitor = s
        .create_visitor(site.id, "vt", &VisitorSeen::default())
        .await
        .unwrap();
    let c = s
        .create_conversation(site.id, visitor.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    s.append_message(
        c.id,
        NewMessage::system(kefu_core::domain::SystemEvent::NoAgentOnline, "x"),
        Some(Transition {
            to: ConversationStatus::Assigned,
            assignee: Some(busy.id),
            only_from: vec![],
        }),
    )
    .await
    .unwrap();

    let pick = s
        .least_busy_online_agent(site.id, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pick.id, free.id);
    s.set_presence(free.id, Presence::Offline).await.unwrap();
    assert_eq!(
        s.least_busy_online_agent(site.id, 0)
            .await
            .unwrap()
            .unwrap()
            .id,
        busy.id
    );
    assert!(
        s.least_busy_online_agent(site.id, 1)
            .await
            .unwrap()
            .is_none(),
        "busy is at capacity"
    );
}

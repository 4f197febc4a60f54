//! Login throttle counters and the TOTP records (secret, replay guard, recovery codes,
//! challenges).

use kefu_core::Timestamp;
use kefu_core::domain::Role;
use kefu_store::StoreError;

use crate::support::{agent, store};

#[tokio::test]
async fn throttle_counts_locks_forgets_and_clears() {
    let db = store().await;
    let store = &db.store;
    let t0 = Timestamp::now();
    let key = "k1".to_owned();
    let fail =
        |at: i64| store.record_login_failure(&key, t0.plus_seconds(at), t0.plus_seconds(at + 60));
    assert_eq!(fail(0).await.unwrap(), 1);
    assert_eq!(fail(1).await.unwrap(), 2);
    assert_eq!(
        store
            .login_locked_until(std::slice::from_ref(&key), t0)
            .await
            .unwrap(),
        None
    );
    let until = t0.plus_seconds(30);
    store
        .lock_login_key(&key, until, until.plus_seconds(60))
        .await
        .unwrap();
    // A shorter lock never replaces a longer one.
    store
        .lock_login_key(&key, t0.plus_seconds(5), t0.plus_seconds(6))
        .await
        .unwrap();
    let keys = [key.clone(), "other".to_owned()];
    assert_eq!(
        store
            .login_locked_until(&keys, t0.plus_seconds(2))
            .await
            .unwrap(),
        Some(until)
    );
    assert_eq!(
        store
            .login_locked_until(&keys, t0.plus_seconds(31))
            .await
            .unwrap(),
        None
    );
    // Still remembered after the lock ends (the count keeps climbing, so locks can grow) ...
    assert_eq!(fail(40).await.unwrap(), 3);
    // ... and forgotten once forget_at (lock end + window) has passed.
    assert_eq!(fail(1000).await.unwrap(), 1);
    store.clear_login_failures(&key).await.unwrap();
    assert_eq!(fail(1001).await.unwrap(), 1);
    assert_eq!(
        store
            .purge_login_throttle(t0.plus_seconds(2000))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn totp_setup_enable_replay_recovery_and_challenges() {
    let db = store().await;
    let store = &db.store;
    let a = agent(store, "mfa@example.com", Role::Agent).await;
    assert!(!store.totp_enabled(a.id).await.unwrap());
    assert!(matches!(
        store.get_totp(a.id).await,
        Err(StoreError::NotFound(_))
    ));

    store.begin_totp_setup(a.id, "sealed-1").await.unwrap();
    // A second setup before confirming replaces the pending secret.
    store.begin_totp_setup(a.id, "sealed-2").await.unwrap();
    let record = store.get_totp(a.id).await.unwrap();
    assert_eq!(record.secret_sealed, "sealed-2");
    assert!(!record.enabled);

    let hashes: Vec<String> = (0..3).map(|i| format!("hash-{i}")).collect();
    store.enable_totp(a.id, 100, &hashes).await.unwrap();
    assert!(store.totp_enabled(a.id).await.unwrap());
    assert!(matches!(
        store.enable_totp(a.id, 200, &hashes).await,
        Err(StoreError::InvalidState(_))
    ));
    assert!(matches!(
        store.begin_totp_setup(a.id, "sealed-3").await,
        Err(StoreError::InvalidState(_))
    ));

    // Steps are accepted once and only moving forward.
    assert!(!store.use_totp_step(a.id, 100).await.unwrap());
    assert!(store.use_totp_step(a.id, 101).await.unwrap());
    assert!(!store.use_totp_step(a.id, 101).await.unwrap());
    assert!(!store.use_totp_step(a.id, 99).await.unwrap());

    assert_eq!(store.count_recovery_codes(a.id).await.unwrap(), 3);
    assert!(store.use_recovery_code(a.id, "hash-1").await.unwrap());
    assert!(!store.use_recovery_code(a.id, "hash-1").await.unwrap());
    assert!(!store.use_recovery_code(a.id, "nope").await.unwrap());
    assert_eq!(store.count_recovery_codes(a.id).await.unwrap(), 2);

    let expires = Timestamp::now().plus_seconds(300);
    store
        .create_login_challenge(a.id, "ch-1", expires)
        .await
        .unwrap();
    let found = store.get_login_challenge("ch-1").await.unwrap();
    assert_eq!(found.agent.id, a.id);
    assert_eq!(found.attempts, 0);
    assert_eq!(store.fail_login_challenge("ch-1").await.unwrap(), 1);
    assert!(store.consume_login_challenge("ch-1").await.unwrap());
    assert!(!store.consume_login_challenge("ch-1").await.unwrap());
    assert!(matches!(
        store.get_login_challenge("ch-1").await,
        Err(StoreError::NotFound(_))
    ));
    let past = Timestamp::now().plus_seconds(-1);
    store
        .create_login_challenge(a.id, "ch-old", past)
        .await
        .unwrap();
    assert!(matches!(
        store.get_login_challenge("ch-old").await,
        Err(StoreError::NotFound(_))
    ));

    store
        .create_login_challenge(a.id, "ch-2", expires)
        .await
        .unwrap();
    store.disable_totp(a.id).await.unwrap();
    assert!(!store.totp_enabled(a.id).await.unwrap());
    assert_eq!(store.count_recovery_codes(a.id).await.unwrap(), 0);
    assert!(matches!(
        store.get_login_challenge("ch-2").await,
        Err(StoreError::NotFound(_))
    ));
}

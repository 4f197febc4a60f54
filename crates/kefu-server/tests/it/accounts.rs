//! Account security: login throttling and lockout (per account, per address, back-off,
//! reset on success), the TOTP second factor (setup, confirm, sign-in, replay, recovery
//! codes, disable), and sign-out everywhere closing the agent's sockets with 4001.

use std::time::Duration;

use futures_util::StreamExt;
use kefu_core::config::Config;
use kefu_core::domain::Role;
use kefu_server::auth::totp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::{ADMIN_EMAIL, AgentClient, Socket, TestApp};

const PASSWORD: &str = "long enough password";

/// A raw login attempt: status, Retry-After, whether a cookie was set, and the body.
struct Attempt {
    status: StatusCode,
    retry_after: Option<u64>,
    cookie: bool,
    body: Value,
}

async fn attempt(app: &TestApp, email: &str, password: &str, forwarded: Option<&str>) -> Attempt {
    let mut req = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }));
    if let Some(ip) = forwarded {
        req = req.header("x-forwarded-for", ip);
    }
    finish(req).await
}

async fn attempt_totp(app: &TestApp, body: Value) -> Attempt {
    let req = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login/totp"))
        .json(&body);
    finish(req).await
}

async fn finish(req: reqwest::RequestBuilder) -> Attempt {
    let res = req.send().await.unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let cookie = res.headers().get("set-cookie").is_some();
    let body = res.json().await.unwrap_or(Value::Null);
    Attempt {
        status,
        retry_after,
        cookie,
        body,
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The body with digits masked, to compare refusals whose wait may differ by a second.
fn shape(body: &Value) -> String {
    body.to_string()
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

fn throttle_config(account: u32, ip: u32) -> Config {
    Config {
        login_account_max_failures: account,
        login_ip_max_failures: ip,
        login_lock_secs: 1,
        login_lock_max_secs: 60,
        trust_forwarded_for: true,
        ..Config::default()
    }
}

#[tokio::test]
async fn an_account_locks_after_repeated_failures_even_for_the_right_password() {
    let app = TestApp::with_config(throttle_config(3, 100)).await;
    let right = app.admin_password.clone();
    for _ in 0..3 {
        let a = attempt(&app, ADMIN_EMAIL, "wrong password!", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&a.body), "invalid_credentials");
    }
    let locked = attempt(&app, ADMIN_EMAIL, &right, None).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert_eq!(code(&locked.body), "too_many_attempts");
    assert!(!locked.cookie, "no session while locked");
    let wait = locked.retry_after.expect("Retry-After");
    assert!((1..=60).contains(&wait));

    // An e-mail nobody has behaves the same, failure for failure.
    for _ in 0..3 {
        let a = attempt(&app, "nobody@example.com", "wrong password!", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&a.body), "invalid_credentials");
    }
    let unknown = attempt(&app, "nobody@example.com", "whatever it is", None).await;
    assert_eq!(unknown.status, locked.status);
    assert_eq!(shape(&unknown.body), shape(&locked.body));
    assert_eq!(unknown.retry_after.is_some(), locked.retry_after.is_some());

    // Another account from the same address is unaffected.
    app.agent("other@example.com", Role::Agent).await;

    // Once the lock is over the right password works, and success clears the count: three
    // more failures are needed to lock again.
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    let ok = attempt(&app, ADMIN_EMAIL, &right, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.cookie);
    for _ in 0..2 {
        let a = attempt(&app, ADMIN_EMAIL, "wrong password!", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let ok = attempt(&app, ADMIN_EMAIL, &right, None).await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "counter was reset by the earlier success"
    );
}

#[tokio::test]
async fn each_failure_after_a_lock_doubles_it() {
    let app = TestApp::with_config(throttle_config(2, 100)).await;
    for _ in 0..2 {
        attempt(&app, "nobody@example.com", "wrong password!", None).await;
    }
    let first = attempt(&app, "nobody@example.com", "wrong password!", None).await;
    assert_eq!(first.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(first.retry_after, Some(1), "first lock: login_lock_secs");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The lock is over but the failures are remembered: one more failure locks for twice as
    // long.
    let again = attempt(&app, "nobody@example.com", "wrong password!", None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let second = attempt(&app, "nobody@example.com", "wrong password!", None).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.retry_after, Some(2), "second lock doubled");
}

#[tokio::test]
async fn an_address_locks_after_many_failures_across_accounts() {
    // A long lock: this test signs in (a slow argon2 check) between its lock checks.
    let config = Config {
        login_lock_secs: 60,
        ..throttle_config(100, 4)
    };
    let app = TestApp::with_config(config).await;
    let attacker = Some("203.0.113.9");
    for i in 0..4 {
        let a = attempt(
            &app,
            &format!("guess{i}@example.com"),
            "wrong password!",
            attacker,
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    // From that address, even a real account with its right password is refused...
    let refused = attempt(&app, ADMIN_EMAIL, &app.admin_password, attacker).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&refused.body), "too_many_attempts");
    assert!(refused.retry_after.is_some());
    // ...while the same account signs in from elsewhere (the address comes from
    // X-Forwarded-For because trust_forwarded_for is on).
    let ok = attempt(&app, ADMIN_EMAIL, &app.admin_password, Some("198.51.100.1")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    // Signing in does not clear the address's counter (it belongs to no single account).
    let still = attempt(&app, ADMIN_EMAIL, &app.admin_password, attacker).await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_trusted() {
    let config = Config {
        trust_forwarded_for: false,
        login_lock_secs: 60,
        ..throttle_config(100, 3)
    };
    let app = TestApp::with_config(config).await;
    for i in 0..3 {
        // A client rotating X-Forwarded-For is still one address.
        let fake = format!("192.0.2.{i}");
        attempt(
            &app,
            &format!("g{i}@example.com"),
            "wrong password!",
            Some(&fake),
        )
        .await;
    }
    let refused = attempt(&app, ADMIN_EMAIL, &app.admin_password, Some("192.0.2.200")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
}

/// The current TOTP time step.
fn now_step() -> i64 {
    totp::step_at(kefu_core::Timestamp::now().unix_seconds())
}

/// Turns TOTP on for the client's agent; returns the secret, the recovery codes and the
/// time step of the code that confirmed it.
async fn enable_totp(agent: &AgentClient) -> (Vec<u8>, Vec<String>, i64) {
    let (status, setup) = agent.post("/api/v1/auth/totp/setup", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret_b32 = setup["secret"].as_str().unwrap();
    let secret = totp::decode_secret(secret_b32).unwrap();
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Kefu:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret_b32}")));
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));

    let (status, body) = agent
        .post("/api/v1/auth/totp/confirm", json!({ "code": "000000" }))
        .await;
    // (One chance in a million that 000000 is the current code; then this test says so.)
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid_code");

    let step = now_step();
    let current = totp::code_for_step(&secret, step);
    let (status, body) = agent
        .post("/api/v1/auth/totp/confirm", json!({ "code": current }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes, step)
}

async fn challenge(app: &TestApp, email: &str) -> String {
    let a = attempt(app, email, PASSWORD, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["mfa_required"], true);
    assert!(!a.cookie, "no session before the second factor");
    assert!(a.body.get("agent").is_none());
    a.body["challenge"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn totp_setup_sign_in_replay_recovery_codes_and_disable() {
    let app = TestApp::new().await;
    let email = "mfa@example.com";
    let agent = app.agent(email, Role::Agent).await;
    let (_, me) = agent.get("/api/v1/auth/me").await;
    assert_eq!(me["totp_enabled"], false);

    let (secret, recovery, confirmed_step) = enable_totp(&agent).await;
    let (_, me) = agent.get("/api/v1/auth/me").await;
    assert_eq!(me["totp_enabled"], true);
    let (status, body) = agent.post("/api/v1/auth/totp/setup", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "totp_already_enabled");

    // The password alone no longer signs in; the code used to confirm is not accepted again.
    let ch = challenge(&app, email).await;
    let replay = totp::code_for_step(&secret, confirmed_step);
    let a = attempt_totp(&app, json!({ "challenge": ch, "code": replay })).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    assert_eq!(code(&a.body), "invalid_code");
    // The next step's code (within the ±1 step allowed for drift) completes the sign-in.
    let next = totp::code_for_step(&secret, confirmed_step + 1);
    let a = attempt_totp(&app, json!({ "challenge": ch, "code": next })).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.cookie);
    assert_eq!(a.body["totp_enabled"], true);
    assert_eq!(a.body["agent"]["email"], email);
    assert!(a.body["csrf_token"].is_string());
    // The challenge was spent.
    let a = attempt_totp(&app, json!({ "challenge": ch, "code": next })).await;
    assert_eq!(code(&a.body), "invalid_challenge");

    // The same code on a new challenge is a replay.
    let ch = challenge(&app, email).await;
    let a = attempt_totp(&app, json!({ "challenge": ch, "code": next })).await;
    assert_eq!(code(&a.body), "invalid_code");
    // Exactly one of code and recovery_code.
    let a = attempt_totp(&app, json!({ "challenge": ch })).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A recovery code works once (spacing and case do not matter).
    let loose = recovery[0].to_uppercase().replace('-', " ");
    let a = attempt_totp(&app, json!({ "challenge": ch, "recovery_code": loose })).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let ch = challenge(&app, email).await;
    let a = attempt_totp(
        &app,
        json!({ "challenge": ch, "recovery_code": recovery[0] }),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&a.body), "invalid_code");
    let a = attempt_totp(
        &app,
        json!({ "challenge": "kefu_mfa_forged", "code": "123456" }),
    )
    .await;
    assert_eq!(code(&a.body), "invalid_challenge");

    // Turning it off needs the password and a code.
    let (status, body) = agent
        .send(
            Method::DELETE,
            "/api/v1/auth/totp",
            Some(json!({ "password": "not my password", "recovery_code": recovery[1] })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "invalid_credentials");
    let (status, body) = agent
        .send(
            Method::DELETE,
            "/api/v1/auth/totp",
            Some(json!({ "password": PASSWORD, "recovery_code": recovery[2] })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, me) = agent.get("/api/v1/auth/me").await;
    assert_eq!(me["totp_enabled"], false);
    let a = attempt(&app, email, PASSWORD, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.cookie, "password alone signs in again");

    // The audit log tells the password step from a completed two-factor sign-in.
    let admin = app.admin().await;
    let id = agent.agent.id.to_string();
    let (status, page) = admin.get("/api/v1/audit?limit=200&action=auth.login").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let events = page["events"].as_array().unwrap();
    let count = |action: &str| {
        events
            .iter()
            .filter(|e| e["action"] == action && e["target_id"] == id.as_str())
            .count()
    };
    assert_eq!(count("auth.login.password_ok"), 3, "{events:#?}");
    // Two via the second step (a code, a recovery code), one by password alone at the end,
    // plus the sign-in of `app.agent`.
    assert_eq!(count("auth.login.success"), 4, "{events:#?}");
    // Wrong second factors name no e-mail, so they are recorded without a target.
    assert!(
        events
            .iter()
            .filter(|e| e["action"] == "auth.login.failure")
            .count()
            >= 3
    );
}

#[tokio::test]
async fn totp_is_changed_only_from_a_console_session() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (status, token) = admin
        .post("/api/v1/api-tokens", json!({ "name": "integration" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/auth/totp/setup"))
        .bearer_auth(token["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_second_factors_are_throttled_like_passwords() {
    let config = Config {
        login_lock_secs: 60,
        ..throttle_config(3, 100)
    };
    let app = TestApp::with_config(config).await;
    let email = "mfa2@example.com";
    let agent = app.agent(email, Role::Agent).await;
    let (secret, _, _) = enable_totp(&agent).await;
    let ch = challenge(&app, email).await;
    let step = now_step();
    let valid: Vec<String> = (step - 1..=step + 2)
        .map(|s| totp::code_for_step(&secret, s))
        .collect();
    let wrong = (0..)
        .map(|n| format!("{:06}", 111_111 * (n % 9 + 1)))
        .find(|c| !valid.contains(c))
        .unwrap();
    for _ in 0..3 {
        let a = attempt_totp(&app, json!({ "challenge": ch, "code": wrong })).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right code, and even the right password, are refused for now.
    let right = totp::code_for_step(&secret, now_step() + 1);
    let a = attempt_totp(&app, json!({ "challenge": ch, "code": right })).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert!(a.retry_after.is_some());
    let a = attempt(&app, email, PASSWORD, None).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Waits for the server to close the socket; returns the close code.
async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.ws.next()).await {
            Ok(Some(Ok(WsMessage::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return None,
            Err(_) => panic!("the socket stayed open"),
        }
    }
}

/// Whether the socket still answers a ping.
async fn still_open(socket: &mut Socket) -> bool {
    socket
        .send_json(json!({ "type": "ping", "nonce": "n" }))
        .await;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) if t.contains("pong") => return true,
            Ok(Some(Ok(WsMessage::Close(_)) | Err(_)) | None) => return false,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn signing_out_everywhere_closes_the_agents_sockets() {
    let app = TestApp::new().await;
    let email = "busy@example.com";
    let laptop = app.agent(email, Role::Agent).await;
    let phone = AgentClient::login(&app, email, PASSWORD).await;
    let colleague = app.agent("colleague@example.com", Role::Agent).await;
    let mut laptop_ws = laptop.socket(&app).await;
    let mut phone_ws = phone.socket(&app).await;
    let mut colleague_ws = colleague.socket(&app).await;
    // An integration's API-token socket is not a session: it stays.
    let (status, token) = laptop
        .post("/api/v1/api-tokens", json!({ "name": "bot" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (raw, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let mut token_ws = Socket { ws: raw };
    token_ws
        .send_json(json!({ "type": "auth", "token": token["secret"] }))
        .await;
    token_ws.next_frame().await;

    let (status, _) = laptop.post("/api/v1/auth/logout-all", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(close_code(&mut laptop_ws).await, Some(4001));
    assert_eq!(close_code(&mut phone_ws).await, Some(4001));
    assert!(still_open(&mut colleague_ws).await);
    assert!(still_open(&mut token_ws).await);
    let (status, _) = phone.get("/api/v1/auth/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Signing out one session closes only that session's sockets.
    let one = AgentClient::login(&app, email, PASSWORD).await;
    let two = AgentClient::login(&app, email, PASSWORD).await;
    let mut one_ws = one.socket(&app).await;
    let mut two_ws = two.socket(&app).await;
    let (status, _) = one.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(close_code(&mut one_ws).await, Some(4001));
    assert!(still_open(&mut two_ws).await);

    // Changing the password ends every session, sockets included.
    let (status, body) = two
        .send(
            Method::PUT,
            "/api/v1/auth/password",
            Some(json!({ "current_password": PASSWORD, "new_password": "another long password" })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(close_code(&mut two_ws).await, Some(4001));
}

//! Authentication and authorisation: 401 without or with wrong credentials, 403 for the wrong
//! role, CSRF, or another visitor's conversation; sign-out; API tokens; password change.

use kefu_core::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ADMIN_EMAIL, AgentClient, TestApp};

#[tokio::test]
async fn missing_or_wrong_credentials_are_401() {
    let app = TestApp::new().await;
    let http = reqwest::Client::new();
    for path in [
        "/api/v1/conversations",
        "/api/v1/auth/me",
        "/api/v1/visitor/conversations",
    ] {
        let res = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let res = http
        .get(app.url("/api/v1/conversations"))
        .bearer_auth("kefu_at_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = http
        .get(app.url("/api/v1/conversations"))
        .header("cookie", "kefu_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A visitor token is not an agent credential, and vice versa.
    let visitor = app.visitor().await;
    let res = http
        .get(app.url("/api/v1/conversations"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let res = http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": ADMIN_EMAIL, "password": "wrong password!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
    let res = http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": "nobody@x.io", "password": "whatever it is" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        401,
        "unknown e-mail looks the same as a wrong password"
    );
}

#[tokio::test]
async fn a_visitor_cannot_read_another_visitors_conversation() {
    let app = TestApp::new().await;
    let alice = app.visitor().await;
    let bob = app.visitor().await;
    let conversation = alice.open_conversation("my address is …").await;
    for path in [
        format!("/api/v1/visitor/conversations/{conversation}"),
        format!("/api/v1/visitor/conversations/{conversation}/messages"),
    ] {
        let (status, body) = bob.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let (status, _) = bob
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/messages"),
            json!({ "client_id": "x", "text": "hi" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, log) = alice
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    assert!(
        !log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "hi"),
        "nothing was written"
    );
}

#[tokio::test]
async fn roles_and_site_membership_are_enforced() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agent = app.agent("plain@shop.example", Role::Agent).await;
    let (status, body) = agent.post("/api/v1/sites", json!({ "name": "new" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
    let (status, _) = agent
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A second site the agent is not a member of is invisible to them.
    let (status, other) = admin
        .post("/api/v1/sites", json!({ "name": "other shop" }))
        .await;
    assert_eq!(status, 201);
    let other_id = other["id"].as_str().unwrap();
    let (status, _) = agent.get(&format!("/api/v1/sites/{other_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stranger = crate::support::VisitorClient::start(&app, other_id).await;
    let conversation = stranger.open_conversation("on the other site").await;
    let (status, _) = agent
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, inbox) = agent.get("/api/v1/conversations?filter=all").await;
    assert!(inbox["items"].as_array().unwrap().is_empty());
    let (status, _) = admin
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the admin created that site and is a member"
    );
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let res = admin
        .http
        .post(app.url("/api/v1/sites"))
        .json(&json!({ "name": "sneaky" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    let (status, _) = admin
        .post("/api/v1/sites", json!({ "name": "legit" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn logout_ends_the_session_and_api_tokens_work_until_revoked() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (status, token) = admin
        .post("/api/v1/api-tokens", json!({ "name": "crm" }))
        .await;
    assert_eq!(status, 201);
    let secret = token["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("kefu_at_"));
    let http = reqwest::Client::new();
    // Bearer tokens need no CSRF header.
    let res = http
        .post(app.url("/api/v1/sites"))
        .bearer_auth(&secret)
        .json(&json!({ "name": "via token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (_, list) = admin.get("/api/v1/api-tokens").await;
    assert!(
        list[0].get("secret").is_none(),
        "the secret is never shown again"
    );
    admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/api-tokens/{}", token["id"].as_str().unwrap()),
            None,
        )
        .await;
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let (status, _) = admin.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    let res = http
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn password_change_signs_out_everywhere() {
    let app = TestApp::new().await;
    let first = app.admin().await;
    let second = app.admin().await;
    let (status, body) = first
        .send(
            reqwest::Method::PUT,
            "/api/v1/auth/password",
            Some(json!({ "current_password": app.admin_password, "new_password": "short" })),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "weak_password");
    let (status, _) = first
        .send(
            reqwest::Method::PUT,
            "/api/v1/auth/password",
            Some(json!({ "current_password": app.admin_password, "new_password": "a much longer passphrase" })),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = second.get("/api/v1/auth/me").await;
    assert_eq!(status, 401);
    let again = AgentClient::login(&app, ADMIN_EMAIL, "a much longer passphrase").await;
    assert_eq!(again.agent.role, Role::Admin);
}

#[tokio::test]
async fn a_disabled_agent_is_signed_out() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agent = app.agent("gone@shop.example", Role::Agent).await;
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/agents/{}", agent.agent.id),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = agent.get("/api/v1/auth/me").await;
    assert_eq!(status, 401);
    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/agents/{}", admin.agent.id),
            Some(json!({ "role": "agent" })),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

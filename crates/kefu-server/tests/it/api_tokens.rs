//! API tokens: scopes narrow what a token's agent may do (`read` for GET, `write` for the
//! other methods, `admin` where the admin role is needed), tokens are made and revoked only
//! from a console session, and revoking one closes the sockets opened with it at once.

use std::time::Duration;

use futures_util::StreamExt;
use kefu_core::domain::Role;
use kefu_core::protocol::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::{AgentClient, Socket, TestApp, uuid_like};

/// Creates a token with `scopes` (or the default when `None`); returns its id and secret.
async fn token(agent: &AgentClient, scopes: Option<&[&str]>) -> (String, String) {
    let mut body = json!({ "name": "integration" });
    if let Some(scopes) = scopes {
        body["scopes"] = json!(scopes);
    }
    let (status, created) = agent.post("/api/v1/api-tokens", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

async fn call(
    app: &TestApp,
    secret: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(secret);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn assert_scope_refused((status, body): (StatusCode, Value), what: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(body["error"]["code"], "insufficient_scope", "{what}");
}

#[tokio::test]
async fn scopes_narrow_what_a_token_may_do() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let site = app.site_id.clone();
    let canned = format!("/api/v1/sites/{site}/canned-replies");
    let audit = format!("/api/v1/sites/{site}/audit");
    let site_path = format!("/api/v1/sites/{site}");

    // Defaults: everything the role allows, listed with the token.
    let (_, full) = token(&admin, None).await;
    let (_, list) = admin.get("/api/v1/api-tokens").await;
    assert_eq!(list[0]["scopes"], json!(["read", "write", "admin"]));
    let (status, _) = call(&app, &full, Method::GET, &audit, None).await;
    assert_eq!(status, StatusCode::OK);

    // read: reads only, and no admin-only reads.
    let (_, read) = token(&admin, Some(&["read"])).await;
    let (status, _) = call(&app, &read, Method::GET, &canned, None).await;
    assert_eq!(status, StatusCode::OK);
    let write = json!({ "shortcut": "hi", "text": "Hello" });
    assert_scope_refused(
        call(&app, &read, Method::POST, &canned, Some(write.clone())).await,
        "read token writing",
    );
    assert_scope_refused(
        call(&app, &read, Method::GET, &audit, None).await,
        "read token reading the audit log",
    );

    // read + write: editor work, but not admin settings.
    let (_, rw) = token(&admin, Some(&["read", "write"])).await;
    let (status, body) = call(&app, &rw, Method::POST, &canned, Some(write)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_scope_refused(
        call(
            &app,
            &rw,
            Method::PATCH,
            &site_path,
            Some(json!({ "name": "renamed" })),
        )
        .await,
        "write token changing site settings",
    );

    // read + admin: admin reads, no writes at all.
    let (_, auditor) = token(&admin, Some(&["read", "admin"])).await;
    let (status, _) = call(&app, &auditor, Method::GET, &audit, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_scope_refused(
        call(
            &app,
            &auditor,
            Method::PATCH,
            &site_path,
            Some(json!({ "name": "renamed" })),
        )
        .await,
        "admin+read token writing",
    );
    let (_, site_now) = admin.get(&site_path).await;
    assert_ne!(site_now["name"], "renamed");

    // A token never acts above its agent's role, and cannot ask to.
    let agent = app.agent("plain@example.com", Role::Agent).await;
    let (status, body) = agent
        .post(
            "/api/v1/api-tokens",
            json!({ "name": "x", "scopes": ["read", "admin"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = agent
        .post("/api/v1/api-tokens", json!({ "name": "x", "scopes": [] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = agent
        .post(
            "/api/v1/api-tokens",
            json!({ "name": "x", "scopes": ["everything"] }),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let (_, agent_token) = token(&agent, None).await;
    let (_, list) = agent.get("/api/v1/api-tokens").await;
    assert_eq!(list[0]["scopes"], json!(["read", "write"]));
    let (status, _) = call(&app, &agent_token, Method::GET, &audit, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn tokens_are_managed_from_a_session_only() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (id, full) = token(&admin, None).await;
    let (status, body) = call(
        &app,
        &full,
        Method::POST,
        "/api/v1/api-tokens",
        Some(json!({ "name": "successor" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = call(
        &app,
        &full,
        Method::DELETE,
        &format!("/api/v1/api-tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Listing is a read.
    let (status, list) = call(&app, &full, Method::GET, "/api/v1/api-tokens", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn token_socket(app: &TestApp, secret: &str) -> Socket {
    let (ws, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let mut socket = Socket { ws };
    socket
        .send_json(json!({ "type": "auth", "token": secret }))
        .await;
    let ready = socket.next_frame().await;
    assert!(
        matches!(ready, ServerFrame::Ready { ref role, .. } if role == "agent"),
        "{ready:?}"
    );
    socket
}

/// The close code once the server closes the socket (None: closed without a frame).
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

async fn answers_ping(socket: &mut Socket) -> bool {
    socket
        .send_json(json!({ "type": "ping", "nonce": "n" }))
        .await;
    matches!(
        socket
            .until(|f| matches!(f, ServerFrame::Pong { .. }))
            .await,
        ServerFrame::Pong { .. }
    )
}

#[tokio::test]
async fn revoking_a_token_closes_its_sockets_and_only_those() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (revoked_id, revoked) = token(&admin, None).await;
    let (_, kept) = token(&admin, None).await;
    let mut revoked_ws = token_socket(&app, &revoked).await;
    let mut kept_ws = token_socket(&app, &kept).await;
    let mut console_ws = admin.socket(&app).await;

    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/api-tokens/{revoked_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(close_code(&mut revoked_ws).await, Some(4001));
    assert!(answers_ping(&mut kept_ws).await);
    assert!(answers_ping(&mut console_ws).await);
    let (status, _) = call(&app, &revoked, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_read_only_tokens_socket_reads_but_does_not_write() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hello there").await;
    let (_, read) = token(&admin, Some(&["read"])).await;
    let mut socket = token_socket(&app, &read).await;
    let log = socket.subscribe(&conversation, 0).await;
    assert!(log.iter().any(|m| m.text == "hello there"));
    let client_id = uuid_like();
    socket
        .send_json(json!({
            "type": "send", "conversation_id": conversation,
            "client_id": client_id, "text": "from a read-only token",
        }))
        .await;
    match socket
        .until(|f| matches!(f, ServerFrame::Error { .. } | ServerFrame::Ack { .. }))
        .await
    {
        ServerFrame::Error { code, .. } => assert_eq!(code, "insufficient_scope"),
        other => panic!("a read-only token sent a message: {other:?}"),
    }
    let (_, page) = admin
        .get(&format!("/api/v1/conversations/{conversation}/messages"))
        .await;
    assert!(
        !page.to_string().contains("from a read-only token"),
        "{page}"
    );
}

//! `TestApp`: boots the server with a fresh database and offers clients for agents
//! (cookie session or API token) and visitors (token), over HTTP and WebSocket.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kefu_core::config::Config;
use kefu_core::domain::{Agent, Role};
use kefu_core::protocol::ServerFrame;
use kefu_store::test_support::{FreshStore, fresh_store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub const ADMIN_EMAIL: &str = "admin@kefu.local";

pub struct TestApp {
    pub addr: SocketAddr,
    /// Keeps the database (and its temp folder) alive for the test.
    pub _db: FreshStore,
    /// The server's data folder (search index).
    pub _data: tempfile::TempDir,
    pub site_id: String,
    pub admin_password: String,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(mut config: Config) -> Self {
        let db = fresh_store().await.unwrap();
        kefu_server::prepare(&db.store).await.unwrap();
        let first = kefu_server::bootstrap::first_start(&db.store)
            .await
            .unwrap()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        config.data_dir = data.path().to_owned();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.heartbeat_secs = config.heartbeat_secs.min(20);
        let addr = kefu_server::spawn(config, db.store.clone()).await.unwrap();
        TestApp {
            addr,
            _db: db,
            _data: data,
            site_id: first.site.id.to_string(),
            admin_password: first.password,
        }
    }

    /// Starts another server on the same database (as after a restart, or a second node)
    /// with its own data folder; returns its base URL and the folder, which must outlive it.
    pub async fn another_node(&self, mut config: Config) -> (String, tempfile::TempDir) {
        let data = tempfile::tempdir().unwrap();
        config.data_dir = data.path().to_owned();
        config.bind = "127.0.0.1:0".parse().unwrap();
        let addr = kefu_server::spawn(config, self._db.store.clone())
            .await
            .unwrap();
        (format!("http://{addr}"), data)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    /// Signs in the bootstrap admin with a cookie session.
    pub async fn admin(&self) -> AgentClient {
        AgentClient::login(self, ADMIN_EMAIL, &self.admin_password).await
    }

    /// Creates an agent (member of the default site) and signs them in.
    pub async fn agent(&self, email: &str, role: Role) -> AgentClient {
        let admin = self.admin().await;
        let (status, _) = admin
            .send(
                Method::POST,
                "/api/v1/agents",
                Some(json!({
                    "email": email, "name": email.split('@').next().unwrap(),
                    "password": "long enough password", "role": role.as_str(),
                    "site_ids": [self.site_id],
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        AgentClient::login(self, email, "long enough password").await
    }

    /// Starts a visitor session on the default site.
    pub async fn visitor(&self) -> VisitorClient {
        VisitorClient::start(self, &self.site_id).await
    }
}

/// An agent with a cookie session (and its CSRF token).
pub struct AgentClient {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
    pub agent: Agent,
    pub cookie: String,
}

impl AgentClient {
    /// The same signed-in agent talking to another node (sessions live in the database).
    pub fn at(&self, base: &str) -> Self {
        AgentClient {
            http: self.http.clone(),
            base: base.to_owned(),
            csrf: self.csrf.clone(),
            agent: self.agent.clone(),
            cookie: self.cookie.clone(),
        }
    }

    pub async fn login(app: &TestApp, email: &str, password: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let res = http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        let cookie = res
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = res.json().await.unwrap();
        AgentClient {
            http,
            base: app.url(""),
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            agent: serde_json::from_value(body["agent"].clone()).unwrap(),
            cookie,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf);
        call(req, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Saves a new revision of an FAQ entry with a different answer (everything else kept).
    pub async fn set_faq_answer(&self, entry_id: &str, answer: &str) {
        let path = format!("/api/v1/kb/entries/{entry_id}");
        let (_, mut body) = self.get(&path).await;
        // Server-managed fields are not part of the content an editor sends.
        for k in [
            "id",
            "site_id",
            "revision",
            "hit_count",
            "thumbs_up",
            "thumbs_down",
            "created_at",
            "updated_at",
            "updated_by",
        ] {
            body.as_object_mut().unwrap().remove(k);
        }
        body["faq"]["answer"] = json!(answer);
        let (status, saved) = self.send(Method::PUT, &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
    }

    pub async fn go_online(&self) {
        let (status, body) = self
            .send(
                Method::PUT,
                "/api/v1/agents/me/presence",
                Some(json!({ "presence": "online" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Opens a socket with the session cookie, as the console does.
    pub async fn socket(&self, app: &TestApp) -> Socket {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                app.ws_url(),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("cookie", self.cookie.parse().unwrap());
        request
            .headers_mut()
            .insert("origin", app.url("").parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut socket = Socket { ws };
        let ready = socket.next_frame().await;
        assert!(
            matches!(ready, ServerFrame::Ready { ref role, .. } if role == "agent"),
            "{ready:?}"
        );
        socket
    }
}

/// A visitor with its token.
pub struct VisitorClient {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub visitor_id: String,
}

impl VisitorClient {
    pub async fn start(app: &TestApp, site_id: &str) -> Self {
        let http = reqwest::Client::new();
        let res = http
            .post(app.url("/api/v1/visitor/sessions"))
            .json(&json!({ "site_id": site_id, "page_url": "https://shop.example/pricing", "language": "zh-CN" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        VisitorClient {
            http,
            base: app.url(""),
            token: body["token"].as_str().unwrap().to_owned(),
            visitor_id: body["visitor"]["id"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        call(req, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Opens a conversation with a first message; returns its id.
    pub async fn open_conversation(&self, text: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/visitor/conversations",
                json!({ "message": { "client_id": uuid_like(), "text": text } }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["conversation"]["id"].as_str().unwrap().to_owned()
    }

    /// Opens an authenticated socket.
    pub async fn socket(&self, app: &TestApp) -> Socket {
        let (ws, _) = tokio_tungstenite::connect_async(app.ws_url())
            .await
            .unwrap();
        let mut socket = Socket { ws };
        socket
            .send_json(json!({ "type": "auth", "token": self.token }))
            .await;
        let ready = socket.next_frame().await;
        assert!(
            matches!(ready, ServerFrame::Ready { ref role, .. } if role == "visitor"),
            "{ready:?}"
        );
        socket
    }
}

pub fn uuid_like() -> String {
    kefu_core::MessageId::new().to_string()
}

/// A WebSocket client speaking the protocol.
pub struct Socket {
    pub ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Socket {
    pub async fn send_json(&mut self, value: Value) {
        self.ws
            .send(WsMessage::Text(value.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, msg: WsMessage) {
        self.ws.send(msg).await.unwrap();
    }

    /// The next protocol frame (skipping pings), failing after 10 s.
    pub async fn next_frame(&mut self) -> ServerFrame {
        self.try_next_frame(Duration::from_secs(10))
            .await
            .expect("a frame within 10 s")
    }

    /// The next protocol frame, or `None` if nothing arrives within `wait`.
    pub async fn try_next_frame(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            match msg.unwrap() {
                WsMessage::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
                WsMessage::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Skips frames until one matches.
    pub async fn until<F: Fn(&ServerFrame) -> bool>(&mut self, pred: F) -> ServerFrame {
        loop {
            let frame = self.next_frame().await;
            if pred(&frame) {
                return frame;
            }
        }
    }

    /// Collects `Message` frames for a conversation until `Synced`.
    pub async fn subscribe(
        &mut self,
        conversation_id: &str,
        after_seq: i64,
    ) -> Vec<kefu_core::domain::Message> {
        self.send_json(json!({ "type": "subscribe", "conversation_id": conversation_id, "after_seq": after_seq })).await;
        let mut out = Vec::new();
        loop {
            match self.next_frame().await {
                ServerFrame::Message { message } => out.push(message),
                ServerFrame::Synced { .. } => return out,
                ServerFrame::Error { code, message, .. } => {
                    panic!("subscribe failed: {code} {message}")
                }
                _ => {}
            }
        }
    }

    /// The next committed message frame.
    pub async fn next_message(&mut self) -> kefu_core::domain::Message {
        match self
            .until(|f| matches!(f, ServerFrame::Message { .. }))
            .await
        {
            ServerFrame::Message { message } => message,
            _ => unreachable!(),
        }
    }
}

/// Sends a request with an optional JSON body; returns the status and the JSON body (or null).
async fn call(mut req: reqwest::RequestBuilder, body: Option<Value>) -> (StatusCode, Value) {
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

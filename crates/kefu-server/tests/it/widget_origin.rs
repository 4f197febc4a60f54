//! Per-site widget origins (`crate::widget_origin`): the visitor API grants CORS only to
//! origins the request's site allows, refuses other origins' visitor-token requests, and the
//! WebSocket refuses pages no site allows at the upgrade (403) and pages the visitor's site
//! does not allow at the `auth` frame (close 4003).

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Socket, TestApp};

const SHOP: &str = "https://shop.example";
const EVIL: &str = "https://evil.example";

async fn restrict_default_site(app: &TestApp) {
    let admin = app.admin().await;
    let (status, body) = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "allowed_origins": [SHOP] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn acao(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

async fn start_session(app: &TestApp, site: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/visitor/sessions"))
        .header("origin", origin)
        .json(&json!({ "site_id": site }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_visitor_api_grants_cors_only_to_the_sites_origins() {
    let app = TestApp::new().await;
    restrict_default_site(&app).await;

    // Preflights cannot name a site: granted to an origin some site allows, else refused.
    let ok = preflight(&app, "/api/v1/visitor/sessions", SHOP).await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(acao(&ok).as_deref(), Some(SHOP));
    let methods = ok.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST") && methods.contains("DELETE"));
    assert!(
        ok.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let refused = preflight(&app, "/api/v1/visitor/conversations", EVIL).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(acao(&refused), None);

    // Session start: the site's rule, and a grant only on success.
    let started = start_session(&app, &app.site_id, SHOP).await;
    assert_eq!(started.status(), StatusCode::CREATED);
    assert_eq!(acao(&started).as_deref(), Some(SHOP));
    assert!(
        started.headers()["vary"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("origin")
    );
    let token = started.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = start_session(&app, &app.site_id, EVIL).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(acao(&refused), None);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["code"],
        "forbidden_origin"
    );

    // Token requests: the token's site decides.
    let http = reqwest::Client::new();
    let call = |origin: Option<&'static str>| {
        let mut req = http
            .get(app.url("/api/v1/visitor/conversations"))
            .bearer_auth(&token);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.send()
    };
    let ok = call(Some(SHOP)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(acao(&ok).as_deref(), Some(SHOP));
    let refused = call(Some(EVIL)).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(acao(&refused), None);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"]["code"],
        "forbidden_origin"
    );
    // Not a browser page: no Origin, no CORS headers, the token alone counts.
    let server = call(None).await.unwrap();
    assert_eq!(server.status(), StatusCode::OK);
    assert_eq!(acao(&server), None);
    // A write from the wrong origin changes nothing.
    let res = http
        .post(app.url("/api/v1/visitor/conversations"))
        .bearer_auth(&token)
        .header("origin", EVIL)
        .json(&json!({ "message": { "client_id": "c-evil", "text": "hi" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let list: Value = call(None).await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    // An unknown token from an allowed page: a 401 without a grant.
    let res = http
        .get(app.url("/api/v1/visitor/conversations"))
        .bearer_auth("kefu_vt_forged")
        .header("origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(acao(&res), None);
}

#[tokio::test]
async fn each_site_decides_for_its_own_visitors() {
    let app = TestApp::new().await;
    restrict_default_site(&app).await;
    // A second site open to every page: now a preflight from anywhere passes, but the
    // restricted site's visitors are still refused from pages it does not allow.
    let admin = app.admin().await;
    let (status, open) = admin
        .post("/api/v1/sites", json!({ "name": "Open site" }))
        .await;
    assert_eq!(status, 201, "{open}");
    let open_site = open["id"].as_str().unwrap();
    let pre = preflight(&app, "/api/v1/visitor/sessions", EVIL).await;
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert_eq!(acao(&pre).as_deref(), Some(EVIL));

    let open_visitor = start_session(&app, open_site, EVIL).await;
    assert_eq!(open_visitor.status(), StatusCode::CREATED);
    assert_eq!(acao(&open_visitor).as_deref(), Some(EVIL));
    assert_eq!(
        start_session(&app, &app.site_id, EVIL).await.status(),
        StatusCode::FORBIDDEN
    );
    let shop_token = start_session(&app, &app.site_id, SHOP)
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/visitor/conversations"))
        .bearer_auth(&shop_token)
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(acao(&res), None);

    // The socket: the upgrade passes (some site allows the page), the auth frame does not.
    let mut socket = ws_from(&app, EVIL).await.expect("upgrade");
    socket
        .send_json(json!({ "type": "auth", "token": shop_token }))
        .await;
    assert_eq!(close_code(&mut socket).await, Some(4003));
    let mut socket = ws_from(&app, SHOP).await.expect("upgrade");
    socket
        .send_json(json!({ "type": "auth", "token": shop_token }))
        .await;
    let ready = socket.next_frame().await;
    assert!(
        matches!(ready, kefu_core::protocol::ServerFrame::Ready { ref role, .. } if role == "visitor"),
        "{ready:?}"
    );
}

#[tokio::test]
async fn a_socket_from_a_page_no_site_allows_is_refused_at_the_upgrade() {
    let app = TestApp::new().await;
    restrict_default_site(&app).await;
    match ws_from(&app, EVIL).await {
        Err(status) => assert_eq!(status, 403),
        Ok(_) => panic!("the upgrade from a page no site allows went through"),
    }
    // The server's own pages (the demo) and allowed shops still connect.
    assert!(ws_from(&app, &app.url("")).await.is_ok());
    assert!(ws_from(&app, SHOP).await.is_ok());
}

/// Opens a socket as a page on `origin` would; the HTTP status when the upgrade is refused.
async fn ws_from(app: &TestApp, origin: &str) -> Result<Socket, u16> {
    let mut request = app.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(Socket { ws }),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("socket failed: {e}"),
    }
}

async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), socket.ws.next()).await {
            Ok(Some(Ok(WsMessage::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return None,
            Err(_) => panic!("the socket stayed open"),
        }
    }
}

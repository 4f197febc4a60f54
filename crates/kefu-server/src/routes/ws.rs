//! `GET /api/v1/ws`: the WebSocket upgrade. A console page signed in with the session cookie
//! is authenticated at once (after an Origin check: a cookie alone must never let another
//! site's page open a socket as the agent); anyone else sends an `auth` frame first.
//!
//! Widget sockets come from customers' pages. Their site is known only from the `auth`
//! frame, which checks the page's origin against that site (close 4003); before that, a
//! cross-origin page that no site allows is refused at the upgrade with 403
//! `forbidden_origin`, so it never gets a socket at all.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use kefu_core::protocol::MAX_CLIENT_FRAME_BYTES;

use crate::auth::{AgentAuth, SESSION_COOKIE, bearer_token, cookie};
use crate::error::{ApiError, ApiResult};
use crate::realtime::connection::{self, Principal};
use crate::state::AppState;

/// Whether the browser's Origin names this server (the Host it called).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // not a browser: no ambient cookie risk
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Upgrades to a WebSocket.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let principal = if bearer_token(&headers).is_some() {
        let auth = AgentAuth::from_headers(&state, &Method::GET, &headers).await?;
        Some(Principal::Agent(auth.agent, auth.method))
    } else if cookie(&headers, SESSION_COOKIE).is_some() {
        if !same_origin(&headers) {
            return Err(ApiError::forbidden(
                "cross-site socket with a session cookie",
            ));
        }
        // A GET, so no CSRF header is needed; the Origin check above stands in for it.
        match AgentAuth::from_headers(&state, &Method::GET, &headers).await {
            Ok(auth) => Some(Principal::Agent(auth.agent, auth.method)),
            Err(_) => None, // stale cookie: fall back to an auth frame
        }
    } else {
        if let Some(origin) = origin.as_deref()
            && !same_origin(&headers)
            && !crate::widget_origin::allowed_by_any_site(&state, origin).await?
        {
            return Err(crate::widget_origin::forbidden_origin());
        }
        None
    };
    Ok(ws
        .max_message_size(MAX_CLIENT_FRAME_BYTES)
        .max_frame_size(MAX_CLIENT_FRAME_BYTES)
        .on_upgrade(move |socket| connection::run(socket, state, principal, origin)))
}

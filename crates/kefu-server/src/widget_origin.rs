//! Per-site widget origins (`Site::allowed_origins`, empty = any page) on the visitor API's
//! CORS and on the WebSocket upgrade.
//!
//! The widget calls `/api/v1/visitor/…` from customers' pages with a bearer token, never a
//! cookie. Which site a request belongs to is known from its visitor token, or, for the
//! session start (no token yet), from the body, which only the handler reads. So:
//!
//! - a preflight cannot name its site (browsers send no credentials with it): it is granted
//!   to an origin some site allows, and refused otherwise;
//! - a request with a visitor token is refused (403 `forbidden_origin`) when the token's site
//!   does not allow the page's origin, and granted (`Access-Control-Allow-Origin` = that
//!   origin) when it does; the resolved visitor rides along so the extractor does not read
//!   it again;
//! - the session start checks its site itself and marks a success with [`OriginChecked`];
//! - anything else (no token, an unknown token: a 401) gets no grant.
//!
//! Requests without an `Origin` header are not from a browser page and pass untouched; the
//! session start still applies its site's rule to them.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{VISITOR_TOKEN_PREFIX, VisitorAuth, bearer_token};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Response extension: the handler checked the page's origin against its site.
#[derive(Clone, Copy, Debug)]
pub struct OriginChecked;

/// How long browsers may cache a preflight grant.
const PREFLIGHT_MAX_AGE: &str = "600";

/// 403 `forbidden_origin`.
pub fn forbidden_origin() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden_origin",
        "this page's origin may not use this site's widget",
    )
}

/// Whether any site lets pages from `origin` use its widget.
pub async fn allowed_by_any_site(state: &AppState, origin: &str) -> ApiResult<bool> {
    Ok(state
        .store
        .list_sites()
        .await?
        .iter()
        .any(|site| site.allows_origin(Some(origin))))
}

fn grant(response: &mut Response, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
}

/// The visitor API's CORS, per site (see the module doc).
pub async fn visitor_cors(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    let response = if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        preflight(&state, &origin).await
    } else {
        let mut granted = false;
        let token = bearer_token(req.headers())
            .filter(|t| t.starts_with(VISITOR_TOKEN_PREFIX))
            .map(str::to_owned);
        if let Some(token) = token
            && let Ok(auth) = VisitorAuth::from_token(&state, &token).await
        {
            match state.store.get_site(auth.visitor.site_id).await {
                Ok(site) if site.allows_origin(Some(&origin)) => {
                    granted = true;
                    req.extensions_mut().insert(auth);
                }
                Ok(_) => return with_vary(forbidden_origin().into_response()),
                Err(e) => return with_vary(ApiError::from(e).into_response()),
            }
        }
        let mut response = next.run(req).await;
        if granted || response.extensions().get::<OriginChecked>().is_some() {
            grant(&mut response, &origin);
        }
        response
    };
    with_vary(response)
}

/// Answers differ by origin, so caches must key on it.
fn with_vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

async fn preflight(state: &AppState, origin: &str) -> Response {
    match allowed_by_any_site(state, origin).await {
        Ok(true) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            grant(&mut response, origin);
            let h = response.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(PREFLIGHT_MAX_AGE),
            );
            response
        }
        Ok(false) => forbidden_origin().into_response(),
        Err(e) => e.into_response(),
    }
}

//! Security headers on every response, decided in one place by the kind of response (from
//! the request path), so no handler has to remember them:
//!
//! | kind                       | nosniff | Referrer-Policy | X-Frame-Options | CSP            | Cache-Control     |
//! |----------------------------|---------|-----------------|-----------------|----------------|-------------------|
//! | API (`/api/v1/…`)          | yes     | strict-origin…  | DENY            | `default-src 'none'` | `no-store` |
//! | console (`/console…`)      | yes     | strict-origin…  | DENY            | console policy | the handler's     |
//! | demo page (`/demo`)        | yes     | strict-origin…  | DENY            | demo policy    | the handler's     |
//! | widget files (`/widget…`)  | yes     | strict-origin…  | —               | —              | the handler's     |
//! | anything else (`/healthz`) | yes     | strict-origin…  | DENY            | `default-src 'none'` on HTML | the handler's |
//!
//! Widget files are scripts and a stylesheet that customers' pages load into their own
//! document (the loader builds a shadow DOM; nothing is framed), so framing headers mean
//! nothing there and a CSP on them would not apply; what they need — CORS and
//! `Cross-Origin-Resource-Policy: cross-origin` — stays with their handler in `static_ui`.
//! `Strict-Transport-Security` is sent only when `cookie_secure` says the server is reached
//! over HTTPS: on plain HTTP it would be ignored at best and lock a misconfigured install
//! out at worst. API responses carry credentials-dependent data, so no cache may keep them.
//! Any other HTML page gets the no-content policy, so no page ever goes out without one;
//! other non-HTML answers (the health check) get none, as there is nothing for it to govern
//! (and a same-origin blank page, which tests open `/healthz` as, may still connect).

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The console's policy: its own scripts, styles and API only (`'self'` covers its
/// WebSocket), no plugins, no framing, no `<base>` tricks, forms post only back here. The
/// app uses no inline script, style or event handler, so none is allowed.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Responses that are not pages (JSON, errors, uploaded files): nothing may load from or
/// frame them, and should a browser ever be talked into rendering one (an uploaded file
/// opened in a tab), it runs sandboxed: no script, no forms, an opaque origin.
pub const NO_CONTENT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox";

/// The demo page's one stylesheet, inline so the page stays a single response; the policy
/// allows exactly this text by its hash.
pub const DEMO_STYLE: &str =
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}";

/// The demo page's policy: the widget loader and modules from here, the widget's own
/// stylesheet (`'self'`) plus the page's hashed inline style, the widget's API and socket.
pub static DEMO_CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(DEMO_STYLE.as_bytes()));
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-{hash}'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
});

/// How long browsers remember to use HTTPS only (one year).
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// What a response is, for choosing its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Api,
    Console,
    Demo,
    WidgetFile,
    Other,
}

impl Kind {
    /// The kind of the response to a request for `path`.
    pub fn of(path: &str) -> Kind {
        let under = |prefix: &str| {
            path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        if under("/api") {
            Kind::Api
        } else if under("/console") {
            Kind::Console
        } else if path == "/demo" {
            Kind::Demo
        } else if path == "/widget.js" || under("/widget") {
            Kind::WidgetFile
        } else {
            Kind::Other
        }
    }
}

/// Sets the headers for `kind` (a handler's own value wins only for Cache-Control, and for
/// API responses not even then: they are never cached).
pub fn apply(kind: Kind, hsts: bool, headers: &mut HeaderMap) {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let set = |h: &mut HeaderMap, name: HeaderName, value: HeaderValue| {
        h.insert(name, value);
    };
    set(
        headers,
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(
        headers,
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if hsts {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    let csp = match kind {
        Kind::Api => Some(HeaderValue::from_static(NO_CONTENT_CSP)),
        Kind::Other if html => Some(HeaderValue::from_static(NO_CONTENT_CSP)),
        Kind::Other => None,
        Kind::Console => Some(HeaderValue::from_static(CONSOLE_CSP)),
        Kind::Demo => HeaderValue::from_str(&DEMO_CSP).ok(),
        Kind::WidgetFile => None,
    };
    if let Some(csp) = csp {
        set(headers, header::CONTENT_SECURITY_POLICY, csp);
    }
    if kind != Kind::WidgetFile {
        set(
            headers,
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        );
    }
    if kind == Kind::Api {
        set(
            headers,
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
}

/// The layer's function: runs the request, then stamps the response.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let kind = Kind::of(req.uri().path());
    let mut response = next.run(req).await;
    apply(kind, state.config.cookie_secure, response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_kinds() {
        assert_eq!(Kind::of("/api/v1/sites"), Kind::Api);
        assert_eq!(Kind::of("/api/v1/visitor/sessions"), Kind::Api);
        assert_eq!(Kind::of("/console"), Kind::Console);
        assert_eq!(Kind::of("/console/app.js"), Kind::Console);
        assert_eq!(Kind::of("/consoles"), Kind::Other);
        assert_eq!(Kind::of("/demo"), Kind::Demo);
        assert_eq!(Kind::of("/widget.js"), Kind::WidgetFile);
        assert_eq!(Kind::of("/widget/app.js"), Kind::WidgetFile);
        assert_eq!(Kind::of("/healthz"), Kind::Other);
    }

    #[test]
    fn widget_files_may_be_embedded_but_not_sniffed() {
        let mut h = HeaderMap::new();
        apply(Kind::WidgetFile, false, &mut h);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(h.get(header::X_FRAME_OPTIONS).is_none());
        assert!(h.get(header::CONTENT_SECURITY_POLICY).is_none());
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    }

    #[test]
    fn api_responses_are_never_cached_and_hsts_follows_https() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        apply(Kind::Api, true, &mut h);
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert!(
            h[header::STRICT_TRANSPORT_SECURITY]
                .to_str()
                .unwrap()
                .starts_with("max-age=")
        );
    }

    #[test]
    fn every_html_page_gets_a_policy() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        apply(Kind::Other, false, &mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], NO_CONTENT_CSP);
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        apply(Kind::Other, false, &mut h);
        assert!(h.get(header::CONTENT_SECURITY_POLICY).is_none());
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    }

    #[test]
    fn the_demo_policy_allows_exactly_its_own_style() {
        assert!(DEMO_CSP.contains("'sha256-"));
        assert!(!DEMO_CSP.contains("unsafe-inline"));
        assert!(!CONSOLE_CSP.contains("unsafe-inline"));
    }
}

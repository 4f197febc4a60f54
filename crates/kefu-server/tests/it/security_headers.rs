//! Security headers per kind of response (`security_headers` layer): API answers (success and
//! error) are never cached or framed, pages carry their Content Security Policy, widget files
//! stay embeddable, and HSTS appears only when the server says it is behind HTTPS.

use base64::Engine;
use kefu_core::config::Config;
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

use crate::support::TestApp;

async fn headers(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, HeaderMap, String) {
    let mut req = reqwest::Client::new().get(app.url(path));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let h = res.headers().clone();
    (status, h, res.text().await.unwrap())
}

fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

/// Headers every response carries, whatever its kind.
fn assert_common(path: &str, h: &HeaderMap) {
    assert_eq!(get(h, "x-content-type-options"), Some("nosniff"), "{path}");
    assert_eq!(
        get(h, "referrer-policy"),
        Some("strict-origin-when-cross-origin"),
        "{path}"
    );
}

#[tokio::test]
async fn api_responses_are_not_cached_framed_or_sniffed() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for (path, cookie, status) in [
        ("/api/v1/auth/me", Some(admin.cookie.as_str()), 200),
        ("/api/v1/auth/me", None, 401),
        ("/api/v1/no-such-route", None, 404),
        (
            &*format!("/api/v1/sites/{}/kb/entries", app.site_id),
            Some(admin.cookie.as_str()),
            200,
        ),
    ] {
        let (got, h, _) = headers(&app, path, cookie).await;
        assert_eq!(got, status, "{path}");
        assert_common(path, &h);
        assert_eq!(get(&h, "cache-control"), Some("no-store"), "{path}");
        assert_eq!(get(&h, "x-frame-options"), Some("DENY"), "{path}");
        let csp = get(&h, "content-security-policy").unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            get(&h, "strict-transport-security").is_none(),
            "plain HTTP: no HSTS"
        );
    }
    // The visitor API too, success and refusal alike.
    let visitor = app.visitor().await;
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/visitor/conversations"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_common("visitor", res.headers());
    assert_eq!(get(res.headers(), "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn console_pages_carry_the_strict_policy_and_refuse_framing() {
    let app = TestApp::new().await;
    for path in [
        "/console",
        "/console/",
        "/console/conversations/x",
        "/console/app.js",
    ] {
        let (status, h, _) = headers(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_common(path, &h);
        assert_eq!(get(&h, "x-frame-options"), Some("DENY"), "{path}");
        let csp = get(&h, "content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(get(&h, "access-control-allow-origin").is_none(), "{path}");
        // The console's own revalidation rule, not the API's no-store.
        assert_eq!(get(&h, "cache-control"), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn the_demo_page_policy_allows_its_inline_style_by_hash_and_nothing_else_inline() {
    let app = TestApp::new().await;
    let (status, h, body) = headers(&app, &format!("/demo?site={}", app.site_id), None).await;
    assert_eq!(status, 200);
    assert_common("/demo", &h);
    assert_eq!(get(&h, "x-frame-options"), Some("DENY"));
    let csp = get(&h, "content-security-policy").unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    // The one inline style in the page is exactly the one the policy names.
    let style = body
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(s, _)| s)
        .expect("the demo page has its style inline");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
    assert!(!body.contains("style=\""), "no style attributes: {body}");
    assert!(
        !body.contains("<script>"),
        "no inline script, only the loader tag"
    );
}

#[tokio::test]
async fn widget_files_stay_embeddable_by_other_sites() {
    let app = TestApp::new().await;
    for path in ["/widget.js", "/widget/app.js", "/widget/styles.css"] {
        let (status, h, _) = headers(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_common(path, &h);
        assert!(get(&h, "x-frame-options").is_none(), "{path}");
        assert!(get(&h, "content-security-policy").is_none(), "{path}");
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(
            get(&h, "cross-origin-resource-policy"),
            Some("cross-origin"),
            "{path}"
        );
        assert!(
            get(&h, "cache-control").unwrap().starts_with("public"),
            "{path}"
        );
    }
    // The loader sets its host element's style through the CSSOM, so pages whose CSP
    // forbids inline styles still show it.
    let (_, _, loader) = headers(&app, "/widget.js", None).await;
    assert!(
        !loader.contains("setAttribute(\n      'style'")
            && !loader.contains("setAttribute('style'")
    );
}

#[tokio::test]
async fn other_responses_are_locked_down_too() {
    let app = TestApp::new().await;
    let (status, h, _) = headers(&app, "/healthz", None).await;
    assert_eq!(status, 200);
    assert_common("/healthz", &h);
    assert_eq!(get(&h, "x-frame-options"), Some("DENY"));
    // JSON: nothing for a page policy to govern (HTML pages elsewhere always get one).
    assert!(get(&h, "content-security-policy").is_none());
}

#[tokio::test]
async fn hsts_is_sent_on_every_kind_only_behind_https() {
    let config = Config {
        cookie_secure: true,
        ..Config::default()
    };
    let app = TestApp::with_config(config).await;
    for path in [
        "/healthz",
        "/console",
        "/widget.js",
        "/api/v1/auth/me",
        "/demo",
    ] {
        let (_, h, _) = headers(&app, path, None).await;
        let hsts = get(&h, "strict-transport-security").unwrap_or_default();
        assert!(hsts.starts_with("max-age=31536000"), "{path}: {hsts}");
    }
}

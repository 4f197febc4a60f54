//! The browser apps' files, compiled into the binary with rust-embed so a self-hosted install is
//! one file.
//!
//! The visitor widget (`web/widget/`): `GET /widget.js` (the one-tag loader customers paste into
//! their pages), `GET /widget/{*path}` (the ES modules and CSS it loads), and `GET /demo?site=ID`
//! (a plain page embedding the widget, for trying it out). The loader and modules are loaded
//! from customers' origins — the modules through dynamic `import()`, which is CORS-mode — so
//! every widget file answers with `Access-Control-Allow-Origin: *`. They are public and carry no
//! credentials, so that grants nothing.
//!
//! The agent console (`web/console/`): `GET /console` and `GET /console/{*path}`. It is a
//! single-page app with its own URLs (`/console/conversations/…`), so a path that names no file
//! and does not look like one gets `index.html` and the app routes it. Console files are
//! same-origin only (no CORS header).
//!
//! Framing, sniffing and Content Security Policy headers are not set here: the
//! `security_headers` layer sets them on every response by its kind (a strict policy for
//! the console and the demo page, none of the page-only headers for widget files).

use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::ApiPath;

/// Everything under `web/widget/`. Debug builds read the folder at run time (edit and
/// reload); release builds carry the bytes.
#[derive(RustEmbed)]
#[folder = "../../web/widget/"]
struct WidgetAssets;

/// Everything under `web/console/`, embedded the same way.
#[derive(RustEmbed)]
#[folder = "../../web/console/"]
struct ConsoleAssets;

/// The loader's URL never changes (it is pasted into customers' pages), so caches may keep it
/// only briefly; the ETag makes the revalidation cheap.
const LOADER_CACHE: &str = "public, max-age=300";
/// Modules are fetched by the loader on every page view; an hour is a fair trade between
/// page weight and how soon an upgrade reaches visitors.
const MODULE_CACHE: &str = "public, max-age=3600";
/// Console files are revalidated on every load (a cheap 304 thanks to the ETag), so agents run
/// the server's own version right after an upgrade; a mix of old and new modules would break
/// against a changed API.
const CONSOLE_CACHE: &str = "no-cache";

/// Which app a file belongs to; decides the folder and the headers.
#[derive(Clone, Copy)]
enum App {
    Widget,
    Console,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Whether a path could name a file of `app` at all. rust-embed never leaves its folder, but
/// a path that tries to is refused outright.
fn plausible(path: &str) -> bool {
    !(path.is_empty() || path.starts_with('/') || path.split('/').any(|p| p == ".."))
}

fn embedded(app: App, path: &str) -> Option<rust_embed::EmbeddedFile> {
    match app {
        App::Widget => WidgetAssets::get(path),
        App::Console => ConsoleAssets::get(path),
    }
}

/// A file with its headers, or 404. `304` when the caller's ETag still matches.
fn asset(app: App, path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    if !plausible(path) {
        return ApiError::not_found("file").into_response();
    }
    let Some(file) = embedded(app, path) else {
        return ApiError::not_found("file").into_response();
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(path))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    match app {
        App::Widget => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            // Pages that isolate themselves (COEP) may still load the widget.
            h.insert(
                "cross-origin-resource-policy",
                HeaderValue::from_static("cross-origin"),
            );
        }
        App::Console => {
            h.insert(
                "cross-origin-resource-policy",
                HeaderValue::from_static("same-origin"),
            );
        }
    }
    response
}

/// `GET /widget.js`: the loader.
pub async fn get_widget_loader(headers: HeaderMap) -> Response {
    asset(App::Widget, "widget.js", LOADER_CACHE, &headers)
}

/// `GET /widget/{*path}`: the modules and stylesheet the loader pulls in.
pub async fn get_widget_file(ApiPath(path): ApiPath<String>, headers: HeaderMap) -> Response {
    asset(App::Widget, &path, MODULE_CACHE, &headers)
}

/// The file a console path is served from: the file itself when it exists, else the app's
/// `index.html` for anything that looks like one of the app's own pages. A missing name with
/// an extension (`/console/missing.js`) stays a 404, so a broken module import fails loudly
/// instead of receiving HTML.
fn console_file(path: &str) -> Option<&str> {
    if path.is_empty() {
        return Some("index.html");
    }
    if !plausible(path) {
        return None;
    }
    if ConsoleAssets::get(path).is_some() {
        return Some(path);
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        None
    } else {
        Some("index.html")
    }
}

/// `GET /console`: the agent console.
pub async fn get_console(headers: HeaderMap) -> Response {
    asset(App::Console, "index.html", CONSOLE_CACHE, &headers)
}

/// `GET /console/{*path}`: the console's modules and stylesheet, or its `index.html` for the
/// app's own URLs (reloading `/console/conversations/…` must work).
pub async fn get_console_file(ApiPath(path): ApiPath<String>, headers: HeaderMap) -> Response {
    match console_file(&path) {
        Some(file) => asset(App::Console, file, CONSOLE_CACHE, &headers),
        None => ApiError::not_found("file").into_response(),
    }
}

#[derive(Deserialize)]
pub struct DemoParams {
    site: Option<String>,
}

/// `GET /demo?site=ID`: a plain page with the one embed tag, as a customer would paste it.
pub async fn get_demo(Query(params): Query<DemoParams>) -> Response {
    // The id goes into HTML, so only id characters pass (site ids are UUIDs).
    let site = params
        .site
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .unwrap_or_default();
    let body = if site.is_empty() {
        "<p>Add <code>?site=SITE_ID</code> to the address (the id printed on first start).</p>"
            .to_owned()
    } else {
        format!(
            "<p>This is an ordinary page; the chat button sits in the corner.</p>\n\
             <pre>&lt;script src=\"/widget.js\" data-site=\"{site}\" async&gt;&lt;/script&gt;</pre>\n\
             <script src=\"/widget.js\" data-site=\"{site}\" async></script>"
        )
    };
    // The inline style is allowed by its hash in the page's policy (`security_headers`).
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Kefu widget demo</title><style>{style}</style></head>\n\
         <body><h1>Kefu widget demo</h1>\n{body}\n</body></html>\n",
        style = crate::security_headers::DEMO_STYLE
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_cover_the_widget_files() {
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("styles.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }

    #[test]
    fn the_loader_and_stylesheet_are_embedded() {
        assert!(WidgetAssets::get("widget.js").is_some());
        assert!(WidgetAssets::get("styles.css").is_some());
    }

    #[test]
    fn paths_leaving_the_folder_are_refused() {
        let r = asset(
            App::Widget,
            "../Cargo.toml",
            MODULE_CACHE,
            &HeaderMap::new(),
        );
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = asset(
            App::Console,
            "../Cargo.toml",
            CONSOLE_CACHE,
            &HeaderMap::new(),
        );
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(console_file("../widget/app.js"), None);
    }

    #[test]
    fn console_pages_fall_back_to_the_app_but_missing_files_do_not() {
        assert!(ConsoleAssets::get("index.html").is_some());
        assert_eq!(console_file(""), Some("index.html"));
        assert_eq!(console_file("app.js"), Some("app.js"));
        assert_eq!(console_file("conversations/0190aa"), Some("index.html"));
        assert_eq!(console_file("kb/entries/x/history"), Some("index.html"));
        assert_eq!(console_file("missing.js"), None);
        assert_eq!(console_file("kb/missing.css"), None);
    }

    // The policy and framing headers come from the `security_headers` layer; the
    // integration test `security_headers` checks them on real responses.
    #[test]
    fn console_files_are_same_origin() {
        let r = asset(App::Console, "index.html", CONSOLE_CACHE, &HeaderMap::new());
        let h = r.headers();
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(
            h.get("cross-origin-resource-policy").unwrap(),
            "same-origin"
        );
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), CONSOLE_CACHE);
    }
}

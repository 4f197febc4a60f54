//! The visitor widget's files (`web/widget/`), compiled into the binary with rust-embed so a
//! self-hosted install is one file: `GET /widget.js` (the one-tag loader customers paste into
//! their pages), `GET /widget/{*path}` (the ES modules and CSS it loads), and `GET /demo?site=ID`
//! (a plain page embedding the widget, for trying it out).
//!
//! The loader and modules are loaded from customers' origins — the modules through dynamic
//! `import()`, which is CORS-mode — so every file answers with `Access-Control-Allow-Origin: *`.
//! They are public and carry no credentials, so that grants nothing.

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

/// The loader's URL never changes (it is pasted into customers' pages), so caches may keep it
/// only briefly; the ETag makes the revalidation cheap.
const LOADER_CACHE: &str = "public, max-age=300";
/// Modules are fetched by the loader on every page view; an hour is a fair trade between
/// page weight and how soon an upgrade reaches visitors.
const MODULE_CACHE: &str = "public, max-age=3600";

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

/// A widget file with its headers, or 404. `304` when the caller's ETag still matches.
fn asset(path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    // rust-embed never leaves its folder, but a path that tries to is refused outright.
    if path.is_empty() || path.starts_with('/') || path.split('/').any(|p| p == "..") {
        return ApiError::not_found("file").into_response();
    }
    let Some(file) = WidgetAssets::get(path) else {
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
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Pages that isolate themselves (COEP) may still load the widget.
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// `GET /widget.js`: the loader.
pub async fn get_widget_loader(headers: HeaderMap) -> Response {
    asset("widget.js", LOADER_CACHE, &headers)
}

/// `GET /widget/{*path}`: the modules and stylesheet the loader pulls in.
pub async fn get_widget_file(ApiPath(path): ApiPath<String>, headers: HeaderMap) -> Response {
    asset(&path, MODULE_CACHE, &headers)
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
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Kefu widget demo</title></head>\n\
         <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem\">\
         <h1>Kefu widget demo</h1>\n{body}\n</body></html>\n"
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
        let r = asset("../Cargo.toml", MODULE_CACHE, &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

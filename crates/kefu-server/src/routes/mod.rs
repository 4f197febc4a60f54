//! The HTTP surface: one file per resource, handlers named `verb_resource`. This file only
//! wires paths to handlers and layers; docs/API.md is the written contract.

mod agents;
mod ai_settings;
mod analytics;
mod api_tokens;
mod attachments;
mod audit;
mod auth;
mod canned_replies;
mod conversations;
mod copilot;
mod csat;
mod eval_runs;
mod health;
mod kb_entries;
mod kb_imports;
mod kb_lexicon;
mod kb_report;
mod kb_unanswered;
mod privacy;
mod sites;
mod static_ui;
mod tags;
mod totp;
mod visitor;
mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest JSON body accepted anywhere (a 4,000-character message is far below it).
const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest import upload (base64 inflates files by a third).
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let visitor_api = Router::new()
        .route("/", delete(privacy::erase_me))
        .route("/sessions", post(visitor::create_session))
        .route("/export", get(privacy::export_me))
        .route("/consent", post(visitor::give_consent))
        .route(
            "/conversations",
            get(visitor::list_conversations).post(visitor::create_conversation),
        )
        .route("/conversations/{id}", get(visitor::get_conversation))
        .route(
            "/conversations/{id}/messages",
            get(visitor::list_messages).post(visitor::create_message),
        )
        .route("/conversations/{id}/read", post(visitor::mark_read))
        .route("/conversations/{id}/typing", post(visitor::typing))
        .route(
            "/conversations/{id}/handoff",
            post(visitor::request_handoff),
        )
        .route("/conversations/{id}/contact", post(visitor::leave_contact))
        .route("/conversations/{id}/csat", post(visitor::rate_conversation))
        .route(
            "/conversations/{id}/attachments",
            post(attachments::upload_visitor_attachment),
        )
        .route(
            "/conversations/{id}/messages/{message_id}/feedback",
            post(visitor::rate_message),
        )
        // The widget runs on customers' pages, so its API answers cross-origin requests,
        // from the origins each site allows (see `crate::widget_origin`).
        .layer(from_fn_with_state(
            state.clone(),
            crate::widget_origin::visitor_cors,
        ));

    let api = Router::new()
        .nest("/visitor", visitor_api)
        .route(
            "/auth/login",
            // Records sign-in outcomes in the audit log (see `crate::audit`).
            post(auth::login).layer(from_fn_with_state(state.clone(), crate::audit::audit_login)),
        )
        .route(
            "/auth/login/totp",
            post(auth::login_totp)
                .layer(from_fn_with_state(state.clone(), crate::audit::audit_login)),
        )
        .route("/auth/totp", delete(totp::disable_totp))
        .route("/auth/totp/setup", post(totp::setup_totp))
        .route("/auth/totp/confirm", post(totp::confirm_totp))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/me", get(auth::get_me))
        .route("/auth/password", put(auth::change_password))
        .route(
            "/api-tokens",
            get(api_tokens::list_api_tokens).post(api_tokens::create_api_token),
        )
        .route("/api-tokens/{id}", delete(api_tokens::revoke_api_token))
        .route("/sites", get(sites::list_sites).post(sites::create_site))
        .route(
            "/sites/{id}",
            get(sites::get_site).patch(sites::update_site),
        )
        .route("/sites/{id}/agents", get(sites::list_site_agents))
        .route("/sites/{id}/members", post(sites::add_member))
        .route(
            "/sites/{id}/members/{agent_id}",
            delete(sites::remove_member),
        )
        .route(
            "/sites/{id}/canned-replies",
            get(canned_replies::list_canned_replies).post(canned_replies::create_canned_reply),
        )
        .route(
            "/canned-replies/{id}",
            axum::routing::patch(canned_replies::update_canned_reply)
                .delete(canned_replies::delete_canned_reply),
        )
        .route("/sites/{id}/tags", get(tags::list_tags))
        .route("/sites/{id}/tags/{tag_id}", delete(tags::delete_tag))
        .route(
            "/sites/{id}/kb/entries",
            get(kb_entries::list_kb_entries).post(kb_entries::create_kb_entry),
        )
        .route("/sites/{id}/kb/search", get(kb_entries::search_kb))
        .route("/kb/embeddings", get(kb_entries::get_embedding_status))
        .route(
            "/sites/{id}/eval/runs",
            get(eval_runs::list_runs).post(eval_runs::create_run),
        )
        .route("/sites/{id}/eval/runs/{run_id}", get(eval_runs::get_run))
        .route(
            "/sites/{id}/kb/imports",
            post(kb_imports::create_import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/kb/imports/{id}", get(kb_imports::get_import))
        .route(
            "/sites/{id}/kb/lexicon",
            get(kb_lexicon::get_kb_lexicon).put(kb_lexicon::put_kb_lexicon),
        )
        .route("/sites/{id}/kb/report", get(kb_report::get_kb_report))
        .route(
            "/sites/{id}/kb/unanswered",
            get(kb_unanswered::list_unanswered),
        )
        .route(
            "/sites/{id}/ai/providers",
            get(ai_settings::list_providers).put(ai_settings::replace_providers),
        )
        .route("/sites/{id}/ai/usage", get(ai_settings::get_usage))
        .route(
            "/sites/{id}/identity-secret",
            post(sites::rotate_identity_secret).delete(sites::delete_identity_secret),
        )
        .route("/sites/{id}/csat", get(csat::get_csat))
        .route("/sites/{id}/analytics", get(analytics::get_analytics))
        .route("/sites/{id}/audit", get(audit::list_site_audit))
        .route("/audit", get(audit::list_instance_audit))
        .route("/audit/verify", get(audit::verify_audit))
        .route("/sites/{id}/visitors", get(privacy::find_visitors))
        .route(
            "/sites/{id}/visitors/{visitor_id}",
            delete(privacy::erase_visitor),
        )
        .route(
            "/sites/{id}/visitors/{visitor_id}/export",
            get(privacy::export_visitor),
        )
        .route("/sites/{id}/retention/runs", post(privacy::run_retention))
        .route(
            "/sites/{id}/retention/runs/{job_id}",
            get(privacy::get_retention_run),
        )
        .route(
            "/sites/{id}/ai/classifications",
            get(ai_settings::get_classifications),
        )
        .route(
            "/sites/{id}/kb/unanswered/{question_id}",
            delete(kb_unanswered::dismiss_unanswered),
        )
        .route(
            "/kb/entries/{id}",
            get(kb_entries::get_kb_entry).put(kb_entries::update_kb_entry),
        )
        .route(
            "/kb/entries/{id}/revisions",
            get(kb_entries::list_kb_revisions),
        )
        .route(
            "/kb/entries/{id}/revisions/{revision}",
            get(kb_entries::get_kb_revision),
        )
        .route("/kb/entries/{id}/diff", get(kb_entries::diff_kb_revisions))
        .route(
            "/kb/entries/{id}/rollback",
            post(kb_entries::rollback_kb_entry),
        )
        .route("/agents", post(agents::create_agent))
        .route("/agents/me/presence", put(agents::set_my_presence))
        .route("/agents/{id}", axum::routing::patch(agents::update_agent))
        .route("/conversations", get(conversations::list_conversations))
        .route("/conversations/{id}", get(conversations::get_conversation))
        .route(
            "/conversations/{id}/messages",
            get(conversations::list_messages).post(conversations::create_message),
        )
        .route(
            "/conversations/{id}/assign",
            post(conversations::assign_conversation),
        )
        .route(
            "/conversations/{id}/resolve",
            post(conversations::resolve_conversation),
        )
        .route(
            "/conversations/{id}/reopen",
            post(conversations::reopen_conversation),
        )
        .route(
            "/conversations/{id}/hand-to-bot",
            post(conversations::hand_to_bot),
        )
        .route("/conversations/{id}/tags", put(conversations::set_tags))
        .route(
            "/conversations/{id}/attachments",
            post(attachments::upload_attachment),
        )
        // The widget downloads from customers' pages with its bearer token (never cookies).
        .route(
            "/attachments/{id}",
            get(attachments::get_attachment).layer(from_fn_with_state(
                state.clone(),
                crate::widget_origin::visitor_cors,
            )),
        )
        .route("/conversations/{id}/read", post(conversations::mark_read))
        .route("/conversations/{id}/typing", post(conversations::typing))
        .route(
            "/conversations/{id}/suggestions",
            get(copilot::get_suggestions),
        )
        .route("/conversations/{id}/summary", get(copilot::get_summary))
        .route("/ws", get(ws::upgrade))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(from_fn_with_state(
            state.clone(),
            crate::audit::remember_client_ip,
        ));

    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::get_health))
        .route("/widget.js", get(static_ui::get_widget_loader))
        .route("/widget/{*path}", get(static_ui::get_widget_file))
        .route("/demo", get(static_ui::get_demo))
        .route("/console", get(static_ui::get_console))
        .route("/console/", get(static_ui::get_console))
        .route("/console/{*path}", get(static_ui::get_console_file))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Every response, errors and fallbacks included, by its kind.
        .layer(from_fn_with_state(
            state.clone(),
            crate::security_headers::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

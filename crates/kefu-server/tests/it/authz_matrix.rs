//! The authorisation matrix: every route in `src/routes/mod.rs` × every kind of caller, with
//! the outcome each must get, checked against a real server with real ids. The route list is
//! parsed from the router's source, so a route added without a row (or a row left for a route
//! that is gone) fails `every_route_has_a_row`.
//!
//! Callers (columns, in this order):
//! `anon` no credentials · `visitor` the widget token of the visitor who owns the fixtures'
//! conversation · `stranger` another visitor of the same site · `agent`, `editor`, `admin`
//! console sessions (with the CSRF header) of members of the site · `other` an **admin** of
//! another site only (so membership alone decides) · `token` the admin's full-scope API token.
//!
//! Outcomes: `A` allowed (2xx, or a 4xx other than 401/403/404: the request reached the work
//! itself, e.g. 409 for a state that forbids it or 422 for a value) · `U` 401 · `F` 403 ·
//! `N` 404 (a site the caller is not a member of answers "not found", so ids cannot be
//! probed) · `P` public: the route does not look at credentials, every caller gets the same
//! answer. A 5xx is always a failure.
//!
//! The rule the table encodes: agent routes answer 401 to anyone without an agent credential
//! (visitor tokens included); site-scoped routes check membership first (404) and then the
//! role (403); visitor routes answer 401 to agents, and 403 for another visitor's
//! conversation. Separately, every cookie-authenticated write without the CSRF header is 403
//! `csrf_failed`, while the API-token column shows bearer writes need no CSRF header.
//!
//! Adding a route: add one line to `MATRIX`. If its path has a new kind of `{param}`, teach
//! `Fixtures::fill`; if its body has required fields, add a line to `body_for` (a forbidden
//! caller must reach the handler's check, not fail body parsing — a missing body shows up
//! as an `F`/`N` row answering 4xx).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use kefu_core::config::Config;
use kefu_core::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp, VisitorClient};

/// The router's source, read at compile time so the test always sees the current routes.
const ROUTES_SOURCE: &str = include_str!("../../src/routes/mod.rs");

const PASSWORD: &str = "long enough password";

/// `"METHOD /path"` → outcomes for anon visitor stranger agent editor admin other token.
#[rustfmt::skip]
const MATRIX: &[(&str, &str)] = &[
    // Public: health, the apps' files, sign-in. The socket authenticates by frame (tests in
    // realtime.rs, widget_origin.rs, api_tokens.rs); its plain GET is the same for all.
    ("GET /healthz",                                              "P"),
    ("GET /widget.js",                                            "P"),
    ("GET /widget/{*path}",                                       "P"),
    ("GET /demo",                                                 "P"),
    ("GET /console",                                              "P"),
    ("GET /console/",                                             "P"),
    ("GET /console/{*path}",                                      "P"),
    ("POST /api/v1/auth/login",                                   "P"),
    ("POST /api/v1/auth/login/totp",                              "P"),
    ("GET /api/v1/ws",                                            "P"),
    ("POST /api/v1/visitor/sessions",                             "P"),
    //                                                             an vi st ag ed ad ot tk
    // The widget's API.
    ("DELETE /api/v1/visitor",                                    "U A A U U U U U"),
    ("GET /api/v1/visitor/export",                                "U A A U U U U U"),
    ("POST /api/v1/visitor/consent",                              "U A A U U U U U"),
    ("GET /api/v1/visitor/conversations",                         "U A A U U U U U"),
    ("POST /api/v1/visitor/conversations",                        "U A A U U U U U"),
    ("GET /api/v1/visitor/conversations/{id}",                    "U A F U U U U U"),
    ("GET /api/v1/visitor/conversations/{id}/messages",           "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/messages",          "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/read",              "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/typing",            "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/handoff",           "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/contact",           "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/csat",              "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/messages/{message_id}/feedback", "U A F U U U U U"),
    ("POST /api/v1/visitor/conversations/{id}/attachments",       "U A F U U U U U"),
    // A file: its conversation's visitor and its site's agents; anyone else "not found".
    ("GET /api/v1/attachments/{id}",                              "U A N A A A N A"),
    // One's own account. Sign-in factors and tokens need the person (a session).
    ("DELETE /api/v1/auth/totp",                                  "U U U A A A A F"),
    ("POST /api/v1/auth/totp/setup",                              "U U U A A A A F"),
    ("POST /api/v1/auth/totp/confirm",                            "U U U A A A A F"),
    ("POST /api/v1/auth/logout",                                  "U U U A A A A A"),
    ("POST /api/v1/auth/logout-all",                              "U U U A A A A A"),
    ("GET /api/v1/auth/me",                                       "U U U A A A A A"),
    ("PUT /api/v1/auth/password",                                 "U U U A A A A A"),
    ("GET /api/v1/api-tokens",                                    "U U U A A A A A"),
    ("POST /api/v1/api-tokens",                                   "U U U A A A A F"),
    ("DELETE /api/v1/api-tokens/{id}",                            "U U U A A A A F"),
    ("PUT /api/v1/agents/me/presence",                            "U U U A A A A A"),
    // Instance-wide (admin role, no site).
    ("GET /api/v1/sites",                                         "U U U A A A A A"),
    ("POST /api/v1/sites",                                        "U U U F F A A A"),
    ("GET /api/v1/audit",                                         "U U U F F A A A"),
    ("GET /api/v1/audit/verify",                                  "U U U F F A A A"),
    ("GET /api/v1/kb/embeddings",                                 "U U U A A A A A"),
    // Agents: creating one names its sites (each must be the admin's); changing one needs
    // every site it works on to be the admin's.
    ("POST /api/v1/agents",                                       "U U U F F A N A"),
    ("PATCH /api/v1/agents/{id}",                                 "U U U F F A N A"),
    // A site and its settings.
    ("GET /api/v1/sites/{id}",                                    "U U U A A A N A"),
    ("PATCH /api/v1/sites/{id}",                                  "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/agents",                             "U U U A A A N A"),
    ("POST /api/v1/sites/{id}/members",                           "U U U F F A N A"),
    ("DELETE /api/v1/sites/{id}/members/{agent_id}",              "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/canned-replies",                     "U U U A A A N A"),
    ("POST /api/v1/sites/{id}/canned-replies",                    "U U U F A A N A"),
    ("PATCH /api/v1/canned-replies/{id}",                         "U U U F A A N A"),
    ("DELETE /api/v1/canned-replies/{id}",                        "U U U F A A N A"),
    ("GET /api/v1/sites/{id}/tags",                               "U U U A A A N A"),
    ("DELETE /api/v1/sites/{id}/tags/{tag_id}",                   "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/ai/providers",                       "U U U F F A N A"),
    ("PUT /api/v1/sites/{id}/ai/providers",                       "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/ai/usage",                           "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/ai/classifications",                 "U U U A A A N A"),
    ("POST /api/v1/sites/{id}/identity-secret",                   "U U U F F A N A"),
    ("DELETE /api/v1/sites/{id}/identity-secret",                 "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/csat",                               "U U U A A A N A"),
    ("GET /api/v1/sites/{id}/analytics",                          "U U U A A A N A"),
    ("GET /api/v1/sites/{id}/audit",                              "U U U F F A N A"),
    // Privacy (admin).
    ("GET /api/v1/sites/{id}/visitors",                           "U U U F F A N A"),
    ("DELETE /api/v1/sites/{id}/visitors/{visitor_id}",           "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/visitors/{visitor_id}/export",       "U U U F F A N A"),
    ("POST /api/v1/sites/{id}/retention/runs",                    "U U U F F A N A"),
    ("GET /api/v1/sites/{id}/retention/runs/{job_id}",            "U U U F F A N A"),
    // Knowledge base: agents read, editors write.
    ("GET /api/v1/sites/{id}/kb/entries",                         "U U U A A A N A"),
    ("POST /api/v1/sites/{id}/kb/entries",                        "U U U F A A N A"),
    ("GET /api/v1/sites/{id}/kb/search",                          "U U U A A A N A"),
    ("POST /api/v1/sites/{id}/kb/imports",                        "U U U F A A N A"),
    ("GET /api/v1/kb/imports/{id}",                               "U U U A A A N A"),
    ("GET /api/v1/sites/{id}/kb/unanswered",                      "U U U A A A N A"),
    ("DELETE /api/v1/sites/{id}/kb/unanswered/{question_id}",     "U U U F A A N A"),
    ("GET /api/v1/kb/entries/{id}",                               "U U U A A A N A"),
    ("PUT /api/v1/kb/entries/{id}",                               "U U U F A A N A"),
    ("GET /api/v1/kb/entries/{id}/revisions",                     "U U U A A A N A"),
    ("GET /api/v1/kb/entries/{id}/revisions/{revision}",          "U U U A A A N A"),
    ("GET /api/v1/kb/entries/{id}/diff",                          "U U U A A A N A"),
    ("POST /api/v1/kb/entries/{id}/rollback",                     "U U U F A A N A"),
    ("GET /api/v1/sites/{id}/kb/lexicon",                         "U U U A A A N A"),
    ("PUT /api/v1/sites/{id}/kb/lexicon",                         "U U U F A A N A"),
    ("GET /api/v1/sites/{id}/kb/report",                          "U U U F A A N A"),
    // Evaluation runs: editors measure the knowledge base.
    ("GET /api/v1/sites/{id}/eval/runs",                          "U U U F A A N A"),
    ("POST /api/v1/sites/{id}/eval/runs",                         "U U U F A A N A"),
    ("GET /api/v1/sites/{id}/eval/runs/{run_id}",                 "U U U F A A N A"),
    // Conversations: every member works them.
    ("GET /api/v1/conversations",                                 "U U U A A A A A"),
    ("GET /api/v1/conversations/{id}",                            "U U U A A A N A"),
    ("GET /api/v1/conversations/{id}/messages",                   "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/messages",                  "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/assign",                    "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/resolve",                   "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/reopen",                    "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/hand-to-bot",               "U U U A A A N A"),
    ("PUT /api/v1/conversations/{id}/tags",                       "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/read",                      "U U U A A A N A"),
    ("POST /api/v1/conversations/{id}/typing",                    "U U U A A A N A"),
    ("GET /api/v1/conversations/{id}/suggestions",                "U U U A A A N A"),
    ("GET /api/v1/conversations/{id}/summary",                    "U U U A A A N A"),
    // The body is the file's bytes; `{}` is refused as a type the site does not accept.
    ("POST /api/v1/conversations/{id}/attachments",               "U U U A A A N A"),
];

/// Query strings routes need to reach their authorisation check (a missing required
/// parameter is refused before the handler runs).
fn query_for(route: &str) -> &'static str {
    match route {
        "GET /api/v1/sites/{id}/kb/search" => "?q=refund",
        "GET /api/v1/kb/entries/{id}/diff" => "?from=1",
        "GET /api/v1/sites/{id}/visitors" => "?email=someone@example.com",
        "GET /demo" => "?site=0190aaaa-0000-7000-8000-000000000000",
        "POST /api/v1/visitor/conversations/{id}/attachments"
        | "POST /api/v1/conversations/{id}/attachments" => "?name=matrix.png",
        _ => "",
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique() -> usize {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

fn faq_content() -> Value {
    json!({
        "category": "faq", "title": "Refunds", "language": "en",
        "visibility": "public", "status": "published",
        "faq": { "question": "How do refunds work?", "alternatives": [], "answer": "Within 30 days." }
    })
}

/// A valid body for the writes that need one; others get `{}`.
fn body_for(route: &str, fx: &Fixtures) -> Value {
    let n = unique();
    match route {
        "POST /api/v1/visitor/consent" => json!({ "version": "1" }),
        "POST /api/v1/visitor/conversations/{id}/messages"
        | "POST /api/v1/conversations/{id}/messages" => {
            json!({ "client_id": format!("matrix-{n}"), "text": "hello" })
        }
        "POST /api/v1/visitor/conversations/{id}/read" | "POST /api/v1/conversations/{id}/read" => {
            json!({ "seq": 1 })
        }
        "POST /api/v1/visitor/conversations/{id}/typing"
        | "POST /api/v1/conversations/{id}/typing" => json!({ "typing": true }),
        "POST /api/v1/visitor/conversations/{id}/contact" => json!({ "email": "v@example.com" }),
        "POST /api/v1/visitor/conversations/{id}/csat" => json!({ "rating": 5 }),
        "POST /api/v1/visitor/conversations/{id}/messages/{message_id}/feedback" => {
            json!({ "rating": "up" })
        }
        "POST /api/v1/visitor/sessions" => json!({ "site_id": fx.site }),
        "POST /api/v1/auth/login" => {
            json!({ "email": "admin2@matrix.example", "password": PASSWORD })
        }
        "POST /api/v1/auth/login/totp" => {
            json!({ "challenge": "no-such-challenge", "code": "000000" })
        }
        "DELETE /api/v1/auth/totp" => json!({ "password": PASSWORD, "code": "000000" }),
        "POST /api/v1/auth/totp/confirm" => json!({ "code": "000000" }),
        // Checks the current password, then refuses the new one as too short: nothing changes.
        "PUT /api/v1/auth/password" => json!({ "current_password": PASSWORD, "new_password": "x" }),
        "POST /api/v1/api-tokens" => json!({ "name": format!("matrix {n}") }),
        "PUT /api/v1/agents/me/presence" => json!({ "presence": "away" }),
        "POST /api/v1/sites" => json!({ "name": format!("Matrix site {n}") }),
        "POST /api/v1/agents" => json!({
            "email": format!("new{n}@matrix.example"), "name": "New", "password": PASSWORD,
            "role": "agent", "site_ids": [fx.site],
        }),
        "PATCH /api/v1/agents/{id}" => json!({ "name": format!("Renamed {n}") }),
        "POST /api/v1/sites/{id}/members" => json!({ "agent_id": fx.target_agent }),
        "POST /api/v1/sites/{id}/canned-replies" | "PATCH /api/v1/canned-replies/{id}" => {
            json!({ "shortcut": format!("m{n}"), "text": "Hello there" })
        }
        "PUT /api/v1/sites/{id}/ai/providers" => json!({ "providers": [] }),
        "POST /api/v1/sites/{id}/kb/entries" | "PUT /api/v1/kb/entries/{id}" => faq_content(),
        // Reaches the editor check, then fails validation (no files): nothing is imported.
        "POST /api/v1/sites/{id}/kb/imports" => json!({ "files": [] }),
        "POST /api/v1/kb/entries/{id}/rollback" => json!({ "revision": 1 }),
        "POST /api/v1/conversations/{id}/assign" => json!({ "agent_id": null }),
        "PUT /api/v1/conversations/{id}/tags" => json!({ "tags": ["matrix"] }),
        "PUT /api/v1/sites/{id}/kb/lexicon" => {
            json!({ "words": ["matrixword"], "synonyms": [["refund", "money back"]] })
        }
        "POST /api/v1/sites/{id}/eval/runs" => {
            json!({ "name": format!("matrix {n}"), "format": "jsonl",
                    "suite": "{\"question\":\"How do refunds work?\"}" })
        }
        _ => json!({}),
    }
}

// ---------------------------------------------------------------------------------------
// The route table, parsed from the router's source.

/// Every `METHOD /path` the router serves, with `.nest` prefixes applied.
fn routes_in_source(src: &str) -> BTreeSet<String> {
    for unsupported in [".merge(", ".route_service(", ".nest_service("] {
        assert!(
            !src.contains(unsupported),
            "routes/mod.rs uses `{unsupported}`: teach the matrix's parser about it"
        );
    }
    // Split the source into router blocks: `let NAME = Router::new()` … and the final,
    // unnamed `Router::new()` (the application).
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut at = 0;
    while let Some(i) = src[at..].find("Router::new()") {
        let pos = at + i;
        let before = src[..pos].trim_end();
        let name = before
            .strip_suffix('=')
            .map(|b| {
                b.trim_end()
                    .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        starts.push((pos, name));
        at = pos + 1;
    }
    assert!(!starts.is_empty(), "no Router::new() in routes/mod.rs");
    let blocks: Vec<(String, &str)> = starts
        .iter()
        .enumerate()
        .map(|(i, (pos, name))| {
            let end = starts.get(i + 1).map_or(src.len(), |(p, _)| *p);
            (name.clone(), &src[*pos..end])
        })
        .collect();
    // Prefixes: a block nested into another with `.nest("/p", NAME)` lives under it.
    let mut parent: Vec<(String, String, String)> = Vec::new(); // (child, parent, prefix)
    for (name, text) in &blocks {
        for call in calls(text, ".nest(") {
            let prefix = first_string(call).expect("a .nest( with a literal prefix");
            let child = call
                .rsplit(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            parent.push((child, name.clone(), prefix));
        }
    }
    let prefix_of = |name: &str| -> String {
        let mut prefix = String::new();
        let mut current = name.to_owned();
        for _ in 0..10 {
            match parent.iter().find(|(child, _, _)| *child == current) {
                Some((_, up, p)) => {
                    prefix = format!("{p}{prefix}");
                    current = up.clone();
                }
                None => break,
            }
        }
        prefix
    };
    let mut routes = BTreeSet::new();
    for (name, text) in &blocks {
        let prefix = prefix_of(name);
        for call in calls(text, ".route(") {
            let path = first_string(call).expect("a .route( with a literal path");
            let full = match (prefix.as_str(), path.as_str()) {
                ("", p) => p.to_owned(),
                (pre, "/") => pre.to_owned(),
                (pre, p) => format!("{pre}{p}"),
            };
            let methods = methods_in(call);
            assert!(
                !methods.is_empty(),
                "no method found in .route(\"{path}\", …)"
            );
            for method in methods {
                routes.insert(format!("{method} {full}"));
            }
        }
    }
    routes
}

/// The argument text of each `name(` call in `text` (balanced parentheses, strings skipped).
fn calls<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find(name) {
        let open = at + i + name.len();
        let mut depth = 1;
        let mut in_string = false;
        let mut end = open;
        for (j, c) in text[open..].char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(&text[open..end]);
        at = end.max(open);
    }
    out
}

fn first_string(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let len = text[start..].find('"')?;
    Some(text[start..start + len].to_owned())
}

/// HTTP methods named in a route's method router (`get(h).post(h)`, `axum::routing::patch(h)`).
fn methods_in(call: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let bytes = call.as_bytes();
    for (word, method) in [
        ("get(", "GET"),
        ("post(", "POST"),
        ("put(", "PUT"),
        ("patch(", "PATCH"),
        ("delete(", "DELETE"),
    ] {
        let mut at = 0;
        while let Some(i) = call[at..].find(word) {
            let pos = at + i;
            let boundary =
                pos == 0 || !(bytes[pos - 1].is_ascii_alphanumeric() || bytes[pos - 1] == b'_');
            if boundary && !found.contains(&method) {
                found.push(method);
            }
            at = pos + word.len();
        }
    }
    found
}

#[test]
fn every_route_has_a_row() {
    let routes = routes_in_source(ROUTES_SOURCE);
    let rows: BTreeSet<String> = MATRIX.iter().map(|(k, _)| (*k).to_owned()).collect();
    assert_eq!(rows.len(), MATRIX.len(), "a route has two rows");
    let missing: Vec<_> = routes.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row in authz_matrix.rs (add one): {missing:#?}\n\
         rows for routes that no longer exist (remove them): {stale:#?}"
    );
    for (key, expect) in MATRIX {
        let letters: Vec<&str> = expect.split_whitespace().collect();
        assert!(
            letters == ["P"]
                || (letters.len() == COLUMNS.len()
                    && letters.iter().all(|l| ["A", "U", "F", "N"].contains(l))),
            "{key}: `{expect}` is neither P nor {} letters of A U F N",
            COLUMNS.len()
        );
    }
}

#[test]
fn the_parser_reads_nested_routers_and_chained_methods() {
    let src = r#"
        let inner = Router::new()
            .route("/", delete(x::erase))
            .route("/a/{id}", get(x::get_a).post(x::post_a));
        let api = Router::new()
            .nest("/inner", inner)
            .route("/b", axum::routing::patch(x::delete_b).layer(from_fn(f)));
        Router::new()
            .nest("/api", api)
            .route("/c", get(x::c))
    "#;
    let got: Vec<String> = routes_in_source(src).into_iter().collect();
    assert_eq!(
        got,
        vec![
            "DELETE /api/inner",
            "GET /api/inner/a/{id}",
            "GET /c",
            "PATCH /api/b",
            "POST /api/inner/a/{id}",
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Callers and fixtures.

const COLUMNS: [&str; 8] = [
    "anon", "visitor", "stranger", "agent", "editor", "admin", "other", "token",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Allowed,
    Unauthenticated,
    Forbidden,
    Hidden,
}

fn outcome_of(status: StatusCode) -> Option<Outcome> {
    match status.as_u16() {
        401 => Some(Outcome::Unauthenticated),
        403 => Some(Outcome::Forbidden),
        404 => Some(Outcome::Hidden),
        s if (200..300).contains(&s) || (400..500).contains(&s) => Some(Outcome::Allowed),
        _ => None,
    }
}

fn letter(l: &str) -> Outcome {
    match l {
        "A" => Outcome::Allowed,
        "U" => Outcome::Unauthenticated,
        "F" => Outcome::Forbidden,
        "N" => Outcome::Hidden,
        other => panic!("unknown outcome letter {other}"),
    }
}

/// Who is calling.
enum Caller<'a> {
    Anonymous,
    Visitor(&'a str),
    Session(&'a AgentClient),
    Token(&'a str),
}

struct Callers {
    admin: AgentClient,
    editor: AgentClient,
    agent: AgentClient,
    other: AgentClient,
    visitor: VisitorClient,
    stranger: VisitorClient,
    token: String,
}

impl Callers {
    /// Signs the agents in again (after a row that ends sessions).
    async fn sign_in_again(&mut self, app: &TestApp) {
        for client in [
            &mut self.admin,
            &mut self.editor,
            &mut self.agent,
            &mut self.other,
        ] {
            let email = client.agent.email.clone();
            *client = AgentClient::login(app, &email, PASSWORD).await;
        }
    }
}

/// Ids the routes' `{params}` are filled with.
struct Fixtures {
    site: String,
    conversation: String,
    message: String,
    entry: String,
    canned_reply: String,
    import_job: String,
    retention_job: String,
    eval_run: String,
    /// A file the visitor uploaded to the conversation.
    attachment: String,
    /// An agent on the site, not one of the callers: PATCH and membership targets.
    target_agent: String,
}

impl Fixtures {
    /// The concrete path for `template`, as `column` would call it. Params a DELETE destroys
    /// are made fresh for each call, so every caller meets a live target.
    async fn fill(
        &self,
        app: &TestApp,
        callers: &Callers,
        template: &str,
        method: &Method,
        column: &str,
    ) -> String {
        let destroys = *method == Method::DELETE;
        let segments: Vec<&str> = template.split('/').collect();
        let mut out = Vec::new();
        for (i, seg) in segments.iter().enumerate() {
            let Some(param) = seg
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .map(|s| s.trim_start_matches('*'))
            else {
                out.push((*seg).to_owned());
                continue;
            };
            let prev = if i > 0 { segments[i - 1] } else { "" };
            let value = match (prev, param) {
                ("sites", "id") => self.site.clone(),
                ("conversations", "id") => self.conversation.clone(),
                ("messages", "message_id") => self.message.clone(),
                ("entries", "id") => self.entry.clone(),
                ("revisions", "revision") => "1".to_owned(),
                ("imports", "id") => self.import_job.clone(),
                ("runs", "job_id") => self.retention_job.clone(),
                ("runs", "run_id") => self.eval_run.clone(),
                ("attachments", "id") => self.attachment.clone(),
                ("agents", "id") => self.target_agent.clone(),
                ("canned-replies", "id") if destroys => {
                    fresh_canned_reply(callers, &self.site).await
                }
                ("canned-replies", "id") => self.canned_reply.clone(),
                ("members", "agent_id") => fresh_member(app, &self.site).await,
                ("tags", "tag_id") => fresh_tag(callers, &self.site, &self.conversation).await,
                ("visitors", "visitor_id") if destroys => {
                    VisitorClient::start(app, &self.site).await.visitor_id
                }
                ("visitors", "visitor_id") => callers.visitor.visitor_id.clone(),
                ("unanswered", "question_id") => fresh_question(app, &self.site).await,
                // Revoking needs a token of the caller's own (another agent's is a 404).
                ("api-tokens", "id") => {
                    let owner = match column {
                        "agent" => &callers.agent,
                        "editor" => &callers.editor,
                        "other" => &callers.other,
                        _ => &callers.admin,
                    };
                    fresh_token(owner).await
                }
                ("widget", "path") | ("console", "path") => "app.js".to_owned(),
                _ => panic!(
                    "the matrix cannot fill `{seg}` after `{prev}` in {template}: teach Fixtures::fill"
                ),
            };
            out.push(value);
        }
        out.join("/")
    }
}

async fn created_id(client: &AgentClient, path: &str, body: Value) -> String {
    let (status, created) = client.post(path, body).await;
    assert!(status.is_success(), "{path}: {status} {created}");
    created["id"]
        .as_str()
        .or_else(|| created["job"]["id"].as_str())
        .unwrap_or_else(|| panic!("{path}: no id in {created}"))
        .to_owned()
}

async fn fresh_canned_reply(callers: &Callers, site: &str) -> String {
    created_id(
        &callers.admin,
        &format!("/api/v1/sites/{site}/canned-replies"),
        json!({ "shortcut": format!("fresh{}", unique()), "text": "Hi" }),
    )
    .await
}

/// A member of the site made in the store directly (no password hashing: it never signs in).
async fn fresh_member(app: &TestApp, site: &str) -> String {
    let store = &app._db.store;
    let agent = store
        .create_agent(kefu_store::NewAgent {
            email: format!("member{}@matrix.example", unique()),
            name: "Member".to_owned(),
            password_hash: "not a hash: never signs in".to_owned(),
            role: Role::Agent,
        })
        .await
        .unwrap();
    store
        .add_site_member(site.parse().unwrap(), agent.id)
        .await
        .unwrap();
    agent.id.to_string()
}

async fn fresh_tag(callers: &Callers, site: &str, conversation: &str) -> String {
    let name = format!("fresh{}", unique());
    let (status, body) = callers
        .admin
        .send(
            Method::PUT,
            &format!("/api/v1/conversations/{conversation}/tags"),
            Some(json!({ "tags": [name] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, tags) = callers
        .admin
        .get(&format!("/api/v1/sites/{site}/tags"))
        .await;
    tags.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name.as_str())
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("tag {name} not in {tags}"))
        .to_owned()
}

async fn fresh_question(app: &TestApp, site: &str) -> String {
    let question = format!("unanswered {}", unique());
    let site_id = site.parse().unwrap();
    let store = &app._db.store;
    store
        .record_unanswered(site_id, None, &question, "no_match", 0.1)
        .await
        .unwrap();
    store
        .list_unanswered(site_id, 500)
        .await
        .unwrap()
        .into_iter()
        .find(|q| q.question == question)
        .map(|q| q.id)
        .expect("the recorded question")
}

async fn fresh_token(owner: &AgentClient) -> String {
    created_id(
        owner,
        "/api/v1/api-tokens",
        json!({ "name": format!("fresh {}", unique()) }),
    )
    .await
}

async fn make_agent(boot: &AgentClient, email: &str, role: Role, sites: Vec<String>) -> String {
    let (status, body) = boot
        .post(
            "/api/v1/agents",
            json!({ "email": email, "name": email.split('@').next().unwrap(),
                    "password": PASSWORD, "role": role.as_str(), "site_ids": sites }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn setup() -> (TestApp, Callers, Fixtures) {
    // Generous sign-in throttling: the matrix signs in and fails TOTP challenges on purpose.
    let config = Config {
        login_account_max_failures: 1000,
        login_ip_max_failures: 1000,
        ..Config::default()
    };
    let app = TestApp::with_config(config).await;
    let boot = app.admin().await;
    let site = app.site_id.clone();
    make_agent(
        &boot,
        "admin2@matrix.example",
        Role::Admin,
        vec![site.clone()],
    )
    .await;
    make_agent(
        &boot,
        "editor@matrix.example",
        Role::Editor,
        vec![site.clone()],
    )
    .await;
    make_agent(
        &boot,
        "agent@matrix.example",
        Role::Agent,
        vec![site.clone()],
    )
    .await;
    make_agent(&boot, "other@matrix.example", Role::Admin, vec![]).await;
    let target_agent = make_agent(
        &boot,
        "target@matrix.example",
        Role::Agent,
        vec![site.clone()],
    )
    .await;
    let admin = AgentClient::login(&app, "admin2@matrix.example", PASSWORD).await;
    let other = AgentClient::login(&app, "other@matrix.example", PASSWORD).await;
    // The other admin's own site, so "other" is a working admin, just not of this site.
    created_id(&other, "/api/v1/sites", json!({ "name": "Elsewhere" })).await;

    let visitor = app.visitor().await;
    let stranger = app.visitor().await;
    let conversation = visitor.open_conversation("where is my parcel?").await;
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    let message = log["items"][0]["id"].as_str().unwrap().to_owned();
    let mut entry_body = faq_content();
    entry_body["note"] = json!("first");
    let entry = created_id(
        &admin,
        &format!("/api/v1/sites/{site}/kb/entries"),
        entry_body,
    )
    .await;
    let canned_reply = created_id(
        &admin,
        &format!("/api/v1/sites/{site}/canned-replies"),
        json!({ "shortcut": "thanks", "text": "Thank you!" }),
    )
    .await;
    use base64::Engine;
    let import_job = created_id(
        &admin,
        &format!("/api/v1/sites/{site}/kb/imports"),
        json!({ "files": [{ "name": "a.md",
            "content_base64": base64::engine::general_purpose::STANDARD.encode("# Shipping\n\nTwo days.") }] }),
    )
    .await;
    let retention_job = created_id(
        &admin,
        &format!("/api/v1/sites/{site}/retention/runs"),
        json!({}),
    )
    .await;
    let eval_run = created_id(
        &admin,
        &format!("/api/v1/sites/{site}/eval/runs"),
        json!({ "name": "matrix", "format": "jsonl", "suite": "{\"question\":\"refunds?\"}" }),
    )
    .await;
    let res = visitor
        .http
        .post(format!(
            "{}/api/v1/visitor/conversations/{conversation}/attachments?name=a.png",
            visitor.base
        ))
        .bearer_auth(&visitor.token)
        .body(crate::attachments::PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let attachment = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, token) = admin
        .post("/api/v1/api-tokens", json!({ "name": "matrix" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = token["secret"].as_str().unwrap().to_owned();
    let callers = Callers {
        editor: AgentClient::login(&app, "editor@matrix.example", PASSWORD).await,
        agent: AgentClient::login(&app, "agent@matrix.example", PASSWORD).await,
        admin,
        other,
        visitor,
        stranger,
        token,
    };
    let fixtures = Fixtures {
        site,
        conversation,
        message,
        entry,
        canned_reply,
        import_job,
        retention_job,
        eval_run,
        attachment,
        target_agent,
    };
    (app, callers, fixtures)
}

/// One call; returns the status and the body text.
async fn call(
    app: &TestApp,
    caller: Caller<'_>,
    method: Method,
    path: &str,
    body: Option<&Value>,
    csrf: bool,
) -> (StatusCode, String) {
    let http = reqwest::Client::new();
    let mut req = http.request(method, app.url(path));
    match caller {
        Caller::Anonymous => {}
        Caller::Visitor(token) | Caller::Token(token) => req = req.bearer_auth(token),
        Caller::Session(client) => {
            req = req.header("cookie", &client.cookie);
            if csrf {
                req = req.header("x-csrf-token", &client.csrf);
            }
        }
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_matrix_says() {
    let (app, mut callers, fx) = setup().await;
    let mut failures = Vec::new();
    let mut calls_made = 0;
    for (key, expect) in MATRIX {
        let (method_text, template) = key.split_once(' ').unwrap();
        let method: Method = method_text.parse().unwrap();
        let writes = method != Method::GET;
        let public = *expect == "P";
        let letters: Vec<&str> = expect.split_whitespace().collect();
        let mut public_status = None;
        for (col, column) in COLUMNS.iter().enumerate() {
            // A visitor erasing itself must not erase the visitor the other rows use.
            let erased;
            let visitor_token = match (*column, *key) {
                ("visitor" | "stranger", "DELETE /api/v1/visitor") => {
                    erased = VisitorClient::start(&app, &fx.site).await;
                    erased.token.as_str()
                }
                ("visitor", _) => callers.visitor.token.as_str(),
                _ => callers.stranger.token.as_str(),
            };
            let caller = match *column {
                "anon" => Caller::Anonymous,
                "visitor" | "stranger" => Caller::Visitor(visitor_token),
                "agent" => Caller::Session(&callers.agent),
                "editor" => Caller::Session(&callers.editor),
                "admin" => Caller::Session(&callers.admin),
                "other" => Caller::Session(&callers.other),
                "token" => Caller::Token(&callers.token),
                _ => unreachable!(),
            };
            let path = format!(
                "{}{}",
                fx.fill(&app, &callers, template, &method, column).await,
                query_for(key)
            );
            let body = writes.then(|| body_for(key, &fx));
            let (status, text) =
                call(&app, caller, method.clone(), &path, body.as_ref(), true).await;
            calls_made += 1;
            if status.is_server_error() {
                failures.push(format!("{key} as {column}: {status} {text}"));
                continue;
            }
            if public {
                match public_status {
                    None => public_status = Some(status),
                    Some(s) if s != status => failures.push(format!(
                        "{key} is public but answered {column} {status} and others {s}"
                    )),
                    Some(_) => {}
                }
                continue;
            }
            let want = letter(letters[col]);
            let got = outcome_of(status);
            if got != Some(want) {
                failures.push(format!(
                    "{key} as {column}: expected {want:?}, got {status} {}",
                    text.chars().take(160).collect::<String>()
                ));
            }
        }
        if template.starts_with("/api/v1/auth/logout") {
            callers.sign_in_again(&app).await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls_made} calls disagree with the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_cookie_write_needs_the_csrf_token_and_bearer_writes_do_not() {
    let (app, callers, fx) = setup().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (key, expect) in MATRIX {
        let (method_text, template) = key.split_once(' ').unwrap();
        let method: Method = method_text.parse().unwrap();
        // Agent writes: not public, not the widget's bearer-only API.
        if method == Method::GET || *expect == "P" || template.starts_with("/api/v1/visitor") {
            continue;
        }
        let path = format!(
            "{}{}",
            fx.fill(&app, &callers, template, &method, "admin").await,
            query_for(key)
        );
        let body = body_for(key, &fx);
        let (status, text) = call(
            &app,
            Caller::Session(&callers.admin),
            method.clone(),
            &path,
            Some(&body),
            false,
        )
        .await;
        checked += 1;
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
        if status != StatusCode::FORBIDDEN || code.as_deref() != Some("csrf_failed") {
            failures.push(format!("{key}: {status} {text}"));
        }
    }
    assert!(checked >= 30, "only {checked} writes found");
    assert!(
        failures.is_empty(),
        "cookie writes without X-CSRF-Token that were not refused:\n{}",
        failures.join("\n")
    );
    // The same session with the header, and the API token without one, get through
    // (one representative write; the matrix's `token` column covers every route).
    let path = format!("/api/v1/sites/{}/canned-replies", fx.site);
    let body = json!({ "shortcut": "csrf-ok", "text": "fine" });
    let (status, _) = call(
        &app,
        Caller::Session(&callers.admin),
        Method::POST,
        &path,
        Some(&body),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let body = json!({ "shortcut": "bearer-ok", "text": "fine" });
    let (status, _) = call(
        &app,
        Caller::Token(&callers.token),
        Method::POST,
        &path,
        Some(&body),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}
